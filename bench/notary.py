"""Documents notarised per second on a local 4-validator network, two ways, in the same run.

1. **Through node 0's stamping service** (``POST /v1/notary/stamp``): ``--clients`` concurrent
   clients each post requests of ``--per-request`` document hashes (raw 32-byte hashes) for
   ``--seconds``; a document counts once its client has the answer that makes its receipt (its
   request's level and the anchoring's receipt proof). Then the clients build every document's
   receipt from those answers (client side, timed apart) and a sample is verified offline
   against the genesis.
2. **Plain per-document transactions**: one ``notary.anchor`` transaction per document, signed by
   ``--senders`` enrolled members, sent through every node's batch API as fast as they take
   them; a document counts when its transaction's block commits (seen on node 0's event stream).

    python bench/notary.py [--clients 16] [--per-request 5000] [--seconds 10] [--documents 10000]

Prints one JSON line per phase and a summary; goal of issue 12: >= 50,000 documents/s through
the service.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import msgspec

sys.path.insert(0, str(Path(__file__).parent))
from consortia.apps.notary.receipts import document_hash, verify_receipt
from consortia.apps.notary.sdk import anchor_call
from consortia.client.notary import stamped_from_answer
from consortia.client.tx_builder import sign_tx
from consortia.codec import encode
from consortia.contracts.permissioned.identity import pii_commitment
from consortia.crypto.hashing import sha256
from consortia.crypto.keyfile import save_key_file
from consortia.crypto.keys import KeyPair
from consortia.node.config import NotaryServiceConfig, load_config, write_config
from consortia.node.genesis import load_genesis
from consortia.node.network_setup import NETWORK_CHAIN_ID, init_network
from consortia.types.genesis import ChainParams
from consortia.types.org_specs import IdentitySpec
from network import follow_commits, free_base_port, start_nodes, stop_nodes
from transfers import percentile

ORGS = "cb:central-bank,bank-a:bank,bank-b:bank,reg:regulator"
EXPIRY = 500_000


def member(key: KeyPair, i: int) -> IdentitySpec:
    return IdentitySpec(key.address, "bank-a", "member", 1, pii_commitment(b"bench-salt-%08d" % i, b"member"))


async def service_phase(url: str, clients: int, per_request: int, seconds: float) -> dict:
    """Closed loop: every client posts its next request as soon as the last is answered."""
    answers: list[tuple[list[bytes], dict]] = []
    latencies: list[float] = []
    refused: dict[str, int] = {}
    stop_at = time.perf_counter() + seconds
    counter = 0

    async def client(c: int) -> None:
        nonlocal counter
        async with httpx.AsyncClient(base_url=url, timeout=90) as http:
            while time.perf_counter() < stop_at:
                counter += 1
                seed = counter.to_bytes(8, "big")
                leaves = [hashlib.sha256(seed + i.to_bytes(4, "big")).digest() for i in range(per_request)]
                sent = time.perf_counter()
                r = await http.post("/v1/notary/stamp", content=b"".join(leaves), params={"wait": "60"},
                                    headers={"content-type": "application/octet-stream"})
                if r.status_code != 200:
                    code = r.json().get("code", str(r.status_code))
                    refused[code] = refused.get(code, 0) + 1
                    await asyncio.sleep(0.05)
                    continue
                latencies.append(time.perf_counter() - sent)
                answers.append((leaves, msgspec.json.decode(r.content)))

    t0 = time.perf_counter()
    await asyncio.gather(*(client(c) for c in range(clients)))
    elapsed = time.perf_counter() - t0
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:  # until the index caught up
        while (await http.get("/v1/notary/service")).json()["pending_documents"] > 0:
            await asyncio.sleep(0.1)
        status = (await http.get("/v1/notary/service")).json()
    indexed_s = time.perf_counter() - t0
    documents = sum(len(leaves) for leaves, _ in answers)
    anchorings = len({a["tx_hash"] for _, a in answers})
    return {"phase": "stamping service", "clients": clients, "per_request": per_request,
            "requests": len(answers), "documents": documents, "seconds": round(elapsed, 2),
            "documents_per_s": round(documents / elapsed),
            "indexed_per_s": round(documents / indexed_s), "anchor_transactions": anchorings,
            "documents_per_anchoring": round(documents / max(anchorings, 1)),
            "answer_p50_ms": round(percentile(latencies, 0.5) * 1000) if latencies else None,
            "answer_p99_ms": round(percentile(latencies, 0.99) * 1000) if latencies else None,
            "refused": refused,
            "node": {k: status[k] for k in ("anchors", "mean_anchor_final_ms", "mean_index_ms")},
            "_answers": answers}


def receipts_phase(answers: list[tuple[list[bytes], dict]], genesis_path: Path, sample: int) -> dict:
    genesis = load_genesis(genesis_path)
    t0 = time.perf_counter()
    built = [stamped_from_answer(leaves, answer) for leaves, answer in answers]
    build_s = time.perf_counter() - t0
    receipts = [r for s in built for r in s.receipts]
    step = max(1, len(receipts) // sample)
    t1 = time.perf_counter()
    checked = [verify_receipt(r, genesis) for r in receipts[::step]]
    verify_s = time.perf_counter() - t1
    return {"phase": "receipts (client side)", "receipts": len(receipts),
            "built_per_s": round(len(receipts) / build_s) if build_s else None,
            "verified_offline": len(checked),
            "verified_per_s": round(len(checked) / verify_s) if verify_s else None}


def per_document_phase(urls: list[str], keys: list[KeyPair], documents: int) -> dict:
    per_sender = -(-documents // len(keys))
    txs = []
    for s, key in enumerate(keys):
        for n in range(per_sender):
            root = sha256(document_hash(b"plain %d %d" % (s, n)))
            txs.append(sign_tx(key, NETWORK_CHAIN_ID, n, EXPIRY, anchor_call(root, 1, 1)))
    txs = txs[:documents]
    hashes = {sha256(t) for t in txs}
    committed: dict[bytes, float] = {}
    stop = threading.Event()
    follower = threading.Thread(target=follow_commits, args=(urls[0], committed, stop), daemon=True)
    follower.start()
    time.sleep(0.5)
    # each sender's transactions go to one node, in nonce order (no future nonce on any node)
    per_node: list[list[bytes]] = [[] for _ in urls]
    for n in range(per_sender):
        for s in range(len(keys)):
            if s * per_sender + n < len(txs):
                per_node[s % len(urls)].append(txs[s * per_sender + n])
    t0 = time.perf_counter()
    rejected = 0
    reasons: dict[str, int] = {}

    def send(url: str, batch: list[bytes]) -> None:
        nonlocal rejected
        with httpx.Client(base_url=url, timeout=60) as http:
            for i in range(0, len(batch), 1000):
                r = http.post("/v1/txs", content=encode(batch[i:i + 1000]),
                              headers={"content-type": "application/msgpack"})
                for result in r.json().get("results", []):
                    if not result["accepted"]:
                        rejected += 1
                        code = result["error"]["code"]
                        reasons[code] = reasons.get(code, 0) + 1

    threads = [threading.Thread(target=send, args=(u, b)) for u, b in zip(urls, per_node, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    deadline = time.perf_counter() + 120
    while sum(1 for h in hashes if h in committed) < len(txs) - rejected and time.perf_counter() < deadline:
        time.sleep(0.2)
    stop.set()
    done = [committed[h] for h in hashes if h in committed]
    end = max(done) if done else time.perf_counter()
    return {"phase": "per-document transactions", "senders": len(keys), "documents": len(done),
            "rejected": rejected, "reasons": reasons, "seconds": round(end - t0, 2),
            "documents_per_s": round(len(done) / (end - t0)) if done else 0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--per-request", type=int, default=5000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--documents", type=int, default=10_000, help="per-document transactions")
    parser.add_argument("--senders", type=int, default=20)
    parser.add_argument("--sample", type=int, default=2000, help="receipts verified offline")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="consortia-notary-bench-"))
    stamper = KeyPair.generate("ed25519")
    senders = [KeyPair.generate("ed25519") for _ in range(args.senders)]
    params = ChainParams(max_block_txs=5000, mempool_max_txs=10**6, block_interval_ms=100,
                         mempool_max_per_sender=max(1000, args.documents // args.senders + 10))
    homes = init_network(tmp / "net", 4, base_port=free_base_port(), params=params, orgs=ORGS,
                         extra_identities=[member(k, i) for i, k in enumerate([stamper, *senders])])
    key_file = tmp / "notary.key"
    save_key_file(key_file, stamper, None)
    config = load_config(homes[0].home)
    service = NotaryServiceConfig(str(key_file), 10_000, 2_000_000, 10_000)
    write_config(homes[0].home, msgspec.structs.replace(config, notary=service))
    procs = start_nodes([h.home for h in homes])
    urls = [h.api_url for h in homes]
    rows = []
    try:
        time.sleep(2)
        svc = asyncio.run(service_phase(urls[0], args.clients, args.per_request, args.seconds))
        answers = svc.pop("_answers")
        print(json.dumps(svc), flush=True)
        rows.append(svc)
        plain = per_document_phase(urls, senders, args.documents)
        print(json.dumps(plain), flush=True)
        rows.append(plain)
    finally:
        stop_nodes(procs)
    built = receipts_phase(answers, tmp / "net" / "genesis.json", args.sample)
    print(json.dumps(built), flush=True)
    shutil.rmtree(tmp, ignore_errors=True)
    ratio = svc["documents_per_s"] / plain["documents_per_s"] if plain["documents_per_s"] else None
    print(json.dumps({"summary": {"service_documents_per_s": svc["documents_per_s"],
                                  "per_document_tx_per_s": plain["documents_per_s"],
                                  "service_over_plain": round(ratio, 1) if ratio else None,
                                  "goal_50k_reached": svc["documents_per_s"] >= 50_000}}), flush=True)


if __name__ == "__main__":
    main()

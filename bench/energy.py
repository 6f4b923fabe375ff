"""Meter readings per second on a local 4-validator network (apps/energy, issue 12).

``--gateways`` identities of a ``grid`` organisation (enrolled at genesis) each enrol
``--meters`` meters (one transaction each), then submit ``--readings`` signed interval readings
per meter (one transaction each: the meter's signature checked by the contract, periods
increasing, 1.2 MWh each so every reading issues a green certificate and carries the rest).
Transactions are signed beforehand and sent through every node's batch API in nonce order; one
counts when its block commits (seen on node 0's event stream).

    python bench/energy.py [--gateways 8] [--meters 25] [--readings 10]

Prints one JSON line per phase.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from consortia.apps.energy import sdk as apps
from consortia.client.tx_builder import sign_tx
from consortia.codec import encode
from consortia.contracts.permissioned.identity import pii_commitment
from consortia.crypto.hashing import sha256
from consortia.crypto.keys import KeyPair
from consortia.node.network_setup import NETWORK_CHAIN_ID, init_network
from consortia.types.genesis import ChainParams
from consortia.types.org_specs import IdentitySpec
from consortia.types.transaction import Call
from network import follow_commits, free_base_port, start_nodes, stop_nodes

ORGS = "cb:central-bank,bank-a:bank,reg:regulator,grid-co:grid"
EXPIRY = 500_000
HOUR = 3_600_000
READING_WH = 1_200_000


def call(app_call: apps.AppCall) -> Call:
    return Call(app_call.contract, app_call.method, apps.encode_args(app_call), app_call.value)


def run_phase(name: str, urls: list[str], per_sender: list[list[bytes]], follow_url: str) -> dict:
    """Send each sender's transactions to one node (in nonce order); wait for their commits."""
    hashes = {sha256(tx) for txs in per_sender for tx in txs}
    committed: dict[bytes, float] = {}
    stop = threading.Event()
    follower = threading.Thread(target=follow_commits, args=(follow_url, committed, stop), daemon=True)
    follower.start()
    time.sleep(0.5)
    per_node: list[list[bytes]] = [[] for _ in urls]
    for s, txs in enumerate(per_sender):
        per_node[s % len(urls)].extend(txs)
    rejected: dict[str, int] = {}

    def send(url: str, batch: list[bytes]) -> None:
        with httpx.Client(base_url=url, timeout=60) as http:
            for i in range(0, len(batch), 1000):
                r = http.post("/v1/txs", content=encode(batch[i:i + 1000]),
                              headers={"content-type": "application/msgpack"})
                for result in r.json().get("results", []):
                    if not result["accepted"]:
                        code = result["error"]["code"]
                        rejected[code] = rejected.get(code, 0) + 1

    t0 = time.perf_counter()
    threads = [threading.Thread(target=send, args=(u, b)) for u, b in zip(urls, per_node, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    expected = len(hashes) - sum(rejected.values())
    deadline = time.perf_counter() + 180
    while sum(1 for h in hashes if h in committed) < expected and time.perf_counter() < deadline:
        time.sleep(0.2)
    stop.set()
    done = [committed[h] for h in hashes if h in committed]
    seconds = (max(done) if done else time.perf_counter()) - t0
    return {"phase": name, "transactions": len(hashes), "committed_with_events": len(done),
            "rejected": rejected, "seconds": round(seconds, 2),
            "per_s": round(len(done) / seconds) if done and seconds > 0 else 0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gateways", type=int, default=8)
    parser.add_argument("--meters", type=int, default=25, help="per gateway")
    parser.add_argument("--readings", type=int, default=10, help="per meter")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="consortia-energy-bench-"))
    gateways = [KeyPair.generate("ed25519") for _ in range(args.gateways)]
    meters = [[KeyPair.generate("ed25519") for _ in range(args.meters)] for _ in gateways]
    per_sender = args.meters * (args.readings + 1)
    params = ChainParams(max_block_txs=5000, mempool_max_txs=10**6, block_interval_ms=100,
                         mempool_max_per_sender=max(1000, per_sender + 10))
    identities = [IdentitySpec(g.address, "grid-co", "member", 1,
                               pii_commitment(b"energy-bench-%08d" % i, b"gateway"))
                  for i, g in enumerate(gateways)]
    homes = init_network(tmp / "net", 4, base_port=free_base_port(), params=params, orgs=ORGS,
                         extra_identities=identities)
    procs = start_nodes([h.home for h in homes])
    urls = [h.api_url for h in homes]
    try:
        now = int(httpx.get(f"{urls[0]}/v1/status", timeout=10).json()["timestamp_ms"])
        first = now // HOUR - args.readings - 1
        enrol_txs, read_txs = [], []
        for gateway, own in zip(gateways, meters, strict=True):
            enrol_txs.append([sign_tx(gateway, NETWORK_CHAIN_ID, n, EXPIRY, call(apps.enrol(
                meter.public_key, gateway.address, interval_ms=HOUR, max_w=5_000_000, first_period=first)))
                for n, meter in enumerate(own)])
            txs, nonce = [], len(own)
            for r in range(args.readings):
                for meter in own:
                    period = first + r
                    signature = meter.sign(apps.reading_message(NETWORK_CHAIN_ID, meter.address, period,
                                                                READING_WH, 0))
                    txs.append(sign_tx(gateway, NETWORK_CHAIN_ID, nonce, EXPIRY,
                                       call(apps.read(meter.address, period, READING_WH, 0, signature))))
                    nonce += 1
            read_txs.append(txs)
        print(json.dumps(run_phase("meter enrolments", urls, enrol_txs, urls[0])), flush=True)
        print(json.dumps(run_phase("signed readings", urls, read_txs, urls[0])), flush=True)
        totals = httpx.get(f"{urls[0]}/v1/energy", timeout=10).json()["totals"]
        expected = args.gateways * args.meters * (args.readings * READING_WH // apps.WH_PER_CERTIFICATE)
        print(json.dumps({"phase": "check", "totals": totals, "certificates_expected": expected,
                          "ok": totals["certificates"] == expected}), flush=True)
    finally:
        stop_nodes(procs)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()

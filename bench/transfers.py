"""Signed transfers end to end: committed TPS, latency p50/p99, peak memory, and the raw
Ed25519 verification rate of this machine measured in the same run.

Paths:
  inprocess-1core   decode + verify (one thread) + execute + durable LMDB commit, serially
  inprocess-2cores  the same, with signature checks in worker processes on every core,
                    overlapped with execution of the previous block
  http              a real `consortia` node process, transactions through POST /v1/txs,
                    commit times taken from the node's live event stream

    python bench/transfers.py [--txs 60000] [--block 2000] [--skip-http]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from consortia.client.tx_builder import sign_transfer
from consortia.codec import encode
from consortia.crypto import verify_processes
from consortia.crypto.keys import KeyPair
from consortia.crypto.ratebench import raw_ed25519_verify_rate, raw_ed25519_verify_rate_parallel
from consortia.ledger.chain_store import ChainStore
from consortia.node.chain import Chain
from consortia.node.home_setup import make_genesis
from consortia.node.solo import produce_block
from consortia.types.genesis import ChainParams

CHAIN_ID = "bench-chain"


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def make_keys(accounts: int) -> list[KeyPair]:
    return [KeyPair.from_private_key("ed25519", (i + 1).to_bytes(32, "big")) for i in range(accounts)]


BENCH_EXPIRY = 500_000
"""Far enough ahead for any run, within the default expiry window (1,000,000 blocks)."""


def sign_all(keys: list[KeyPair], count: int, chain_id: str = CHAIN_ID) -> list[bytes]:
    """Round-robin senders with consecutive nonces; each pays the next account 1 unit."""
    out = []
    nonces = [0] * len(keys)
    for i in range(count):
        s = i % len(keys)
        to = keys[(s + 1) % len(keys)].address
        out.append(sign_transfer(keys[s], chain_id, nonces[s], BENCH_EXPIRY, to, 1))
        nonces[s] += 1
    return out


def inprocess(txs: list[bytes], keys: list[KeyPair], block: int, parallel: bool) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="consortia-bench-"))
    validator = KeyPair.generate()
    params = ChainParams(max_block_txs=block, mempool_max_txs=10**6)
    genesis = make_genesis(CHAIN_ID, "ed25519", [("v0", validator)],
                           [(k.address, 10**12) for k in keys], params)
    chain = Chain(ChainStore(tmp), genesis)
    verify_processes.enable(parallel)
    chunks = [txs[i:i + block] for i in range(0, len(txs), block)]
    latencies: list[float] = []
    pool = ThreadPoolExecutor(1)
    clock = 1
    start = time.perf_counter()
    if parallel:
        # the node's shape: the next batch is verified (on all cores) while this one executes
        future = pool.submit(chain.mempool.prepare, chunks[0], True)
        submitted = start
        for k in range(len(chunks)):
            prepared = future.result()
            next_submitted = time.perf_counter()
            if k + 1 < len(chunks):
                future = pool.submit(chain.mempool.prepare, chunks[k + 1], True)
            chain.mempool.admit(prepared, chain.head.height + 1)
            clock += 1
            produce_block(chain, validator, clock)
            done = time.perf_counter()
            latencies.extend([done - submitted] * len(chunks[k]))
            submitted = next_submitted
    else:
        for chunk in chunks:
            submitted = time.perf_counter()
            chain.mempool.admit(chain.mempool.prepare(chunk, False), chain.head.height + 1)
            clock += 1
            produce_block(chain, validator, clock)
            latencies.extend([time.perf_counter() - submitted] * len(chunk))
    elapsed = time.perf_counter() - start
    verify_processes.enable(False)
    committed = chain.head.height
    chain.store.close()
    shutil.rmtree(tmp)
    pool.shutdown()
    return {
        "txs": len(txs),
        "blocks": committed,
        "seconds": round(elapsed, 3),
        "tps": round(len(txs) / elapsed),
        "latency_p50_ms": round(percentile(latencies, 0.5) * 1000, 1),
        "latency_p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
    }


def write_bench_home(home: Path, keys: list[KeyPair], port: int, block: int) -> None:
    from consortia.crypto.keyfile import save_key_file
    from consortia.node.config import NodeConfig, write_config, write_text_atomic
    from consortia.node.genesis import genesis_to_json

    home.mkdir(parents=True)
    validator = KeyPair.generate()
    save_key_file(home / "validator.key", validator, None)
    params = ChainParams(max_block_txs=block, mempool_max_txs=10**6, block_interval_ms=50)
    genesis = make_genesis(CHAIN_ID, "ed25519", [("v0", validator)],
                           [(k.address, 10**12) for k in keys], params)
    write_text_atomic(home / "genesis.json", genesis_to_json(genesis))
    write_config(home, NodeConfig(name="bench", validator_index=0, api_port=port))


def http_path(txs: list[bytes], keys: list[KeyPair], block: int, batch: int) -> dict:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    tmp = Path(tempfile.mkdtemp(prefix="consortia-bench-http-"))
    write_bench_home(tmp / "node", keys, port, block)
    proc = subprocess.Popen(
        [sys.executable, "-m", "consortia.cli", "node", "start", "--home", str(tmp / "node"),
         "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        assert proc.stdout is not None
        proc.stdout.readline()
        from consortia.crypto.hashing import sha256

        hashes = [sha256(t) for t in txs]
        submitted_at: dict[bytes, float] = {}
        committed_at: dict[bytes, float] = {}
        done = threading.Event()

        def follow() -> None:
            with httpx.Client(base_url=url, timeout=None) as http, http.stream(
                "GET", "/v1/events"
            ) as stream:
                for line in stream.iter_lines():
                    if not line.startswith("data:"):
                        continue
                    now = time.perf_counter()
                    for ev in json.loads(line[5:])["events"]:
                        committed_at[bytes.fromhex(ev["tx_hash"][2:])] = now
                    if len(committed_at) >= len(txs):
                        done.set()
                        return

        follower = threading.Thread(target=follow, daemon=True)
        follower.start()
        time.sleep(0.5)
        rejected = 0
        start = time.perf_counter()
        with httpx.Client(base_url=url, timeout=60) as http:
            for i in range(0, len(txs), batch):
                chunk = txs[i:i + batch]
                now = time.perf_counter()
                for h in hashes[i:i + batch]:
                    submitted_at[h] = now
                r = http.post("/v1/txs", content=encode(chunk),
                              headers={"content-type": "application/msgpack"})
                rejected += r.json()["rejected"]
        done.wait(timeout=120)
        end = max(committed_at.values()) if committed_at else time.perf_counter()
        latencies = [committed_at[h] - submitted_at[h] for h in hashes if h in committed_at]
        return {
            "txs": len(txs),
            "committed": len(committed_at),
            "rejected": rejected,
            "seconds": round(end - start, 3),
            "tps": round(len(committed_at) / (end - start)),
            "latency_p50_ms": round(statistics.median(latencies) * 1000, 1) if latencies else None,
            "latency_p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
        }
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--txs", type=int, default=60_000)
    parser.add_argument("--block", type=int, default=4000)
    parser.add_argument("--accounts", type=int, default=5000)
    parser.add_argument("--batch", type=int, default=2000)
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    raw1 = raw_ed25519_verify_rate(5000)
    raw2 = raw_ed25519_verify_rate_parallel(20000)
    keys = make_keys(args.accounts)
    txs = sign_all(keys, args.txs)
    results: dict = {"machine": {"cores": os.cpu_count(),
                                 "raw_verify_1core_per_s": round(raw1),
                                 "raw_verify_all_cores_per_s": round(raw2)}}
    results["inprocess-1core"] = inprocess(txs, keys, args.block, parallel=False)
    results["inprocess-2cores"] = inprocess(txs, keys, args.block, parallel=True)
    if not args.skip_http:
        results["http"] = http_path(txs, keys, args.block, args.batch)
    for name in ("inprocess-1core", "inprocess-2cores", "http"):
        if name in results:
            results[name]["vs_raw_1core"] = f"{results[name]['tps'] / raw1:.0%}"
    results["peak_rss_mb"] = round(peak_rss_mb(), 1)
    if args.json:
        print(json.dumps(results, indent=2))
        return
    m = results["machine"]
    print(f"raw Ed25519 verify (libsodium): {m['raw_verify_1core_per_s']}/s on one core, "
          f"{m['raw_verify_all_cores_per_s']}/s on {m['cores']} cores")
    for name in ("inprocess-1core", "inprocess-2cores", "http"):
        if name in results:
            r = results[name]
            print(f"{name:18s} {r['tps']:>7} committed tx/s  ({r['vs_raw_1core']} of raw 1-core)"
                  f"  p50 {r['latency_p50_ms']} ms  p99 {r['latency_p99_ms']} ms")
    print(f"peak RSS of the bench process: {results['peak_rss_mb']} MB")


if __name__ == "__main__":
    main()

"""What the read audit costs (issue 14, api/auth/read_log.py, decisions/0026).

Appending entries to a read log in a temporary directory (each one written and ``fdatasync``-ed
before the next: what an overseer's read waits for before its answer leaves), the whole log's
verification, and a page of 100 entries filtered for one organisation from the log's middle.
One JSON line per figure.

With ``--node``, also what an audited read costs through a node's API: ``--rounds`` signed
``GET /v1/accounts/{--account}`` by each ``--reader`` key file in turn (the regulator's read of
another organisation's account is logged before it is answered; its owner's admin's is not).

    python bench/read_audit.py [--entries 2000] [--segment-bytes 1048576]
    python bench/read_audit.py --node URL --account 0x... --reader reg.key --reader admin.key
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from consortia.api.auth.read_log import Read, ReadLog, verify_log
from consortia.client.client import Client
from consortia.crypto.keyfile import load_key_file, password_from_env


def api_reads(node: str, account: str, readers: list[str], rounds: int) -> None:
    for reader in readers:
        key = load_key_file(Path(reader), password_from_env())
        with Client(node, key=key) as client:
            client.get(f"/v1/accounts/{account}")  # warm the connection
            times = []
            for _ in range(rounds):
                started = time.perf_counter()
                client.get(f"/v1/accounts/{account}")
                times.append(time.perf_counter() - started)
        times.sort()
        print(json.dumps({"figure": "signed GET /v1/accounts/{address}", "reader": reader, "rounds": rounds,
                          "median_ms": round(statistics.median(times) * 1e3, 2),
                          "p99_ms": round(times[int(len(times) * 0.99)] * 1e3, 2)}))  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=2000)
    parser.add_argument("--segment-bytes", type=int, default=1 << 20)
    parser.add_argument("--node", default="")
    parser.add_argument("--account", default="")
    parser.add_argument("--reader", action="append", default=[])
    parser.add_argument("--rounds", type=int, default=300)
    args = parser.parse_args()
    if args.node:
        api_reads(args.node, args.account, args.reader, args.rounds)
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp) / "reads"
        log = ReadLog.open(directory, args.segment_bytes)
        times = []
        for i in range(args.entries):
            read = Read(bytes(20), "reg", "admin", "GET", f"/v1/accounts/0x{i:040x}", "",
                        frozenset({"bank-a" if i % 2 else "bank-b"}), 200)  # fmt: skip
            started = time.perf_counter()
            log.append(read, i)
            times.append(time.perf_counter() - started)
        times.sort()
        print(json.dumps({"figure": "append (write + fdatasync)", "entries": args.entries,
                          "median_us": round(statistics.median(times) * 1e6, 1),
                          "p99_us": round(times[int(len(times) * 0.99)] * 1e6, 1),
                          "per_s": round(args.entries / sum(times))}))  # fmt: skip
        started = time.perf_counter()
        verified = verify_log(directory)
        took = time.perf_counter() - started
        print(json.dumps({"figure": "verify whole log", "entries": verified.entries,
                          "segments": len(list(directory.glob("reads-*.jsonl"))), "ms": round(took * 1e3, 1),
                          "entries_per_s": round(verified.entries / took)}))  # fmt: skip
        started = time.perf_counter()
        page, _ = log.page(args.entries // 2, 100, lambda e: "bank-a" in e.subjects)
        print(json.dumps({"figure": "page of 100 for one organisation from the middle", "got": len(page),
                          "ms": round((time.perf_counter() - started) * 1e3, 2)}))  # fmt: skip


if __name__ == "__main__":
    main()

"""What the read audit costs (issue 14, api/auth/read_log.py, decisions/0026).

Appending entries to a read log in a temporary directory (each one written and ``fdatasync``-ed
before the next: what an overseer's read waits for before its answer leaves), the whole log's
verification, and a page of 100 entries filtered for one organisation from the log's middle.
One JSON line per figure.

    python bench/read_audit.py [--entries 2000] [--segment-bytes 1048576]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from consortia.api.auth.read_log import Read, ReadLog, verify_log


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=2000)
    parser.add_argument("--segment-bytes", type=int, default=1 << 20)
    args = parser.parse_args()
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

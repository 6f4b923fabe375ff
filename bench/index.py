"""The SQL index: does it keep up with the network, and how fast is an account's history?

1. **Lag.** A local 4-validator network (as ``bench/network.py``: real processes, mutual TLS,
   open-loop signed transfers through the batch API) where every node indexes its commits —
   into its own SQLite file, then (second network) into its own database on one PostgreSQL
   server. After the load, each node's ``/v1/index/status`` gives the per-block lag (commit →
   in the index) p50/p99/max over the run.
2. **History query.** An index holding one account with 100,000 history entries among 400,000
   rows of 4,000 other accounts; the newest page (100 entries) and pages at random depths
   (keyset cursors) are read 300 times each, p50/p99 printed, on SQLite and on PostgreSQL.
   The rows are inserted directly (the table the follower writes), so this measures the query.

    python bench/index.py [--rate 1000] [--seconds 10] [--accounts 500] [--skip-lag] [--skip-query]

PostgreSQL is a throwaway cluster started with Debian's initdb/pg_ctl (``tests/pg.py``).
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(ROOT))
from tests.pg import fresh_database, postgres_server  # noqa: E402

from consortia.index import queries, schema  # noqa: E402
from consortia.index.database import IndexDatabase  # noqa: E402
from consortia.node.network_setup import NETWORK_CHAIN_ID, init_network  # noqa: E402
from consortia.types.genesis import ChainParams  # noqa: E402
from network import free_base_port, measure, stop_nodes  # noqa: E402
from transfers import make_keys, percentile, sign_all  # noqa: E402

HISTORY = 100_000
OTHER_ACCOUNTS = 4_000
OTHER_ROWS = 400_000
QUERIES = 300
PAGE = 100


# --- lag on a running network -------------------------------------------------------------------


def start_indexed_nodes(homes: list[Path], index_dbs: list[str]) -> list[subprocess.Popen[str]]:
    procs = []
    for home, db in zip(homes, index_dbs, strict=True):
        log = open(home / "bench-node.log", "w")  # noqa: SIM115
        argv = [sys.executable, "-m", "consortia.cli", "node", "start", "--home", str(home),
                "--index-db", db, "--json"]
        procs.append(subprocess.Popen(argv, text=True, stdout=subprocess.PIPE, stderr=log,
                                      stdin=subprocess.DEVNULL))
    for proc in procs:
        assert proc.stdout is not None
        proc.stdout.readline()
    return procs


def lag_run(backend: str, rate: int, seconds: float, accounts: int, pg_server: str | None) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix=f"consortia-index-bench-{backend}-"))
    keys = make_keys(accounts)
    params = ChainParams(max_block_txs=5000, mempool_max_txs=10**6, block_interval_ms=100)
    homes = init_network(tmp / "net", 4, base_port=free_base_port(),
                         extra_allocations=[(k.address, 10**12) for k in keys], params=params)
    txs = sign_all(keys, int(rate * seconds) + 10, NETWORK_CHAIN_ID)
    dbs = ([fresh_database(pg_server, f"bench_{int(time.time())}_{i}") for i in range(4)]
           if backend == "postgresql" else [""] * 4)  # fmt: skip
    procs = start_indexed_nodes([h.home for h in homes], dbs)
    urls = [h.api_url for h in homes]
    try:
        time.sleep(2)
        load = measure(urls, txs[: int(rate * seconds)], rate, seconds)
        head = max(int(httpx.get(u + "/v1/status", timeout=10).json()["height"]) for u in urls)
        deadline = time.monotonic() + 60
        statuses: list[dict] = []
        while time.monotonic() < deadline:
            statuses = [httpx.get(u + "/v1/index/status", timeout=10).json() for u in urls]
            if all(s["indexed_height"] >= head for s in statuses):
                break
            time.sleep(0.2)
        row = {
            "phase": f"lag {backend}", **load,
            "blocks": head,
            "index_lag_p50_ms": [round(1000 * s["recent_lag_p50_s"]) for s in statuses],
            "index_lag_p99_ms": [round(1000 * s["recent_lag_p99_s"]) for s in statuses],
            "index_lag_max_ms": [round(1000 * s["recent_lag_max_s"]) for s in statuses],
            "caught_up": all(s["indexed_height"] >= head for s in statuses),
            "errors": [s["error"] for s in statuses if s["error"]],
        }
        print(json.dumps(row), flush=True)
        return row
    finally:
        stop_nodes(procs)
        shutil.rmtree(tmp, ignore_errors=True)


# --- the 100k-entry history query ---------------------------------------------------------------


def fill(db: IndexDatabase, target: bytes, rng: random.Random) -> None:
    others = [rng.randbytes(20) for _ in range(OTHER_ACCOUNTS)]
    h = schema.account_history
    batch: list[dict] = []

    def flush() -> None:
        with db.writing() as conn:
            conn.execute(h.insert(), batch)
        batch.clear()

    def row(address: bytes, n: int) -> dict:
        role = ("call", "out", "in")[n % 3]
        return {"address": address, "height": n // 3, "tx_idx": n % 50, "seq": n % 3, "role": role,
                "kind": None if role == "call" else "transfer", "counterparty": others[n % OTHER_ACCOUNTS],
                "amount": None if role == "call" else n, "tx_hash": rng.randbytes(32), "contract": "currency",
                "method": "transfer", "status": "ok"}  # fmt: skip

    for n in range(HISTORY):
        batch.append(row(target, n))
        if len(batch) >= 20_000:
            flush()
    for n in range(OTHER_ROWS):
        batch.append(row(others[n % OTHER_ACCOUNTS], n))
        if len(batch) >= 20_000:
            flush()
    if batch:
        flush()


def query_run(backend: str, url: str) -> dict:
    db = IndexDatabase(url, "bench", b"\0" * 32)
    rng = random.Random(1)
    target = rng.randbytes(20)
    t = time.perf_counter()
    fill(db, target, rng)
    fill_s = time.perf_counter() - t
    if backend == "postgresql":
        with db.engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
            conn.commit()
    newest, deep = [], []
    with db.reading() as conn:
        first = queries.account_history(conn, target, limit=PAGE)
        assert len(first.items) == PAGE and first.next_cursor
    for _ in range(QUERIES):
        t = time.perf_counter()
        with db.reading() as conn:
            page = queries.account_history(conn, target, limit=PAGE)
        newest.append(time.perf_counter() - t)
        assert len(page.items) == PAGE
        n = rng.randrange(HISTORY)
        cursor = f"{n // 3}:{n % 50}:{n % 3}"
        t = time.perf_counter()
        with db.reading() as conn:
            page = queries.account_history(conn, target, limit=PAGE, cursor=cursor)
        deep.append(time.perf_counter() - t)
    with db.reading() as conn:
        total = conn.execute(schema.account_history.select().with_only_columns(
            schema.account_history.c.height).where(schema.account_history.c.address == target)).all()
    db.close()
    row = {"phase": f"history {backend}", "entries": len(total), "table_rows": HISTORY + OTHER_ROWS,
           "fill_s": round(fill_s, 1),
           "newest_page_p50_ms": round(1000 * percentile(newest, 0.5), 2),
           "newest_page_p99_ms": round(1000 * percentile(newest, 0.99), 2),
           "deep_page_p50_ms": round(1000 * percentile(deep, 0.5), 2),
           "deep_page_p99_ms": round(1000 * percentile(deep, 0.99), 2)}  # fmt: skip
    print(json.dumps(row), flush=True)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=int, default=1000, help="offered transfers per second")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--accounts", type=int, default=500)
    parser.add_argument("--skip-lag", action="store_true")
    parser.add_argument("--skip-query", action="store_true")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="consortia-index-query-"))
    try:
        with postgres_server() as server:
            if not args.skip_query:
                query_run("sqlite", f"sqlite:///{tmp / 'history.sqlite3'}")
                query_run("postgresql", fresh_database(server, "history"))
            if not args.skip_lag:
                lag_run("sqlite", args.rate, args.seconds, args.accounts, None)
                lag_run("postgresql", args.rate, args.seconds, args.accounts, server)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()

"""apps/trace: how fast does the SQL index answer provenance for an item with a long history?

A machine's history is made for real — every event a call of the ``trace`` contract on an
in-process permissioned chain (tests/trace_world.py), its receipt turned into index rows by the
follower's own extraction (``index/extract.receipt_rows``) and written block by block:

    ore batches (registered, observed, handed from the mine to the mill)
      → coils (one transformation each, two inspections each, handed to the parts maker)
      → parts (five per coil, each observed)
      → sub-assemblies (ten parts each) → one machine

About 10,000 events lie upstream of the machine; and one batch has 10,000 events of its own
(observations, an inspection every hundred). Then, on SQLite and on PostgreSQL (a throwaway
cluster, tests/pg.py): provenance of the machine (recursive CTE over ``trace_edges``, every item
upstream with the edges and every inspection), provenance of the 10,000-event batch, where-used
of one ore batch, the status, and the events of everything upstream (what an EPCIS export
reads) — each ``--runs`` times, p50/p99.

    python bench/trace.py [--ores 100] [--observations 30] [--runs 200] [--skip-pg]
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.trace_story import batch, serial  # noqa: E402
from tests.trace_world import TraceWorld, make_world  # noqa: E402

from consortia.apps.trace import sdk  # noqa: E402
from consortia.index import trace_queries  # noqa: E402
from consortia.index.database import IndexDatabase  # noqa: E402

REPORT = bytes(32)


def build(ores: int, observations: int) -> tuple[TraceWorld, str, str]:
    """The history; returns the world, the machine and the first ore batch."""
    w = make_world()
    coils, parts = [], []
    for n in range(ores):
        ore = batch("0950600013435", f"O{n}")
        w.ok("mine", sdk.register(ore, "iron ore"))
        for k in range(observations):
            w.ok("mine", sdk.observe(ore, "weighbridge", f"{40 + k % 5} t"))
        w.ok("mine", sdk.handover(ore, w["mill"]))
        w.ok("mill", sdk.receive(ore))
        coil = batch("0950600013436", f"C{n}")
        w.ok("mill", sdk.transform([ore], [coil], "steel coil"))
        w.ok("lab", sdk.certify(coil, "fail", REPORT))
        w.ok("lab", sdk.certify(coil, "pass", REPORT))
        w.ok("mill", sdk.handover(coil, w["parts"]))
        w.ok("parts", sdk.receive(coil))
        made = [serial("0950600013437", f"P{n}-{k}") for k in range(5)]
        w.ok("parts", sdk.transform([coil], made, "bracket"))
        for part in made:
            for k in range(observations // 3):
                w.ok("parts", sdk.observe(part, "line 2", f"gauge {k}"))
        coils.append(coil)
        parts.extend(made)
    subs = []
    for n in range(0, len(parts), 10):
        sub = serial("0950600013438", f"S{n // 10}")
        w.ok("parts", sdk.transform(parts[n:n + 10], [sub], "sub-assembly"))
        subs.append(sub)
    machine = "88.118.8/BENCH-MACHINE"
    w.ok("parts", sdk.transform(subs, [machine], "press brake"))
    return w, machine, batch("0950600013435", "O0")


def build_solo(w: TraceWorld, events: int) -> str:
    """One batch with ``events`` events of its own (observations, an inspection every 100)."""
    solo = batch("0950600013439", "SOLO")
    w.ok("mine", sdk.register(solo, "tailings batch"))
    for k in range(events - 1):
        if k % 100 == 99:
            w.ok("lab", sdk.certify(solo, "pass", REPORT))
        else:
            w.ok("mine", sdk.observe(solo, "silo 4", f"level {k % 97} %"))
    return solo


def timed(run: Callable[[], Any], runs: int) -> tuple[float, float, Any]:
    samples, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = run()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.99))], result


def measure(label: str, url: str, w: TraceWorld, machine: str, ore: str, solo: str, runs: int) -> None:
    db = IndexDatabase(url, "trace-bench", b"\0" * 32)
    try:
        start = time.perf_counter()
        w.index_into(db, per_block=50)
        print(f"{label}: indexed {len(w.log)} transactions in {time.perf_counter() - start:.1f} s")
        if db.backend == "postgresql":  # what autovacuum does for a table that grew: fresh statistics
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("ANALYZE")

        def on(query: Callable[..., Any], *args: Any) -> Callable[[], Any]:
            def run() -> Any:
                with db.reading() as conn:
                    return query(conn, *args)

            return run

        with db.reading() as conn:
            upstream = [i["item"] for i in trace_queries.provenance(conn, machine)["items"]]
            history = len(trace_queries.events_upstream(conn, machine))
        print(f"{label}: the machine has {len(upstream)} items and {history} events upstream")
        for name, run in (("provenance of the machine", on(trace_queries.provenance, machine)),
                          ("provenance of a batch with 10,000 events", on(trace_queries.provenance, solo)),
                          ("where-used (one ore batch)", on(trace_queries.where_used, ore)),
                          ("status", on(trace_queries.status, machine)),
                          ("events upstream (EPCIS export's read)",
                           on(trace_queries.events_upstream, machine))):  # fmt: skip
            p50, p99, result = timed(run, runs if "events" not in name else max(10, runs // 10))
            size = len(result["items"]) if isinstance(result, dict) and "items" in result else (
                len(result) if isinstance(result, list) else 1)
            print(f"{label}: {name:42s} p50 {p50:7.2f} ms  p99 {p99:7.2f} ms  ({size} rows)")
    finally:
        db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ores", type=int, default=100)
    parser.add_argument("--observations", type=int, default=30)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--solo", type=int, default=10_000, help="events of the single batch")
    parser.add_argument("--skip-pg", action="store_true")
    args = parser.parse_args()
    start = time.perf_counter()
    w, machine, ore = build(args.ores, args.observations)
    solo = build_solo(w, args.solo)
    print(f"history: {len(w.log)} transactions on the contract in {time.perf_counter() - start:.1f} s")
    gc.collect()
    gc.freeze()  # the in-process chain that made the history is not the server's heap: keep it out of GC
    with tempfile.TemporaryDirectory() as tmp:
        measure("sqlite", f"sqlite:///{Path(tmp) / 'index.sqlite3'}", w, machine, ore, solo, args.runs)
    if not args.skip_pg:
        from tests.pg import fresh_database, postgres_server

        with postgres_server() as url:
            database = fresh_database(url, "b" + uuid.uuid4().hex[:12])
            measure("postgresql", database, w, machine, ore, solo, args.runs)


if __name__ == "__main__":
    main()

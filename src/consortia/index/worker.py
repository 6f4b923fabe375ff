"""The index process: ``python -m consortia.index.worker --home DIR --index-db URL``.

A node starts one (:mod:`consortia.index.process`) so that indexing — decoding blocks, building
rows, SQL — runs beside consensus instead of taking its interpreter lock. It opens the node's
chain store (LMDB: readers in other processes see each commit) and follows it with an
:class:`~consortia.index.follower.IndexFollower`.

Its stdin and stdout are a small line protocol with the node:

* in: one committed height per line — a wake-up (the follower also looks at the head every
  ``IDLE_WAKE_S``, so a line the node dropped under pressure costs nothing but latency);
  end of input (the node stopped or died) ends the process;
* out: JSON objects, one per line — ``{"open": {"backend", "database", "height"}}`` once the
  database is open, ``{"indexed": H}`` per block, ``{"error": MESSAGE-or-null}`` on each change.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any, TextIO

from consortia.crypto.suites import get_suite
from consortia.index.database import IndexDatabase
from consortia.index.follower import IndexFollower
from consortia.ledger.chain_store import ChainStore
from consortia.node.config import DATA_DIR, GENESIS_FILE
from consortia.node.genesis import genesis_hash, load_genesis

log = logging.getLogger("consortia.index")

NICENESS = 5
"""How much the index process yields the CPU to its node: on a busy machine consensus runs
first and the index catches up behind it (scheduler weight about a third of the node's)."""


class Reporter:
    """Writes the protocol's lines to the node (thread-safe; a gone node is ignored)."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._lock = threading.Lock()

    def send(self, message: dict[str, Any]) -> None:
        with self._lock:
            try:
                self._out.write(json.dumps(message, separators=(",", ":")) + "\n")
                self._out.flush()
            except (BrokenPipeError, ValueError, OSError):
                pass


def follow(home: Path, url: str, commands: TextIO, out: TextIO) -> None:
    """Follow the chain of ``home`` into ``url`` until ``commands`` ends or SIGTERM."""
    genesis = load_genesis(home / GENESIS_FILE)
    store = ChainStore(home / DATA_DIR)
    report = Reporter(out)

    def open_db() -> IndexDatabase:
        db = IndexDatabase(url, genesis.chain_id, genesis_hash(genesis))
        report.send({"open": {"backend": db.backend, "database": db.safe_url,
                              "height": db.head().height}})  # fmt: skip
        return db

    follower = IndexFollower(open_db, store, get_suite(genesis.suite), genesis,
                             on_indexed=lambda h: report.send({"indexed": h}),
                             on_error=lambda m: report.send({"error": m}))  # fmt: skip

    def listen() -> None:
        for line in commands:
            if line.strip().isdigit():
                follower.notify(int(line))
        follower.request_stop()  # the node closed the pipe: it stopped, or died

    signal.signal(signal.SIGTERM, lambda _s, _f: follower.request_stop())
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a terminal's ^C stops the node; the node stops us
    threading.Thread(target=listen, name="index-commands", daemon=True).start()
    try:
        follower.run()
    finally:
        if follower.db is not None:
            follower.db.close()
        store.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m consortia.index.worker", description=__doc__)
    parser.add_argument("--home", type=Path, required=True, help="the node's home directory")
    parser.add_argument("--index-db", required=True, help="the index database URL (resolved)")
    args = parser.parse_args(argv)
    os.nice(NICENESS)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s index: %(message)s")  # fmt: skip
    follow(args.home, args.index_db, sys.stdin, sys.stdout)


if __name__ == "__main__":
    main()

"""A node's SQL index in a process of its own (see :mod:`consortia.index.worker`).

Indexing a block costs about as much interpreter time as executing it; run in a thread of the
node it took the interpreter lock from consensus (about 40 % of plain-transfer throughput on a
2-core machine). :class:`IndexProcess` starts the worker, tells it of each commit (a line on a
non-blocking pipe: the consensus loop never waits on it), hears which heights reached the index,
restarts it if it dies, and opens the same database read-only for the API's queries. It offers
what :class:`~consortia.index.follower.IndexFollower` offered the node: ``db``, ``stats``,
``notify``, ``indexed_height``, ``lag_blocks``, ``lag_seconds``, ``status``, ``stop``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from consortia.errors import ConsortiaError
from consortia.index.database import IndexDatabase
from consortia.index.follower import RETRY_MAX_S, RETRY_MIN_S, LagTracker

log = logging.getLogger("consortia.index")

STOP_WAIT_S = 10.0
"""How long :meth:`IndexProcess.stop` waits for the worker to finish its block before killing it."""


class IndexProcess:
    """The node's handle on its index process."""

    def __init__(
        self, home: Path, url: str, chain_id: str, genesis_hash: bytes,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:  # fmt: skip
        self.home = home
        self.url = url
        self.chain_id = chain_id
        self.genesis_hash = genesis_hash
        self.lags = LagTracker(clock)
        self.stats = self.lags.stats
        self.backend: str | None = None
        self.database: str | None = None
        self.restarts = 0
        self._db: IndexDatabase | None = None
        self._db_lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._stopping = threading.Event()
        self._watcher: threading.Thread | None = None

    # --- lifecycle --------------------------------------------------------------------------

    def start(self) -> None:
        self._proc = self._spawn()
        self._watcher = threading.Thread(target=self._watch, name="index-process", daemon=True)
        self._watcher.start()

    def _spawn(self) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(
            [sys.executable, "-m", "consortia.index.worker", "--home", str(self.home),
             "--index-db", self.url],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=None, bufsize=0,
        )  # fmt: skip
        assert proc.stdin is not None
        os.set_blocking(proc.stdin.fileno(), False)
        return proc

    def stop(self, timeout: float = STOP_WAIT_S) -> None:
        """Close the worker's input (it finishes the block in hand and exits); kill it if it
        has not after ``timeout``."""
        self._stopping.set()
        proc = self._proc
        if proc is not None:
            with contextlib.suppress(OSError):
                assert proc.stdin is not None
                proc.stdin.close()
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self._watcher is not None:
            self._watcher.join(timeout)
            self._watcher = None
        with self._db_lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    def _watch(self) -> None:
        """Read the worker's reports; restart it (with backoff) whenever it ends unasked."""
        delay = RETRY_MIN_S
        while True:
            proc = self._proc
            assert proc is not None and proc.stdout is not None
            self._read_reports(proc.stdout)
            code = proc.wait()
            if self._stopping.is_set():
                return
            self.restarts += 1
            self.stats.error = f"the index process exited with status {code}; restarting it"
            log.error("indexer: %s", self.stats.error)
            if self._stopping.wait(delay):
                return
            delay = min(delay * 2, RETRY_MAX_S)
            self._proc = self._spawn()

    def _read_reports(self, stream: IO[bytes]) -> None:
        for line in stream:
            try:
                message: dict[str, Any] = json.loads(line)
            except ValueError:
                continue
            if "indexed" in message:
                self.lags.indexed(int(message["indexed"]))
            elif "error" in message:
                self.stats.error = message["error"]
            elif "open" in message:
                opened = message["open"]
                self.backend, self.database = opened["backend"], opened["database"]
                self.lags.indexed(int(opened["height"]))

    # --- called on the node's loop thread: cheap, never blocks -----------------------------

    def notify(self, height: int) -> None:
        """A block committed at ``height``: note when, and wake the worker. A full pipe (the
        worker is behind) drops the line: the worker finds the block by looking at the head."""
        self.lags.committed(height)
        proc = self._proc
        if proc is None or proc.stdin is None:
            return
        with contextlib.suppress(OSError, ValueError):  # full (EAGAIN), gone, or closed
            os.write(proc.stdin.fileno(), b"%d\n" % height)

    # --- what the API, /metrics and /v1/index/status read ------------------------------------

    @property
    def db(self) -> IndexDatabase | None:
        """The index database opened for reading, once the worker has opened (and migrated)
        it; None before."""
        if self.backend is None:
            return None
        with self._db_lock:
            if self._db is None and not self._stopping.is_set():
                try:
                    self._db = IndexDatabase(self.url, self.chain_id, self.genesis_hash, writer=False)
                except ConsortiaError as exc:
                    self.stats.error = self.stats.error or exc.message
                    return None
            return self._db

    def indexed_height(self) -> int:
        return self.lags.indexed_height()

    def lag_blocks(self, head_height: int) -> int:
        return self.lags.lag_blocks(head_height)

    def lag_seconds(self) -> float:
        return self.lags.lag_seconds()

    def status(self, head_height: int) -> dict[str, Any]:
        proc = self._proc
        return {**self.lags.status(head_height, self.backend, self.database),
                "process": proc.pid if proc is not None and proc.poll() is None else None,
                "restarts": self.restarts}  # fmt: skip

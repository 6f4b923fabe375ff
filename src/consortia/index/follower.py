"""Following commits into the index, off the consensus path.

:func:`index_to` indexes the chain's stored blocks from the index's height up to a target, one
SQL transaction per block (:meth:`~.database.IndexDatabase.write_block`). :class:`IndexFollower`
runs it in a thread, reading committed blocks from the store by height; a node runs that thread
in a process of its own (:mod:`consortia.index.process`, :mod:`consortia.index.worker`) so the
index never takes the interpreter lock from consensus. A failing database never reaches
consensus: the error is logged, shown in the status and retried with backoff, and the index
catches up when the database is back. :class:`LagTracker` keeps the lag figures.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from consortia.crypto.suites import Suite
from consortia.errors import ConsortiaError, NotFound
from consortia.index.database import IndexDatabase
from consortia.index.extract import block_rows
from consortia.ledger.chain_store import Head
from consortia.types.block import CommittedBlock
from consortia.types.genesis import Genesis
from consortia.types.receipt import Receipt

log = logging.getLogger("consortia.index")

RETRY_MIN_S = 0.5
RETRY_MAX_S = 30.0
IDLE_WAKE_S = 1.0
"""The follower looks at the head at least this often even when no commit woke it."""
RECENT_LAGS = 10_000
"""Per-block lags kept for the status percentiles."""
MAX_COMMIT_TIMES = 100_000


class ChainSource(Protocol):
    """What the indexer reads: committed blocks and receipts by height (``ChainStore``)."""

    def head(self) -> Head | None: ...

    def block(self, height: int) -> CommittedBlock: ...

    def receipts(self, height: int) -> list[Receipt]: ...


def index_to(
    db: IndexDatabase, source: ChainSource, suite: Suite, genesis: Genesis, target: int,
    should_stop: Callable[[], bool] = lambda: False,
    on_block: Callable[[int], None] = lambda _h: None,
) -> int:  # fmt: skip
    """Index every stored block above the index's height up to ``target``; the new height.

    A block the store does not have (a node installed from a state snapshot starts above its
    gap) is a :class:`NotFound` naming the height."""
    height = db.head().height
    while height < target and not should_stop():
        nxt = height + 1
        committed = source.block(nxt)
        receipts = source.receipts(nxt)
        db.write_block(block_rows(committed, receipts, suite, genesis if nxt == 0 else None))
        height = nxt
        on_block(height)
    return height


@dataclass
class FollowerStats:
    indexed_height: int = -1
    head_height: int = -1
    blocks_indexed: int = 0
    error: str | None = None
    recent_lags_s: deque[float] = field(default_factory=lambda: deque(maxlen=RECENT_LAGS))


class LagTracker:
    """When each committed block was committed and when it reached the index: the lag figures
    of ``/metrics`` and ``/v1/index/status``. Thread-safe; the node's loop only calls
    :meth:`committed` (cheap, never blocks on SQL)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.stats = FollowerStats()
        self._commit_times: OrderedDict[int, float] = OrderedDict()
        self._lock = threading.Lock()

    def committed(self, height: int) -> None:
        with self._lock:
            self._commit_times[height] = self.clock()
            while len(self._commit_times) > MAX_COMMIT_TIMES:
                self._commit_times.popitem(last=False)

    def indexed(self, height: int) -> None:
        now = self.clock()
        with self._lock:
            committed = self._commit_times.pop(height, None)
            for old in [h for h in self._commit_times if h < height]:
                del self._commit_times[old]
        if committed is not None:
            self.stats.recent_lags_s.append(now - committed)
        if height > self.stats.indexed_height:
            self.stats.blocks_indexed += 1
        self.stats.indexed_height = max(height, self.stats.indexed_height)

    def indexed_height(self) -> int:
        return self.stats.indexed_height

    def lag_blocks(self, head_height: int) -> int:
        return max(0, head_height - self.stats.indexed_height)

    def lag_seconds(self) -> float:
        """How long the oldest committed block not yet indexed has waited (0: caught up)."""
        with self._lock:
            pending = [t for h, t in self._commit_times.items() if h > self.stats.indexed_height]
        return max(0.0, self.clock() - min(pending)) if pending else 0.0

    def status(self, head_height: int, backend: str | None, database: str | None) -> dict[str, Any]:
        lags = sorted(self.stats.recent_lags_s)
        return {
            "backend": backend,
            "database": database,
            "indexed_height": self.stats.indexed_height,
            "head_height": head_height,
            "lag_blocks": self.lag_blocks(head_height),
            "lag_seconds": round(self.lag_seconds(), 6),
            "blocks_indexed": self.stats.blocks_indexed,
            "recent_lag_p50_s": _percentile(lags, 0.50),
            "recent_lag_p99_s": _percentile(lags, 0.99),
            "recent_lag_max_s": lags[-1] if lags else None,
            "recent_lag_samples": len(lags),
            "error": self.stats.error,
        }


class IndexFollower:
    """Keeps an index up with a chain store's commits, in a thread of its own (the index
    process runs one: :mod:`consortia.index.worker`; tests drive :meth:`catch_up` directly)."""

    def __init__(
        self, open_db: Callable[[], IndexDatabase], source: ChainSource, suite: Suite,
        genesis: Genesis, clock: Callable[[], float] = time.monotonic,
        on_indexed: Callable[[int], None] = lambda _h: None,
        on_error: Callable[[str | None], None] = lambda _m: None,
    ) -> None:  # fmt: skip
        """``open_db`` is called in the follower's thread (and again after a failure), so an
        unreachable database delays the index, never the node's start. ``on_indexed`` hears
        each height once it is in the index, ``on_error`` each change of the error (None:
        healthy again)."""
        self._open_db = open_db
        self.db: IndexDatabase | None = None
        self.source = source
        self.suite = suite
        self.genesis = genesis
        self.lags = LagTracker(clock)
        self.stats = self.lags.stats
        self._on_indexed = on_indexed
        self._on_error = on_error
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def notify(self, height: int) -> None:
        """A block committed at ``height``: remember when, wake the follower (cheap)."""
        self.lags.committed(height)
        self._wake.set()

    # --- lifecycle --------------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="index-follower", daemon=True)
        self._thread.start()

    def request_stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        self.request_stop()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        if self.db is not None:
            self.db.close()

    def run(self) -> None:
        """Follow until :meth:`request_stop`: index to the head, wait for a commit (or
        ``IDLE_WAKE_S``), again; a failure is logged once, reported and retried with backoff."""
        delay = RETRY_MIN_S
        while not self._stop.is_set():
            try:
                self.catch_up()
                self._set_error(None)
                delay = RETRY_MIN_S
                self._wake.wait(IDLE_WAKE_S)
                self._wake.clear()
            except Exception as exc:  # the index never stops the node
                message = exc.message if isinstance(exc, ConsortiaError) else f"{type(exc).__name__}: {exc}"
                if isinstance(exc, NotFound):
                    message += " (this node has no full block history: index another node's chain)"
                message = " ".join(message.split())[:500]
                if self.stats.error != message:
                    log.error("indexer: %s; retrying", message)
                self._set_error(message)
                self._stop.wait(delay)
                delay = min(delay * 2, RETRY_MAX_S)

    def _set_error(self, message: str | None) -> None:
        if self.stats.error != message:
            self.stats.error = message
            self._on_error(message)

    def catch_up(self) -> int:
        """Index up to the store's head now (the thread's step; tests call it directly)."""
        if self.db is None:
            self.db = self._open_db()
            self.stats.indexed_height = self.db.head().height
        head = self.source.head()
        target = -1 if head is None else head.height
        self.stats.head_height = target
        return index_to(self.db, self.source, self.suite, self.genesis, target,
                        self._stop.is_set, self._indexed)

    def _indexed(self, height: int) -> None:
        self.lags.indexed(height)
        self._on_indexed(height)

    # --- what /metrics and /v1/index/status show ------------------------------------------

    def indexed_height(self) -> int:
        return self.lags.indexed_height()

    def lag_blocks(self, head_height: int) -> int:
        return self.lags.lag_blocks(head_height)

    def lag_seconds(self) -> float:
        return self.lags.lag_seconds()

    def status(self, head_height: int) -> dict[str, Any]:
        db = self.db
        return self.lags.status(head_height, db.backend if db else None, db.safe_url if db else None)


def _percentile(ordered: list[float], q: float) -> float | None:
    if not ordered:
        return None
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

"""Prometheus metrics of one node (its own registry, so several nodes can share a process)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class IndexLag(Protocol):
    """What the metrics read of the SQL index follower (``consortia.index.follower``)."""

    def lag_blocks(self, head_height: int) -> int: ...

    def lag_seconds(self) -> float: ...

    def indexed_height(self) -> int: ...


class NodeMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.height = Gauge("consortia_height", "Height of the last committed block", registry=r)
        self.blocks = Counter("consortia_blocks_committed", "Blocks committed", registry=r)
        self.txs_committed = Counter(
            "consortia_txs_committed", "Transactions committed", registry=r
        )
        self.txs_admitted = Counter(
            "consortia_txs_admitted", "Transactions accepted into the mempool", registry=r
        )
        self.txs_rejected = Counter(
            "consortia_txs_rejected", "Transactions refused at admission", ["reason"], registry=r
        )
        self.mempool = Gauge("consortia_mempool_size", "Transactions in the mempool", registry=r)
        self.block_seconds = Histogram(
            "consortia_block_build_seconds",
            "Time to build, execute and commit one block",
            buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
            registry=r,
        )
        self.index_height = Gauge(
            "consortia_index_height", "Height of the last block in the SQL index", registry=r
        )
        self.index_lag_blocks = Gauge(
            "consortia_index_lag_blocks", "Committed blocks not yet in the SQL index", registry=r
        )
        self.index_lag_seconds = Gauge(
            "consortia_index_lag_seconds",
            "How long the oldest committed block not yet in the SQL index has waited", registry=r,
        )

    def watch_index(self, index: IndexLag, head_height: Callable[[], int]) -> None:
        """Read the index's height and lag at each scrape."""
        self.index_height.set_function(lambda: float(index.indexed_height()))
        self.index_lag_blocks.set_function(lambda: float(index.lag_blocks(head_height())))
        self.index_lag_seconds.set_function(index.lag_seconds)

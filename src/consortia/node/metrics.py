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


class ConsensusView(Protocol):
    """What the metrics read of a running node at each scrape: the driver's status (epoch,
    round, validators; see ``ConsensusDriver.status``) and the connected peers."""

    def consensus_status(self) -> dict[str, object]: ...

    def connected_peer_count(self) -> int: ...


class SyncView(Protocol):
    """What the metrics read of the node's catch-up (``consortia.node.net.block_sync``)."""

    @property
    def catching_up(self) -> bool: ...

    @property
    def best_peer_height(self) -> int: ...

    def blocks_behind(self) -> int: ...


FINALITY_BUCKETS = (0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 30)


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

        self.finality_seconds = Histogram(
            "consortia_finality_seconds",
            "From a block's proposal (its timestamp) to its commit at this node",
            buckets=FINALITY_BUCKETS, registry=r,
        )
        self.view_changes = Counter(
            "consortia_view_changes", "Committed blocks proposed after a round timed out "
            "(their header carries a timeout certificate)", registry=r,
        )
        self.round = Gauge("consortia_consensus_round", "The consensus round this node is in", registry=r)
        self.epoch = Gauge("consortia_epoch", "The validator-set epoch this node is in", registry=r)
        self.validators = Gauge("consortia_validators", "Validators in the current epoch", registry=r)
        self.is_validator = Gauge(
            "consortia_is_validator", "1 if this node votes in the current epoch, else 0", registry=r
        )
        self.peers = Gauge("consortia_peers_connected", "Validators this node is connected to", registry=r)
        self.syncing = Gauge(
            "consortia_syncing", "1 while this node catches up (blocks or a state snapshot), 0 when "
            "it follows the chain", registry=r,
        )
        self.blocks_behind = Gauge(
            "consortia_blocks_behind", "Committed height below the best certified height a peer "
            "has shown (0: caught up)", registry=r,
        )
        self.best_peer_height = Gauge(
            "consortia_best_peer_height", "The best certified height a peer has shown", registry=r
        )

    def watch_consensus(self, view: ConsensusView) -> None:
        """Read round, epoch, validator count, membership and peers at each scrape (0 while the
        node has no consensus running, e.g. before start)."""

        def number(key: str) -> float:
            value = view.consensus_status().get(key)
            return float(value) if isinstance(value, int) else 0.0

        self.round.set_function(lambda: number("consensus_round"))
        self.epoch.set_function(lambda: number("epoch"))
        self.validators.set_function(lambda: number("validators"))
        self.is_validator.set_function(lambda: float(view.consensus_status().get("validator") is not None))
        self.peers.set_function(lambda: float(view.connected_peer_count()))

    def watch_sync(self, sync: SyncView) -> None:
        """Read the catch-up state at each scrape (a one-validator node has none: all 0)."""
        self.syncing.set_function(lambda: float(sync.catching_up))
        self.blocks_behind.set_function(lambda: float(sync.blocks_behind()))
        self.best_peer_height.set_function(lambda: float(sync.best_peer_height))

    def watch_index(self, index: IndexLag, head_height: Callable[[], int]) -> None:
        """Read the index's height and lag at each scrape."""
        self.index_height.set_function(lambda: float(index.indexed_height()))
        self.index_lag_blocks.set_function(lambda: float(index.lag_blocks(head_height())))
        self.index_lag_seconds.set_function(index.lag_seconds)

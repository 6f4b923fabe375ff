"""One running node: its chain, mempool admission, block production, API and event hub.

The node owns one asyncio loop. Everything that changes chain state runs on that loop's
thread; expensive, stateless work (decoding and signature checks of submitted transactions)
runs in worker threads, where the C signature code runs on every core at once.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from consortia.contracts.permissioned.node_directory import transport_keys
from consortia.crypto import verify_processes
from consortia.crypto.keyfile import load_key_file, password_from_env
from consortia.crypto.keys import KeyPair
from consortia.errors import BatchTooLarge, ConfigError, StorageError
from consortia.execution.tx_decode import CheckedTx
from consortia.ledger.chain_store import ChainStore
from consortia.mempool.pool import Admitted
from consortia.node.chain import Chain, ExecutedBlock
from consortia.node.config import (
    DATA_DIR,
    GENESIS_FILE,
    NEXT_VALIDATOR_KEY_FILE,
    RETIRED_VALIDATOR_KEY_FILE,
    VALIDATOR_KEY_FILE,
    NodeConfig,
    load_config,
)
from consortia.node.event_hub import EventHub
from consortia.node.genesis import genesis_hash, load_genesis
from consortia.node.metrics import NodeMetrics
from consortia.types.block import CommittedBlock

if TYPE_CHECKING:
    from consortia.index.process import IndexProcess

log = logging.getLogger("consortia.node")


CLOCK_OFFSET_ENV = "CONSORTIA_CLOCK_OFFSET_MS"
"""Fault injection: run this node's wall clock this many ms fast (negative: slow), to test that
a validator with a skewed clock costs the network little. Never set it in production."""
_CLOCK_OFFSET_MS = int(os.environ.get(CLOCK_OFFSET_ENV, "0") or "0")


def now_ms() -> int:
    """This node's wall clock in ms (block timestamps, proposal checks)."""
    return time.time_ns() // 1_000_000 + _CLOCK_OFFSET_MS


class Clock(Protocol):
    """Where a node reads time: its wall clock (block timestamps) and a monotonic clock
    (how long it has known something, timers). The simulator passes a virtual one."""

    def now_ms(self) -> int: ...

    def monotonic(self) -> float: ...


class WallClock:
    """The real clocks (with the test offset of ``CONSORTIA_CLOCK_OFFSET_MS``)."""

    def now_ms(self) -> int:
        return now_ms()

    def monotonic(self) -> float:
        return time.monotonic()


class ConsensusHandle(Protocol):
    """What the node and its API need of the consensus driver running it."""

    def status(self) -> dict[str, Any]: ...

    def halt(self, exc: StorageError) -> None: ...


class PeerLinks(Protocol):
    """What the node's API needs of its transport to other validators."""

    def connected_peers(self) -> list[int]: ...


class Node:
    def __init__(
        self, home: Path, password: str | None = None, *, clock: Clock | None = None,
        offload: bool = True, index_db: str = "",
    ) -> None:
        """``offload``: verify large batches in worker threads/processes and write the pool
        from a thread (off: everything inline on the loop, as the simulator needs).
        ``index_db``: the SQL index (``consortia.index``) that :meth:`start_index` opens — empty
        for SQLite in the home, ``off`` for none, or a database URL."""
        self.home = home
        self.index_db = index_db
        self.index: IndexProcess | None = None  # the SQL index, once started
        self.clock: Clock = clock if clock is not None else WallClock()
        self.offload = offload
        self.config: NodeConfig = load_config(home)
        self.genesis = load_genesis(home / GENESIS_FILE)
        n = len(self.genesis.validators)
        if self.config.validator_index < 0:
            raise ConfigError(f"validator index {self.config.validator_index} is negative")
        self._password = password
        self.key: KeyPair = load_key_file(
            home / VALIDATOR_KEY_FILE, password if password is not None else password_from_env()
        )
        expected = b""
        if self.config.validator_index < n:  # a genesis validator (beyond: a standby node)
            expected = self.genesis.validators[self.config.validator_index].public_key
        if offload and (os.cpu_count() or 1) > 1:
            verify_processes.enable()  # signature checks on every core, off the GIL
        self.store = ChainStore(home / DATA_DIR)
        if expected and self.key.public_key != expected and not self._rotated_key():
            self.store.close()
            raise ConfigError("validator.key does not match this validator's key in genesis.json "
                              "(nor a key governance rotated it to)")
        self.chain = Chain(self.store, self.genesis)
        self.metrics = NodeMetrics()
        self.events = EventHub()
        self.chain.listeners.append(self._on_commit)
        self.wake = asyncio.Event()
        self.on_admitted: list[Callable[[list[bytes]], None]] = []
        self.consensus: ConsensusHandle | None = None  # the ConsensusDriver, once running
        self.peers: PeerLinks | None = None  # the transport of a multi-validator node
        self.started_ms = self.clock.now_ms()
        self.warnings: list[str] = []  # what an operator must act on (certificates near expiry)
        self.metrics.watch_consensus(self)
        self.reload_pool()

    # --- what the metrics read at each scrape ---------------------------------------------

    def consensus_status(self) -> dict[str, object]:
        """The driver's status (epoch, round, validators, this node's index), empty before it runs."""
        return dict(self.consensus.status()) if self.consensus is not None else {}

    def connected_peer_count(self) -> int:
        return len(self.peers.connected_peers()) if self.peers is not None else 0

    # --- mempool ------------------------------------------------------------------------

    def reload_pool(self) -> None:
        """Re-admit transactions accepted before a restart but not yet committed."""
        saved = list(self.store.pool_items())
        if not saved:
            return
        prepared = self.chain.mempool.prepare([raw for _, raw in saved])
        ordered = sorted(
            prepared, key=lambda t: t.body.nonce if isinstance(t, CheckedTx) else -1
        )
        results = self.chain.mempool.admit(ordered, self.chain.head.height + 1)
        dropped = [
            r.tx_hash for r in results if r.error is not None and r.tx_hash is not None
        ]
        self.store.pool_remove(dropped)
        log.info("re-admitted %d saved transactions (%d dropped)", len(saved) - len(dropped), len(dropped))

    async def submit(self, raws: Sequence[bytes], from_peer: bool = False) -> list[Admitted]:
        """Admit a batch: verify off-loop, check state on-loop, persist, then acknowledge.

        Transactions from clients are passed on to the other validators; those that came from
        a validator are not passed on again.
        """
        limit = self.chain.params.max_batch_txs
        if len(raws) > limit:
            raise BatchTooLarge(f"a batch holds at most {limit} transactions; got {len(raws)}")
        mempool = self.chain.mempool
        if len(raws) > 4 and self.offload:
            prepared = await asyncio.to_thread(mempool.prepare, raws)
        else:
            prepared = mempool.prepare(raws)
        results = mempool.admit(prepared, self.chain.head.height + 1)
        accepted = [
            (p.hash, p.raw)
            for p, r in zip(prepared, results, strict=True)
            if r.error is None and isinstance(p, CheckedTx)
        ]
        if accepted:
            try:
                if self.offload:
                    await asyncio.to_thread(self.store.pool_add, accepted)
                else:
                    self.store.pool_add(accepted)
            except StorageError as exc:
                # the pool in memory now holds what the disk may not: later transactions of
                # the same senders could be acknowledged on top of these and lost on restart
                if self.consensus is not None:
                    self.consensus.halt(exc)
                raise
            self.metrics.txs_admitted.inc(len(accepted))
            self.wake.set()
            if not from_peer:
                raws_accepted = [raw for _, raw in accepted]
                for callback in self.on_admitted:
                    callback(raws_accepted)
        for r in results:
            if r.error is not None:
                self.metrics.txs_rejected.labels(r.error.code).inc()
        self.metrics.mempool.set(len(mempool))
        return results

    # --- commits ------------------------------------------------------------------------

    def _rotated_key(self) -> bool:
        """Whether governance rotated this node's genesis key to ``self.key`` (node_directory)."""
        genesis_keys = [v.public_key for v in self.genesis.validators]
        return transport_keys(self.store.state_get, genesis_keys).get(self.key.public_key) == (
            self.config.validator_index
        )

    def take_up_next_key(self, epoch_keys: Sequence[bytes]) -> bool:
        """Switch to ``validator.next.key`` if the epoch's set holds it (a rotation governance
        decided, decisions/0015): it becomes ``validator.key``, the old key is kept as
        ``validator.retired.key``. False (nothing changed) if there is no such key or the set
        does not hold it."""
        path = self.home / NEXT_VALIDATOR_KEY_FILE
        if not path.exists():
            return False
        password = self._password if self._password is not None else password_from_env()
        fresh = load_key_file(path, password)
        if fresh.public_key not in epoch_keys:
            return False
        os.replace(self.home / VALIDATOR_KEY_FILE, self.home / RETIRED_VALIDATOR_KEY_FILE)
        os.replace(path, self.home / VALIDATOR_KEY_FILE)
        log.info("validator key rotated: now signing with 0x%s", fresh.public_key.hex())
        self.key = fresh
        return True

    def _on_commit(self, executed: ExecutedBlock, committed: CommittedBlock) -> None:
        header = executed.header
        since_proposed_ms = self.clock.now_ms() - header.timestamp_ms
        log.log(logging.INFO if executed.txs else logging.DEBUG,  # an idle chain stays quiet
                "block %d committed: %d txs, round %d, leader %d, %d ms after it was proposed",
                header.height, len(executed.txs), header.round, header.proposer, since_proposed_ms)
        self.metrics.height.set(header.height)
        self.metrics.finality_seconds.observe(max(0, since_proposed_ms) / 1000)
        if header.timeout_cert is not None:
            self.metrics.view_changes.inc()
        self.metrics.blocks.inc()
        self.metrics.txs_committed.inc(len(executed.txs))
        self.metrics.mempool.set(len(self.chain.mempool))
        self.events.on_commit(executed, committed)
        if self.index is not None:
            self.index.notify(executed.header.height)

    # --- the SQL index ------------------------------------------------------------------

    def start_index(self) -> None:
        """Start following commits into the SQL index, in a process of its own (see
        :mod:`consortia.index.process`); a malformed ``index_db`` is a ConfigError now, an
        unreachable database only delays the index (retried, shown in its status)."""
        from consortia.index.database import engine_for, resolve_url
        from consortia.index.process import IndexProcess

        url = resolve_url(self.index_db, self.home)
        if url is None or self.index is not None:
            return
        engine_for(url).dispose()  # a malformed URL fails the start, with its reason
        index = IndexProcess(self.home, url, self.genesis.chain_id, genesis_hash(self.genesis))
        self.metrics.watch_index(index, lambda: self.chain.head.height)
        self.index = index
        index.start()

    def close(self) -> None:
        if self.index is not None:
            self.index.stop()
        self.store.close()



"""Runs the pure consensus core inside a node: events in, effects performed in order.

The core decides; this driver does what it asks: persists safety data (fsync) before anything
that follows it, builds blocks from the mempool when this validator leads, validates and keeps
proposed blocks, arms timers, sends messages through the transport, and commits. With one
validator there is no transport: the core proposes, votes and certifies on its own (dev mode
is the same protocol with n = 1).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any, Protocol

from consortia.codec import decode, encode
from consortia.consensus import (
    BlockBuilt,
    BlockMeta,
    BlockValidated,
    Broadcast,
    BuildBlock,
    Commit,
    ConsensusCore,
    CoreConfig,
    Effect,
    Event,
    EvidenceFound,
    FetchBlock,
    Message,
    PersistSafety,
    SafetyData,
    ScheduleTimer,
    SendTo,
    Start,
    SyncInfo,
    TimerFired,
    ValidateBlock,
    history_needed,
)
from consortia.contracts.permissioned.node_directory import transport_keys
from consortia.errors import ConsortiaError, NodeHalted, NotFound, StorageError
from consortia.execution.executor import InvalidBlock
from consortia.invariant import invariant
from consortia.node.chain import ExecutedBlock
from consortia.node.epochs import Epoch, epoch_at, next_epoch_start, verify_qc_in_epoch
from consortia.node.node import Node
from consortia.types.block import Block, Header
from consortia.types.consensus import QuorumCert

log = logging.getLogger("consortia.consensus")

SAFETY_KEY = b"consensus/safety"
MAX_PEER_EVENTS = 100_000
"""Events from peers waiting for the core; beyond this, peer events are dropped (and counted):
peers resend what matters through timeouts and sync. The node's own events (timers, built and
validated blocks) are never dropped: losing one could stall a round."""
MAX_CLOCK_DRIFT_MS = 5_000  # a proposal stamped further ahead of our clock is refused
CLOCK_CATCH_UP_MS = 500  # how far a proposal's time may run ahead of the parent's + time known


class Transport(Protocol):
    """How consensus messages (and the blocks they name) reach other validators."""

    def broadcast(self, msg: Message, block: Block | None) -> None: ...

    def send(self, validator: int, msg: Message, block: Block | None) -> None: ...

    def fetch(self, block_id: bytes) -> None: ...


def block_meta(block_id: bytes, header: Header) -> BlockMeta:
    return BlockMeta(
        id=block_id,
        round=header.round,
        height=header.height,
        parent_id=header.parent_id,
        justify=header.justify,
        proposer=header.proposer,
        timeout_cert=header.timeout_cert,
    )


class ConsensusDriver:
    def __init__(self, node: Node, transport: Transport | None = None) -> None:
        self.node = node
        self.clock = node.clock
        self.chain = node.chain
        self.store = node.store
        self.transport = transport
        self.genesis = node.genesis
        self.genesis_id = self.store.block(0).qc.block_id
        # transport peers are node indices; consensus indices are places in the current set
        self.peer_of_key = {v.public_key: i for i, v in enumerate(self.genesis.validators)}
        self.peer_of_key.update({p.public_key: p.index for p in node.config.peers if p.public_key})
        self.peer_of_key[node.key.public_key] = node.config.validator_index
        self.keys_of_peer: dict[int, list[bytes]] = {}
        self.learn_keys(dict(self.peer_of_key))
        self.learn_keys(transport_keys(self.store.state_get, [v.public_key for v in self.genesis.validators]))
        self.epoch: Epoch = epoch_at(self.store.state_get, 1, self.genesis)
        self.validators: list[bytes] = list(self.epoch.keys)
        self.me: int | None = None
        self.config = self._config_for(self.epoch)
        self.blocks: dict[bytes, Block] = {}
        self.queue: asyncio.Queue[tuple[bool, Event]] = asyncio.Queue()  # (from a peer, event)
        self._peer_queued = 0
        self.peer_events_dropped = 0
        self.evidence: list[bytes] = []  # found here, to record on chain when we lead
        self._build_task: asyncio.Task[None] | None = None
        self._switch_pending = False
        self.switch_sync: SyncInfo | None = None  # the last epoch's closing certificate
        self._arrival: dict[bytes, float] = {self.chain.head.block_id: self.clock.monotonic()}
        self._stop: asyncio.Event | None = None
        self.fatal: StorageError | None = None
        self.core = self._make_core()

    # --- start-up ---------------------------------------------------------------------------

    def _config_for(self, ep: Epoch) -> CoreConfig:
        return CoreConfig(
            chain_id=ep.signing_chain_id,
            validators=len(ep.keys),
            genesis_id=self.genesis_id,
            base_timeout_ms=self.chain.params.empty_block_interval_ms + 2000,
        )

    def _verify(self, validator: int, message: bytes, signature: bytes) -> bool:
        if not 0 <= validator < len(self.validators):
            return False
        return self.chain.suite.verify(self.validators[validator], message, signature)

    def _safety_key(self) -> bytes:
        number = self.epoch.number
        return SAFETY_KEY if number == 0 else SAFETY_KEY + b"/" + str(number).encode()

    def _make_core(self) -> ConsensusCore | None:
        """The core of the epoch deciding the next height, or None when we are not in its set
        (then this node follows the chain by catch-up only)."""
        self.epoch = epoch_at(self.store.state_get, self.chain.head.height + 1, self.genesis)
        self.validators = list(self.epoch.keys)
        self.config = self._config_for(self.epoch)
        self.learn_keys(transport_keys(self.store.state_get, [v.public_key for v in self.genesis.validators]))
        self.me = self.epoch.index_of(self.node.key.public_key)
        if self.me is None and self.node.take_up_next_key(self.epoch.keys):
            self.learn_keys({self.node.key.public_key: self.node.config.validator_index})
            self.me = self.epoch.index_of(self.node.key.public_key)
        kept = self._restore_pending()
        if self.me is None:
            log.info("not a validator of epoch %d: following the chain", self.epoch.number)
            return None
        raw = self.store.get_meta(self._safety_key())
        safety = SafetyData.load(raw, self.epoch.number)  # refuses another epoch's data
        head = self.store.block(self.chain.head.height)
        root = block_meta(head.qc.block_id, head.block.header)
        return ConsensusCore(
            self.config, self.me, self.node.key.sign, self._verify, safety, root, head.qc, kept,
            history=self._leader_history(),
        )

    def _leader_history(self) -> list[BlockMeta]:
        """The recent committed blocks of this epoch that leader election reads (oldest first;
        it stops at a gap below an installed snapshot)."""
        top = self.chain.head.height
        first = max(1, self.epoch.start_height, top - history_needed(self.config.validators) + 1)
        history: list[BlockMeta] = []
        for height in range(top, first - 1, -1):
            try:
                stored = self.store.block(height)
            except NotFound:
                break
            history.append(block_meta(stored.qc.block_id, stored.block.header))
        history.reverse()
        return history

    def peer_for(self, validator: int) -> int | None:
        """The transport peer of the current epoch's validator ``validator``."""
        if not 0 <= validator < len(self.validators):
            return None
        return self.peer_of_key.get(self.validators[validator])

    def validator_for(self, peer: int) -> int | None:
        """The current epoch's index of transport peer ``peer`` (None: not in the set). A peer
        whose key was rotated has several keys; the one in the current set counts."""
        for key in self.keys_of_peer.get(peer, ()):
            index = self.epoch.index_of(key)
            if index is not None:
                return index
        return None

    def learn_keys(self, keys: dict[bytes, int]) -> None:
        """Validator keys -> transport peers learnt from the node directory (joined nodes,
        rotated keys; ``contracts/permissioned/node_directory.transport_keys``)."""
        for key, peer in keys.items():
            self.peer_of_key[key] = peer
            known = self.keys_of_peer.setdefault(peer, [])
            if key not in known:
                known.append(key)

    def _restore_pending(self) -> list[BlockMeta]:
        """Re-execute blocks built or validated before a restart but not yet committed."""
        kept: list[BlockMeta] = []
        for raw in self.store.pending_blocks():
            block = decode(raw, Block)
            try:
                executed = self.chain.validate_block(block)
            except ConsortiaError as exc:
                log.warning("dropping kept block at height %d: %s", block.header.height, exc)
                continue
            self.chain.mempool.mark_in_flight(t.hash for t in executed.txs)
            self.blocks[executed.block_id] = block
            kept.append(block_meta(executed.block_id, block.header))
        return kept

    # --- the loop ---------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Drive the core until ``stop``; raises NodeHalted after a local storage failure."""
        self._stop = stop
        self.feed(Start(self.clock.now_ms()))
        stopper = asyncio.create_task(stop.wait())
        try:
            while not stop.is_set():
                getter = asyncio.create_task(self.queue.get())
                done, _ = await asyncio.wait({getter, stopper}, return_when=asyncio.FIRST_COMPLETED)
                if getter not in done:
                    getter.cancel()
                    break
                from_peer, event = getter.result()
                if from_peer:
                    self._peer_queued -= 1
                self.feed(event)
                await asyncio.sleep(0)
        finally:
            stopper.cancel()
            if self._build_task is not None:
                self._build_task.cancel()
        if self.fatal is not None:
            raise NodeHalted(f"the node halted: {self.fatal.message}") from self.fatal

    def halt(self, exc: StorageError) -> None:
        """A local storage failure: stop cleanly, never act on state we could not persist."""
        if self.fatal is None:
            log.critical("halting: %s", exc.message)
            self.fatal = exc
        if self._stop is not None:
            self._stop.set()

    def feed(self, event: Event) -> None:
        if self.fatal is not None:
            return
        if self.core is not None:
            self.perform(self.core.step(event))
        self._after_effects()

    def push(self, event: Event) -> None:
        """Queue one of this node's own events for the core; never dropped."""
        self.queue.put_nowait((False, event))

    def push_peer(self, event: Event) -> None:
        """Queue an event from a peer's message; dropped (and counted) when peers flood us."""
        if self._peer_queued >= MAX_PEER_EVENTS:
            self.peer_events_dropped += 1
            if self.peer_events_dropped % 10_000 == 1:
                log.warning("peer events arrive faster than consensus takes them: %d dropped",
                            self.peer_events_dropped)
            return
        self._peer_queued += 1
        self.queue.put_nowait((True, event))

    # --- effects ----------------------------------------------------------------------------

    def perform(self, effects: list[Effect]) -> None:
        """Perform effects in order. Nothing a peer or client sent can end the node: an error
        while performing one effect is logged and the next goes on — except that a storage
        failure halts the node, and a failed commit or safety write stops every later effect
        (no vote may leave unpersisted, no block may commit out of order)."""
        for effect in effects:
            if self._switch_pending or self.fatal is not None:
                break  # the old epoch's core has nothing more to say, or we halted
            try:
                self._perform_one(effect)
            except StorageError as exc:
                self.halt(exc)
            except Exception as exc:  # contained: logged, never the end of the node
                message = exc.message if isinstance(exc, ConsortiaError) else repr(exc)
                if isinstance(effect, PersistSafety | Commit):
                    self.halt(StorageError(f"{type(effect).__name__} failed: {message}"))
                else:
                    log.error("%s failed and was skipped: %s", type(effect).__name__, message,
                              exc_info=not isinstance(exc, ConsortiaError))

    def _perform_one(self, effect: Effect) -> None:
        if isinstance(effect, PersistSafety):
            self.store.put_meta(self._safety_key(), effect.data.encode())
        elif isinstance(effect, Broadcast):
            if self.transport is not None:
                self.transport.broadcast(effect.msg, self._block_for(effect.msg))
        elif isinstance(effect, SendTo):
            peer = self.peer_for(effect.validator)
            if self.transport is not None and peer is not None:
                self.transport.send(peer, effect.msg, self._block_for(effect.msg))
        elif isinstance(effect, ScheduleTimer):
            self._schedule(effect)
        elif isinstance(effect, BuildBlock):
            if self._build_task is not None and not self._build_task.done():
                self._build_task.cancel()
            self._build_task = asyncio.get_running_loop().create_task(self._build(effect))
        elif isinstance(effect, ValidateBlock):
            self._validate(effect.block)
        elif isinstance(effect, Commit):
            self._commit(effect)
        elif isinstance(effect, EvidenceFound):
            log.warning(
                "validator %d equivocated in round %d: recording the evidence on chain",
                effect.evidence.offender, effect.evidence.round,
            )
            self.evidence.append(encode(effect.evidence))
        elif isinstance(effect, FetchBlock) and self.transport is not None:
            self.transport.fetch(effect.block_id)

    def _block_for(self, msg: Message) -> Block | None:
        block_id = getattr(getattr(msg, "block", None), "id", None)
        return self.blocks.get(block_id) if block_id is not None else None

    def _schedule(self, timer: ScheduleTimer) -> None:
        loop = asyncio.get_running_loop()
        delay = max(0.0, (timer.at_ms - self.clock.now_ms()) / 1000)
        loop.call_later(delay, lambda: self.push(TimerFired(timer.round, self.clock.now_ms())))

    async def _build(self, request: BuildBlock) -> None:
        """Lead a round (errors are contained: the round times out; storage failure halts)."""
        try:
            await self._lead(request)
        except StorageError as exc:
            self.halt(exc)
        except ConsortiaError as exc:
            log.warning("cannot lead round %d: %s", request.round, exc.message)
        except Exception:  # contained: this round times out, the node goes on
            log.exception("cannot lead round %d", request.round)

    def _known_for_s(self, block_id: bytes) -> float:
        """Seconds since this node first knew ``block_id`` (monotonic: immune to clock skew).

        A block known without an arrival time (kept across a restart, or since pruned) counts
        from now on: answering 0 forever would make a leader wait on it forever."""
        now = self.clock.monotonic()
        return now - self._arrival.setdefault(block_id, now)

    def _timestamp_for(self, parent_ms: int, parent_id: bytes) -> int:
        """This node's clock, but never further ahead of the parent's timestamp than the time
        we have known the parent plus a little: a validator whose clock runs fast still
        proposes timestamps the others accept, and one that runs slow still moves time on
        (the chain's clock follows the honest majority's)."""
        bound = parent_ms + int(self._known_for_s(parent_id) * 1000) + CLOCK_CATCH_UP_MS
        return max(parent_ms + 1, min(self.clock.now_ms(), bound))

    async def _lead(self, request: BuildBlock) -> None:
        """Wait for transactions (or the empty-block interval), then build and propose."""
        params = self.chain.params
        interval = params.block_interval_ms / 1000
        empty = params.empty_block_interval_ms / 1000
        if request.parent_id != self.chain.head.block_id:
            self._ensure_executed(request.parent_id)
        parent = self.chain.pending(request.parent_id)
        parent_needs_child = parent is not None and bool(parent.txs)
        parent_ms = parent.header.timestamp_ms if parent is not None else self.chain.head_header.timestamp_ms
        mempool = self.chain.mempool
        while True:
            elapsed = self._known_for_s(request.parent_id)
            waiting = mempool.waiting
            if waiting >= params.max_block_txs or elapsed >= empty:
                break
            if (waiting or parent_needs_child) and elapsed >= interval:
                break
            wait_for = (interval if waiting or parent_needs_child else empty) - elapsed
            self.node.wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.node.wake.wait(), timeout=max(wait_for, 0.001))
        started = self.clock.monotonic()
        switch_at = next_epoch_start(self.store.state_get, self.chain.head.height)
        suffix = switch_at is not None and request.height >= switch_at
        executed = self.chain.build_block(
            request.parent_id,
            request.round,
            self.me,
            self._timestamp_for(parent_ms, request.parent_id),
            request.justify,
            request.timeout_cert,
            self.evidence,
            empty=suffix,
        )
        self.node.metrics.block_seconds.observe(self.clock.monotonic() - started)
        self._keep(executed)
        self.push(BlockBuilt(block_meta(executed.block_id, executed.header), self.clock.now_ms()))

    def _keep(self, executed: ExecutedBlock) -> None:
        self._arrival.setdefault(executed.block_id, self.clock.monotonic())
        self.blocks[executed.block_id] = executed.block
        self.store.put_pending(executed.header.height, executed.block_id, encode(executed.block))

    def receive_block(self, block: Block) -> bytes:
        """A block that arrived with a proposal or a fetch; returns its id."""
        block_id = self.chain.block_id(block.header)
        self.blocks.setdefault(block_id, block)
        self._arrival.setdefault(block_id, self.clock.monotonic())
        return block_id

    def _ensure_executed(self, block_id: bytes) -> ExecutedBlock:
        """Execute a known block, and first any of its ancestors not yet executed here."""
        executed = self.chain.pending(block_id)
        if executed is not None:
            return executed
        chain: list[Block] = []
        cursor = block_id
        while self.chain.pending(cursor) is None and cursor != self.chain.head.block_id:
            block = self.blocks.get(cursor)
            if block is None:
                raise NotFound(f"block 0x{cursor.hex()} is not known to this node")
            if block.header.height <= self.chain.head.height:
                raise InvalidBlock(f"block 0x{cursor.hex()} does not extend the committed chain")
            chain.append(block)
            cursor = block.header.parent_id
        for block in reversed(chain):
            executed = self.chain.validate_block(block)
            self._keep(executed)
        result = self.chain.pending(block_id)
        invariant(result is not None, "executed block is pending")
        return result  # type: ignore[return-value]

    def _validate(self, meta: BlockMeta) -> None:
        block = self.blocks.get(meta.id)
        ok = False
        if block is not None and block.header.timestamp_ms > self.clock.now_ms() + MAX_CLOCK_DRIFT_MS:
            log.warning("refusing block at height %d: its timestamp is in the future", meta.height)
        elif block is not None:
            try:
                self._ensure_executed(meta.id)
                ok = True
            except StorageError:
                raise
            except ConsortiaError as exc:
                log.warning("refusing block %s at height %d: %s", meta.id.hex()[:16], meta.height, exc)
        self.push(BlockValidated(meta.id, ok, self.clock.now_ms()))

    def status(self) -> dict[str, Any]:
        """What this driver can say about consensus, for the API (the core stays private)."""
        core = self.core
        return {
            "epoch": self.epoch.number,
            "validators": len(self.validators),
            "validator": self.me,
            "consensus_round": core.round if core is not None else None,
            "leader": core.leader(core.round) if core is not None else None,
            "peer_events_dropped": self.peer_events_dropped,
            "halted": self.fatal.message if self.fatal is not None else None,
        }

    def verify_certificate(self, header: Header, qc: QuorumCert) -> bytes:
        """Check a fetched block's certificate against the set of its height's epoch (known from
        our committed state, since blocks are applied in height order)."""
        ep = epoch_at(self.store.state_get, header.height, self.genesis)
        return verify_qc_in_epoch(self.chain.suite, header, qc, ep, self.genesis.chain_id)

    def commit_fetched(self, block_id: bytes, qc: QuorumCert) -> None:
        """Commit a block obtained by catch-up (its certificate already verified)."""
        self.chain.commit(block_id, qc)

    def _after_effects(self) -> None:
        if self._switch_pending:
            self._switch_pending = False
            self.restart_core()

    def restart_core(self) -> None:
        """Start the core afresh from the committed head (after catch-up moved it)."""
        self.blocks = {i: b for i, b in self.blocks.items() if b.header.height > self.chain.head.height}
        self.core = self._make_core()
        self.feed(Start(self.clock.now_ms()))

    def _commit(self, commit: Commit) -> None:
        blocks = list(commit.blocks)
        certs = [b.justify for b in blocks[1:]] + [commit.child.justify]
        for meta, qc in zip(blocks, certs, strict=True):
            if meta.height <= self.chain.head.height:
                continue
            # a quorum certified it: failing to execute it here means this node's state or
            # code differs from the quorum's, so the error halts the node (see perform)
            self._ensure_executed(meta.id)
            self.chain.commit(meta.id, qc)
            if epoch_at(self.store.state_get, self.chain.head.height + 1, self.genesis) != self.epoch:
                # the rest of this batch is the old epoch's suffix: every node drops it alike
                log.info("epoch switch after height %d", self.chain.head.height)
                self.chain.abandon_all()
                self.store.clear_pending()
                self.blocks.clear()
                self._switch_pending = True
                # validators still in the old epoch need the certificate that ended it
                self.switch_sync = SyncInfo(high_qc=commit.commit_qc)
                if self.transport is not None:
                    self.transport.broadcast(self.switch_sync, None)
                return
        for block_id in [i for i, b in self.blocks.items() if b.header.height <= self.chain.head.height]:
            del self.blocks[block_id]
        self._arrival = {i: t for i, t in self._arrival.items() if i in self.blocks}
        self._arrival.setdefault(self.chain.head.block_id, self.clock.monotonic())
        if self.evidence:
            with self.store.snapshot() as state:
                self.evidence = self.chain.evidence.unrecorded(state, self.evidence)

"""A validator's conversation with the others: consensus messages, transactions, blocks.

Sits between the transport (bytes from an authenticated peer) and the node: decodes each frame
strictly, checks what the consensus core cannot (that a proposal's block really hashes to the
id it names), feeds the core, answers block requests, spreads admitted transactions so any
leader can include them (each node verifies each signature once, at its own admission), and
catches up a validator that fell behind by fetching committed blocks with their certificates.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Protocol

from consortia.consensus import (
    BlockFetched,
    Message,
    Proposal,
    ProposalReceived,
    event_for_message,
)
from consortia.errors import ConsortiaError, IntegrityError, NotFound, StorageError
from consortia.invariant import invariant
from consortia.ledger.proofs import verify_certified_header
from consortia.limits import (
    CATCH_UP_RESPONSE_BYTES,
    SNAPSHOT_CHUNK_BYTES,
    TX_GOSSIP_BYTES,
    item_bytes,
)
from consortia.node.chain import block_bytes
from consortia.node.consensus_driver import ConsensusDriver, block_meta
from consortia.node.node import Node
from consortia.node.queries import epoch_links
from consortia.node.wire import (
    MAX_BLOCKS_PER_RESPONSE,
    BlockRequest,
    BlockResponse,
    HeightRequest,
    HeightResponse,
    ProposalMsg,
    SnapshotChunk,
    SnapshotRequest,
    SyncMsg,
    TimeoutMsg,
    TxsMsg,
    VoteMsg,
    WireMsg,
    decode_wire,
    encode_wire,
)
from consortia.types.block import Block
from consortia.types.consensus import TimeoutVote, Vote

log = logging.getLogger("consortia.network")

TX_FLUSH_SECONDS = 0.01
TX_FLUSH_COUNT = 2000
CATCH_UP_GAP = 2
CATCH_UP_TIMEOUT_S = 20.0
HELP_INTERVAL_S = 1.0


class FrameTransport(Protocol):
    def send(self, peer: int, payload: bytes) -> None: ...

    def broadcast(self, payload: bytes) -> None: ...

    def connected_peers(self) -> list[int]: ...


def wrap(msg: Message, block: Block | None) -> WireMsg:
    if isinstance(msg, Proposal):
        if block is None:
            raise NotFound("cannot send a proposal without its block")
        return ProposalMsg(msg, block)
    if isinstance(msg, Vote):
        return VoteMsg(msg)
    if isinstance(msg, TimeoutVote):
        return TimeoutMsg(msg)
    return SyncMsg(msg)


class PeerNetwork:
    """Implements the driver's Transport on top of a frame transport."""

    def __init__(self, node: Node, frames: FrameTransport | None = None) -> None:
        self.node = node
        self.chain = node.chain
        self.frames = frames
        self.driver: ConsensusDriver | None = None
        self._wanted: set[bytes] = set()
        self._outbox: list[bytes] = []
        self._outbox_bytes = 0
        self._flush_handle: asyncio.TimerHandle | None = None
        self._catching_up = False
        self._snapshot_parts: dict[int, SnapshotChunk] = {}
        self._catch_up_since = 0.0
        self._helped: dict[int, float] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.received: dict[str, int] = {}
        node.on_admitted.append(self.spread_txs)

    def attach(self, frames: FrameTransport, driver: ConsensusDriver) -> None:
        self.frames = frames
        self.driver = driver

    # --- the driver's Transport ------------------------------------------------------------

    def broadcast(self, msg: Message, block: Block | None) -> None:
        if self.frames is not None:
            self.frames.broadcast(encode_wire(wrap(msg, block)))

    def send(self, validator: int, msg: Message, block: Block | None) -> None:
        if self.frames is not None:
            self.frames.send(validator, encode_wire(wrap(msg, block)))

    def fetch(self, block_id: bytes) -> None:
        self._wanted.add(block_id)
        if self.frames is not None:
            self.frames.broadcast(encode_wire(BlockRequest(block_id)))

    # --- transactions ------------------------------------------------------------------------

    def spread_txs(self, raws: Sequence[bytes]) -> None:
        """Queue newly admitted transactions for the other validators (batched)."""
        if self.frames is None:
            return
        for raw in raws:
            if self._outbox and self._outbox_bytes + len(raw) > TX_GOSSIP_BYTES:
                self._flush()
            self._outbox.append(raw)
            self._outbox_bytes += item_bytes(raw)
        if len(self._outbox) >= TX_FLUSH_COUNT:
            self._flush()
        elif self._outbox and self._flush_handle is None:
            loop = asyncio.get_running_loop()
            self._flush_handle = loop.call_later(TX_FLUSH_SECONDS, self._flush)

    def _flush(self) -> None:
        if self._flush_handle is not None:
            self._flush_handle.cancel()
        self._flush_handle = None
        outbox, self._outbox = self._outbox, []
        self._outbox_bytes = 0
        if outbox and self.frames is not None:
            self.frames.broadcast(encode_wire(TxsMsg(outbox)))

    # --- incoming ----------------------------------------------------------------------------

    def on_frame(self, sender: int, payload: bytes) -> None:
        try:
            msg = decode_wire(payload)
        except ConsortiaError as exc:
            log.warning("dropping a malformed message from validator %d: %s", sender, exc.message)
            return
        kind = type(msg).__name__
        self.received[kind] = self.received.get(kind, 0) + 1
        try:
            self._dispatch(sender, msg)
        except StorageError as exc:
            if self.driver is not None:
                self.driver.halt(exc)
        except ConsortiaError as exc:
            log.warning("message %s from validator %d refused: %s", kind, sender, exc.message)
        except Exception:  # contained: a peer's message never ends the node
            log.exception("message %s from validator %d failed", kind, sender)

    def _dispatch(self, sender: int, msg: WireMsg) -> None:
        driver = self.driver
        if driver is None:
            return
        now = self.node.clock.now_ms()
        if isinstance(msg, ProposalMsg):
            block_id = driver.receive_block(msg.block)
            meta = block_meta(block_id, msg.block.header)
            if block_id != msg.proposal.block.id or meta != msg.proposal.block:
                log.warning("proposal from validator %d names a block it does not carry", sender)
                return
            self._note_height(sender, msg.block.header.justify.height)
            driver.push_peer(ProposalReceived(msg.proposal.block, msg.proposal.signature, now))
        elif isinstance(msg, VoteMsg | TimeoutMsg):
            inner: Message = msg.vote if isinstance(msg, VoteMsg) else msg.timeout
            if isinstance(msg, TimeoutMsg) and msg.timeout.high_qc.height < self.chain.head.height:
                self._help_behind(sender)
            driver.push_peer(event_for_message(inner, sender, now))
        elif isinstance(msg, SyncMsg):
            self._note_height(sender, msg.sync.high_qc.height)
            if msg.sync.high_qc.height < self.chain.head.height:
                self._help_behind(sender)
            validator = driver.validator_for(sender)
            if validator is not None:
                driver.push_peer(event_for_message(msg.sync, validator, now))
        elif isinstance(msg, TxsMsg):
            self._spawn(self.node.submit(msg.txs, from_peer=True))
        elif isinstance(msg, BlockRequest):
            self._answer_block(sender, msg.block_id)
        elif isinstance(msg, BlockResponse):
            block_id = driver.receive_block(msg.block)
            if block_id in self._wanted:
                self._wanted.discard(block_id)
                driver.push_peer(BlockFetched(block_meta(block_id, msg.block.header), now))
        elif isinstance(msg, HeightRequest):
            self._answer_heights(sender, msg)
        elif isinstance(msg, HeightResponse):
            self._catch_up(sender, msg)
        elif isinstance(msg, SnapshotRequest):
            self._answer_snapshot(sender)
        elif isinstance(msg, SnapshotChunk):
            self._receive_snapshot(sender, msg)

    def _help_behind(self, peer: int) -> None:
        """A peer still in an epoch we left: send it the certificate that closed that epoch."""
        sync = self.driver.switch_sync if self.driver is not None else None
        if sync is None or self.frames is None:
            return
        now = self.node.clock.monotonic()
        if now - self._helped.get(peer, 0.0) < HELP_INTERVAL_S:
            return
        self._helped[peer] = now
        self.frames.send(peer, encode_wire(SyncMsg(sync)))

    def _spawn(self, coro: object) -> None:
        task = asyncio.get_running_loop().create_task(coro)  # type: ignore[arg-type]
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        """Collect a spawned task's outcome: a storage failure halts the node (if it has not
        already), anything else is logged — never an unobserved exception."""
        self._tasks.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is None:
            return
        if isinstance(exc, StorageError):
            if self.driver is not None:
                self.driver.halt(exc)
        elif isinstance(exc, ConsortiaError):
            log.warning("passing on transactions failed: %s", exc.message)
        else:
            log.error("passing on transactions failed", exc_info=exc)

    def _answer_block(self, sender: int, block_id: bytes) -> None:
        invariant(self.driver is not None and self.frames is not None, "network not attached")
        block = self.driver.blocks.get(block_id)
        if block is None:
            try:
                block = self.chain.store.block(self.chain.store.height_of_block(block_id)).block
            except NotFound:
                return
        self.frames.send(sender, encode_wire(BlockResponse(block)))

    def _answer_heights(self, sender: int, request: HeightRequest) -> None:
        invariant(self.frames is not None, "network not attached")
        head = self.chain.head.height
        last = min(head, request.from_height + min(request.limit, MAX_BLOCKS_PER_RESPONSE) - 1)
        blocks = []
        size = 0
        for height in range(request.from_height, last + 1):
            try:
                committed = self.chain.store.block(height)
            except NotFound:  # a gap below our own snapshot: we never had those blocks
                break
            size += block_bytes(committed.block)
            if blocks and size > CATCH_UP_RESPONSE_BYTES:
                break  # the rest in the next answer: every answer fits one frame
            blocks.append(committed)
        self.frames.send(sender, encode_wire(HeightResponse(blocks, head)))

    # --- state snapshots -----------------------------------------------------------------------

    def _answer_snapshot(self, sender: int) -> None:
        """Send our whole committed state at our head, in chunks that fit a frame."""
        invariant(self.frames is not None, "network not attached")
        items, head = self.chain.store.state_items()
        if head is None:
            return
        committed = self.chain.store.block(head.height)
        # the first chunk carries the certified block and the epoch links alone (a block may
        # take most of a frame); the state entries follow in chunks of SNAPSHOT_CHUNK_BYTES
        chunks: list[list[tuple[bytes, bytes]]] = [[], []]
        size = 0
        for key, value in items:
            if size + len(key) + len(value) > SNAPSHOT_CHUNK_BYTES and chunks[-1]:
                chunks.append([])
                size = 0
            chunks[-1].append((key, value))
            size += len(key) + len(value) + 8
        links = epoch_links(self.chain, head.height)
        for index, chunk in enumerate(chunks):
            first = index == 0
            msg = SnapshotChunk(
                head.block_id, index, len(chunks), committed if first else None, chunk,
                links if first else [],
            )
            self.frames.send(sender, encode_wire(msg))
        log.info("sent a snapshot at height %d (%d entries) to validator %d", head.height, len(items), sender)

    def _request_snapshot(self, peer: int) -> None:
        invariant(self.frames is not None, "network not attached")
        self._catching_up = True
        self._snapshot_parts = {}
        self.frames.send(peer, encode_wire(SnapshotRequest()))

    def _receive_snapshot(self, sender: int, chunk: SnapshotChunk) -> None:
        invariant(self.driver is not None, "network not attached")
        parts = self._snapshot_parts
        if parts and next(iter(parts.values())).snapshot_id != chunk.snapshot_id:
            parts.clear()  # a different snapshot: start over with this one
        parts[chunk.index] = chunk
        if len(parts) < chunk.total:
            return
        first = parts.get(0)
        self._snapshot_parts = {}
        self._catching_up = False
        if first is None or first.block is None or len(parts) != chunk.total:
            log.warning("incomplete snapshot from validator %d", sender)
            return
        committed = first.block
        items = [kv for i in range(chunk.total) for kv in parts[i].items]
        try:
            block_id = verify_certified_header(
                committed.block.header, committed.qc, self.node.genesis, first.epochs
            )
            if block_id != chunk.snapshot_id:
                raise IntegrityError("the snapshot names another block than the one it carries")
            self.chain.install_snapshot(committed, items)
        except ConsortiaError as exc:
            log.warning("snapshot from validator %d refused: %s", sender, exc.message)
            return
        log.info("installed a snapshot at height %d (%d entries) from validator %d",
                 committed.block.header.height, len(items), sender)
        self.node.reload_pool()
        self.driver.restart_core()

    # --- catch-up ------------------------------------------------------------------------------

    def _note_height(self, sender: int, certified_height: int) -> None:
        """A peer knows a certified block well above our head: catch up.

        Far behind (more than the chain's ``snapshot_gap``): install a state snapshot first;
        otherwise fetch and re-execute the committed blocks.
        """
        gap = certified_height - self.chain.head.height
        if self._catching_up and self.node.clock.monotonic() - self._catch_up_since > CATCH_UP_TIMEOUT_S:
            self._catching_up = False  # the peer never answered in full: ask again
        if gap <= CATCH_UP_GAP or self._catching_up:
            return
        self._catch_up_since = self.node.clock.monotonic()
        log.info("validator %d has certified height %d, %d above ours", sender, certified_height, gap)
        if gap > self.chain.params.snapshot_gap:
            self._request_snapshot(sender)
        else:
            self._request_heights(sender)

    def _request_heights(self, peer: int) -> None:
        invariant(self.frames is not None, "network not attached")
        self._catching_up = True
        request = HeightRequest(self.chain.head.height + 1, MAX_BLOCKS_PER_RESPONSE)
        self.frames.send(peer, encode_wire(request))

    def _catch_up(self, sender: int, response: HeightResponse) -> None:
        """Verify each block's certificate and re-execute it before committing it."""
        invariant(self.driver is not None, "network not attached")
        if response.head_height - self.chain.head.height > self.chain.params.snapshot_gap:
            self._request_snapshot(sender)  # further behind than replaying is worth
            return
        applied = 0
        for committed in response.blocks:
            header = committed.block.header
            if header.height != self.chain.head.height + 1:
                continue
            try:
                block_id = self.driver.verify_certificate(header, committed.qc)
                executed = self.chain.validate_block(committed.block)
                if executed.block_id != block_id:
                    raise IntegrityError("re-executed block differs from the certified one")
                self.driver.commit_fetched(block_id, committed.qc)
            except ConsortiaError as exc:
                log.warning(
                    "catch-up block %d from validator %d refused: %s", header.height, sender, exc.message
                )
                break
            applied += 1
        if applied and response.head_height > self.chain.head.height:
            self._request_heights(sender)
            return
        self._catching_up = False
        if applied:
            log.info("caught up to height %d from validator %d", self.chain.head.height, sender)
            self.driver.restart_core()

"""A validator's conversation with the others: a thin router over parts with one job each.

Decodes each frame strictly (``node/wire.py``) and hands the message to the part that owns its
type (``node/net/``): consensus messages to ``ConsensusRelay``, transactions to ``TxGossip``,
blocks by id and catch-up by height to ``BlockSync``, snapshots to ``StateSync``. Implements the
driver's ``Transport``. Contains every error: a peer's message never ends the node; our own
storage failing halts it (``driver.halt``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from consortia.consensus import Message
from consortia.errors import ConsortiaError, StorageError
from consortia.node.consensus_driver import ConsensusDriver
from consortia.node.net.block_sync import BlockSync
from consortia.node.net.consensus_relay import ConsensusRelay, wrap
from consortia.node.net.links import FrameTransport, Links
from consortia.node.net.state_sync import StateSync
from consortia.node.net.tx_gossip import TxGossip
from consortia.node.node import Node
from consortia.node.wire import (
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
    decode_wire,
)
from consortia.types.block import Block

__all__ = ["FrameTransport", "PeerNetwork", "wrap"]

log = logging.getLogger("consortia.network")

Handler = Callable[[int, Any], None]


class PeerNetwork:
    """Implements the driver's Transport on top of a frame transport."""

    def __init__(self, node: Node, frames: FrameTransport | None = None) -> None:
        self.node = node
        self.chain = node.chain
        self.links = Links(node, frames)
        self.tx_gossip = TxGossip(self.links)
        self.state_sync = StateSync(self.links)
        self.block_sync = BlockSync(self.links, self.state_sync)
        self.relay = ConsensusRelay(self.links, self.block_sync.note_height)
        self.routes: dict[type, Handler] = {
            ProposalMsg: self.relay.on_proposal,
            VoteMsg: self.relay.on_vote,
            TimeoutMsg: self.relay.on_vote,
            SyncMsg: self.relay.on_sync,
            TxsMsg: self.tx_gossip.on_txs,
            BlockRequest: self.block_sync.on_block_request,
            BlockResponse: self.block_sync.on_block_response,
            HeightRequest: self.block_sync.on_height_request,
            HeightResponse: self.block_sync.on_height_response,
            SnapshotRequest: self.state_sync.on_request,
            SnapshotChunk: self.state_sync.on_chunk,
        }
        """Which part handles which message type."""
        self.received: dict[str, int] = {}
        node.on_admitted.append(self.tx_gossip.spread)

    @property
    def frames(self) -> FrameTransport | None:
        return self.links.frames

    @frames.setter
    def frames(self, frames: FrameTransport | None) -> None:
        self.links.frames = frames

    @property
    def driver(self) -> ConsensusDriver | None:
        return self.links.driver

    @driver.setter
    def driver(self, driver: ConsensusDriver | None) -> None:
        self.links.driver = driver

    @property
    def _tasks(self) -> set[asyncio.Task[Any]]:
        """Spawned work still running (the simulator cancels it when it kills a node)."""
        return self.tx_gossip.tasks

    def attach(self, frames: FrameTransport, driver: ConsensusDriver) -> None:
        self.links.frames = frames
        self.links.driver = driver

    # --- the driver's Transport ------------------------------------------------------------

    def broadcast(self, msg: Message, block: Block | None) -> None:
        self.relay.broadcast(msg, block)

    def send(self, validator: int, msg: Message, block: Block | None) -> None:
        self.relay.send(validator, msg, block)

    def fetch(self, block_id: bytes) -> None:
        self.block_sync.fetch(block_id)

    # --- incoming ----------------------------------------------------------------------------

    def on_frame(self, sender: int, payload: bytes) -> None:
        try:
            msg = decode_wire(payload)
        except ConsortiaError as exc:
            log.warning("dropping a malformed message from validator %d: %s", sender, exc.message)
            return
        kind = type(msg).__name__
        self.received[kind] = self.received.get(kind, 0) + 1
        if self.links.driver is None:
            return
        try:
            self.routes[type(msg)](sender, msg)
        except StorageError as exc:
            if self.links.driver is not None:
                self.links.driver.halt(exc)
        except ConsortiaError as exc:
            log.warning("message %s from validator %d refused: %s", kind, sender, exc.message)
        except Exception:  # contained: a peer's message never ends the node
            log.exception("message %s from validator %d failed", kind, sender)

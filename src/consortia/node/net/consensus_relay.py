"""Consensus messages between validators, both ways.

Out: the driver's proposals (with their blocks), votes, timeouts and sync info. In: the same
from peers, to the driver's bounded peer queue — after checking what the consensus core cannot,
that a proposal's block really hashes to the id it names. A peer still in an epoch we left is
sent the certificate that closed it; the certified heights peers show are reported (for
catch-up).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from consortia.consensus import Message, Proposal, ProposalReceived, event_for_message
from consortia.errors import NotFound
from consortia.node.consensus_driver import block_meta
from consortia.node.net.links import Links
from consortia.node.wire import ProposalMsg, SyncMsg, TimeoutMsg, VoteMsg, WireMsg
from consortia.types.block import Block
from consortia.types.consensus import TimeoutVote, Vote

log = logging.getLogger("consortia.network")

HELP_INTERVAL_S = 1.0

HeightSeen = Callable[[int, int], None]
"""``(peer, certified_height)``: a peer showed a certificate for that height."""


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


class ConsensusRelay:
    def __init__(self, links: Links, height_seen: HeightSeen) -> None:
        self.links = links
        self._height_seen = height_seen
        self._helped: dict[int, float] = {}

    # --- out (the driver's Transport) --------------------------------------------------------

    def broadcast(self, msg: Message, block: Block | None) -> None:
        self.links.broadcast(wrap(msg, block))

    def send(self, validator: int, msg: Message, block: Block | None) -> None:
        self.links.send(validator, wrap(msg, block))

    # --- in ----------------------------------------------------------------------------------

    def on_proposal(self, sender: int, msg: ProposalMsg) -> None:
        driver = self.links.attached_driver()
        now = self.links.node.clock.now_ms()
        block_id = driver.receive_block(msg.block)
        meta = block_meta(block_id, msg.block.header)
        if block_id != msg.proposal.block.id or meta != msg.proposal.block:
            log.warning("proposal from validator %d names a block it does not carry", sender)
            return
        self._height_seen(sender, msg.block.header.justify.height)
        driver.push_peer(ProposalReceived(msg.proposal.block, msg.proposal.signature, now))

    def on_vote(self, sender: int, msg: VoteMsg | TimeoutMsg) -> None:
        driver = self.links.attached_driver()
        now = self.links.node.clock.now_ms()
        inner: Message = msg.vote if isinstance(msg, VoteMsg) else msg.timeout
        if isinstance(msg, TimeoutMsg) and msg.timeout.high_qc.height < self.links.chain.head.height:
            self._help_behind(sender)
        driver.push_peer(event_for_message(inner, sender, now))

    def on_sync(self, sender: int, msg: SyncMsg) -> None:
        driver = self.links.attached_driver()
        now = self.links.node.clock.now_ms()
        self._height_seen(sender, msg.sync.high_qc.height)
        if msg.sync.high_qc.height < self.links.chain.head.height:
            self._help_behind(sender)
        validator = driver.validator_for(sender)
        if validator is not None:
            driver.push_peer(event_for_message(msg.sync, validator, now))

    def _help_behind(self, peer: int) -> None:
        """A peer still in an epoch we left: send it the certificate that closed that epoch."""
        driver = self.links.driver
        sync = driver.switch_sync if driver is not None else None
        if sync is None or self.links.frames is None:
            return
        now = self.links.node.clock.monotonic()
        if now - self._helped.get(peer, 0.0) < HELP_INTERVAL_S:
            return
        self._helped[peer] = now
        self.links.send(peer, SyncMsg(sync))

"""Inputs of the consensus core. Every event carries the node's current time, ``now_ms``.

The core never reads a clock: the time a node hands in is the only time it knows. The node turns
each received network message into an event with :func:`event_for_message`.
"""

from __future__ import annotations

from dataclasses import dataclass

from consortia.consensus.block_meta import BlockMeta
from consortia.consensus.messages import Message, Proposal, SyncInfo
from consortia.types.consensus import TimeoutVote, Vote


@dataclass(frozen=True, slots=True)
class Start:
    """Begin (or resume after a restart): enter the round the known certificates allow."""

    now_ms: int


@dataclass(frozen=True, slots=True)
class TimerFired:
    """A timer asked for with :class:`~consortia.consensus.effects.ScheduleTimer` went off."""

    round: int
    now_ms: int


@dataclass(frozen=True, slots=True)
class ProposalReceived:
    """A proposal from the network; it is signed by ``block.proposer`` over ``proposal_bytes``."""

    block: BlockMeta
    signature: bytes
    now_ms: int


@dataclass(frozen=True, slots=True)
class BlockValidated:
    """The node's verdict on a :class:`~consortia.consensus.effects.ValidateBlock` request."""

    block_id: bytes
    ok: bool
    now_ms: int


@dataclass(frozen=True, slots=True)
class BlockBuilt:
    """The node's answer to a :class:`~consortia.consensus.effects.BuildBlock` request."""

    block: BlockMeta
    now_ms: int


@dataclass(frozen=True, slots=True)
class VoteReceived:
    vote: Vote
    now_ms: int


@dataclass(frozen=True, slots=True)
class TimeoutReceived:
    timeout: TimeoutVote
    now_ms: int


@dataclass(frozen=True, slots=True)
class SyncReceived:
    """A peer's highest certificates; ``sender`` is the transport-authenticated peer index."""

    sync: SyncInfo
    sender: int
    now_ms: int


@dataclass(frozen=True, slots=True)
class BlockFetched:
    """A block the core asked for with :class:`~consortia.consensus.effects.FetchBlock`.

    The node must have checked that ``block.id`` is the hash of the header it fetched.
    """

    block: BlockMeta
    now_ms: int


Event = (
    Start
    | TimerFired
    | ProposalReceived
    | BlockValidated
    | BlockBuilt
    | VoteReceived
    | TimeoutReceived
    | SyncReceived
    | BlockFetched
)


def event_for_message(msg: Message, sender: int, now_ms: int) -> Event:
    """The event a node feeds to its core when ``msg`` arrives from validator ``sender``."""
    if isinstance(msg, Proposal):
        return ProposalReceived(block=msg.block, signature=msg.signature, now_ms=now_ms)
    if isinstance(msg, Vote):
        return VoteReceived(vote=msg, now_ms=now_ms)
    if isinstance(msg, TimeoutVote):
        return TimeoutReceived(timeout=msg, now_ms=now_ms)
    return SyncReceived(sync=msg, sender=sender, now_ms=now_ms)

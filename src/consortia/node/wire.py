"""What validators send each other: one tagged, canonically encoded envelope per frame.

The transport authenticates the sender (mutual TLS: the peer's validator index comes from its
certificate) and bounds the frame size; this module bounds everything else and rejects any
non-canonical bytes.
"""

from __future__ import annotations

import msgspec

from consortia.codec import decode_any, encode
from consortia.consensus import Proposal, SyncInfo
from consortia.errors import DecodeError
from consortia.ledger.proofs import EpochLink
from consortia.limits import (
    MAX_BLOCKS_PER_RESPONSE,
    MAX_SNAPSHOT_CHUNKS,
    MAX_TXS_PER_MESSAGE,
)
from consortia.types.block import Block, CommittedBlock
from consortia.types.consensus import TimeoutVote, Vote


class ProposalMsg(msgspec.Struct, array_like=True, frozen=True, tag="proposal"):
    """A leader's signed proposal with the full block it names."""

    proposal: Proposal
    block: Block


class VoteMsg(msgspec.Struct, array_like=True, frozen=True, tag="vote"):
    vote: Vote


class TimeoutMsg(msgspec.Struct, array_like=True, frozen=True, tag="timeout"):
    timeout: TimeoutVote


class SyncMsg(msgspec.Struct, array_like=True, frozen=True, tag="sync"):
    sync: SyncInfo


class TxsMsg(msgspec.Struct, array_like=True, frozen=True, tag="txs"):
    """Transactions a node admitted, passed on so that any leader can include them."""

    txs: list[bytes]


class BlockRequest(msgspec.Struct, array_like=True, frozen=True, tag="get_block"):
    """Asks for a block (pending or committed) by id, for the consensus core."""

    block_id: bytes


class BlockResponse(msgspec.Struct, array_like=True, frozen=True, tag="block"):
    block: Block


class HeightRequest(msgspec.Struct, array_like=True, frozen=True, tag="get_committed"):
    """Asks for committed blocks from ``from_height`` on, for catch-up."""

    from_height: int
    limit: int


class HeightResponse(msgspec.Struct, array_like=True, frozen=True, tag="committed"):
    """Committed blocks with their certificates, and the responder's head height."""

    blocks: list[CommittedBlock]
    head_height: int


class SnapshotRequest(msgspec.Struct, array_like=True, frozen=True, tag="get_snapshot"):
    """Asks for the responder's whole committed state at its head."""


class SnapshotChunk(msgspec.Struct, array_like=True, frozen=True, tag="snapshot"):
    """Part ``index`` of ``total`` of a state snapshot at the block ``snapshot_id``.

    Chunk 0 carries the certified block the state belongs to.
    """

    snapshot_id: bytes
    index: int
    total: int
    block: CommittedBlock | None
    items: list[tuple[bytes, bytes]]
    epochs: list[EpochLink] = msgspec.field(default_factory=list)
    """With chunk 0: the validator-set changes leading to the set that certified ``block``."""


WireMsg = (
    ProposalMsg
    | VoteMsg
    | TimeoutMsg
    | SyncMsg
    | TxsMsg
    | BlockRequest
    | BlockResponse
    | HeightRequest
    | HeightResponse
    | SnapshotRequest
    | SnapshotChunk
)


def encode_wire(msg: WireMsg) -> bytes:
    return encode(msg)


def decode_wire(data: bytes) -> WireMsg:
    """Decode one frame; raises DecodeError for anything malformed, oversized or unknown."""
    msg: WireMsg = decode_any(data, WireMsg)
    if isinstance(msg, TxsMsg) and len(msg.txs) > MAX_TXS_PER_MESSAGE:
        raise DecodeError(f"too many transactions in one message ({len(msg.txs)})")
    if isinstance(msg, HeightResponse) and len(msg.blocks) > MAX_BLOCKS_PER_RESPONSE:
        raise DecodeError(f"too many blocks in one response ({len(msg.blocks)})")
    if isinstance(msg, HeightRequest) and not 0 < msg.limit <= MAX_BLOCKS_PER_RESPONSE:
        raise DecodeError(f"block request limit must be 1..{MAX_BLOCKS_PER_RESPONSE}")
    if isinstance(msg, SnapshotChunk) and not 0 <= msg.index < msg.total <= MAX_SNAPSHOT_CHUNKS:
        raise DecodeError("snapshot chunk index out of range")
    return msg

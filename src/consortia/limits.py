"""Every size limit that crosses the wire, derived from one place.

A validator sends each message in one p2p frame. A block travels inside a proposal (with the
proposal's signature, the block's header, its quorum and timeout certificates) and inside
catch-up answers, so the largest block a chain may allow is the frame minus a fixed headroom
for that envelope. Chain parameters (``ChainParams.max_block_bytes``, ``max_tx_bytes``) are
checked against these constants at genesis and on every governance change, so no proposal,
catch-up answer, transaction gossip or snapshot chunk can outgrow a frame.
"""

from __future__ import annotations

FRAME_BYTES = 8 * 2**20
"""The largest p2p frame body a node sends or accepts (the transport's ``max_frame``)."""

ENVELOPE_HEADROOM_BYTES = 1 * 2**20
"""Room in a frame for everything around a block's transactions and evidence: the message tag,
the proposal, the header with its quorum and timeout certificates (a timeout certificate holds
one signed high QC per signer: about n² × 70 bytes, 700 KB at n = 100)."""

MAX_BLOCK_BYTES_CEILING = FRAME_BYTES - ENVELOPE_HEADROOM_BYTES
"""The highest value ``max_block_bytes`` may take."""

DEFAULT_MAX_BLOCK_BYTES = 4 * 2**20
"""Transaction and evidence bytes in one block, by default."""

TX_GOSSIP_BYTES = 2 * 2**20
"""Admitted transactions passed on to the other validators are sent in messages of at most
this many transaction bytes (one transaction larger than that goes alone)."""

CATCH_UP_RESPONSE_BYTES = MAX_BLOCK_BYTES_CEILING
"""Committed blocks in one catch-up answer; always at least one block (a block fits a frame)."""

SNAPSHOT_CHUNK_BYTES = 4 * 2**20
"""State entries in one snapshot chunk."""

MAX_TXS_PER_MESSAGE = 10_000
"""Transactions in one gossip message (a batch from a peer over it is refused whole)."""

MAX_BLOCKS_PER_RESPONSE = 64
"""Committed blocks one catch-up answer may hold (and bytes bound it first)."""

MAX_SNAPSHOT_CHUNKS = 100_000
MAX_SNAPSHOT_BYTES = 4 * 2**30
"""Chunks and state bytes a validator holds for one snapshot it is receiving."""

PER_ITEM_OVERHEAD_BYTES = 16
"""What MessagePack adds around one byte string in a list (length prefix), rounded up."""


def item_bytes(payload: bytes) -> int:
    """What one transaction or evidence item counts against a block's ``max_block_bytes``."""
    return len(payload) + PER_ITEM_OVERHEAD_BYTES

"""The consensus core's view of a block: only what ordering needs, never the transactions.

The node's real block header carries every field of :class:`BlockMeta`; ``id`` is the hash of
that header, computed and checked by the node (the core never hashes anything). The core trusts
that ``id`` binds all the other fields.
"""

from __future__ import annotations

import msgspec

from consortia.types.consensus import QuorumCert, TimeoutCert


class BlockMeta(msgspec.Struct, array_like=True, frozen=True):
    """One proposed block as consensus sees it.

    ``justify`` certifies the parent (``justify.block_id == parent_id``); ``timeout_cert`` is
    present exactly when the proposer entered ``round`` through a timeout certificate for
    ``round - 1`` rather than through a QC for it.
    """

    id: bytes
    round: int
    height: int
    parent_id: bytes
    justify: QuorumCert
    proposer: int
    timeout_cert: TimeoutCert | None = None


def genesis_qc(genesis_id: bytes) -> QuorumCert:
    """The certificate of the genesis block: round 0, height 0, no signatures."""
    return QuorumCert(block_id=genesis_id, round=0, height=0, signers=[], signatures=[])


def genesis_block(genesis_id: bytes) -> BlockMeta:
    """The genesis block as consensus sees it; ``genesis_id`` is the hash of the genesis header."""
    return BlockMeta(
        id=genesis_id,
        round=0,
        height=0,
        parent_id=b"",
        justify=genesis_qc(genesis_id),
        proposer=0,
        timeout_cert=None,
    )

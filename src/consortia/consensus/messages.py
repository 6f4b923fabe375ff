"""Network messages of the consensus core that are not in :mod:`consortia.types.consensus`."""

from __future__ import annotations

import msgspec

from consortia.codec import encode
from consortia.consensus.block_meta import BlockMeta
from consortia.types.consensus import QuorumCert, TimeoutCert, TimeoutVote, Vote


class Proposal(msgspec.Struct, array_like=True, frozen=True):
    """A leader's block for its round, signed over :func:`proposal_bytes` by ``block.proposer``."""

    block: BlockMeta
    signature: bytes


class SyncInfo(msgspec.Struct, array_like=True, frozen=True):
    """The highest certificates a node knows; lets a lagging peer advance its round.

    Unsigned as a whole: each certificate carries its own signatures.
    """

    high_qc: QuorumCert
    high_tc: TimeoutCert | None = None


Message = Proposal | Vote | TimeoutVote | SyncInfo
"""Everything a core asks the node to send (inside :class:`Broadcast` / :class:`SendTo`)."""


def proposal_bytes(chain_id: str, block_id: bytes, round_: int, height: int, proposer: int) -> bytes:
    """The exact bytes a leader signs when it proposes ``block_id`` in ``round_``."""
    return encode(["consortia/proposal/v1", chain_id, block_id, round_, height, proposer])

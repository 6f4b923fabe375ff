"""Proof that a validator signed two conflicting messages; anyone can check it offline."""

from __future__ import annotations

from collections.abc import Callable

import msgspec

from consortia.consensus.messages import proposal_bytes
from consortia.types.consensus import Vote, vote_bytes

Verify = Callable[[int, bytes, bytes], bool]


class SignedProposal(msgspec.Struct, array_like=True, frozen=True):
    """The signed statement inside a proposal: enough to check the signature without the header."""

    block_id: bytes
    round: int
    height: int
    proposer: int
    signature: bytes


class ProposalEquivocation(msgspec.Struct, array_like=True, frozen=True, tag="proposal"):
    """One proposer signed two different blocks for the same round."""

    first: SignedProposal
    second: SignedProposal

    @property
    def offender(self) -> int:
        return self.first.proposer

    @property
    def round(self) -> int:
        return self.first.round


class VoteEquivocation(msgspec.Struct, array_like=True, frozen=True, tag="vote"):
    """One validator voted for two different blocks in the same round."""

    first: Vote
    second: Vote

    @property
    def offender(self) -> int:
        return self.first.voter

    @property
    def round(self) -> int:
        return self.first.round


Evidence = ProposalEquivocation | VoteEquivocation


def verify_evidence(evidence: Evidence, chain_id: str, verify: Verify) -> bool:
    """True when ``evidence`` proves a double signature on ``chain_id``."""
    if isinstance(evidence, ProposalEquivocation):
        a, b = evidence.first, evidence.second
        if a.proposer != b.proposer or a.round != b.round or a.block_id == b.block_id:
            return False
        return all(
            verify(p.proposer, proposal_bytes(chain_id, p.block_id, p.round, p.height, p.proposer),
                   p.signature)
            for p in (a, b)
        )
    va, vb = evidence.first, evidence.second
    if va.voter != vb.voter or va.round != vb.round:
        return False
    if (va.block_id, va.height) == (vb.block_id, vb.height):
        return False
    return all(
        verify(v.voter, vote_bytes(chain_id, v.block_id, v.round, v.height), v.signature)
        for v in (va, vb)
    )

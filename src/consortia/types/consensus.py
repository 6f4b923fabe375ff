"""Consensus messages and certificates: plain data, canonically encoded.

Validators are identified by their index in the validator set fixed at genesis (and later by
governance at a defined height). Every signature covers the chain id through :func:`vote_bytes`
and :func:`timeout_bytes`, so a vote from one chain can never be replayed on another.
"""

from __future__ import annotations

import msgspec

from consortia.codec import encode


class QuorumCert(msgspec.Struct, array_like=True, frozen=True):
    """2f+1 votes for one block: ``signers`` ascending, ``signatures[i]`` by ``signers[i]``.

    The genesis certificate has round 0, height 0 and no signatures.
    """

    block_id: bytes
    round: int
    height: int
    signers: list[int]
    signatures: list[bytes]


class Vote(msgspec.Struct, array_like=True, frozen=True):
    block_id: bytes
    round: int
    height: int
    voter: int
    signature: bytes


class TimeoutVote(msgspec.Struct, array_like=True, frozen=True):
    """A validator gives up on ``round``; it carries the highest QC it knows."""

    round: int
    high_qc: QuorumCert
    voter: int
    signature: bytes


class TimeoutCert(msgspec.Struct, array_like=True, frozen=True):
    """2f+1 timeout votes for ``round``; ``high_qc_rounds[i]`` is what ``signers[i]`` signed."""

    round: int
    high_qc: QuorumCert
    signers: list[int]
    high_qc_rounds: list[int]
    signatures: list[bytes]


def vote_bytes(chain_id: str, block_id: bytes, round_: int, height: int) -> bytes:
    """The exact bytes a validator signs when it votes for a block."""
    return encode(["consortia/vote/v1", chain_id, block_id, round_, height])


def timeout_bytes(chain_id: str, round_: int, high_qc_round: int) -> bytes:
    """The exact bytes a validator signs when it times out of a round."""
    return encode(["consortia/timeout/v1", chain_id, round_, high_qc_round])

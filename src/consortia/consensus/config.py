"""Static configuration of one consensus core: validator count, chain id, timeouts."""

from __future__ import annotations

from dataclasses import dataclass

from consortia.invariant import invariant
from consortia.types import validators as validator_set


@dataclass(frozen=True, slots=True)
class CoreConfig:
    """Everything a core needs to know that is the same for every validator of the chain.

    Validators are numbered ``0 .. validators-1`` with equal weights. ``base_timeout_ms`` is the
    round timeout after progress; each consecutive round without a QC doubles it, up to
    ``max_timeout_ms``.
    """

    chain_id: str
    validators: int
    genesis_id: bytes
    base_timeout_ms: int = 1000
    max_timeout_ms: int = 60_000
    sync_cooldown_ms: int = 100
    max_future_rounds: int = 64
    max_orphan_blocks: int = 256

    def __post_init__(self) -> None:
        invariant(self.validators >= 1, "at least one validator")
        invariant(0 < self.base_timeout_ms <= self.max_timeout_ms, "0 < base <= max timeout")
        invariant(self.max_future_rounds >= 1, "max_future_rounds >= 1")

    @property
    def max_faulty(self) -> int:
        """f: the Byzantine validators tolerated (:func:`consortia.types.validators.max_faulty`)."""
        return validator_set.max_faulty(self.validators)

    @property
    def quorum(self) -> int:
        """Votes for a QC or TC (:func:`consortia.types.validators.quorum_size`, the one
        definition, also used by offline proof verification)."""
        return validator_set.quorum_size(self.validators)

    def leader(self, round_: int) -> int:
        """Round-robin over the validator indices: the base schedule only. The leader a core
        follows is ``ConsensusCore.leader`` (reputation from committed history, which equals
        this while every validator is active; see :mod:`consortia.consensus.leader_election`)."""
        return round_ % self.validators

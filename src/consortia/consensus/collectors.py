"""Gathering votes into QCs and timeout votes into TCs, and spotting double votes.

Callers check signatures first; collectors only count distinct validators. Both are keyed by
round in insertion-ordered dicts and pruned as rounds pass, so memory stays bounded.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from consortia.consensus.evidence import VoteEquivocation
from consortia.types.consensus import QuorumCert, TimeoutCert, TimeoutVote, Vote


@dataclass(slots=True)
class _RoundVotes:
    by_voter: dict[int, Vote] = field(default_factory=dict)
    tallies: dict[tuple[bytes, int], dict[int, bytes]] = field(default_factory=dict)
    certified: bool = False


@dataclass(frozen=True, slots=True)
class VoteOutcome:
    qc: QuorumCert | None = None
    evidence: VoteEquivocation | None = None


class VoteCollector:
    """Votes for rounds this node leads next; forms one QC per round at ``quorum`` votes."""

    def __init__(self, quorum: int) -> None:
        self.quorum = quorum
        self._rounds: dict[int, _RoundVotes] = {}

    def add(self, vote: Vote) -> VoteOutcome:
        votes = self._rounds.setdefault(vote.round, _RoundVotes())
        earlier = votes.by_voter.get(vote.voter)
        if earlier is not None:
            if (earlier.block_id, earlier.height) == (vote.block_id, vote.height):
                return VoteOutcome()
            return VoteOutcome(evidence=VoteEquivocation(first=earlier, second=vote))
        votes.by_voter[vote.voter] = vote
        tally = votes.tallies.setdefault((vote.block_id, vote.height), {})
        tally[vote.voter] = vote.signature
        if votes.certified or len(tally) < self.quorum:
            return VoteOutcome()
        votes.certified = True
        signers = sorted(tally)
        qc = QuorumCert(
            block_id=vote.block_id,
            round=vote.round,
            height=vote.height,
            signers=signers,
            signatures=[tally[s] for s in signers],
        )
        return VoteOutcome(qc=qc)

    def prune_up_to(self, round_: int) -> None:
        """Forget rounds ``<= round_`` (a QC at least that high is already known)."""
        for r in [r for r in self._rounds if r <= round_]:
            del self._rounds[r]


class TimeoutCollector:
    """Timeout votes per round; forms one TC per round at ``quorum`` distinct validators."""

    def __init__(self, quorum: int) -> None:
        self.quorum = quorum
        self._rounds: dict[int, dict[int, TimeoutVote]] = {}
        self._certified: dict[int, None] = {}

    def add(self, timeout: TimeoutVote) -> TimeoutCert | None:
        votes = self._rounds.setdefault(timeout.round, {})
        earlier = votes.get(timeout.voter)
        if earlier is not None and earlier.high_qc.round >= timeout.high_qc.round:
            return None
        votes[timeout.voter] = timeout
        if timeout.round in self._certified or len(votes) < self.quorum:
            return None
        self._certified[timeout.round] = None
        signers = sorted(votes)
        chosen = [votes[s] for s in signers]
        best = max(chosen, key=lambda t: t.high_qc.round)
        return TimeoutCert(
            round=timeout.round,
            high_qc=best.high_qc,
            signers=signers,
            high_qc_rounds=[t.high_qc.round for t in chosen],
            signatures=[t.signature for t in chosen],
        )

    def count(self, round_: int) -> int:
        return len(self._rounds.get(round_, {}))

    def prune_below(self, round_: int) -> None:
        for r in [r for r in self._rounds if r < round_]:
            del self._rounds[r]
        for r in [r for r in self._certified if r < round_]:
            del self._certified[r]

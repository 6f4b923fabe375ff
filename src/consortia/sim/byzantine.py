"""Byzantine behaviours for the simulator, built from the real core.

* Twins (set up by the simulator): two honest cores share one validator key and sit in
  different partitions, so they propose, vote and time out twice per round without any
  special code.
* :class:`ForkingLeaderCore`: a withholding, forking leader. As leader of round ``q + 1`` it
  forms the QC for block ``A'`` (round ``q``, child of ``A``) and keeps it to itself, so round
  ``q`` times out. With the timeout certificate for ``q`` it then proposes ``C``, a sibling of
  ``A`` extending the QC of round ``q - 2`` although the TC shows a QC of round ``q - 1``: the
  lock check of the voting rule must refuse it. It votes for ``C`` itself, and once ``C`` is
  certified it hands the withheld QC to one other validator, which then commits ``A``. Honest
  cores never certify ``C``; cores that skip the lock check commit ``C`` at ``A``'s height, and
  the simulator sees a fork.
"""

from __future__ import annotations

from consortia.consensus.block_meta import BlockMeta
from consortia.consensus.core import ConsensusCore, Sign
from consortia.consensus.effects import BuildBlock, SendTo
from consortia.consensus.messages import SyncInfo
from consortia.consensus.safety_rules import SafetyData, SafetyRules
from consortia.types.consensus import QuorumCert, TimeoutCert, Vote

_HISTORY = 16


class _SignAnythingRules(SafetyRules):
    """A Byzantine validator's rules: vote for any block (still once per round)."""

    def vote_allowed(self, block: BlockMeta) -> bool:
        return True


class ForkingLeaderCore(ConsensusCore):
    def make_safety_rules(self, chain_id: str, me: int, sign: Sign, data: SafetyData) -> SafetyRules:
        return _SignAnythingRules(chain_id, me, sign, data)

    def _history(self) -> list[QuorumCert]:
        history: list[QuorumCert] | None = getattr(self, "_old_qcs", None)
        if history is None:
            history = []
            self._old_qcs = history
            self._withheld: QuorumCert | None = None
            self._fork_round = -1
        return history

    def _observe_qc(self, qc: QuorumCert) -> None:
        history = self._history()
        if qc.round > 0 and all(q.block_id != qc.block_id for q in history):
            history.append(qc)
            del history[:-_HISTORY]
        withheld = self._withheld
        if withheld is not None and 0 < self._fork_round <= qc.round:
            self._withheld = None  # the fork is certified: now let one validator commit A
            self._emit(SendTo(validator=self._confidant(), msg=SyncInfo(high_qc=withheld)))
        super()._observe_qc(qc)

    def _collect_vote(self, vote: Vote) -> None:
        outcome = self.votes.add(vote)
        qc = outcome.qc
        history = self._history()
        if (
            qc is not None
            and self._withheld is None
            and qc.round == self.high_qc.round + 1
            and any(q.round == qc.round - 2 for q in history)
        ):
            self._withheld = qc  # keep it: round qc.round will time out
            self._fork_round = qc.round + 1
            return
        if outcome.evidence is not None:
            self._report(outcome.evidence)
        if qc is not None:
            self._observe_qc(qc)
            self._advance_round()

    def proposal_parent(self) -> tuple[QuorumCert, TimeoutCert | None]:
        honest = super().proposal_parent()
        tc = self.high_tc
        if self.round != self._fork_round or tc is None or tc.round != self.round - 1:
            return honest
        for qc in self._history():
            if qc.round == self.round - 3:
                return qc, tc
        return honest

    def _try_build(self) -> None:
        if self._build is not None or self._timed_out:
            return
        justify, tc = self.proposal_parent()
        if justify is self.high_qc:
            super()._try_build()
            return
        self._build = BuildBlock(round=self.round, height=justify.height + 1,
                                 parent_id=justify.block_id, justify=justify, timeout_cert=tc)
        self._emit(self._build)

    def _confidant(self) -> int:
        """A validator that collects neither the fork's votes nor its child's."""
        for step in range(3, 3 + self.config.validators):
            candidate = self.leader(self._fork_round + step)
            if candidate != self.me:
                return candidate
        return (self.me + 1) % self.config.validators

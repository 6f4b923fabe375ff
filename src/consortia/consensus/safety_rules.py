"""The safety rules: the only code that signs votes, timeouts and proposals.

They follow Jolteon / DiemBFT v4 (two-chain HotStuff). :class:`SafetyData` is everything they
remember; the core persists it (``PersistSafety``) before any message signed under it leaves the
node, and a restarted core is built from the last persisted value, so it never signs two
conflicting messages for one round.

* Vote for block ``B`` only if ``B.round > last_voted_round`` and either
  ``B.round == B.justify.round + 1`` or (``B.timeout_cert`` is for ``B.round - 1`` and
  ``B.justify.round >= max(B.timeout_cert.high_qc_rounds)``). Record
  ``preferred_round = max(preferred_round, B.justify.round)``: the lock.
* Time out of round ``r`` only if the QC sent along has round ``>= preferred_round`` (the lock)
  and the node entered ``r`` through that QC or through a TC for ``r - 1``. Afterwards
  ``last_voted_round >= r``: no vote in ``r`` any more.
* Propose in round ``r`` only once: ``r > last_proposed_round`` and ``r > last_voted_round``.
"""

from __future__ import annotations

from collections.abc import Callable

import msgspec

from consortia.codec import decode, encode
from consortia.consensus.block_meta import BlockMeta
from consortia.consensus.messages import proposal_bytes
from consortia.errors import DecodeError, IntegrityError
from consortia.types.consensus import (
    QuorumCert,
    TimeoutCert,
    TimeoutVote,
    Vote,
    timeout_bytes,
    vote_bytes,
)

Sign = Callable[[bytes], bytes]


class SafetyData(msgspec.Struct, array_like=True, frozen=True):
    """What the safety rules remember across restarts (canonically encoded, see :func:`encode`).

    ``epoch`` is the validator-set epoch whose signing domain this data guards (safety data is
    kept per epoch, decisions/0005); :meth:`load` refuses the data of another epoch.
    ``last_voted_round`` is the highest round this validator voted *or timed out* in: no vote and
    no proposal at or below it. ``preferred_round`` is the lock: the highest QC round among
    blocks this validator voted for. ``last_vote`` lets a restarted node resend the very same
    vote instead of refusing.

    (Layout v1 also had a ``last_timeout_round`` between ``preferred_round`` and
    ``last_proposed_round``, written and never read: every timeout already raises
    ``last_voted_round``, which is what the vote and proposal rules read. :meth:`decode`
    still reads v1 records.)
    """

    epoch: int = 0
    last_voted_round: int = 0
    preferred_round: int = 0
    last_proposed_round: int = 0
    last_vote: Vote | None = None

    def encode(self) -> bytes:
        return encode(self)

    @staticmethod
    def decode(data: bytes) -> SafetyData:
        """The current layout, or a v1 record (as written before ``last_timeout_round`` left).

        A v1 binary fails to decode the current layout (its fifth element, ``last_vote``, is
        never the integer v1 expects there), so a downgraded node refuses to start rather than
        misread its safety data.
        """
        try:
            return decode(data, SafetyData)
        except DecodeError:
            try:
                v1 = decode(data, _SafetyDataV1)
            except DecodeError:
                raise DecodeError("cannot decode SafetyData (neither the current layout nor v1)") from None
        return SafetyData(v1.epoch, v1.last_voted_round, v1.preferred_round,
                          v1.last_proposed_round, v1.last_vote)

    @staticmethod
    def load(data: bytes | None, epoch: int) -> SafetyData:
        """The safety data persisted for ``epoch`` (fresh data when none was): the way to read
        it back. Data recorded for another epoch is refused (:class:`IntegrityError`): it would
        guard the wrong signing domain — hold the new set back, or leave its rounds unguarded."""
        if data is None:
            return SafetyData(epoch=epoch)
        safety = SafetyData.decode(data)
        if safety.epoch != epoch:
            raise IntegrityError(
                f"the safety data stored for epoch {epoch} belongs to epoch {safety.epoch}",
                expected=epoch, found=safety.epoch,
            )
        return safety


class _SafetyDataV1(msgspec.Struct, array_like=True, frozen=True):
    """The v1 layout of :class:`SafetyData`, read only."""

    epoch: int = 0
    last_voted_round: int = 0
    preferred_round: int = 0
    last_timeout_round: int = 0
    last_proposed_round: int = 0
    last_vote: Vote | None = None


def safe_to_vote(block_round: int, qc_round: int, tc: TimeoutCert | None) -> bool:
    """Jolteon's voting rule: extend the previous round's QC, or follow a TC without going back."""
    if block_round == qc_round + 1:
        return True
    if tc is None or block_round != tc.round + 1 or not tc.high_qc_rounds:
        return False
    return qc_round >= max(tc.high_qc_rounds)


def safe_to_timeout(round_: int, qc_round: int, tc: TimeoutCert | None, data: SafetyData) -> bool:
    """Jolteon's timeout rule: the QC sent along respects the lock, and the round follows it.

    A timeout for a round below ``last_voted_round`` is allowed (as in Jolteon): it promises only
    not to vote in a round where this validator will not vote anyway, and it keeps a restarted
    validator that lost its certificates able to help form the TC that gets everyone going.
    """
    if qc_round < data.preferred_round:
        return False
    return round_ == qc_round + 1 or (tc is not None and round_ == tc.round + 1)


class SafetyRules:
    """Signs for one validator, and only what the rules allow; ``data`` is the state to persist.

    Each ``sign_*`` method returns ``None`` when signing would be unsafe, and otherwise updates
    :attr:`data` first. The caller compares :attr:`data` before and after to know whether it must
    emit ``PersistSafety``.
    """

    def __init__(self, chain_id: str, me: int, sign: Sign, data: SafetyData) -> None:
        self.chain_id = chain_id
        self.me = me
        self._sign = sign
        self.data = data

    def vote_allowed(self, block: BlockMeta) -> bool:
        """The voting rule; tests override it to plant a bug the simulator must catch."""
        return safe_to_vote(block.round, block.justify.round, block.timeout_cert)

    def sign_vote(self, block: BlockMeta) -> Vote | None:
        data = self.data
        if block.round <= data.last_voted_round:
            last = data.last_vote
            if last is not None and last.round == block.round and last.block_id == block.id:
                return last
            return None
        if not self.vote_allowed(block):
            return None
        sig = self._sign(vote_bytes(self.chain_id, block.id, block.round, block.height))
        vote = Vote(block_id=block.id, round=block.round, height=block.height, voter=self.me,
                    signature=sig)
        self.data = msgspec.structs.replace(
            data,
            last_voted_round=block.round,
            preferred_round=max(data.preferred_round, block.justify.round),
            last_vote=vote,
        )
        return vote

    def sign_timeout(
        self, round_: int, high_qc: QuorumCert, last_tc: TimeoutCert | None
    ) -> TimeoutVote | None:
        data = self.data
        if not safe_to_timeout(round_, high_qc.round, last_tc, data):
            return None
        sig = self._sign(timeout_bytes(self.chain_id, round_, high_qc.round))
        self.data = msgspec.structs.replace(data, last_voted_round=max(data.last_voted_round, round_))
        return TimeoutVote(round=round_, high_qc=high_qc, voter=self.me, signature=sig)

    def sign_proposal(self, block: BlockMeta) -> bytes | None:
        data = self.data
        if block.proposer != self.me:
            return None
        if block.round <= data.last_proposed_round or block.round <= data.last_voted_round:
            return None
        self.data = msgspec.structs.replace(data, last_proposed_round=block.round)
        return self._sign(
            proposal_bytes(self.chain_id, block.id, block.round, block.height, block.proposer)
        )

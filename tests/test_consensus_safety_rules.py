"""The voting, timeout and proposing rules on their own, and SafetyData's canonical encoding."""

from __future__ import annotations

import hashlib

import msgspec
import pytest

from consortia.codec import decode, encode
from consortia.consensus import BlockMeta, SafetyData, SafetyRules
from consortia.consensus.safety_rules import _SafetyDataV1, safe_to_timeout, safe_to_vote
from consortia.errors import DecodeError, IntegrityError
from consortia.types.consensus import QuorumCert, TimeoutCert


def qc(round_: int) -> QuorumCert:
    return QuorumCert(block_id=bytes([round_]) * 32, round=round_, height=round_, signers=[0],
                      signatures=[b"s"])


def tc(round_: int, high_qc_rounds: list[int]) -> TimeoutCert:
    return TimeoutCert(round=round_, high_qc=qc(max(high_qc_rounds)),
                       signers=list(range(len(high_qc_rounds))), high_qc_rounds=high_qc_rounds,
                       signatures=[b"s"] * len(high_qc_rounds))


def block(round_: int, justify: QuorumCert, cert: TimeoutCert | None = None) -> BlockMeta:
    return BlockMeta(id=hashlib.sha256(bytes([round_, justify.round])).digest(), round=round_,
                     height=justify.height + 1, parent_id=justify.block_id, justify=justify,
                     proposer=0, timeout_cert=cert)


def rules(data: SafetyData | None = None) -> SafetyRules:
    return SafetyRules("c", 0, lambda m: hashlib.sha256(m).digest(), data or SafetyData())


def test_vote_rule_follows_jolteon() -> None:
    assert safe_to_vote(5, 4, None)  # extends the previous round's QC
    assert not safe_to_vote(5, 3, None)  # a gap needs a TC
    assert safe_to_vote(5, 3, tc(4, [3, 2, 1]))  # TC for round 4, QC as high as any in it
    assert not safe_to_vote(5, 2, tc(4, [3, 2, 1]))  # would go below the lock shown by the TC
    assert not safe_to_vote(6, 3, tc(4, [3, 2, 1]))  # TC is not for the previous round


def test_timeout_rule_respects_the_lock() -> None:
    data = SafetyData(last_voted_round=5, preferred_round=3)
    assert safe_to_timeout(5, 4, None, data)  # may time out of the round it voted in
    assert safe_to_timeout(4, 3, None, data)  # and of an earlier one (after a restart)
    assert not safe_to_timeout(6, 2, tc(5, [2]), data)  # QC below the lock
    assert safe_to_timeout(6, 3, tc(5, [3]), data)
    assert not safe_to_timeout(6, 3, tc(4, [3]), data)  # not entered through QC or TC


def test_votes_once_per_round_and_records_the_lock() -> None:
    r = rules()
    b5 = block(5, qc(4))
    vote = r.sign_vote(b5)
    assert vote is not None and r.data.last_voted_round == 5 and r.data.preferred_round == 4
    assert r.sign_vote(b5) == vote  # the same vote again, not a new one
    assert r.sign_vote(msgspec.structs.replace(b5, id=b"x" * 32)) is None  # conflicting
    assert r.sign_vote(block(4, qc(3))) is None


def test_timeout_stops_voting_in_that_round() -> None:
    r = rules()
    assert r.sign_timeout(5, qc(4), None) is not None
    assert r.data.last_voted_round == 5
    assert r.sign_vote(block(5, qc(4))) is None


def test_proposes_once_per_round() -> None:
    r = rules()
    b = block(5, qc(4))
    assert r.sign_proposal(b) is not None
    assert r.sign_proposal(b) is None
    assert r.data.last_proposed_round == 5


def test_safety_data_encoding_is_canonical() -> None:
    r = rules()
    r.sign_vote(block(5, qc(4)))
    raw = r.data.encode()
    assert SafetyData.decode(raw) == r.data
    with pytest.raises(DecodeError):
        SafetyData.decode(raw + b"\x00")


def test_safety_data_layout() -> None:
    """Each field is read by a rule or by :meth:`SafetyData.load`; ``last_timeout_round`` (written,
    never read) left the layout in issue 17. Changing this list changes what nodes persist:
    :meth:`SafetyData.decode` must keep reading every older layout."""
    assert SafetyData.__struct_fields__ == (
        "epoch", "last_voted_round", "preferred_round", "last_proposed_round", "last_vote"
    )


def _v1_record(vote: object) -> bytes:
    """A record as the v1 layout wrote it: [epoch, last_voted_round, preferred_round,
    last_timeout_round, last_proposed_round, last_vote]."""
    return encode([2, 7, 5, 7, 6, vote])


def test_v1_records_still_decode() -> None:
    r = rules(SafetyData(epoch=2, last_proposed_round=6))
    vote = r.sign_vote(block(7, qc(6)))
    assert vote is not None
    for last_vote in (None, vote):
        data = SafetyData.decode(_v1_record(last_vote))
        assert data == SafetyData(epoch=2, last_voted_round=7, preferred_round=5,
                                  last_proposed_round=6, last_vote=last_vote)
        assert SafetyData.load(_v1_record(last_vote), 2) == data
    with pytest.raises(DecodeError):
        SafetyData.decode(_v1_record(None) + b"\x00")


def test_a_v1_node_refuses_the_current_layout() -> None:
    """Downgrading fails safe: a v1 binary cannot decode what this version writes, so it would
    refuse to start instead of misreading its rounds."""
    r = rules()
    r.sign_vote(block(5, qc(4)))
    for data in (SafetyData(epoch=1, last_voted_round=9), r.data):
        with pytest.raises(DecodeError):
            decode(data.encode(), _SafetyDataV1)


def test_load_refuses_safety_data_of_another_epoch() -> None:
    assert SafetyData.load(None, 3) == SafetyData(epoch=3)
    stored = SafetyData(epoch=3, last_voted_round=12, preferred_round=10).encode()
    assert SafetyData.load(stored, 3).last_voted_round == 12
    with pytest.raises(IntegrityError, match="belongs to epoch 3") as refused:
        SafetyData.load(stored, 4)
    assert refused.value.code == "integrity_error"
    with pytest.raises(IntegrityError):
        SafetyData.load(SafetyData().encode(), 1)  # epoch 0's data where epoch 1's is kept

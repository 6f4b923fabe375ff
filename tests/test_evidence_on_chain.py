"""Equivocation evidence is checked, recorded once in the world state, and a forgery is refused."""

from __future__ import annotations

import time

import pytest
from tests.conftest import CHAIN_ID, ChainFixture

from consortia.codec import encode
from consortia.consensus import VoteEquivocation
from consortia.execution.executor import InvalidBlock
from consortia.node.evidence_book import evidence_key
from consortia.types.block import Block
from consortia.types.consensus import Vote, vote_bytes


def double_vote(tc: ChainFixture, round_: int = 7, forge: bool = False) -> bytes:
    key = tc.validator
    votes = []
    for block_id in (b"\x01" * 32, b"\x02" * 32):
        sig = key.sign(vote_bytes(CHAIN_ID, block_id, round_, 5))
        if forge and block_id == b"\x02" * 32:
            sig = bytes([sig[0] ^ 1]) + sig[1:]
        votes.append(Vote(block_id, round_, 5, 0, sig))
    return encode(VoteEquivocation(votes[0], votes[1]))


def build_with(tc: ChainFixture, evidence: list[bytes]):
    chain = tc.chain
    head = chain.head_header
    justify = chain.store.block(head.height).qc
    return chain.build_block(chain.head.block_id, head.round + 1, 0, time.time_ns() // 10**6,
                             justify, None, evidence)


def test_evidence_is_recorded_once(test_chain: ChainFixture) -> None:
    raw = double_vote(test_chain)
    executed = build_with(test_chain, [raw, raw])
    assert executed.block.evidence == [raw]  # one record per offence
    from consortia.node.solo import self_certify

    test_chain.chain.commit(executed.block_id, self_certify(test_chain.chain, test_chain.validator, executed))
    from consortia.codec import decode_any
    from consortia.consensus import Evidence

    key = evidence_key(decode_any(raw, Evidence))
    assert test_chain.chain.store.state_get(key) is not None
    # a proposer cannot record it again: it is filtered, and a block forcing it is invalid
    assert build_with(test_chain, [raw]).block.evidence == []


def test_block_with_repeated_or_forged_evidence_is_invalid(test_chain: ChainFixture) -> None:
    raw = double_vote(test_chain)
    executed = build_with(test_chain, [raw])
    forged = double_vote(test_chain, round_=9, forge=True)
    tampered = Block(executed.block.header, executed.block.txs, [forged])
    other = ChainFixture(test_chain.path, test_chain.chain, test_chain.validator, [], None)
    other.chain.abandon(executed.block_id)
    with pytest.raises(InvalidBlock):
        other.chain.validate_block(tampered)
    twice = Block(executed.block.header, executed.block.txs, [raw, raw])
    with pytest.raises(InvalidBlock):
        other.chain.validate_block(twice)
    # forged evidence is never proposed
    assert build_with(test_chain, [forged]).block.evidence == []

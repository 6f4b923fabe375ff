"""Execution, commit, restart and offline proofs on an in-process one-validator chain."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.conftest import ChainFixture, make_chain

from consortia.codec import encode
from consortia.errors import ProofError
from consortia.execution.accounts import account_key
from consortia.ledger.proofs import (
    ReceiptProof,
    StateValueProof,
    verify_receipt_proof,
    verify_state_value_proof,
)
from consortia.node import queries


def test_transfer_moves_money_and_emits_event(test_chain: ChainFixture) -> None:
    a, b = test_chain.accounts[0], test_chain.accounts[1]
    test_chain.submit([test_chain.transfer(0, b.address, 250, nonce=0)])
    executed = test_chain.produce()
    assert [r.status for r in executed.receipts] == ["ok"]
    assert executed.receipts[0].events[0].name == "Transfer"
    assert queries.account(test_chain.chain, a.address).balance == 750
    assert queries.account(test_chain.chain, b.address).balance == 1250
    assert queries.account(test_chain.chain, a.address).nonce == 1


def test_failed_call_keeps_nonce_drops_writes(test_chain: ChainFixture) -> None:
    from consortia.client.tx_builder import sign_tx
    from consortia.types.transaction import Call

    key = test_chain.accounts[0]
    # a system contract's own argument check refuses a bad call at admission, changing nothing
    bad = sign_tx(key, "test-chain", 0, 100, Call("currency", "mint", b"\x90"))
    refused = test_chain.submit([bad])[0].error
    assert refused is not None and refused.code == "invalid_call" and "mint" in refused.message
    # a call that fails only when it runs keeps its nonce bump and drops its writes
    raw = sign_tx(key, "test-chain", 0, 100, Call("no-such-contract", "mint", b"\x90"))
    assert test_chain.submit([raw])[0].error is None
    executed = test_chain.produce()
    receipt = executed.receipts[0]
    assert receipt.status == "no_such_contract" and "no-such-contract" in receipt.error
    account = queries.account(test_chain.chain, key.address)
    assert account.nonce == 1 and account.balance == 1000


def test_restart_keeps_blocks_and_root(test_chain: ChainFixture) -> None:
    to = test_chain.accounts[2].address
    for nonce in range(3):
        test_chain.submit([test_chain.transfer(0, to, 10, nonce=nonce)])
        test_chain.produce()
    head = test_chain.chain.head
    test_chain.reopen()
    assert test_chain.chain.head == head
    assert queries.account(test_chain.chain, to).balance == 1030
    # and it goes on from there
    test_chain.submit([test_chain.transfer(0, to, 10, nonce=3)])
    assert test_chain.produce().header.height == head.height + 1


def test_pool_survives_restart(test_chain: ChainFixture) -> None:
    raws = [test_chain.transfer(0, test_chain.accounts[1].address, 1, nonce=n) for n in range(3)]
    results = test_chain.submit(raws)
    test_chain.chain.store.pool_add([(r.tx_hash, raw) for r, raw in zip(results, raws, strict=True)])
    test_chain.reopen()
    saved = dict(test_chain.chain.store.pool_items())
    assert len(saved) == 3


def _committed_transfer(tc: ChainFixture) -> bytes:
    tc.submit([tc.transfer(0, tc.accounts[1].address, 5, nonce=0),
               tc.transfer(1, tc.accounts[2].address, 7, nonce=0),
               tc.transfer(2, tc.accounts[0].address, 9, nonce=0)])
    executed = tc.produce()
    tc.produce()
    return executed.txs[1].hash


def test_receipt_proof_verifies_offline(test_chain: ChainFixture) -> None:
    tx_hash = _committed_transfer(test_chain)
    proof = queries.receipt_proof(test_chain.chain, tx_hash)
    verified = verify_receipt_proof(proof, test_chain.genesis)
    assert verified.tx_hash == tx_hash and verified.status == "ok"
    assert verified.sender == test_chain.accounts[1].address


def test_state_proofs_of_value_and_absence(test_chain: ChainFixture) -> None:
    _committed_transfer(test_chain)
    key = account_key(test_chain.accounts[0].address)
    proof = queries.state_value_proof(test_chain.chain, key)
    assert proof.value is not None
    verify_state_value_proof(proof, test_chain.genesis)
    absent = queries.state_value_proof(test_chain.chain, account_key(b"\x07" * 20))
    assert absent.value is None
    verify_state_value_proof(absent, test_chain.genesis)
    lie = StateValueProof(absent.key, proof.value, absent.header, absent.qc, absent.proof)
    with pytest.raises(ProofError):
        verify_state_value_proof(lie, test_chain.genesis)


def _flip(data: bytes, position: int, bit: int) -> bytes:
    i = position % len(data)
    return data[:i] + bytes([data[i] ^ (1 << bit)]) + data[i + 1:]


@pytest.fixture(scope="module")
def proofs(tmp_path_factory):
    tc = make_chain(tmp_path_factory.mktemp("proofs") / "data")
    tx_hash = _committed_transfer(tc)
    receipt = queries.receipt_proof(tc.chain, tx_hash)
    state = queries.state_value_proof(tc.chain, account_key(tc.accounts[1].address))
    yield tc.genesis, receipt, state
    tc.chain.store.close()


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(position=st.integers(0, 10**6), bit=st.integers(0, 7))
def test_any_tampered_receipt_is_detected(proofs, position: int, bit: int) -> None:
    from consortia.codec import decode
    from consortia.errors import DecodeError

    genesis, receipt, _ = proofs
    tampered = _flip(encode(receipt), position, bit)
    try:
        proof = decode(tampered, ReceiptProof)
    except DecodeError:
        return  # cannot even be read: rejected
    with pytest.raises(ProofError):
        verify_receipt_proof(proof, genesis)


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(position=st.integers(0, 10**6), bit=st.integers(0, 7))
def test_any_tampered_state_proof_is_detected(proofs, position: int, bit: int) -> None:
    from consortia.codec import decode
    from consortia.errors import DecodeError

    genesis, _, state = proofs
    tampered = _flip(encode(state), position, bit)
    try:
        proof = decode(tampered, StateValueProof)
    except DecodeError:
        return
    with pytest.raises(ProofError):
        verify_state_value_proof(proof, genesis)


def test_proof_against_other_genesis_fails(proofs, tmp_path) -> None:
    _, receipt, _ = proofs
    other = make_chain(tmp_path / "other")
    try:
        with pytest.raises(ProofError, match=r"another chain .*not its genesis file"):
            verify_receipt_proof(receipt, other.genesis)  # same chain id, other validators
    finally:
        other.chain.store.close()

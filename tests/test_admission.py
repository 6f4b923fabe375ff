"""Every admission rejection: a precise typed error, and nothing changed."""

from __future__ import annotations

import pytest
from tests.conftest import CHAIN_ID, ChainFixture

from consortia.client.tx_builder import sign_transfer, sign_tx
from consortia.codec import encode
from consortia.crypto.keys import KeyPair
from consortia.errors import (
    BadSignature,
    CryptoError,
    DecodeError,
    DuplicateTx,
    FutureNonce,
    InsufficientBalance,
    StaleNonce,
    TxExpired,
    TxTooLarge,
    UnknownSender,
    WrongChainId,
)
from consortia.types.transaction import Call, SignedTx, TxBody, signing_bytes


def reject(tc: ChainFixture, raw: bytes, error: type[Exception]) -> Exception:
    before = (len(tc.chain.mempool), tc.chain.head, list(tc.chain.store.pool_items()))
    (result,) = tc.submit([raw])
    assert isinstance(result.error, error), result.error
    assert result.error.message
    after = (len(tc.chain.mempool), tc.chain.head, list(tc.chain.store.pool_items()))
    assert before == after
    return result.error


def test_accepts_valid_transfer(test_chain: ChainFixture) -> None:
    raw = test_chain.transfer(0, test_chain.accounts[1].address, 10, nonce=0)
    (result,) = test_chain.submit([raw])
    assert result.error is None and result.tx_hash in test_chain.chain.mempool


def test_malformed_bytes(test_chain: ChainFixture) -> None:
    err = reject(test_chain, b"\x93\x01\x02", DecodeError)
    assert err.code == "malformed"
    good = test_chain.transfer(0, test_chain.accounts[1].address, 10, nonce=0)
    reject(test_chain, good + b"\x00", DecodeError)


def test_bad_signature(test_chain: ChainFixture) -> None:
    good = test_chain.transfer(0, test_chain.accounts[1].address, 10, nonce=0)
    from consortia.codec import decode

    signed = decode(good, SignedTx)
    forged = bytes([signed.signature[0] ^ 1]) + signed.signature[1:]
    reject(test_chain, encode(SignedTx(signed.body, forged)), BadSignature)
    # signed by another key than the one named in the body
    other = KeyPair.generate()
    body = encode(TxBody(CHAIN_ID, test_chain.accounts[0].public_key, 0, 100,
                         Call("currency", "transfer", encode([other.address, 1]))))
    reject(test_chain, encode(SignedTx(body, other.sign(signing_bytes(body)))), BadSignature)


def test_bad_public_key_length(test_chain: ChainFixture) -> None:
    key = test_chain.accounts[0]
    body = encode(TxBody(CHAIN_ID, key.public_key[:31], 0, 100, Call("currency", "transfer", b"")))
    reject(test_chain, encode(SignedTx(body, key.sign(signing_bytes(body)))), CryptoError)


def test_wrong_chain_id(test_chain: ChainFixture) -> None:
    raw = sign_transfer(test_chain.accounts[0], "other-chain", 0, 100,
                        test_chain.accounts[1].address, 1)
    err = reject(test_chain, raw, WrongChainId)
    assert "other-chain" in err.message


def test_stale_and_future_nonce(test_chain: ChainFixture) -> None:
    to = test_chain.accounts[1].address
    assert test_chain.submit([test_chain.transfer(0, to, 1, nonce=0)])[0].error is None
    test_chain.produce()
    err = reject(test_chain, test_chain.transfer(0, to, 2, nonce=0), StaleNonce)
    assert err.details["expected"] == 1
    err = reject(test_chain, test_chain.transfer(0, to, 2, nonce=5), FutureNonce)
    assert err.details["expected"] == 1
    # pending transactions count: nonce 1 waiting makes 2 the next one
    assert test_chain.submit([test_chain.transfer(0, to, 1, nonce=1)])[0].error is None
    reject(test_chain, test_chain.transfer(0, to, 2, nonce=1), StaleNonce)
    assert test_chain.submit([test_chain.transfer(0, to, 1, nonce=2)])[0].error is None


def test_expired(test_chain: ChainFixture) -> None:
    test_chain.produce()
    test_chain.produce()
    raw = test_chain.transfer(0, test_chain.accounts[1].address, 1, nonce=0, expiry=2)
    reject(test_chain, raw, TxExpired)


def test_unknown_sender(test_chain: ChainFixture) -> None:
    stranger = KeyPair.generate()
    raw = sign_transfer(stranger, CHAIN_ID, 0, 100, test_chain.accounts[0].address, 1)
    reject(test_chain, raw, UnknownSender)


def test_insufficient_balance(test_chain: ChainFixture) -> None:
    to = test_chain.accounts[1].address
    reject(test_chain, test_chain.transfer(0, to, 1001, nonce=0), InsufficientBalance)
    # pending outflows count against the balance
    assert test_chain.submit([test_chain.transfer(0, to, 600, nonce=0)])[0].error is None
    reject(test_chain, test_chain.transfer(0, to, 600, nonce=1), InsufficientBalance)


def test_oversize(test_chain: ChainFixture) -> None:
    key = test_chain.accounts[0]
    huge = Call("currency", "transfer", b"\x00" * (test_chain.chain.params.max_tx_bytes + 1))
    raw = sign_tx(key, CHAIN_ID, 0, 100, huge)
    err = reject(test_chain, raw, TxTooLarge)
    assert err.code == "oversize"


def test_duplicate_in_pool_and_committed(test_chain: ChainFixture) -> None:
    raw = test_chain.transfer(0, test_chain.accounts[1].address, 1, nonce=0)
    assert test_chain.submit([raw])[0].error is None
    reject(test_chain, raw, DuplicateTx)
    test_chain.produce()
    err = reject(test_chain, raw, DuplicateTx)
    assert "committed" in err.message


def test_batch_mixes_results(test_chain: ChainFixture) -> None:
    to = test_chain.accounts[1].address
    raws = [
        test_chain.transfer(0, to, 1, nonce=0),
        b"garbage",
        test_chain.transfer(0, to, 1, nonce=1),
        test_chain.transfer(0, to, 1, nonce=1),
    ]
    results = test_chain.submit(raws)
    assert [r.error is None for r in results] == [True, False, True, False]
    assert isinstance(results[3].error, DuplicateTx)


@pytest.mark.parametrize("suite", ["sm2"])
def test_sm2_chain_admits_and_rejects(tmp_path, suite: str) -> None:
    from tests.conftest import make_chain

    tc = make_chain(tmp_path / "sm2", suite=suite)
    try:
        raw = tc.transfer(0, tc.accounts[1].address, 5, nonce=0)
        assert tc.submit([raw])[0].error is None
        executed = tc.produce()
        assert executed.receipts[0].status == "ok"
        stranger = KeyPair.generate(suite)
        bad = sign_transfer(stranger, CHAIN_ID, 0, 100, tc.accounts[0].address, 1)
        assert isinstance(tc.submit([bad])[0].error, UnknownSender)
    finally:
        tc.chain.store.close()

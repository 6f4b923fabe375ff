"""Building and signing transactions, with no node and no I/O."""

from __future__ import annotations

from consortia.codec import encode
from consortia.contracts import native_currency
from consortia.crypto.keys import KeyPair
from consortia.types.transaction import Call, SignedTx, TxBody, signing_bytes


def sign_tx(key: KeyPair, chain_id: str, nonce: int, expiry: int, call: Call) -> bytes:
    """The wire bytes of a transaction signed by ``key``."""
    body = encode(TxBody(chain_id, key.public_key, nonce, expiry, call))
    return encode(SignedTx(body, key.sign(signing_bytes(body))))


def transfer_call(to: bytes, amount: int) -> Call:
    return Call(
        native_currency.NAME,
        native_currency.TRANSFER,
        native_currency.encode_transfer_args(to, amount),
    )


def sign_transfer(
    key: KeyPair, chain_id: str, nonce: int, expiry: int, to: bytes, amount: int
) -> bytes:
    return sign_tx(key, chain_id, nonce, expiry, transfer_call(to, amount))

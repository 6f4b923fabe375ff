"""Building and signing transactions, with no node and no I/O."""

from __future__ import annotations

from consortia.client.arguments import check_address_arg, check_amount
from consortia.codec import encode
from consortia.contracts import native_currency
from consortia.crypto.keys import KeyPair
from consortia.types.transaction import Call, SignedTx, TxBody, signing_bytes


def sign_tx(key: KeyPair, chain_id: str, nonce: int, expiry: int, call: Call) -> bytes:
    """The wire bytes of a transaction signed by ``key``."""
    body = encode(TxBody(chain_id, key.public_key, nonce, expiry, call))
    return encode(SignedTx(body, key.sign(signing_bytes(body))))


def transfer_call(to: bytes | str, amount: int) -> Call:
    """The native transfer of ``amount`` (1 .. 2**64 - 1) to ``to`` (20 bytes or ``"0x…"``
    text); a bad argument raises ``InvalidAmount`` or ``BadAddress`` before anything is built."""
    recipient, units = check_address_arg(to, "recipient"), check_amount(amount)
    return Call(
        native_currency.NAME,
        native_currency.TRANSFER,
        native_currency.encode_transfer_args(recipient, units),
    )


def sign_transfer(
    key: KeyPair, chain_id: str, nonce: int, expiry: int, to: bytes | str, amount: int
) -> bytes:
    return sign_tx(key, chain_id, nonce, expiry, transfer_call(to, amount))

"""Transactions: what a client signs and sends.

On the wire a transaction is ``encode(SignedTx(body=encode(TxBody(...)), signature=...))``: the
body travels as the exact bytes that were signed, so checking a signature never needs a second
encoding, and the transaction hash is the hash of the whole wire form.
"""

from __future__ import annotations

import msgspec

TX_DOMAIN = b"consortia/tx/v1\x00"


class Call(msgspec.Struct, array_like=True, frozen=True):
    """Which contract method to run, with its arguments as one canonical MessagePack list, and
    the native units the sender attaches (moved to the contract's account before it runs;
    system contracts take none)."""

    contract: str
    method: str
    args: bytes
    value: int = 0


class TxBody(msgspec.Struct, array_like=True, frozen=True):
    """The signed content. ``expiry`` is the last block height that may include it."""

    chain_id: str
    public_key: bytes
    nonce: int
    expiry: int
    call: Call


class SignedTx(msgspec.Struct, array_like=True, frozen=True):
    body: bytes
    signature: bytes


def signing_bytes(body: bytes) -> bytes:
    """The message a sender's key signs: a domain tag and the canonical body."""
    return TX_DOMAIN + body

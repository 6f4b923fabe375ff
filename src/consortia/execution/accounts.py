"""Account records in the world state: one key per address holding its nonce and balance."""

from __future__ import annotations

import msgspec

from consortia.codec import decode, encode

ACCOUNT_PREFIX = b"a"
MAX_AMOUNT = 2**64 - 1


class Account(msgspec.Struct, array_like=True, frozen=True):
    nonce: int
    balance: int


def account_key(address: bytes) -> bytes:
    return ACCOUNT_PREFIX + address


def encode_account(account: Account) -> bytes:
    return encode(account)


_trusted = msgspec.msgpack.Decoder(Account)


def decode_account(raw: bytes) -> Account:
    """Decode an account record read from our own state (written canonically by us)."""
    return _trusted.decode(raw)


def decode_account_strict(raw: bytes) -> Account:
    """Decode an account record from outside (a proof, a peer): canonical form only."""
    return decode(raw, Account)

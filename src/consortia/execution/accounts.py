"""Account records in the world state: one key per address holding its nonce and balance.

On a permissioned chain the record also carries the account's ``activity``: the rules' counters
(the day's outgoing total, the alert windows) that every payment updates, kept opaque here and
owned by ``contracts/permissioned/activity.py``. Keeping them in the account record makes a
payment write one state key per party instead of two (half the tree updates and stored nodes).
An empty ``activity`` is left out of the encoding, so an account without one is exactly
``[nonce, balance]``, as on an open chain.
"""

from __future__ import annotations

import msgspec

from consortia.codec import decode, encode

ACCOUNT_PREFIX = b"a"
MAX_AMOUNT = 2**64 - 1


class Account(msgspec.Struct, array_like=True, frozen=True, omit_defaults=True):
    nonce: int
    balance: int
    activity: bytes = b""


def with_balance(account: Account, balance: int) -> Account:
    """``account`` with a new balance, everything else kept."""
    return Account(account.nonce, balance, account.activity)


def with_nonce(account: Account, nonce: int) -> Account:
    """``account`` with a new nonce, everything else kept."""
    return Account(nonce, account.balance, account.activity)


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

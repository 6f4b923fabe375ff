"""An account's activity: the rules' counters every payment updates, kept in its account record.

:class:`~.records.Activity` holds the UTC day's outgoing total and count (tier limits) and the
structuring and velocity windows (alert rules). It lives in the ``activity`` field of the
account's record (``execution/accounts.Account``), canonical MessagePack of the record, so a
payment writes one state key per party: the balance, the nonce and the counters change together.
This module is the one reader and writer of that field.
"""

from __future__ import annotations

from consortia.codec import encode
from consortia.contracts.permissioned.records import Activity
from consortia.contracts.permissioned.store import StateGet, decoded, remember
from consortia.execution.accounts import Account, account_key, decode_account, encode_account
from consortia.execution.context import TxState

EMPTY = Activity()


def read_activity(state_get: StateGet, address: bytes) -> Activity:
    """``address``'s activity (empty when it has none or no account)."""
    raw = state_get(account_key(address))
    if raw is None:
        return EMPTY
    blob = decode_account(raw).activity
    return decoded(blob, Activity) if blob else EMPTY


def write_activity(state: TxState, address: bytes, activity: Activity) -> None:
    """Store ``activity`` in ``address``'s account record (created with nothing in it if
    needed), keeping its nonce and balance."""
    key = account_key(address)
    raw = state.get(key)
    account = decode_account(raw) if raw is not None else Account(0, 0)
    blob = encode(activity)
    remember(activity, blob)
    state.set(key, encode_account(Account(account.nonce, account.balance, blob)))

"""The regulator's view of one account: identity, organisation, freeze, limits, today's spending."""

from __future__ import annotations

import msgspec

from consortia.contracts.permissioned.activity import read_activity
from consortia.contracts.permissioned.directory import identity, org
from consortia.contracts.permissioned.records import Activity, DailyTotal, Freeze, Identity, Org, TierLimits
from consortia.contracts.permissioned.regulator import freeze_record, limits
from consortia.contracts.permissioned.store import StateGet
from consortia.execution.accounts import account_key, decode_account


class AuditView(msgspec.Struct, frozen=True):
    address: bytes
    identity: Identity | None
    org: Org | None
    frozen: Freeze | None
    limits: TierLimits | None
    daily: DailyTotal | None
    nonce: int | None
    balance: int | None


def _daily(act: Activity) -> DailyTotal | None:
    """The day's outgoing total from the account's activity (None: no payment counted yet)."""
    return None if not act.count else DailyTotal(act.day, act.total, act.count)


def audit(state_get: StateGet, address: bytes) -> AuditView:
    """Everything the chain holds about ``address`` (for ``consortia reg audit``)."""
    ident = identity(state_get, address)
    raw = state_get(account_key(address))
    account = decode_account(raw) if raw is not None else None
    return AuditView(
        address=address,
        identity=ident,
        org=org(state_get, ident.org) if ident is not None else None,
        frozen=freeze_record(state_get, address),
        limits=limits(state_get, ident.kyc_tier) if ident is not None else None,
        daily=_daily(read_activity(state_get, address)),
        nonce=account.nonce if account is not None else None,
        balance=account.balance if account is not None else None,
    )

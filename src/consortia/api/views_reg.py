"""Typed bodies of the regulator's routes (``/v1/reg/...`` in api/perm_routes.py, issue 16,
decisions/0023): alerts, an account's audit, alert rules and a tier's limits."""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict

from consortia.api.views_index import HistoryItem
from consortia.api.views_perm import IdentityView, OrgView
from consortia.contracts.permissioned.records import AlertRules, Bucket, DailyTotal, TierLimits


class RegAlert(TypedDict):
    """An alert the alerting contract raised about an account (``rule``: which rule fired)."""

    id: int
    rule: str
    address: str
    amount: int
    height: int
    timestamp_ms: int
    tx_hash: str
    detail: str


class RegAlertList(TypedDict):
    """Alerts after ``since``; ``last_id`` is the ``since`` of the next request."""

    alerts: list[RegAlert]
    last_id: int


class AuditHistory(TypedDict):
    """The newest entries of the account's history in this node's SQL index (``available``), or
    why this node has none (``reason``: it keeps no SQL index, or it is not open yet)."""

    available: bool
    indexed_height: NotRequired[int]
    items: NotRequired[list[HistoryItem]]
    next_cursor: NotRequired[str | None]
    reason: NotRequired[str]


class RegAuditView(TypedDict):
    """Everything the chain holds about an account, its recent alerts and its indexed history."""

    address: str
    identity: IdentityView | None
    org: OrgView | None
    balance: int | None
    nonce: int | None
    frozen: bool
    frozen_by: str | None
    frozen_height: int | None
    limits: TierLimits | None
    daily: DailyTotal | None
    structuring_window: list[Bucket] | None
    velocity_window: list[Bucket] | None
    alerts: list[RegAlert]
    history: AuditHistory


class TierLimitsView(TypedDict):
    """A KYC tier's limits (null: no limit)."""

    tier: int
    per_payment: int | None
    daily: int | None
    balance: int | None


REG_TYPES: dict[tuple[str, str], tuple[Any, ...]] = {
    ("get", "/v1/reg/alerts"): (RegAlertList,),
    ("get", "/v1/reg/audit/{address}"): (RegAuditView,),
    ("get", "/v1/reg/rules"): (AlertRules,),
    ("get", "/v1/reg/limits/{tier}"): (TierLimitsView,),
}
"""The regulator routes' 2xx bodies, for ``api/openapi.RESPONSE_TYPES``."""

"""Building the calls of ``apps/health``: plain functions the node's record service, the client
SDK (:mod:`consortia.client.health`) and the tests share."""

from __future__ import annotations

from consortia.apps.health.records import CheckedFetch
from consortia.codec import encode
from consortia.types.transaction import Call

HEALTH = "health"
ACCESSED_EVENT = "HealthAccessed"
BREAK_GLASS_EVENT = "HealthBreakGlass"
ERROR_CODES: tuple[str, ...] = (
    "no_identity", "not_hospital_staff", "bad_record", "record_exists", "record_not_found", "bad_patient",
    "no_sealing_key", "bad_custodian", "bad_sealed_key", "bad_key", "not_patient", "bad_grantee",
    "bad_purpose", "bad_until", "no_live_grant", "bad_reason", "not_custodian", "bad_nonce",
    "stale_request", "bad_signature", "replayed_request", "no_access", "bad_range",
)
"""The receipt statuses the contract refuses with."""
FETCH_WINDOW_MS = 300_000
"""How far a fetch request's time may be from the block's (the contract's constant)."""
BREAK_GLASS_MS = 3_600_000
"""How long an emergency opening lets its doctor fetch (the contract's constant)."""
MAX_PURPOSE = 200
MAX_REASON = 200
MAX_LOG_PAGE = 100


def register_key_call(public_key: bytes) -> Call:
    return Call(HEALTH, "register_key", encode([public_key]))


def put_call(record: bytes, patient: bytes, custodian: bytes, sealed_patient: bytes,
             sealed_custodian: bytes) -> Call:  # fmt: skip
    return Call(HEALTH, "put", encode([record, patient, custodian, sealed_patient, sealed_custodian]))


def grant_call(record: bytes, grantee: bytes, purpose: str, until_ms: int, sealed_key: bytes) -> Call:
    return Call(HEALTH, "grant", encode([record, grantee, purpose, until_ms, sealed_key]))


def revoke_call(record: bytes, grantee: bytes) -> Call:
    return Call(HEALTH, "revoke", encode([record, grantee]))


def break_glass_call(record: bytes, reason: str) -> Call:
    return Call(HEALTH, "break_glass", encode([record, reason]))


def log_access_call(fetch: CheckedFetch) -> Call:
    return Call(HEALTH, "log_access", encode([fetch.record, fetch.public_key, fetch.timestamp_ms, fetch.nonce,
                                              fetch.signature]))

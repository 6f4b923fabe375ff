"""Building the calls of ``apps/privacy`` (the node's store, the client SDK and tests share them),
and the content contexts of the applications that seal content."""

from __future__ import annotations

from typing import Any

from consortia.codec import encode
from consortia.types.transaction import Call

PRIVACY = "privacy"
ERASED_EVENT = "Erased"
ERROR_CODES: tuple[str, ...] = (
    "no_identity", "not_admin", "not_regulator", "bad_key", "no_sealing_key", "bad_url", "bad_ref",
    "bad_reason", "already_erased",
)
"""The receipt statuses the contract refuses with."""
MAX_REASON = 200
MAX_URL = 200
SCF_INVOICE = "scf.invoice"
"""The kind of sealed content an scf invoice carries (its contents: parties, number, amount,
date, lines, note)."""
KINDS = (SCF_INVOICE,)


def context(kind: str, object_id: bytes) -> bytes:
    """The associated data binding sealed content to its object: ``kind \\0 object id``."""
    return kind.encode() + b"\x00" + object_id


def register_key_call(public_key: bytes) -> Call:
    return Call(PRIVACY, "register_key", encode([public_key]))


def set_supervisor_call() -> Call:
    return Call(PRIVACY, "set_supervisor", encode([]))


def set_store_call(url: str) -> Call:
    return Call(PRIVACY, "set_store", encode([url]))


def request_erasure_call(ref: bytes, reason: str) -> Call:
    return Call(PRIVACY, "request_erasure", encode([ref, reason]))


def erase_call(ref: bytes, reason: str) -> Call:
    return Call(PRIVACY, "erase", encode([ref, reason]))


def erased_ref(fields: dict[str, Any]) -> bytes:
    return bytes(fields["ref"])

"""Who an event concerns: the account addresses written in its data.

One notion, two readers: the SQL index records an event's parties (``event_parties``, so a
member's history finds the events that name it) and the API's event stream keeps, for a
member, only the events that name it (issue 14). An event's data is MessagePack; its parties
are the distinct 20-byte values in its fields and one level of lists or maps below them, in
order, at most :data:`MAX_PARTIES`.
"""

from __future__ import annotations

from typing import Any

import msgspec

ADDRESS_BYTES = 20
PARTY_DEPTH = 2
"""Addresses are looked for in an event's fields and one level of lists or maps below them."""
MAX_PARTIES = 64
"""At most this many distinct parties are found per event (a bound on index rows per event)."""

_ANY = msgspec.msgpack.Decoder()


def event_parties(data: bytes) -> list[bytes]:
    """Distinct 20-byte values in an event's data (top level and one level below), in order."""
    try:
        value = _ANY.decode(data)
    except Exception:  # not MessagePack: no parties
        return []
    found: list[bytes] = []
    _walk(value, 0, found)
    return found


def _walk(value: Any, depth: int, found: list[bytes]) -> None:
    if len(found) >= MAX_PARTIES:
        return
    if isinstance(value, bytes) and len(value) == ADDRESS_BYTES:
        if value not in found:
            found.append(bytes(value))
        return
    if depth >= PARTY_DEPTH:
        return
    if isinstance(value, list):
        for v in value:
            _walk(v, depth + 1, found)
    elif isinstance(value, dict):
        for v in value.values():
            _walk(v, depth + 1, found)

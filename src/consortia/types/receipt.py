"""Receipts and events: what executing a transaction produced."""

from __future__ import annotations

import msgspec

STATUS_OK = "ok"


class Event(msgspec.Struct, array_like=True, frozen=True):
    """A fact a contract announces; ``data`` is canonical MessagePack."""

    contract: str
    name: str
    data: bytes


class Receipt(msgspec.Struct, array_like=True, frozen=True):
    """The outcome of one transaction: ``status`` is ``"ok"`` or an error code."""

    tx_hash: bytes
    status: str
    error: str
    steps: int
    events: list[Event]

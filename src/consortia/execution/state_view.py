"""Layers of key/value state that execution reads through and writes into.

Execution never touches storage directly: it reads through a :class:`StateReader` (committed
state, or committed state under the writes of blocks not yet final) and returns its writes as a
plain dict, which the node persists together with the block.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

MISSING = object()


class StateReader(Protocol):
    def get(self, key: bytes) -> bytes | None: ...


class EmptyState:
    """A state with no keys: the base under a genesis block."""

    def get(self, key: bytes) -> bytes | None:
        return None


class Overlay:
    """``writes`` (value ``None`` = deleted) layered over ``base``."""

    __slots__ = ("base", "writes")

    def __init__(self, base: StateReader, writes: Mapping[bytes, bytes | None]) -> None:
        self.base = base
        self.writes = writes

    def get(self, key: bytes) -> bytes | None:
        value = self.writes.get(key, MISSING)
        if value is MISSING:
            return self.base.get(key)
        return value  # type: ignore[return-value]

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


class MemoReader:
    """Remembers what it read from ``base``, for a base that does not change while it is used
    (a storage snapshot during one block's execution or one admission batch): the records every
    payment reads — organisations, limits, rules, the same identities — come from memory."""

    __slots__ = ("base", "seen")

    def __init__(self, base: StateReader) -> None:
        self.base = base
        self.seen: dict[bytes, bytes | None] = {}

    def get(self, key: bytes) -> bytes | None:
        seen = self.seen
        if key in seen:
            return seen[key]
        value = seen[key] = self.base.get(key)
        return value


class BlockView:
    """A block's view while it executes: its ``writes`` over ``base`` (the parent's state, fixed
    while the block runs), with what was read from ``base`` remembered — one layer for every
    read, however many pending blocks lie under it, and each base key read from storage once."""

    __slots__ = ("base", "seen", "writes")

    def __init__(self, base: StateReader, writes: dict[bytes, bytes | None]) -> None:
        self.base = base
        self.writes = writes
        self.seen: dict[bytes, bytes | None] = {}

    def get(self, key: bytes) -> bytes | None:
        value = self.writes.get(key, MISSING)
        if value is MISSING:
            value = self.seen.get(key, MISSING)
            if value is MISSING:
                value = self.seen[key] = self.base.get(key)
        return value  # type: ignore[return-value]

"""Reading and writing canonical records through a ``state_get`` callable or a TxState."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from consortia.codec import decode, decode_any, encode
from consortia.errors import DecodeError, InvalidCall
from consortia.execution.context import TxState

StateGet = Callable[[bytes], bytes | None]
"""Read one state key: ``TxState.get``, ``StateReader.get`` or ``dict.get`` all fit."""

T = TypeVar("T")


_decoded: dict[tuple[object, bytes], Any] = {}
_DECODED_LIMIT = 50_000


def read(state_get: StateGet, key: bytes, typ: type[T]) -> T | None:
    """The record at ``key`` decoded as ``typ`` (None if absent). Records are immutable and the
    same bytes always decode to the same value, so decoded records are remembered by their
    bytes: organisations, limits, rules and identities are read on every payment."""
    raw = state_get(key)
    return None if raw is None else decoded(raw, typ)


def decoded(raw: bytes, typ: type[T]) -> T:
    """``raw`` (a record's canonical bytes) decoded as ``typ``, remembered by its bytes."""
    cache_key = (typ, raw)
    value = _decoded.get(cache_key)
    if value is None:
        value = decode(raw, typ)
        if len(_decoded) >= _DECODED_LIMIT:
            _decoded.clear()
        _decoded[cache_key] = value
    return value  # type: ignore[no-any-return]


def remember(obj: object, raw: bytes) -> None:
    """Note that ``raw`` is ``obj``'s canonical encoding: a later :func:`decoded` of these bytes
    returns ``obj`` itself (records are immutable values)."""
    if len(_decoded) >= _DECODED_LIMIT:
        _decoded.clear()
    _decoded[(type(obj), raw)] = obj


def read_int(state_get: StateGet, key: bytes, default: int = 0) -> int:
    raw = state_get(key)
    if raw is None:
        return default
    value = decode_any(raw, int)
    return int(value)


def write(state: TxState, key: bytes, obj: object) -> None:
    """Write ``obj`` canonically; the next :func:`read` of these bytes returns ``obj`` itself
    (records are immutable values), with no decoding."""
    raw = encode(obj)
    state.set(key, raw)
    remember(obj, raw)


def next_id(state: TxState, key: bytes) -> int:
    """Take the next id from a counter record (ids start at 1) and advance it."""
    current = read_int(state.get, key, 1)
    state.set(key, encode(current + 1))
    return current


def decode_args(args: bytes, typ: object, signature: str) -> tuple[Any, ...]:
    """Decode a method's canonical argument list, or refuse the call naming the signature."""
    try:
        value = decode_any(args, typ)
    except DecodeError as exc:
        raise InvalidCall(f"arguments must be the canonical list {signature}: {exc.message}") from None
    return tuple(value)

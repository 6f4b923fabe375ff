"""Canonical, deterministic encoding of every signed or hashed object.

Objects are ``msgspec.Struct`` classes declared with ``array_like=True`` (fields as a MessagePack
array, in declaration order) and no dict or float fields. ``msgspec`` always encodes integers,
strings and byte strings in their shortest MessagePack form, so every value has exactly one
encoding. Decoding is strict: the bytes are decoded with the type's schema and then re-encoded;
anything that does not round-trip to the very same bytes (a longer integer form, trailing bytes,
an extra field) is rejected with :class:`~consortia.errors.DecodeError`.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, TypeVar

import msgspec

from consortia.errors import DecodeError

T = TypeVar("T")

_encoder = msgspec.msgpack.Encoder()


def encode(obj: Any) -> bytes:
    """The one canonical encoding of ``obj``."""
    return _encoder.encode(obj)


@lru_cache(maxsize=256)
def _decoder(typ: Any) -> msgspec.msgpack.Decoder[Any]:
    return msgspec.msgpack.Decoder(typ)


def decode(data: bytes, typ: type[T]) -> T:
    """Decode ``data`` as ``typ``, accepting only its canonical encoding."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise DecodeError(f"expected bytes for {typ.__name__}, got {type(data).__name__}")
    raw = bytes(data)
    try:
        obj = _decoder(typ).decode(raw)
    except (msgspec.DecodeError, msgspec.ValidationError, ValueError, OverflowError, RecursionError) as exc:
        raise DecodeError(f"cannot decode {typ.__name__}: {exc}") from None
    if _encoder.encode(obj) != raw:
        raise DecodeError(f"{typ.__name__} is not canonically encoded (non-minimal or trailing bytes)")
    return obj


def decode_any(data: bytes, typ: Any) -> Any:
    """Like :func:`decode` for typing constructs (``list[int]``, unions) rather than classes."""
    raw = bytes(data)
    try:
        obj = _decoder(typ).decode(raw)
    except (msgspec.DecodeError, msgspec.ValidationError, ValueError, OverflowError, RecursionError) as exc:
        raise DecodeError(f"cannot decode value: {exc}") from None
    if _encoder.encode(obj) != raw:
        raise DecodeError("value is not canonically encoded (non-minimal or trailing bytes)")
    return obj

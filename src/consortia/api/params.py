"""Strict parsing of path and query parameters: one helper per kind, used by every route.

Python's ``int()`` and ``str.isdigit()`` accept far more than a URL should carry ("²",
Arabic-Indic digits, ``1_000``, 5,000-digit numbers that raise ``ValueError`` past the
interpreter's limit, values too large for an LMDB key). Here a number is 1 to 19 ASCII digits in
a stated range, a duration is plain ASCII decimal seconds, and hex is ASCII hex of a bounded
length; anything else is a typed 400 (:class:`~consortia.errors.DecodeError`) that quotes at
most a short prefix of what was sent.
"""

from __future__ import annotations

import math
import re

from starlette.requests import Request

from consortia.errors import DecodeError

MAX_UINT = 2**63 - 1
"""The largest number any route takes (heights, ids, counts): it fits a signed 64-bit field."""
MAX_DIGITS = len(str(MAX_UINT))
_UINT = re.compile(rf"[0-9]{{1,{MAX_DIGITS}}}")
_SECONDS = re.compile(r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_MAX_NUMBER_CHARS = 64
_HEX = re.compile(r"(?:[0-9a-fA-F]{2})*")
_SHOWN = 40


def shown(text: str) -> str:
    """``text`` as quoted in an error message: repr of at most a short prefix."""
    return repr(text) if len(text) <= _SHOWN else repr(text[:_SHOWN]) + f"… ({len(text)} characters)"


def parse_uint(text: str, what: str, *, minimum: int = 0, maximum: int = MAX_UINT) -> int:
    """An integer in ``[minimum, maximum]`` written as 1 to 19 ASCII digits."""
    if _UINT.fullmatch(text) is None:
        raise DecodeError(
            f"{what} must be an integer from {minimum} to {maximum} (ASCII digits), got {shown(text)}"
        )
    value = int(text)
    if not minimum <= value <= maximum:
        raise DecodeError(f"{what} must be from {minimum} to {maximum}, got {value}")
    return value


def query_uint(
    request: Request, name: str, default: int, *, minimum: int = 0, maximum: int = MAX_UINT
) -> int:
    """Query parameter ``name`` parsed by :func:`parse_uint`, ``default`` when absent."""
    text = request.query_params.get(name)
    if text is None:
        return default
    return parse_uint(text, name, minimum=minimum, maximum=maximum)


def parse_seconds(text: str, what: str, *, maximum: float) -> float:
    """A finite, non-negative number of seconds (ASCII decimal, as Python's ``str(float)``
    writes it), capped at ``maximum``.

    ``nan``, ``inf`` and negatives are refused: every comparison with NaN is false, so a NaN
    would slip past any cap (and ``asyncio.wait_for`` would wait for ever).
    """
    number = None
    if len(text) <= _MAX_NUMBER_CHARS and _SECONDS.fullmatch(text) is not None:
        number = float(text)
    if number is None or not math.isfinite(number):
        raise DecodeError(
            f"{what} must be a finite, non-negative number of seconds like 30 or 2.5, got {shown(text)}"
        )
    return min(number, maximum)


def parse_hex(text: str, what: str, *, min_bytes: int = 0, max_bytes: int) -> bytes:
    """``0x``-prefixed (or bare) ASCII hex of ``min_bytes`` to ``max_bytes`` bytes."""
    body = text[2:] if text[:2] in ("0x", "0X") else text
    if len(body) > 2 * max_bytes or _HEX.fullmatch(body) is None:
        raise DecodeError(f"{what} must be hex of at most {max_bytes} bytes, got {shown(text)}")
    raw = bytes.fromhex(body)
    if len(raw) < min_bytes:
        raise DecodeError(f"{what} must be at least {min_bytes} bytes, got {len(raw)}")
    return raw


def parse_hash(text: str, what: str = "hash") -> bytes:
    """A 32-byte hash: 64 hex digits, ``0x`` optional."""
    body = text[2:] if text[:2] in ("0x", "0X") else text
    if len(body) != 64 or _HEX.fullmatch(body) is None:
        raise DecodeError(f"{what} must be 32 bytes (0x and 64 hex digits), got {shown(text)}")
    return bytes.fromhex(body)

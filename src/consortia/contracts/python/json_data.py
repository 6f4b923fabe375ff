"""JSON views of contract plain data: what the REST API, the SDK and the CLI exchange.

Contract arguments, results and event fields are plain data (``None``, ``bool``, ``int``,
``str``, ``bytes``, ``list``, ``dict``). JSON has no bytes, so:

| plain data            | JSON                                                      |
|-----------------------|-----------------------------------------------------------|
| ``None``, ``bool``    | ``null``, ``true``/``false``                              |
| ``int`` (64-bit)      | a number                                                  |
| ``bytes``             | ``"0x…"``: ``0x`` and an even number of hex digits         |
| ``str``               | a string; one that looks like ``0x…`` hex is ``{"$str": "0x…"}`` |
| ``list``, ``tuple``   | an array                                                  |
| ``dict``              | an object (bytes keys become ``"0x…"`` keys)               |

So an address argument is just ``"0x5f3a…"``; ``{"$bytes": "0x…"}`` is accepted too, and
``{"$str": "…"}`` passes text that would otherwise read as bytes. The mapping round-trips:
``from_json(to_json(v)) == v`` for every plain value (tuples come back as lists).
"""

from __future__ import annotations

import re
from typing import Any

from consortia.errors import DecodeError

HEX = re.compile(r"0x(?:[0-9a-fA-F]{2})*")
STR_TAG, BYTES_TAG = "$str", "$bytes"
MAX_JSON_DEPTH = 32


def looks_like_bytes(text: str) -> bool:
    return HEX.fullmatch(text) is not None


def to_json(value: Any, depth: int = 0) -> Any:
    """A JSON-ready view of plain ``value`` (bytes as ``0x`` hex)."""
    if depth > MAX_JSON_DEPTH:
        raise DecodeError(f"data is nested deeper than {MAX_JSON_DEPTH} levels")
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, str):
        return {STR_TAG: value} if looks_like_bytes(value) else value
    if isinstance(value, list | tuple):
        return [to_json(v, depth + 1) for v in value]
    if isinstance(value, dict):
        return {json_key(k): to_json(v, depth + 1) for k, v in value.items()}
    return value


def json_key(key: Any) -> str:
    if isinstance(key, bytes):
        return "0x" + key.hex()
    return key if isinstance(key, str) else str(key)


def from_json(value: Any, depth: int = 0) -> Any:
    """Plain data from its JSON view (``"0x…"`` to bytes); raises DecodeError on anything else."""
    if depth > MAX_JSON_DEPTH:
        raise DecodeError(f"arguments are nested deeper than {MAX_JSON_DEPTH} levels")
    if isinstance(value, str):
        return bytes.fromhex(value[2:]) if looks_like_bytes(value) else value
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        raise DecodeError(f"contracts take no floats (got {value!r}); use integers")
    if isinstance(value, list):
        return [from_json(v, depth + 1) for v in value]
    if isinstance(value, dict):
        return tagged(value) if is_tagged(value) else {
            k: from_json(v, depth + 1) for k, v in value.items()
        }
    raise DecodeError(f"cannot pass a {type(value).__name__} to a contract")


def is_tagged(value: dict[str, Any]) -> bool:
    return len(value) == 1 and next(iter(value)) in (STR_TAG, BYTES_TAG)


def tagged(value: dict[str, Any]) -> str | bytes:
    tag, inner = next(iter(value.items()))
    if not isinstance(inner, str):
        raise DecodeError(f'{{"{tag}": …}} takes a string')
    if tag == STR_TAG:
        return inner
    if not looks_like_bytes(inner):
        raise DecodeError(f'{{"{BYTES_TAG}": …}} takes 0x and an even number of hex digits')
    return bytes.fromhex(inner[2:])


def args_from_json(value: Any) -> list[Any]:
    """A call's argument list from JSON (must be an array)."""
    if not isinstance(value, list):
        raise DecodeError(f"contract arguments must be a JSON array, got {type(value).__name__}")
    return from_json(value)  # type: ignore[no-any-return]

"""Plain data: what crosses a contract's boundary (arguments, results, storage, events).

Only ``None``, ``bool``, ``int`` (64-bit, as MessagePack allows), ``str``, ``bytes``, ``list``,
``tuple`` and ``dict``, nested at most :data:`MAX_PLAIN_DEPTH` deep. Checked iteratively, so a
deeply nested value gives a typed error rather than a RecursionError in the encoder.
"""

from __future__ import annotations

from typing import Any

import msgspec

from consortia.codec import encode
from consortia.contracts.python.errors import BadArguments, ResourceLimit
from consortia.contracts.python.limits import MAX_PLAIN_DEPTH

SCALARS: frozenset[type] = frozenset({type(None), bool, int, str, bytes})
CONTAINERS: frozenset[type] = frozenset({list, tuple, dict})
MIN_INT, MAX_INT = -(2**63), 2**64 - 1


INT_RANGE_PROBLEM = "integers must fit 64 bits"


def plain_problem(value: Any) -> str | None:
    """Why ``value`` is not plain data, or None if it is."""
    kind = type(value)
    if kind in SCALARS:
        return INT_RANGE_PROBLEM if kind is int and not MIN_INT <= value <= MAX_INT else None
    if kind is list or kind is tuple:
        # fast path: a flat sequence of scalars (the usual argument list)
        for item in value:
            if type(item) not in SCALARS:
                return nested_problem(value)
            if type(item) is int and not MIN_INT <= item <= MAX_INT:
                return INT_RANGE_PROBLEM
        return None
    if kind is dict:
        # fast path: a flat record of scalars (the usual event)
        for k, item in value.items():
            if type(k) is not str or type(item) not in SCALARS:
                return nested_problem(value)
            if type(item) is int and not MIN_INT <= item <= MAX_INT:
                return INT_RANGE_PROBLEM
        return None
    return nested_problem(value)


def nested_problem(value: Any) -> str | None:
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        kind = type(item)
        if kind in SCALARS:
            if kind is int and not MIN_INT <= item <= MAX_INT:
                return INT_RANGE_PROBLEM
            continue
        if kind not in CONTAINERS:
            return f"a {kind.__name__} is not plain data (None, bool, int, str, bytes, list, dict)"
        if depth >= MAX_PLAIN_DEPTH:
            return f"data is nested deeper than {MAX_PLAIN_DEPTH} levels"
        if kind is dict:
            for k, v in item.items():
                stack.append((k, depth + 1))
                stack.append((v, depth + 1))
        else:
            stack.extend((x, depth + 1) for x in item)
    return None


def encode_plain(value: Any, what: str, limit: int) -> bytes:
    """Canonical bytes of ``value`` (plain data, at most ``limit`` bytes)."""
    problem = plain_problem(value)
    if problem is not None:
        raise ResourceLimit(f"{what}: {problem}")
    data = encode(value)
    if len(data) > limit:
        raise ResourceLimit(f"{what} is {len(data)} bytes encoded; the limit is {limit}", limit=limit)
    return data


_ANY_LIST = msgspec.msgpack.Decoder(list[Any])
_ANY = msgspec.msgpack.Decoder(Any)


def decode_args(raw: bytes) -> list[Any]:
    """A call's arguments: one canonical MessagePack list of plain data."""
    try:
        args = _ANY_LIST.decode(raw)
    except (msgspec.DecodeError, msgspec.ValidationError, ValueError, RecursionError) as exc:
        raise BadArguments(f"arguments must be one MessagePack list: {exc}") from None
    problem = plain_problem(args)
    if problem is not None:
        raise BadArguments(f"arguments: {problem}")
    if encode(args) != raw:
        raise BadArguments("arguments are not canonically encoded")
    return args


def copy_plain(value: Any, what: str, limit: int) -> Any:
    """A deep, independent copy of plain ``value`` (as the other side of a call would see it)."""
    return _ANY.decode(encode_plain(value, what, limit))

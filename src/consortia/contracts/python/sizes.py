"""Size checks shared by the runtime guards and the storage layer."""

from __future__ import annotations

from typing import Any

from consortia.contracts.python.errors import ResourceLimit
from consortia.contracts.python.limits import MAX_INT_BITS, MAX_SEQUENCE_LEN

SIZED_TYPES: frozenset[type] = frozenset({str, bytes, list, tuple, dict})


def size_of(value: Any) -> int:
    """Items or bytes of a builtin sized value; 0 for anything else."""
    if type(value) in SIZED_TYPES:
        return len(value)
    return 0


def check_int(value: int) -> int:
    if value.bit_length() > MAX_INT_BITS:
        raise ResourceLimit(f"integer exceeds the limit of {MAX_INT_BITS} bits", limit=MAX_INT_BITS)
    return value


def check_length(length: int, what: str = "value") -> None:
    if length > MAX_SEQUENCE_LEN:
        raise ResourceLimit(
            f"{what} would have {length} items or bytes; the limit is {MAX_SEQUENCE_LEN}",
            limit=MAX_SEQUENCE_LEN,
        )


def check_result(value: Any) -> Any:
    """``value`` if it is within the integer and length limits."""
    kind = type(value)
    if kind is int:
        return check_int(value)
    if kind in SIZED_TYPES and len(value) > MAX_SEQUENCE_LEN:
        check_length(len(value))
    return value

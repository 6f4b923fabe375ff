"""The methods of builtin values a contract may call, each with its cost and size checks.

A method not listed here is unavailable to contracts (``str.format``, ``dict.fromkeys``, ...).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from consortia.contracts.python.errors import ContractFailed
from consortia.contracts.python.sizes import check_length, check_result, size_of

if TYPE_CHECKING:
    from consortia.contracts.python.guards import Guards

Policy = Callable[["Guards", Any, str, tuple[Any, ...], dict[str, Any]], Any]


def linear(g: Guards, obj: Any, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """Cost proportional to the sizes involved; the result is checked against the limits."""
    g.charge_linear(size_of(obj) + sum(size_of(a) for a in args))
    return check_result(getattr(obj, name)(*args, **kwargs))


def constant(g: Guards, obj: Any, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    g.meter.charge(1)
    return check_result(getattr(obj, name)(*args, **kwargs))


def growing(g: Guards, obj: Any, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """In-place growth (``extend``, ``update``): materialise the argument, check the new size."""
    if args and size_of(args[0]) == 0 and not isinstance(args[0], str | bytes | list | tuple | dict):
        args = (g.materialize(args[0]), *args[1:])
    added = sum(size_of(a) for a in args) + len(kwargs)
    check_length(len(obj) + added, f"{type(obj).__name__}")
    g.charge_linear(added)
    return getattr(obj, name)(*args, **kwargs)


def appending(g: Guards, obj: Any, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    check_length(len(obj) + 1, f"{type(obj).__name__}")
    g.meter.charge(1)
    return getattr(obj, name)(*args, **kwargs)


def sorting(g: Guards, obj: Any, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    n = len(obj)
    g.charge_linear(n * max(1, n.bit_length()))
    return getattr(obj, name)(*args, **kwargs)


def padding(g: Guards, obj: Any, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """``ljust``/``rjust``/``center``/``zfill``: the width is the result's size."""
    width = args[0] if args else kwargs.get("width", 0)
    if isinstance(width, int):
        check_length(width, f"{type(obj).__name__}.{name}() result")
    return linear(g, obj, name, args, kwargs)


def replacing(g: Guards, obj: Any, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    if len(args) >= 2:
        old, new = args[0], args[1]
        g.charge_linear(len(obj))
        hits = obj.count(old)
        if len(args) >= 3 and isinstance(args[2], int) and args[2] >= 0:
            hits = min(hits, args[2])
        check_length(len(obj) + hits * max(0, size_of(new) - size_of(old)), "replace() result")
    return linear(g, obj, name, args, kwargs)


def joining(g: Guards, obj: Any, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    if len(args) != 1 or kwargs:
        return linear(g, obj, name, args, kwargs)
    items = g.materialize(args[0])
    total = sum(size_of(i) for i in items) + len(obj) * max(0, len(items) - 1)
    check_length(total, "join() result")
    g.charge_linear(total)
    return getattr(obj, name)(items)


def to_bytes(g: Guards, obj: Any, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    length = args[0] if args else kwargs.get("length", 1)
    if isinstance(length, int):
        check_length(length, "to_bytes() result")
    return linear(g, obj, name, args, kwargs)


def policy_table(default: Policy, names: str, **special: Policy) -> dict[str, Policy]:
    table = dict.fromkeys(names.split(), default)
    table.update(special)
    return table


TEXT_METHODS = (
    "capitalize count endswith find index isalnum isalpha isascii isdigit islower isspace "
    "istitle isupper lower lstrip partition removeprefix removesuffix rfind rindex rpartition "
    "rsplit rstrip split splitlines startswith strip swapcase title upper"
)
TEXT_SPECIAL: dict[str, Policy] = {
    "replace": replacing, "join": joining, "ljust": padding, "rjust": padding,
    "center": padding, "zfill": padding,
}

STR_POLICY = policy_table(linear, TEXT_METHODS + " casefold isdecimal isidentifier isnumeric encode",
                          **TEXT_SPECIAL)
BYTES_POLICY = policy_table(linear, TEXT_METHODS + " decode hex", **TEXT_SPECIAL)
INT_POLICY = policy_table(constant, "bit_length bit_count", to_bytes=to_bytes)
LIST_POLICY = policy_table(
    linear, "index count remove copy reverse pop clear",
    append=appending, insert=appending, extend=growing, sort=sorting,
)
DICT_POLICY = policy_table(
    constant, "get pop popitem setdefault keys values items clear",
    copy=linear, update=growing,
)
TUPLE_POLICY = policy_table(linear, "index count")
RANGE_POLICY = policy_table(constant, "index count")

METHOD_POLICIES: dict[type, dict[str, Policy]] = {
    str: STR_POLICY,
    bytes: BYTES_POLICY,
    int: INT_POLICY,
    bool: INT_POLICY,
    list: LIST_POLICY,
    dict: DICT_POLICY,
    tuple: TUPLE_POLICY,
    range: RANGE_POLICY,
}

DATA_ATTRIBUTES: dict[type, frozenset[str]] = {
    range: frozenset({"start", "stop", "step"}),
}


def unavailable(obj: Any, name: str) -> ContractFailed:
    return ContractFailed(f"{type(obj).__name__}.{name} is not available to contracts")

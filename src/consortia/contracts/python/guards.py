"""Runtime helpers that instrumented contract code calls around risky operations.

One :class:`Guards` per host, sharing the host's :class:`Meter`. Its bound methods are put into
every contract module's globals under ``_c_*`` names (see :meth:`Guards.globals`).
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Iterable, Iterator
from typing import Any

from consortia.contracts.python.builtin_methods import DATA_ATTRIBUTES, METHOD_POLICIES, unavailable
from consortia.contracts.python.errors import ContractFailed, ResourceLimit
from consortia.contracts.python.limits import COST_LINEAR_DIVISOR, MAX_INT_BITS, MAX_SEQUENCE_LEN
from consortia.contracts.python.metering import Meter
from consortia.contracts.python.sizes import SIZED_TYPES, check_int, check_length, check_result

FORMATTABLE: frozenset[type] = frozenset({str, int, bool, bytes, type(None)})


def is_open(obj: Any) -> bool:
    """Contract classes and their instances, and API objects: plain attribute access is safe."""
    return getattr(type(obj), "_consortia_open", False) is True


def is_user_instance(obj: Any) -> bool:
    return getattr(type(obj), "_consortia_user", False) is True and not isinstance(obj, type)


def check_plain_text(value: Any, depth: int = 0) -> None:
    """Values whose ``str``/``repr`` is the same on every node (no object addresses)."""
    kind = type(value)
    if kind in FORMATTABLE:
        return
    if kind in (list, tuple) and depth < 8:
        for item in value:
            check_plain_text(item, depth + 1)
        return
    if kind is dict and depth < 8:
        for k, v in value.items():
            check_plain_text(k, depth + 1)
            check_plain_text(v, depth + 1)
        return
    raise ContractFailed(f"a {kind.__name__} cannot be turned into text in a contract")


class Guards:
    def __init__(self, meter: Meter) -> None:
        self.meter = meter

    def globals(self) -> dict[str, Any]:
        return {
            "_c_m": self.meter,
            "_c_enter": self.meter.enter,
            "_c_add": self.add,
            "_c_sub": self.sub,
            "_c_mul": self.mul,
            "_c_pow": self.pow,
            "_c_lshift": self.lshift,
            "_c_mod": self.mod,
            "_c_iadd": self.iadd,
            "_c_imul": self.imul,
            "_c_attr": self.attr,
            "_c_callm": self.callm,
            "_c_setattr": self.setattr,
            "_c_scan": self.scan,
            "_c_slice": self.slice,
            "_c_spread": self.spread,
            "_c_fmt": self.fmt,
            "_c_iter": self.iter,
        }

    # --- costs --------------------------------------------------------------------------

    def charge_linear(self, size: int) -> None:
        self.meter.charge(1 + size // COST_LINEAR_DIVISOR)

    def metered(self, iterable: Iterable[Any], cost: int = 1) -> Iterator[Any]:
        meter = self.meter
        for item in iterable:
            meter.left -= cost
            if meter.left < 0:
                meter.out()
            yield item

    def materialize(self, iterable: Iterable[Any]) -> list[Any]:
        """A list of the items, charged per item and within the length limit."""
        if type(iterable) in SIZED_TYPES or type(iterable) is range:
            n = len(iterable)  # type: ignore[arg-type]
            self.charge_linear(n)
            check_length(n)
            return list(iterable)
        out: list[Any] = []
        for item in self.metered(iterable):
            out.append(item)
            if len(out) > MAX_SEQUENCE_LEN:
                check_length(len(out))
        return out

    # --- operators ----------------------------------------------------------------------

    def add(self, a: Any, b: Any) -> Any:
        result = a + b
        if type(result) is int:
            if result.bit_length() > MAX_INT_BITS:
                check_int(result)
            return result
        self.charge_linear(len(result))
        return check_result(result)

    def sub(self, a: Any, b: Any) -> Any:
        result = a - b
        if type(result) is int and result.bit_length() > MAX_INT_BITS:
            check_int(result)
        return result

    def mul(self, a: Any, b: Any) -> Any:
        if isinstance(a, int) and isinstance(b, int):
            return check_int(a * b)  # every int is within the limit, so the product is cheap
        count, seq = (a, b) if isinstance(a, int) else (b, a)
        if isinstance(count, int) and type(seq) in SIZED_TYPES:
            check_length(len(seq) * max(count, 0), f"{type(seq).__name__} repetition")
            self.charge_linear(len(seq) * max(count, 0))
        return check_result(a * b)

    @staticmethod
    def too_big() -> None:
        raise ResourceLimit(f"integer exceeds the limit of {MAX_INT_BITS} bits", limit=MAX_INT_BITS)

    def pow(self, a: Any, b: Any) -> Any:
        if isinstance(a, int) and isinstance(b, int):
            if b < 0:
                raise ContractFailed("a negative exponent makes a float; floats are not available")
            if a not in (0, 1, -1) and (a.bit_length() - 1) * b > MAX_INT_BITS:
                self.too_big()
            self.meter.charge(1 + b.bit_length())
            return check_int(a**b)
        return check_result(a**b)

    def lshift(self, a: Any, b: Any) -> Any:
        growing = isinstance(a, int) and isinstance(b, int) and a != 0 and b > 0
        if growing and a.bit_length() + b > MAX_INT_BITS:
            self.too_big()
        return a << b

    def mod(self, a: Any, b: Any) -> Any:
        if isinstance(a, str | bytes):
            raise ContractFailed("printf-style `%` formatting is not available: use an f-string")
        return a % b

    def iadd(self, a: Any, b: Any) -> Any:
        if type(a) is list:
            b = b if type(b) in SIZED_TYPES else self.materialize(b)
            check_length(len(a) + len(b), "list")
            self.charge_linear(len(b))
            return operator.iadd(a, b)
        return self.add(a, b)

    def imul(self, a: Any, b: Any) -> Any:
        if type(a) is list and isinstance(b, int):
            check_length(len(a) * max(b, 0), "list repetition")
            self.charge_linear(len(a) * max(b, 0))
            return operator.imul(a, b)
        return self.mul(a, b)

    # --- attributes ---------------------------------------------------------------------

    def attr(self, obj: Any, name: str) -> Any:
        if is_open(obj):
            return getattr(obj, name)
        kind = type(obj)
        table = METHOD_POLICIES.get(kind)
        if table is not None and name in table:
            return functools.partial(self.callm, obj, name)
        if name in DATA_ATTRIBUTES.get(kind, ()):
            return getattr(obj, name)
        raise unavailable(obj, name)

    def callm(self, obj: Any, name: str, /, *args: Any, **kwargs: Any) -> Any:
        if is_open(obj):
            return getattr(obj, name)(*args, **kwargs)
        table = METHOD_POLICIES.get(type(obj))
        policy = table.get(name) if table is not None else None
        if policy is None:
            raise unavailable(obj, name)
        return policy(self, obj, name, args, kwargs)

    @staticmethod
    def setattr(obj: Any, name: str, value: Any) -> None:
        if not is_user_instance(obj):
            raise ContractFailed(
                f"cannot set attribute {name!r} on a {type(obj).__name__}: only on instances "
                "of the contract's own classes"
            )
        setattr(obj, name, value)

    # --- sequences ----------------------------------------------------------------------

    def scan(self, container: Any) -> Any:
        """The right side of ``in``: charged by its size unless it is a dict (hashed)."""
        if type(container) in (list, tuple, str, bytes):
            self.charge_linear(len(container))
        return container

    def slice(self, obj: Any, lower: Any, upper: Any, step: Any) -> Any:
        result = obj[lower:upper:step]
        if type(result) in SIZED_TYPES:
            self.charge_linear(len(result))
        return result

    def spread(self, value: Any) -> Any:
        """``*value`` in a display, a call or an unpacking: materialised under metering."""
        if type(value) in SIZED_TYPES:
            self.charge_linear(len(value))
            return value
        return self.materialize(value)

    def iter(self, iterable: Any, cost: int) -> Iterator[Any]:
        return self.metered(iterable, cost)

    @staticmethod
    def fmt(value: Any) -> Any:
        if type(value) not in FORMATTABLE:
            check_plain_text(value)
        return value

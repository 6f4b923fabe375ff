"""The builtins a contract module sees: an allow-list, with metered and size-checked versions
of everything that loops in C or allocates by an argument (``sum``, ``sorted``, ``bytes(n)``...).

``int``, ``str``, ``bytes``, ``bool``, ``list``, ``tuple`` and ``dict`` are stand-in classes:
calling one builds a real value under the guards, ``isinstance`` works as usual, and storage
declarations like ``Map(bytes, int)`` map them back to the real types (:func:`real_type`).
"""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any

from consortia.contracts.python.classes import build_class
from consortia.contracts.python.errors import ContractFailed
from consortia.contracts.python.guards import Guards, check_plain_text
from consortia.contracts.python.limits import MAX_INT_TEXT
from consortia.contracts.python.rules import ALLOWED_BUILTINS
from consortia.contracts.python.sizes import SIZED_TYPES, check_int, check_length, check_result


def real_type(t: Any) -> Any:
    """The real type behind a stand-in (``bytes`` -> :class:`bytes`), generics mapped through."""
    real = getattr(t, "_real", None) if isinstance(t, GuardedType) else None
    if real is not None:
        return real
    if isinstance(t, types.GenericAlias):
        return types.GenericAlias(real_type(t.__origin__), tuple(real_type(a) for a in t.__args__))
    if isinstance(t, types.UnionType):
        out = None
        for arg in t.__args__:
            out = real_type(arg) if out is None else out | real_type(arg)
        return out
    return t


class GuardedType(type):
    _consortia_open = True
    _real: type
    _make: Callable[..., Any]

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        return cls._make(*args, **kwargs)

    def __instancecheck__(cls, obj: Any) -> bool:
        return isinstance(obj, cls._real)

    def __subclasscheck__(cls, sub: Any) -> bool:
        return issubclass(real_type(sub), cls._real)

    def __getitem__(cls, item: Any) -> Any:
        if isinstance(item, tuple):
            return cls._real[tuple(real_type(i) for i in item)]  # type: ignore[index]
        return cls._real[real_type(item)]  # type: ignore[index]

    def __or__(cls, other: Any) -> Any:
        return cls._real | real_type(other)

    def __ror__(cls, other: Any) -> Any:
        return real_type(other) | cls._real

    def __repr__(cls) -> str:
        return f"<class '{cls._real.__name__}'>"

    def __setattr__(cls, name: str, value: Any) -> None:
        raise ContractFailed(f"cannot set attribute {name!r} on {cls._real.__name__}")


def guarded_type(real: type, make: Callable[..., Any], **class_methods: Callable[..., Any]) -> type:
    namespace: dict[str, Any] = {"_real": real, "_make": staticmethod(make)}
    namespace.update({k: staticmethod(v) for k, v in class_methods.items()})
    return GuardedType(real.__name__, (), namespace)


class SafeBuiltins:
    """Builds the builtins dict of contract modules around one :class:`Guards`."""

    def __init__(self, guards: Guards) -> None:
        self.g = guards

    def build(self) -> dict[str, Any]:
        table: dict[str, Any] = {
            "abs": abs, "bin": bin, "chr": chr, "divmod": divmod, "hex": hex, "isinstance": isinstance,
            "len": len, "oct": oct, "ord": ord,
            "all": self.all, "any": self.any, "enumerate": self.enumerate, "max": self.max,
            "min": self.min, "pow": self.pow, "range": range, "repr": self.repr,
            "reversed": self.reversed, "sorted": self.sorted, "sum": self.sum, "zip": self.zip,
            "int": guarded_type(int, self.make_int, from_bytes=self.int_from_bytes),
            "str": guarded_type(str, self.make_str),
            "bytes": guarded_type(bytes, self.make_bytes, fromhex=self.bytes_fromhex),
            "bool": guarded_type(bool, bool),
            "list": guarded_type(list, self.make_list),
            "tuple": guarded_type(tuple, self.make_tuple),
            "dict": guarded_type(dict, self.make_dict),
        }
        missing = ALLOWED_BUILTINS - table.keys()
        if missing:
            raise AssertionError(f"allowed builtins without an implementation: {sorted(missing)}")
        table["__build_class__"] = build_class
        return table

    # --- constructors -------------------------------------------------------------------

    def make_int(self, value: Any = 0, *args: Any) -> int:
        if isinstance(value, str | bytes) and len(value) > MAX_INT_TEXT:
            check_length(10**9, "int() text")
        return check_int(int(value, *args))

    def int_from_bytes(self, data: Any, byteorder: str = "big", *, signed: bool = False) -> int:
        if isinstance(data, bytes):
            self.g.charge_linear(len(data))
        return check_int(int.from_bytes(data, byteorder, signed=signed))  # type: ignore[arg-type]

    def make_str(self, value: Any = "", *args: Any) -> str:
        if args:  # str(bytes, encoding[, errors]): a decode
            self.g.charge_linear(len(value))
            return str(value, *args)
        check_plain_text(value)
        return check_result(str(value))

    def make_bytes(self, value: Any = b"", *args: Any) -> bytes:
        if isinstance(value, int):
            check_length(value, "bytes(n)")
            self.g.charge_linear(value)
            return bytes(value)
        if isinstance(value, str):
            self.g.charge_linear(len(value))
            return check_result(bytes(value, *args))
        return bytes(self.g.materialize(value))

    def bytes_fromhex(self, text: str) -> bytes:
        self.g.charge_linear(len(text))
        return bytes.fromhex(text)

    def make_list(self, iterable: Any = ()) -> list[Any]:
        return self.g.materialize(iterable)

    def make_tuple(self, iterable: Any = ()) -> tuple[Any, ...]:
        return tuple(self.g.materialize(iterable))

    def make_dict(self, source: Any = (), **kwargs: Any) -> dict[Any, Any]:
        items = source if type(source) is dict else self.g.materialize(source)
        self.g.charge_linear(len(items) + len(kwargs))
        out = dict(items, **kwargs)
        check_length(len(out), "dict")
        return out

    # --- functions that loop in C ---------------------------------------------------------

    def consume(self, iterable: Any) -> Any:
        if type(iterable) in SIZED_TYPES or type(iterable) is range:
            self.g.charge_linear(len(iterable))
            return iterable
        return self.g.metered(iterable)

    def all(self, iterable: Any) -> bool:
        return all(self.consume(iterable))

    def any(self, iterable: Any) -> bool:
        return any(self.consume(iterable))

    def sum(self, iterable: Any, start: int = 0) -> Any:
        return check_result(sum(self.consume(iterable), start))

    def max(self, *args: Any, **kwargs: Any) -> Any:
        return max(*self.spread_args(args), **kwargs)

    def min(self, *args: Any, **kwargs: Any) -> Any:
        return min(*self.spread_args(args), **kwargs)

    def spread_args(self, args: tuple[Any, ...]) -> tuple[Any, ...]:
        return (self.consume(args[0]),) if len(args) == 1 else args

    def sorted(self, iterable: Any, *, key: Any = None, reverse: bool = False) -> list[Any]:
        items = self.g.materialize(iterable)
        self.g.charge_linear(len(items) * max(1, len(items).bit_length()))
        return sorted(items, key=key, reverse=reverse)

    def enumerate(self, iterable: Any, start: int = 0) -> Any:
        return enumerate(iterable, start)

    def reversed(self, sequence: Any) -> Any:
        return reversed(sequence)

    def zip(self, *iterables: Any, strict: bool = False) -> Any:
        return zip(*iterables, strict=strict)

    def pow(self, base: Any, exp: Any, mod: Any = None) -> Any:
        if mod is None:
            return self.g.pow(base, exp)
        return pow(base, exp, mod)

    def repr(self, value: Any) -> str:
        check_plain_text(value)
        return check_result(repr(value))


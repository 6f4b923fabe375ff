"""Declared result shapes of contract methods: the return annotation of a ``@view`` or
``@public`` method, read into a small vocabulary the runtime can check and the ABI can carry.

The vocabulary is the plain data of :mod:`.plain_data`, written as ordinary Python annotations
in the contract source:

| annotation                    | shape                                                         |
|-------------------------------|---------------------------------------------------------------|
| ``int``, ``str``, ``bytes``, ``bool``, ``None`` | that scalar (``bool`` is not an ``int`` here) |
| ``list[X]``                   | a list (or tuple) of ``X``                                    |
| ``dict[K, X]``                | a dict of ``K`` (``str``, ``int`` or ``bytes``) to ``X``       |
| ``X | Y``                     | either                                                        |
| ``Bill`` (a ``Record``)       | a dict with exactly the record's annotated fields             |
| ``dict``, ``list`` (bare), none | no declared shape: any plain data, unchecked (as before)   |

A record is a class deriving from ``Record`` whose body holds only annotated names::

    class Bill(Record):
        id: int
        holder: bytes
        note: str | None

Shapes are pure data (frozen dataclasses): :func:`shape_of` reads an annotation,
:func:`mismatch` says where a value breaks a shape (or None), :func:`shape_json` is the ABI's
JSON form and :func:`json_schema` the JSON Schema of a result's JSON view
(:mod:`.json_data`: bytes as ``0x`` hex, text that reads as hex as ``{"$str": ...}``).
"""

from __future__ import annotations

import functools
import inspect
import types
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from consortia.contracts.python.api import Record
from consortia.contracts.python.json_data import STR_TAG
from consortia.contracts.python.limits import MAX_SHAPE_DEPTH
from consortia.contracts.python.safe_builtins import real_type

SCALARS: dict[type, str] = {int: "int", str: "str", bytes: "bytes", bool: "bool", type(None): "null"}
KEY_TYPES = frozenset({int, str, bytes})


class ShapeError(ValueError):
    """An annotation outside the vocabulary (the loader turns it into a rejection)."""


@dataclass(frozen=True, slots=True)
class Scalar:
    kind: str  # "int", "str", "bytes", "bool", "null"


@dataclass(frozen=True, slots=True)
class ListOf:
    item: Shape


@dataclass(frozen=True, slots=True)
class DictOf:
    key: str  # "int", "str", "bytes"
    value: Shape


@dataclass(frozen=True, slots=True)
class OneOf:
    options: tuple[Shape, ...]


@dataclass(frozen=True, slots=True)
class RecordShape:
    name: str
    fields: tuple[tuple[str, Shape], ...]


Shape = Scalar | ListOf | DictOf | OneOf | RecordShape
_PYTHON_TYPE = {name: kind for kind, name in SCALARS.items()}


def is_record_class(value: Any) -> bool:
    """Whether ``value`` is a contract's ``Record`` class (the declaration base excluded)."""
    return isinstance(value, type) and issubclass(value, Record) and value is not Record


def shape_of(annotation: Any, depth: int = 0) -> Shape | None:
    """The shape ``annotation`` declares; None when it declares none (absent, bare ``dict`` or
    ``list``). Raises :class:`ShapeError` for an annotation outside the vocabulary."""
    if depth > MAX_SHAPE_DEPTH:
        raise ShapeError("a result shape is nested too deep")
    if annotation is None or annotation is type(None):
        return Scalar("null")
    if is_record_class(annotation):
        return record_shape(annotation, depth)
    real = real_type(annotation)
    if real in SCALARS:
        return Scalar(SCALARS[real])
    if real in (dict, list):
        return None
    if isinstance(real, types.UnionType):
        options = [shape_of(a, depth + 1) for a in annotation.__args__]
        if any(o is None for o in options):
            raise ShapeError("every part of a union must declare a shape (not a bare dict or list)")
        return OneOf(tuple(o for o in options if o is not None))
    if isinstance(real, types.GenericAlias):
        args = annotation.__args__
        if real.__origin__ is list and len(args) == 1:
            return ListOf(required(shape_of(args[0], depth + 1)))
        if real.__origin__ is dict and len(args) == 2 and real_type(args[0]) in KEY_TYPES:
            return DictOf(SCALARS[real_type(args[0])], required(shape_of(args[1], depth + 1)))
    raise ShapeError(
        f"{describe(annotation)} is not a result shape: use int, str, bytes, bool, None, "
        "list[X], dict[str|int|bytes, X], X | Y or a Record class"
    )


def required(shape: Shape | None) -> Shape:
    if shape is None:
        raise ShapeError("a bare dict or list inside a shape says nothing: give its item type")
    return shape


def record_shape(cls: type, depth: int) -> RecordShape:
    fields: dict[str, Shape] = {}
    for klass in reversed(cls.__mro__):
        if not is_record_class(klass):
            continue
        for name, annotation in inspect.get_annotations(klass).items():
            fields[name] = required(shape_of(annotation, depth + 1))
    return RecordShape(cls.__name__, tuple(fields.items()))


def describe(annotation: Any) -> str:
    real = real_type(annotation)
    return getattr(real, "__name__", None) or repr(real)


# --- checking -----------------------------------------------------------------------------


def fits(shape: Shape, value: Any) -> bool:
    """Whether ``value`` has ``shape`` (the fast path of :func:`mismatch`: no messages built)."""
    return checker(shape)(value)


@functools.lru_cache(maxsize=4096)
def checker(shape: Shape) -> Callable[[Any], bool]:
    """A predicate for ``shape``, built once per shape (shapes are frozen, so cached)."""
    if isinstance(shape, Scalar):
        kind = _PYTHON_TYPE[shape.kind]
        return lambda value: type(value) is kind
    if isinstance(shape, RecordShape):
        fields = tuple((name, checker(field)) for name, field in shape.fields)
        count = len(fields)

        def record(value: Any) -> bool:
            if type(value) is not dict or len(value) != count:
                return False
            for name, check in fields:  # noqa: SIM110 - a loop: this runs per field of every record
                if name not in value or not check(value[name]):
                    return False
            return True

        return record
    if isinstance(shape, ListOf):
        item = checker(shape.item)

        def sequence(value: Any) -> bool:
            if not isinstance(value, list | tuple):
                return False
            for v in value:  # noqa: SIM110 - the loop is the fast form
                if not item(v):
                    return False
            return True

        return sequence
    if isinstance(shape, OneOf):
        options = tuple(checker(option) for option in shape.options)
        return lambda value: any(option(value) for option in options)
    key_type, values = _PYTHON_TYPE[shape.key], checker(shape.value)
    return lambda value: isinstance(value, dict) and all(type(k) is key_type and values(v)
                                                         for k, v in value.items())


def mismatch(shape: Shape, value: Any, where: str = "result") -> str | None:
    """Where and how ``value`` breaks ``shape`` (None when it fits)."""
    if fits(shape, value):
        return None
    return explain(shape, value, where)


def explain(shape: Shape, value: Any, where: str) -> str | None:
    if isinstance(shape, Scalar):
        if type(value) is _PYTHON_TYPE[shape.kind]:
            return None
        return f"{where} must be {shape.kind}, got {kind_of(value)}"
    if isinstance(shape, ListOf):
        if not isinstance(value, list | tuple):
            return f"{where} must be a list, got {kind_of(value)}"
        for i, item in enumerate(value):
            problem = mismatch(shape.item, item, f"{where}[{i}]")
            if problem is not None:
                return problem
        return None
    if isinstance(shape, DictOf):
        if not isinstance(value, dict):
            return f"{where} must be a dict, got {kind_of(value)}"
        key_type = _PYTHON_TYPE[shape.key]
        for key, item in value.items():
            if type(key) is not key_type:
                return f"{where} keys must be {shape.key}, got {kind_of(key)}"
            problem = mismatch(shape.value, item, f"{where}[{key!r:.40}]")
            if problem is not None:
                return problem
        return None
    if isinstance(shape, OneOf):
        problems = [mismatch(option, value, where) for option in shape.options]
        if any(p is None for p in problems):
            return None
        return f"{where} fits none of {shape_text(shape)}: " + "; ".join(str(p) for p in problems)
    return record_mismatch(shape, value, where)


def record_mismatch(shape: RecordShape, value: Any, where: str) -> str | None:
    if not isinstance(value, dict):
        return f"{where} must be a {shape.name} record (a dict), got {kind_of(value)}"
    names = [name for name, _ in shape.fields]
    missing = [n for n in names if n not in value]
    extra = [repr(k)[:40] for k in value if k not in names]
    if missing or extra:
        said = []
        if missing:
            said.append(f"lacks {', '.join(missing)}")
        if extra:
            said.append(f"has undeclared {', '.join(extra)}")
        return f"{where} is not a {shape.name}: it {' and '.join(said)}"
    for name, field in shape.fields:
        problem = mismatch(field, value[name], f"{where}.{name}")
        if problem is not None:
            return problem
    return None


def kind_of(value: Any) -> str:
    return "None" if value is None else type(value).__name__


# --- describing ---------------------------------------------------------------------------


def shape_text(shape: Shape) -> str:
    """The annotation a shape was read from, as text (``list[Bill] | None``)."""
    if isinstance(shape, Scalar):
        return "None" if shape.kind == "null" else shape.kind
    if isinstance(shape, ListOf):
        return f"list[{shape_text(shape.item)}]"
    if isinstance(shape, DictOf):
        return f"dict[{shape.key}, {shape_text(shape.value)}]"
    if isinstance(shape, OneOf):
        return " | ".join(shape_text(o) for o in shape.options)
    return shape.name


def shape_json(shape: Shape | None) -> dict[str, Any] | None:
    """The ABI's JSON form of ``shape``: ``{"type": "int"}``, ``{"type": "list", "items": ...}``,
    ``{"type": "dict", "keys": "str", "values": ...}``, ``{"type": "union", "of": [...]}``,
    ``{"type": "record", "name": "Bill", "fields": {...}}``; None for no declared shape."""
    if shape is None:
        return None
    if isinstance(shape, Scalar):
        return {"type": shape.kind}
    if isinstance(shape, ListOf):
        return {"type": "list", "items": shape_json(shape.item)}
    if isinstance(shape, DictOf):
        return {"type": "dict", "keys": shape.key, "values": shape_json(shape.value)}
    if isinstance(shape, OneOf):
        return {"type": "union", "of": [shape_json(o) for o in shape.options]}
    return {"type": "record", "name": shape.name,
            "fields": {name: shape_json(field) for name, field in shape.fields}}


def json_shape_text(data: Any) -> str:
    """The annotation text of an ABI shape (:func:`shape_json`'s form), e.g. ``list[Bill] | None``;
    ``?`` for anything that is not such a form (a newer node's vocabulary)."""
    kind = data.get("type") if isinstance(data, dict) else None
    if kind in _PYTHON_TYPE:
        return "None" if kind == "null" else str(kind)
    if kind == "list":
        return f"list[{json_shape_text(data.get('items'))}]"
    if kind == "dict":
        return f"dict[{data.get('keys')}, {json_shape_text(data.get('values'))}]"
    if kind == "union" and isinstance(data.get("of"), list):
        return " | ".join(json_shape_text(o) for o in data["of"])
    if kind == "record":
        return str(data.get("name"))
    return "?"


HEX_SCHEMA = {"type": "string", "pattern": "^0x([0-9a-f]{2})*$"}
TEXT_SCHEMA = {"anyOf": [
    {"type": "string"},
    {"type": "object", "required": [STR_TAG], "additionalProperties": False,
     "properties": {STR_TAG: {"type": "string"}}},
]}
"""Text in a result's JSON view: a string, or ``{"$str": ...}`` for text that reads as hex."""


def json_schema(shape: Shape | None, records: dict[str, dict[str, Any]], prefix: str = "",
                ref_base: str = "#/components/schemas/") -> dict[str, Any]:  # fmt: skip
    """The JSON Schema of ``shape``'s JSON view; each record becomes ``records[prefix + name]``
    and is referred to by ``$ref`` (``{}`` for no declared shape)."""
    if shape is None:
        return {}
    if isinstance(shape, Scalar):
        return {"int": {"type": "integer"}, "bool": {"type": "boolean"}, "null": {"type": "null"},
                "bytes": dict(HEX_SCHEMA), "str": dict(TEXT_SCHEMA)}[shape.kind]
    if isinstance(shape, ListOf):
        return {"type": "array", "items": json_schema(shape.item, records, prefix, ref_base)}
    if isinstance(shape, DictOf):
        return {"type": "object",
                "additionalProperties": json_schema(shape.value, records, prefix, ref_base)}
    if isinstance(shape, OneOf):
        return {"anyOf": [json_schema(o, records, prefix, ref_base) for o in shape.options]}
    name = prefix + shape.name
    if name not in records:
        records[name] = {}  # reserved first
        records[name] = {
            "type": "object", "additionalProperties": False,
            "required": [field for field, _ in shape.fields],
            "properties": {field: json_schema(s, records, prefix, ref_base) for field, s in shape.fields},
        }
    return {"$ref": ref_base + name}

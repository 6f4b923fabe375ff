"""Typed persistent storage for contracts: ``Value`` fields and (nested) ``Map`` fields.

A field lives under ``c/s/<contract>/<field>`` in the world state; a map entry appends the
canonical MessagePack encoding of each key (self-delimiting, so nested keys never collide).
Values are stored canonically and type-checked on every write.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import msgspec

from consortia.codec import encode
from consortia.contracts.python.errors import ContractFailed, ResourceLimit
from consortia.contracts.python.limits import (
    COST_PER_32_BYTES,
    COST_STORAGE_READ,
    COST_STORAGE_WRITE,
    MAX_STORAGE_KEY_BYTES,
    MAX_STORED_VALUE_BYTES,
)
from consortia.contracts.python.plain_data import MAX_INT, MIN_INT, encode_plain
from consortia.contracts.python.safe_builtins import real_type

if TYPE_CHECKING:
    from consortia.contracts.python.frame import Frame

STORAGE_PREFIX = b"c/s/"
SIMPLE_TYPES: frozenset[type] = frozenset({int, str, bytes, bool})
ZERO_VALUES: dict[type, Any] = {int: 0, str: "", bytes: b"", bool: False}
FRESH_VALUES: dict[type, type] = {list: list, dict: dict}

_decoders: dict[Any, msgspec.msgpack.Decoder[Any]] = {}


def decoder_for(kind: Any) -> msgspec.msgpack.Decoder[Any]:
    dec = _decoders.get(kind)
    if dec is None:
        dec = _decoders[kind] = msgspec.msgpack.Decoder(kind)
    return dec


def field_prefix(contract: str, field: str) -> bytes:
    return STORAGE_PREFIX + contract.encode() + b"/" + field.encode()


class ValueType:
    """A declared storage type: checks values on write and decodes them on read."""

    __slots__ = ("default", "explicit_default", "kind")

    def __init__(self, kind: Any, default: Any, explicit_default: bool) -> None:
        self.kind = real_type(kind)
        self.default = default
        self.explicit_default = explicit_default
        if not explicit_default and self.kind not in ZERO_VALUES and self.kind not in FRESH_VALUES:
            self.default = None
        try:
            decoder_for(self.kind)
        except (TypeError, ValueError) as exc:
            raise ContractFailed(f"unsupported storage type {kind!r}: {exc}") from None

    def missing(self) -> Any:
        if self.explicit_default:
            return self.default
        fresh = FRESH_VALUES.get(self.kind)
        if fresh is not None:
            return fresh()
        return ZERO_VALUES.get(self.kind)

    def encode(self, value: Any, what: str) -> bytes:
        kind = self.kind
        if kind in SIMPLE_TYPES:
            if type(value) is not kind:
                raise ContractFailed(f"{what} holds {kind.__name__}, got {type(value).__name__}")
            if kind is int and not MIN_INT <= value <= MAX_INT:
                raise ResourceLimit(f"{what}: stored integers must fit 64 bits")
            data = encode(value)
            if len(data) > MAX_STORED_VALUE_BYTES:
                raise ResourceLimit(f"{what}: value is larger than {MAX_STORED_VALUE_BYTES} bytes")
            return data
        data = encode_plain(value, what, MAX_STORED_VALUE_BYTES)
        try:
            decoder_for(kind).decode(data)
        except (msgspec.ValidationError, msgspec.DecodeError) as exc:
            raise ContractFailed(f"{what}: value does not match its declared type: {exc}") from None
        return data

    def decode(self, data: bytes) -> Any:
        return decoder_for(self.kind).decode(data)


def read(frame: Frame, key: bytes, vtype: ValueType) -> Any:
    raw = frame.state.get(key)
    meter = frame.meter
    if raw is None:
        meter.charge(COST_STORAGE_READ)
        return vtype.missing()
    meter.charge(COST_STORAGE_READ + COST_PER_32_BYTES * (len(raw) >> 5))
    return vtype.decode(raw)


def write(frame: Frame, key: bytes, data: bytes | None) -> None:
    frame.check_writable("write to storage")
    size = 0 if data is None else len(data)
    frame.meter.charge(COST_STORAGE_WRITE + COST_PER_32_BYTES * (size >> 5))
    frame.state.set(key, data)


class Value:
    """One stored value: ``total = Value(int)``; read ``self.total``, write ``self.total = 5``."""

    _consortia_open = True
    __slots__ = ("_field", "_vtype")

    def __init__(self, kind: Any, *, default: Any = None) -> None:
        self._vtype = ValueType(kind, default, default is not None)
        self._field = ""

    def __set_name__(self, owner: type, name: str) -> None:
        object.__setattr__(self, "_field", name)

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        if instance is None:
            return self
        frame: Frame = instance._rt
        return read(frame, field_prefix(frame.contract, self._field), self._vtype)

    def __set__(self, instance: Any, value: Any) -> None:
        frame: Frame = instance._rt
        data = self._vtype.encode(value, self._field)
        write(frame, field_prefix(frame.contract, self._field), data)


class Map:
    """A stored map: ``balances = Map(bytes, int)``; nest with ``Map(bytes, Map(bytes, int))``.

    Missing keys read as the value type's zero (``0``, ``""``, ``b""``, ``False``, ``[]``,
    ``{}``) or the declared ``default``. Maps are not iterable: state has no ordered scan.
    """

    _consortia_open = True
    __slots__ = ("_field", "_key", "_value")

    def __init__(self, key: Any, value: Any, *, default: Any = None) -> None:
        self._key = real_type(key)
        if self._key not in SIMPLE_TYPES:
            raise ContractFailed("map keys must be int, str, bytes or bool")
        self._value: Map | ValueType = (
            value if isinstance(value, Map) else ValueType(value, default, default is not None)
        )
        self._field = ""

    def __set_name__(self, owner: type, name: str) -> None:
        object.__setattr__(self, "_field", name)

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        if instance is None:
            return self
        frame: Frame = instance._rt
        return MapView(frame, field_prefix(frame.contract, self._field), self, self._field)


class MapView:
    """The live view of a stored map (or of one level of a nested map) during a call."""

    _consortia_open = True
    __slots__ = ("_frame", "_prefix", "_spec", "_what")

    def __init__(self, frame: Frame, prefix: bytes, spec: Map, what: str) -> None:
        self._frame = frame
        self._prefix = prefix
        self._spec = spec
        self._what = what

    def _key(self, key: Any) -> bytes:
        kind = self._spec._key
        if type(key) is not kind:
            raise ContractFailed(f"{self._what} keys are {kind.__name__}, got {type(key).__name__}")
        if kind is int and not MIN_INT <= key <= MAX_INT:
            raise ResourceLimit(f"{self._what}: integer keys must fit 64 bits")
        full = self._prefix + encode(key)
        if len(full) > MAX_STORAGE_KEY_BYTES:
            raise ResourceLimit(f"{self._what}: key is too long")
        return full

    def __getitem__(self, key: Any) -> Any:
        full = self._key(key)
        value = self._spec._value
        if isinstance(value, Map):
            return MapView(self._frame, full, value, self._what)
        return read(self._frame, full, value)

    def __setitem__(self, key: Any, item: Any) -> None:
        value = self._spec._value
        if isinstance(value, Map):
            raise ContractFailed(f"{self._what}: set entries of a nested map one key at a time")
        write(self._frame, self._key(key), value.encode(item, self._what))

    def __delitem__(self, key: Any) -> None:
        if isinstance(self._spec._value, Map):
            raise ContractFailed(f"{self._what}: delete entries of a nested map one key at a time")
        write(self._frame, self._key(key), None)

    def __contains__(self, key: Any) -> bool:
        if isinstance(self._spec._value, Map):
            raise ContractFailed(f"{self._what}: `in` works on the innermost map only")
        full = self._key(key)
        self._frame.meter.charge(COST_STORAGE_READ)
        return self._frame.state.get(full) is not None

    def get(self, key: Any, default: Any = None) -> Any:
        """The stored value, or ``default`` when the key has no entry."""
        if key in self:
            return self[key]
        return default

    def __iter__(self) -> Any:
        raise ContractFailed(f"{self._what}: stored maps cannot be iterated")

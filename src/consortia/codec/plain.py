"""Plain JSON-friendly views of canonical objects: named fields, byte strings as ``0x`` hex.

Used for files people read (genesis, receipts on disk) and for the REST API. The signed and
hashed form is always the canonical MessagePack of :mod:`consortia.codec.canonical`; these
views convert back to exactly the same objects.
"""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec
import msgspec.inspect as mi

from consortia.errors import DecodeError

T = TypeVar("T")


def to_plain(value: Any) -> Any:
    """Structs to dicts of their fields, bytes to ``0x`` hex, lists element-wise."""
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, msgspec.Struct):
        return {f: to_plain(getattr(value, f)) for f in value.__struct_fields__}
    if isinstance(value, list | tuple):
        return [to_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: to_plain(v) for k, v in value.items()}
    return value


def from_plain(typ: type[T], data: Any) -> T:
    """Rebuild a ``typ`` from :func:`to_plain` output; raises DecodeError naming the field."""
    return _convert(mi.type_info(typ), data, typ.__name__)  # type: ignore[no-any-return]


def _convert(info: mi.Type, data: Any, where: str) -> Any:
    if isinstance(info, mi.StructType):
        if not isinstance(data, dict):
            raise DecodeError(f"{where}: expected an object")
        known = {f.name for f in info.fields}
        extra = sorted(set(data) - known)
        if extra:
            raise DecodeError(f"{where}: unknown field(s) {extra}")
        kwargs = {}
        for f in info.fields:
            if f.name in data:
                kwargs[f.name] = _convert(f.type, data[f.name], f"{where}.{f.name}")
            elif f.required:
                raise DecodeError(f"{where}: missing field {f.name!r}")
        return info.cls(**kwargs)
    if isinstance(info, mi.BytesType):
        if not isinstance(data, str):
            raise DecodeError(f"{where}: expected 0x-hex bytes")
        try:
            return bytes.fromhex(data.removeprefix("0x"))
        except ValueError:
            raise DecodeError(f"{where}: not valid hex") from None
    if isinstance(info, mi.ListType):
        if not isinstance(data, list):
            raise DecodeError(f"{where}: expected a list")
        return [_convert(info.item_type, v, f"{where}[{i}]") for i, v in enumerate(data)]
    if isinstance(info, mi.UnionType):
        if data is None and any(isinstance(t, mi.NoneType) for t in info.types):
            return None
        others = [t for t in info.types if not isinstance(t, mi.NoneType)]
        return _convert(others[0], data, where)
    if isinstance(info, mi.NoneType):
        if data is not None:
            raise DecodeError(f"{where}: expected null")
        return None
    if isinstance(info, mi.IntType):
        if not isinstance(data, int) or isinstance(data, bool):
            raise DecodeError(f"{where}: expected an integer")
        return data
    if isinstance(info, mi.StrType):
        if not isinstance(data, str):
            raise DecodeError(f"{where}: expected a string")
        return data
    if isinstance(info, mi.BoolType):
        if not isinstance(data, bool):
            raise DecodeError(f"{where}: expected true or false")
        return data
    raise DecodeError(f"{where}: unsupported type {info!r}")

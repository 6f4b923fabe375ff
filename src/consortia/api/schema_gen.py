"""JSON Schemas of the REST API's bodies, generated from the Python types the server builds them
with (decisions/0023).

Two kinds of type describe a body: the canonical msgspec Structs (``Genesis``, ``Header``,
``ReceiptProof``, ...) that the API sends through :func:`consortia.codec.plain.to_plain`, and the
``TypedDict`` views of :mod:`consortia.api.views` that route handlers return. Both are read with
``msgspec.inspect``; a Struct is described as ``to_plain`` writes it (an object of every field,
byte strings as ``0x`` hex), not as its array-like wire form, which is why this is not
``msgspec.json.schema``.
"""

from __future__ import annotations

from typing import Any

import msgspec.inspect as mi

HEX = {"type": "string", "pattern": "^0x[0-9a-f]*$"}
REF = "#/components/schemas/"


class SchemaBook:
    """Component schemas collected while describing types (one per named type)."""

    def __init__(self) -> None:
        self.components: dict[str, dict[str, Any]] = {}

    def ref(self, typ: Any) -> dict[str, Any]:
        """The schema of ``typ``: a ``$ref`` to its component for a named type."""
        return self._schema(mi.type_info(typ))

    def _schema(self, info: mi.Type) -> dict[str, Any]:
        scalar = _scalar(info)
        if scalar is not None:
            return scalar
        if isinstance(info, mi.ListType | mi.VarTupleType | mi.SetType | mi.FrozenSetType):
            return {"type": "array", "items": self._schema(info.item_type)}
        if isinstance(info, mi.TupleType):
            items = [self._schema(t) for t in info.item_types]
            return {"type": "array", "prefixItems": items, "minItems": len(items), "maxItems": len(items)}
        if isinstance(info, mi.DictType):
            return {"type": "object", "additionalProperties": self._schema(info.value_type)}
        if isinstance(info, mi.UnionType):
            return {"anyOf": [self._schema(t) for t in info.types]}
        if isinstance(info, mi.StructType | mi.TypedDictType | mi.DataclassType):
            return self._named(info)
        raise TypeError(f"no JSON Schema for {info!r}")

    def _named(self, info: mi.StructType | mi.TypedDictType | mi.DataclassType) -> dict[str, Any]:
        name = info.cls.__name__
        if name not in self.components:
            self.components[name] = {}  # reserved first: a type may refer to itself
            props = {f.name: self._schema(f.type) for f in info.fields}
            # to_plain writes every field of a Struct; a TypedDict says which keys it always has
            required = [f.name for f in info.fields if f.required or isinstance(info, mi.StructType)]
            schema: dict[str, Any] = {"type": "object", "properties": props, "required": required}
            if info.cls.__doc__ and not info.cls.__doc__.startswith(f"{name}("):
                schema["description"] = " ".join(info.cls.__doc__.split())
            self.components[name] = schema
        return {"$ref": REF + name}


def _scalar(info: mi.Type) -> dict[str, Any] | None:
    if isinstance(info, mi.AnyType):
        return {}
    if isinstance(info, mi.NoneType):
        return {"type": "null"}
    if isinstance(info, mi.BoolType):
        return {"type": "boolean"}
    if isinstance(info, mi.IntType):
        out: dict[str, Any] = {"type": "integer"}
        if info.ge is not None:
            out["minimum"] = info.ge
        if info.le is not None:
            out["maximum"] = info.le
        return out
    if isinstance(info, mi.FloatType):
        return {"type": "number"}
    if isinstance(info, mi.StrType):
        return {"type": "string"}
    if isinstance(info, mi.BytesType | mi.ByteArrayType | mi.MemoryViewType):
        return dict(HEX)
    if isinstance(info, mi.LiteralType):
        return {"enum": list(info.values)}
    if isinstance(info, mi.EnumType):
        return {"enum": [m.value for m in info.cls]}
    return None

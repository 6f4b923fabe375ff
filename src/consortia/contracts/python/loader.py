"""From checked source to a loaded contract: instrument, compile, run the module body once
(under its own fixed step budget), and find the contract class and its methods."""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from consortia.contracts.python.api import KIND_ATTRIBUTE, PUBLIC, RESERVED_NAMES, VIEW, Contract
from consortia.contracts.python.checker import check_source
from consortia.contracts.python.classes import UserMeta
from consortia.contracts.python.errors import BadArguments, ContractRejected
from consortia.contracts.python.instrument import instrument
from consortia.contracts.python.safe_builtins import real_type
from consortia.contracts.python.shapes import Shape, ShapeError, shape_of
from consortia.contracts.python.storage import SIMPLE_TYPES

INIT = "init"


@dataclass(frozen=True, slots=True)
class MethodSpec:
    name: str
    fn: Callable[..., Any]
    kind: str
    params: tuple[str, ...]
    types: tuple[type | None, ...]
    required: int
    varargs: bool
    returns: Shape | None = None
    """The result shape the method's return annotation declares (:mod:`.shapes`); None: none."""

    def check_args(self, args: list[Any]) -> None:
        if len(args) < self.required or (not self.varargs and len(args) > len(self.params)):
            expected = ", ".join(self.params) or "no arguments"
            raise BadArguments(f"{self.name}({expected}) takes {self.describe_count()}, got {len(args)}")
        for param, kind, value in zip(self.params, self.types, args, strict=False):
            if kind is not None and type(value) is not kind:
                raise BadArguments(
                    f"{self.name}: argument {param!r} must be {kind.__name__}, got {type(value).__name__}"
                )

    def describe_count(self) -> str:
        if self.required == len(self.params):
            return f"{self.required} argument(s)"
        return f"{self.required} to {len(self.params)} arguments"


@dataclass(frozen=True, slots=True)
class LoadedContract:
    code_hash: bytes
    cls: type
    methods: dict[str, MethodSpec]
    init: MethodSpec | None

    def method_names(self) -> list[str]:
        return sorted(self.methods)


def method_spec(name: str, fn: Callable[..., Any], kind: str) -> MethodSpec:
    signature = inspect.signature(fn)
    params = list(signature.parameters.values())[1:]  # drop self
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    annotations = getattr(fn, "__annotations__", {})
    types: list[type | None] = []
    for p in positional:
        real = real_type(annotations.get(p.name))
        types.append(real if real in SIMPLE_TYPES else None)
    return MethodSpec(
        returns=declared_result(annotations),
        name=name,
        fn=fn,
        kind=kind,
        params=tuple(p.name for p in positional),
        types=tuple(types),
        required=sum(1 for p in positional if p.default is p.empty),
        varargs=any(p.kind is p.VAR_POSITIONAL for p in params),
    )


def declared_result(annotations: dict[str, Any]) -> Shape | None:
    """The shape of a method's return annotation. An annotation outside the vocabulary declares
    none, as before result shapes existed, so code deployed earlier loads unchanged."""
    if "return" not in annotations:
        return None
    try:
        return shape_of(annotations["return"])
    except ShapeError:
        return None


def find_contract_class(namespace: dict[str, Any]) -> type:
    classes = [v for v in namespace.values()
               if isinstance(v, UserMeta) and issubclass(v, Contract) and v is not Contract]
    leaves = [c for c in classes if not any(o is not c and issubclass(o, c) for o in classes)]
    if len(leaves) != 1:
        found = ", ".join(sorted(c.__name__ for c in leaves)) or "none"
        raise ContractRejected(f"define exactly one contract class deriving from Contract (found: {found})",
                               line=0, rule="contract-class")
    return leaves[0]


def collect_methods(cls: type) -> tuple[dict[str, MethodSpec], MethodSpec | None]:
    methods: dict[str, MethodSpec] = {}
    init: MethodSpec | None = None
    for klass in reversed(cls.__mro__):
        if klass is Contract or klass is object:
            continue
        for name, attr in vars(klass).items():
            if name == "__init__":
                raise ContractRejected("a contract class cannot define __init__: use init()",
                                       line=0, rule="contract-init")
            if name in RESERVED_NAMES and name != INIT:
                raise ContractRejected(f"{name!r} is part of the Contract API and cannot be redefined",
                                       line=0, rule="reserved-name")
            if name == INIT and inspect.isfunction(attr):
                init = method_spec(INIT, attr, PUBLIC)
                continue
            kind = getattr(attr, KIND_ATTRIBUTE, None)
            if kind in (PUBLIC, VIEW) and inspect.isfunction(attr):
                methods[name] = method_spec(name, attr, kind)
            else:
                methods.pop(name, None)
    return methods, init


def compile_module(source: str) -> Any:
    """The code object of checked, instrumented ``source``."""
    tree = instrument(check_source(source))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return compile(tree, "<contract>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        raise ContractRejected(f"cannot compile: {type(exc).__name__}: {exc}", line=0,
                               rule="syntax") from None


def load_module(code: Any, code_hash: bytes, module_globals: dict[str, Any]) -> LoadedContract:
    """Run the module body in ``module_globals`` and describe the contract it defines."""
    exec(code, module_globals)
    cls = find_contract_class(module_globals)
    methods, init = collect_methods(cls)
    return LoadedContract(code_hash=code_hash, cls=cls, methods=methods, init=init)

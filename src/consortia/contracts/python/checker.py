"""Deploy-time validation of contract source, by its syntax tree.

Rules are allow-lists: a node type or builtin name not listed in :mod:`.rules`, or an import or
decorator not in the runtime's API (:data:`.api.API_NAMES`, derived from
:func:`.api.api_namespace`), is refused. Every refusal is a :class:`ContractRejected` naming the
line and the rule.

Decisions worth knowing:
- ``try`` is refused outright (rule ``try``), so no contract code can catch the out-of-steps
  error or any other runtime failure; a contract that wants to survive a failing call into
  another contract uses ``self.try_call``, which never swallows running out of steps.
- ``raise``, ``assert``, ``lambda``, ``with``, generators, sets and ``match`` are refused.
- Module and class bodies hold only imports, immutable constants, storage declarations,
  functions and classes, so no mutable object outlives a call.
"""

from __future__ import annotations

import ast
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from consortia.contracts.python.api import (
    API_DECORATORS,
    API_NAMES,
    RECORD_BASES,
    STORAGE_DECLARATIONS,
)
from consortia.contracts.python.errors import ContractRejected
from consortia.contracts.python.limits import (
    MAX_AST_DEPTH,
    MAX_AST_NODES,
    MAX_INT_BITS,
    MAX_SOURCE_BYTES,
)
from consortia.contracts.python.rules import (
    ALLOWED_BUILTINS,
    ALLOWED_NODES,
    API_MODULE,
    DENIED_ATTRIBUTE_PREFIXES,
    DENIED_ATTRIBUTES,
    FORBIDDEN_NODE_RULES,
)


def reject(node: ast.AST | None, rule: str, message: str) -> ContractRejected:
    return ContractRejected(message, line=getattr(node, "lineno", 0) or 0, rule=rule)


def parse_source(source: str) -> ast.Module:
    """Parse ``source`` under size limits; any parser failure becomes a rejection."""
    if not isinstance(source, str):
        raise reject(None, "source", "contract source must be text")
    if len(source.encode("utf-8", "surrogatepass")) > MAX_SOURCE_BYTES:
        raise reject(None, "size", f"source is larger than {MAX_SOURCE_BYTES} bytes")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(source, filename="<contract>", mode="exec")
    except SyntaxError as exc:
        raise reject(None, "syntax", f"syntax error: {exc.msg} (line {exc.lineno})") from None
    except (ValueError, RecursionError, MemoryError, OverflowError) as exc:
        raise reject(None, "syntax", f"source cannot be parsed: {type(exc).__name__}") from None
    check_tree_shape(tree)
    return tree


def check_tree_shape(tree: ast.AST) -> None:
    """Bound node count and nesting depth iteratively, before any recursive walk."""
    count = 0
    stack: list[tuple[ast.AST, int]] = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        count += 1
        if count > MAX_AST_NODES:
            raise reject(node, "size", f"source has more than {MAX_AST_NODES} syntax nodes")
        if depth > MAX_AST_DEPTH:
            raise reject(node, "nesting", f"code is nested deeper than {MAX_AST_DEPTH} levels")
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))


def bound_names(tree: ast.AST) -> set[str]:
    """Every name the module binds anywhere (assignments, defs, parameters, imports)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store | ast.Del):
            names.add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, ast.alias):
            names.add(node.asname or node.name)
    return names


def is_constant_expr(node: ast.expr) -> bool:
    """Immutable values computable at load time: literals, tuples, arithmetic and names."""
    if isinstance(node, ast.Constant | ast.Name):
        return True
    if isinstance(node, ast.UnaryOp):
        return is_constant_expr(node.operand)
    if isinstance(node, ast.BinOp):
        return is_constant_expr(node.left) and is_constant_expr(node.right)
    if isinstance(node, ast.Tuple):
        return all(is_constant_expr(e) for e in node.elts)
    return False


def is_type_expr(node: ast.expr) -> bool:
    """A storage type: a name (``int``), a subscript (``list[int]``) or a union (``int | None``)."""
    if isinstance(node, ast.Name | ast.Constant):
        return True
    if isinstance(node, ast.Subscript):
        return is_type_expr(node.value) and is_type_expr(node.slice)
    if isinstance(node, ast.Tuple):
        return all(is_type_expr(e) for e in node.elts)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return is_type_expr(node.left) and is_type_expr(node.right)
    return False


def is_storage_declaration(node: ast.expr, api_names: dict[str, str]) -> bool:
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
        return False
    if api_names.get(node.func.id) not in STORAGE_DECLARATIONS:
        return False
    args_ok = all(is_storage_declaration(a, api_names) or is_type_expr(a) for a in node.args)
    kw_ok = all(kw.arg is not None and is_constant_expr(kw.value) for kw in node.keywords)
    return args_ok and kw_ok


@dataclass
class Checker:
    tree: ast.Module
    api_names: dict[str, str] = field(default_factory=dict)
    defined: set[str] = field(default_factory=set)
    records: set[str] = field(default_factory=set)
    """Names of the module's ``Record`` classes (result shapes), as their definitions are met."""
    line: int = 0  # the nearest source line of the node being checked

    violations: list[ContractRejected] | None = None
    """When a list, every violation is collected in it (source order of the checks) instead of
    the first being raised."""

    def _checked(self, check: Callable[..., None], *args: Any) -> None:
        try:
            check(*args)
        except ContractRejected as exc:
            if self.violations is None:
                raise
            self.violations.append(exc)

    def run(self) -> None:
        self._checked(self.collect_imports)
        self.defined = bound_names(self.tree)
        # depth first, remembering the nearest line: operator nodes (`/`) have none of their own
        stack: list[tuple[ast.AST, int]] = [(self.tree, 0)]
        while stack:
            node, line = stack.pop()
            self.line = getattr(node, "lineno", 0) or line
            self._checked(self.check_node, node)
            stack.extend((child, self.line) for child in reversed(list(ast.iter_child_nodes(node))))
        for stmt in self.tree.body:
            self._checked(self.check_module_statement, stmt)

    # --- module structure -------------------------------------------------------------

    def collect_imports(self) -> None:
        for node in ast.walk(self.tree):
            if not isinstance(node, ast.ImportFrom):
                continue
            if node.module != API_MODULE or node.level != 0:
                raise reject(node, "import", f"only `from {API_MODULE} import ...` is allowed")
            if node not in self.tree.body:
                raise reject(node, "import", "imports belong at the top level of the module")
            for alias in node.names:
                if alias.name == "*":
                    raise reject(node, "import", "star imports are not allowed: name what you use")
                if alias.name not in API_NAMES:
                    raise reject(node, "import", f"{API_MODULE} has no {alias.name!r}; "
                                                 f"it offers {sorted(API_NAMES)}")
                self.api_names[alias.asname or alias.name] = alias.name

    def check_module_statement(self, stmt: ast.stmt) -> None:
        if isinstance(stmt, ast.ImportFrom | ast.FunctionDef):
            if isinstance(stmt, ast.FunctionDef) and stmt.decorator_list:
                raise reject(stmt, "decorator", "only methods may be decorated (@public, @view)")
            return
        if isinstance(stmt, ast.ClassDef):
            self.check_class(stmt)
            return
        if self.is_docstring(stmt):
            return
        if isinstance(stmt, ast.Assign) and self.is_constant_assignment(stmt):
            return
        raise reject(stmt, "module-level", "the module level may hold only imports, constants "
                                            "(immutable literals and tuples), functions and classes")

    def check_class(self, cls: ast.ClassDef) -> None:
        if cls.decorator_list:
            raise reject(cls, "decorator", "classes cannot be decorated")
        if cls.keywords:
            raise reject(cls, "class", "class keywords (metaclass=...) are not allowed")
        for base in cls.bases:
            if not isinstance(base, ast.Name):
                raise reject(cls, "class", "base classes must be plain names")
        if any(self.is_record_base(base) for base in cls.bases):
            self.check_record(cls)
            return
        for stmt in cls.body:
            self.check_class_statement(stmt)

    def is_record_base(self, base: ast.expr) -> bool:
        if not isinstance(base, ast.Name):
            return False
        return self.api_names.get(base.id) in RECORD_BASES or base.id in self.records

    def check_record(self, cls: ast.ClassDef) -> None:
        """A result shape: only annotated names (``holder: bytes``), a docstring or ``pass``."""
        if not all(self.is_record_base(base) for base in cls.bases):
            raise reject(cls, "record", f"record {cls.name} may derive only from Record or other records")
        self.records.add(cls.name)
        for stmt in cls.body:
            if isinstance(stmt, ast.Pass) or self.is_docstring(stmt):
                continue
            if (isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)
                    and stmt.value is None and is_type_expr(stmt.annotation)):
                continue
            raise reject(stmt, "record", f"a Record ({cls.name}) holds only annotated fields "
                                         "(`name: type`), without values or methods")

    def check_class_statement(self, stmt: ast.stmt) -> None:
        if isinstance(stmt, ast.FunctionDef):
            if stmt.name == "__init__" and stmt.decorator_list:
                raise reject(stmt, "decorator", "__init__ cannot be decorated")
            for deco in stmt.decorator_list:
                if not (isinstance(deco, ast.Name) and self.api_names.get(deco.id) in API_DECORATORS):
                    raise reject(deco, "decorator", "the only decorators are @public and @view "
                                                    f"imported from {API_MODULE}")
            if len(stmt.decorator_list) > 1:
                raise reject(stmt, "decorator", "use one of @public or @view, not both")
            return
        if isinstance(stmt, ast.Pass) or self.is_docstring(stmt):
            return
        if self.is_class_field(stmt):
            return
        raise reject(stmt, "class-body", "a class body may hold only methods, constants and "
                                          "storage declarations (Value(...), Map(...))")

    def is_class_field(self, stmt: ast.stmt) -> bool:
        if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1):
            return False
        if not isinstance(stmt.targets[0], ast.Name):
            return False
        return is_storage_declaration(stmt.value, self.api_names) or is_constant_expr(stmt.value)

    @staticmethod
    def is_docstring(stmt: ast.stmt) -> bool:
        return isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) and isinstance(
            stmt.value.value, str
        )

    @staticmethod
    def is_constant_assignment(stmt: ast.Assign) -> bool:
        return all(isinstance(t, ast.Name) for t in stmt.targets) and is_constant_expr(stmt.value)

    # --- every node ---------------------------------------------------------------------

    def check_node(self, node: ast.AST) -> None:
        kind = type(node)
        if kind not in ALLOWED_NODES:
            rule, message = FORBIDDEN_NODE_RULES.get(
                kind, ("syntax", f"{kind.__name__} is not allowed in contracts")
            )
            raise ContractRejected(message, line=getattr(node, "lineno", 0) or self.line, rule=rule)
        handler = getattr(self, "check_" + kind.__name__, None)
        if handler is not None:
            handler(node)

    def check_identifier(self, node: ast.AST, name: str | None, what: str) -> None:
        if name is not None and name.startswith("_"):
            raise reject(node, "underscore", f"{what} {name!r} starts with an underscore")

    def check_Name(self, node: ast.Name) -> None:
        self.check_identifier(node, node.id, "name")
        known = node.id in self.defined or node.id in ALLOWED_BUILTINS
        if isinstance(node.ctx, ast.Load) and not known:
            raise reject(node, "builtin", f"name {node.id!r} is not defined and is not an "
                                              f"allowed builtin ({', '.join(sorted(ALLOWED_BUILTINS))})")

    def check_Attribute(self, node: ast.Attribute) -> None:
        self.check_identifier(node, node.attr, "attribute")
        if node.attr in DENIED_ATTRIBUTES or node.attr.startswith(DENIED_ATTRIBUTE_PREFIXES):
            raise reject(node, "attribute", f"attribute {node.attr!r} is not allowed in contracts")
        if isinstance(node.ctx, ast.Del):
            raise reject(node, "attribute", "attributes cannot be deleted")

    def check_FunctionDef(self, node: ast.FunctionDef) -> None:
        for deco in node.decorator_list:
            if not (isinstance(deco, ast.Name) and self.api_names.get(deco.id) in API_DECORATORS):
                raise reject(deco, "decorator", "the only decorators are @public and @view "
                                                f"imported from {API_MODULE}")
        if node.name != "__init__":
            self.check_identifier(node, node.name, "function")
        for default in [*node.args.defaults, *(d for d in node.args.kw_defaults if d is not None)]:
            if not is_constant_expr(default):
                raise reject(default, "default", "default values must be immutable constants")

    def check_ClassDef(self, node: ast.ClassDef) -> None:
        self.check_identifier(node, node.name, "class")
        if node not in self.tree.body:
            raise reject(node, "class", "classes are defined at the module level only")

    def check_arg(self, node: ast.arg) -> None:
        self.check_identifier(node, node.arg, "parameter")

    def check_keyword(self, node: ast.keyword) -> None:
        self.check_identifier(node, node.arg, "keyword")

    def check_alias(self, node: ast.alias) -> None:
        self.check_identifier(node, node.name, "import")
        self.check_identifier(node, node.asname, "import")

    def check_Constant(self, node: ast.Constant) -> None:
        value = node.value
        if isinstance(value, float | complex):
            raise reject(node, "float", "float and complex numbers are not allowed")
        if value is Ellipsis:
            raise reject(node, "syntax", "`...` is not allowed")
        if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
            raise reject(node, "int-size", f"integer literal is larger than {MAX_INT_BITS} bits")

    def check_FormattedValue(self, node: ast.FormattedValue) -> None:
        if node.format_spec is not None:
            raise reject(node, "format-spec", "f-string format specs (`{x:...}`) are not allowed")

    def check_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            self.check_store_target(target, top=len(node.targets) == 1)

    def check_AugAssign(self, node: ast.AugAssign) -> None:
        self.check_store_target(node.target, top=True)

    def check_AnnAssign(self, node: ast.AnnAssign) -> None:
        if not isinstance(node.target, ast.Name):
            raise reject(node, "assign", "annotated assignments must target a plain name")

    def check_For(self, node: ast.For) -> None:
        self.check_store_target(node.target, top=False)

    def check_comprehension(self, node: ast.comprehension) -> None:
        if node.is_async:
            raise reject(node.target, "async", "async comprehensions are not allowed")
        self.check_store_target(node.target, top=False)

    def check_Delete(self, node: ast.Delete) -> None:
        for target in node.targets:
            if not isinstance(target, ast.Name | ast.Subscript):
                raise reject(node, "assign", "only names and items can be deleted")

    def check_store_target(self, target: ast.expr, *, top: bool) -> None:
        for sub in iter_targets(target):
            if isinstance(sub, ast.Attribute) and not (top and sub is target):
                raise reject(sub, "assign", "an attribute may only be assigned on its own "
                                            "(`obj.x = value`), not in unpacking or loops")
            if isinstance(sub, ast.Subscript) and isinstance(sub.slice, ast.Slice):
                raise reject(sub, "assign", "slice assignment is not allowed: build a new list")
            if isinstance(sub, ast.Starred | ast.Subscript | ast.Attribute | ast.Name):
                continue
            if not isinstance(sub, ast.Tuple | ast.List):
                raise reject(sub, "assign", "cannot assign to this expression")


def iter_targets(target: ast.expr) -> Iterator[ast.expr]:
    yield target
    if isinstance(target, ast.Tuple | ast.List):
        for elt in target.elts:
            yield from iter_targets(elt)
    elif isinstance(target, ast.Starred):
        yield from iter_targets(target.value)


def check_source(source: str) -> ast.Module:
    """Parse and check ``source``; the tree, or :class:`ContractRejected` naming line and rule."""
    tree = parse_source(source)
    Checker(tree).run()
    return tree


def find_violations(source: str) -> list[ContractRejected]:
    """Every rule ``source`` breaks, each with its line and rule, in line order (empty: the
    chain accepts it). A source that does not parse has that one violation."""
    try:
        tree = parse_source(source)
    except ContractRejected as exc:
        return [exc]
    found: list[ContractRejected] = []
    Checker(tree, violations=found).run()
    unique = {(v.line, v.rule, v.message): v for v in found}
    return [unique[k] for k in sorted(unique)]

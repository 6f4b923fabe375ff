"""Rewrite a checked contract tree so that it meters itself and goes through the runtime guards.

- every function entry costs 1 + its straight-line statements (``_c_enter``) and adds one to the
  call depth (undone in a ``finally``), every loop iteration costs 1 + the statements of the loop
  body (inline ``_c_m.left -= k``), every comprehension item costs 1 + its conditions
  (``_c_iter``);
- ``+ * ** << %`` (and their augmented forms) go through size-checking helpers;
- attribute reads, method calls and attribute writes go through ``_c_attr``, ``_c_callm`` and
  ``_c_setattr``, which only open contract classes, API objects and an allow-listed set of
  methods of the builtin types;
- ``in``, slices, ``*spread`` and f-string values go through charging or type-checking helpers.

Generated names start with ``_c_``: contract code can never spell them (no leading underscore),
and a single underscore escapes name mangling inside class bodies.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from typing import Any

METER = "_c_m"

BINOP_HELPERS: dict[type[ast.operator], str] = {
    ast.Add: "_c_add",
    ast.Mult: "_c_mul",
    ast.Pow: "_c_pow",
    ast.LShift: "_c_lshift",
    ast.Mod: "_c_mod",
    ast.Sub: "_c_sub",
}
INPLACE_HELPERS: dict[type[ast.operator], str] = {
    ast.Add: "_c_iadd",
    ast.Mult: "_c_imul",
}


def name(id_: str) -> ast.Name:
    return ast.Name(id=id_, ctx=ast.Load())


def call(helper: str, *args: ast.expr, keywords: Sequence[ast.keyword] = ()) -> ast.Call:
    return ast.Call(func=name(helper), args=list(args), keywords=list(keywords))


def const(value: Any) -> ast.Constant:
    return ast.Constant(value=value)


def block_cost(body: Sequence[ast.stmt]) -> int:
    """Statements of a block, counting both arms of ``if`` but not loop bodies or nested defs."""
    cost = 0
    for stmt in body:
        cost += 1
        if isinstance(stmt, ast.If):
            cost += block_cost(stmt.body) + block_cost(stmt.orelse)
        elif isinstance(stmt, ast.For | ast.While):
            cost += block_cost(stmt.orelse)
    return max(cost, 1)


def loop_charge(cost: int) -> list[ast.stmt]:
    """``_c_m.left -= cost`` then ``if _c_m.left < 0: _c_m.out()``: no call on the hot path."""
    left = ast.Attribute(value=name(METER), attr="left", ctx=ast.Store())
    dec = ast.AugAssign(target=left, op=ast.Sub(), value=const(cost))
    test = ast.Compare(
        left=ast.Attribute(value=name(METER), attr="left", ctx=ast.Load()),
        ops=[ast.Lt()],
        comparators=[const(0)],
    )
    out = ast.Expr(value=ast.Call(
        func=ast.Attribute(value=name(METER), attr="out", ctx=ast.Load()), args=[], keywords=[]
    ))
    return [dec, ast.If(test=test, body=[out], orelse=[])]


class Instrumenter(ast.NodeTransformer):
    def __init__(self) -> None:
        self.temp_counter = 0

    def temp(self) -> str:
        self.temp_counter += 1
        return f"_c_t{self.temp_counter}"

    # --- statements ---------------------------------------------------------------------

    def visit_Module(self, node: ast.Module) -> ast.Module:
        node.body = [s for s in node.body if not isinstance(s, ast.ImportFrom)]
        self.generic_visit(node)
        return node

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.FunctionDef:
        cost = block_cost(node.body)
        self.generic_visit(node)
        enter = ast.Expr(value=call("_c_enter", const(cost)))
        leave = ast.AugAssign(
            target=ast.Attribute(value=name(METER), attr="depth", ctx=ast.Store()),
            op=ast.Sub(), value=const(1),
        )
        node.body = [enter, ast.Try(body=node.body, handlers=[], orelse=[], finalbody=[leave])]
        return node

    def visit_For(self, node: ast.For) -> ast.For:
        cost = block_cost(node.body)
        self.generic_visit(node)
        node.body = [*loop_charge(cost), *node.body]
        return node

    def visit_While(self, node: ast.While) -> ast.While:
        cost = block_cost(node.body)
        self.generic_visit(node)
        node.body = [*loop_charge(cost), *node.body]
        return node

    def visit_Assign(self, node: ast.Assign) -> ast.stmt:
        self.generic_visit(node)
        target = node.targets[0]
        if len(node.targets) == 1 and isinstance(target, ast.Attribute):
            return ast.Expr(value=call("_c_setattr", target.value, const(target.attr), node.value))
        if any(isinstance(t, ast.Starred) for n in node.targets for t in ast.walk(n)):
            node.value = call("_c_spread", node.value)
        return node

    def visit_AugAssign(self, node: ast.AugAssign) -> ast.stmt | list[ast.stmt]:
        self.generic_visit(node)
        target = node.target
        helper = INPLACE_HELPERS.get(type(node.op)) or BINOP_HELPERS.get(type(node.op))

        def combine(current: ast.expr) -> ast.expr:
            if helper is None:
                return ast.BinOp(left=current, op=node.op, right=node.value)
            return call(helper, current, node.value)

        if isinstance(target, ast.Name):
            if helper is None:
                return node
            return ast.Assign(targets=[ast.Name(id=target.id, ctx=ast.Store())],
                              value=combine(name(target.id)))
        if isinstance(target, ast.Attribute):
            obj = self.temp()
            return [
                ast.Assign(targets=[ast.Name(id=obj, ctx=ast.Store())], value=target.value),
                ast.Expr(value=call("_c_setattr", name(obj), const(target.attr),
                                    combine(call("_c_attr", name(obj), const(target.attr))))),
            ]
        if isinstance(target, ast.Subscript):
            obj, key = self.temp(), self.temp()
            current = ast.Subscript(value=name(obj), slice=name(key), ctx=ast.Load())
            store = ast.Subscript(value=name(obj), slice=name(key), ctx=ast.Store())
            return [
                ast.Assign(targets=[ast.Name(id=obj, ctx=ast.Store())], value=target.value),
                ast.Assign(targets=[ast.Name(id=key, ctx=ast.Store())], value=target.slice),
                ast.Assign(targets=[store], value=combine(current)),
            ]
        return node

    # --- expressions --------------------------------------------------------------------

    def visit_BinOp(self, node: ast.BinOp) -> ast.expr:
        self.generic_visit(node)
        helper = BINOP_HELPERS.get(type(node.op))
        if helper is None:
            return node
        return call(helper, node.left, node.right)

    def visit_Attribute(self, node: ast.Attribute) -> ast.expr:
        self.generic_visit(node)
        if isinstance(node.ctx, ast.Load):
            return call("_c_attr", node.value, const(node.attr))
        return node

    def visit_Call(self, node: ast.Call) -> ast.expr:
        func = node.func
        if isinstance(func, ast.Attribute):
            obj = self.visit(func.value)
            args = [self.visit(a) for a in node.args]
            keywords = [self.visit(k) for k in node.keywords]
            return call("_c_callm", obj, const(func.attr), *args, keywords=keywords)
        self.generic_visit(node)
        return node

    def visit_Compare(self, node: ast.Compare) -> ast.Compare:
        self.generic_visit(node)
        node.comparators = [
            call("_c_scan", c) if isinstance(op, ast.In | ast.NotIn) else c
            for op, c in zip(node.ops, node.comparators, strict=True)
        ]
        return node

    def visit_Subscript(self, node: ast.Subscript) -> ast.expr:
        self.generic_visit(node)
        if isinstance(node.ctx, ast.Load) and isinstance(node.slice, ast.Slice):
            s = node.slice
            return call("_c_slice", node.value, s.lower or const(None), s.upper or const(None),
                        s.step or const(None))
        return node

    def visit_Starred(self, node: ast.Starred) -> ast.Starred:
        self.generic_visit(node)
        if isinstance(node.ctx, ast.Load):
            node.value = call("_c_spread", node.value)
        return node

    def visit_FormattedValue(self, node: ast.FormattedValue) -> ast.FormattedValue:
        self.generic_visit(node)
        node.value = call("_c_fmt", node.value)
        return node

    def visit_comprehension(self, node: ast.comprehension) -> ast.comprehension:
        self.generic_visit(node)
        node.iter = call("_c_iter", node.iter, const(1 + len(node.ifs)))
        return node


def instrument(tree: ast.Module) -> ast.Module:
    """The metered form of a checked tree (mutated in place), ready to compile."""
    out = Instrumenter().visit(tree)
    return ast.fix_missing_locations(out)

"""The allow-lists behind the deploy-time checker: what contract source may contain."""

from __future__ import annotations

import ast

API_MODULE = "consortia_contract"

ALLOWED_BUILTINS = frozenset({
    "abs", "all", "any", "bin", "bool", "bytes", "chr", "dict", "divmod", "enumerate", "hex",
    "int", "isinstance", "len", "list", "max", "min", "oct", "ord", "pow", "range", "repr",
    "reversed", "sorted", "str", "sum", "tuple", "zip",
})

DENIED_ATTRIBUTES = frozenset({
    "format", "format_map", "mro", "with_traceback", "maketrans", "translate", "expandtabs",
})
"""Attribute names refused although they do not start with an underscore."""

DENIED_ATTRIBUTE_PREFIXES = ("gi_", "cr_", "ag_", "f_", "tb_", "co_", "func_", "im_")
"""Generator, coroutine, frame, traceback and code object internals."""

ALLOWED_NODES: frozenset[type[ast.AST]] = frozenset({
    ast.Module, ast.ImportFrom, ast.alias, ast.FunctionDef, ast.ClassDef, ast.Return, ast.Delete,
    ast.Assign, ast.AugAssign, ast.AnnAssign, ast.For, ast.While, ast.If, ast.Expr, ast.Pass,
    ast.Break, ast.Continue,
    ast.BoolOp, ast.NamedExpr, ast.BinOp, ast.UnaryOp, ast.IfExp, ast.Dict, ast.List, ast.Tuple,
    ast.ListComp, ast.DictComp, ast.GeneratorExp, ast.Compare, ast.Call, ast.FormattedValue,
    ast.JoinedStr, ast.Constant, ast.Attribute, ast.Subscript, ast.Starred, ast.Name, ast.Slice,
    ast.keyword, ast.arguments, ast.arg, ast.comprehension,
    ast.Load, ast.Store, ast.Del, ast.And, ast.Or,
    ast.Add, ast.Sub, ast.Mult, ast.FloorDiv, ast.Mod, ast.Pow, ast.LShift, ast.RShift,
    ast.BitOr, ast.BitXor, ast.BitAnd, ast.Invert, ast.Not, ast.UAdd, ast.USub,
    ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Is, ast.IsNot, ast.In, ast.NotIn,
})

FORBIDDEN_NODE_RULES: dict[type[ast.AST], tuple[str, str]] = {
    ast.Import: ("import", "only `from consortia_contract import ...` is allowed"),
    ast.Try: ("try", "try/except is not allowed: use require() and let a failed call fail"),
    ast.TryStar: ("try", "try/except* is not allowed"),
    ast.With: ("with", "`with` is not allowed"),
    ast.AsyncWith: ("async", "async code is not allowed"),
    ast.AsyncFor: ("async", "async code is not allowed"),
    ast.AsyncFunctionDef: ("async", "async code is not allowed"),
    ast.Await: ("async", "async code is not allowed"),
    ast.Yield: ("generator", "generators (yield) are not allowed"),
    ast.YieldFrom: ("generator", "generators (yield from) are not allowed"),
    ast.Lambda: ("lambda", "lambda is not allowed: define a function with def"),
    ast.Global: ("global", "global is not allowed: keep state in storage"),
    ast.Nonlocal: ("global", "nonlocal is not allowed"),
    ast.Set: ("unordered", "sets are unordered: use a dict or a list"),
    ast.SetComp: ("unordered", "set comprehensions are unordered: use a dict or a list"),
    ast.Assert: ("assert", "assert is stripped by python -O: use require(condition, message)"),
    ast.Raise: ("raise", "raise is not allowed: use require(condition, message) or fail(message)"),
    ast.Match: ("match", "match statements are not allowed"),
    ast.Div: ("float", "`/` makes a float: use `//` for integer division"),
    ast.MatMult: ("operator", "`@` is not allowed"),
}

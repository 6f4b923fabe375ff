"""Limits that decide what a transaction does (and so what its receipt says) live in the limits
modules only: one place to read them, one place to change them (issue 17)."""

from __future__ import annotations

import ast
from pathlib import Path

import consortia

PACKAGES = ["contracts/python", "contracts/permissioned", "execution"]
LIMITS_MODULES = {"contracts/python/limits.py", "contracts/permissioned/limits.py"}
ALLOWED = {
    # not limits: a value of the currency's domain shared with its example contract
    ("contracts/python/examples/currency.py", "MAX_AMOUNT"),
    ("execution/accounts.py", "MAX_AMOUNT"),
    # API/tooling bounds, not consensus
    ("contracts/python/json_data.py", "MAX_JSON_DEPTH"),
    ("contracts/python/run_tests.py", "MAX_OUTPUT_CHARS"),
}


def module_limits(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    names = []
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant | ast.BinOp):
            for target in node.targets:
                if isinstance(target, ast.Name) and target.id.startswith(("MAX_", "MIN_")):
                    names.append(target.id)
    return names


def test_no_limit_is_defined_outside_the_limits_modules() -> None:
    root = Path(consortia.__file__).parent
    stray = []
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            rel = str(path.relative_to(root))
            if rel in LIMITS_MODULES:
                continue
            stray += [(rel, name) for name in module_limits(path) if (rel, name) not in ALLOWED]
    assert stray == []

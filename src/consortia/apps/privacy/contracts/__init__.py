"""The contract sources of ``apps/privacy``: modules of contract text, read with
:mod:`importlib.resources` (never imported: they import ``consortia_contract``)."""

from __future__ import annotations

from importlib import resources

CONTRACTS: tuple[str, ...] = ("privacy",)
"""The deployed names, each the name of its source file (``<name>.py``)."""


def source(name: str) -> str:
    """The contract source text deployed as ``name``."""
    if name not in CONTRACTS:
        raise KeyError(f"apps/privacy has no contract {name!r}; contracts: {list(CONTRACTS)}")
    return resources.files(__package__).joinpath(f"{name}.py").read_text(encoding="utf-8")

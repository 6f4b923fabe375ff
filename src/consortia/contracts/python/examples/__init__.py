"""Example contracts, shipped as source text."""

from __future__ import annotations

from importlib import resources


def example_source(name: str) -> str:
    """The source of the example contract ``name`` (e.g. ``"token"``)."""
    return resources.files(__package__).joinpath(f"{name}.py").read_text(encoding="utf-8")

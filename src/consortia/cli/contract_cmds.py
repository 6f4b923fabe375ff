"""``consortia contract …``, ``consortia call`` and ``consortia view`` (Python contracts)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the contract commands to the main CLI."""

"""``consortia identity …``, ``consortia gov …`` and ``consortia reg …`` (permission layer)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the identity, governance and regulator commands to the main CLI."""

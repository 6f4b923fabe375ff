"""How the CLI speaks: rich text for people, one JSON document for machines (``--json``)."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from consortia.client.arguments import InvalidArgument
from consortia.errors import ConsortiaError

F = TypeVar("F", bound=Callable[..., Any])

console = Console()
err_console = Console(stderr=True)


def emit(data: dict[str, Any], as_json: bool, human: Callable[[], None] | None = None) -> None:
    if as_json:
        sys.stdout.write(json.dumps(data) + "\n")
        sys.stdout.flush()
    elif human is not None:
        human()
    else:
        table = Table(show_header=False, box=None)
        for key, value in data.items():
            table.add_row(f"[bold]{key}[/]", str(value))
        console.print(table)


def fail(exc: ConsortiaError, as_json: bool, exit_code: int = 1) -> NoReturn:
    """One JSON document on stdout (``--json``), or one line ``error (code): message`` on
    stderr; then exit ``exit_code``."""
    if as_json:
        sys.stdout.write(json.dumps({"ok": False, "error": exc.to_dict()}, default=str) + "\n")
        sys.stdout.flush()
    else:
        message = " ".join(str(exc.message).split())
        err_console.print(f"[bold red]error[/] ({escape(str(exc.code))}): {escape(message)}",
                          soft_wrap=True)
    raise typer.Exit(exit_code)


def handles_errors(func: F) -> F:
    """Turn a typed error into a clear message (or JSON, when the command was given
    ``as_json=True``) and a non-zero exit: the one wrapper of every CLI command."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ConsortiaError as exc:
            fail(exc, bool(kwargs.get("as_json")))
        except (OverflowError, ValueError, RecursionError) as exc:  # never a traceback for input
            fail(InvalidArgument(f"{type(exc).__name__}: {exc}"[:500]), bool(kwargs.get("as_json")))

    return wrapper  # type: ignore[return-value]

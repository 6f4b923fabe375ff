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

PIPE_WIDTH = 100_000
"""Output that is not a terminal (a pipe, a file) is laid out this wide and never wrapped: what
a script or an auditor gets does not depend on ``COLUMNS`` and no value is cut with "…"."""


def _console(stderr: bool = False) -> Console:
    stream = sys.stderr if stderr else sys.stdout
    if stream.isatty():
        return Console(stderr=stderr)
    return Console(stderr=stderr, width=PIPE_WIDTH, soft_wrap=True, highlight=False)


console = _console()
err_console = _console(stderr=True)


def shorten(text: str, keep: int, tail: int = 0) -> str:
    """``text`` cut to its first ``keep`` and last ``tail`` characters around "…" for a person
    at a terminal; whole into a pipe or a file (scripts and auditors get every character)."""
    if not console.is_terminal or len(text) <= keep + tail + 1:
        return text
    return text[:keep] + "…" + (text[-tail:] if tail else "")


def plain_text(value: Any) -> str:
    """A value as a person reads it in a table: nested lists and mappings as compact JSON,
    never a Python repr."""
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, default=str, separators=(", ", ": "))
    return str(value)


def write_exact(text: str) -> None:
    """``text`` to stdout exactly as it is (a contract's source: byte for byte what is
    deployed, no markup, no wrapping, no newline added)."""
    sys.stdout.write(text)
    sys.stdout.flush()


def emit(data: dict[str, Any], as_json: bool, human: Callable[[], None] | None = None) -> None:
    if as_json:
        sys.stdout.write(json.dumps(data) + "\n")
        sys.stdout.flush()
    elif human is not None:
        human()
    elif console.is_terminal:
        table = Table(show_header=False, box=None)
        for key, value in data.items():
            table.add_row(f"[bold]{escape(str(key))}[/]", escape(plain_text(value)))
        console.print(table)
    else:  # a pipe or a file: one "key  value" line each, whole, no padding after the value
        width = max((len(str(key)) for key in data), default=0)
        for key, value in data.items():
            sys.stdout.write(f"{key!s:<{width}}  {plain_text(value)}\n")
        sys.stdout.flush()


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

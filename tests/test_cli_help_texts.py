"""Every ``--help`` of the ``consortia`` tree reads plainly: value names (TEXT, INTEGER, PATH), no
Python type in angle brackets, no ``{ID}``, no RST markup, and every option says what it does
(issue 16)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import typer.main
from typer.testing import CliRunner

from consortia.cli.help_format import PlainHelpGroup, make_help_plain, plain_text
from consortia.cli.main import app

TYPER_TYPE = re.compile(r"<(bool|str|int|float|path|file|directory|list\[[a-z]+\])>")
BRACED_ARGUMENT = re.compile(r"\{[A-Z_]+\}")
RST = re.compile(r"``|:(class|func|meth|mod|attr):`")


def command_paths(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    yield path, command
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        if not sub.hidden:
            yield from command_paths(sub, (*path, name))


ROOT = typer.main.get_command(app)
make_help_plain(ROOT)
PATHS = [path for path, _ in command_paths(ROOT)]


def help_of(path: tuple[str, ...]) -> str:
    """``consortia PATH --help`` at 200 columns, from the tree built once (as the CLI runs it)."""
    with CliRunner().isolation(env={"COLUMNS": "200"}) as (_, _, output), \
            pytest.raises(SystemExit) as exit_code:
        try:
            ROOT.main(args=[*path, "--help"], prog_name="consortia")
        finally:
            text = output.getvalue().decode()
    assert exit_code.value.code in (0, None)
    return text


def test_the_tree_is_walked_whole() -> None:
    assert isinstance(ROOT, PlainHelpGroup)
    assert len(PATHS) > 150  # every command and group of the CLI
    assert ("gov", "propose", "set-param") in PATHS and ("contract", "hash") in PATHS


@pytest.mark.parametrize("path", PATHS, ids=lambda p: " ".join(p) or "consortia")
def test_help_reads_plainly(path: tuple[str, ...]) -> None:
    text = help_of(path)
    assert "Usage: consortia" in text
    assert not TYPER_TYPE.search(text), f"a Python type in help:\n{text}"
    assert not BRACED_ARGUMENT.search(text), f"a braced argument name in help:\n{text}"
    assert not RST.search(text), f"RST markup in help:\n{text}"
    assert "Traceback" not in text


def test_every_command_and_option_says_what_it_does() -> None:
    for path, command in command_paths(ROOT):
        named = "consortia " + " ".join(path)
        assert (command.help or "").strip(), f"{named} has no help"
        for param in command.params:
            if param.param_type_name == "option" and not param.hidden:
                assert (param.help or "").strip(), f"{named} {param.opts[0]} has no help"


def test_verbose_says_what_it_does() -> None:
    for path in (("dev",), ("node", "start")):
        line = next(ln for ln in help_of(path).splitlines() if "--verbose" in ln)
        assert "Log debug lines" in line, line


def test_plain_text_drops_markup_and_docstring_line_breaks() -> None:
    assert plain_text("Go to ``OUT.pii.json``\n  (mode 0600).\n\nSee :class:`~a.b.Thing`.") == (
        "Go to OUT.pii.json (mode 0600).\n\nSee Thing."
    )
    assert plain_text(None) is None and plain_text("") == ""

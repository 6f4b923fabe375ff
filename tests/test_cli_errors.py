"""Every CLI command turns a typed error into one message (or JSON) and a non-zero exit through
the one ``handles_errors`` in ``cli/output.py`` (issue 17: it was written three times)."""

from __future__ import annotations

import ast
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

import consortia
from consortia.cli import output
from consortia.cli.main import app

SRC = Path(consortia.__file__).parent
UNWRAPPED = {"sim": "returns its own exit codes (0 clean, 1 violation, 2 bad arguments)"}


def _commands(group: typer.Typer, prefix: str = "") -> Iterator[tuple[str, Callable[..., Any]]]:
    for command in group.registered_commands:
        callback = command.callback
        assert callback is not None
        yield prefix + (command.name or callback.__name__), callback
    for sub in group.registered_groups:
        assert sub.typer_instance is not None
        yield from _commands(sub.typer_instance, f"{prefix}{sub.name} ")


def test_handles_errors_is_defined_once() -> None:
    where = [
        path.relative_to(SRC).as_posix()
        for path in sorted(SRC.rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.FunctionDef) and node.name == "handles_errors"
    ]
    assert where == ["cli/output.py"]


def test_every_command_is_wrapped_by_the_shared_handler() -> None:
    shared = output.handles_errors(lambda: None).__code__
    commands = dict(_commands(app))
    # the three command modules are all there
    modules = {c.__module__ for c in commands.values()}
    assert {"consortia.cli.main", "consortia.cli.perm_cmds", "consortia.cli.contract_cmds"} <= modules
    unwrapped = sorted(name for name, c in commands.items() if c.__code__ is not shared)
    assert unwrapped == sorted(UNWRAPPED)


NOWHERE = ["--node", "http://127.0.0.1:9"]


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["keys", "show", "/nonexistent/consortia.key"], "key_file_error"),  # main.py
        (["identity", "show", "0xzz", *NOWHERE], "bad_address"),  # perm_cmds.py
        (["view", "counter", "status", "not json", *NOWHERE], "malformed"),  # contract_cmds.py
    ],
)
def test_a_typed_error_is_one_json_document_and_exit_1(args: list[str], code: str) -> None:
    result = CliRunner().invoke(app, [*args, "--json"])
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["ok"] is False and document["error"]["code"] == code


def test_version_is_printed() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0 and result.stdout.strip() == f"consortia {consortia.__version__}"


def test_verify_of_a_missing_file_says_the_file_cannot_be_read(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["verify", str(tmp_path / "nope.json"), "--genesis",
                                      str(tmp_path / "genesis.json"), "--json"])
    assert result.exit_code != 0
    error = json.loads(result.stdout.strip().splitlines()[-1])["error"]
    assert error["code"] == "file_unreadable" and "nope.json" in error["message"], error


def test_the_default_node_comes_from_consortia_node(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONSORTIA_NODE", "http://127.0.0.1:9")
    result = CliRunner().invoke(app, ["status", "--json"])
    error = json.loads(result.stdout.strip().splitlines()[-1])["error"]
    assert result.exit_code != 0 and error["code"] == "connection_failed"
    assert "127.0.0.1:9" in error["message"], error

"""``consortia contract …``, ``consortia call`` and ``consortia view`` (Python contracts).

    consortia contract new counter                 # counter/contract.py + tests
    consortia contract test counter                # pytest on an in-process chain, no node
    consortia contract deploy counter --key alice.key --init-args '[100]'
    consortia call counter bump '[5]' --key alice.key
    consortia view counter status
    consortia contract info counter

Arguments are a JSON array; bytes (addresses) are ``"0x…"`` strings (see
:mod:`consortia.contracts.python.json_data`). A call the contract refuses exits non-zero with the
contract's own message; ``--json`` prints one JSON document.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape

from consortia.cli.connect import connect
from consortia.cli.keys import load_key
from consortia.cli.options import JSON, KEY, NODE, READ_KEY, TIMEOUT
from consortia.cli.output import console, emit, err_console, handles_errors, write_exact
from consortia.client import contracts as sdk
from consortia.client.arguments import (
    InvalidArgument,
    check_call_args,
    check_contract_name,
    check_method_name,
    check_timeout,
)
from consortia.client.wallet import Wallet
from consortia.contracts.python.checker import find_violations
from consortia.contracts.python.errors import ContractViolations
from consortia.contracts.python.json_data import args_from_json, to_json
from consortia.contracts.python.run_tests import run_contract_tests
from consortia.contracts.python.scaffold import contract_name_for, scaffold
from consortia.contracts.python.shapes import json_shape_text
from consortia.contracts.python.source_hash import code_hash_of
from consortia.errors import ConfigError, DecodeError

ARGS = typer.Argument("[]", metavar="[JSON_ARGS]", help='A JSON array, e.g. \'["0xab…", 5]\'.')

contract_app = typer.Typer(no_args_is_help=True, help="Write, test, deploy and inspect Python contracts.")


def register(app: typer.Typer) -> None:
    """Add the contract commands to the main CLI."""
    app.add_typer(contract_app, name="contract")
    app.command("call")(call_command)
    app.command("view")(view_command)




def parse_args(text: str) -> list[Any]:
    """A JSON array of plain data (bytes as ``"0x…"``), or a typed error (``malformed``,
    ``invalid_argument``): never a traceback for a huge number or deep nesting."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DecodeError(f"arguments must be a JSON array: {exc}") from None
    except (ValueError, RecursionError) as exc:  # e.g. an integer of more than 4300 digits
        raise DecodeError(f"arguments must be a JSON array of plain data: {str(exc)[:200]}") from None
    try:
        values = args_from_json(value)
    except RecursionError:
        raise InvalidArgument("arguments are nested too deeply") from None
    return check_call_args(values, "arguments")



def source_file(path: Path) -> Path:
    """``PATH`` itself, or ``PATH/contract.py`` for a folder made by ``contract new``."""
    file = path / "contract.py" if path.is_dir() else path
    if not file.is_file():
        raise ConfigError(f"{file} does not exist (give a contract file or a folder with contract.py)")
    return file


def checked_source(file: Path) -> str:
    """The source in ``file`` if the chain's contract rules accept it; otherwise every
    violation at once (:class:`ContractViolations`), before anything is signed."""
    source = file.read_text(encoding="utf-8")
    violations = find_violations(source)
    if violations:
        raise ContractViolations(str(file), violations)
    return source


def print_receipt(receipt: sdk.ContractReceipt, what: str, attempt: str | None = None) -> None:
    """``what`` (``deployed 'x' in``) on success; on failure it says so first, naming the
    ``attempt`` (``deploying 'x'``), so a failure never reads like a success."""
    if receipt.ok:
        console.print(f"{what} 0x{receipt.tx_hash.hex()} committed at height {receipt.height}: "
                      f"[bold green]ok[/], {receipt.steps} steps")
    else:
        console.print(f"[bold red]failed[/]: {escape(attempt or what)} (0x{receipt.tx_hash.hex()} at "
                      f"height {receipt.height}: {escape(receipt.status)}, {receipt.steps} steps; "
                      "nothing changed but the sender's nonce)")
    for event in receipt.events:
        fields = json.dumps(to_json(event.fields))
        console.print(f"  event {event.contract}.{event.name} {fields}")
    if not receipt.ok:
        err_console.print(f"[bold red]error[/] ({receipt.status}): {receipt.error}")


def finish(receipt: sdk.ContractReceipt, as_json: bool, what: str, attempt: str | None = None,
           **extra: Any) -> None:
    """Print a receipt; exit non-zero (with the contract's message) if the call failed."""
    data = {**receipt.to_json(), **extra}
    if not receipt.ok:
        data["code"] = receipt.status
    emit(data, as_json, lambda: print_receipt(receipt, what, attempt))
    if not receipt.ok:
        raise typer.Exit(1)


# --- authoring ----------------------------------------------------------------------------


@contract_app.command("new")
@handles_errors
def contract_new(
    name: str = typer.Argument(..., help="Contract name: lowercase letters, digits and _."),
    directory: Path = typer.Option(Path("."), "--dir", help="Where to create the NAME folder."),
    as_json: bool = JSON,
) -> None:
    """Scaffold NAME/contract.py (a small working contract) and NAME/test_contract.py."""
    folder = scaffold(name, directory)
    files = [str(folder / f) for f in ("contract.py", "test_contract.py", "conftest.py")]
    emit({"ok": True, "name": name, "dir": str(folder), "files": files}, as_json, lambda: console.print(
        f"[bold green]created[/] {folder}/ (contract.py, test_contract.py, conftest.py)\n"
        f"  next: consortia contract test {folder}"))


@contract_app.command("test")
@handles_errors
def contract_test(
    path: Path = typer.Argument(Path("."), help="Folder (or file) of contract tests."),
    pytest_args: list[str] = typer.Option([], "--pytest-arg", help="Extra argument for pytest."),
    as_json: bool = JSON,
) -> None:
    """Run the contract's tests with pytest on an in-process chain (no node needed)."""
    if not path.exists():
        raise ConfigError(f"{path} does not exist")
    result = run_contract_tests(path, pytest_args, capture=as_json)
    if as_json:  # in text mode pytest has printed its own report
        emit(result, as_json)
    if not result["ok"]:
        raise typer.Exit(1)


# --- on a node ----------------------------------------------------------------------------


@contract_app.command("check")
@handles_errors
def contract_check(
    path: Path = typer.Argument(..., help="Contract file, or a folder with contract.py."),
    as_json: bool = JSON,
) -> None:
    """Check a contract against the chain's rules locally: every violation with its line and
    rule (non-zero exit if there is any). deploy and upgrade run this first."""
    file = source_file(path)
    violations = find_violations(file.read_text(encoding="utf-8"))
    data = {"ok": not violations, "file": str(file),
            "violations": [{"line": v.line, "rule": v.rule, "message": v.reason} for v in violations]}

    def human() -> None:
        if not violations:
            console.print(f"[bold green]ok[/]: {escape(str(file))} follows every contract rule")
            return
        for v in violations:
            console.print(f"{escape(str(file))}:{v.line}: [bold red]\\[{escape(v.rule)}][/] "
                          f"{escape(v.reason)}", highlight=False)
        console.print(f"{len(violations)} violation(s)")

    emit(data, as_json, human)
    if violations:
        raise typer.Exit(1)


@contract_app.command("hash")
@handles_errors
def contract_hash(
    path: Path = typer.Argument(..., help="Contract file, or a folder with contract.py."),
    as_json: bool = JSON,
) -> None:
    """Print the code hash of a contract's source: what `gov propose deploy-contract --code-hash`
    and `upgrade-contract --code-hash` approve on a chain with organisations. The source must
    follow the contract rules (as deploy checks)."""
    file = source_file(path)
    code_hash = "0x" + code_hash_of(checked_source(file)).hex()
    name = contract_name_for(file.resolve())
    emit({"file": str(file), "name": name, "code_hash": code_hash}, as_json,
         lambda: console.print(code_hash, markup=False, highlight=False))


@contract_app.command("deploy")
@handles_errors
def contract_deploy(
    path: Path = typer.Argument(..., help="Contract file, or a folder with contract.py."),
    key: Path = KEY,
    name: str = typer.Option(None, "--name", help="Contract name (default: from the path)."),
    init_args: str = typer.Option("[]", "--init-args", help="JSON array of init() arguments."),
    node: str = NODE,
    timeout: float = TIMEOUT,
    as_json: bool = JSON,
) -> None:
    """Deploy a contract and wait for finality; its init() runs with --init-args."""
    file = source_file(path)
    source = checked_source(file)
    contract = check_contract_name(name or contract_name_for(file.resolve()))
    values = parse_args(init_args)
    check_timeout(timeout)
    signer = load_key(key)
    with connect(node, signer, timeout=timeout + 10) as client:
        receipt = sdk.deploy(Wallet(signer, client), contract, source,
                             values, timeout=timeout, check=False)
        extra: dict[str, Any] = {"name": contract}
        if receipt.ok:
            extra["code_hash"] = sdk.info(client, contract)["code_hash"]
    finish(receipt, as_json, f"deployed {contract!r} in", f"deploying {contract!r}", **extra)


@contract_app.command("upgrade")
@handles_errors
def contract_upgrade(
    path: Path = typer.Argument(..., help="New contract file, or a folder with contract.py."),
    key: Path = KEY,
    name: str = typer.Option(None, "--name", help="Contract name (default: from the path)."),
    node: str = NODE,
    timeout: float = TIMEOUT,
    as_json: bool = JSON,
) -> None:
    """Replace a contract's code, keeping its state (owner only; governance where required)."""
    file = source_file(path)
    source = checked_source(file)
    contract = check_contract_name(name or contract_name_for(file.resolve()))
    check_timeout(timeout)
    signer = load_key(key)
    with connect(node, signer, timeout=timeout + 10) as client:
        receipt = sdk.upgrade(Wallet(signer, client), contract, source,
                              timeout=timeout, check=False)
    finish(receipt, as_json, f"upgraded {contract!r} in", f"upgrading {contract!r}", name=contract)


@contract_app.command("info")
@handles_errors
def contract_info(
    name: str = typer.Argument(..., help="Contract name."),
    source: bool = typer.Option(False, "--source", help="Print the deployed source instead."),
    node: str = NODE, key: Path | None = READ_KEY,
    as_json: bool = JSON,
) -> None:
    """Version, code hash, owner, versions and methods of a deployed contract."""
    name = check_contract_name(name)
    with connect(node, key) as client:
        if source:
            text = sdk.source(client, name)
            emit({"name": name, "source": text}, as_json, lambda: write_exact(text))
            return
        data = sdk.info(client, name)
    emit(data, as_json, lambda: print_info(data))


def print_info(data: dict[str, Any]) -> None:
    console.print(f"[bold]{data['name']}[/] version {data['version']}  code {data['code_hash']}")
    console.print(f"  owner {data['owner']}, deployed or upgraded at height {data['height']}")
    for entry in data.get("versions", []):
        console.print(f"  version {entry['version']}  code {entry['code_hash']}")
    for method, spec in data["methods"].items():
        returns = spec.get("returns")
        shown = "" if returns is None else f" -> {json_shape_text(returns)}"
        console.print(f"  @{spec['kind']} {method}({', '.join(spec['params'])}){escape(shown)}")


@handles_errors
def call_command(
    contract: str = typer.Argument(..., help="Contract name."),
    method: str = typer.Argument(..., help="A @public method."),
    json_args: str = ARGS,
    key: Path = KEY,
    node: str = NODE,
    timeout: float = TIMEOUT,
    as_json: bool = JSON,
) -> None:
    """Call a contract method in a transaction and wait for finality (non-zero exit if it fails).

    Prints the status, steps used and events; a failure prints the contract's own message.
    The names, arguments and timeout are checked before the key is read or anything is signed."""
    contract, method = check_contract_name(contract), check_method_name(method)
    values = parse_args(json_args)
    check_timeout(timeout)
    signer = load_key(key)
    with connect(node, signer, timeout=timeout + 10) as client:
        receipt = sdk.send(Wallet(signer, client), contract, method, values, timeout, check=False)
    finish(receipt, as_json, f"{contract}.{method}")


@handles_errors
def view_command(
    contract: str = typer.Argument(..., help="Contract name."),
    method: str = typer.Argument(..., help="A @view method."),
    json_args: str = ARGS,
    node: str = NODE, key: Path | None = READ_KEY,
    as_json: bool = JSON,
) -> None:
    """Run a read-only view on the node's committed state and print its result."""
    contract, method = check_contract_name(contract), check_method_name(method)
    values = parse_args(json_args)
    with connect(node, key) as client:
        result = sdk.view(client, contract, method, *values)
    plain = to_json(result)
    emit({"ok": True, "contract": contract, "method": method, "result": plain}, as_json,
         lambda: console.print(json.dumps(plain), markup=False, highlight=False))

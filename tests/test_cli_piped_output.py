"""What the CLI prints into a pipe does not depend on the terminal: the same bytes at 40 and at
200 columns, nothing wrapped, nothing cut with "…", a contract's source byte for byte what is
deployed, and no Python repr in text output (issue 16)."""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer.main
from tests.procs import CLI, NetNode, cli_json, free_port_base, reader_env, wait_for
from typer.testing import CliRunner

from consortia.apps.cbdc.contracts import source as cbdc_source
from consortia.cli.help_format import make_help_plain
from consortia.cli.main import app
from consortia.crypto.keyfile import save_key_file
from consortia.crypto.keys import KeyPair

pytestmark = pytest.mark.slow
ORGS = "cb:central-bank,bank-a:bank,bank-b:bank,reg:regulator"
WIDTHS = (40, 200)
Net = tuple[Path, dict[str, Any], NetNode]


def settled(text: str) -> str:
    """``text`` with hex strings, numbers and runs of blanks made uniform: a live height or
    block id may move between two runs, wrapping or cutting may not."""
    text = re.sub(r"0x[0-9a-f]+", "0xH", text)
    return re.sub(r"[ \t]+", " ", re.sub(r"\d+", "N", text))


def piped(args: list[str], columns: int) -> str:
    """``consortia ARGS`` with its output into a pipe and ``COLUMNS`` set; its stdout."""
    env = {**reader_env(args), **os.environ, "COLUMNS": str(columns), "TERM": "xterm-256color"}
    proc = subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=90,
                          stdin=subprocess.DEVNULL, env=env)
    assert proc.returncode == 0, f"consortia {' '.join(args)}:\n{proc.stdout}\n{proc.stderr}"
    assert "Traceback" not in proc.stderr
    return proc.stdout


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("piped") / "net"
    info = cli_json("network", "init", "--validators", "1", "--home", str(root), "--base-port",
                    str(free_port_base(1, p2p_offset=100)), "--orgs", ORGS)
    node = NetNode(Path(info["nodes"][0]["home"]), info["nodes"][0]["api"])
    node.start()
    try:
        wait_for(lambda: node.height() >= 1, 30, "first block")
        yield root, info, node
    finally:
        node.stop()


def test_piped_output_is_the_same_at_any_width_and_never_cut(net: Net) -> None:
    root, info, node = net
    url = node.url
    member = info["keys"][0]
    other = info["keys"][1]
    sent = cli_json("transfer", "--key", member["file"], "--to", other["address"], "--amount", "7",
                    "--node", url)
    tx_hash = sent["tx_hash"]
    status = cli_json("status", "--node", url)
    commands = [
        ["status", "--node", url],
        ["balance", member["address"], "--node", url],
        ["tx", tx_hash, "--node", url],
        ["block", str(sent["height"]), "--node", url],
        ["identity", "show", member["address"], "--node", url],
        ["reg", "audit", member["address"], "--node", url],
        ["network", "status", "--home", str(root)],
        ["contract", "info", "escrow", "--node", url],
    ]
    for args in commands:
        narrow, wide = (piped(args, w) for w in WIDTHS)
        assert settled(narrow) == settled(wide), f"consortia {' '.join(args)} depends on the terminal width"
        assert "…" not in wide, f"consortia {' '.join(args)} cut a value:\n{wide}"
        assert "{'" not in wide and "b'" not in wide, f"a Python repr in:\n{wide}"
    # every hash is printed whole
    assert tx_hash in piped(["tx", tx_hash, "--node", url], 40)
    assert status["state_root"] in piped(["status", "--node", url], 40)
    audit = piped(["reg", "audit", member["address"], "--node", url], 40)
    assert member["address"] in audit
    info_text = piped(["contract", "info", "escrow", "--node", url], 40)
    contract = cli_json("contract", "info", "escrow", "--node", url)
    for version in contract["versions"]:
        assert version["code_hash"] in info_text  # the versions and their code hashes, as the guide says


def test_contract_source_is_byte_exact(net: Net, tmp_path: Path) -> None:
    _, _, node = net
    for width in WIDTHS:
        out = tmp_path / f"escrow-{width}.py"
        out.write_text(piped(["contract", "info", "escrow", "--source", "--node", node.url], width))
        assert out.read_bytes() == cbdc_source("escrow").encode()
    as_json = json.loads(piped(["contract", "info", "escrow", "--source", "--json", "--node", node.url], 40))
    assert as_json["source"] == cbdc_source("escrow")


def test_a_proposal_says_what_it_still_needs(net: Net) -> None:
    _, info, node = net
    admins = {o["name"]: o["admin_key"] for o in info["orgs"]}
    proposed = cli_json("gov", "propose", "set-param", "--name", "max_block_txs", "--value", "4000",
                        "--key", admins["cb"], "--node", node.url)
    pid = str(proposed["proposal_id"])
    shown = piped(["gov", "show", pid, "--node", node.url], 80)
    assert f"proposal {pid}: set-param, open (1 of 3 approvals; 2 more needed by height" in shown, shown
    assert "payload   name=max_block_txs  value=4000" in shown and "votes     cb approve at" in shown
    assert not any(line.startswith("{") for line in shown.splitlines()), shown  # no stray JSON
    voted = piped(["gov", "vote", pid, "--approve", "--key", admins["bank-a"], "--node", node.url], 80)
    assert "(2 of 3 approvals; 1 more needed by height" in voted, voted


def test_the_console_is_connected_and_preloaded(net: Net) -> None:
    root, info, node = net
    first, second = info["keys"][0], info["keys"][1]
    script = (
        "print('height-ok', client.height() >= 1)\n"
        f"result = {first['name']}.transfer({second['name']}.address, 3)\n"
        "print('status', result.status)\n"
        "print('sdks', all(m in globals() for m in ('cbdc', 'bills', 'notary', 'energy', 'scf', 'health')))\n"
    )
    proc = subprocess.run([*CLI, "console", "--node", node.url, "--home", str(root)], input=script,
                          capture_output=True, text=True, timeout=90)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["height-ok True", "status ok", "sdks True"], proc.stdout + proc.stderr


# --- every command of the tree ------------------------------------------------------------------

LONG_RUNNING = {
    ("up",): "runs a network until Ctrl-C (the tours run it)",
    ("dev",): "runs a chain until Ctrl-C (the tours run it)",
    ("node", "start"): "runs a node until Ctrl-C",
    ("console",): "an interactive session (test_the_console_is_connected_and_preloaded)",
    ("watch",): "follows blocks until Ctrl-C",
    ("sim",): "minutes of simulation (the short tour runs it)",
    ("contract", "test"): "runs pytest on a folder (the first-contract tour runs it)",
}
"""Commands the walk does not run, each with where its output is looked at instead."""

ADDRESS_NAMES = {"address", "owner", "drawee", "core", "borrower", "lender", "payee", "supplier", "buyer",
                 "seller", "to", "against", "bank", "releaser", "party", "patient", "grantee", "meter",
                 "admins", "payees"}
ID_NAMES = {"bill_id", "escrow_id", "earmark_id", "loan_id", "part_id", "payable_id", "payment_id",
            "proposal_id", "request_id", "serial", "trade_id", "ref", "tier", "kyc_tier", "period",
            "amount", "price", "kwh", "wh", "max_w", "limit", "value", "rate_bps", "api_port", "p2p_port",
            "first_height", "deadline_height", "expires_height"}
DATE_NAMES = {"maturity", "due", "until"}
FILE_NAMES = {"file", "files", "path", "receipt", "bundle", "bundles", "pii", "request", "home", "org_home",
              "report"}
KEY_NAMES = {"key", "org_key", "meter_key"}


def command_tree(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    subs = getattr(command, "commands", None)
    if subs:
        for name, sub in sorted(subs.items()):
            yield from command_tree(sub, (*path, name))
    else:
        yield path, command


def value_for(name: str, world: dict[str, str]) -> str:
    """A plausible value for a parameter called ``name`` (the command may still refuse it)."""
    if name in ADDRESS_NAMES:
        return world["address"]
    if name in ID_NAMES:
        return "7"
    if name in DATE_NAMES:
        return "+90d"
    if name in KEY_NAMES:
        return world["stranger"]
    if name in FILE_NAMES:
        return world["dir"] + "/missing.json"
    named = {"tx_hash": world["tx_hash"], "digest": "0x" + "ab" * 32, "record": "0x" + "ab" * 32,
             "code_hash": "0x" + "ab" * 32, "genesis": world["genesis"], "out": world["dir"] + "/out",
             "url": world["url"], "contract": "escrow", "method": "status", "name": "walk",
             "amounts": "3,4", "date": "2025-03-01", "number": "INV-1", "chain_id": "walk-1",
             "host": "127.0.0.1", "role": "bank", "kind": "cheque", "org": "bank-a", "what": world["genesis"],
             "item": "urn:epc:id:sgtin:0614141.107346.2017", "parent": "urn:epc:id:sscc:0614141.1234567890",
             "children": "urn:epc:id:sgtin:0614141.107346.2018",
             "inputs": "urn:epc:id:sgtin:0614141.107346.1", "outputs": "urn:epc:id:sgtin:0614141.107346.2",
             "invoice": "0x" + "cd" * 32}
    return named.get(name, "walk text")


def argv_for(path: tuple[str, ...], command: Any, world: dict[str, str]) -> list[str]:
    args, options = [], []
    for param in command.params:
        if param.param_type_name == "argument" and param.required:
            args.append(value_for(param.name, world))
        elif param.param_type_name == "option" and param.required:
            if param.is_flag or param.secondary_opts:
                options.append(param.opts[0])
            else:
                options += [param.opts[0], value_for(param.name, world)]
        elif param.param_type_name == "option" and "--node" in param.opts:
            options += ["--node", world["url"]]
    return [*path, *args, *options]


def run_in_process(root: Any, argv: list[str], columns: int, cwd: Path) -> str:
    """``consortia ARGV`` in this process from ``cwd``, its output into a pipe, ``COLUMNS`` set."""
    before = Path.cwd()
    os.chdir(cwd)
    env = {"COLUMNS": str(columns), "CONSORTIA_KEY_PASSWORD": "walk"}
    with contextlib.chdir(before), CliRunner().isolation(env=env) as (_, _, output):
        try:
            root.main(args=argv, prog_name="consortia")
        except SystemExit:
            pass
        finally:
            text = output.getvalue().decode()
    return text


def test_every_command_prints_the_same_at_any_width(net: Net, tmp_path: Path) -> None:
    """Every command of ``consortia``'s tree (but the long-running ones, named above), run with
    plausible arguments against the module's node, in-process into a pipe at COLUMNS=40 and 200:
    the same text, nothing cut with "…", no traceback, no Python repr. A signing command signs
    with a key no identity holds, so the node refuses it at admission (nothing changes and
    both runs say the same); a refusal's text goes through the same console as a success's."""
    root_dir, info, node = net
    stranger = tmp_path / "stranger.key"
    save_key_file(stranger, KeyPair.generate("ed25519"), None)
    sent = cli_json("transfer", "--key", info["keys"][0]["file"], "--to", info["keys"][1]["address"],
                    "--amount", "3", "--node", node.url)
    root = typer.main.get_command(app)
    make_help_plain(root)
    tree = dict(command_tree(root))
    assert set(LONG_RUNNING) <= set(tree) and len(tree) > 150
    ran = 0
    for path, command in tree.items():
        if path in LONG_RUNNING:
            continue
        texts = []
        for width in WIDTHS:
            work = tmp_path / f"{'-'.join(path)}-{width}"
            work.mkdir()
            world = {"address": info["keys"][1]["address"], "stranger": str(stranger), "dir": str(work),
                     "tx_hash": sent["tx_hash"], "genesis": str(root_dir / "genesis.json"), "url": node.url}
            text = run_in_process(root, argv_for(path, command, world), width, work)
            texts.append(settled(text.replace(str(work), "DIR")))
        named = "consortia " + " ".join(path)
        narrow, wide = texts
        assert narrow == wide, f"{named} depends on the terminal width:\n{narrow}\n---\n{wide}"
        assert wide.strip(), f"{named} printed nothing"
        assert "…" not in wide and "Traceback" not in wide, f"{named}:\n{wide}"
        assert "{'" not in wide and "b'" not in wide, f"a Python repr from {named}:\n{wide}"
        ran += 1
    assert ran == len(tree) - len(LONG_RUNNING)

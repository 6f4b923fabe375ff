"""What the CLI prints into a pipe does not depend on the terminal: the same bytes at 40 and at
200 columns, nothing wrapped, nothing cut with "…", a contract's source byte for byte what is
deployed, and no Python repr in text output (issue 16)."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from tests.procs import CLI, NetNode, cli_json, free_port_base, wait_for

from consortia.apps.cbdc.contracts import source as cbdc_source

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
    env = {**os.environ, "COLUMNS": str(columns), "TERM": "xterm-256color"}
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

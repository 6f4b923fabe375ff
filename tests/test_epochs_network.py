"""Validator-set changes decided by governance take effect in consensus at a defined height:
remove a validator (the others keep committing without it), then add it back (it votes again)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tests.procs import NetNode, api_get, cli, cli_json, cli_result, free_port_base, wait_for

pytestmark = pytest.mark.slow
ORGS = "cb:central-bank,bank-a:bank,bank-b:bank,reg:regulator"


run = cli_result


def decide(info: dict[str, Any], url: str, *proposal: str) -> dict[str, Any]:
    """Propose with one organisation's admin and approve with two more (3 of 4 organisations)."""
    admins = {o["name"]: o["admin_key"] for o in info["orgs"]}
    proposed = run("gov", "propose", *proposal, "--key", admins["cb"], "--node", url)
    assert proposed["_rc"] == 0, proposed
    pid = str(proposed["proposal_id"])
    run("gov", "vote", pid, "--approve", "--key", admins["bank-a"], "--node", url)
    done = run("gov", "vote", pid, "--approve", "--key", admins["bank-b"], "--node", url)
    assert done["proposal"]["status"] == "executed", done
    return done


def block(url: str, height: int) -> dict[str, Any]:
    return dict(api_get(f"{url}/v1/blocks/{height}", timeout=5).json())


def test_remove_and_add_back_a_validator(tmp_path: Path) -> None:
    base = free_port_base(5, p2p_offset=100)
    info = cli_json("network", "init", "--validators", "4", "--home", str(tmp_path / "net"),
                    "--base-port", str(base), "--orgs", ORGS)
    nodes = [NetNode(Path(n["home"]), n["api"]) for n in info["nodes"]]
    genesis = json.loads((tmp_path / "net" / "genesis.json").read_text())
    key3 = genesis["validators"][3]["public_key"]
    url = nodes[0].url
    try:
        for node in nodes:
            node.start()
        wait_for(lambda: min(n.height() for n in nodes) >= 1, 30, "first block")

        removed = decide(info, url, "remove-validator", "--public-key", key3)
        wait_for(lambda: nodes[0].status().get("epoch") == 1, 60, "epoch 1 to start")
        try:
            wait_for(lambda: nodes[3].status().get("validator", 0) is None, 30, "node 3 to only follow")
        except AssertionError:
            print("STATUS", [n.status() for n in nodes])
            raise
        start = nodes[0].height() + 1  # the first blocks decided by the new set
        wait_for(lambda: nodes[3].height() >= start + 2, 60, "the removed node to follow")
        for height in range(start, start + 2):
            qc = block(url, height)["qc"]
            assert set(qc["signers"]) <= {0, 1, 2} and len(qc["signers"]) == 3
        assert removed["height"] < start

        # commits go on without it
        keys = info["keys"]
        sent = run("transfer", "--key", keys[0]["file"], "--to", keys[1]["address"], "--amount", "5",
                   "--node", nodes[1].url, "--timeout", "30")
        assert sent["ok"], sent

        decide(info, url, "add-validator", "--name", "validator-3", "--public-key", key3)
        wait_for(lambda: nodes[0].status().get("epoch") == 2, 60, "epoch 2 to start")
        wait_for(lambda: nodes[3].status().get("validator") == 3, 60, "node 3 to validate again")
        begin = nodes[0].height()

        def node3_led() -> bool:
            top = nodes[0].height()
            return any(block(url, h)["header"]["proposer"] == 3 for h in range(begin, top + 1))

        wait_for(node3_led, 60, "node 3 to lead a block again")
        sent = run("transfer", "--key", keys[2]["file"], "--to", keys[3]["address"], "--amount", "7",
                   "--node", nodes[3].url, "--timeout", "30")
        assert sent["ok"], sent
        # a receipt from epoch 2 still verifies offline, from nothing but the genesis file
        receipt = tmp_path / "receipt.json"
        cli("receipt", sent["tx_hash"], "--out", str(receipt), "--node", nodes[3].url, check=True)
        assert len(json.loads(receipt.read_text())["epochs"]) == 2
        verified = run("verify", str(receipt), "--genesis", str(tmp_path / "net" / "genesis.json"))
        assert verified["ok"], verified
        forged = json.loads(receipt.read_text())
        forged["epochs"] = forged["epochs"][:1]  # hide the last change: the old set did not sign it
        receipt.write_text(json.dumps(forged))
        refused = run("verify", str(receipt), "--genesis", str(tmp_path / "net" / "genesis.json"))
        assert refused["_rc"] != 0 and refused["error"]["code"] == "invalid_proof"
        low = min(n.height() for n in nodes)
        assert len({block(n.url, low)["id"] for n in nodes}) == 1
    finally:
        for node in nodes:
            node.stop()


def test_a_fifth_node_joins_by_vote_and_leaves_again(tmp_path: Path) -> None:
    base = free_port_base(6, p2p_offset=100)
    info = cli_json("network", "init", "--validators", "4", "--standby", "1", "--home",
                    str(tmp_path / "net"), "--base-port", str(base), "--orgs", ORGS)
    nodes = [NetNode(Path(n["home"]), n["api"]) for n in info["nodes"]]
    assert len(nodes) == 5
    url = nodes[0].url
    fifth_key = str(nodes[4].home / "validator.key")
    try:
        for node in nodes:
            node.start()
        wait_for(lambda: min(n.height() for n in nodes) >= 2, 30, "the fifth node to follow")
        assert nodes[4].status()["validator"] is None
        assert nodes[0].status()["validators"] == 4  # the epoch's set, not a count of homes
        text = cli("network", "status", "--home", str(tmp_path / "net"), check=True).stdout
        fifth = next(line for line in text.splitlines() if "node4" in line)
        assert "follower" in fifth and "None" not in fifth, text  # a standby follows; no "round None"

        decide(info, url, "add-validator", "--name", "validator-4", "--validator-key", fifth_key)
        wait_for(lambda: nodes[4].status().get("validator") == 4, 60, "the fifth node to validate")
        assert nodes[0].status()["validators"] == 5  # /v1/status follows the epoch (was the genesis's 4)
        begin = nodes[0].height()

        def fifth_led() -> bool:
            return any(block(url, h)["header"]["proposer"] == 4 for h in range(begin, nodes[0].height() + 1))

        wait_for(fifth_led, 60, "the fifth node to lead a block")
        keys = info["keys"]
        sent = run("transfer", "--key", keys[0]["file"], "--to", keys[1]["address"], "--amount", "3",
                   "--node", nodes[4].url, "--timeout", "30")
        assert sent["ok"], sent

        public = json.loads((nodes[4].home / "node.json").read_text())["name"]
        assert public == "node4"
        from consortia.crypto.keyfile import load_key_file

        key_hex = load_key_file(Path(fifth_key)).public_key.hex()
        decide(info, url, "remove-validator", "--public-key", key_hex)
        wait_for(lambda: nodes[4].status().get("validator", 4) is None, 60, "the fifth node to leave")
        before = nodes[0].height()
        wait_for(lambda: min(n.height() for n in nodes) > before + 2, 60, "commits to go on")
        low = min(n.height() for n in nodes)
        assert len({block(n.url, low)["id"] for n in nodes}) == 1
    finally:
        for node in nodes:
            node.stop()

"""Four validator processes run the same contract calls and agree byte for byte on state."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from tests.procs import NetNode, cli, cli_json, running_network, wait_for

import consortia.contracts.python.examples as examples

pytestmark = pytest.mark.slow

TOKEN = Path(examples.__file__).parent / "token.py"


@pytest.fixture
def network(tmp_path: Path):
    with running_network(tmp_path / "net") as (info, nodes):
        yield info, nodes


def state_root(node: NetNode, height: int) -> str:
    block = httpx.get(f"{node.url}/v1/blocks/{height}", timeout=5).json()
    return str(block["header"]["state_root"])


def test_contract_calls_give_identical_state_roots(network) -> None:
    info, nodes = network
    keys = info["keys"]
    deployed = cli_json("contract", "deploy", str(TOKEN), "--key", keys[0]["file"], "--init-args",
                        '["TOK", 1000000]', "--node", nodes[0].url)
    assert deployed["ok"] and deployed["name"] == "token"

    # transfers from the deployer, each sent through a different node
    heights = [deployed["height"]]
    for i, node in enumerate(nodes[1:], start=1):
        args = json.dumps([keys[i]["address"], 1000 * i])
        out = cli_json("call", "token", "transfer", args, "--key", keys[0]["file"], "--node", node.url)
        assert out["ok"] and out["events"][0]["name"] == "Transfer", out
        heights.append(out["height"])
    # a refused call through another node changes nothing anywhere
    refused = cli("call", "token", "transfer", json.dumps([keys[0]["address"], 10**9]),
                  "--key", keys[1]["file"], "--node", nodes[3].url, "--json")
    assert refused.returncode != 0
    assert json.loads(refused.stdout.strip().splitlines()[-1])["error"] == "insufficient balance"

    top = max(heights)
    wait_for(lambda: min(n.height() for n in nodes) >= top + 1, 30, "every node past the last call")
    for height in sorted({*heights, top + 1}):
        roots = {state_root(n, height) for n in nodes}
        assert len(roots) == 1, f"state roots differ at height {height}: {roots}"

    # every node answers views from the same state
    for i in range(1, 4):
        args = json.dumps([keys[i]["address"]])
        answers = {cli_json("view", "token", "balance_of", args, "--node", n.url)["result"] for n in nodes}
        assert answers == {1000 * i}
    infos = [cli_json("contract", "info", "token", "--node", n.url) for n in nodes]
    assert len({json.dumps(i, sort_keys=True) for i in infos}) == 1

"""A contract author's story against a real `consortia dev` node, run as a user runs it:
new → test → deploy → call → view, a refused call, and a call that runs out of steps."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.procs import DevNode, cli, cli_json, free_port

pytestmark = pytest.mark.slow

SPIN = """
from consortia_contract import Contract, Value, public, view


class Spin(Contract):
    count = Value(int)

    @public
    def set(self, value: int) -> None:
        self.count = value

    @public
    def spin(self) -> None:
        self.count = 1
        while True:
            self.count += 1

    @view
    def get(self) -> int:
        return self.count
"""


@pytest.fixture
def dev_node(tmp_path: Path):
    node = DevNode(tmp_path / "chain", free_port())
    node.start()
    yield node
    node.stop()


def last_json(proc) -> dict:
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_author_story(dev_node: DevNode, tmp_path: Path) -> None:
    alice, bob = dev_node.info["keys"][0], dev_node.info["keys"][1]
    node = ["--node", dev_node.url]

    created = cli_json("contract", "new", "counter", "--dir", str(tmp_path))
    folder = Path(created["dir"])
    assert (folder / "contract.py").exists() and (folder / "test_contract.py").exists()

    tested = cli_json("contract", "test", str(folder))
    assert tested["ok"] and tested["passed"] == 3 and tested["failed"] == 0

    deployed = cli_json("contract", "deploy", str(folder), "--key", alice["file"],
                        "--init-args", "[100]", *node)
    assert deployed["ok"] and deployed["name"] == "counter"
    assert deployed["events"][0]["name"] == "Deployed"

    bumped = cli_json("call", "counter", "bump", "[5]", "--key", bob["file"], *node)
    assert bumped["ok"] and bumped["status"] == "ok" and bumped["steps"] > 0
    event = bumped["events"][0]
    assert event["name"] == "Bumped"
    assert event["fields"] == {"amount": 5, "by": bob["address"], "total": 5}

    assert cli_json("view", "counter", "total_of", json.dumps([bob["address"]]), *node)["result"] == 5
    assert cli_json("view", "counter", "status", *node)["result"]["total"] == 5
    human = cli("view", "counter", "status", *node, check=True)
    assert '"total": 5' in human.stdout

    info = cli_json("contract", "info", "counter", *node)
    assert info["version"] == 1 and info["owner"] == alice["address"]
    assert info["code_hash"] == deployed["code_hash"]
    assert info["methods"]["bump"] == {"kind": "public", "params": ["amount"], "types": ["int"],
                                       "returns": {"type": "null"}}

    # the contract refuses: non-zero exit, the contract's own message, nothing changed
    refused = cli("call", "counter", "bump", "[500]", "--key", bob["file"], *node, "--json")
    assert refused.returncode != 0
    out = last_json(refused)
    assert not out["ok"] and out["status"] == "contract_error"
    assert out["error"] == "the cap would be exceeded"
    human = cli("call", "counter", "set_cap", "[1]", "--key", bob["file"], *node)
    assert human.returncode != 0 and "only the owner may change the cap" in human.stderr
    assert cli_json("view", "counter", "status", *node)["result"]["total"] == 5

    # a view error comes back typed
    missing = cli("view", "counter", "nope", *node, "--json")
    assert missing.returncode != 0 and last_json(missing)["error"]["code"] == "no_such_method"


def test_out_of_steps_changes_nothing(dev_node: DevNode, tmp_path: Path) -> None:
    alice = dev_node.info["keys"][0]
    node = ["--node", dev_node.url]
    source = tmp_path / "spin.py"
    source.write_text(SPIN)
    assert cli_json("contract", "deploy", str(source), "--key", alice["file"], *node)["name"] == "spin"
    assert cli_json("call", "spin", "set", "[7]", "--key", alice["file"], *node)["ok"]

    spun = cli("call", "spin", "spin", "--key", alice["file"], *node, "--json")
    assert spun.returncode != 0
    out = last_json(spun)
    assert out["status"] == "out_of_steps" and out["steps"] >= 1_000_000 and out["events"] == []
    assert cli_json("view", "spin", "get", *node)["result"] == 7

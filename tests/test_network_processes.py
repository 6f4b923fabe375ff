"""Four real validator processes on 127.0.0.1: commits, crashes, catch-up, loss of quorum."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.procs import NetNode, cli, cli_json, free_port_base, running_network, wait_for

pytestmark = pytest.mark.slow


@pytest.fixture
def network(tmp_path: Path):
    with running_network(tmp_path / "net") as (info, nodes):
        yield info, nodes


def transfer(info, node: NetNode, key: int, to: int, amount: int = 1, timeout: float = 20):
    keys = info["keys"]
    return cli("transfer", "--key", keys[key]["file"], "--to", keys[to]["address"], "--amount",
               str(amount), "--node", node.url, "--timeout", str(timeout), "--json",
               timeout=timeout + 30)


def same_chain(nodes: list[NetNode], depth: int = 5) -> int:
    """All given nodes agree block by block up to the lowest head; returns that height."""
    low = min(n.height() for n in nodes)
    for height in range(max(1, low - depth), low + 1):
        ids = {n.block_id(height) for n in nodes}
        assert len(ids) == 1, f"nodes disagree at height {height}: {ids}"
    return low


def test_network_commits_survives_crashes_and_catches_up(network) -> None:
    info, nodes = network
    # transactions sent to different nodes all commit
    for i, node in enumerate(nodes):
        out = json.loads(transfer(info, node, key=i, to=(i + 1) % 4, amount=10 + i).stdout)
        assert out["ok"], out
    wait_for(lambda: min(n.height() for n in nodes) >= 3, 20, "all nodes at height 3")
    same_chain(nodes)
    roots = {n.status()["state_root"] for n in nodes}
    heights = {n.height() for n in nodes}
    if len(heights) == 1:
        assert len(roots) == 1

    # kill -9 one of four: commits continue
    nodes[3].kill9()
    live = nodes[:3]
    out = json.loads(transfer(info, nodes[0], key=0, to=1, amount=3).stdout)
    assert out["ok"], out
    out = json.loads(transfer(info, nodes[1], key=1, to=2, amount=3).stdout)
    assert out["ok"], out
    target = max(n.height() for n in live)

    # restart it: it catches up to the same blocks and state root
    nodes[3].start()
    wait_for(lambda: nodes[3].height() >= target, 60, "restarted node to catch up")
    same_chain(nodes)
    h = min(n.height() for n in nodes)
    assert len({n.state_root(h) for n in nodes}) == 1

    # two of four down: nothing commits, nothing forks
    nodes[2].kill9()
    nodes[3].kill9()
    before = [n.height() for n in nodes[:2]]
    stuck = transfer(info, nodes[0], key=2, to=3, amount=7, timeout=6)
    assert stuck.returncode != 0
    assert json.loads(stuck.stdout)["error"]["code"] == "timeout"
    after = [n.height() for n in nodes[:2]]
    assert max(after) <= max(before) + 1  # at most a block already certified before the loss
    same_chain(nodes[:2])

    # one returns: commits resume, including the transaction that waited
    nodes[2].start()
    wait_for(lambda: min(n.height() for n in nodes[:3]) > max(after) + 1, 90, "commits to resume")
    out = json.loads(transfer(info, nodes[2], key=3, to=0, amount=1, timeout=60).stdout)
    assert out["ok"], out
    wait_for(lambda: nodes[0].height() >= out["height"], 20, "node0 to see the last transfer")
    same_chain(nodes[:3])
    # dave: -13 sent, +12 received, +7 from the transfer that waited out the outage, -1 sent
    balance = cli_json("balance", info["keys"][3]["address"], "--node", nodes[0].url)
    assert balance["balance"] == 1_000_000_000_000 - 13 + 12 + 7 - 1


def test_far_behind_validator_installs_a_snapshot(tmp_path: Path) -> None:
    from consortia.node.network_setup import init_network
    from consortia.types.genesis import ChainParams

    base = free_port_base(5, p2p_offset=100)
    params = ChainParams(snapshot_gap=5, empty_block_interval_ms=300)
    homes = init_network(tmp_path / "net", 4, base_port=base, params=params)
    nodes = [NetNode(h.home, h.api_url) for h in homes]
    info = {"keys": [{"file": str(p), "address": a} for p, a in _dev_keys(tmp_path / "net")]}
    try:
        for node in nodes:
            node.start()
        wait_for(lambda: min(n.height() for n in nodes) >= 2, 30, "first blocks")
        nodes[3].stop()
        out = json.loads(transfer(info, nodes[0], key=0, to=3, amount=42).stdout)
        assert out["ok"], out
        left_at = max(n.height() for n in nodes[:3])
        wait_for(lambda: nodes[0].height() >= left_at + 12, 60, "the others to move on")
        nodes[3].start()
        target = nodes[0].height()
        wait_for(lambda: nodes[3].height() >= target, 60, "the far-behind node to catch up")
        log = (nodes[3].home / "test-node.log").read_text()
        assert "installed a snapshot" in log
        same_chain(nodes, depth=0)  # below its snapshot the node never had the blocks
        out = json.loads(transfer(info, nodes[0], key=3, to=0, amount=2).stdout)
        assert out["ok"], out
        wait_for(lambda: nodes[3].height() >= out["height"], 30, "the caught-up node to follow")
        balance = cli_json("balance", info["keys"][3]["address"], "--node", nodes[3].url)
        assert balance["balance"] == 1_000_000_000_000 + 42 - 2
    finally:
        for node in nodes:
            node.stop()


def _dev_keys(root: Path) -> list[tuple[Path, str]]:
    from consortia.crypto.address import format_address
    from consortia.crypto.keyfile import read_key_file_address

    return [(p, format_address(read_key_file_address(p))) for p in sorted((root / "keys").glob("*.key"))]

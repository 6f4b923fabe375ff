"""The README's story, run as a user runs it: start, transfer, verify offline, kill -9, restart."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest
from tests.procs import DevNode, cli, cli_json, free_port

pytestmark = pytest.mark.slow


@pytest.fixture
def dev_node(tmp_path: Path):
    node = DevNode(tmp_path / "chain", free_port())
    node.start()
    yield node
    node.stop()


def test_user_story(dev_node: DevNode, tmp_path: Path) -> None:
    info = dev_node.info
    assert info["created"] and len(info["keys"]) == 4
    alice, bob = info["keys"][0], info["keys"][1]
    node = ["--node", dev_node.url]

    status = cli_json("status", *node)
    assert status["chain_id"] == "consortia-dev"

    # a new key, funded by alice
    new_key = tmp_path / "erin.key"
    created = cli_json("keys", "new", "--out", str(new_key), "--no-password")
    erin = created["address"]
    assert cli_json("keys", "show", str(new_key))["address"] == erin

    sent = cli_json("transfer", "--key", alice["file"], "--to", erin, "--amount", "1234", *node)
    assert sent["ok"] and sent["height"] >= 1
    assert cli_json("balance", erin, *node)["balance"] == 1234

    # erin pays bob back some
    back = cli_json("transfer", "--key", str(new_key), "--to", bob["address"], "--amount", "34",
                    *node)
    assert back["ok"]
    assert cli_json("balance", erin, *node)["balance"] == 1200

    # receipt, verified offline with only the genesis file
    receipt_file = tmp_path / "receipt.json"
    got = cli_json("receipt", sent["tx_hash"], "--out", str(receipt_file), *node)
    assert got["height"] == sent["height"]
    genesis = info["genesis"]
    verified = cli_json("verify", str(receipt_file), "--genesis", genesis)
    assert verified["ok"] and verified["tx_hash"] == sent["tx_hash"]
    human = cli("verify", str(receipt_file), "--genesis", genesis, check=True)
    assert "valid" in human.stdout

    # a tampered receipt fails with a non-zero exit
    data = json.loads(receipt_file.read_text())
    data["receipt"]["status"] = "ok " if data["receipt"]["status"] == "ok" else "ok"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))
    proc = cli("verify", str(bad), "--genesis", genesis, "--json")
    assert proc.returncode != 0
    assert json.loads(proc.stdout)["error"]["code"] == "invalid_proof"
    data = json.loads(receipt_file.read_text())
    data["header"]["height"] += 1
    bad.write_text(json.dumps(data))
    assert cli("verify", str(bad), "--genesis", genesis).returncode != 0


def test_rejections_exit_non_zero(dev_node: DevNode, tmp_path: Path) -> None:
    info = dev_node.info
    alice, bob = info["keys"][0], info["keys"][1]
    node = ["--node", dev_node.url]
    proc = cli("transfer", "--key", alice["file"], "--to", bob["address"], "--amount",
               str(10**18), *node, "--json")
    assert proc.returncode != 0
    assert json.loads(proc.stdout)["error"]["code"] == "insufficient_balance"
    stranger = tmp_path / "stranger.key"
    cli_json("keys", "new", "--out", str(stranger), "--no-password")
    proc = cli("transfer", "--key", str(stranger), "--to", bob["address"], "--amount", "1", *node)
    assert proc.returncode != 0 and "unknown_sender" in proc.stderr
    proc = cli("transfer", "--key", alice["file"], "--to", "0x1234", "--amount", "1", *node)
    assert proc.returncode != 0 and "bad_address" in proc.stderr
    proc = cli("status", "--node", "http://127.0.0.1:9")
    assert proc.returncode != 0 and "connection_failed" in proc.stderr


def test_kill9_restart_keeps_everything(dev_node: DevNode) -> None:
    info = dev_node.info
    alice, bob = info["keys"][0], info["keys"][1]
    node = ["--node", dev_node.url]
    txs = [cli_json("transfer", "--key", alice["file"], "--to", bob["address"], "--amount", "5",
                    *node) for _ in range(3)]
    # accepted but maybe not committed: submitted right before the kill
    from consortia.cli.keys import load_key
    from consortia.client.client import Client
    from consortia.client.wallet import Wallet

    with Client(dev_node.url) as client:
        wallet = Wallet(load_key(Path(alice["file"])), client)
        pending_hash = client.submit(wallet.sign_transfer(bytes.fromhex(bob["address"][2:]), 7))
    before = dev_node.status()
    dev_node.kill9()
    dev_node.start()
    after = dev_node.status()
    assert after["height"] >= before["height"]
    assert after["chain_id"] == before["chain_id"]
    with Client(dev_node.url) as client:
        block = client.block(before["height"])
        assert block["id"] == before["block_id"]
        for tx in txs:
            assert client.tx(bytes.fromhex(tx["tx_hash"][2:]))["status"] == "committed"
        # the transaction accepted just before the kill is not lost
        done = client.wait(pending_hash, timeout=20)
        assert done["status"] == "committed"
    assert cli_json("balance", bob["address"], *node)["balance"] == 1_000_000_000_000 + 15 + 7


def test_sse_stream_and_api_errors(dev_node: DevNode) -> None:
    with httpx.Client(base_url=dev_node.url, timeout=10) as http:
        assert http.get("/openapi.json").json()["openapi"].startswith("3.")
        r = http.get("/v1/tx/0x1234")
        assert r.status_code == 400 and r.json()["code"] == "malformed"
        r = http.get("/v1/blocks/999999")
        assert r.status_code == 404 and r.json()["code"] == "not_found"
        r = http.post("/v1/tx", content=b"\x01\x02", headers={"content-type": "application/octet-stream"})
        assert r.status_code == 400 and r.json()["code"] == "malformed"
        assert "consortia_height" in http.get("/metrics").text
        assert "Consortia explorer" in http.get("/").text
        with http.stream("GET", "/v1/events") as stream:
            start = time.monotonic()
            for line in stream.iter_lines():
                if line.startswith("data:"):
                    message = json.loads(line[5:])
                    assert message["block"]["height"] >= 1
                    break
                assert time.monotonic() - start < 10

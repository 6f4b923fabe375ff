"""A node says what it commits: one readable line per block with transactions, and metrics an
operator can chart (consensus, finality, peers) with the dashboard in deploy/grafana (issue 16)."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from pathlib import Path

import pytest
from prometheus_client import generate_latest

from consortia.client.tx_builder import sign_transfer
from consortia.crypto.keyfile import load_key_file
from consortia.node.consensus_driver import ConsensusDriver
from consortia.node.home_setup import DEV_CHAIN_ID, init_dev_home
from consortia.node.node import Node

ROOT = Path(__file__).resolve().parent.parent
LINE = re.compile(
    r"block (\d+) committed: (\d+) txs, round (\d+), leader (\d+), (-?\d+) ms after it was proposed"
)


def test_each_block_with_transactions_is_logged_once(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:  # noqa: E501
    accounts = init_dev_home(tmp_path / "home")
    node = Node(tmp_path / "home")
    key = load_key_file(accounts[0].path, None)
    to = load_key_file(accounts[1].path, None).address
    driver = ConsensusDriver(node)

    async def scenario() -> int:
        stop = asyncio.Event()
        task = asyncio.create_task(driver.run(stop))
        results = await node.submit([sign_transfer(key, DEV_CHAIN_ID, n, 1000, to, 5) for n in range(3)])
        assert all(r.error is None for r in results)
        deadline = asyncio.get_running_loop().time() + 10
        while len(node.chain.mempool) and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.3)
        stop.set()
        await asyncio.wait({task}, timeout=5)
        return node.chain.head.height

    try:
        with caplog.at_level(logging.INFO, logger="consortia.node"):
            asyncio.run(scenario())
        infos = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
        lines = [m for text in infos if (m := LINE.search(text))]
        assert sum(int(m.group(2)) for m in lines) == 3, caplog.text  # every transaction, logged once
        heights = [int(m.group(1)) for m in lines]
        assert heights == sorted(set(heights))
        for m in lines:
            header = node.store.block(int(m.group(1))).block.header
            assert header.round == int(m.group(3)) and header.proposer == int(m.group(4))
            assert int(m.group(5)) >= 0
    finally:
        node.close()


def test_metrics_show_consensus_and_finality_and_the_dashboard_uses_only_real_metrics(tmp_path: Path) -> None:
    accounts = init_dev_home(tmp_path / "home")
    node = Node(tmp_path / "home")
    key = load_key_file(accounts[0].path, None)
    to = load_key_file(accounts[1].path, None).address
    driver = ConsensusDriver(node)
    node.consensus = driver

    async def scenario() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(driver.run(stop))
        await node.submit([sign_transfer(key, DEV_CHAIN_ID, 0, 1000, to, 5)])
        deadline = asyncio.get_running_loop().time() + 10
        while len(node.chain.mempool) and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.02)
        stop.set()
        await asyncio.wait({task}, timeout=5)

    try:
        asyncio.run(scenario())
        text = generate_latest(node.metrics.registry).decode()
    finally:
        node.close()
    values = {line.split()[0]: float(line.split()[1]) for line in text.splitlines()
              if line and not line.startswith("#")}
    assert values["consortia_validators"] == 1 and values["consortia_is_validator"] == 1
    assert values["consortia_consensus_round"] >= 1 and values["consortia_epoch"] >= 0
    assert values["consortia_finality_seconds_count"] >= 1 and values["consortia_peers_connected"] == 0
    # every metric the Grafana dashboard in the repo plots is one a node exports
    exported = {family.name for family in node.metrics.registry.collect()}
    exported.add("consortia_certificate_expiry_days")  # exported by nodes with TLS (cert_watch.py)
    dashboard = json.loads((ROOT / "deploy" / "grafana" / "consortia-node.json").read_text())
    used = {m for p in dashboard["panels"] for t in p["targets"]
            for m in re.findall(r"consortia_[a-z_]+", t["expr"])}
    assert used and {m.removesuffix("_total").removesuffix("_bucket") for m in used} <= exported
    assert {"consortia_syncing", "consortia_blocks_behind"} <= used  # sync state is charted
    assert values["consortia_syncing"] == 0 and values["consortia_blocks_behind"] == 0  # alone: level

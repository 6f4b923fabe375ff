"""A node says what it commits: one readable line per block with transactions (issue 16)."""

from __future__ import annotations

import asyncio
import logging
import re
from pathlib import Path

import pytest

from consortia.client.tx_builder import sign_transfer
from consortia.crypto.keyfile import load_key_file
from consortia.node.consensus_driver import ConsensusDriver
from consortia.node.home_setup import DEV_CHAIN_ID, init_dev_home
from consortia.node.node import Node

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

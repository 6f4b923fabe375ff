"""A transaction the node accepted and later dropped reports why, to readers and to waiters."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from consortia.api.app import create_app
from consortia.client.tx_builder import sign_transfer
from consortia.crypto.keyfile import load_key_file
from consortia.node.home_setup import DEV_CHAIN_ID, init_dev_home
from consortia.node.node import Node


@pytest.fixture
def node(tmp_path: Path):
    accounts = init_dev_home(tmp_path / "home")
    node = Node(tmp_path / "home")
    node.keys = [load_key_file(a.path, None) for a in accounts]  # type: ignore[attr-defined]
    yield node
    node.close()


def test_get_and_wait_report_a_dropped_transaction(node: Node) -> None:
    keys = node.keys  # type: ignore[attr-defined]

    async def scenario() -> tuple[dict, dict, dict]:
        raw = sign_transfer(keys[0], DEV_CHAIN_ID, 0, 5, keys[1].address, 1)
        result = (await node.submit([raw]))[0]
        assert result.error is None and result.tx_hash is not None
        tx_hash = "0x" + result.tx_hash.hex()
        transport = httpx.ASGITransport(app=create_app(node))
        async with httpx.AsyncClient(transport=transport, base_url="http://node") as http:
            assert (await http.get(f"/v1/tx/{tx_hash}")).json()["status"] == "pending"
            waiting = asyncio.create_task(http.get(f"/v1/tx/{tx_hash}/wait", params={"timeout": 10}))
            await asyncio.sleep(0.1)
            pool = node.chain.mempool
            pool.committed([], 5)  # five blocks passed elsewhere: expiry 5 can never be met
            waited = (await waiting).json()
            got = (await http.get(f"/v1/tx/{tx_hash}")).json()
            again = (await http.get(f"/v1/tx/{tx_hash}/wait", params={"timeout": 1})).json()
        return waited, got, again

    waited, got, again = asyncio.run(scenario())
    for body in (waited, got, again):
        assert body["status"] == "dropped" and body["reason"] == "expired", body


def test_a_wait_that_times_out_says_the_transaction_may_still_commit(node: Node) -> None:
    keys = node.keys  # type: ignore[attr-defined]

    async def scenario() -> tuple[int, dict]:
        raw = sign_transfer(keys[0], DEV_CHAIN_ID, 0, 100, keys[1].address, 1)
        result = (await node.submit([raw]))[0]  # no consensus runs here: it stays pending
        assert result.error is None and result.tx_hash is not None
        transport = httpx.ASGITransport(app=create_app(node))
        async with httpx.AsyncClient(transport=transport, base_url="http://node") as http:
            r = await http.get(f"/v1/tx/0x{result.tx_hash.hex()}/wait", params={"timeout": 0.3})
        return r.status_code, r.json()

    status, body = asyncio.run(scenario())
    assert status == 504 and body["code"] == "timeout" and body["details"]["pending"] is True, body
    assert "may yet commit" in body["message"] and "consortia tx 0x" in body["message"]

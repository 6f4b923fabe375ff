"""The consensus driver in process (no sockets): what it contains and when it halts.

Nothing a peer or client sends may end the node; a local storage failure must halt it cleanly
(a typed NodeHalted, the stop event set), never as a raw traceback and never by working on.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import lmdb
import pytest

from consortia.client.tx_builder import sign_transfer
from consortia.crypto.keyfile import load_key_file
from consortia.errors import NodeHalted
from consortia.node.consensus_driver import ConsensusDriver
from consortia.node.home_setup import DEV_CHAIN_ID, init_dev_home
from consortia.node.node import Node
from consortia.p2p.errors import FrameTooLarge


@pytest.fixture
def dev_node(tmp_path: Path):
    accounts = init_dev_home(tmp_path / "home")
    node = Node(tmp_path / "home")
    keys = [load_key_file(a.path, None) for a in accounts]
    yield node, keys
    node.close()


async def run_until(driver: ConsensusDriver, predicate, seconds: float = 10) -> asyncio.Task[None]:
    stop = asyncio.Event()
    task = asyncio.create_task(driver.run(stop))
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not predicate() and loop.time() < deadline and not task.done():
        await asyncio.sleep(0.02)
    stop.set()
    await asyncio.wait({task}, timeout=5)
    return task


def test_a_full_disk_halts_the_node_cleanly(dev_node, monkeypatch) -> None:
    node, _ = dev_node
    driver = ConsensusDriver(node)

    monkeypatch.setattr(node.store, "env", _FullDisk(node.store.env))

    async def scenario() -> asyncio.Task[None]:
        return await run_until(driver, lambda: driver.fatal is not None)

    task = asyncio.run(scenario())
    assert driver.fatal is not None and "cannot" in driver.fatal.message
    with pytest.raises(NodeHalted, match="the node halted"):
        task.result()


class _FullDisk:
    """The store's LMDB environment on a full disk: reads work, every write fails."""

    def __init__(self, env: lmdb.Environment) -> None:
        self._env = env

    def begin(self, *args: object, write: bool = False, **kwargs: object):
        if write:
            raise lmdb.MapFullError("mdb_put: MDB_MAP_FULL: Environment mapsize limit reached")
        return self._env.begin(*args, **kwargs)

    def __getattr__(self, name: str) -> object:
        return getattr(self._env, name)


def test_a_send_that_fails_is_contained(dev_node) -> None:
    """A transport error (a frame too large, a bug) is logged and the next effect still runs;
    the node goes on committing."""
    from consortia.consensus import Broadcast, FetchBlock, PersistSafety, SafetyData, SendTo
    from consortia.node.consensus_driver import SAFETY_KEY

    node, keys = dev_node
    calls: list[str] = []

    class Exploding:
        def broadcast(self, msg, block) -> None:
            calls.append("broadcast")
            raise FrameTooLarge("frame of 9000000 bytes exceeds the maximum of 8388608")

        def send(self, validator, msg, block) -> None:
            calls.append("send")
            raise FrameTooLarge("frame too large")

        def fetch(self, block_id) -> None:
            calls.append("fetch")
            raise RuntimeError("a bug in a transport")

    driver = ConsensusDriver(node, transport=Exploding())
    vote = SafetyData().last_vote  # None: any message will do for a transport that fails
    safety = SafetyData(last_voted_round=7)
    driver.perform([
        Broadcast(msg=vote),  # type: ignore[arg-type]
        SendTo(validator=0, msg=vote),  # type: ignore[arg-type]
        FetchBlock(block_id=b"\x01" * 32),
        PersistSafety(data=safety),
    ])
    assert calls == ["broadcast", "send", "fetch"]
    assert node.store.get_meta(SAFETY_KEY) == safety.encode()  # the effect after them ran
    assert driver.fatal is None
    start = node.chain.head.height

    async def scenario() -> asyncio.Task[None]:
        raw = sign_transfer(keys[0], DEV_CHAIN_ID, 0, 100, keys[1].address, 5)
        assert (await node.submit([raw]))[0].error is None
        return await run_until(driver, lambda: node.chain.head.height >= start + 2)

    task = asyncio.run(scenario())
    assert task.done() and task.exception() is None
    assert driver.fatal is None
    assert node.chain.head.height >= start + 2


def test_a_peer_flood_never_displaces_the_nodes_own_events(dev_node, monkeypatch) -> None:
    """Peer events beyond the bound are dropped and counted; the node's own events (a validated
    block, a timer) are always queued — losing one could stall a round."""
    from consortia.consensus import BlockValidated, TimerFired
    from consortia.node import consensus_driver

    node, _ = dev_node
    monkeypatch.setattr(consensus_driver, "MAX_PEER_EVENTS", 3)
    driver = ConsensusDriver(node)
    for r in range(5):
        driver.push_peer(TimerFired(r, 0))
    assert driver.peer_events_dropped == 2
    driver.push(BlockValidated(b"\x01" * 32, True, 0))
    driver.push(TimerFired(9, 0))
    assert driver.queue.qsize() == 5
    kinds = [driver.queue.get_nowait() for _ in range(5)]
    assert [peer for peer, _ in kinds] == [True, True, True, False, False]


def test_safety_data_of_another_epoch_is_refused_at_start(dev_node) -> None:
    """The driver reads its safety record through SafetyData.load: data that guards another
    epoch's signing domain never guards this one (the node refuses to start instead)."""
    from consortia.consensus import SafetyData
    from consortia.errors import IntegrityError
    from consortia.node.consensus_driver import SAFETY_KEY

    node, _ = dev_node
    node.store.put_meta(SAFETY_KEY, SafetyData(epoch=3).encode())
    with pytest.raises(IntegrityError, match="belongs to epoch 3"):
        ConsensusDriver(node)

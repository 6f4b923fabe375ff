"""The peer network's parts (node/net/) against an in-process fake transport, no sockets.

Real node stacks (chain, LMDB store, driver) are built from a ``consortia network init``
directory; a fake ``FrameTransport`` records every frame a node sends and, through a hub,
delivers frames between nodes in order (``Hub.pump``). One four-validator chain is built once
per module; each test works on its own copy, with node 0 up to date and ``behind`` a copy of
validator 3's home taken at genesis.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
import pytest
from prometheus_client import generate_latest
from tests.conftest import Refusals

from consortia.client.tx_builder import sign_transfer
from consortia.consensus import Proposal, ProposalReceived, SyncInfo
from consortia.crypto.keyfile import load_key_file
from consortia.errors import ConsortiaError, StorageError
from consortia.limits import TX_GOSSIP_BYTES
from consortia.node.consensus_driver import ConsensusDriver, block_meta
from consortia.node.net import block_sync, state_sync, tx_gossip
from consortia.node.network_setup import NETWORK_CHAIN_ID, init_network
from consortia.node.node import Node
from consortia.node.peer_network import PeerNetwork
from consortia.node.wire import (
    BlockRequest,
    BlockResponse,
    HeightRequest,
    HeightResponse,
    ProposalMsg,
    SnapshotChunk,
    SnapshotRequest,
    SyncMsg,
    TimeoutMsg,
    TxsMsg,
    VoteMsg,
    WireMsg,
    decode_wire,
    encode_wire,
)
from consortia.types.consensus import TimeoutVote, Vote
from consortia.types.genesis import ChainParams

VALIDATORS = 4
HEIGHT = 10
PARAMS = ChainParams(block_interval_ms=10, empty_block_interval_ms=30)


# --- the fake transport ----------------------------------------------------------------------


class Hub:
    """Delivers frames between in-process nodes, in the order they were sent."""

    def __init__(self) -> None:
        self.networks: dict[int, PeerNetwork] = {}
        self.queue: deque[tuple[int, int, bytes]] = deque()
        self.live = False
        """Deliver on the running loop as frames are sent (else only on ``pump``)."""

    def post(self, src: int, dst: int, payload: bytes) -> None:
        if dst not in self.networks:
            return
        if self.live:
            asyncio.get_running_loop().call_soon(self.networks[dst].on_frame, src, payload)
        else:
            self.queue.append((src, dst, payload))

    def pump(self, limit: int = 10_000) -> int:
        delivered = 0
        while self.queue and delivered < limit:
            src, dst, payload = self.queue.popleft()
            self.networks[dst].on_frame(src, payload)
            delivered += 1
        return delivered


class FakeFrames:
    """A ``FrameTransport`` that records what it sends (peer None: a broadcast)."""

    def __init__(self, index: int, hub: Hub | None = None) -> None:
        self.index = index
        self.hub = hub
        self.sent: list[tuple[int | None, bytes]] = []

    def send(self, peer: int, payload: bytes) -> None:
        self.sent.append((peer, payload))
        if self.hub is not None:
            self.hub.post(self.index, peer, payload)

    def broadcast(self, payload: bytes) -> None:
        self.sent.append((None, payload))
        if self.hub is not None:
            for peer in range(VALIDATORS):
                if peer != self.index:
                    self.hub.post(self.index, peer, payload)

    def connected_peers(self) -> list[int]:
        return [p for p in range(VALIDATORS) if p != self.index]

    def messages(self, kind: type | None = None) -> list[WireMsg]:
        out = [decode_wire(payload) for _, payload in self.sent]
        return [m for m in out if kind is None or isinstance(m, kind)]


class ManualClock:
    """Wall time plus a shift a test can advance."""

    def __init__(self) -> None:
        self.shift = 0.0

    def monotonic(self) -> float:
        return time.monotonic() + self.shift

    def now_ms(self) -> int:
        return int((time.time() + self.shift) * 1000)


@dataclass
class Peer:
    node: Node
    net: PeerNetwork
    driver: ConsensusDriver
    frames: FakeFrames

    @property
    def height(self) -> int:
        return self.node.chain.head.height


@dataclass
class Cluster:
    root: Path
    hub: Hub = field(default_factory=Hub)
    peers: list[Peer] = field(default_factory=list)

    def open(self, home: Path, index: int, clock: ManualClock | None = None) -> Peer:
        node = Node(home, offload=False, clock=clock)
        net = PeerNetwork(node)
        driver = ConsensusDriver(node, transport=net)
        frames = FakeFrames(index, self.hub)
        net.attach(frames, driver)
        node.consensus, node.peers = driver, frames
        self.hub.networks[index] = net
        peer = Peer(node, net, driver, frames)
        self.peers.append(peer)
        return peer

    def close(self) -> None:
        for peer in self.peers:
            peer.node.close()


# --- one chain, built once -------------------------------------------------------------------


def _build_chain(root: Path) -> None:
    homes = init_network(root, VALIDATORS, params=PARAMS)
    shutil.copytree(homes[3].home, root / "behind")  # validator 3 at genesis
    keys = [load_key_file(p, None) for p in sorted((root / "keys").glob("*.key"))]

    async def run() -> None:
        cluster = Cluster(root)
        cluster.hub.live = True
        peers = [cluster.open(h.home, h.index) for h in homes]
        stop = asyncio.Event()
        tasks = [asyncio.create_task(p.driver.run(stop)) for p in peers]
        raws = [sign_transfer(keys[0], NETWORK_CHAIN_ID, n, 1000, keys[1].address, 5) for n in range(6)]
        await peers[0].node.submit(raws)
        deadline = time.monotonic() + 30
        while min(p.height for p in peers) < HEIGHT and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        stop.set()
        await asyncio.gather(*tasks)
        cluster.close()
        assert min(p.height for p in peers) >= HEIGHT

    asyncio.run(run())


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("chain") / "net"
    _build_chain(root)
    return root


@pytest.fixture
def cluster(built: Path, tmp_path: Path) -> Iterator[Cluster]:
    root = tmp_path / "net"
    shutil.copytree(built, root)
    made = Cluster(root)
    try:
        yield made
    finally:
        made.close()


def _pair(cluster: Cluster, clock: ManualClock | None = None) -> tuple[Peer, Peer]:
    """Node 0 (up to date) and ``behind`` (validator 3 at genesis)."""
    return cluster.open(cluster.root / "node0", 0), cluster.open(cluster.root / "behind", 3, clock)


def _drain(driver: ConsensusDriver) -> list[Any]:
    events = []
    while not driver.queue.empty():
        events.append(driver.queue.get_nowait()[1])
    return events


# --- transaction gossip ----------------------------------------------------------------------


def test_tx_gossip_batches_by_count(cluster: Cluster) -> None:
    peer = cluster.open(cluster.root / "node0", 0)
    count = tx_gossip.TX_FLUSH_COUNT

    async def scenario() -> None:
        peer.net.tx_gossip.spread([b"a" * 10] * (count - 1))
        assert peer.frames.sent == []  # waits for more, at most TX_FLUSH_SECONDS
        peer.net.tx_gossip.spread([b"b" * 10] * (2 * count + 5))
        await asyncio.sleep(tx_gossip.TX_FLUSH_SECONDS * 5)

    asyncio.run(scenario())
    batches = [m.txs for m in peer.frames.messages(TxsMsg)]  # type: ignore[attr-defined]
    assert [len(b) for b in batches] == [count, count, count, 4]
    assert all(to is None for to, _ in peer.frames.sent)


def test_tx_gossip_batches_by_bytes_and_a_large_tx_goes_alone(cluster: Cluster) -> None:
    peer = cluster.open(cluster.root / "node0", 0)
    big = TX_GOSSIP_BYTES // 3
    sizes = [big, big, 1000, big, TX_GOSSIP_BYTES + 10, 500, big, big, big]

    async def scenario() -> None:
        peer.net.tx_gossip.spread([bytes([i]) * size for i, size in enumerate(sizes)])
        await asyncio.sleep(tx_gossip.TX_FLUSH_SECONDS * 5)

    asyncio.run(scenario())
    batches = [m.txs for m in peer.frames.messages(TxsMsg)]  # type: ignore[attr-defined]
    assert [tx for batch in batches for tx in batch] == [bytes([i]) * s for i, s in enumerate(sizes)]
    for batch in batches:
        assert len(batch) == 1 or sum(len(tx) for tx in batch) <= TX_GOSSIP_BYTES
    assert [len(tx) for tx in batches[2]] == [TX_GOSSIP_BYTES + 10]  # alone
    assert len(batches) == 5


def test_gossiped_transactions_are_admitted_by_the_receiver(cluster: Cluster) -> None:
    peer = cluster.open(cluster.root / "node0", 0)
    keys = [load_key_file(p, None) for p in sorted((cluster.root / "keys").glob("*.key"))]
    raw = sign_transfer(keys[2], NETWORK_CHAIN_ID, 0, 1000, keys[3].address, 7)

    before = len(peer.node.chain.mempool)

    async def scenario() -> None:
        peer.net.on_frame(1, encode_wire(TxsMsg([raw])))
        await asyncio.sleep(0.05)

    asyncio.run(scenario())
    assert len(peer.node.chain.mempool) == before + 1
    assert peer.net._tasks == set() and peer.driver.fatal is None


# --- consensus messages ----------------------------------------------------------------------


def test_consensus_messages_reach_the_driver(cluster: Cluster) -> None:
    up, behind = _pair(cluster)
    committed = up.node.store.block(1)
    block_id = up.node.chain.block_id(committed.block.header)
    meta = block_meta(block_id, committed.block.header)
    qc = committed.qc
    vote = Vote(block_id, 1, 1, 0, b"\x01" * 64)
    timeout = TimeoutVote(5, qc, 0, b"\x02" * 64)
    for msg in (ProposalMsg(Proposal(meta, b"\x03" * 64), committed.block), VoteMsg(vote),
                TimeoutMsg(timeout), SyncMsg(SyncInfo(high_qc=qc))):
        behind.net.on_frame(0, encode_wire(msg))
    events = _drain(behind.driver)
    assert [type(e).__name__ for e in events] == [
        "ProposalReceived", "VoteReceived", "TimeoutReceived", "SyncReceived"]
    assert isinstance(events[0], ProposalReceived) and events[0].block == meta
    assert behind.driver.blocks[block_id] == committed.block


def test_a_proposal_whose_block_does_not_hash_to_the_named_id_is_refused(
    cluster: Cluster, refusals: Refusals
) -> None:
    up, behind = _pair(cluster)
    named = up.node.store.block(2)
    carried = up.node.store.block(1).block
    meta = block_meta(up.node.chain.block_id(named.block.header), named.block.header)
    behind.net.on_frame(0, encode_wire(ProposalMsg(Proposal(meta, b"\x03" * 64), carried)))
    assert _drain(behind.driver) == []
    assert any("names a block it does not carry" in m for m in refusals.messages)


def test_the_driver_transport_wraps_messages(cluster: Cluster) -> None:
    up = cluster.open(cluster.root / "node0", 0)
    committed = up.node.store.block(1)
    meta = block_meta(up.node.chain.block_id(committed.block.header), committed.block.header)
    up.net.broadcast(Proposal(meta, b"\x03" * 64), committed.block)
    up.net.send(2, SyncInfo(high_qc=committed.qc), None)
    assert [to for to, _ in up.frames.sent] == [None, 2]
    assert [type(m) for m in up.frames.messages()] == [ProposalMsg, SyncMsg]


# --- blocks by id ----------------------------------------------------------------------------


def test_block_requests_are_answered_from_pending_and_committed_blocks(cluster: Cluster) -> None:
    up = cluster.open(cluster.root / "node0", 0)
    committed = up.node.store.block(5).block
    pending = up.node.store.block(6).block
    up.driver.blocks[b"\x07" * 32] = pending  # as if proposed, not yet committed
    for block_id in (up.node.chain.block_id(committed.header), b"\x07" * 32, b"\x09" * 32):
        up.net.on_frame(1, encode_wire(BlockRequest(block_id)))
    answers = up.frames.messages(BlockResponse)
    assert [a.block for a in answers] == [committed, pending]  # type: ignore[attr-defined]
    assert [to for to, _ in up.frames.sent] == [1, 1]  # the unknown id: no answer


def test_a_fetched_block_reaches_the_driver_only_when_wanted(cluster: Cluster) -> None:
    up, behind = _pair(cluster)
    block = up.node.store.block(1).block
    block_id = up.node.chain.block_id(block.header)
    behind.net.on_frame(0, encode_wire(BlockResponse(block)))
    assert _drain(behind.driver) == []  # nobody asked
    behind.net.fetch(block_id)
    assert behind.frames.messages(BlockRequest) == [BlockRequest(block_id)]
    cluster.hub.pump()
    events = _drain(behind.driver)
    assert [type(e).__name__ for e in events] == ["BlockFetched"]


# --- catch-up by height ----------------------------------------------------------------------


def test_catch_up_applies_certified_blocks(cluster: Cluster) -> None:
    up, behind = _pair(cluster)
    head = up.node.store.block(up.height)

    async def scenario() -> None:
        # a peer shows a certificate well above our head: catch up from it
        behind.net.on_frame(0, encode_wire(SyncMsg(SyncInfo(high_qc=head.qc))))
        cluster.hub.pump()

    asyncio.run(scenario())
    assert behind.height == up.height
    assert behind.node.chain.head.state_root == up.node.chain.head.state_root
    assert behind.frames.messages(HeightRequest)[0] == HeightRequest(1, 64)
    assert not behind.net.block_sync.catching_up


def test_catch_up_shows_in_the_sync_metrics(cluster: Cluster) -> None:
    """``consortia_syncing`` is 1 from the moment a peer shows a certificate far above our head
    until the blocks are in; ``consortia_blocks_behind`` counts from the best height shown."""
    up, behind = _pair(cluster)
    behind.node.metrics.watch_sync(behind.net.block_sync)

    def sync_metrics() -> tuple[float, float, float]:
        text = generate_latest(behind.node.metrics.registry).decode()
        values = {ln.split()[0]: float(ln.split()[1]) for ln in text.splitlines() if ln[:1] != "#"}
        return (values["consortia_syncing"], values["consortia_blocks_behind"],
                values["consortia_best_peer_height"])

    assert sync_metrics() == (0, 0, 0)
    head = up.node.store.block(up.height)

    async def scenario() -> None:
        behind.net.on_frame(0, encode_wire(SyncMsg(SyncInfo(high_qc=head.qc))))
        assert sync_metrics() == (1, up.height, up.height)  # asked, nothing arrived yet
        cluster.hub.pump()

    asyncio.run(scenario())
    assert behind.height == up.height
    assert sync_metrics() == (0, 0, up.height)


def test_catch_up_refuses_a_block_with_a_bad_certificate(
    cluster: Cluster, refusals: Refusals
) -> None:
    up, behind = _pair(cluster)
    good = up.node.store.block(1)
    forged_qc = msgspec.structs.replace(
        good.qc, signatures=[b"\x00" * len(s) for s in good.qc.signatures])
    forged = msgspec.structs.replace(good, qc=forged_qc)
    root_before = behind.node.chain.head.state_root

    async def scenario() -> None:
        behind.net.on_frame(0, encode_wire(HeightResponse([forged, up.node.store.block(2)], up.height)))

    asyncio.run(scenario())
    assert behind.height == 0 and behind.node.chain.head.state_root == root_before
    refused = [e for m, e in zip(refusals.messages, refusals.errors, strict=True) if "catch-up block 1" in m]
    assert len(refused) == 1 and isinstance(refused[0], ConsortiaError)
    assert behind.frames.sent == []  # no further request after a refusal


def test_catch_up_answers_fit_the_byte_bound_but_hold_at_least_one_block(
    cluster: Cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    up = cluster.open(cluster.root / "node0", 0)
    sizes = [block_sync.committed_bytes(up.node.store.block(h)) for h in range(1, HEIGHT + 1)]
    bound = sizes[0] + sizes[1] + sizes[2] // 2
    monkeypatch.setattr(block_sync, "CATCH_UP_RESPONSE_BYTES", bound)
    up.net.on_frame(3, encode_wire(HeightRequest(1, 64)))
    monkeypatch.setattr(block_sync, "CATCH_UP_RESPONSE_BYTES", 1)
    up.net.on_frame(3, encode_wire(HeightRequest(4, 64)))
    monkeypatch.setattr(block_sync, "CATCH_UP_RESPONSE_BYTES", 10**9)
    up.net.on_frame(3, encode_wire(HeightRequest(2, 3)))
    answers = up.frames.messages(HeightResponse)
    heights = [[c.block.header.height for c in a.blocks] for a in answers]  # type: ignore[attr-defined]
    assert heights == [[1, 2], [4], [2, 3, 4]]
    assert sum(block_sync.committed_bytes(c) for c in answers[0].blocks) <= bound  # type: ignore[attr-defined]
    assert all(a.head_height == up.height for a in answers)  # type: ignore[attr-defined]


# --- state snapshots -------------------------------------------------------------------------


def _snapshot_frames(up: Peer, monkeypatch: pytest.MonkeyPatch, chunk_bytes: int = 1) -> list[bytes]:
    """What node 0 sends when asked for a snapshot (in small chunks, so there are several)."""
    monkeypatch.setattr(state_sync, "SNAPSHOT_CHUNK_BYTES", chunk_bytes)
    start = len(up.frames.sent)
    up.net.state_sync.on_request(3, SnapshotRequest())
    payloads = [payload for _, payload in up.frames.sent[start:]]
    if up.frames.hub is not None:
        up.frames.hub.queue.clear()  # the test delivers them itself
    return payloads


def test_a_snapshot_travels_end_to_end(cluster: Cluster, monkeypatch: pytest.MonkeyPatch) -> None:
    up, behind = _pair(cluster)
    monkeypatch.setattr(state_sync, "SNAPSHOT_CHUNK_BYTES", 1)

    async def scenario() -> None:
        behind.net.state_sync.request(0)
        assert behind.net.block_sync.catching_up
        cluster.hub.pump()

    asyncio.run(scenario())
    chunks = up.frames.messages(SnapshotChunk)
    assert len(chunks) > 3 and all(c.total == len(chunks) for c in chunks)  # type: ignore[attr-defined]
    assert behind.height == up.height
    assert behind.node.chain.head.state_root == up.node.chain.head.state_root
    assert not behind.net.state_sync.pending and behind.net.state_sync.refused == {}


def test_far_behind_asks_for_a_snapshot(cluster: Cluster) -> None:
    up, behind = _pair(cluster)
    behind.node.chain.params = msgspec.structs.replace(behind.node.chain.params, snapshot_gap=3)
    head = up.node.store.block(up.height)
    behind.net.on_frame(0, encode_wire(SyncMsg(SyncInfo(high_qc=head.qc))))
    assert behind.frames.messages(SnapshotRequest) == [SnapshotRequest()]
    assert behind.net.state_sync.pending


def _deliver(peer: Peer, sender: int, payloads: list[bytes]) -> None:
    async def scenario() -> None:
        for payload in payloads:
            peer.net.on_frame(sender, payload)

    asyncio.run(scenario())


def test_a_snapshot_chunk_nobody_asked_for_is_refused(
    cluster: Cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    up, behind = _pair(cluster)
    _deliver(behind, 0, _snapshot_frames(up, monkeypatch))
    assert behind.height == 0
    assert behind.net.state_sync.refused["unasked"] > 1 and not behind.net.state_sync.pending


def test_a_snapshot_chunk_from_another_peer_than_the_one_asked_is_refused(
    cluster: Cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    up, behind = _pair(cluster)
    payloads = _snapshot_frames(up, monkeypatch)
    behind.net.state_sync.request(1)
    _deliver(behind, 0, payloads)
    assert behind.height == 0
    assert behind.net.state_sync.refused == {"wrong_peer": len(payloads)}
    assert behind.net.state_sync.pending  # still waiting for the peer we asked
    _deliver(behind, 1, payloads)  # the peer we asked (here relaying node 0's snapshot)
    assert behind.height == up.height and not behind.net.state_sync.pending


def test_chunks_of_another_snapshot_are_refused(
    cluster: Cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    up, behind = _pair(cluster)
    payloads = _snapshot_frames(up, monkeypatch)
    chunks = [decode_wire(p) for p in payloads]
    other = [encode_wire(msgspec.structs.replace(c, snapshot_id=b"\x44" * 32)) for c in chunks]
    longer = [encode_wire(msgspec.structs.replace(c, total=c.total + 1)) for c in chunks[1:3]]  # type: ignore[attr-defined]
    behind.net.state_sync.request(0)
    _deliver(behind, 0, [payloads[0], *other[1:], *longer])
    assert behind.net.state_sync.refused == {"other_snapshot": len(other) - 1 + len(longer)}
    assert behind.height == 0 and behind.net.state_sync.pending
    _deliver(behind, 0, payloads[1:])  # the snapshot the first chunk named still completes
    assert behind.height == up.height


def test_a_snapshot_of_too_many_chunks_is_refused(
    cluster: Cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    up, behind = _pair(cluster)
    payloads = _snapshot_frames(up, monkeypatch)
    behind.net.state_sync.max_chunks = len(payloads) - 1
    behind.net.state_sync.request(0)
    _deliver(behind, 0, payloads)
    assert behind.net.state_sync.refused["too_many_chunks"] == 1
    assert behind.height == 0 and not behind.net.state_sync.pending  # the request is dropped


def test_a_snapshot_of_too_many_bytes_is_refused_and_dropped(
    cluster: Cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    up, behind = _pair(cluster)
    payloads = _snapshot_frames(up, monkeypatch)
    behind.net.state_sync.max_bytes = 100
    behind.net.state_sync.request(0)
    _deliver(behind, 0, payloads)
    refused = behind.net.state_sync.refused
    assert refused["too_many_bytes"] == 1 and refused["unasked"] > 0  # the rest: nobody asks now
    assert behind.height == 0 and not behind.net.state_sync.pending


def test_a_snapshot_request_that_times_out_drops_what_arrived(
    cluster: Cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = ManualClock()
    up, behind = _pair(cluster, clock)
    payloads = _snapshot_frames(up, monkeypatch)
    behind.net.state_sync.request(0)
    _deliver(behind, 0, payloads[:2])
    clock.shift += state_sync.SNAPSHOT_TIMEOUT_S + 1
    _deliver(behind, 0, payloads[2:])
    refused = behind.net.state_sync.refused
    assert refused["late"] == 1 and refused["unasked"] == len(payloads) - 3
    assert behind.height == 0 and not behind.net.state_sync.pending


def test_catch_up_that_times_out_drops_the_partial_snapshot_and_asks_again(
    cluster: Cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = ManualClock()
    up, behind = _pair(cluster, clock)
    behind.node.chain.params = msgspec.structs.replace(behind.node.chain.params, snapshot_gap=3)
    payloads = _snapshot_frames(up, monkeypatch)
    sync = encode_wire(SyncMsg(SyncInfo(high_qc=up.node.store.block(up.height).qc)))
    behind.net.on_frame(0, sync)
    _deliver(behind, 0, payloads[:2])
    behind.net.on_frame(0, sync)  # still waiting: no second request
    assert len(behind.frames.messages(SnapshotRequest)) == 1
    clock.shift += block_sync.CATCH_UP_TIMEOUT_S + 1
    behind.net.on_frame(0, sync)
    assert len(behind.frames.messages(SnapshotRequest)) == 2
    _deliver(behind, 0, payloads)  # a complete answer to the new request
    assert behind.height == up.height


# --- containment -----------------------------------------------------------------------------


@pytest.mark.parametrize("payload", [
    b"",
    b"\xff\x00garbage",
    encode_wire(TxsMsg([])) + b"\x00",
    msgspec.msgpack.encode(["no_such_tag", 1]),
    encode_wire(HeightRequest(1, 0)),
    encode_wire(HeightRequest(1, 65)),
    encode_wire(SnapshotChunk(b"\x01" * 32, 3, 3, None, [])),
    encode_wire(TxsMsg([b"x"] * 10_001)),
], ids=["empty", "garbage", "trailing", "unknown", "limit0", "limit65", "index", "too_many_txs"])
def test_malformed_frames_are_dropped_without_an_exception(cluster: Cluster, payload: bytes) -> None:
    up = cluster.open(cluster.root / "node0", 0)
    up.net.on_frame(1, payload)
    assert up.net.received == {} and up.frames.sent == [] and _drain(up.driver) == []


def test_a_storage_failure_while_answering_halts_the_node(cluster: Cluster) -> None:
    up = cluster.open(cluster.root / "node0", 0)

    def failing(height: int) -> Any:
        raise StorageError("cannot read: EIO")

    up.node.store.block = failing  # type: ignore[method-assign]
    up.net.on_frame(1, encode_wire(HeightRequest(1, 4)))
    assert up.driver.fatal is not None and "EIO" in up.driver.fatal.message


def test_an_unexpected_error_in_a_part_is_contained(cluster: Cluster, refusals: Refusals) -> None:
    up = cluster.open(cluster.root / "node0", 0)

    def broken(sender: int, msg: Any) -> None:
        raise RuntimeError("bug")

    up.net.routes[BlockRequest] = broken
    up.net.on_frame(1, encode_wire(BlockRequest(b"\x01" * 32)))
    assert up.driver.fatal is None and up.net.received == {"BlockRequest": 1}

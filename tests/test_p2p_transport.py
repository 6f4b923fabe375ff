from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest
from tests.p2p_helpers import fast_timings
from tests.p2p_helpers import run as run_checked
from tests.p2p_helpers import wait_until as wait_checked
from tests.procs import free_port_base

from consortia.p2p.certs import create_ca, issue_node_cert, write_ca_bundle
from consortia.p2p.errors import FrameTooLarge, UnknownPeer
from consortia.p2p.local_pki import make_local_pki
from consortia.p2p.timings import LinkTimings
from consortia.p2p.tls import TlsFiles
from consortia.p2p.transport import PeerTransport

FAST = fast_timings(idle_timeout=0.6)


def run(coro: Coroutine[Any, Any, None], timeout: float = 20.0) -> None:
    run_checked(coro, timeout)


async def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    await wait_checked(condition, timeout)


def free_ports(count: int) -> list[int]:
    """Free ports below the ephemeral range, so no outgoing connection can take one first."""
    base = free_port_base(count)
    return list(range(base, base + count))


class Node:
    """A transport plus what it received."""

    def __init__(
        self,
        index: int,
        port: int,
        peers: dict[int, tuple[str, int]],
        tls: TlsFiles,
        max_frame: int = 1 << 20,
        timings: LinkTimings = FAST,
    ) -> None:
        self.index = index
        self.received: list[tuple[int, bytes]] = []
        self.transport = PeerTransport(
            index,
            "127.0.0.1",
            port,
            peers,
            tls,
            lambda sender, payload: self.received.append((sender, payload)),
            max_frame=max_frame,
            timings=timings,
            rng=random.Random(index),
        )

    def payloads_from(self, sender: int) -> list[bytes]:
        return [payload for who, payload in self.received if who == sender]


def mesh(
    pki: list[TlsFiles], indexes: list[int], peer_indexes: list[int] | None = None, **kwargs: Any
) -> tuple[list[Node], dict[int, tuple[str, int]]]:
    """Nodes ``indexes``, each configured with all of ``peer_indexes`` (default: ``indexes``)."""
    wanted = peer_indexes if peer_indexes is not None else indexes
    addresses = dict(zip(wanted, (("127.0.0.1", p) for p in free_ports(len(wanted))), strict=True))
    nodes = []
    for i in indexes:
        peers = {j: addr for j, addr in addresses.items() if j != i}
        nodes.append(Node(i, addresses[i][1], peers, pki[i], **kwargs))
    return nodes, addresses


async def started(nodes: list[Node], body: Callable[[], Awaitable[None]]) -> None:
    for node in nodes:
        await node.transport.start()
    try:
        await body()
    finally:
        for node in nodes:
            await node.transport.stop()


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> list[TlsFiles]:
    # two organisations, so validators trust each other through a bundle of several CAs
    return make_local_pki(tmp_path_factory.mktemp("pki"), 6, orgs=("Bank A", "Bank B"))


def test_full_mesh_send_broadcast_and_liveness(pki: list[TlsFiles]) -> None:
    nodes, _ = mesh(pki, [0, 1, 2, 3])

    async def body() -> None:
        await wait_until(lambda: all(len(n.transport.connected_peers()) == 3 for n in nodes))
        for node in nodes:
            others = sorted({0, 1, 2, 3} - {node.index})
            assert node.transport.connected_peers() == others
        for node in nodes:
            for k in range(5):
                node.transport.broadcast(f"b{node.index}-{k}".encode())
        nodes[0].transport.send(2, b"direct")
        await wait_until(lambda: all(len(n.received) == 15 for n in nodes[:2] + nodes[3:]))
        await wait_until(lambda: len(nodes[2].received) == 16)
        for node in nodes:
            for sender in {0, 1, 2, 3} - {node.index}:
                expected = [f"b{sender}-{k}".encode() for k in range(5)]
                if (sender, node.index) == (0, 2):
                    expected.append(b"direct")
                assert node.payloads_from(sender) == expected  # right sender, in order
        # idle for longer than idle_timeout: pings keep every link up, nothing reconnects
        connects = [n.transport.stats()["connects"] for n in nodes]
        await asyncio.sleep(FAST.idle_timeout * 2)
        assert [n.transport.stats()["connects"] for n in nodes] == connects
        stats = nodes[0].transport.stats()
        assert stats["messages_out"] == 16 and stats["messages_in"] == 15
        assert stats["pings_in"] > 0 and stats["drops"] == 0 and stats["queued"] == 0

    run(started(nodes, body))


def test_untrusted_ca_is_refused_both_ways(pki: list[TlsFiles], tmp_path: Path) -> None:
    # rogue validators 0 and 3 hold certificates from a CA outside the consortium bundle (they
    # trust the consortium CA themselves, so the refusal is the honest nodes' doing)
    rogue_ca, rogue_key = create_ca("Rogue", tmp_path)
    bundle = write_ca_bundle([rogue_ca, pki[0].ca_bundle], tmp_path / "b.pem")
    rogue_tls = {}
    for index in (0, 3):
        cert, key = issue_node_cert(rogue_ca, rogue_key, index, f"rogue-{index}", tmp_path)
        rogue_tls[index] = TlsFiles(bundle, cert, key)
    files = {**dict(enumerate(pki)), **rogue_tls}
    nodes, _ = mesh([files[i] for i in range(4)], [0, 1, 2, 3])
    rogue0, honest1, honest2, rogue3 = nodes

    async def body() -> None:
        await wait_until(lambda: honest1.transport.connected_peers() == [2])
        await wait_until(lambda: honest1.transport.stats()["rejected"] > 0)  # dialled rogue 3
        for rogue in (rogue0, rogue3):
            rogue.transport.broadcast(b"evil")
        honest1.transport.broadcast(b"hello")
        honest2.transport.broadcast(b"hello")
        await wait_until(lambda: honest2.payloads_from(1) == [b"hello"] == honest1.payloads_from(2))
        await asyncio.sleep(0.5)
        for honest in (honest1, honest2):
            assert honest.transport.connected_peers() == [3 - honest.index]
            assert {sender for sender, _ in honest.received} == {3 - honest.index}
        assert rogue0.transport.connected_peers() == [3]  # the rogues trust each other, nobody else
        assert {sender for sender, _ in rogue3.received} == {0}

    run(started(nodes, body))


def test_valid_certificate_for_an_unconfigured_index_is_refused(
    pki: list[TlsFiles], caplog: pytest.LogCaptureFixture
) -> None:
    # validators 1..3 form the network; 0 has a genuine consortium certificate but is no peer of
    # theirs. It believes they are its peers and dials them.
    nodes, _ = mesh(pki, [0, 1, 2, 3])
    outsider = nodes[0]
    honest = nodes[1:]
    for node in honest:
        node.transport = PeerTransport(
            node.index,
            "127.0.0.1",
            node.transport._listen[1],
            {j: a for j, a in node.transport._peers.items() if j != 0},
            pki[node.index],
            lambda sender, payload, n=node: n.received.append((sender, payload)),
            timings=FAST,
        )

    async def body() -> None:
        await wait_until(lambda: all(len(n.transport.connected_peers()) == 2 for n in honest))
        await wait_until(lambda: all(n.transport.stats()["rejected"] > 0 for n in honest))
        outsider.transport.broadcast(b"let me in")
        await asyncio.sleep(0.5)
        assert outsider.transport.connected_peers() == []  # no hello ever came back
        assert all(0 not in n.transport.connected_peers() for n in honest)
        assert all(sender != 0 for n in honest for sender, _ in n.received)

    with caplog.at_level(logging.WARNING, logger="consortia.p2p"):
        run(started(nodes, body))
    assert "validator 0 is not a configured peer" in caplog.text


def test_impostor_at_a_peer_address_is_refused(pki: list[TlsFiles]) -> None:
    # node 0 expects validator 1 at an address where validator 2 (a genuine peer) listens
    nodes, addresses = mesh(pki, [0, 2], peer_indexes=[0, 1, 2])
    nodes[0].transport._peers[1] = addresses[2]

    async def body() -> None:
        await wait_until(lambda: nodes[0].transport.connected_peers() == [2])
        await wait_until(lambda: nodes[0].transport.stats()["rejected"] > 0)
        assert 1 not in nodes[0].transport.connected_peers()

    run(started(nodes, body))


def test_restarted_peer_is_reconnected_and_gets_queued_messages(pki: list[TlsFiles]) -> None:
    nodes, addresses = mesh(pki, [0, 1, 2])
    n0, n1, n2 = nodes

    async def body() -> None:
        await wait_until(lambda: all(len(n.transport.connected_peers()) == 2 for n in nodes))
        await n1.transport.stop()
        await wait_until(lambda: n0.transport.connected_peers() == [2])
        await wait_until(lambda: n2.transport.connected_peers() == [0])
        for k in range(20):
            n0.transport.send(1, f"from0-{k}".encode())  # n0 dials n1
            n2.transport.send(1, f"from2-{k}".encode())  # n1 dials n2
        assert n0.transport.queued(1) == 20
        await asyncio.sleep(0.3)  # a few failed redials
        restarted = Node(1, addresses[1][1], {0: addresses[0], 2: addresses[2]}, pki[1])
        nodes[1] = restarted
        await restarted.transport.start()
        await wait_until(lambda: len(restarted.received) == 40)
        assert restarted.payloads_from(0) == [f"from0-{k}".encode() for k in range(20)]
        assert restarted.payloads_from(2) == [f"from2-{k}".encode() for k in range(20)]
        assert n0.transport.stats()["reconnects"] >= 1 and n2.transport.stats()["reconnects"] >= 1
        assert n0.transport.connected_peers() == [1, 2]

    run(started(nodes, body))


def test_oversize_frame_closes_the_link_not_the_node(
    pki: list[TlsFiles], caplog: pytest.LogCaptureFixture
) -> None:
    nodes, addresses = mesh(pki, [0, 1])
    big, small = nodes
    small.transport = PeerTransport(
        1,
        "127.0.0.1",
        addresses[1][1],
        {0: addresses[0]},
        pki[1],
        lambda sender, payload: small.received.append((sender, payload)),
        max_frame=1024,
        timings=FAST,
    )

    async def body() -> None:
        await wait_until(lambda: big.transport.connected_peers() == [1])
        with pytest.raises(FrameTooLarge):
            small.transport.send(0, b"x" * 1025)  # the sender checks its own limit
        big.transport.send(1, b"x" * 2000)  # node 0 allows it, node 1 does not
        await wait_until(lambda: small.transport.stats()["frame_errors"] == 1)
        await wait_until(lambda: big.transport.stats()["reconnects"] >= 1)
        big.transport.send(1, b"fits")
        await wait_until(lambda: small.received == [(0, b"fits")])

    with caplog.at_level(logging.WARNING, logger="consortia.p2p"):
        run(started(nodes, body))
    assert "exceeds" in caplog.text or "maximum is" in caplog.text


def test_silent_peer_is_dropped_and_redialled(pki: list[TlsFiles]) -> None:
    mute = LinkTimings(ping_interval=None, idle_timeout=None, backoff_initial=0.05, backoff_max=0.2)
    nodes, addresses = mesh(pki, [0, 1])
    listener = nodes[1]
    listener.transport = PeerTransport(
        1, "127.0.0.1", addresses[1][1], {0: addresses[0]}, pki[1], lambda s, p: None, timings=mute
    )

    async def body() -> None:
        await wait_until(lambda: nodes[0].transport.stats()["reconnects"] >= 1)  # idle 0.6 s each time
        assert nodes[0].transport.stats()["link_failures"] >= 1

    run(started(nodes, body))


def test_queue_overflow_drops_oldest_and_unknown_peer_is_refused(pki: list[TlsFiles]) -> None:
    port, other = free_ports(2)
    transport = PeerTransport(
        0, "127.0.0.1", port, {1: ("127.0.0.1", other)}, pki[0], lambda s, p: None, send_queue_limit=3
    )
    for k in range(5):
        transport.send(1, bytes([k]))
    assert transport.queued(1) == 3
    assert transport.stats()["drops"] == 2
    with pytest.raises(UnknownPeer):
        transport.send(5, b"x")
    with pytest.raises(ValueError):
        PeerTransport(0, "127.0.0.1", port, {0: ("127.0.0.1", other)}, pki[0], lambda s, p: None)


def test_stop_is_clean_with_links_up_and_dials_pending(pki: list[TlsFiles]) -> None:
    nodes, _ = mesh(pki, [0, 1, 2], peer_indexes=[0, 1, 2, 5])  # 5 never comes up

    async def body() -> None:
        await wait_until(lambda: all(len(n.transport.connected_peers()) == 2 for n in nodes))
        for node in nodes:
            node.transport.broadcast(b"in flight")

    run(started(nodes, body))  # run() asserts that no task outlives stop()


def test_organisations_with_p256_and_ed25519_cas_interoperate(tmp_path: Path) -> None:
    p256_ca = create_ca("Bank A", tmp_path, key_type="p256")
    ed_ca = create_ca("Bank B", tmp_path, key_type="ed25519")
    bundle = write_ca_bundle([p256_ca[0], ed_ca[0]], tmp_path / "bundle.pem")
    files = [
        TlsFiles(bundle, *issue_node_cert(*ca, index, f"n{index}", tmp_path))
        for index, ca in enumerate((p256_ca, ed_ca))
    ]
    nodes, _ = mesh(files, [0, 1])

    async def body() -> None:
        for node in nodes:
            node.transport.broadcast(f"from {node.index}".encode())
        await wait_until(lambda: nodes[0].received == [(1, b"from 1")])
        await wait_until(lambda: nodes[1].received == [(0, b"from 0")])

    run(started(nodes, body))

"""Validators pinned to their organisation's CA and their own TLS key (issue 8).

Unit tests of the one check (:func:`verify_peer_certificate` / :func:`authenticate_peer`), of the
pins ``network init`` writes, and transport tests on 127.0.0.1: impostors holding a certificate
from a consortium CA are refused on both sides while the real link stays up; a second connection
from a peer whose link is live never evicts it; a peer whose old connection still looks open after
a crash is back once that link has gone silent.
"""

from __future__ import annotations

import asyncio
import datetime
import json
import random
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from tests.p2p_helpers import fast_timings
from tests.p2p_helpers import run as run_checked
from tests.p2p_helpers import wait_until as wait_checked
from tests.procs import free_port_base

from consortia.errors import ConfigError
from consortia.node.config import PeerConfig, load_config
from consortia.node.network_setup import init_network, load_orgs, peer_pins, tls_files
from consortia.p2p.certs import create_ca, issue_node_cert
from consortia.p2p.errors import CertificateError, PeerRejected, PinMismatch
from consortia.p2p.local_pki import local_pins, make_local_pki
from consortia.p2p.pinning import (
    PeerPin,
    TlsPin,
    authenticate_peer,
    load_trust,
    make_pin,
    resolve_pins,
    spki_sha256,
    verify_peer_certificate,
)
from consortia.p2p.timings import LinkTimings
from consortia.p2p.tls import TlsFiles
from consortia.p2p.transport import PeerTransport

ORGS = "cb:central-bank,bank-a:bank,bank-b:bank,reg:regulator"


def _cert(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


@pytest.fixture(scope="module")
def two_orgs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Bank A runs validator 0, Bank B validator 1; each CA's files."""
    root = tmp_path_factory.mktemp("orgs")
    ca_a = create_ca("Bank A", root / "ca")
    ca_b = create_ca("Bank B", root / "ca")
    node0 = issue_node_cert(*ca_a, 0, "node-0", root / "node-0")
    node1 = issue_node_cert(*ca_b, 1, "node-1", root / "node-1")
    return {"root": root, "ca_a": ca_a, "ca_b": ca_b, "node0": node0, "node1": node1}


def _pin(two_orgs: dict[str, Any], index: int = 0) -> PeerPin:
    node_cert, ca_cert = (two_orgs["node0"][0], two_orgs["ca_a"][0]) if index == 0 else (
        two_orgs["node1"][0], two_orgs["ca_b"][0]
    )
    return PeerPin(index, spki_sha256(_cert(node_cert)), _cert(ca_cert))


# --- the check -------------------------------------------------------------------------------


def test_the_right_certificate_is_accepted(two_orgs: dict[str, Any]) -> None:
    cert = two_orgs["node0"][0].read_bytes()
    assert verify_peer_certificate(cert, _pin(two_orgs)) == 0
    assert verify_peer_certificate(_cert(two_orgs["node0"][0]), _pin(two_orgs)) == 0
    pins = {0: _pin(two_orgs), 1: _pin(two_orgs, 1)}
    assert authenticate_peer(cert, pins) == 0
    assert authenticate_peer(cert, pins, expected=0) == 0
    assert authenticate_peer(two_orgs["node1"][0].read_bytes(), pins, expected=1) == 1


def test_another_organisations_ca_naming_the_validator_is_refused(
    two_orgs: dict[str, Any], tmp_path: Path
) -> None:
    # Bank B's CA key issues a certificate named for Bank A's validator 0 (the issue 8 attack)
    forged, _ = issue_node_cert(*two_orgs["ca_b"], 0, "forged", tmp_path)
    with pytest.raises(PinMismatch, match="issued by 'Bank B', not by 'Bank A'"):
        verify_peer_certificate(forged.read_bytes(), _pin(two_orgs))
    pins = {0: _pin(two_orgs), 1: _pin(two_orgs, 1)}
    for expected in (None, 0):
        with pytest.raises(PinMismatch):
            authenticate_peer(forged.read_bytes(), pins, expected)


def test_the_right_ca_with_another_key_is_refused(two_orgs: dict[str, Any], tmp_path: Path) -> None:
    # a genuine Bank A certificate for validator 0, but not the key configured for validator 0
    other, _ = issue_node_cert(*two_orgs["ca_a"], 0, "other-key", tmp_path)
    with pytest.raises(PinMismatch, match="key is not the one configured for validator 0"):
        verify_peer_certificate(other.read_bytes(), _pin(two_orgs))


def test_a_pin_for_another_index_refuses_a_certificate(two_orgs: dict[str, Any]) -> None:
    with pytest.raises(PinMismatch, match="names validator 1"):
        verify_peer_certificate(two_orgs["node1"][0].read_bytes(), _pin(two_orgs, 0))


def test_outside_its_validity_a_certificate_is_refused(two_orgs: dict[str, Any]) -> None:
    later = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=10_000)
    with pytest.raises(CertificateError, match="not valid now") as caught:
        verify_peer_certificate(two_orgs["node0"][0].read_bytes(), _pin(two_orgs), at=later)
    assert not isinstance(caught.value, PinMismatch)


def test_authenticate_refuses_wrong_and_unconfigured_indexes(two_orgs: dict[str, Any]) -> None:
    cert = two_orgs["node0"][0].read_bytes()
    with pytest.raises(PeerRejected, match="dialled validator 1"):
        authenticate_peer(cert, {0: _pin(two_orgs), 1: _pin(two_orgs, 1)}, expected=1)
    with pytest.raises(PeerRejected, match="not a configured peer"):
        authenticate_peer(cert, {1: _pin(two_orgs, 1)})
    assert authenticate_peer(cert, {0: None}) == 0  # unpinned: the bundle's word (tests only)
    with pytest.raises(CertificateError):
        authenticate_peer(b"not a certificate", {0: _pin(two_orgs)})


def test_pins_are_made_and_resolved_against_the_bundle(two_orgs: dict[str, Any], tmp_path: Path) -> None:
    pin = make_pin(two_orgs["node0"][0], two_orgs["ca_a"][0])
    assert pin == TlsPin(spki_sha256(_cert(two_orgs["node0"][0])), spki_sha256(_cert(two_orgs["ca_a"][0])))
    with pytest.raises(PinMismatch):
        make_pin(two_orgs["node0"][0], two_orgs["ca_b"][0])
    bundle = tmp_path / "bundle.pem"
    bundle.write_bytes(two_orgs["ca_a"][0].read_bytes() + two_orgs["ca_b"][0].read_bytes())
    resolved = resolve_pins({0: pin}, load_trust(bundle))
    assert resolved[0].ca == _cert(two_orgs["ca_a"][0]) and resolved[0].spki_sha256 == pin.spki_sha256
    only_b = tmp_path / "only-b.pem"
    only_b.write_bytes(two_orgs["ca_b"][0].read_bytes())
    with pytest.raises(CertificateError, match="not in the CA bundle"):
        resolve_pins({0: pin}, load_trust(only_b))
    with pytest.raises(CertificateError):
        TlsPin(b"short", pin.ca_spki_sha256)


def test_replace_after_must_exceed_the_ping_interval() -> None:
    with pytest.raises(ValueError):
        LinkTimings(ping_interval=1.0, idle_timeout=10.0, replace_silent_after=1.0)
    LinkTimings(ping_interval=1.0, idle_timeout=10.0, replace_silent_after=None)


# --- what network init writes ---------------------------------------------------------------------


@pytest.mark.parametrize("orgs", [ORGS, None])
def test_network_init_pins_every_peer_standby_included(tmp_path: Path, orgs: str | None) -> None:
    root = tmp_path / "net"
    homes = init_network(root, 4, base_port=20000, orgs=orgs, standby=1)
    assert len(homes) == 5
    owners = {i: o for o in load_orgs(root) for i in o.validators}
    for home in homes:
        config = load_config(home.home)
        pins = peer_pins(config.peers)
        assert sorted(pins) == sorted(set(range(5)) - {home.index})
        trust = load_trust(tls_files(home.home).ca_bundle)
        for index, pin in pins.items():
            peer_cert = _cert(tls_files(root / f"node{index}").cert)
            assert pin.spki_sha256 == spki_sha256(peer_cert)
            ca = trust[pin.ca_spki_sha256]
            peer_cert.verify_directly_issued_by(ca)
            if orgs and index in owners:  # a validator is pinned to its organisation's CA
                assert ca == _cert(owners[index].ca_cert)
            resolved = resolve_pins({index: pin}, trust)
            assert verify_peer_certificate(peer_cert, resolved[index]) == index
    raw = json.loads((root / "node0" / "node.json").read_text())
    assert all(p["tls_spki_sha256"].startswith("0x") for p in raw["peers"])


def test_a_peer_without_pin_stops_the_node_from_starting() -> None:
    with pytest.raises(ConfigError, match="no TLS pin"):
        peer_pins([PeerConfig(1, "127.0.0.1", 1234, b"")])
    with pytest.raises(ConfigError, match="must be 32 bytes"):
        peer_pins([PeerConfig(1, "127.0.0.1", 1234, b"", b"x" * 31, b"y" * 32)])


# --- transports on 127.0.0.1 -----------------------------------------------------------------------

TIMINGS = fast_timings(idle_timeout=3.0)


def run(coro: Coroutine[Any, Any, None], timeout: float = 40.0) -> None:
    run_checked(coro, timeout)


async def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    await wait_checked(condition, timeout)


class Node:
    def __init__(
        self,
        index: int,
        port: int,
        peers: dict[int, tuple[str, int]],
        tls: TlsFiles,
        pins: dict[int, TlsPin] | None,
        timings: LinkTimings = TIMINGS,
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
            timings=timings,
            rng=random.Random(index),
            pins=None if pins is None else {j: pins[j] for j in peers},
        )

    def payloads_from(self, sender: int) -> list[bytes]:
        return [payload for who, payload in self.received if who == sender]

    def stat(self, name: str) -> int:
        return self.transport.stats()[name]


async def running(nodes: list[Node], body: Callable[[], Awaitable[None]]) -> None:
    for node in nodes:
        await node.transport.start()
    try:
        await body()
    finally:
        for node in nodes:
            await node.transport.stop()


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[TlsFiles], dict[int, TlsPin]]:
    """Validators 0 and 2 run by Bank A, 1 by Bank B; every node trusts both CAs."""
    root = tmp_path_factory.mktemp("pki")
    files = make_local_pki(root, 3, orgs=("Bank A", "Bank B"))
    return root, files, local_pins(files)


def _ca(root: Path, slug: str) -> tuple[Path, Path]:
    return root / "ca" / f"{slug}-ca.crt", root / "ca" / f"{slug}-ca.key"


def honest_mesh(files: list[TlsFiles], pins: dict[int, TlsPin], **kwargs: Any) -> list[Node]:
    base = free_port_base(3)
    addresses = {i: ("127.0.0.1", base + i) for i in range(3)}
    return [
        Node(i, base + i, {j: a for j, a in addresses.items() if j != i}, files[i], pins, **kwargs)
        for i in range(3)
    ]


@pytest.mark.parametrize(
    ("forged_index", "org"),
    [
        (0, "bank-b"),  # Bank B's CA names Bank A's validator 0
        (1, "bank-a"),  # Bank A's CA names Bank B's validator 1
        (0, "bank-a"),  # the right CA, but another key than validator 0's
    ],
)
def test_impostor_is_refused_and_the_real_link_keeps_delivering(
    pki: tuple[Path, list[TlsFiles], dict[int, TlsPin]], tmp_path: Path, forged_index: int, org: str
) -> None:
    root, files, pins = pki
    nodes = honest_mesh(files, pins)
    cert, key = issue_node_cert(*_ca(root, org), forged_index, "impostor", tmp_path)
    # the impostor dials every honest node that accepts validator `forged_index`, again and again
    targets = {i: ("127.0.0.1", nodes[i].transport._listen[1]) for i in range(3) if i > forged_index}
    impostor = Node(forged_index, free_port_base(1), targets, TlsFiles(files[0].ca_bundle, cert, key), None)
    victims = [nodes[i] for i in targets]

    async def body() -> None:
        await wait_until(lambda: all(len(n.transport.connected_peers()) == 2 for n in nodes))
        connects = [n.stat("connects") for n in nodes]
        await impostor.transport.start()
        try:
            for k in range(10):
                impostor.transport.broadcast(b"evil")
                nodes[forged_index].transport.broadcast(f"real-{k}".encode())
                await asyncio.sleep(0.1)
            await wait_until(lambda: all(v.stat("pin_mismatches") >= 3 for v in victims))
            expected = [f"real-{k}".encode() for k in range(10)]
            await wait_until(lambda: all(v.payloads_from(forged_index) == expected for v in victims))
        finally:
            await impostor.transport.stop()
        assert impostor.transport.connected_peers() == []
        assert impostor.received == []
        for node in nodes:
            assert len(node.transport.connected_peers()) == 2
            assert node.stat("links_replaced") == 0
        assert [n.stat("connects") for n in nodes] == connects  # no real link was replaced

    run(running(nodes, body))


def test_dialler_refuses_an_impostor_at_the_peers_address(
    pki: tuple[Path, list[TlsFiles], dict[int, TlsPin]], tmp_path: Path
) -> None:
    # node 0 dials validator 1, but at that address listens a Bank A certificate named validator-1
    root, files, pins = pki
    base = free_port_base(3)
    addresses = {i: ("127.0.0.1", base + i) for i in range(3)}
    n0 = Node(0, base, {1: addresses[1], 2: addresses[2]}, files[0], pins)
    n2 = Node(2, base + 2, {0: addresses[0], 1: addresses[1]}, files[2], pins)
    cert, key = issue_node_cert(*_ca(root, "bank-a"), 1, "impostor", tmp_path)
    impostor = Node(1, base + 1, {0: addresses[0]}, TlsFiles(files[0].ca_bundle, cert, key), None)

    async def body() -> None:
        await wait_until(lambda: n0.transport.connected_peers() == [2])
        await wait_until(lambda: n0.stat("pin_mismatches") >= 2)
        n0.transport.send(1, b"for validator 1 only")
        await asyncio.sleep(0.3)
        assert impostor.received == [] and 1 not in n0.transport.connected_peers()
        assert n0.transport.queued(1) == 1  # still waiting for the real validator 1

    run(running([n0, n2, impostor], body))


def test_a_second_connection_never_evicts_a_live_link(
    pki: tuple[Path, list[TlsFiles], dict[int, TlsPin]],
) -> None:
    # even holding validator 0's own key (a stolen key, or a confused second process), a new
    # connection does not replace the live link of validator 0
    _, files, pins = pki
    nodes = honest_mesh(files, pins)
    targets = {i: ("127.0.0.1", nodes[i].transport._listen[1]) for i in (1, 2)}
    twin = Node(0, free_port_base(1), targets, files[0], pins)

    async def body() -> None:
        await wait_until(lambda: all(len(n.transport.connected_peers()) == 2 for n in nodes))
        connects = [n.stat("connects") for n in nodes]
        await twin.transport.start()
        try:
            await wait_until(lambda: all(nodes[i].stat("duplicates_refused") >= 2 for i in (1, 2)))
            for k in range(5):
                nodes[0].transport.broadcast(f"real-{k}".encode())
                twin.transport.broadcast(b"twin")
            expected = [f"real-{k}".encode() for k in range(5)]
            await wait_until(lambda: all(nodes[i].payloads_from(0) == expected for i in (1, 2)))
        finally:
            await twin.transport.stop()
        assert twin.transport.connected_peers() == []
        assert [n.stat("connects") for n in nodes] == connects
        assert all(n.stat("links_replaced") == 0 for n in nodes)

    run(running(nodes, body))


class FreezableProxy:
    """A TCP relay that can stop relaying while keeping every connection open (a peer whose host
    died without closing anything, or a network that drops packets)."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.frozen = False
        self._pumps: set[asyncio.Task[None]] = set()
        self._writers: list[asyncio.StreamWriter] = []
        self._server: asyncio.Server | None = None

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        return int(self._server.sockets[0].getsockname()[1])

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self.target)
        self._writers += [writer, up_writer]
        for src, dst in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.create_task(self._pump(src, dst))
            self._pumps.add(task)

    async def _pump(self, src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        while data := await src.read(65536):
            dst.write(data)
            await dst.drain()

    def freeze(self) -> None:
        """Stop relaying in both directions; no connection is closed."""
        self.frozen = True
        for task in self._pumps:
            task.cancel()

    async def stop(self) -> None:
        self.freeze()
        await asyncio.gather(*self._pumps, return_exceptions=True)
        for writer in self._writers:
            writer.transport.abort()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()


def test_a_crashed_peer_whose_old_connection_looks_open_is_back(
    pki: tuple[Path, list[TlsFiles], dict[int, TlsPin]],
) -> None:
    # validator 0 reaches 1 through a relay; the relay freezes (the old connection stays open but
    # silent) and 0 restarts. The idle timeout is long: only replacing the silent link brings 0 back.
    _, files, pins = pki
    slow_idle = LinkTimings(
        ping_interval=0.1,
        idle_timeout=120.0,
        connect_timeout=1.0,
        handshake_timeout=1.0,
        backoff_initial=0.05,
        backoff_max=0.2,
        stable_after=0.2,
        close_timeout=0.2,
        replace_silent_after=0.5,
    )
    base = free_port_base(2)
    n1 = Node(1, base + 1, {0: ("127.0.0.1", base)}, files[1], pins, timings=slow_idle)

    async def body() -> None:
        proxy = FreezableProxy(("127.0.0.1", base + 1))
        proxy_port = await proxy.start()
        n0 = Node(0, base, {1: ("127.0.0.1", proxy_port)}, files[0], pins, timings=slow_idle)
        await n0.transport.start()
        try:
            await wait_until(lambda: n1.transport.connected_peers() == [0])
            n0.transport.send(1, b"before")
            await wait_until(lambda: n1.payloads_from(0) == [b"before"])
            proxy.freeze()
            await n0.transport.stop()  # its close never reaches validator 1
            assert n1.transport.connected_peers() == [0]  # the old link still looks up
            restarted = Node(0, base, {1: ("127.0.0.1", base + 1)}, files[0], pins, timings=slow_idle)
            await restarted.transport.start()
            try:
                restarted.transport.send(1, b"after")
                await wait_until(lambda: n1.payloads_from(0) == [b"before", b"after"])
                n1.transport.send(0, b"welcome back")
                await wait_until(lambda: restarted.payloads_from(1) == [b"welcome back"])
                assert n1.stat("links_replaced") == 1
            finally:
                await restarted.transport.stop()
        finally:
            await proxy.stop()

    run(running([n1], body))

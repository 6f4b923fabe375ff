"""Peers learnt from the chain: nodes that joined by governance after genesis, and validator
keys rotated by governance (the records of ``contracts/permissioned/node_directory``).

:func:`learnt_peers` is pure: committed state in, the peers to add out, each from a bundle whose
signature is checked again here (never trusted because it is on chain). :class:`DirectoryFollower`
applies them to the running transport and consensus driver; the runner calls ``refresh`` after
start and every :data:`REFRESH_S`, so a restarted node learns them again from its own state.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from consortia.contracts.permissioned.node_directory import joined_nodes, transport_keys
from consortia.errors import ConfigError
from consortia.node.org_home import check_bundle_ca, verify_bundle
from consortia.p2p.errors import CertificateError
from consortia.p2p.pinning import TlsPin, spki_sha256

log = logging.getLogger("consortia.directory")

StateGet = Callable[[bytes], bytes | None]
REFRESH_S = 0.5


@dataclass(frozen=True, slots=True)
class LearntPeer:
    index: int
    org: str
    host: str
    port: int
    validator_public_key: bytes
    pin: TlsPin
    ca_pem: bytes


def learnt_peers(state_get: StateGet, me: int, known: set[int]) -> tuple[list[LearntPeer], list[str]]:
    """The joined nodes not in ``known`` (nor ``me``), and a reason for each entry refused."""
    peers: list[LearntPeer] = []
    refused: list[str] = []
    for entry in joined_nodes(state_get):
        if entry.index == me or entry.index in known:
            continue
        body = entry.bundle.body
        try:
            verify_bundle(entry.bundle)
            ca = check_bundle_ca(body.name, body.ca_pem)
        except ConfigError as exc:
            refused.append(f"node {entry.index} ({body.name}): {exc.message}")
            continue
        pin = TlsPin(body.tls_spki_sha256, spki_sha256(ca))
        peers.append(LearntPeer(entry.index, body.name, body.host, body.p2p_port,
                                body.validator_public_key, pin, body.ca_pem))
    return peers, refused


class PeerAdder(Protocol):
    def add_peer(self, index: int, address: tuple[str, int], pin: TlsPin, ca_pem: bytes) -> bool: ...


class KeyMap(Protocol):
    def learn_keys(self, keys: dict[bytes, int]) -> None: ...


class DirectoryFollower:
    """Keeps the transport's peers and the driver's key -> peer map in step with the chain."""

    def __init__(self, state_get: StateGet, genesis_keys: list[bytes], me: int, known: set[int],
                 frames: PeerAdder, driver: KeyMap) -> None:
        self._state_get = state_get
        self._genesis_keys = genesis_keys
        self._me = me
        self._known = set(known)
        self._refused: set[str] = set()
        self._frames = frames
        self._driver = driver

    def refresh(self) -> list[int]:
        """Add every newly joined node; the indices added."""
        self._driver.learn_keys(transport_keys(self._state_get, self._genesis_keys))
        peers, refused = learnt_peers(self._state_get, self._me, self._known)
        for reason in refused:
            if reason not in self._refused:
                self._refused.add(reason)
                log.warning("directory entry refused: %s", reason)
        added: list[int] = []
        for peer in peers:
            try:
                self._frames.add_peer(peer.index, (peer.host, peer.port), peer.pin, peer.ca_pem)
            except (CertificateError, ValueError) as exc:
                log.warning("cannot take up node %d (%s): %s", peer.index, peer.org, exc)
                continue
            self._known.add(peer.index)
            added.append(peer.index)
            log.info("learnt node %d of %s at %s:%d from the chain",
                     peer.index, peer.org, peer.host, peer.port)
        return added

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                self.refresh()
            except Exception:
                log.exception("reading the node directory failed; trying again")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), REFRESH_S)

"""A node taking up organisations' CA rotations decided by governance (decisions/0019), with
no restart.

From the committed state (:func:`~consortia.contracts.permissioned.ca_rotation.ca_changes`):

* **peers**: a peer first pinned to a CA that was rotated is accepted with the new CA *and*
  the old one until the rotation's ``retire_height``, then with the new one alone
  (:func:`accepted_cas`, pure; applied by ``PeerTransport.set_peer_cas``);
* **itself**: once the committed height reaches the ``effective_height`` of a rotation of the
  CA that issued its own certificate, the node switches to ``tls/node.next.crt`` (issued by the
  new CA for the same TLS key by ``consortia org rotate-ca``): the current certificate is kept
  as ``node.retired.crt`` and the transport presents the new one from its next handshake on.

:class:`CaRollover` runs both every :data:`REFRESH_S`; a restarted node applies them again from
its own state at start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from cryptography import x509
from cryptography.exceptions import InvalidSignature

from consortia.contracts.permissioned.ca_rotation import CaChange, ca_changes, ca_spki_sha256
from consortia.p2p.certs import load_certificate, load_private_key, validator_index_from_cert
from consortia.p2p.errors import CertificateError
from consortia.p2p.pinning import TlsPin, spki_sha256
from consortia.p2p.tls import TlsFiles

log = logging.getLogger("consortia.ca_rollover")

StateGet = Callable[[bytes], bytes | None]
REFRESH_S = 0.5
NEXT_CERT_FILE = "node.next.crt"
RETIRED_CERT_FILE = "node.retired.crt"


def accepted_cas(changes: list[CaChange], ca_spki: bytes, height: int) -> list[bytes] | None:
    """The CAs (PEM; the newest first) a peer first pinned to the CA ``ca_spki`` is accepted
    with at committed ``height``; None if no rotation decided by then concerns that CA."""
    accepted: list[bytes] = []
    current = ca_spki
    for change in changes:
        if change.height > height:
            break
        if ca_spki_sha256(change.old_ca_pem) != current:
            continue
        before = accepted or [change.old_ca_pem]
        accepted = [change.new_ca_pem, *(before if height < change.retire_height else [])]
        current = ca_spki_sha256(change.new_ca_pem)
    return accepted or None


def issued_by(cert: x509.Certificate, ca_pem: bytes) -> bool:
    try:
        cert.verify_directly_issued_by(load_certificate(ca_pem))
    except (ValueError, TypeError, InvalidSignature, CertificateError):
        return False
    return True


def due_switch(changes: list[CaChange], own_cert: x509.Certificate, height: int) -> CaChange | None:
    """The rotation of the CA that issued ``own_cert`` whose effective height is reached."""
    for change in changes:
        if change.effective_height <= height and issued_by(own_cert, change.old_ca_pem):
            return change
    return None


def next_cert_path(files: TlsFiles) -> Path:
    return files.cert.with_name(NEXT_CERT_FILE)


def check_next_cert(files: TlsFiles, change: CaChange) -> x509.Certificate:
    """``node.next.crt``, checked: issued by the new CA, for this node's TLS key and index."""
    path = next_cert_path(files)
    if not path.exists():
        raise CertificateError(
            f"the CA of organisation {change.org!r} is rotated from height {change.effective_height} "
            f"but {path} is missing: make it with `consortia org rotate-ca --issue-only`",
            path=str(path),
        )
    fresh = load_certificate(path.read_bytes())
    current = load_certificate(files.cert.read_bytes())
    if not issued_by(fresh, change.new_ca_pem):
        raise CertificateError(f"{path} is not issued by the new CA of {change.org!r}", path=str(path))
    if spki_sha256(fresh) != spki_sha256(load_private_key(files.key).public_key()):
        raise CertificateError(f"{path} does not carry this node's TLS key {files.key}", path=str(path))
    if validator_index_from_cert(fresh) != validator_index_from_cert(current):
        raise CertificateError(f"{path} names another validator index than {files.cert}", path=str(path))
    return fresh


def switch_certificate(files: TlsFiles, change: CaChange) -> None:
    """``node.next.crt`` becomes ``node.crt`` (the old one kept as ``node.retired.crt``)."""
    check_next_cert(files, change)
    os.replace(files.cert, files.cert.with_name(RETIRED_CERT_FILE))
    os.replace(next_cert_path(files), files.cert)


class PinnedPeers(Protocol):
    def peer_pins(self) -> dict[int, TlsPin]: ...

    def set_peer_cas(self, index: int, ca_pems: list[bytes]) -> bool: ...

    def reload_certificate(self) -> None: ...


@dataclass
class CaRollover:
    """Keeps the transport's accepted CAs and the node's own certificate in step with the chain."""

    state_get: StateGet
    height: Callable[[], int]
    files: TlsFiles
    transport: PinnedPeers
    switched: int = 0

    def __post_init__(self) -> None:
        self._reported: set[str] = set()

    def refresh(self) -> None:
        changes = ca_changes(self.state_get)
        if not changes:
            return
        height = self.height()
        for index, pin in sorted(self.transport.peer_pins().items()):
            cas = accepted_cas(changes, pin.ca_spki_sha256, height)
            if cas is not None:
                self.transport.set_peer_cas(index, cas)
        self._switch_own(changes, height)

    def _switch_own(self, changes: list[CaChange], height: int) -> None:
        own = load_certificate(self.files.cert.read_bytes())
        change = due_switch(changes, own, height)
        if change is None:
            return
        try:
            switch_certificate(self.files, change)
        except CertificateError as exc:
            if exc.message not in self._reported:
                self._reported.add(exc.message)
                log.error("cannot take up the new CA's certificate: %s", exc.message)
            return
        self.transport.reload_certificate()
        self.switched += 1
        log.info("organisation %s's CA rotated at height %d: presenting the new CA's certificate",
                 change.org, change.effective_height)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                self.refresh()
            except Exception:
                log.exception("taking up CA rotations failed; trying again")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), REFRESH_S)

"""Authenticated, encrypted transport between validator nodes (mutual TLS 1.3 on asyncio).

The node hands opaque payloads to :class:`PeerTransport`; peers are identified by the validator
index in their X.509 certificate (see :mod:`consortia.p2p.certs`), pinned to their organisation's
CA and their own key (see :mod:`consortia.p2p.pinning`).
"""

from __future__ import annotations

from consortia.p2p.certs import create_ca, issue_node_cert, validator_index_from_cert, write_ca_bundle
from consortia.p2p.local_pki import local_pins, make_local_pki
from consortia.p2p.pinning import TlsPin, authenticate_peer, make_pin, verify_peer_certificate
from consortia.p2p.timings import LinkTimings
from consortia.p2p.tls import TlsFiles
from consortia.p2p.transport import PeerTransport

__all__ = [
    "LinkTimings",
    "PeerTransport",
    "TlsFiles",
    "TlsPin",
    "authenticate_peer",
    "create_ca",
    "issue_node_cert",
    "local_pins",
    "make_local_pki",
    "make_pin",
    "validator_index_from_cert",
    "verify_peer_certificate",
    "write_ca_bundle",
]

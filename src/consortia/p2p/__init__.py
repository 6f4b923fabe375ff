"""Authenticated, encrypted transport between validator nodes (mutual TLS 1.3 on asyncio).

The node hands opaque payloads to :class:`PeerTransport`; peers are identified by the validator
index in their X.509 certificate (see :mod:`consortia.p2p.certs`).
"""

from __future__ import annotations

from consortia.p2p.certs import create_ca, issue_node_cert, validator_index_from_cert, write_ca_bundle
from consortia.p2p.local_pki import make_local_pki
from consortia.p2p.timings import LinkTimings
from consortia.p2p.tls import TlsFiles
from consortia.p2p.transport import PeerTransport

__all__ = [
    "LinkTimings",
    "PeerTransport",
    "TlsFiles",
    "create_ca",
    "issue_node_cert",
    "make_local_pki",
    "validator_index_from_cert",
    "write_ca_bundle",
]

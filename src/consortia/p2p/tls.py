"""Mutual TLS 1.3 contexts for validator links, and the peer certificate taken from a handshake.

The contexts check that a certificate chains to *some* consortium CA; which certificate may speak
for which validator is decided afterwards by :mod:`consortia.p2p.pinning`.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

from consortia.p2p.certs import validator_index_from_cert
from consortia.p2p.errors import CertificateError


@dataclass(frozen=True)
class TlsFiles:
    """Where a node's TLS material lives: the consortium CA bundle, its own certificate and key."""

    ca_bundle: Path
    cert: Path
    key: Path


def server_context(files: TlsFiles) -> ssl.SSLContext:
    """Accepting side: TLS 1.3 only, a client certificate from a consortium CA is required."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    _configure(context, files)
    return context


def client_context(files: TlsFiles) -> ssl.SSLContext:
    """Dialling side: TLS 1.3 only, the server must present a certificate from a consortium CA.

    Host names are not checked: a validator is identified by its pinned certificate (see
    :mod:`consortia.p2p.pinning`), which the transport checks against the index it meant to dial
    (addresses may change, identities not).
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    _configure(context, files)
    return context


def peer_certificate(ssl_object: ssl.SSLObject | ssl.SSLSocket | None) -> bytes:
    """The DER certificate the peer presented in the handshake."""
    if ssl_object is None:
        raise CertificateError("connection is not TLS")
    der = ssl_object.getpeercert(binary_form=True)
    if not der:
        raise CertificateError("peer presented no certificate")
    return der


def peer_index(ssl_object: ssl.SSLObject | ssl.SSLSocket | None) -> int:
    """The validator index *named* by the peer's certificate: a claim, not an identity (the
    transport authenticates it with :func:`consortia.p2p.pinning.authenticate_peer`)."""
    return validator_index_from_cert(peer_certificate(ssl_object))


def _configure(context: ssl.SSLContext, files: TlsFiles) -> None:
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    context.maximum_version = ssl.TLSVersion.TLSv1_3
    context.verify_mode = ssl.CERT_REQUIRED
    context.load_verify_locations(cafile=str(files.ca_bundle))
    context.load_cert_chain(certfile=str(files.cert), keyfile=str(files.key))

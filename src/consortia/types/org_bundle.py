"""An organisation's public bundle: what it hands the consortium to be part of a genesis.

Public parts only: the organisation's name and role, its admin's public key (which signs the
bundle), its CA certificate, its validator's public key, the digest of its validator's TLS key
(the pin, :mod:`consortia.p2p.pinning`) and where its node listens. No private key is in it.

``signature`` is the admin key's signature over :func:`bundle_signing_bytes` (the canonical
encoding of every other field under a domain tag), so a bundle changed on its way is refused.
"""

from __future__ import annotations

import msgspec

from consortia.codec import encode

BUNDLE_FORMAT = "consortia-org-bundle/1"
BUNDLE_DOMAIN = b"consortia/org-bundle/v1\x00"


class OrgBundleBody(msgspec.Struct, array_like=True, frozen=True):
    """Every signed field of a bundle."""

    format: str
    name: str
    role: str
    suite: str
    admin_public_key: bytes
    validator_public_key: bytes
    ca_pem: bytes
    """The organisation's CA certificate (PEM): it issues its node's TLS certificate."""
    tls_spki_sha256: bytes
    """SHA-256 of the node's TLS public key (DER SubjectPublicKeyInfo): its peers pin it."""
    host: str
    p2p_port: int
    api_port: int
    created_ms: int


class OrgBundle(msgspec.Struct, array_like=True, frozen=True):
    body: OrgBundleBody
    signature: bytes


def bundle_signing_bytes(body: OrgBundleBody) -> bytes:
    return BUNDLE_DOMAIN + encode(body)

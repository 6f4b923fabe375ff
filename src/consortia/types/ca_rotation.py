"""An organisation's request to replace its CA: what a ``rotate-ca`` proposal carries.

The organisation makes the new CA in its own home (``consortia org rotate-ca``); the request
holds only public parts: the organisation's name, the digest of the CA it replaces (so a request
cannot be replayed after a later rotation), the new CA certificate, and the signature of one of
the organisation's admins over :func:`ca_rotation_signing_bytes` (the canonical encoding of the
body under a domain tag).
"""

from __future__ import annotations

import msgspec

from consortia.codec import encode

CA_ROTATION_FORMAT = "consortia-ca-rotation/1"
CA_ROTATION_DOMAIN = b"consortia/ca-rotation/v1\x00"


class CaRotationBody(msgspec.Struct, array_like=True, frozen=True):
    """Every signed field of a CA rotation request."""

    format: str
    org: str
    old_ca_spki_sha256: bytes
    """SHA-256 of the SubjectPublicKeyInfo of the CA being replaced (the chain's current one)."""
    new_ca_pem: bytes
    created_ms: int


class CaRotationRequest(msgspec.Struct, array_like=True, frozen=True):
    body: CaRotationBody
    admin_public_key: bytes
    signature: bytes


def ca_rotation_signing_bytes(body: CaRotationBody) -> bytes:
    return CA_ROTATION_DOMAIN + encode(body)

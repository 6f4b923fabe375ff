"""An organisation's CA rotated by governance (``rotate-ca``, decisions/0019).

The organisation signs a :class:`~consortia.types.ca_rotation.CaRotationRequest` with one of its
admin keys; any committee member proposes it. :func:`check_request` validates it (when proposed
and again when passed, at that block's height and timestamp); :func:`apply` replaces the
organisation's CA on chain and records a :class:`CaChange`:

* from ``height`` (the decision) every node accepts certificates of the new CA, besides the old
  one, for the peers pinned to the old CA;
* at ``effective_height`` (= height + ``gov.validator_delay``, the same delay as a validator
  epoch) the organisation's node presents its certificate of the new CA;
* from ``retire_height`` (= effective + :data:`CA_OVERLAP_BLOCKS`) the old CA is no longer
  accepted for new connections.

Identities enrolled from the decision on are checked against the new CA (``Org.ca_pem``).

=============================  =====================================================
key                            value
=============================  =====================================================
``perm/carot/count``           int: CA rotations
``perm/carot/<n u32>``         :class:`CaChange` (n from 0)
=============================  =====================================================
"""

from __future__ import annotations

import datetime
import hashlib

import msgspec
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from msgspec.structs import replace

from consortia.contracts.permissioned import keys
from consortia.contracts.permissioned.directory import config, org
from consortia.contracts.permissioned.errors import InvalidProposal
from consortia.contracts.permissioned.limits import MAX_CERT_BYTES
from consortia.contracts.permissioned.records import ACTIVE, Org
from consortia.contracts.permissioned.store import StateGet, read, read_int, write
from consortia.crypto.address import address_from_public_key
from consortia.crypto.suites import get_suite
from consortia.errors import CryptoError
from consortia.execution.context import TxState
from consortia.invariant import InvariantViolation
from consortia.types.ca_rotation import CA_ROTATION_FORMAT, CaRotationRequest, ca_rotation_signing_bytes

CA_ROTATION_COUNT = keys.P + b"carot/count"
CA_OVERLAP_BLOCKS = 1000
"""Blocks after ``effective_height`` in which the old CA is still accepted: room for a node that
lags behind to switch to its new certificate before its peers stop accepting the old one."""
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
_MS = datetime.timedelta(milliseconds=1)


def ca_rotation_key(n: int) -> bytes:
    return keys.P + b"carot/" + n.to_bytes(4, "big")


class CaChange(msgspec.Struct, array_like=True, frozen=True):
    """Organisation ``org``'s CA ``old_ca_pem`` replaced by ``new_ca_pem``."""

    org: str
    old_ca_pem: bytes
    new_ca_pem: bytes
    proposal_id: int
    height: int
    effective_height: int
    retire_height: int


def ca_changes(state_get: StateGet) -> list[CaChange]:
    """Every CA rotation, oldest first."""
    out: list[CaChange] = []
    for n in range(read_int(state_get, CA_ROTATION_COUNT)):
        record = read(state_get, ca_rotation_key(n), CaChange)
        if record is None:
            raise InvariantViolation(f"CA rotation record {n} is missing")
        out.append(record)
    return out


def ca_spki_sha256(pem: bytes) -> bytes:
    """SHA-256 of a PEM certificate's DER SubjectPublicKeyInfo (the digest peers pin)."""
    cert = x509.load_pem_x509_certificate(pem)
    der = cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(der).digest()


def check_new_ca(who: str, pem: bytes, at_ms: int) -> x509.Certificate:
    """Raise InvalidProposal unless ``pem`` is a self-signed CA certificate with a P-256 or
    Ed25519 key (what node certificates are issued with), valid at ``at_ms``."""
    prefix = f"the new CA of {who} is not valid"
    if len(pem) > MAX_CERT_BYTES:
        raise InvalidProposal(f"{prefix}: it is larger than {MAX_CERT_BYTES} bytes")
    try:
        cert = x509.load_pem_x509_certificate(pem)
    except ValueError as exc:
        raise InvalidProposal(f"{prefix}: not a PEM X.509 certificate ({exc})") from None
    try:
        constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        constraints = None
    if constraints is None or not constraints.ca:
        raise InvalidProposal(f"{prefix}: it lacks basicConstraints CA:TRUE")
    if not isinstance(cert.public_key(), ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey):
        raise InvalidProposal(f"{prefix}: its key must be ECDSA P-256 or Ed25519")
    try:
        cert.verify_directly_issued_by(cert)
    except (ValueError, TypeError, InvalidSignature):
        raise InvalidProposal(f"{prefix}: it is not self-signed (a consortium CA is a root)") from None
    start, end = cert.not_valid_before_utc, cert.not_valid_after_utc
    if not (start - _EPOCH) // _MS <= at_ms <= (end - _EPOCH) // _MS:
        raise InvalidProposal(
            f"{prefix}: it is valid from {start:%Y-%m-%dT%H:%M:%SZ} to {end:%Y-%m-%dT%H:%M:%SZ}, "
            "not at this block's time"
        )
    return cert


def check_request(state_get: StateGet, request: CaRotationRequest, height: int, at_ms: int) -> Org:
    """The organisation whose CA ``request`` replaces, after every check; InvalidProposal if not."""
    body = request.body
    if body.format != CA_ROTATION_FORMAT:
        raise InvalidProposal(
            f"CA rotation request has format {body.format!r}, expected {CA_ROTATION_FORMAT!r}"
        )
    record = org(state_get, body.org)
    if record is None or record.status != ACTIVE:
        raise InvalidProposal(f"unknown organisation {body.org!r}: no active organisation has that name")
    suite = config(state_get).suite
    if not record.ca_pem:
        raise InvalidProposal(
            f"organisation {body.org!r} has no CA on chain (public-key mode, suite {suite!r}); "
            "CA rotation needs the ed25519 suite"
        )
    try:
        signer = address_from_public_key(get_suite(suite), request.admin_public_key)
        valid = get_suite(suite).verify(
            request.admin_public_key, ca_rotation_signing_bytes(body), request.signature
        )
    except CryptoError:
        valid, signer = False, b""
    if not valid:
        raise InvalidProposal(
            f"the CA rotation request of {body.org!r} has a bad signature: it was changed after "
            "its admin signed it, or not signed with the key it names"
        )
    if signer not in record.admins:
        raise InvalidProposal(
            f"the CA rotation request of {body.org!r} is signed by 0x{signer.hex()}, "
            f"not by an admin of {body.org!r}"
        )
    current = ca_spki_sha256(record.ca_pem)
    if body.old_ca_spki_sha256 != current:
        raise InvalidProposal(
            f"the request replaces CA 0x{body.old_ca_spki_sha256.hex()[:16]}…, but the CA of "
            f"{body.org!r} on chain is 0x{current.hex()[:16]}…: the request is stale"
        )
    check_new_ca(repr(body.org), body.new_ca_pem, at_ms)
    new = ca_spki_sha256(body.new_ca_pem)
    for change in ca_changes(state_get):
        if change.org != body.org:
            continue
        if height < change.retire_height:
            raise InvalidProposal(
                f"the previous CA rotation of {body.org!r} is still in its overlap until height "
                f"{change.retire_height}; propose the next one after it"
            )
        if ca_spki_sha256(change.old_ca_pem) == new:
            raise InvalidProposal(f"the new CA of {body.org!r} is one it had before; make a new one")
    if new == current:
        raise InvalidProposal(f"the new CA of {body.org!r} is its current CA; make a new one")
    return record


def apply(
    state: TxState, record: Org, request: CaRotationRequest, height: int, proposal_id: int, delay: int
) -> CaChange:
    """Replace the organisation's CA and record the change (after :func:`check_request`)."""
    effective = height + delay
    change = CaChange(
        record.name, record.ca_pem, request.body.new_ca_pem, proposal_id, height, effective,
        effective + CA_OVERLAP_BLOCKS,
    )
    write(state, keys.org(record.name), replace(record, ca_pem=request.body.new_ca_pem))
    count = read_int(state.get, CA_ROTATION_COUNT)
    write(state, ca_rotation_key(count), change)
    write(state, CA_ROTATION_COUNT, count + 1)
    return change

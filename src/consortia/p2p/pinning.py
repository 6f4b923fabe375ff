"""Which certificate may speak for validator ``i``: pinned to its organisation's CA and its own key.

Every node trusts the CAs of all consortium organisations (one bundle), so the TLS handshake alone
proves only that *some* organisation vouches for a certificate; its name (``validator-<i>``) is
whatever that organisation chose to write. A node therefore also pins each configured peer:

* ``spki_sha256``: SHA-256 of the DER ``SubjectPublicKeyInfo`` of validator ``i``'s TLS key. TLS
  1.3 proves possession of the matching private key, so only ``i`` itself can present it.
* ``ca_spki_sha256``: SHA-256 of the ``SubjectPublicKeyInfo`` of the CA of the organisation that
  runs ``i``. The CA certificate is looked up by that digest in the node's CA bundle; the peer's
  certificate must be directly issued by it (issuer name and signature; the consortium's CAs do not
  delegate, ``path_length=0``).

:func:`verify_peer_certificate` is the one check (a pure function: certificate + pin -> index, or
a typed error); :func:`authenticate_peer` adds the lookup of the pin by the index the certificate
names, and is what both the dialling and the accepting side of the transport call.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes

from consortia.p2p.certs import load_certificate, validator_index_from_cert
from consortia.p2p.errors import CertificateError, PeerRejected, PinMismatch

DIGEST_SIZE = 32


@dataclass(frozen=True)
class TlsPin:
    """What a node's configuration says about one peer's TLS identity (two SHA-256 digests)."""

    spki_sha256: bytes
    ca_spki_sha256: bytes

    def __post_init__(self) -> None:
        for name in ("spki_sha256", "ca_spki_sha256"):
            value = getattr(self, name)
            if not isinstance(value, bytes) or len(value) != DIGEST_SIZE:
                raise CertificateError(f"a TLS pin's {name} must be {DIGEST_SIZE} bytes", field=name)


@dataclass(frozen=True)
class PeerPin:
    """A :class:`TlsPin` for validator ``index`` with its CA certificate found in the trust bundle.

    ``also``: further CAs accepted for the peer while its organisation rotates its CA (the old
    and the new one are both accepted for a while, decisions/0019)."""

    index: int
    spki_sha256: bytes
    ca: x509.Certificate
    also: tuple[x509.Certificate, ...] = ()


def spki_sha256(subject: x509.Certificate | CertificatePublicKeyTypes) -> bytes:
    """SHA-256 of the DER ``SubjectPublicKeyInfo`` of a certificate's (or a bare) public key."""
    key = subject.public_key() if isinstance(subject, x509.Certificate) else subject
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).digest()


def make_pin(cert: Path | bytes | x509.Certificate, ca: Path | bytes | x509.Certificate) -> TlsPin:
    """The pin of a node certificate issued by ``ca`` (what ``network init`` writes for each peer).

    Raises :class:`PinMismatch` if ``ca`` did not issue ``cert``.
    """
    node_cert, ca_cert = load_certificate(cert), load_certificate(ca)
    _check_issued_by(node_cert, ca_cert, validator_index_from_cert(node_cert))
    return TlsPin(spki_sha256(node_cert), spki_sha256(ca_cert))


def pin_from_bundle(cert: Path | bytes | x509.Certificate, trust: Mapping[bytes, x509.Certificate]) -> TlsPin:
    """The pin of a node certificate issued by one of the CAs of ``trust`` (see :func:`load_trust`)."""
    node_cert = load_certificate(cert)
    for ca in trust.values():
        try:
            return make_pin(node_cert, ca)
        except PinMismatch:
            continue
    subject = node_cert.subject.rfc4514_string()
    raise PinMismatch("no CA of the bundle issued this certificate", subject=subject)


def load_trust(bundle: Path) -> dict[bytes, x509.Certificate]:
    """The CA certificates of a PEM bundle, by the SHA-256 of their ``SubjectPublicKeyInfo``."""
    try:
        cas = x509.load_pem_x509_certificates(bundle.read_bytes())
    except (OSError, ValueError) as exc:
        raise CertificateError(f"cannot read the CA bundle {bundle}: {exc}") from exc
    return {spki_sha256(ca): ca for ca in cas}


def resolve_pins(pins: Mapping[int, TlsPin], trust: Mapping[bytes, x509.Certificate]) -> dict[int, PeerPin]:
    """Each pin with its CA certificate taken from ``trust`` (see :func:`load_trust`).

    Raises :class:`CertificateError` for a pin whose CA is not in the bundle: such a peer could
    never be accepted, which is a configuration error, not something to discover link by link.
    """
    out: dict[int, PeerPin] = {}
    for index, pin in pins.items():
        ca = trust.get(pin.ca_spki_sha256)
        if ca is None:
            raise CertificateError(
                f"the CA pinned for validator {index} is not in the CA bundle",
                index=index,
                ca_spki_sha256=pin.ca_spki_sha256.hex(),
            )
        out[index] = PeerPin(index, pin.spki_sha256, ca)
    return out


def verify_peer_certificate(
    cert: bytes | x509.Certificate, pin: PeerPin, *, at: datetime.datetime | None = None
) -> int:
    """``pin.index`` if ``cert`` is validator ``pin.index``'s certificate, else a typed error.

    The certificate must name that index (CN and SAN), be directly issued by the pinned CA, carry
    the pinned public key and be valid at ``at`` (default: now). Raises :class:`CertificateError`
    for a malformed or expired certificate and :class:`PinMismatch` for a well-formed one that is
    not ``pin.index``'s.
    """
    node_cert = load_certificate(cert)
    index = validator_index_from_cert(node_cert)
    if index != pin.index:
        raise PinMismatch(
            f"the certificate names validator {index}, the pin is validator {pin.index}'s",
            named=index,
            pinned=pin.index,
        )
    _check_issued_by_any(node_cert, (pin.ca, *pin.also), index)
    if not hmac.compare_digest(spki_sha256(node_cert), pin.spki_sha256):
        raise PinMismatch(
            f"the certificate's key is not the one configured for validator {index}", index=index
        )
    when = at if at is not None else datetime.datetime.now(datetime.UTC)
    if not node_cert.not_valid_before_utc <= when <= node_cert.not_valid_after_utc:
        raise CertificateError(f"the certificate of validator {index} is not valid now", index=index)
    return index


def authenticate_peer(
    cert: bytes | x509.Certificate,
    pins: Mapping[int, PeerPin | None],
    expected: int | None = None,
    *,
    at: datetime.datetime | None = None,
) -> int:
    """The validator index of a peer that presented ``cert`` in a TLS handshake.

    ``pins`` holds every configured peer; ``None`` for a peer means it is not pinned (its index is
    taken on the CA bundle's word: only for tests and tools, a node always pins). ``expected`` is the
    index the dialler meant to reach; the accepting side passes ``None``. Raises
    :class:`PeerRejected` when the certificate names another index than ``expected`` or an index
    that is no configured peer, and whatever :func:`verify_peer_certificate` raises.
    """
    node_cert = load_certificate(cert)
    index = validator_index_from_cert(node_cert)
    if expected is not None and index != expected:
        raise PeerRejected(f"dialled validator {expected} but the certificate names validator {index}")
    if index not in pins:
        raise PeerRejected(f"validator {index} is not a configured peer")
    pin = pins[index]
    return index if pin is None else verify_peer_certificate(node_cert, pin, at=at)


def _check_issued_by_any(cert: x509.Certificate, cas: tuple[x509.Certificate, ...], index: int) -> None:
    for ca in cas[1:]:
        try:
            cert.verify_directly_issued_by(ca)
            return
        except (ValueError, TypeError, InvalidSignature):
            continue
    _check_issued_by(cert, cas[0], index)


def _check_issued_by(cert: x509.Certificate, ca: x509.Certificate, index: int) -> None:
    try:
        cert.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature):
        raise PinMismatch(
            f"the certificate of validator {index} is issued by {_org(cert.issuer)}, "
            f"not by {_org(ca.subject)}, the CA of the organisation that runs it",
            index=index,
        ) from None


def _org(name: x509.Name) -> str:
    orgs = name.get_attributes_for_oid(x509.oid.NameOID.ORGANIZATION_NAME)
    return repr(str(orgs[0].value)) if orgs else name.rfc4514_string()

"""X.509 identity certificates: checked on chain at enrolment, issued off chain by an org's CA.

On chain (:func:`verify_identity_cert`) nothing reads a clock: validity is judged at the block's
timestamp. The certificate's subject key must be the Ed25519 key whose address is enrolled, so CA
mode needs the ``ed25519`` suite; chains on ``sm2`` enrol in public-key mode.
"""

from __future__ import annotations

import datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import NameOID

from consortia.contracts.permissioned.errors import CertificateRejected
from consortia.contracts.permissioned.limits import MAX_CERT_BYTES
from consortia.crypto.address import address_from_public_key
from consortia.crypto.suites import get_suite

_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
_MS = datetime.timedelta(milliseconds=1)


def _load(pem: bytes, what: str) -> x509.Certificate:
    if len(pem) > MAX_CERT_BYTES:
        raise CertificateRejected(f"{what} is larger than {MAX_CERT_BYTES} bytes")
    try:
        return x509.load_pem_x509_certificate(pem)
    except ValueError as exc:
        raise CertificateRejected(f"{what} is not a PEM X.509 certificate: {exc}") from None


def _ms(moment: datetime.datetime) -> int:
    return (moment - _EPOCH) // _MS


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


def check_ca_pem(ca_pem: bytes) -> None:
    """Raise CertificateRejected unless ``ca_pem`` is a CA certificate."""
    if not _is_ca(_load(ca_pem, "organisation CA certificate")):
        raise CertificateRejected("organisation CA certificate lacks basicConstraints CA:TRUE")


def verify_identity_cert(
    ca_pem: bytes, cert_pem: bytes, address: bytes, suite_name: str, at_ms: int
) -> bytes:
    """Check ``cert_pem`` was issued by ``ca_pem`` to the key of ``address``; its hash.

    Deterministic: the validity window is compared with ``at_ms`` (the block timestamp).
    """
    if suite_name != "ed25519":
        raise CertificateRejected(
            f"certificate enrolment needs the ed25519 suite (chain uses {suite_name!r}); "
            "enrol in public-key mode with an empty certificate"
        )
    ca = _load(ca_pem, "organisation CA certificate")
    cert = _load(cert_pem, "identity certificate")
    if cert.issuer != ca.subject:
        raise CertificateRejected("certificate was not issued by the enrolling organisation's CA")
    try:
        cert.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature):
        raise CertificateRejected(
            "certificate signature does not verify against the enrolling organisation's CA"
        ) from None
    if _is_ca(cert):
        raise CertificateRejected("an identity certificate must not be a CA certificate")
    if not _ms(cert.not_valid_before_utc) <= at_ms <= _ms(cert.not_valid_after_utc):
        raise CertificateRejected("certificate is not valid at this block's timestamp")
    key = cert.public_key()
    if not isinstance(key, ed25519.Ed25519PublicKey):
        raise CertificateRejected("identity certificate must hold an Ed25519 public key")
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    suite = get_suite(suite_name)
    if address_from_public_key(suite, raw) != address:
        raise CertificateRejected(
            f"certificate's public key derives to 0x{address_from_public_key(suite, raw).hex()}, "
            f"not the enrolled address 0x{address.hex()}"
        )
    return suite.hash(cert.public_bytes(serialization.Encoding.DER))


def issue_identity_cert(
    ca_cert_pem: bytes,
    ca_key_pem: bytes,
    public_key: bytes,
    common_name: str,
    not_before: datetime.datetime,
    not_after: datetime.datetime,
) -> bytes:
    """Off-chain tooling (CLI, tests): a PEM certificate for a raw Ed25519 ``public_key``."""
    ca = x509.load_pem_x509_certificate(ca_cert_pem)
    ca_key = serialization.load_pem_private_key(ca_key_pem, password=None)
    if not isinstance(ca_key, ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey):
        raise CertificateRejected("the CA key must be an ECDSA or Ed25519 key")
    subject_key = ed25519.Ed25519PublicKey.from_public_bytes(public_key)
    subject = x509.Name(
        [
            *ca.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )
    algorithm = None if isinstance(ca_key, ed25519.Ed25519PrivateKey) else hashes.SHA256()
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca.subject)
        .public_key(subject_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(ca_key, algorithm)
    )
    return cert.public_bytes(serialization.Encoding.PEM)

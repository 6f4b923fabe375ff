"""X.509 certificates for validator nodes: one CA per organisation, one certificate per node.

Keys are ECDSA P-256 by default: every OpenSSL that Python's ``ssl`` links against handles them for
mutual TLS 1.3, and so do HSMs and other organisations' tooling. ``key_type="ed25519"`` works as
well with OpenSSL >= 1.1.1 (tested); a node key is of the same type as its CA's key.

A node certificate names its validator index twice, and both must agree:

* the subject common name ``validator-<index>``;
* a SAN URI ``urn:consortia:validator:<index>``.

The transport takes a peer's identity from its certificate only (see :func:`validator_index_from_cert`).
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from consortia.p2p.errors import CertificateError

CA_VALID_DAYS = 3650
NODE_VALID_DAYS = 825
MAX_VALIDATOR_INDEX = 2**31 - 1
KeyType = Literal["p256", "ed25519"]
PrivateKey = ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
VALIDATOR_URI_PREFIX = "urn:consortia:validator:"

_CN_PATTERN = re.compile(r"validator-(0|[1-9][0-9]{0,9})")
_URI_PATTERN = re.compile(re.escape(VALIDATOR_URI_PREFIX) + r"(0|[1-9][0-9]{0,9})")
_NODE_NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def create_ca(
    name: str, out_dir: Path, *, valid_days: int = CA_VALID_DAYS, key_type: KeyType = "p256"
) -> tuple[Path, Path]:
    """Create a self-signed CA for one organisation (or a local network).

    Writes ``<slug>-ca.crt`` (PEM) and ``<slug>-ca.key`` (PEM, mode 0600) into ``out_dir`` and
    returns their paths.
    """
    if not name.strip():
        raise CertificateError("a CA needs a non-empty organisation name")
    key = _generate_key(key_type)
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, name),
            x509.NameAttribute(NameOID.COMMON_NAME, f"{name} consortium CA"),
        ]
    )
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    now = _now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=valid_days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_ca_key_usage(), critical=True)
        .add_extension(ski, critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False)
        .sign(key, _signature_hash(key))
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"{_slug(name)}-ca"
    return _write_pair(out_dir, stem, cert, key)


def issue_node_cert(
    ca_cert_path: Path,
    ca_key_path: Path,
    validator_index: int,
    node_name: str,
    out_dir: Path,
    *,
    valid_days: int = NODE_VALID_DAYS,
    extra_dns: Iterable[str] = (),
    extra_ips: Iterable[str] = (),
    key_path: Path | None = None,
) -> tuple[Path, Path]:
    """Issue a TLS certificate for validator ``validator_index``, signed by the given CA.

    Subject ``CN=validator-<index>, O=<CA organisation>, OU=<node_name>``; SAN: the validator URI,
    DNS ``localhost`` and IP ``127.0.0.1`` (plus ``extra_dns`` / ``extra_ips``). Usable as TLS
    server and client. Writes ``<node_name>.crt`` and ``<node_name>.key`` (mode 0600).

    ``key_path``: certify this existing private key (PEM, of the CA key's type) instead of a new
    one; it is left as it is and the certificate is written next to it as ``<node_name>.crt``.
    A certificate renewed for the same key keeps the key's pin (see :mod:`consortia.p2p.pinning`).
    """
    _check_index(validator_index)
    if not _NODE_NAME_PATTERN.fullmatch(node_name):
        raise CertificateError(
            "node name must be 1-64 characters of letters, digits, '.', '_' or '-'", node_name=node_name
        )
    ca_cert = x509.load_pem_x509_certificate(ca_cert_path.read_bytes())
    ca_key = serialization.load_pem_private_key(ca_key_path.read_bytes(), password=None)
    if not isinstance(ca_key, PrivateKey):
        raise CertificateError("the CA key must be an ECDSA P-256 or Ed25519 key", path=str(ca_key_path))
    key_type: KeyType = "ed25519" if isinstance(ca_key, ed25519.Ed25519PrivateKey) else "p256"
    key = _generate_key(key_type) if key_path is None else load_private_key(key_path, key_type)
    subject = x509.Name(
        [
            *ca_cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, node_name),
            x509.NameAttribute(NameOID.COMMON_NAME, f"validator-{validator_index}"),
        ]
    )
    now = _now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(min(now + datetime.timedelta(days=valid_days), ca_cert.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_node_key_usage(), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
            critical=False,
        )
        .add_extension(_node_san(validator_index, extra_dns, extra_ips), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(_authority_key_id(ca_key), critical=False)
        .sign(ca_key, _signature_hash(ca_key))
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    if key_path is not None:
        cert_path = out_dir / f"{node_name}.crt"
        write_public_atomic(cert_path, cert.public_bytes(serialization.Encoding.PEM))
        return cert_path, key_path
    return _write_pair(out_dir, node_name, cert, key)


def generate_tls_key(path: Path, key_type: KeyType = "p256") -> Path:
    """A new TLS private key alone (PEM, mode 0600), to be certified later by
    :func:`issue_node_cert` with ``key_path``."""
    key = _generate_key(key_type)
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_private(path, _private_pem(key))
    return path


def load_private_key(path: Path, key_type: KeyType | None = None) -> PrivateKey:
    """A PEM private key (P-256 or Ed25519; of ``key_type`` if given), or :class:`CertificateError`."""
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise CertificateError(f"cannot read the private key {path}: {exc}", path=str(path)) from None
    if not isinstance(key, PrivateKey):
        raise CertificateError("the key must be an ECDSA P-256 or Ed25519 key", path=str(path))
    if isinstance(key, ec.EllipticCurvePrivateKey) and not isinstance(key.curve, ec.SECP256R1):
        raise CertificateError("an ECDSA key must be on P-256", path=str(path))
    actual: KeyType = "ed25519" if isinstance(key, ed25519.Ed25519PrivateKey) else "p256"
    if key_type is not None and actual != key_type:
        raise CertificateError(f"the key {path} is {actual}, the CA's key is {key_type}", path=str(path))
    return key


def write_public_atomic(path: Path, data: bytes) -> None:
    """Replace a public file (a certificate) so that a reader sees the old or the new one."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def validator_index_from_cert(der_or_cert: bytes | x509.Certificate) -> int:
    """The validator index a node certificate names (DER or PEM bytes, or a parsed certificate).

    Raises :class:`CertificateError` unless the certificate has exactly one common name of the form
    ``validator-<index>`` and its SAN validator URIs (if any) name the same index.
    """
    cert = load_certificate(der_or_cert)
    common_names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if len(common_names) != 1:
        raise CertificateError("a node certificate needs exactly one common name", found=len(common_names))
    common_name = str(common_names[0].value)
    match = _CN_PATTERN.fullmatch(common_name)
    if match is None:
        raise CertificateError("common name is not 'validator-<index>'", common_name=common_name)
    index = int(match.group(1))
    _check_index(index)
    for uri_index in _san_validator_indexes(cert):
        if uri_index != index:
            raise CertificateError("SAN validator URI disagrees with the CN", cn=index, san=uri_index)
    return index


def write_ca_bundle(paths: Iterable[Path], out: Path) -> Path:
    """Concatenate the consortium's CA certificates into one PEM trust bundle, ``out``.

    Each input must be a PEM CA certificate; the same certificate listed twice is written once.
    """
    seen: set[bytes] = set()
    chunks: list[bytes] = []
    for path in paths:
        for cert in x509.load_pem_x509_certificates(path.read_bytes()):
            if not _is_ca(cert):
                raise CertificateError("not a CA certificate", path=str(path))
            der = cert.public_bytes(serialization.Encoding.DER)
            if der not in seen:
                seen.add(der)
                chunks.append(cert.public_bytes(serialization.Encoding.PEM))
    if not chunks:
        raise CertificateError("a CA bundle needs at least one CA certificate")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(b"".join(chunks))
    return out


# --- helpers ---------------------------------------------------------------------------------


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _check_index(index: int) -> None:
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index <= MAX_VALIDATOR_INDEX:
        raise CertificateError("validator index must be an int in [0, 2**31)", index=repr(index))


def _slug(name: str) -> str:
    slug = re.sub(r"[^a-z0-9._-]+", "-", name.strip().lower()).strip("-.")
    return slug or "org"


def _key_usage(signs_certificates: bool) -> x509.KeyUsage:
    """Digital signatures always; certificate and CRL signing only for a CA."""
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=signs_certificates,
        crl_sign=signs_certificates,
        encipher_only=False,
        decipher_only=False,
    )


def _ca_key_usage() -> x509.KeyUsage:
    return _key_usage(signs_certificates=True)


def _node_key_usage() -> x509.KeyUsage:
    return _key_usage(signs_certificates=False)


def _node_san(index: int, extra_dns: Iterable[str], extra_ips: Iterable[str]) -> x509.SubjectAlternativeName:
    names: list[x509.GeneralName] = [
        x509.UniformResourceIdentifier(f"{VALIDATOR_URI_PREFIX}{index}"),
        x509.DNSName("localhost"),
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
    ]
    names += [x509.DNSName(name) for name in extra_dns]
    names += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in extra_ips]
    return x509.SubjectAlternativeName(names)


def _generate_key(key_type: KeyType) -> PrivateKey:
    if key_type == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    if key_type == "p256":
        return ec.generate_private_key(ec.SECP256R1())
    raise CertificateError("key type must be 'p256' or 'ed25519'", key_type=key_type)


def _signature_hash(key: PrivateKey) -> hashes.SHA256 | None:
    return None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256()


def _authority_key_id(ca_key: PrivateKey) -> x509.AuthorityKeyIdentifier:
    return x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key())


def load_certificate(source: Path | bytes | x509.Certificate) -> x509.Certificate:
    """A certificate from a PEM file, PEM or DER bytes, or as it is."""
    if isinstance(source, x509.Certificate):
        return source
    data = source.read_bytes() if isinstance(source, Path) else source
    try:
        if data.lstrip().startswith(b"-----BEGIN"):
            return x509.load_pem_x509_certificate(data)
        return x509.load_der_x509_certificate(data)
    except ValueError as exc:
        raise CertificateError(f"not a certificate: {exc}") from exc


def _san_validator_indexes(cert: x509.Certificate) -> list[int]:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    indexes: list[int] = []
    for uri in san.get_values_for_type(x509.UniformResourceIdentifier):
        if not uri.startswith(VALIDATOR_URI_PREFIX):
            continue
        match = _URI_PATTERN.fullmatch(uri)
        if match is None:
            raise CertificateError("malformed SAN validator URI", uri=uri)
        indexes.append(int(match.group(1)))
    return indexes


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


def _write_pair(out_dir: Path, stem: str, cert: x509.Certificate, key: PrivateKey) -> tuple[Path, Path]:
    cert_path = out_dir / f"{stem}.crt"
    key_path = out_dir / f"{stem}.key"
    _write_private(key_path, _private_pem(key))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert_path, key_path


def _private_pem(key: PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` readable by the owner only, never briefly world-readable."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # the file may have existed with wider permissions
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)

from __future__ import annotations

import datetime
import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from consortia.p2p.certs import create_ca, issue_node_cert, validator_index_from_cert, write_ca_bundle
from consortia.p2p.errors import CertificateError


def test_issue_and_recover_index(tmp_path: Path) -> None:
    ca_cert, ca_key = create_ca("Bank A", tmp_path / "ca")
    cert_path, _ = issue_node_cert(ca_cert, ca_key, 7, "bank-a-1", tmp_path / "n7")
    pem = cert_path.read_bytes()
    cert = x509.load_pem_x509_certificate(pem)
    assert validator_index_from_cert(pem) == 7
    assert validator_index_from_cert(cert) == 7
    assert validator_index_from_cert(cert.public_bytes(serialization.Encoding.DER)) == 7
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "validator-7"
    assert cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "Bank A"
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "localhost" in san.get_values_for_type(x509.DNSName)
    assert [str(ip) for ip in san.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    ca = x509.load_pem_x509_certificate(ca_cert.read_bytes())
    cert.verify_directly_issued_by(ca)


def test_private_keys_are_owner_only(tmp_path: Path) -> None:
    ca_cert, ca_key = create_ca("Org", tmp_path)
    _, key_path = issue_node_cert(ca_cert, ca_key, 0, "n0", tmp_path)
    for path in (ca_key, key_path):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_bundle_holds_every_ca_once(tmp_path: Path) -> None:
    a, _ = create_ca("Org A", tmp_path)
    b, _ = create_ca("Org B", tmp_path)
    bundle = write_ca_bundle([a, b, a], tmp_path / "bundle.pem")
    certs = x509.load_pem_x509_certificates(bundle.read_bytes())
    assert len(certs) == 2


def test_bundle_refuses_a_node_certificate(tmp_path: Path) -> None:
    ca_cert, ca_key = create_ca("Org", tmp_path)
    node_cert, _ = issue_node_cert(ca_cert, ca_key, 1, "n1", tmp_path)
    with pytest.raises(CertificateError):
        write_ca_bundle([node_cert], tmp_path / "bundle.pem")


BAD_COMMON_NAMES = [
    "validator-01",
    "validator--1",
    "node-1",
    "validator-",
    "validator-1x",
    "validator-3000000000",  # beyond 2**31 - 1
]


@pytest.mark.parametrize("common_name", BAD_COMMON_NAMES)
def test_malformed_common_names_are_refused(common_name: str) -> None:
    with pytest.raises(CertificateError):
        validator_index_from_cert(_self_signed(common_name))


def test_san_must_agree_with_common_name() -> None:
    cert = _self_signed("validator-1", uri="urn:consortia:validator:2")
    with pytest.raises(CertificateError, match="SAN"):
        validator_index_from_cert(cert)
    assert validator_index_from_cert(_self_signed("validator-2", uri="urn:consortia:validator:2")) == 2


def test_bad_inputs(tmp_path: Path) -> None:
    with pytest.raises(CertificateError):
        validator_index_from_cert(b"not a certificate")
    ca_cert, ca_key = create_ca("Org", tmp_path)
    with pytest.raises(CertificateError):
        issue_node_cert(ca_cert, ca_key, -1, "n", tmp_path)
    with pytest.raises(CertificateError):
        issue_node_cert(ca_cert, ca_key, 1, "../escape", tmp_path)


def _self_signed(common_name: str, uri: str | None = None) -> x509.Certificate:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
    )
    if uri is not None:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.UniformResourceIdentifier(uri)]), critical=False
        )
    return builder.sign(key, hashes.SHA256())


def test_ed25519_ca_issues_ed25519_node_certs(tmp_path: Path) -> None:
    ca_cert, ca_key = create_ca("Org", tmp_path, key_type="ed25519")
    cert_path, _ = issue_node_cert(ca_cert, ca_key, 3, "n3", tmp_path)
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    assert cert.signature_algorithm_oid == x509.oid.SignatureAlgorithmOID.ED25519
    cert.verify_directly_issued_by(x509.load_pem_x509_certificate(ca_cert.read_bytes()))
    assert validator_index_from_cert(cert) == 3

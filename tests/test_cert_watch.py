"""Certificate lifecycle on a node: days to expiry, warnings ahead of expiry, a renewed TLS
certificate (same key) taken up once, and rotate-tls refusals."""

from __future__ import annotations

import datetime
import os
from pathlib import Path

import pytest
from cryptography import x509
from prometheus_client import CollectorRegistry, generate_latest

from consortia.errors import ConfigError
from consortia.node.cert_watch import CertificateWatch, expiry_report
from consortia.node.org_node import rotate_tls
from consortia.p2p.certs import create_ca, generate_tls_key, issue_node_cert, write_ca_bundle
from consortia.p2p.pinning import spki_sha256
from consortia.p2p.tls import TlsFiles


def _files(tmp_path: Path, days: int) -> tuple[TlsFiles, Path, Path]:
    ca_cert, ca_key = create_ca("bank-a", tmp_path / "ca")
    key = generate_tls_key(tmp_path / "tls" / "node.key")
    cert, _ = issue_node_cert(ca_cert, ca_key, 3, "node", tmp_path / "tls", valid_days=days, key_path=key)
    bundle = write_ca_bundle([ca_cert], tmp_path / "tls" / "ca-bundle.pem")
    return TlsFiles(bundle, cert, key), ca_cert, ca_key


def test_days_to_expiry_warnings_and_reload_of_a_renewed_certificate(tmp_path: Path) -> None:
    files, ca_cert, ca_key = _files(tmp_path, 10)
    now = datetime.datetime.now(datetime.UTC)
    report = {r.kind: r for r in expiry_report(files, now)}
    assert 9.9 < report["tls"].days_left <= 10 and report["ca"].days_left > 3000
    reloads: list[int] = []
    warnings: list[str] = []
    registry = CollectorRegistry()
    watch = CertificateWatch(files, registry, warnings, lambda: reloads.append(1))
    watch.check(now, 0.0)
    assert len(warnings) == 1 and "validator-3" in warnings[0] and "expires in" in warnings[0]
    assert b'consortia_certificate_expiry_days{kind="tls",subject="validator-3"}' in generate_latest(registry)
    assert reloads == []
    old_pin = spki_sha256(x509.load_pem_x509_certificate(files.cert.read_bytes()))
    issue_node_cert(ca_cert, ca_key, 3, "node", files.cert.parent, valid_days=400, key_path=files.key)
    os.utime(files.cert, ns=(1, 1))  # a new mtime even within the file system's time granularity
    watch.check(now, 1.0)
    assert reloads == [1] and warnings == []
    assert spki_sha256(x509.load_pem_x509_certificate(files.cert.read_bytes())) == old_pin
    watch.check(now + datetime.timedelta(days=401), 2.0)
    assert any("EXPIRED" in w for w in warnings)


def test_rotate_tls_refuses_a_home_it_cannot_renew(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        rotate_tls(tmp_path / "nothing")
    with pytest.raises(ConfigError, match="--days"):
        rotate_tls(tmp_path, 0)

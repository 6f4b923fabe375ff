"""Organisations and identities: genesis, enrolment (public-key and CA mode), revocation."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from consortia.contracts.permissioned import (
    check_sender_identity,
    genesis_records,
    identity_record,
    org,
    orgs,
)
from consortia.contracts.permissioned.certs import issue_identity_cert
from consortia.contracts.permissioned.errors import IdentityRevoked, UnknownIdentity
from consortia.contracts.permissioned.harness import consortium, seeded_key
from consortia.contracts.permissioned.identity import encode_enroll_args, encode_revoke_args, pii_commitment
from consortia.contracts.permissioned.records import OrgSpec
from consortia.errors import ConfigError
from consortia.execution.accounts import account_key
from consortia.p2p.certs import create_ca
from consortia.types.genesis import ValidatorInfo

EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


def test_genesis_writes_orgs_and_admins() -> None:
    net = consortium()
    get = net.harness.get
    assert [o.name for o in orgs(get)] == ["bank-a", "bank-b", "cb", "reg"]
    assert org(get, "reg").role == "regulator"  # type: ignore[union-attr]
    admin = identity_record(get, net.admins["cb"].address)
    assert admin is not None and admin.role == "admin" and admin.org == "cb" and admin.status == "active"
    check_sender_identity(get, net.admins["cb"].address, 1)


def test_genesis_rejects_bad_specs() -> None:
    vals = [ValidatorInfo("v0", seeded_key("v").public_key)]
    admin = seeded_key("a").address
    with pytest.raises(ConfigError, match="role"):
        genesis_records([OrgSpec("x", "casino", [admin])], suite="ed25519", validators=vals)
    with pytest.raises(ConfigError, match="already has an identity"):
        genesis_records(
            [OrgSpec("x", "bank", [admin]), OrgSpec("y", "bank", [admin])], suite="ed25519", validators=vals
        )
    with pytest.raises(ConfigError, match="not a PEM"):
        genesis_records([OrgSpec("x", "bank", [admin], b"junk")], suite="ed25519", validators=vals)


def test_enroll_public_key_mode_then_revoke() -> None:
    net = consortium()
    h = net.harness
    alice = seeded_key("alice")
    with pytest.raises(UnknownIdentity):
        check_sender_identity(h.get, alice.address, h.height)
    key, out = net.enroll("bank-a", "alice", tier=2)
    assert out.ok, out.message
    assert out.event_names() == ["Enrolled"]
    record = identity_record(h.get, key.address)
    assert record is not None and (record.org, record.role, record.kyc_tier) == ("bank-a", "member", 2)
    assert len(record.pii_hash) == 32 and record.enrolled_height == h.height
    check_sender_identity(h.get, key.address, h.height)

    h.next_block()
    out = h.call(net.admins["bank-a"].address, "identity", "revoke", encode_revoke_args(key.address))
    assert out.ok and out.event_names() == ["Revoked"]
    with pytest.raises(IdentityRevoked):
        check_sender_identity(h.get, key.address, h.height)
    # a revoked key cannot transact, and cannot be enrolled again
    assert h.transfer(key.address, net.admins["cb"].address, 1).code == "identity_revoked"
    assert net.enroll("bank-a", "alice")[1].code == "already_enrolled"
    again = h.call(net.admins["bank-a"].address, "identity", "revoke", encode_revoke_args(key.address))
    assert again.code == "already_revoked"


def test_enroll_refusals() -> None:
    net = consortium()
    h = net.harness
    alice = net.member("bank-a", "alice")
    bob = seeded_key("bob")
    pii = pii_commitment(b"0123456789abcdef", b"Bob")
    # a member is not an admin
    out = h.call(alice.address, "identity", "enroll", encode_enroll_args(bob.address, "member", 1, pii))
    # a failed call keeps only its nonce bump (the executor's rule; the old harness wrote nothing)
    assert out.code == "not_org_admin" and list(out.writes) == [account_key(alice.address)]
    # unknown callers are refused before the contract runs (bob gets an account first: without
    # one the executor's inclusion rule refuses him as unknown_sender before the identity policy)
    net.fund(bob.address, 0)
    out = h.call(bob.address, "identity", "enroll", encode_enroll_args(bob.address, "member", 1, pii))
    assert out.code == "unknown_identity" and out.writes == {}
    admin = net.admins["bank-a"].address
    assert h.call(admin, "identity", "enroll", encode_enroll_args(bob.address, "boss", 1, pii)).code == (
        "invalid_call"
    )
    assert h.call(admin, "identity", "enroll", encode_enroll_args(bob.address, "member", 1, b"x")).code == (
        "invalid_call"
    )
    assert h.call(admin, "identity", "enroll", b"\x90").code == "invalid_call"
    # public-key mode refuses a certificate
    out = h.call(admin, "identity", "enroll", encode_enroll_args(bob.address, "member", 1, pii, b"PEM"))
    assert out.code == "certificate_rejected"


def test_revoke_permissions() -> None:
    net = consortium()
    h = net.harness
    alice = net.member("bank-a", "alice")
    carol = net.member("bank-a", "carol")
    # another org's admin and a plain member may not revoke
    out = h.call(net.admins["bank-b"].address, "identity", "revoke", encode_revoke_args(alice.address))
    assert out.code == "not_org_admin"
    assert h.call(carol.address, "identity", "revoke", encode_revoke_args(alice.address)).code == (
        "not_org_admin"
    )
    # the regulator may
    assert h.call(net.admins["reg"].address, "identity", "revoke", encode_revoke_args(alice.address)).ok
    assert identity_record(h.get, alice.address).status == "revoked"  # type: ignore[union-attr]


# --- CA mode ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cas(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[bytes, bytes]]:
    out: dict[str, tuple[bytes, bytes]] = {}
    base: Path = tmp_path_factory.mktemp("cas")
    for name, key_type in (("bank-a", "p256"), ("bank-b", "ed25519")):
        cert, key = create_ca(name, base / name, key_type=key_type)  # type: ignore[arg-type]
        out[name] = (cert.read_bytes(), key.read_bytes())
    return out


def _cert(ca: tuple[bytes, bytes], public_key: bytes, now_ms: int, days: int = 30) -> bytes:
    start = EPOCH + datetime.timedelta(milliseconds=now_ms) - datetime.timedelta(days=1)
    return issue_identity_cert(
        ca[0], ca[1], public_key, "Alice", start, start + datetime.timedelta(days=days)
    )


def test_ca_mode_enrolment(cas: dict[str, tuple[bytes, bytes]]) -> None:
    net = consortium(ca_pems={"bank-a": cas["bank-a"][0], "bank-b": cas["bank-b"][0]})
    h = net.harness
    alice, bob = seeded_key("alice"), seeded_key("bob")
    now = h.timestamp_ms

    # good: issued by bank-a's CA to alice's own key
    key, out = net.enroll("bank-a", "alice", cert=_cert(cas["bank-a"], alice.public_key, now))
    assert out.ok, out.message
    assert len(identity_record(h.get, key.address).cert_hash) == 32  # type: ignore[union-attr]

    # wrong CA: a bank-b certificate presented by bank-a's admin
    _, out = net.enroll("bank-a", "bob", cert=_cert(cas["bank-b"], bob.public_key, now))
    assert out.code == "certificate_rejected" and "CA" in out.message
    # key/address mismatch: a good certificate for alice's key used to enrol bob's address
    _, out = net.enroll("bank-a", "bob", cert=_cert(cas["bank-a"], alice.public_key, now))
    assert out.code == "certificate_rejected" and "derives" in out.message
    # expired at the block's timestamp (no wall clock involved)
    h.next_block(ms=40 * 86_400_000)
    _, out = net.enroll("bank-a", "bob", cert=_cert(cas["bank-a"], bob.public_key, now))
    assert out.code == "certificate_rejected" and "timestamp" in out.message
    # a CA-mode org needs a certificate; an Ed25519 CA works too
    assert net.enroll("bank-b", "bob")[1].code == "certificate_rejected"
    assert net.enroll("bank-b", "bob", cert=_cert(cas["bank-b"], bob.public_key, h.timestamp_ms))[1].ok
    assert identity_record(h.get, bob.address) is not None

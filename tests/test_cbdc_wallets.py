"""Wallets (issue 9): open_wallet, set_tier, close_wallet in the identity contract."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from consortia.codec import decode, encode
from consortia.contracts.native_currency import balance_of
from consortia.contracts.permissioned import check_sender_identity, identity_record
from consortia.contracts.permissioned.errors import IdentityRevoked
from consortia.contracts.permissioned.harness import DEFAULT_ORGS, Consortium, Outcome, consortium, seeded_key
from consortia.contracts.permissioned.identity import (
    encode_close_wallet_args,
    encode_enroll_args,
    encode_open_wallet_args,
    encode_set_tier_args,
    pii_commitment,
)
from consortia.contracts.permissioned.limits import DAY_MS, MAX_WALLET_TIER, MIN_WALLET_TIER
from consortia.contracts.permissioned.monetary import (
    encode_fund_args,
    encode_issue_args,
    reserve_address,
    supply,
)
from consortia.contracts.permissioned.policy import SENDER_REFUSING_EVENTS
from consortia.contracts.permissioned.records import IDENTITY_ROLES, WALLET
from consortia.execution.accounts import Account, account_key, decode_account
from consortia.p2p.certs import create_ca

ORGS = (*DEFAULT_ORGS, ("ent", "enterprise"))



@pytest.fixture
def net() -> Consortium:
    n = consortium(ORGS)
    n.harness.timestamp_ms = 1000 * DAY_MS
    for tier, per_payment, daily, balance in ((3, 500, 1_000, 2_000), (4, 200, 500, 1_000)):
        assert reg(n, "set_limits", tier, per_payment, daily, balance).ok
    assert n.harness.call(admin(n, "cb"), "currency", "issue", encode_issue_args("bank-a", 100_000)).ok
    assert n.harness.call(admin(n, "cb"), "currency", "issue", encode_issue_args("bank-b", 100_000)).ok
    return n


def admin(net: Consortium, org_name: str) -> bytes:
    return net.admins[org_name].address


def reg(net: Consortium, method: str, *args: object) -> Outcome:
    return net.harness.call(admin(net, "reg"), "regulator", method, encode(list(args)))


def commitment(label: str) -> bytes:
    return pii_commitment(b"salt-" + label.encode().ljust(16, b"."), f"phone:{label}".encode())


def open_wallet(
    net: Consortium, org_name: str, address: bytes, tier: int, commit: bytes | None = None
) -> Outcome:
    args = encode_open_wallet_args(address, tier, commitment("w") if commit is None else commit)
    return net.harness.call(admin(net, org_name), "identity", "open_wallet", args)


def set_tier(net: Consortium, org_name: str, address: bytes, tier: int) -> Outcome:
    return net.harness.call(admin(net, org_name), "identity", "set_tier", encode_set_tier_args(address, tier))


def close_wallet(net: Consortium, org_name: str, address: bytes) -> Outcome:
    args = encode_close_wallet_args(address)
    return net.harness.call(admin(net, org_name), "identity", "close_wallet", args)


def fund(net: Consortium, org_name: str, to: bytes, amount: int) -> Outcome:
    return net.harness.call(admin(net, org_name), "currency", "fund", encode_fund_args(to, amount))


def wallet(net: Consortium, org_name: str, label: str, tier: int = 4, balance: int = 0) -> bytes:
    address = seeded_key(f"wallet:{label}").address
    out = open_wallet(net, org_name, address, tier, commitment(label))
    assert out.ok, out.message
    if balance:
        assert fund(net, org_name, address, balance).ok
    return address


def refused(net: Consortium, sender: bytes, code: str, action: Callable[[], Outcome]) -> Outcome:
    """Run ``action``; it must fail with ``code`` and change nothing but the sender's nonce."""
    before = dict(net.harness.state.data)
    out = action()
    assert out.code == code, (out.code, out.message)
    after = dict(net.harness.state.data)
    old = decode_account(before.pop(account_key(sender)))
    new = decode_account(after.pop(account_key(sender)))
    assert new == Account(old.nonce + 1, old.balance)
    assert after == before and out.events == []
    return out


def all_balances(net: Consortium) -> int:
    size = len(account_key(b"\0" * 20))
    return sum(decode_account(v).balance for k, v in net.harness.state.data.items()
               if k.startswith(b"a") and len(k) == size)


# --- open_wallet ------------------------------------------------------------------------------------


def test_wallet_role_and_tier_constants() -> None:
    assert WALLET in IDENTITY_ROLES
    assert (MIN_WALLET_TIER, MAX_WALLET_TIER) == (1, 4)


def test_open_wallet_records_no_personal_data(net: Consortium) -> None:
    h = net.harness
    address = seeded_key("wallet:w1").address
    c = commitment("w1")
    out = open_wallet(net, "bank-a", address, 3, c)
    assert out.ok, out.message
    assert out.event_names() == ["WalletOpened"]
    assert decode(out.events[0].data, list) == [address, "bank-a", 3]  # type: ignore[type-arg]
    ident = identity_record(h.get, address)
    assert ident is not None
    assert (ident.org, ident.role, ident.kyc_tier, ident.pii_hash, ident.cert_hash, ident.status) == (
        "bank-a", "wallet", 3, c, b"", "active"
    )
    assert ident.enrolled_by == admin(net, "bank-a") and ident.enrolled_height == h.height
    assert h.get(account_key(address)) == encode(Account(0, 0))
    assert b"phone" not in b"".join(v for v in out.writes.values() if v is not None)


def test_open_wallet_needs_no_certificate_in_ca_mode(tmp_path: Path) -> None:
    cert, _ = create_ca("bank-a", tmp_path / "ca")
    net = consortium(ORGS, ca_pems={"bank-a": cert.read_bytes()})
    address = seeded_key("wallet:ca").address
    out = open_wallet(net, "bank-a", address, 2)
    assert out.ok, out.message
    assert identity_record(net.harness.get, address).cert_hash == b""  # type: ignore[union-attr]


def test_open_wallet_refusals(net: Consortium) -> None:
    clerk = net.member("bank-a", "clerk")
    taken = net.member("bank-b", "taken")
    address = seeded_key("wallet:new").address
    a = admin(net, "bank-a")
    cb, ent = admin(net, "cb"), admin(net, "ent")
    cases: list[tuple[bytes, str, Callable[[], Outcome], tuple[str, ...]]] = [
        (cb, "not_operator_bank", lambda: open_wallet(net, "cb", address, 2), ("'cb'", "central-bank")),
        (ent, "not_operator_bank", lambda: open_wallet(net, "ent", address, 2), ("enterprise",)),
        (admin(net, "reg"), "not_operator_bank", lambda: open_wallet(net, "reg", address, 2), ("regulator",)),
        (a, "invalid_call", lambda: open_wallet(net, "bank-a", address, 0), ("between 1 and 4", "got 0")),
        (a, "invalid_call", lambda: open_wallet(net, "bank-a", address, 5), ("got 5",)),
        (a, "invalid_call", lambda: open_wallet(net, "bank-a", address, 2, b"\x01" * 31), ("31",)),
        (a, "invalid_call", lambda: open_wallet(net, "bank-a", b"\x01" * 19, 2), ("19",)),
        (a, "invalid_call", lambda: open_wallet(net, "bank-a", reserve_address("bank-b"), 2), ("reserve",)),
        (a, "already_enrolled", lambda: open_wallet(net, "bank-a", taken.address, 2), ("'bank-b'",)),
        (a, "invalid_call",
         lambda: net.harness.call(a, "identity", "open_wallet", encode([address, 2])), ("commitment",)),
    ]
    for sender, code, action, words in cases:
        out = refused(net, sender, code, action)
        assert all(w in out.message for w in words), (code, out.message)
    refused(net, clerk.address, "not_org_admin",
            lambda: net.harness.call(clerk.address, "identity", "open_wallet",
                                     encode_open_wallet_args(address, 2, commitment("x"))))
    assert identity_record(net.harness.get, address) is None


def test_enroll_refuses_the_wallet_role(net: Consortium) -> None:
    args = encode_enroll_args(seeded_key("wallet:e").address, "wallet", 4, commitment("e"))
    out = refused(net, admin(net, "bank-a"), "invalid_call",
                  lambda: net.harness.call(admin(net, "bank-a"), "identity", "enroll", args))
    assert "open_wallet" in out.message


def test_enroll_refuses_a_reserve_address(net: Consortium) -> None:
    args = encode_enroll_args(reserve_address("bank-a"), "member", 1, commitment("r"))
    out = refused(net, admin(net, "bank-a"), "invalid_call",
                  lambda: net.harness.call(admin(net, "bank-a"), "identity", "enroll", args))
    assert "'bank-a'" in out.message


def test_wallets_pay_within_their_tier(net: Consortium) -> None:
    h = net.harness
    small = wallet(net, "bank-a", "small", tier=4, balance=900)
    other = wallet(net, "bank-b", "other", tier=3)
    assert h.transfer(small, other, 200).ok  # tier 4 per payment 200
    out = h.transfer(small, other, 201)
    assert out.code == "limit_exceeded" and "201" in out.message and "200" in out.message
    assert fund(net, "bank-a", small, 301).code == "limit_exceeded"  # 700 + 301 > 1000
    assert net.balance(other) == 200


# --- set_tier ---------------------------------------------------------------------------------------


def test_set_tier_changes_the_limits_that_apply(net: Consortium) -> None:
    h = net.harness
    w = wallet(net, "bank-a", "up", tier=4, balance=1_000)
    peer = wallet(net, "bank-a", "peer", tier=1)
    assert h.transfer(w, peer, 300).code == "limit_exceeded"
    out = set_tier(net, "bank-a", w, 3)
    assert out.ok and out.event_names() == ["TierChanged"]
    assert decode(out.events[0].data, list) == [w, "bank-a", 4, 3]  # type: ignore[type-arg]
    assert identity_record(h.get, w).kyc_tier == 3  # type: ignore[union-attr]
    assert h.transfer(w, peer, 300).ok


def test_set_tier_refusals(net: Consortium) -> None:
    h = net.harness
    w = wallet(net, "bank-a", "t", tier=2, balance=1_500)
    member = net.member("bank-a", "member")
    a = admin(net, "bank-a")
    stranger = seeded_key("nobody").address
    cases: list[tuple[bytes, str, Callable[[], Outcome], tuple[str, ...]]] = [
        (a, "limit_exceeded", lambda: set_tier(net, "bank-a", w, 4), ("1500", "tier 4", "1000")),
        (admin(net, "bank-b"), "not_org_admin", lambda: set_tier(net, "bank-b", w, 1), ("'bank-a'",)),
        (a, "not_a_wallet", lambda: set_tier(net, "bank-a", member.address, 2), ("member",)),
        (a, "not_a_wallet", lambda: set_tier(net, "bank-a", a, 2), ("admin",)),
        (a, "unknown_identity", lambda: set_tier(net, "bank-a", stranger, 2), (stranger.hex(),)),
        (a, "invalid_call", lambda: set_tier(net, "bank-a", w, 0), ("got 0",)),
        (a, "invalid_call", lambda: set_tier(net, "bank-a", w, 100), ("got 100",)),
    ]
    for sender, code, action, words in cases:
        out = refused(net, sender, code, action)
        assert all(w_ in out.message for w_ in words), (code, out.message)
    assert set_tier(net, "bank-a", w, 3).ok  # 1500 is within tier 3's 2000
    assert close_wallet(net, "bank-a", w).ok
    out = refused(net, a, "wallet_closed", lambda: set_tier(net, "bank-a", w, 1))
    assert str(h.height) in out.message


# --- close_wallet -----------------------------------------------------------------------------------


def test_close_wallet_sweeps_to_the_reserve_and_revokes(net: Consortium) -> None:
    h = net.harness
    w = wallet(net, "bank-a", "closing", tier=3, balance=1_234)
    reserve = reserve_address("bank-a")
    before = balance_of(h.get, reserve)
    out = close_wallet(net, "bank-a", w)
    assert out.ok, out.message
    assert [(e.contract, e.name) for e in out.events] == [
        ("currency", "Transfer"), ("identity", "Revoked"), ("identity", "WalletClosed")
    ]
    assert ("identity", "Revoked") in SENDER_REFUSING_EVENTS  # pools re-check the wallet's transactions
    assert decode(out.events[0].data, list) == [w, reserve, 1_234]  # type: ignore[type-arg]
    assert decode(out.events[1].data, list) == [w, "bank-a", admin(net, "bank-a")]  # type: ignore[type-arg]
    assert decode(out.events[2].data, list) == [w, "bank-a", 1_234]  # type: ignore[type-arg]
    assert net.balance(w) == 0 and balance_of(h.get, reserve) == before + 1_234
    ident = identity_record(h.get, w)
    assert ident is not None and ident.status == "revoked" and ident.revoked_by == admin(net, "bank-a")
    with pytest.raises(IdentityRevoked):
        check_sender_identity(h.get, w, h.height)
    assert h.transfer(w, reserve, 1).code == "identity_revoked"
    assert fund(net, "bank-a", w, 1).code == "identity_revoked"
    assert open_wallet(net, "bank-a", w, 2).code == "already_enrolled"  # never reopened
    s = supply(h.get)
    assert s.in_circulation == all_balances(net)


def test_close_empty_wallet_moves_nothing(net: Consortium) -> None:
    w = wallet(net, "bank-b", "empty")
    out = close_wallet(net, "bank-b", w)
    assert out.ok and out.event_names() == ["Revoked", "WalletClosed"]
    assert decode(out.events[1].data, list) == [w, "bank-b", 0]  # type: ignore[type-arg]


def test_close_wallet_refusals(net: Consortium) -> None:
    w = wallet(net, "bank-a", "c", tier=3, balance=50)
    member = net.member("bank-a", "m")
    a = admin(net, "bank-a")
    refused(net, admin(net, "bank-b"), "not_org_admin", lambda: close_wallet(net, "bank-b", w))
    refused(net, admin(net, "cb"), "not_org_admin", lambda: close_wallet(net, "cb", w))
    refused(net, a, "not_a_wallet", lambda: close_wallet(net, "bank-a", member.address))
    refused(net, a, "unknown_identity", lambda: close_wallet(net, "bank-a", seeded_key("nobody").address))
    assert reg(net, "freeze", w).ok
    out = refused(net, a, "account_frozen", lambda: close_wallet(net, "bank-a", w))
    assert w.hex() in out.message
    assert reg(net, "unfreeze", w).ok
    assert reg(net, "freeze", reserve_address("bank-a")).ok
    out = refused(net, a, "account_frozen", lambda: close_wallet(net, "bank-a", w))
    assert "reserve of 'bank-a'" in out.message and "50" in out.message
    assert reg(net, "unfreeze", reserve_address("bank-a")).ok
    assert reg(net, "freeze_asset", "native").ok
    refused(net, a, "asset_frozen", lambda: close_wallet(net, "bank-a", w))
    assert reg(net, "unfreeze_asset", "native").ok
    assert close_wallet(net, "bank-a", w).ok
    refused(net, a, "wallet_closed", lambda: close_wallet(net, "bank-a", w))

"""The regulator: freezes, tier limits, alert rules, and the permission boundaries around money."""

from __future__ import annotations

import pytest

from consortia.codec import decode, encode
from consortia.contracts.permissioned import (
    alerts,
    audit,
    check_call,
    check_sender_identity,
    is_frozen,
    limits,
)
from consortia.contracts.permissioned.errors import AccountFrozen, RegulatorCannotTransfer
from consortia.contracts.permissioned.harness import Consortium, Outcome, consortium
from consortia.contracts.permissioned.records import Alert, TierLimits

DAY_MS = 86_400_000


def reg(net: Consortium, method: str, *args: object, sender: bytes | None = None) -> Outcome:
    who = net.admins["reg"].address if sender is None else sender
    return net.harness.call(who, "regulator", method, encode(list(args)))


@pytest.fixture
def net() -> Consortium:
    n = consortium()
    n.harness.timestamp_ms = 1000 * DAY_MS  # midnight, so the day boundary is easy to cross
    return n


def test_freeze_and_unfreeze_account(net: Consortium) -> None:
    h = net.harness
    alice, bob = net.member("bank-a", "alice"), net.member("bank-b", "bob")
    net.fund(alice.address, 1000)
    out = reg(net, "freeze", alice.address)
    assert out.ok and out.event_names() == ["Frozen"]
    assert is_frozen(h.get, alice.address)
    with pytest.raises(AccountFrozen):
        check_sender_identity(h.get, alice.address, h.height)
    assert h.transfer(alice.address, bob.address, 10).code == "account_frozen"
    net.fund(bob.address, 100)
    assert h.transfer(bob.address, alice.address, 10).code == "account_frozen"  # cannot receive either
    assert reg(net, "freeze", alice.address).code == "already_frozen"
    out = reg(net, "unfreeze", alice.address)
    assert out.ok and out.event_names() == ["Unfrozen"]
    assert h.transfer(alice.address, bob.address, 10).ok
    assert reg(net, "unfreeze", alice.address).code == "not_frozen"
    assert net.balance(bob.address) == 110


def test_org_admin_cannot_freeze_or_set_limits(net: Consortium) -> None:
    alice = net.member("bank-a", "alice")
    auditor = net.member("reg", "auditor", role="auditor")
    reg_member = net.member("reg", "clerk")
    for sender in (net.admins["bank-a"].address, alice.address, reg_member.address):
        assert reg(net, "freeze", alice.address, sender=sender).code == "not_regulator"
        assert reg(net, "set_limits", 1, 10, None, None, sender=sender).code == "not_regulator"
    assert not is_frozen(net.harness.get, alice.address)
    assert reg(net, "freeze", alice.address, sender=auditor.address).ok  # regulator auditors may


def test_regulator_cannot_move_money(net: Consortium) -> None:
    h = net.harness
    bob = net.member("bank-b", "bob")
    regulator = net.admins["reg"].address
    net.fund(regulator, 1000)
    out = h.transfer(regulator, bob.address, 5)
    assert out.code == "regulator_cannot_transfer" and net.balance(bob.address) == 0
    with pytest.raises(RegulatorCannotTransfer):
        check_call(h.get, regulator, "currency", "transfer")
    check_call(h.get, regulator, "regulator", "freeze")  # acting as regulator is fine


def test_asset_freeze(net: Consortium) -> None:
    h = net.harness
    alice, bob = net.member("bank-a", "alice"), net.member("bank-b", "bob")
    net.fund(alice.address, 100)
    assert reg(net, "freeze_asset", "native").event_names() == ["AssetFrozen"]
    assert h.transfer(alice.address, bob.address, 1).code == "asset_frozen"
    assert reg(net, "unfreeze_asset", "native").ok
    assert h.transfer(alice.address, bob.address, 1).ok


def test_recipient_must_be_enrolled(net: Consortium) -> None:
    alice = net.member("bank-a", "alice")
    net.fund(alice.address, 100)
    assert net.harness.transfer(alice.address, b"\x42" * 20, 1).code == "unknown_identity"


def test_tier_limits(net: Consortium) -> None:
    h = net.harness
    alice = net.member("bank-a", "alice", tier=1)
    bob = net.member("bank-b", "bob", tier=1)
    rich = net.member("bank-b", "rich", tier=3)
    net.fund(alice.address, 100_000)
    out = reg(net, "set_limits", 1, 500, 1000, 2000)
    assert out.ok and out.event_names() == ["LimitsSet"]
    assert limits(h.get, 1) == TierLimits(500, 1000, 2000)
    assert limits(h.get, 3) == TierLimits()

    # per payment
    refused = h.transfer(alice.address, rich.address, 501)
    assert refused.code == "limit_exceeded" and "per-payment" in refused.message
    # daily, across blocks, by block timestamp
    assert h.transfer(alice.address, rich.address, 400).ok
    h.next_block()
    assert h.transfer(alice.address, rich.address, 400).ok
    h.next_block()
    refused = h.transfer(alice.address, rich.address, 201)
    assert refused.code == "limit_exceeded" and "daily" in refused.message
    assert h.transfer(alice.address, rich.address, 200).ok
    assert audit(h.get, alice.address).daily.total == 1000  # type: ignore[union-attr]
    h.next_block(ms=DAY_MS)  # the next day starts afresh
    assert h.transfer(alice.address, rich.address, 500).ok
    # balance: the recipient's tier caps its balance after the payment
    net.fund(bob.address, 1800)
    refused = h.transfer(alice.address, bob.address, 201)
    assert refused.code == "limit_exceeded" and "balance" in refused.message
    assert h.transfer(alice.address, bob.address, 200).ok
    assert net.balance(bob.address) == 2000
    # a refused payment changed nothing
    assert net.balance(rich.address) == 1500
    # lifting the limits
    assert reg(net, "set_limits", 1, None, None, None).ok
    assert limits(h.get, 1) == TierLimits()


def test_structuring_alert(net: Consortium) -> None:
    h = net.harness
    alice, bob = net.member("bank-a", "alice"), net.member("bank-b", "bob")
    net.fund(alice.address, 1_000_000)
    # payments in [9000, 10000) count; 3 of them within 5 blocks raise an alert
    assert reg(net, "set_rule", "structuring", [10_000, 1000, 3, 5]).event_names() == ["RuleSet"]
    assert h.transfer(alice.address, bob.address, 9_500).ok
    h.next_block()
    assert h.transfer(alice.address, bob.address, 5_000).ok  # not just under: ignored
    assert h.transfer(alice.address, bob.address, 9_900).ok
    assert alerts(h.get) == []
    h.next_block()
    out = h.transfer(alice.address, bob.address, 9_001)
    assert out.ok and out.event_names() == ["Transfer", "Alert"]
    (alert,) = alerts(h.get)
    assert (alert.id, alert.rule, alert.address, alert.amount) == (1, "structuring", alice.address, 9_001)
    assert decode(out.events[1].data, Alert) == alert
    # outside the window, old payments no longer count
    h.next_block()
    assert h.transfer(alice.address, bob.address, 9_500).ok
    h.next_block(10)
    assert h.transfer(alice.address, bob.address, 9_500).ok
    assert h.transfer(alice.address, bob.address, 9_500).ok
    assert len(alerts(h.get)) == 1


def test_velocity_and_large_amount_alerts(net: Consortium) -> None:
    h = net.harness
    alice, bob = net.member("bank-a", "alice"), net.member("bank-b", "bob")
    net.fund(alice.address, 1_000_000)
    assert reg(net, "set_rule", "velocity", [3, 0, 10]).ok
    assert reg(net, "set_rule", "large_amount", [50_000]).ok
    for _ in range(3):
        assert h.transfer(alice.address, bob.address, 1).ok
        h.next_block()
    assert alerts(h.get) == []
    assert h.transfer(alice.address, bob.address, 1).event_names() == ["Transfer", "Alert"]
    assert h.transfer(alice.address, bob.address, 60_000).event_names() == ["Transfer", "Alert"]
    assert [a.rule for a in alerts(h.get)] == ["velocity", "large_amount"]
    assert [a.id for a in alerts(h.get, since_id=1)] == [2]
    # value-based velocity
    assert reg(net, "set_rule", "velocity", [0, 100, 10]).ok
    assert h.transfer(bob.address, alice.address, 60).ok
    assert h.transfer(bob.address, alice.address, 41).event_names() == ["Transfer", "Alert"]
    # disabling and bad rules
    assert reg(net, "set_rule", "velocity", []).ok
    assert reg(net, "set_rule", "structuring", [10, 0, 3, 5]).code == "invalid_rule"
    assert reg(net, "set_rule", "lottery", [1]).code == "invalid_rule"


def test_refused_payment_raises_no_alert(net: Consortium) -> None:
    h = net.harness
    alice, bob = net.member("bank-a", "alice"), net.member("bank-b", "bob")
    net.fund(alice.address, 100)
    assert reg(net, "set_rule", "large_amount", [50]).ok
    assert h.transfer(alice.address, bob.address, 500).code == "insufficient_balance"
    assert alerts(h.get) == []

"""apps/cbdc (issue 9): escrow, earmarked funds, scheduled payments and identity resolution as
Python contracts deployed at genesis (``apps.genesis.app_records``), on a permissioned chain
whose rules of money and identity apply to every movement."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Any

import pytest

from consortia.apps.cbdc import sdk
from consortia.apps.cbdc.contracts import CONTRACTS, source
from consortia.apps.genesis import app_records
from consortia.codec import encode
from consortia.contracts.composition import _approved_by_governance
from consortia.contracts.permissioned.directory import identity
from consortia.contracts.permissioned.governance import encode_propose_args, encode_vote_args, proposals
from consortia.contracts.permissioned.harness import Consortium, Harness, Outcome, consortium, seeded_key
from consortia.contracts.permissioned.identity import encode_open_wallet_args, pii_commitment
from consortia.contracts.permissioned.monetary import encode_fund_args, encode_issue_args
from consortia.contracts.permissioned.params import code_approval
from consortia.contracts.permissioned.records import ContractCode
from consortia.contracts.permissioned.regulator import encode_address_args
from consortia.contracts.python.api import address_of
from consortia.contracts.python.host import PythonContractHost
from consortia.contracts.python.limits import MAX_SCHEDULE_AHEAD
from consortia.contracts.python.registry import CONSORTIUM, ContractRegistry, contract_info
from consortia.contracts.python.source_hash import code_hash_of
from consortia.crypto.keys import KeyPair
from consortia.crypto.sealed import (
    SEAL_OVERHEAD,
    CannotDecrypt,
    matches_commitment,
    open_identity,
    resolve_keypair,
)
from consortia.errors import DecodeError
from consortia.execution.accounts import account_key, decode_account

SUITE = "ed25519"


@dataclass
class App:
    net: Consortium
    host: PythonContractHost
    wallets: dict[str, KeyPair]
    secrets: dict[str, tuple[bytes, bytes]]

    @property
    def h(self) -> Harness:
        return self.net.harness

    def admin(self, org: str) -> bytes:
        return self.net.admins[org].address

    def send(self, sender: bytes, call: sdk.AppCall) -> Outcome:
        return self.h.call(sender, call.contract, call.method, sdk.encode_args(call), value=call.value)

    def ok(self, sender: bytes, call: sdk.AppCall) -> Outcome:
        out = self.send(sender, call)
        assert out.ok, (out.code, out.message)
        return out

    def view(self, call: sdk.ViewCall) -> Any:
        return self.host.run_view(self.h.state, self.h.block(), call.contract, call.method, call.args)

    def balance(self, address: bytes) -> int:
        return self.net.balance(address)

    def refused(self, sender: bytes, call: sdk.AppCall, code: str) -> Outcome:
        """``call`` is refused with ``code`` and changes nothing but the sender's nonce."""
        before, ran = dict(self.h.state.data), len(self.h.scheduled)
        out = self.send(sender, call)
        assert out.code == code, (out.code, out.message)
        after = self.h.state.data
        changed = {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
        # the block's end may move the scheduler's cursor, running nothing that succeeds
        assert all(r.status != "ok" for r in self.h.scheduled[ran:])
        assert {k for k in changed if not k.startswith(b"c/sched/")} == {account_key(sender)}
        old, new = decode_account(before[account_key(sender)]), decode_account(after[account_key(sender)])
        assert (new.nonce, new.balance) == (old.nonce + 1, old.balance)
        return out


def open_wallet(net: Consortium, bank: str, label: str, tier: int = 2) -> tuple[KeyPair, bytes, bytes]:
    key = seeded_key(label)
    salt, data = f"salt:{label}".encode().ljust(16, b"."), f"name={label};id=110101{len(label)}".encode()
    args = encode_open_wallet_args(key.address, tier, pii_commitment(salt, data, SUITE))
    out = net.harness.call(net.admins[bank].address, "identity", "open_wallet", args)
    assert out.ok, out.message
    return key, salt, data


@pytest.fixture
def app() -> App:
    net = consortium()
    h = net.harness
    h.state.data.update(app_records(SUITE))  # the genesis the lead builds: consortium + apps
    host = h.enable_contracts()
    wallets: dict[str, KeyPair] = {}
    secrets: dict[str, tuple[bytes, bytes]] = {}
    for bank, label in (("bank-a", "alice"), ("bank-a", "shop"), ("bank-b", "bob"),
                        ("bank-b", "pharmacy"), ("bank-b", "bar")):
        key, salt, data = open_wallet(net, bank, label)
        wallets[label], secrets[label] = key, (salt, data)
    for bank in ("bank-a", "bank-b"):
        assert h.call(net.admins["cb"].address, "currency", "issue", encode_issue_args(bank, 100_000)).ok
    for label in ("alice", "bob"):
        bank = "bank-a" if label == "alice" else "bank-b"
        fund = encode_fund_args(wallets[label].address, 10_000)
        out = h.call(net.admins[bank].address, "currency", "fund", fund)
        assert out.ok, out.message
    return App(net, host, wallets, secrets)


def addr(app: App, label: str) -> bytes:
    return app.wallets[label].address


# --- genesis deployment and governed upgrades ---------------------------------------------------


def test_the_apps_are_deployed_at_genesis_owned_by_the_consortium(app: App) -> None:
    for name in CONTRACTS:
        info = contract_info(app.h.get, name)
        assert info is not None and info.owner == CONSORTIUM and info.version == 1 and info.height == 0
        assert info.code_hash == code_hash_of(source(name))
        approval = code_approval(app.h.get, name)
        assert approval is not None and (approval.code_hash, approval.version) == (info.code_hash, 1)
    # the name is taken, and with no approval check nobody upgrades consortium code
    out = app.h.call(app.admin("bank-a"), "contracts", "deploy", encode(["escrow", source("escrow"), []]))
    assert out.code == "contract_exists"
    out = app.h.call(app.admin("cb"), "contracts", "upgrade", encode(["escrow", source("escrow") + "\n"]))
    assert out.code == "deploy_denied" and "consortium" in out.message
    assert app_records(SUITE) == app_records(SUITE)  # deterministic: every node writes the same


def test_consortium_code_is_upgraded_by_anyone_only_to_governance_approved_code(app: App) -> None:
    h = app.h
    h.contracts["contracts"] = ContractRegistry(
        app.host, may_deploy=_approved_by_governance, may_upgrade=_approved_by_governance
    )
    v2 = source("escrow") + "\n# version 2\n"
    upgrade = encode(["escrow", v2])
    assert h.call(app.admin("bank-b"), "contracts", "upgrade", upgrade).code == "deploy_denied"
    payload = encode(ContractCode("escrow", code_hash_of(v2)))
    propose = encode_propose_args("upgrade-contract", payload, 100)
    assert h.call(app.admin("cb"), "governance", "propose", propose).ok
    pid = proposals(h.get)[-1].id
    h.call(app.admin("bank-a"), "governance", "vote", encode_vote_args(pid, True))
    assert h.call(app.admin("bank-b"), "governance", "vote", encode_vote_args(pid, True)).ok
    assert h.call(app.admin("bank-b"), "contracts", "upgrade", upgrade).ok  # not an owner: anyone
    info = contract_info(h.get, "escrow")
    assert info is not None and info.version == 2 and info.owner == CONSORTIUM
    other = encode(["escrow", v2 + "#"])
    assert h.call(app.admin("bank-b"), "contracts", "upgrade", other).code == "deploy_denied"


# --- escrow ----------------------------------------------------------------------------------


def test_escrow_released_by_the_releaser(app: App) -> None:
    alice, shop, bob = addr(app, "alice"), addr(app, "shop"), addr(app, "bob")
    deadline = app.h.height + 5
    out = app.ok(alice, sdk.escrow_create(shop, bob, deadline, 700))
    escrow_id = sdk.created_id(out.events, sdk.ESCROW)
    assert app.balance(alice) == 9_300 and app.balance(address_of("escrow")) == 700
    assert sdk.event_fields(out.events[-1]) == {
        "id": escrow_id, "payer": alice, "payee": shop, "releaser": bob, "amount": 700, "deadline": deadline}

    app.refused(alice, sdk.escrow_release(escrow_id), "escrow_not_releasable")  # not the releaser
    app.refused(bob, sdk.escrow_refund(escrow_id), "escrow_not_refundable")  # before the deadline
    out = app.ok(bob, sdk.escrow_release(escrow_id))
    assert "EscrowReleased" in out.event_names()
    assert app.balance(shop) == 700 and app.balance(address_of("escrow")) == 0
    escrow = sdk.escrow_from_view(app.view(sdk.escrow_get(escrow_id)))
    assert (escrow.status, escrow.settled, escrow.amount) == ("released", app.h.height, 700)
    assert (escrow.payer, escrow.payee, escrow.releaser, escrow.deadline) == (alice, shop, bob, deadline)
    out = app.refused(bob, sdk.escrow_release(escrow_id), "escrow_not_releasable")
    assert "already released" in out.message
    # the scheduled refund at deadline + 1 finds it settled: a no-op
    app.h.next_block(deadline + 2 - app.h.height)
    assert [r.status for r in app.h.scheduled] == ["ok"] and app.h.scheduled[0].events == []
    assert app.balance(alice) == 9_300 and app.balance(shop) == 700


def test_escrow_refunded_automatically_after_the_deadline(app: App) -> None:
    alice, shop, bob = addr(app, "alice"), addr(app, "shop"), addr(app, "bob")
    deadline = app.h.height + 3
    escrow_id = sdk.created_id(app.ok(alice, sdk.escrow_create(shop, bob, deadline, 400)).events, sdk.ESCROW)
    app.h.next_block(deadline - app.h.height)
    assert app.h.height == deadline and not app.h.scheduled
    assert app.balance(alice) == 9_600
    app.h.next_block()  # closes block `deadline`; the refund is due at deadline + 1
    assert not app.h.scheduled and app.balance(alice) == 9_600
    app.h.next_block()
    assert [r.status for r in app.h.scheduled] == ["ok"]
    assert [e.name for e in app.h.scheduled[0].events][-1] == "EscrowRefunded"
    assert app.balance(alice) == 10_000 and app.balance(address_of("escrow")) == 0
    assert sdk.escrow_from_view(app.view(sdk.escrow_get(escrow_id))).status == "refunded"
    app.refused(alice, sdk.escrow_refund(escrow_id), "escrow_not_refundable")
    out = app.refused(bob, sdk.escrow_release(escrow_id), "escrow_not_releasable")
    assert "already refunded" in out.message


def test_escrow_refunded_by_hand_when_the_automatic_refund_could_not_pay(app: App) -> None:
    alice, shop, bob = addr(app, "alice"), addr(app, "shop"), addr(app, "bob")
    reg = app.admin("reg")
    deadline = app.h.height + 2
    escrow_id = sdk.created_id(app.ok(alice, sdk.escrow_create(shop, bob, deadline, 250)).events, sdk.ESCROW)
    assert app.h.call(reg, "regulator", "freeze", encode_address_args(alice)).ok
    app.h.next_block(deadline + 1 - app.h.height)
    # in block deadline + 1: too late to release; after its transactions the refund fails
    out = app.refused(bob, sdk.escrow_release(escrow_id), "escrow_not_releasable")
    assert f"past its deadline {deadline} (now {deadline + 1})" in out.message
    assert [r.status for r in app.h.scheduled] == ["account_frozen"]  # the payer was frozen
    assert sdk.escrow_from_view(app.view(sdk.escrow_get(escrow_id))).status == "open"
    assert app.h.call(reg, "regulator", "unfreeze", encode_address_args(alice)).ok
    out = app.ok(shop, sdk.escrow_refund(escrow_id))  # anyone, after the deadline
    assert "EscrowRefunded" in out.event_names()
    assert app.balance(alice) == 10_000


def test_escrow_refusals(app: App) -> None:
    alice, shop, bob = addr(app, "alice"), addr(app, "shop"), addr(app, "bob")
    now = app.h.height
    app.refused(alice, sdk.escrow_create(shop, bob, now + 5, 0), "escrow_needs_value")
    app.refused(alice, sdk.escrow_create(shop[:19], bob, now + 5, 10), "bad_address")
    app.refused(alice, sdk.escrow_create(shop, bob, now - 1, 10), "bad_deadline")
    app.refused(alice, sdk.escrow_release(1), "escrow_not_found")
    assert app.view(sdk.ViewCall("escrow", "count", [])) == 0


# --- earmarked funds -------------------------------------------------------------------------


def test_earmark_spent_at_an_allowed_payee_and_the_rest_returned_at_expiry(app: App) -> None:
    issuer, recipient = addr(app, "bob"), addr(app, "alice")
    pharmacy, shop, bar = addr(app, "pharmacy"), addr(app, "shop"), addr(app, "bar")
    expires = app.h.height + 4
    out = app.ok(issuer, sdk.earmark_create(recipient, [pharmacy, shop, pharmacy], expires, 1_000))
    earmark_id = sdk.created_id(out.events, sdk.EARMARK)
    earmark = sdk.earmark_from_view(app.view(sdk.earmark_get(earmark_id)))
    assert earmark.payees == [pharmacy, shop] and earmark.remaining == 1_000 and earmark.status == "open"
    assert app.view(sdk.earmark_allowed(earmark_id, shop)) is True
    assert app.view(sdk.earmark_allowed(earmark_id, bar)) is False

    out = app.ok(recipient, sdk.earmark_spend(earmark_id, pharmacy, 300))
    assert sdk.event_fields(out.events[-1]) == {"id": earmark_id, "payee": pharmacy, "amount": 300,
                                                "remaining": 700}
    assert app.balance(pharmacy) == 300
    out = app.refused(recipient, sdk.earmark_spend(earmark_id, bar, 100), "payee_not_allowed")
    assert bar.hex() in out.message
    app.refused(issuer, sdk.earmark_spend(earmark_id, shop, 100), "not_recipient")
    out = app.refused(recipient, sdk.earmark_spend(earmark_id, shop, 701), "earmark_insufficient")
    assert "700 left, 701 asked" in out.message
    app.refused(recipient, sdk.earmark_spend(earmark_id, shop, 0), "bad_amount")
    app.refused(shop, sdk.earmark_expire(earmark_id), "earmark_not_expirable")
    assert app.balance(bar) == 0 and app.balance(issuer) == 9_000

    app.h.next_block(expires - app.h.height)
    assert app.h.height == expires and not app.h.scheduled
    # in block `expires` spending is refused; after its transactions the expiry runs
    out = app.send(recipient, sdk.earmark_spend(earmark_id, shop, 1))
    assert out.code == "earmark_expired" and f"expired at height {expires}" in out.message
    assert [r.status for r in app.h.scheduled] == ["ok"]
    expired = sdk.event_fields(app.h.scheduled[0].events[-1])
    assert expired == {"id": earmark_id, "issuer": issuer, "returned": 700, "automatic": True}
    assert app.balance(issuer) == 9_700 and app.balance(address_of("earmark")) == 0
    earmark = sdk.earmark_from_view(app.view(sdk.earmark_get(earmark_id)))
    assert (earmark.status, earmark.remaining, earmark.closed) == ("expired", 0, expires)
    app.refused(recipient, sdk.earmark_spend(earmark_id, shop, 1), "earmark_expired")


def test_earmark_refusals(app: App) -> None:
    issuer, recipient, shop = addr(app, "bob"), addr(app, "alice"), addr(app, "shop")
    later = app.h.height + 10
    app.refused(issuer, sdk.earmark_create(recipient, [shop], later, 0), "earmark_needs_value")
    too_many = sdk.AppCall("earmark", "create", [recipient, [shop] * 33, later], 10)
    app.refused(issuer, too_many, "too_many_payees")
    app.refused(issuer, sdk.earmark_create(recipient, [shop, b"x"], later, 10), "bad_address")
    app.refused(issuer, sdk.earmark_create(recipient, [shop], app.h.height, 10), "bad_expiry")
    app.refused(recipient, sdk.earmark_spend(7, shop, 1), "earmark_not_found")


def test_a_fully_spent_earmark_expires_as_a_no_op(app: App) -> None:
    issuer, recipient, shop = addr(app, "bob"), addr(app, "alice"), addr(app, "shop")
    expires = app.h.height + 2
    earmark_id = sdk.created_id(app.ok(issuer, sdk.earmark_create(recipient, [shop], expires, 50)).events,
                                sdk.EARMARK)
    app.ok(recipient, sdk.earmark_spend(earmark_id, shop, 50))
    assert sdk.earmark_from_view(app.view(sdk.earmark_get(earmark_id))).status == "spent"
    app.h.next_block(3)
    assert [r.status for r in app.h.scheduled] == ["ok"] and app.h.scheduled[0].events == []
    assert app.balance(shop) == 50 and app.balance(issuer) == 9_950


# --- scheduled payments ----------------------------------------------------------------------


def test_scheduled_payments_are_paid_at_their_heights_and_cancel_refunds_the_rest(app: App) -> None:
    payer, payee = addr(app, "alice"), addr(app, "bob")
    first = app.h.height + 2
    out = app.ok(payer, sdk.payment_create(payee, 100, first, 4, 3))
    payment_id = sdk.created_id(out.events, sdk.PAYMENTS)
    assert app.balance(payer) == 9_600 and app.balance(address_of("payments")) == 400
    payment = sdk.payment_from_view(app.view(sdk.payment_get(payment_id)))
    assert payment.due_heights() == [first, first + 3, first + 6, first + 9]

    paid_at: dict[int, int] = {}
    while app.h.height <= first + 3:
        before = app.balance(payee)
        app.h.next_block()
        if app.balance(payee) != before:
            paid_at[app.h.height - 1] = app.balance(payee) - before
    assert paid_at == {first: 100, first + 3: 100}
    app.refused(payee, sdk.payment_pay_instalment(payment_id, 2), "instalment_not_due")
    app.refused(payee, sdk.payment_pay_instalment(payment_id, 0), "instalment_not_payable")
    app.refused(payee, sdk.payment_cancel(payment_id), "not_payer")
    assert app.view(sdk.payment_instalment(payment_id, 1)) == {
        "index": 1, "due": first + 3, "amount": 100, "paid_height": first + 3}

    out = app.ok(payer, sdk.payment_cancel(payment_id))
    assert sdk.event_fields(out.events[-1])["refunded"] == 200
    assert app.balance(payer) == 9_800 and app.balance(address_of("payments")) == 0
    payment = sdk.payment_from_view(app.view(sdk.payment_get(payment_id)))
    assert (payment.status, payment.paid_count, payment.refunded) == ("cancelled", 2, 200)
    app.refused(payer, sdk.payment_cancel(payment_id), "payment_not_cancellable")
    app.h.next_block(8)  # the remaining scheduled instalments find it cancelled
    assert app.balance(payee) == 10_200 and all(r.status == "ok" for r in app.h.scheduled)


def test_all_instalments_paid_completes_the_payment(app: App) -> None:
    payer, payee = addr(app, "alice"), addr(app, "shop")
    first = app.h.height + 1
    out = app.ok(payer, sdk.payment_create(payee, 30, first, 3, 1))
    payment_id = sdk.created_id(out.events, sdk.PAYMENTS)
    app.h.next_block(4)
    assert app.balance(payee) == 90
    payment = sdk.payment_from_view(app.view(sdk.payment_get(payment_id)))
    assert (payment.status, payment.paid_count) == ("completed", 3)
    app.refused(payer, sdk.payment_cancel(payment_id), "payment_not_cancellable")


def test_scheduled_payment_refusals(app: App) -> None:
    payer, payee = addr(app, "alice"), addr(app, "bob")
    first = app.h.height + 2
    wrong = sdk.AppCall("payments", "create", [payee, 100, first, 4, 3], 399)
    out = app.refused(payer, wrong, "wrong_value")
    assert "400" in out.message and "399" in out.message
    too_many = sdk.AppCall("payments", "create", [payee, 1, first, 101, 1], 101)
    app.refused(payer, too_many, "bad_schedule")
    app.refused(payer, sdk.payment_create(payee, 1, app.h.height, 1, 0), "bad_schedule")
    app.refused(payer, sdk.payment_create(payee, 1, first, 2, 0), "bad_schedule")
    app.refused(payer, sdk.payment_cancel(1), "payment_not_found")


# --- identity resolution ---------------------------------------------------------------------


def test_the_regulator_resolves_a_wallet_through_its_bank(app: App) -> None:
    regulator = app.net.admins["reg"]
    x25519 = resolve_keypair(regulator)
    alice = addr(app, "alice")
    out = app.ok(regulator.address, sdk.resolve_request(alice, "fraud case 17", bytes(x25519.public_key)))
    request_id = sdk.created_id(out.events, sdk.RESOLVE)
    assert out.event_names()[-1] == "ResolveRequested"
    request = sdk.resolve_from_view(app.view(sdk.resolve_get(request_id)))
    assert (request.org, request.status, request.requested_by) == ("bank-a", "open", regulator.address)
    assert app.view(sdk.resolve_count()) == 1

    salt, data = app.secrets["alice"]
    answer = sdk.resolve_answer_sealed(request_id, request.regulator_key, salt, data)
    app.refused(app.admin("bank-b"), answer, "not_wallet_bank")
    app.refused(addr(app, "shop"), answer, "not_wallet_bank")  # a wallet of the bank is not its admin
    app.refused(regulator.address, answer, "not_wallet_bank")
    out = app.ok(app.admin("bank-a"), answer)
    assert out.event_names() == ["ResolveAnswered"]
    app.refused(app.admin("bank-a"), answer, "already_answered")

    request = sdk.resolve_from_view(app.view(sdk.resolve_get(request_id)))
    assert request.status == "answered" and request.answered_by == app.admin("bank-a")
    assert salt not in request.ciphertext and data not in request.ciphertext
    opened_salt, opened_data = open_identity(resolve_keypair(regulator), request.ciphertext)
    assert (opened_salt, opened_data) == (salt, data)
    wallet = identity(app.h.get, alice)
    assert wallet is not None
    assert matches_commitment(wallet.pii_hash, opened_salt, opened_data, SUITE)
    assert not matches_commitment(wallet.pii_hash, opened_salt, opened_data + b"x", SUITE)
    with pytest.raises(CannotDecrypt) as info:
        open_identity(resolve_keypair(app.net.admins["bank-b"]), request.ciphertext)
    assert info.value.code == "cannot_decrypt"


def test_only_regulator_staff_request_and_only_wallets_are_resolved(app: App) -> None:
    regulator = app.net.admins["reg"]
    key = bytes(resolve_keypair(regulator).public_key)
    alice = addr(app, "alice")
    for sender in (app.admin("cb"), app.admin("bank-a"), alice):
        app.refused(sender, sdk.resolve_request(alice, "curious", key), "not_regulator")
    member, out = app.net.enroll("reg", "reg-clerk", role="member")
    assert out.ok
    app.refused(member.address, sdk.resolve_request(alice, "curious", key), "not_regulator")
    auditor, out = app.net.enroll("reg", "reg-auditor", role="auditor")
    assert out.ok
    app.refused(auditor.address, sdk.resolve_request(app.admin("bank-a"), "why", key), "not_a_wallet")
    app.refused(auditor.address, sdk.AppCall("resolve", "request", [alice, "", key]), "bad_reason")
    app.refused(auditor.address, sdk.resolve_request(alice, "why", key[:31]), "bad_regulator_key")
    request_id = sdk.created_id(app.ok(auditor.address, sdk.resolve_request(alice, "why", key)).events,
                                sdk.RESOLVE)
    app.refused(app.admin("bank-a"), sdk.resolve_answer(request_id, b"\x00" * 48), "bad_answer")
    app.refused(app.admin("bank-a"), sdk.AppCall("resolve", "answer", [request_id, b"\x00" * 4097]),
                "answer_too_large")
    app.refused(app.admin("bank-a"), sdk.resolve_answer(request_id + 1, b"\x00" * 64), "resolve_not_found")


def test_the_sdk_builds_calls_and_rejects_bad_shapes() -> None:
    payee = bytes(range(20))
    call = sdk.payment_create(payee, 25, 10, 4, 2)
    assert call == sdk.AppCall("payments", "create", [payee, 25, 10, 4, 2], 100)
    assert sdk.encode_args(call) == encode([payee, 25, 10, 4, 2])
    with pytest.raises(ValueError, match="1 to 100"):
        sdk.payment_create(payee, 1, 10, 101, 1)
    with pytest.raises(ValueError, match="1 to 32"):
        sdk.earmark_create(payee, [payee] * 33, 10, 1)
    with pytest.raises(DecodeError, match="no payer"):
        sdk.escrow_from_view({"id": 1})


def _contract_constants(name: str) -> dict[str, Any]:
    tree = ast.parse(source(name))
    return {
        target.id: ast.literal_eval(node.value)
        for node in tree.body if isinstance(node, ast.Assign)
        for target in node.targets if isinstance(target, ast.Name)
    }


def _refusal_codes(name: str) -> set[str]:
    """The literal codes of every ``require(cond, message, code)`` / ``fail(message, code)``."""
    arity = {"require": 3, "fail": 2}
    codes = set()
    for node in ast.walk(ast.parse(source(name))):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
            continue
        if len(node.args) == arity.get(node.func.id) and isinstance(node.args[-1], ast.Constant):
            codes.add(node.args[-1].value)
    return codes


def test_the_sdk_agrees_with_the_contract_sources() -> None:
    assert _contract_constants("earmark")["MAX_PAYEES"] == sdk.MAX_PAYEES
    assert _contract_constants("payments")["MAX_INSTALMENTS"] == sdk.MAX_INSTALMENTS
    assert _contract_constants("resolve")["MAX_REASON"] == sdk.MAX_REASON
    assert _contract_constants("resolve")["MAX_ANSWER"] == sdk.MAX_ANSWER
    assert _contract_constants("resolve")["SEALED_OVERHEAD"] == SEAL_OVERHEAD
    for name in ("escrow", "earmark", "payments"):  # the runtime's bound on scheduling ahead
        assert _contract_constants(name)["MAX_AHEAD"] == MAX_SCHEDULE_AHEAD
    for name in CONTRACTS:
        assert _refusal_codes(name) == set(sdk.ERROR_CODES[name]), name


def test_the_largest_payment_schedule_and_payee_list_fit_the_step_budget(app: App) -> None:
    payer, payee = addr(app, "alice"), addr(app, "bob")
    out = app.ok(payer, sdk.payment_create(payee, 1, app.h.height + 1, sdk.MAX_INSTALMENTS, 1))
    payment_id = sdk.created_id(out.events, sdk.PAYMENTS)
    app.h.next_block(sdk.MAX_INSTALMENTS + 1)
    assert sdk.payment_from_view(app.view(sdk.payment_get(payment_id))).status == "completed"
    payees = [seeded_key(f"payee-{i}").address for i in range(sdk.MAX_PAYEES)]
    app.ok(payer, sdk.earmark_create(payee, payees, app.h.height + 5, 10))

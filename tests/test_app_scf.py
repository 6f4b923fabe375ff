"""apps/scf (issue 11): confirmed payables, the invoice registry and shared credit records as
Python contracts on a permissioned chain — each operation, each refusal (typed, with its figures,
changing nothing), the money moved and the regulator alerts raised."""

from __future__ import annotations

import ast

import pytest

from consortia.apps.scf import sdk
from consortia.apps.scf.contracts import CONTRACTS, source
from consortia.client.arguments import InvalidArgument
from consortia.contracts.permissioned.params import code_approval
from consortia.contracts.python.registry import CONSORTIUM, contract_info
from consortia.contracts.python.source_hash import code_hash_of
from scf_world import World, make_world

DAY = sdk.DAY_MS
M = 1_000_000


@pytest.fixture
def w() -> World:
    return make_world()


def payable(
    w: World, amount: int = M, *, limit: int = 5 * M, term: int = 30 * DAY, number: str = "INV-1"
) -> int:
    w.ok("bank-a", sdk.set_line(w["core"], limit))
    digest = w.invoice("tier1", "core", number, amount)
    return sdk.payable_id_of(w.ok("core", sdk.confirm(w["tier1"], amount, w.now + term, [digest])).events)


def constants(name: str) -> dict[str, object]:
    out: dict[str, object] = {}
    for node in ast.parse(source(name)).body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            try:
                out[node.targets[0].id] = eval(
                    compile(ast.Expression(node.value), name, "eval"), {"__builtins__": {}}, dict(out)
                )
            except (NameError, TypeError):
                continue
    return out


def codes_used(name: str) -> set[str]:
    used: set[str] = set()
    for node in ast.walk(ast.parse(source(name))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "require":
            code = node.args[-1]
            assert isinstance(code, ast.Constant), ast.unparse(node)[:80]
            used.add(code.value)
    return used


def test_deployed_at_genesis_and_the_sdk_agrees_with_the_sources(w: World) -> None:
    for name in CONTRACTS:
        info = contract_info(w.h.get, name)
        assert info is not None and info.owner == CONSORTIUM and info.version == 1
        approval = code_approval(w.h.get, name)
        assert approval is not None and approval.code_hash == info.code_hash == code_hash_of(source(name))
        assert constants(name)["ERRORS"] == sdk.ERROR_CODES[name]
        assert codes_used(name) == set(sdk.ERROR_CODES[name])
    scf = constants("scf")
    for key in (
        "MIN_TERM_MS",
        "MAX_TERM_MS",
        "GRACE_MS",
        "DAY_BASIS",
        "BPS",
        "MAX_RATE_BPS",
        "MAX_INVOICES",
        "MAX_PARTS",
        "HASH_BYTES",
        "MAX_LIST",
        "DATE_OFFSET_MS",
    ):
        assert scf[key] == getattr(sdk, key), key
    assert constants("credit")["SCOPES"] == sdk.SCOPES
    assert constants("credit")["MAX_LOANS_QUERIED"] == sdk.MAX_LOANS_QUERIED


def test_the_invoice_hash_is_normalised_and_hides_the_fields(w: World) -> None:
    a = sdk.invoice_hash(w["tier1"], w["core"], "inv 2023/001", 500, "2023-11-1")
    assert a == sdk.invoice_hash(w["tier1"], w["core"], "INV-2023-001", 500, "20231101")
    assert a != sdk.invoice_hash(w["tier1"], w["core"], "INV-2023-001", 501, "2023-11-01")
    assert a != sdk.invoice_hash(w["tier2"], w["core"], "INV-2023-001", 500, "2023-11-01")
    assert b"2023" not in a and len(a) == 32
    for bad in ("", "---"):
        with pytest.raises(InvalidArgument):
            sdk.invoice_hash(w["tier1"], w["core"], bad, 500, "2023-11-01")
    with pytest.raises(InvalidArgument):
        sdk.invoice_hash(w["tier1"], w["core"], "X", 500, "1 Nov 2023")


def test_a_payable_travels_down_three_tiers_is_financed_and_paid_at_maturity(w: World) -> None:
    total = w.total()
    pid = payable(w)
    assert w.view(sdk.line(w["core"]))["used"] == M and w.view(sdk.line(w["core"]))["available"] == 4 * M
    p2 = sdk.moved_part(w.ok("tier1", sdk.transfer(pid, w["tier2"], 600_000)).events)
    p3 = sdk.moved_part(w.ok("tier2", sdk.transfer(p2, w["tier3"], 250_000)).events)
    w.refused("tier1", sdk.transfer(p2, w["tier4"], 1), "not_holder")
    w.refused("tier2", sdk.transfer(p2, w["tier4"], 350_001), "bad_amount")
    # tier 2 finances 200,000 of its 350,000 at bank A without recourse,
    # tier 3 its part at bank B with recourse
    offer = sdk.offered_part(w.ok("tier2", sdk.finance(p2, w["bank-a"], 200_000, 500, False)).events)
    days, interest, price = sdk.finance_terms(200_000, 500, w.now, w.view(sdk.payable(pid))["maturity"])
    assert (offer["days"], offer["interest"], offer["price"]) == (days, interest, price) and days == 30
    assert interest == (200_000 * 500 * 30 + 1_800_000) // 3_600_000
    w.refused("tier2", sdk.transfer(offer["part"], w["tier4"], 1), "finance_offered")
    w.refused("bank-a", sdk.finance_accept(offer["part"], price - 1), "wrong_value")
    w.refused("bank-b", sdk.finance_accept(offer["part"], price), "no_finance_offer")
    before = w.balance("tier2"), w.balance("bank-a")
    w.ok("bank-a", sdk.finance_accept(offer["part"], price + 7))  # the excess comes back
    assert (w.balance("tier2"), w.balance("bank-a")) == (before[0] + price, before[1] - price)
    offer3 = sdk.offered_part(w.ok("tier3", sdk.finance(p3, w["bank-b"], 250_000, 800, True)).events)
    w.ok("bank-b", sdk.finance_accept(offer3["part"], offer3["price"]))
    w.refused("bank-b", sdk.transfer(offer3["part"], w["tier4"], 1), "financed")
    parts = w.view(sdk.parts_of(pid))
    assert sum(p["amount"] for p in parts) == M
    holders = {p["id"]: (p["holder"], p["amount"]) for p in parts}
    assert holders[offer["part"]] == (w["bank-a"], 200_000) and holders[offer3["part"]] == (
        w["bank-b"],
        250_000,
    )
    assert w.view(sdk.invoice(w.view(sdk.payable(pid))["invoices"][0]))["locked"] == 450_000
    # maturity: the core pays every holder of every part at once
    w.refused("core", sdk.settle(pid, M), "not_due")
    w.at(w.view(sdk.payable(pid))["maturity"])
    w.refused("tier1", sdk.settle(pid, M), "not_core")
    w.refused("core", sdk.settle(pid, M - 1), "wrong_value")
    balances = {who: w.balance(who) for who in w.parties}
    out = w.ok("core", sdk.settle(pid, M))
    paid = sdk.paid_parts(out.events)
    assert sorted((p["part"], p["holder"], p["amount"]) for p in paid) == sorted(
        (k, v[0], v[1]) for k, v in holders.items()
    )
    for who in ("tier1", "tier2", "bank-a", "bank-b"):
        got = sum(p["amount"] for p in paid if p["holder"] == w[who])
        assert w.balance(who) == balances[who] + got
    assert w.balance("core") == balances["core"] - M
    assert w.view(sdk.line(w["core"]))["used"] == 0
    w.refused("core", sdk.settle(pid, M), "payable_closed")
    w.refused("tier1", sdk.transfer(pid, w["tier4"], 1), "payable_closed")
    assert w.total() == total


def test_the_credit_line_bounds_what_the_core_confirms(w: World) -> None:
    w.refused("core", sdk.confirm(w["tier1"], M, w.now + DAY, [bytes(32)]), "no_credit_line")
    w.refused("tier1", sdk.set_line(w["core"], M), "not_a_bank")
    w.ok("bank-a", sdk.set_line(w["core"], M))
    first = w.invoice("tier1", "core", "A", 800_000)
    second = w.invoice("tier1", "core", "B", 300_000)
    w.ok("core", sdk.confirm(w["tier1"], 800_000, w.now + DAY, [first]))
    out = w.refused("core", sdk.confirm(w["tier1"], 300_000, w.now + DAY, [second]), "over_credit_line")
    assert "1000000" in out.message and "800000 drawn, 200000 available; 300000 asked" in out.message
    w.refused("bank-a", sdk.set_line(w["core"], 799_999), "bad_limit")
    w.refused("bank-b", sdk.set_line(w["core"], 5 * M), "line_of_other_bank")
    w.ok("bank-a", sdk.set_line(w["core"], 2 * M))
    w.ok("core", sdk.confirm(w["tier1"], 300_000, w.now + DAY, [second]))
    line = w.view(sdk.line(w["core"]))
    assert (line["used"], line["available"], line["limit"]) == (1_100_000, 900_000, 2 * M)


def test_the_invoice_registry_refuses_double_financing_and_disputed_invoices(w: World) -> None:
    pid = payable(w, M)
    digest = w.view(sdk.payable(pid))["invoices"][0]
    w.refused("tier1", sdk.register_invoice(digest, w["core"], M), "invoice_exists")
    # a second payable on the same invoice (the regulator is alerted: payables exceed the invoice)
    second = sdk.payable_id_of(w.ok("core", sdk.confirm(w["tier1"], M, w.now + 30 * DAY, [digest])).events)
    rules = [a.rule for a in w.alerts()]
    assert rules.count("scf.invoice_payable_mismatch") == 1
    offer = sdk.offered_part(w.ok("tier1", sdk.finance(pid, w["bank-a"], 700_000, 400, False)).events)
    w.ok("bank-a", sdk.finance_accept(offer["part"], offer["price"]))
    # financing the same invoice again, at the other bank, beyond what is left: refused with the figures
    out = w.refused(
        "tier1", sdk.finance(second, w["bank-b"], 300_001, 400, False), "invoice_already_financed"
    )
    assert (
        "300000 not yet financed, 300001 asked" in out.message
        and "1000000 invoiced, 700000 financed" in out.message
    )
    rest = sdk.offered_part(w.ok("tier1", sdk.finance(second, w["bank-b"], 300_000, 400, False)).events)
    other = sdk.offered_part(w.ok("tier1", sdk.finance(pid, w["bank-b"], 300_000, 400, False)).events)
    w.ok("bank-b", sdk.finance_accept(rest["part"], rest["price"]))
    w.refused("bank-b", sdk.finance_accept(other["part"], other["price"]), "invoice_already_financed")
    assert w.view(sdk.invoice(digest))["locked"] == M
    # a disputed invoice is never confirmed into a payable (so never financed)
    disputed = w.invoice("tier1", "core", "D", 1000)
    w.refused("tier1", sdk.dispute_invoice(disputed), "not_buyer")
    w.ok("core", sdk.dispute_invoice(disputed))
    w.refused("core", sdk.dispute_invoice(disputed), "invoice_disputed")
    w.refused("core", sdk.confirm(w["tier1"], 1000, w.now + DAY, [disputed]), "invoice_disputed")
    w.refused("core", sdk.dispute_invoice(digest), "invoice_confirmed")
    w.ok("core", sdk.confirm_invoice(disputed))  # the dispute settled
    w.ok("core", sdk.confirm(w["tier1"], 1000, w.now + DAY, [disputed]))
    foreign = w.invoice("tier2", "core", "F", 1000)
    w.refused("core", sdk.confirm(w["tier1"], 1000, w.now + DAY, [foreign]), "invoice_mismatch")
    w.refused("core", sdk.confirm(w["tier1"], 1000, w.now + DAY, [bytes(32)]), "invoice_not_found")
    w.refused("core", sdk.confirm(w["tier1"], 1000, w.now + DAY, [b"x"]), "bad_hash")


def test_overdue_parts_default_and_recourse_claims_fall_on_the_seller(w: World) -> None:
    total = w.total()
    pid = payable(w, M, term=10 * DAY)
    p2 = sdk.moved_part(w.ok("tier1", sdk.transfer(pid, w["tier2"], 400_000)).events)
    with_recourse = sdk.offered_part(w.ok("tier2", sdk.finance(p2, w["bank-a"], 400_000, 600, True)).events)
    w.ok("bank-a", sdk.finance_accept(with_recourse["part"], with_recourse["price"]))
    without = sdk.offered_part(w.ok("tier1", sdk.finance(pid, w["bank-b"], 100_000, 600, False)).events)
    w.ok("bank-b", sdk.finance_accept(without["part"], without["price"]))
    maturity = w.view(sdk.payable(pid))["maturity"]
    w.at(maturity)
    w.refused("tier1", sdk.default(pid), "not_overdue")
    w.at(maturity + sdk.GRACE_MS)
    out = w.ok("tier4", sdk.default(pid))
    assert out.event_names().count("PartOverdue") == 3 and out.event_names().count("RecourseClaimed") == 1
    w.refused("tier4", sdk.default(pid), "payable_closed")
    w.refused("tier1", sdk.claim_pay(p2, 400_000), "not_seller")
    w.refused("tier2", sdk.claim_pay(p2, 399_999), "wrong_value")
    w.refused("tier2", sdk.claim_pay(without["part"], 100_000), "no_claim")
    bank = w.balance("bank-a")
    w.ok("tier2", sdk.claim_pay(p2, 400_000))
    assert w.balance("bank-a") == bank + 400_000 and w.view(sdk.part(p2))["holder"] == w["tier2"]
    # late payment goes to the holders of record: tier2 (after its repurchase), bank-b, tier1
    out = w.ok("core", sdk.settle(pid, M))
    assert {(p["holder"], p["amount"]) for p in sdk.paid_parts(out.events)} == {
        (w["tier2"], 400_000),
        (w["bank-b"], 100_000),
        (w["tier1"], 500_000),
    }
    assert w.total() == total and w.view(sdk.line(w["core"]))["used"] == 0


def test_credit_records_need_the_borrowers_consent_and_every_query_is_logged(w: World) -> None:
    commit = sdk.loan_commitment(b"s" * 16, b"terms")
    loan = sdk.loan_id_of(
        w.ok("bank-a", sdk.record_loan(w["tier1"], commit, 300_000, w.now, w.now + 5 * DAY)).events
    )
    w.ok("bank-a", sdk.record_loan(w["tier1"], commit, 200_000, w.now, w.now + 60 * DAY))
    w.refused("tier2", sdk.record_loan(w["tier1"], commit, 1, w.now, w.now + DAY), "not_a_lender")
    w.refused("bank-a", sdk.record_loan(w["tier1"], commit, 1, w.now, w.now), "bad_dates")
    out = w.refused("bank-b", sdk.query(w["tier1"]), "no_consent")
    assert "no consent" in out.message
    w.refused("tier1", sdk.consent(w["bank-b"], "everything", w.now + DAY), "bad_scope")
    w.refused("tier1", sdk.consent(w["tier2"], "summary", w.now + DAY), "not_a_lender")
    w.ok("tier1", sdk.consent(w["bank-b"], "loans", w.now + 30 * DAY))
    answer = sdk.query_answer(w.ok("bank-b", sdk.query(w["tier1"])).events)
    assert (answer["outstanding"], answer["overdue"], answer["lenders"]) == (500_000, 0, [w["bank-a"]])
    assert [item["lender"] for item in answer["items"]] == [w["bank-a"], w["bank-a"]]
    # a loan past its due time is overdue; a new loan to that borrower alerts the regulator
    w.at(w.now + 6 * DAY)
    answer = sdk.query_answer(w.ok("bank-b", sdk.query(w["tier1"])).events)
    assert (answer["overdue"], answer["overdue_loans"]) == (300_000, 1)
    w.ok("bank-b", sdk.record_loan(w["tier1"], commit, 50_000, w.now, w.now + DAY))
    assert [a.rule for a in w.alerts()] == ["credit.overdue_borrower_new_loan"]
    w.refused("bank-b", sdk.repay(loan), "not_lender")
    w.ok("bank-a", sdk.repay(loan))
    w.refused("bank-a", sdk.repay(loan), "loan_closed")
    w.ok("tier1", sdk.revoke(w["bank-b"]))
    assert "revoked" in w.refused("bank-b", sdk.query(w["tier1"]), "no_consent").message
    w.refused("tier1", sdk.revoke(w["bank-b"]), "no_consent")
    # the regulator queries without consent; the summary scope shows totals only
    reg = sdk.query_answer(w.ok("reg", sdk.query(w["tier1"])).events)
    assert reg["scope"] == "regulator" and reg["outstanding"] == 250_000 and len(reg["items"]) == 3
    w.ok("tier1", sdk.consent(w["bank-a"], "summary", w.now + DAY))
    assert "items" not in sdk.query_answer(w.ok("bank-a", sdk.query(w["tier1"])).events)
    log = w.view(sdk.query_log(w["tier1"]))
    assert [(e["by"], e["scope"]) for e in log] == [
        (w["bank-b"], "loans"),
        (w["bank-b"], "loans"),
        (w["reg"], "regulator"),
        (w["bank-a"], "summary"),
    ]
    w.at(w.now + 2 * DAY)
    assert "ran until" in w.refused("bank-a", sdk.query(w["tier1"]), "no_consent").message

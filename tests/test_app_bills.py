"""apps/bills (issue 10): cheques and bills of exchange as a Python contract on a permissioned
chain — each operation, each refusal (typed, with its figures, changing nothing), the money it
moves, the history it keeps and the regulator alerts it raises."""

from __future__ import annotations

import ast
import contextlib
import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bills_world import CONTRACT, World, make_world
from consortia.apps.bills import sdk
from consortia.apps.bills.contracts import CONTRACTS, source
from consortia.codec import encode
from consortia.contracts.permissioned.params import code_approval
from consortia.contracts.permissioned.regulator import encode_address_args
from consortia.contracts.python.host import PythonContractHost
from consortia.contracts.python.registry import CONSORTIUM, contract_info
from consortia.contracts.python.source_hash import code_hash_of
from consortia.contracts.python.testing import LocalChain
from consortia.errors import ConsortiaError

DAY = sdk.DAY_MS
FACE = 1_000_000


@pytest.fixture
def w() -> World:
    return make_world()


def ms_of(year: int, month: int, day: int, hour: int = 12) -> int:
    """A timestamp at ``hour`` o'clock Beijing time on that date."""
    tz = dt.timezone(dt.timedelta(hours=8))
    return int(dt.datetime(year, month, day, hour, tzinfo=tz).timestamp() * 1000)


def issue_bill(w: World, *, drawer: str = "acme", payee: str = "beta", drawee: str = "bank-a",
               acceptance: str = sdk.BANK, amount: int = FACE, term: int = 30 * DAY,
               not_transferable: bool = False, accept: bool = True) -> int:  # fmt: skip
    call = sdk.issue(sdk.BILL, acceptance, w[payee], w[drawee], amount, maturity_ms=w.now + term,
                     not_transferable=not_transferable)
    bill_id = sdk.issued_id(w.ok(drawer, call).events)
    if accept:
        w.ok(drawee, sdk.accept(bill_id))
    return bill_id


def issue_cheque(w: World, *, drawer: str = "acme", payee: str = "beta", drawee: str = "bank-a",
                 amount: int = 50_000) -> int:  # fmt: skip
    return sdk.issued_id(w.ok(drawer, sdk.issue(sdk.CHEQUE, "", w[payee], w[drawee], amount)).events)


def actions(w: World, bill_id: int) -> list[str]:
    return [step["action"] for step in w.history(bill_id)]


# --- deployment and the SDK's agreement with the source ------------------------------------------


def test_the_contract_is_deployed_at_genesis_owned_by_the_consortium(w: World) -> None:
    for name in CONTRACTS:
        info = contract_info(w.h.get, name)
        assert info is not None and info.owner == CONSORTIUM and info.version == 1 and info.height == 0
        assert info.code_hash == code_hash_of(source(name))
        approval = code_approval(w.h.get, name)
        assert approval is not None and approval.code_hash == info.code_hash
    out = w.h.call(w["bank-a"], "contracts", "deploy", encode(["bills", source("bills"), []]))
    assert out.code == "contract_exists"


def _constants() -> dict[str, object]:
    tree = ast.parse(source("bills"))
    out: dict[str, object] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            with contextlib.suppress(NameError, TypeError):  # constants of constants: evaluated
                expression = compile(ast.Expression(node.value), "bills", "eval")
                out[node.targets[0].id] = eval(expression, {"__builtins__": {}}, dict(out))
    return out


def test_the_sdk_agrees_with_the_contract_source() -> None:
    consts = _constants()
    assert consts["ERRORS"] == sdk.ERROR_CODES
    assert consts["REASONS"] == sdk.REASONS
    for name in ("MAX_PARTS", "MAX_RATE_BPS", "MEMO_BYTES", "MAX_LIST", "DAY_BASIS", "BPS", "MAX_TERM_MONTHS",
                 "CHEQUE_PERIOD_MS", "PRESENT_WINDOW_MS", "MIN_TERM_MS", "CIRCULAR_WINDOW_MS",
                 "DATE_OFFSET_MS"):
        assert consts[name] == getattr(sdk, name), name
    used: set[str] = set()
    for node in ast.walk(ast.parse(source("bills"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "require":
            code = node.args[-1]
            assert isinstance(code, ast.Constant), ast.unparse(node)[:80]
            used.add(code.value)
    assert used == set(sdk.ERROR_CODES)


# --- the bank acceptance lifecycle -------------------------------------------------------------


def test_a_bank_acceptance_from_issue_to_payment(w: World) -> None:
    total = w.total()
    maturity = ms_of(2023, 12, 15)
    w.at(ms_of(2023, 11, 15, 9))
    out = w.ok("acme", sdk.issue(sdk.BILL, sdk.BANK, w["beta"], w["bank-a"], FACE, maturity_ms=maturity))
    bill_id = sdk.issued_id(out.events)
    assert sdk.event_fields(out.events[0])["maturity"] == maturity
    w.refused("beta", sdk.endorse(bill_id, w["gamma"]), "not_accepted")
    w.ok("bank-a", sdk.accept(bill_id))
    w.ok("beta", sdk.endorse(bill_id, w["gamma"]))
    w.ok("gamma", sdk.endorse(bill_id, w["delta"]))
    parts = sdk.split_ids(w.ok("delta", sdk.split(bill_id, [600_000, 400_000])).events)
    assert w.bill(bill_id)["status"] == "split" and w.bill(bill_id)["parts"] == parts
    first, second = (w.bill(p) for p in parts)
    assert (first["amount"], second["amount"]) == (600_000, 400_000)
    assert first["holder"] == second["holder"] == w["delta"] and first["chain"] == [w["beta"], w["gamma"]]
    # each part keeps the whole history
    assert actions(w, parts[0]) == ["issue", "accept", "endorse", "endorse", "split", "split_from"]

    # part 1 is discounted at bank-b: 30 days, 3.6 % a year, ACT/360
    w.at(ms_of(2023, 11, 15, 10))
    quote = w.view(sdk.quote(parts[0], 360, 0))
    assert quote == {"days": 30, "interest": 1_800, "price": 598_200}  # 600,000 x 0.036 x 30 / 360
    w.ok("delta", sdk.discount(parts[0], w["bank-b"], 360))
    seller, bank = w.balance("delta"), w.balance("bank-b")
    w.refused("bank-b", sdk.discount_accept(parts[0], 598_199), "wrong_value")
    out = w.ok("bank-b", sdk.discount_accept(parts[0], 600_000))  # the excess comes back
    assert sdk.event_fields(out.events[-1])["price"] == 598_200
    assert w.balance("delta") == seller + 598_200 and w.balance("bank-b") == bank - 598_200
    assert w.bill(parts[0])["holder"] == w["bank-b"]

    # part 2 is pledged to bank-b and released
    w.ok("delta", sdk.pledge(parts[1], w["bank-b"]))
    w.refused("delta", sdk.endorse(parts[1], w["acme"]), "pledged")
    w.ok("bank-b", sdk.release(parts[1]))

    # at maturity both are presented and paid by bank-a: from acme's cover first, then its own funds
    w.ok("acme", sdk.deposit(w["bank-a"], 700_000))
    w.at(maturity - 1)
    out = w.refused("bank-b", sdk.present(parts[0]), "not_due")
    assert f"matures at {maturity}" in out.message
    w.at(maturity)
    w.ok("bank-b", sdk.present(parts[0]))
    w.ok("delta", sdk.present(parts[1]))
    w.refused("bank-a", sdk.pay(parts[0], 1), "wrong_value")
    out = w.ok("bank-a", sdk.pay(parts[0]))  # 600,000 of the 700,000 cover
    assert sdk.event_fields(out.events[-1])["from_cover"] == 600_000
    out = w.ok("bank-a", sdk.pay(parts[1], 300_000))  # 100,000 cover left: the bank advances 300,000
    assert sdk.event_fields(out.events[-1])["advanced"] == 300_000
    w.refused("bank-a", sdk.pay(parts[1]), "already_paid")
    w.refused("delta", sdk.present(parts[1]), "already_paid")
    assert w.view(sdk.cover(w["acme"], w["bank-a"])) == 0 and w.balance(CONTRACT) == 0
    assert w.total() == total
    history = w.history(parts[1])
    assert [s["action"] for s in history][5:] == ["split_from", "pledge", "release", "present", "pay"]
    assert all(len(s["tx"]) == 32 for s in history) and history[-1]["status"] == "paid"


def test_discount_refusals_and_offers(w: World) -> None:
    bill_id = issue_bill(w)
    w.refused("beta", sdk.discount(bill_id, w["gamma"], 300), "not_a_bank")
    w.refused("beta", sdk.discount(bill_id, w["bank-b"], 0), "bad_rate")
    w.refused("beta", sdk.discount(bill_id, w["bank-b"], 10_001), "bad_rate")
    w.refused("gamma", sdk.discount(bill_id, w["bank-b"], 300), "not_holder")
    w.refused("bank-b", sdk.discount_accept(bill_id, FACE), "no_discount_offer")
    w.ok("beta", sdk.discount(bill_id, w["bank-b"], 300))
    for call in (sdk.endorse(bill_id, w["gamma"]), sdk.pledge(bill_id, w["gamma"]),
                 sdk.split(bill_id, [1, FACE - 1]), sdk.discount(bill_id, w["bank-a"], 300)):
        w.refused("beta", call, "discount_offered")
    w.refused("bank-a", sdk.discount_accept(bill_id, FACE), "no_discount_offer")
    w.refused("bank-a", sdk.discount_cancel(bill_id), "not_holder")
    w.ok("bank-b", sdk.discount_cancel(bill_id))  # the bank declines
    w.ok("beta", sdk.endorse(bill_id, w["gamma"]))
    w.ok("gamma", sdk.discount(bill_id, w["bank-a"], 300))
    w.at(w.bill(bill_id)["maturity"])
    w.refused("bank-a", sdk.discount_accept(bill_id, FACE), "matured")


def test_a_not_transferable_bill_is_split_and_presented_but_never_moves(w: World) -> None:
    bill_id = issue_bill(w, not_transferable=True)
    for call in (sdk.endorse(bill_id, w["gamma"]), sdk.discount(bill_id, w["bank-b"], 300),
                 sdk.pledge(bill_id, w["bank-b"])):
        out = w.refused("beta", call, "not_transferable")
        assert "not transferable" in out.message
    parts = sdk.split_ids(w.ok("beta", sdk.split(bill_id, [500_000, 500_000])).events)
    w.refused("beta", sdk.endorse(parts[0], w["gamma"]), "not_transferable")
    w.at(w.bill(parts[0])["maturity"])
    w.ok("beta", sdk.present(parts[0]))
    w.ok("bank-a", sdk.pay(parts[0], 500_000))
    assert w.bill(parts[0])["status"] == "paid"


def test_split_refusals(w: World) -> None:
    bill_id = issue_bill(w)
    out = w.refused("beta", sdk.split(bill_id, [1, 2]), "bad_parts")
    assert "parts sum to 3" in out.message and str(FACE) in out.message
    w.refused("beta", sdk.split(bill_id, [FACE]), "bad_parts")
    w.refused("beta", sdk.split(bill_id, [FACE + 1, -1]), "bad_parts")
    w.refused("beta", sdk.split(bill_id, [1] * 17), "bad_parts")
    w.refused("gamma", sdk.split(bill_id, [1, FACE - 1]), "not_holder")
    cheque = issue_cheque(w)
    w.refused("beta", sdk.split(cheque, [1, 49_999]), "not_a_bill")
    parts = sdk.split_ids(w.ok("beta", sdk.split(bill_id, [300_000, 700_000])).events)
    w.refused("beta", sdk.endorse(bill_id, w["gamma"]), "bill_closed")
    inner = sdk.split_ids(w.ok("beta", sdk.split(parts[1], [200_000, 500_000])).events)
    assert actions(w, inner[0]) == ["issue", "accept", "split", "split_from", "split", "split_from"]
    assert sum(w.bill(i)["amount"] for i in [parts[0], *inner]) == FACE


# --- pledge ---------------------------------------------------------------------------------------


def test_a_pledged_bill_moves_only_by_release_or_enforcement(w: World) -> None:
    bill_id = issue_bill(w)
    until = w.now + 5 * DAY
    w.refused("beta", sdk.pledge(bill_id, w["beta"], until), "bad_party")
    w.refused("beta", sdk.pledge(bill_id, w["bank-b"], w.now), "bad_maturity")
    w.refused("beta", sdk.pledge(bill_id, w["bank-b"], w.now + 31 * DAY), "bad_maturity")
    w.ok("beta", sdk.pledge(bill_id, w["bank-b"], until))
    for call in (sdk.endorse(bill_id, w["gamma"]), sdk.discount(bill_id, w["bank-b"], 100),
                 sdk.split(bill_id, [1, FACE - 1]), sdk.pledge(bill_id, w["gamma"], 0)):
        out = w.refused("beta", call, "pledged")
        assert f"until {until}" in out.message
    w.refused("beta", sdk.release(bill_id), "not_pledgee")
    w.refused("gamma", sdk.enforce(bill_id), "not_pledgee")
    out = w.refused("bank-b", sdk.enforce(bill_id), "pledge_not_due")
    assert f"runs until {until}" in out.message
    w.at(until)
    w.ok("bank-b", sdk.enforce(bill_id))
    bill = w.bill(bill_id)
    assert bill["holder"] == w["bank-b"] and bill["pledge"] == {} and bill["chain"] == [w["beta"]]
    w.refused("bank-b", sdk.release(bill_id), "not_pledged")
    w.at(bill["maturity"])
    w.ok("bank-b", sdk.present(bill_id))
    w.ok("bank-a", sdk.pay(bill_id, FACE))
    assert actions(w, bill_id)[-4:] == ["pledge", "enforce", "present", "pay"]


# --- cheques ------------------------------------------------------------------------------------


def test_a_cheque_is_paid_from_the_drawers_cover(w: World) -> None:
    total = w.total()
    cheque = issue_cheque(w, amount=50_000)
    w.ok("beta", sdk.endorse(cheque, w["gamma"]))
    w.ok("gamma", sdk.present(cheque))
    out = w.refused("bank-a", sdk.pay(cheque), "wrong_value")
    assert "cover with" in out.message and "is 0, so attach exactly 50000" in out.message
    w.refused("bank-a", sdk.dishonour(cheque, "unknown"), "bad_reason")
    w.ok("acme", sdk.deposit(w["bank-a"], 80_000))
    out = w.refused("bank-a", sdk.dishonour(cheque, "insufficient_cover"), "bad_reason")
    assert "enough for 50000" in out.message
    w.refused("bank-b", sdk.pay(cheque), "not_drawee")
    w.ok("bank-a", sdk.pay(cheque))
    assert w.balance("gamma") == 1_050_000 and w.view(sdk.cover(w["acme"], w["bank-a"])) == 30_000
    w.refused("acme", sdk.withdraw(w["bank-a"], 30_001), "insufficient_cover")
    w.ok("acme", sdk.withdraw(w["bank-a"], 30_000))
    assert w.total() == total and w.balance(CONTRACT) == 0


def test_a_stopped_cheque_is_refused_at_presentment_and_recovered_from_the_drawer(w: World) -> None:
    total = w.total()
    cheque = issue_cheque(w, amount=70_000)
    w.refused("beta", sdk.stop(cheque), "not_drawer")
    w.ok("acme", sdk.stop(cheque))
    w.refused("acme", sdk.stop(cheque), "stopped")
    out = w.refused("beta", sdk.present(cheque), "stopped")
    assert "stopped payment" in out.message
    w.refused("beta", sdk.endorse(cheque, w["gamma"]), "stopped")
    w.refused("bank-a", sdk.dishonour(cheque, "refused"), "not_presented")
    w.ok("bank-a", sdk.dishonour(cheque, "stopped"))
    assert w.view(sdk.open_dishonours(w["acme"])) == 1
    assert w.view(sdk.liable(cheque)) == [w["acme"]]  # a cheque's drawee never accepted it
    w.refused("beta", sdk.recourse(cheque, w["bank-a"]), "not_liable")
    w.ok("beta", sdk.recourse(cheque, w["acme"]))
    w.refused("acme", sdk.recourse_pay(cheque, 69_999), "wrong_value")
    w.refused("gamma", sdk.recourse_pay(cheque, 70_000), "not_liable")
    w.ok("acme", sdk.recourse_pay(cheque, 70_000))
    bill = w.bill(cheque)
    assert bill["status"] == "settled" and bill["holder"] == w["acme"]
    assert w.view(sdk.open_dishonours(w["acme"])) == 0
    assert w.balance("beta") == 1_070_000 and w.total() == total
    w.refused("acme", sdk.recourse_pay(cheque, 70_000), "no_claim")


def test_a_stop_after_presentment_refuses_payment(w: World) -> None:
    cheque = issue_cheque(w)
    w.ok("acme", sdk.deposit(w["bank-a"], 50_000))
    w.ok("beta", sdk.present(cheque))
    w.refused("beta", sdk.present(cheque), "already_presented")
    w.ok("acme", sdk.stop(cheque))
    w.refused("bank-a", sdk.pay(cheque), "stopped")
    w.ok("bank-a", sdk.dishonour(cheque, "stopped"))
    assert w.bill(cheque)["dishonour"]["reason"] == "stopped"


def test_a_cheque_after_its_presentment_period(w: World) -> None:
    cheque = issue_cheque(w)
    issued = w.bill(cheque)["issued"]
    w.refused("gamma", sdk.expire(cheque), "not_expired")
    w.at(issued + 10 * DAY + 1)
    out = w.refused("beta", sdk.present(cheque), "presentment_period_over")
    assert f"ended at {issued + 10 * DAY}" in out.message
    w.refused("beta", sdk.endorse(cheque, w["gamma"]), "presentment_period_over")
    w.ok("gamma", sdk.expire(cheque))  # anyone
    assert w.bill(cheque)["status"] == "expired"
    w.refused("gamma", sdk.expire(cheque), "bill_closed")


# --- dishonour and recourse ---------------------------------------------------------------------


def test_recourse_runs_back_along_the_endorsements_to_the_acceptor(w: World) -> None:
    total = w.total()
    bill_id = issue_bill(w, drawer="acme", payee="beta", drawee="gamma", acceptance=sdk.COMMERCIAL)
    w.ok("beta", sdk.endorse(bill_id, w["delta"]))
    w.ok("delta", sdk.endorse(bill_id, w["bank-b"]))
    w.at(w.bill(bill_id)["maturity"])
    w.ok("bank-b", sdk.present(bill_id))
    w.ok("gamma", sdk.dishonour(bill_id, "refused"))
    w.refused("bank-b", sdk.present(bill_id), "bill_closed")
    assert w.view(sdk.liable(bill_id)) == [w["acme"], w["gamma"], w["beta"], w["delta"]]
    w.refused("delta", sdk.recourse(bill_id, w["beta"]), "not_holder")
    w.refused("bank-b", sdk.recourse(bill_id, w["bank-a"]), "not_liable")
    w.ok("bank-b", sdk.recourse(bill_id, w["beta"]))  # any prior party: joint and several
    w.ok("bank-b", sdk.recourse(bill_id, w["delta"]))  # the holder may turn to another
    w.refused("beta", sdk.recourse_pay(bill_id, FACE), "not_liable")
    w.ok("delta", sdk.recourse_pay(bill_id, FACE))
    assert w.bill(bill_id)["holder"] == w["delta"]
    assert w.view(sdk.liable(bill_id)) == [w["acme"], w["gamma"], w["beta"]]
    w.ok("delta", sdk.recourse(bill_id, w["beta"]))
    w.ok("beta", sdk.recourse_pay(bill_id, FACE))
    w.ok("beta", sdk.recourse(bill_id, w["acme"]))
    w.ok("acme", sdk.recourse_pay(bill_id, FACE))
    assert w.view(sdk.liable(bill_id)) == [w["gamma"]] and w.view(sdk.open_dishonours(w["acme"])) == 0
    w.ok("acme", sdk.recourse(bill_id, w["gamma"]))
    w.ok("gamma", sdk.recourse_pay(bill_id, FACE))
    bill = w.bill(bill_id)
    assert bill["status"] == "settled" and bill["holder"] == w["gamma"]
    assert w.total() == total
    # everyone but the acceptor ends where they began: the acceptor paid the face amount
    assert w.balance("gamma") == 1_000_000 - FACE and w.balance("acme") == 1_000_000
    assert w.balance("bank-b") == 50_000_000 + FACE and w.balance("beta") == 1_000_000
    w.refused("gamma", sdk.recourse(bill_id, w["acme"]), "not_dishonoured")


def test_refused_acceptance_opens_recourse_against_the_drawer(w: World) -> None:
    bill_id = issue_bill(w, accept=False)
    w.refused("beta", sdk.accept(bill_id), "not_drawee")
    w.ok("bank-a", sdk.refuse(bill_id))
    w.refused("bank-a", sdk.accept(bill_id), "already_accepted")
    assert w.bill(bill_id)["dishonour"]["reason"] == "acceptance_refused"
    assert w.view(sdk.liable(bill_id)) == [w["acme"]]
    w.ok("beta", sdk.recourse(bill_id, w["acme"]))
    w.ok("acme", sdk.recourse_pay(bill_id, FACE))
    assert w.bill(bill_id)["status"] == "settled"


def test_a_later_endorsee_who_held_it_before_claims_only_before_its_first_endorsement(w: World) -> None:
    bill_id = issue_bill(w)
    w.ok("beta", sdk.endorse(bill_id, w["gamma"]))
    w.ok("gamma", sdk.endorse(bill_id, w["delta"]))
    w.ok("delta", sdk.endorse(bill_id, w["beta"]))  # beta again: a circle
    assert w.view(sdk.liable(bill_id)) == [w["acme"], w["bank-a"]]


# --- issue, acceptance, cancellation, expiry ------------------------------------------------------


def test_issue_refusals_with_their_figures(w: World) -> None:
    now = w.now
    beta, bank = w["beta"], w["bank-a"]
    w.refused("acme", sdk.issue("note", "", beta, bank, 10), "bad_kind")
    w.refused("acme", sdk.issue(sdk.CHEQUE, sdk.BANK, beta, bank, 10), "bad_kind")
    w.refused("acme", sdk.issue(sdk.BILL, "", beta, bank, 10, maturity_ms=now + DAY), "bad_kind")
    w.refused("acme", sdk.issue(sdk.CHEQUE, "", beta, bank, 0), "bad_amount")
    w.refused("acme", sdk.issue(sdk.CHEQUE, "", beta, bank, 10, maturity_ms=now + DAY), "bad_maturity")
    w.refused("acme", sdk.issue(sdk.CHEQUE, "", beta, bank, 10, period_ms=11 * DAY), "bad_period")
    w.refused("acme", sdk.issue(sdk.CHEQUE, "", beta, bank, 10, memo=b"short"), "bad_memo")
    w.refused("acme", sdk.issue(sdk.CHEQUE, "", beta, w["gamma"], 10), "not_a_bank")
    gamma = w["gamma"]
    w.refused("acme", sdk.issue(sdk.BILL, sdk.BANK, beta, gamma, 10, maturity_ms=now + DAY), "not_a_bank")
    w.refused("acme", sdk.issue(sdk.CHEQUE, "", bytes(20), bank, 10), "unknown_party")
    w.refused("acme", sdk.issue(sdk.CHEQUE, "", beta[:19], bank, 10), "bad_address")
    soon = sdk.issue(sdk.BILL, sdk.BANK, beta, bank, 10, maturity_ms=now + 999)
    out = w.refused("acme", soon, "bad_maturity")
    assert "at least 1000 ms after the issue time" in out.message
    w.refused("acme", sdk.issue(sdk.BILL, sdk.BANK, beta, bank, 10, maturity_ms=now + DAY, period_ms=DAY),
              "bad_period")
    assert w.h.call(w["reg"], "regulator", "freeze", encode_address_args(beta)).ok
    w.refused("acme", sdk.issue(sdk.CHEQUE, "", beta, bank, 10), "party_frozen")
    assert w.view(sdk.count()) == 0


def test_maturity_is_at_most_twelve_calendar_months(w: World) -> None:
    w.at(ms_of(2024, 2, 29, 10))
    beta, bank = w["beta"], w["bank-a"]
    out = w.refused("acme", sdk.issue(sdk.BILL, sdk.BANK, beta, bank, 10, maturity_ms=ms_of(2025, 3, 1)),
                    "bad_maturity")
    assert "on or before 2025-02-28" in out.message  # the month's last day
    w.ok("acme", sdk.issue(sdk.BILL, sdk.BANK, beta, bank, 10, maturity_ms=ms_of(2025, 2, 28, 23)))
    w.at(ms_of(2024, 3, 1, 10))
    w.ok("acme", sdk.issue(sdk.BILL, sdk.BANK, beta, bank, 10, maturity_ms=ms_of(2025, 3, 1, 23)))


def test_cancel_before_acceptance_only(w: World) -> None:
    bill_id = issue_bill(w, accept=False)
    w.refused("beta", sdk.cancel(bill_id), "not_drawer")
    w.refused("beta", sdk.present(bill_id), "not_accepted")
    w.ok("acme", sdk.cancel(bill_id))
    w.refused("bank-a", sdk.accept(bill_id), "bill_closed")
    accepted = issue_bill(w)
    w.refused("acme", sdk.cancel(accepted), "already_accepted")
    w.refused("acme", sdk.cancel(issue_cheque(w)), "not_a_bill")
    w.refused("acme", sdk.cancel(99), "bill_not_found")


def test_a_bill_never_accepted_expires_at_maturity_and_an_accepted_one_after_the_window(w: World) -> None:
    pending, accepted = issue_bill(w, accept=False), issue_bill(w)
    maturity = w.bill(pending)["maturity"]
    w.at(maturity)
    w.refused("bank-a", sdk.accept(pending), "matured")
    w.at(maturity + 1)
    w.ok("gamma", sdk.expire(pending))
    out = w.refused("gamma", sdk.expire(accepted), "not_expired")
    assert f"until {maturity + 10 * DAY}" in out.message
    w.at(maturity + 10 * DAY + 1)
    w.refused("beta", sdk.present(accepted), "presentment_period_over")
    w.ok("gamma", sdk.expire(accepted))
    assert w.bill(accepted)["status"] == "expired"


def test_bills_are_matured_for_negotiation(w: World) -> None:
    bill_id = issue_bill(w)
    w.at(w.bill(bill_id)["maturity"])
    for call in (sdk.endorse(bill_id, w["gamma"]), sdk.split(bill_id, [1, FACE - 1]),
                 sdk.discount(bill_id, w["bank-b"], 10), sdk.pledge(bill_id, w["gamma"], 0)):
        w.refused("beta", call, "matured")


# --- the regulator --------------------------------------------------------------------------------


def test_circular_endorsement_alerts_the_regulator(w: World) -> None:
    bill_id = issue_bill(w)
    w.ok("beta", sdk.endorse(bill_id, w["gamma"]))
    assert w.alerts() == []
    out = w.ok("gamma", sdk.endorse(bill_id, w["beta"]))
    [alert] = w.alerts()
    assert alert.rule == "bills.circular_endorsement" and alert.address == w["beta"] and alert.amount == FACE
    assert ("regulator", "Alert") in [(e.contract, e.name) for e in out.events]
    # outside the window it is plain trade
    later = issue_bill(w, term=200 * DAY)
    w.ok("beta", sdk.endorse(later, w["gamma"]))
    w.at(w.now + 91 * DAY)
    w.ok("gamma", sdk.endorse(later, w["beta"]))
    assert len(w.alerts()) == 1


def test_discounting_a_bill_of_a_drawer_with_an_open_dishonour_alerts_the_regulator(w: World) -> None:
    dishonoured = issue_bill(w, accept=False, drawer="delta")
    good = issue_bill(w, drawer="delta", payee="gamma")
    w.ok("gamma", sdk.discount(good, w["bank-b"], 100))
    w.ok("bank-a", sdk.refuse(dishonoured))
    w.ok("bank-b", sdk.discount_accept(good, FACE))
    [alert] = w.alerts()
    assert alert.rule == "bills.discount_open_dishonour" and alert.address == w["delta"]
    assert "1 open dishonour" in alert.detail
    w.ok("beta", sdk.recourse(dishonoured, w["delta"]))
    w.ok("delta", sdk.recourse_pay(dishonoured, FACE))  # the drawer pays: closed
    third = issue_bill(w, drawer="delta", payee="gamma")
    w.ok("gamma", sdk.discount(third, w["bank-b"], 100))
    w.ok("bank-b", sdk.discount_accept(third, FACE))
    assert len(w.alerts()) == 1


def test_the_regulator_sees_every_instrument(w: World) -> None:
    ids = [issue_bill(w), issue_cheque(w), issue_bill(w, drawer="gamma", payee="delta")]
    assert [b["id"] for b in w.view(sdk.instruments(1, 200))] == ids
    assert [b["id"] for b in w.view(sdk.instruments(2, 1))] == [ids[1]]
    assert w.view(sdk.involved(w["acme"], 0, 200)) == ids[:2]
    assert [b["id"] for b in w.view(sdk.held_by(w["beta"], 0, 200))] == ids[:2]
    w.ok("beta", sdk.endorse(ids[0], w["delta"]))
    assert [b["id"] for b in w.view(sdk.held_by(w["delta"], 0, 200))] == [ids[2], ids[0]]


# --- arithmetic and the runtime addition ----------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(amount=st.integers(1, 10**12), rate=st.integers(1, 10_000), days=st.integers(0, 366),
       hour=st.integers(0, 23))  # fmt: skip
def test_the_sdk_discount_arithmetic_is_the_contracts(amount: int, rate: int, days: int, hour: int) -> None:
    now = ms_of(2024, 1, 1, hour)
    maturity = now + days * DAY
    got = sdk.discount_terms(amount, rate, now, maturity)
    assert got[0] == days and got[1] + got[2] == amount
    exact = amount * rate * days / (10_000 * 360)
    assert abs(got[1] - exact) <= 0.5
    host = PythonContractHost()
    contract_fn = host.compile(source("bills")).cls.quote.__globals__["discount_terms"]
    host.meter.reset(10_000)  # the contract's own function, under the meter
    assert tuple(contract_fn(amount, rate, now, maturity)) == got


def test_a_contract_alert_on_an_open_chain_is_an_event_and_bad_arguments_are_refused() -> None:
    chain = LocalChain()
    code = '''
from consortia_contract import Contract, public

class Watch(Contract):
    @public
    def flag(self, rule: str, who: bytes, amount: int) -> None:
        self.alert_regulator(rule, who, amount, "looked odd")
'''
    me = chain.account("me")
    chain.deploy("watch", code, sender=me)
    who = bytes(range(20))
    receipt = chain.call("watch", "flag", "odd_pattern", who, 5, sender=me)
    assert [(e.contract, e.name) for e in receipt.events] == [("watch", "Alert")]
    fields = {"address": who, "amount": 5, "detail": "looked odd", "rule": "odd_pattern"}
    assert receipt.event_fields() == fields
    for args in (("Bad Rule", who, 5), ("odd", who[:3], 5), ("odd", who, -1)):
        with pytest.raises(ConsortiaError, match="alert_regulator"):
            chain.call("watch", "flag", *args, sender=me)

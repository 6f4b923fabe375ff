"""apps/energy (issue 12): meters, signed interval readings, green certificates and peer-to-peer
energy as a Python contract on a permissioned chain — each operation, each refusal (typed, with
its figures, changing nothing), the money a settlement moves, and the property "no double
counting" (certificates issued = floor(production / 1 MWh) per meter, every serial retired at most
once)."""

from __future__ import annotations

import ast
import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consortia.apps.energy import sdk
from consortia.apps.energy.contracts import CONTRACTS, source
from consortia.codec import encode
from consortia.contracts.permissioned.harness import seeded_key
from consortia.contracts.permissioned.params import code_approval
from consortia.contracts.permissioned.regulator import encode_address_args
from consortia.contracts.python.registry import CONSORTIUM, contract_info
from consortia.contracts.python.source_hash import code_hash_of
from energy_world import CONTRACT, HOUR, World, make_world

MWH = sdk.WH_PER_CERTIFICATE


@pytest.fixture
def w() -> World:
    return make_world()


def last_period(w: World, interval: int = HOUR) -> int:
    """The latest period that has ended by the harness's time."""
    return w.now // interval - 1


# --- deployment and the SDK's agreement with the source ------------------------------------------


def test_the_contract_is_deployed_at_genesis_owned_by_the_consortium(w: World) -> None:
    for name in CONTRACTS:
        info = contract_info(w.h.get, name)
        assert info is not None and info.owner == CONSORTIUM and info.version == 1 and info.height == 0
        assert info.code_hash == code_hash_of(source(name))
        approval = code_approval(w.h.get, name)
        assert approval is not None and approval.code_hash == info.code_hash
    out = w.h.call(w["grid"], "contracts", "deploy", encode(["energy", source("energy"), []]))
    assert out.code == "contract_exists"


def _constants() -> dict[str, object]:
    out: dict[str, object] = {}
    for node in ast.parse(source("energy")).body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            with contextlib.suppress(NameError, TypeError):
                expression = compile(ast.Expression(node.value), "energy", "eval")
                out[node.targets[0].id] = eval(expression, {"__builtins__": {}}, dict(out))
    return out


def test_the_sdk_agrees_with_the_contract_source() -> None:
    consts = _constants()
    assert consts["ERRORS"] == sdk.ERROR_CODES
    for name in ("WH_PER_CERTIFICATE", "WH_PER_KWH", "MS_PER_HOUR", "MIN_INTERVAL_MS", "MAX_INTERVAL_MS",
                 "MAX_POWER_W", "MAX_INTERVAL_WH", "BPS", "MAX_FEE_BPS", "MAX_PRICE", "MAX_OFFERS_PER_PERIOD",
                 "SETTLE_GRACE_MS", "KEY_SIZES", "SIGNATURE_BYTES", "BENEFICIARY_CHARS", "MAX_LIST",
                 "GRID_ROLE", "READING_DOMAIN"):
        assert consts[name] == getattr(sdk, name), name
    used: set[str] = set()
    for node in ast.walk(ast.parse(source("energy"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "require":
            code = node.args[-1]
            if isinstance(code, ast.Constant):
                used.add(code.value)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "check_count":
            used.add(node.args[-1].value)  # type: ignore[attr-defined]
    assert used == set(sdk.ERROR_CODES)


# --- meters -------------------------------------------------------------------------------------------


def test_a_grid_operator_enrols_a_meter_and_nobody_else_does(w: World) -> None:
    key = w.enrol("m1", "solar", max_w=4_000_000, fee_bps=250)
    meter = w.meter(key)
    assert meter["owner"] == w["solar"] and meter["operator"] == w["grid"] and meter["grid"] == "grid-co"
    assert meter["max_wh"] == 4_000_000 and meter["fee_bps"] == 250 and meter["last_period"] == -1
    other = seeded_key("meter:m2")
    call = sdk.enrol(other.public_key, w["solar"], interval_ms=HOUR, max_w=1000, first_period=0)
    out = w.refused("bank", call, "not_grid_operator")
    assert "'bank-a'" in out.message and "'bank'" in out.message
    w.refused("solar", call, "not_grid_operator")
    w.refused("grid", sdk.enrol(key.public_key, w["wind"], interval_ms=HOUR, max_w=1000, first_period=0),
              "meter_exists")
    w.ok("lineman", call)  # any active identity of a grid organisation


@pytest.mark.parametrize(("change", "code"), [
    ({"key": b"\x01" * 31}, "bad_key"),
    ({"owner": b"\x09" * 20}, "unknown_party"),
    ({"owner": b"\x09" * 3}, "bad_address"),
    ({"interval_ms": 999}, "bad_interval"),
    ({"interval_ms": sdk.MAX_INTERVAL_MS + 1}, "bad_interval"),
    ({"max_w": 0}, "bad_power"),
    ({"max_w": 3599, "interval_ms": 1000}, "bad_power"),  # less than 1 Wh an interval
    ({"max_w": 200_000_000}, "bad_power"),  # 200 MWh an hour: over the 100 MWh an interval
    ({"first_period": -1}, "bad_period"),
    ({"fee_bps": sdk.MAX_FEE_BPS + 1}, "bad_fee"),
])
def test_bad_enrolments_are_refused(w: World, change: dict[str, object], code: str) -> None:
    args: dict[str, object] = {"key": seeded_key("meter:x").public_key, "owner": w["solar"],
                               "interval_ms": HOUR, "max_w": 1000, "first_period": 0, "fee_bps": 0, **change}
    call = sdk.AppCall(sdk.ENERGY, "enrol", [args[k] for k in ("key", "owner", "interval_ms", "max_w",
                                                               "first_period", "fee_bps")])
    w.refused("grid", call, code)


def test_a_frozen_owner_cannot_be_given_a_meter(w: World) -> None:
    out = w.h.call(w["reg"], "regulator", "freeze", encode_address_args(w["wind"]))
    assert out.ok, out.message
    key = seeded_key("meter:frozen")
    w.refused("grid", sdk.enrol(key.public_key, w["wind"], interval_ms=HOUR, max_w=1000, first_period=0),
              "party_frozen")


# --- readings and certificates ------------------------------------------------------------------


def test_production_issues_one_certificate_per_mwh_with_the_remainder_carried(w: World) -> None:
    key = w.enrol("m1", "solar")
    p = last_period(w)
    out = w.ok("other", w.reading(key, p - 3, 2_400_000, 100))  # any gateway submits a signed reading
    assert out.event_names() == ["Reading", "CertificatesIssued"]
    assert w.view(sdk.totals())["certificates"] == 2
    assert w.meter(key)["carry_wh"] == 400_000
    w.ok("solar", w.reading(key, p - 2, 300_000, 0))
    assert w.meter(key)["carry_wh"] == 700_000 and w.view(sdk.totals())["certificates"] == 2
    out = w.ok("solar", w.reading(key, p - 1, 350_000, 0))
    assert sdk.event_fields(out.events[1]) == {"meter": key.address, "period": p - 1, "owner": w["solar"],
                                               "first": 3, "last": 3, "count": 1}
    meter = w.meter(key)
    assert (meter["carry_wh"], meter["produced_wh"], meter["consumed_wh"], meter["certificates"]) == (
        50_000, 3_050_000, 100, 3)
    cert = w.cert(3)
    assert (cert["meter"], cert["period"], cert["holder"], cert["status"]) == (key.address, p - 1, w["solar"],
                                                                               "active")
    assert [c["serial"] for c in w.view(sdk.certificates_of(w["solar"], 0, 10))] == [1, 2, 3]
    assert w.view(sdk.reading(key.address, p - 3)) == [2_400_000, 100]
    assert w.view(sdk.reading(key.address, p - 4)) is None


def test_readings_are_checked_against_the_key_the_counter_and_the_maximum(w: World) -> None:
    key = w.enrol("m1", "solar", max_w=2_000_000, first_period=w.now // HOUR - 10)
    p = last_period(w)
    forged = seeded_key("meter:forger")
    signature = forged.sign(sdk.reading_message(w.h.chain_id, key.address, p, 1000, 0))
    out = w.refused("solar", sdk.read(key.address, p, 1000, 0, signature), "bad_signature")
    assert key.address.hex() in out.message
    good = w.reading(key, p - 2, 1000, 0)
    changed = sdk.read(key.address, p - 2, 999_999, 0, good.args[4])  # the figures changed after signing
    w.refused("solar", changed, "bad_signature")
    other_chain = key.sign(sdk.reading_message("other-chain", key.address, p - 2, 1000, 0))
    w.refused("solar", sdk.read(key.address, p - 2, 1000, 0, other_chain), "bad_signature")
    out = w.refused("solar", w.reading(key, p - 2, 2_000_001, 0), "reading_too_large")
    assert "2000000 Wh" in out.message and "2000001" in out.message
    w.refused("solar", w.reading(key, p - 2, 0, 2_000_001), "reading_too_large")
    out = w.refused("solar", w.reading(key, p + 1, 10, 0), "period_not_over")
    assert "ms to go" in out.message
    w.refused("solar", w.reading(key, p - 11, 10, 0), "period_before_enrolment")
    w.ok("solar", good)
    w.refused("solar", good, "period_not_increasing")  # a replayed reading
    out = w.refused("solar", w.reading(key, p - 3, 10, 0), "period_not_increasing")
    assert f"period {p - 2}" in out.message
    w.refused("solar", sdk.read(key.address, p - 1, -1, 0, bytes(64)), "bad_energy")
    stranger = seeded_key("meter:stranger")
    w.refused("solar", w.reading(stranger, p, 10, 0), "meter_not_found")
    w.refused("solar", sdk.set_active(key.address, False), "not_meter_operator")
    w.refused("grid", sdk.AppCall(sdk.ENERGY, "set_active", [key.address, 0]), "bad_arguments")  # typed args
    w.ok("grid", sdk.set_active(key.address, False))
    w.refused("solar", w.reading(key, p, 10, 0), "meter_inactive")
    w.ok("grid", sdk.set_active(key.address, True))
    w.ok("solar", w.reading(key, p, 10, 0))


def test_certificates_transfer_and_are_retired_once(w: World) -> None:
    key = w.enrol("m1", "solar")
    w.ok("solar", w.reading(key, last_period(w), 3_000_000))
    w.refused("buyer", sdk.transfer(1, w["other"]), "not_holder")
    w.refused("solar", sdk.transfer(1, b"\x07" * 20), "unknown_party")
    w.refused("solar", sdk.transfer(9, w["buyer"]), "certificate_not_found")
    w.refused("solar", sdk.transfer(0, w["buyer"]), "bad_serial")
    w.ok("solar", sdk.transfer(1, w["buyer"]))
    w.ok("buyer", sdk.transfer(1, w["other"]))
    w.ok("other", sdk.transfer(1, w["buyer"]))
    assert [c["serial"] for c in w.view(sdk.certificates_of(w["solar"], 0, 10))] == [2, 3]
    assert [c["serial"] for c in w.view(sdk.certificates_of(w["buyer"], 0, 10))] == [1]
    assert w.view(sdk.certificates_of(w["other"], 0, 10)) == []
    w.refused("buyer", sdk.retire(1, " padded "), "bad_beneficiary")
    w.refused("buyer", sdk.retire(1, ""), "bad_beneficiary")
    out = w.ok("buyer", sdk.retire(1, "Acme Steel, Scope 2 2026"))
    assert sdk.event_fields(out.events[0])["beneficiary"] == "Acme Steel, Scope 2 2026"
    cert = w.cert(1)
    assert (cert["status"], cert["beneficiary"], cert["retired_by"], cert["transfers"]) == (
        "retired", "Acme Steel, Scope 2 2026", w["buyer"], 3)
    out = w.refused("buyer", sdk.retire(1, "Someone else"), "already_retired")
    assert "'Acme Steel, Scope 2 2026'" in out.message
    w.refused("buyer", sdk.transfer(1, w["other"]), "already_retired")
    w.refused("solar", sdk.retire(1, "Solar"), "already_retired")
    assert w.view(sdk.totals()) == {"meters": 1, "produced_wh": 3_000_000, "certificates": 3, "retired": 1,
                                    "trades": 0}
    assert [c["status"] for c in w.view(sdk.certificates_of(w["buyer"], 0, 10))] == ["retired"]


# --- peer-to-peer trades -----------------------------------------------------------------------------


def test_a_trade_settles_pro_rata_for_partial_delivery_with_the_grid_fee(w: World) -> None:
    key = w.enrol("m1", "solar", fee_bps=250)
    total = w.total()
    p = w.now // HOUR + 1  # the next hour
    out = w.ok("solar", sdk.offer(key.address, 10, 1_234, p))  # 10 kWh at 1234 a kWh
    trade_id = sdk.event_fields(out.events[0])["id"]
    w.refused("buyer", sdk.accept(trade_id, 12_339), "wrong_value")
    w.refused("solar", sdk.accept(trade_id, 12_340), "own_offer")
    before = {n: w.balance(n) for n in ("solar", "buyer", "grid")}
    w.ok("buyer", sdk.accept(trade_id, 12_340))
    assert w.balance("buyer") == before["buyer"] - 12_340
    w.refused("other", sdk.accept(trade_id, 12_340), "offer_not_open")
    w.refused("solar", sdk.cancel(trade_id), "offer_not_open")
    out = w.refused("buyer", sdk.settle(trade_id), "not_metered")
    assert "no reading yet" in out.message
    w.at((p + 1) * HOUR)
    w.refused("buyer", sdk.settle(trade_id), "not_metered")  # the period is over but not read
    w.ok("other", w.reading(key, p, 7_777, 1_000))  # 6,777 Wh surplus of the 10,000 sold
    out = w.ok("other", sdk.settle(trade_id))  # anyone settles
    expected = sdk.settlement(10_000, 1_234, 250, 6_777)
    assert expected == sdk.Settlement(6_777, 8_362, 209, 8_153, 3_978)
    trade = w.trade(trade_id)
    assert (trade["status"], trade["delivered_wh"], trade["paid"], trade["fee"], trade["refund"]) == (
        "settled", 6_777, 8_362, 209, 3_978)
    assert w.balance("solar") == before["solar"] + 8_153
    assert w.balance("grid") == before["grid"] + 209
    assert w.balance("buyer") == before["buyer"] - 12_340 + 3_978
    assert w.balance(CONTRACT) == 0
    assert w.total() == total
    w.refused("buyer", sdk.settle(trade_id), "not_accepted")
    assert [t["id"] for t in w.view(sdk.trades_of(w["buyer"], 0, 10))] == [trade_id]


def test_the_surplus_goes_to_trades_in_acceptance_order(w: World) -> None:
    key = w.enrol("m1", "solar", fee_bps=0)
    total = w.total()
    p = w.now // HOUR + 1
    first = sdk.event_fields(w.ok("solar", sdk.offer(key.address, 5, 100, p)).events[0])["id"]
    second = sdk.event_fields(w.ok("solar", sdk.offer(key.address, 5, 200, p)).events[0])["id"]
    w.ok("other", sdk.accept(second, 1_000))  # accepted first
    w.ok("buyer", sdk.accept(first, 500))
    w.at((p + 1) * HOUR)
    w.ok("solar", w.reading(key, p, 9_000, 1_000))  # 8,000 Wh surplus for 10,000 sold
    w.ok("buyer", sdk.settle(first))
    w.ok("buyer", sdk.settle(second))
    assert w.trade(second)["delivered_wh"] == 5_000 and w.trade(second)["paid"] == 1_000
    assert w.trade(first)["delivered_wh"] == 3_000 and w.trade(first)["paid"] == 300
    assert w.trade(first)["refund"] == 200 and w.total() == total


def test_offers_are_checked(w: World) -> None:
    key = w.enrol("m1", "solar", max_w=20_000)  # 20 kWh an hour
    p = w.now // HOUR + 1
    w.refused("buyer", sdk.offer(key.address, 5, 100, p), "not_seller")
    w.refused("solar", sdk.offer(key.address, 0, 100, p), "bad_energy")
    w.refused("solar", sdk.offer(key.address, 5, 0, p), "bad_price")
    w.refused("solar", sdk.offer(key.address, 5, 100, w.now // HOUR - 1), "period_over")
    w.refused("solar", sdk.offer(b"\x05" * 20, 5, 100, p), "meter_not_found")
    w.ok("solar", sdk.offer(key.address, 15, 100, p))
    out = w.refused("solar", sdk.offer(key.address, 6, 100, p), "over_capacity")
    assert "20000 Wh" in out.message and "15000 Wh" in out.message
    trade_id = w.view(sdk.totals())["trades"]
    w.refused("buyer", sdk.cancel(trade_id), "not_seller")
    w.ok("solar", sdk.cancel(trade_id))
    w.refused("buyer", sdk.accept(trade_id, 1_500), "offer_not_open")
    w.ok("solar", sdk.offer(key.address, 20, 100, p))  # the cancelled offer's energy is free again
    w.refused("buyer", sdk.settle(99), "trade_not_found")
    w.at((p + 1) * HOUR)
    w.refused("buyer", sdk.accept(trade_id + 1, 2_000), "period_over")


def test_an_unread_period_settles_as_undelivered_after_the_grace(w: World) -> None:
    key = w.enrol("m1", "solar", fee_bps=100)
    total = w.total()
    p = w.now // HOUR + 1
    trade_id = sdk.event_fields(w.ok("solar", sdk.offer(key.address, 3, 50, p)).events[0])["id"]
    w.ok("buyer", sdk.accept(trade_id, 150))
    w.at((p + 1) * HOUR + sdk.SETTLE_GRACE_MS - 1)
    w.refused("buyer", sdk.settle(trade_id), "not_metered")
    w.at((p + 1) * HOUR + sdk.SETTLE_GRACE_MS)
    w.ok("buyer", sdk.settle(trade_id))
    assert w.trade(trade_id)["refund"] == 150 and w.total() == total


def test_a_later_reading_closes_a_skipped_period_as_undelivered(w: World) -> None:
    key = w.enrol("m1", "solar", fee_bps=0)
    p = w.now // HOUR + 1
    trade_id = sdk.event_fields(w.ok("solar", sdk.offer(key.address, 3, 50, p)).events[0])["id"]
    w.ok("buyer", sdk.accept(trade_id, 150))
    w.at((p + 2) * HOUR)
    w.ok("solar", w.reading(key, p + 1, 50_000))  # period p never read: nothing delivered in it
    w.ok("buyer", sdk.settle(trade_id))
    assert w.trade(trade_id)["delivered_wh"] == 0 and w.trade(trade_id)["refund"] == 150


# --- no double counting (property) -------------------------------------------------------------------

ACTIONS = st.lists(st.one_of(
    st.tuples(st.just("read"), st.integers(0, 1), st.integers(0, 2_500_000), st.integers(1, 3)),
    st.tuples(st.just("transfer"), st.integers(1, 12), st.integers(0, 2), st.just(0)),
    st.tuples(st.just("retire"), st.integers(1, 12), st.integers(0, 2), st.just(0)),
), min_size=1, max_size=25)


@settings(max_examples=30, deadline=None)
@given(actions=ACTIONS)
def test_no_double_counting(actions: list[tuple[str, int, int, int]]) -> None:
    w = make_world()
    people = ("solar", "wind", "buyer")
    keys = [w.enrol("m0", "solar", max_w=3_000_000), w.enrol("m1", "wind", max_w=3_000_000)]
    periods = [w.now // HOUR - 90, w.now // HOUR - 90]
    produced = [0, 0]
    holders: dict[int, str] = {}
    retired: set[int] = set()
    for kind, a, b, c in actions:
        issued = w.view(sdk.totals())["certificates"]
        if kind == "read":
            periods[a] += c
            out = w.ok(people[a], w.reading(keys[a], periods[a], b))
            produced[a] += b
            for serial in range(issued + 1, w.view(sdk.totals())["certificates"] + 1):
                holders[serial] = people[a]
            assert out.ok
        elif a not in holders:
            w.refused(people[b], sdk.retire(a, "x") if kind == "retire" else sdk.transfer(a, w["buyer"]),
                      "certificate_not_found")
        elif a in retired:
            w.refused(holders[a], sdk.retire(a, "again"), "already_retired")
        elif holders[a] != people[b]:
            w.refused(people[b], sdk.retire(a, "x") if kind == "retire" else sdk.transfer(a, w["other"]),
                      "not_holder")
        elif kind == "retire":
            w.ok(people[b], sdk.retire(a, f"beneficiary {b}"))
            retired.add(a)
        else:
            to = people[(b + 1) % 3]
            w.ok(people[b], sdk.transfer(a, w[to]))
            holders[a] = to
    totals = w.view(sdk.totals())
    assert totals["certificates"] == sum(p // MWH for p in produced)
    assert totals["retired"] == len(retired)
    for index, key in enumerate(keys):
        meter = w.meter(key)
        assert meter["certificates"] == produced[index] // MWH
        assert meter["carry_wh"] == produced[index] % MWH
    for serial, holder in holders.items():
        cert = w.cert(serial)
        assert cert["holder"] == w[holder]
        assert (cert["status"] == "retired") == (serial in retired)


# --- settlement (property) ----------------------------------------------------------------------------


BUYERS = ("buyer", "other")


@settings(max_examples=20, deadline=None)
@given(offers=st.lists(st.tuples(st.integers(1, 60), st.integers(1, 5_000), st.sampled_from(BUYERS)),
                       min_size=1, max_size=4),
       produced=st.integers(0, 250_000), consumed=st.integers(0, 80_000),
       fee_bps=st.integers(0, sdk.MAX_FEE_BPS), data=st.data())
def test_settlement_shares_the_metered_surplus_and_conserves_money(
        offers: list[tuple[int, int, str]], produced: int, consumed: int, fee_bps: int,
        data: st.DataObject) -> None:  # fmt: skip
    """Trades of one period, accepted and settled in any orders: each gets the surplus left after
    the trades accepted before it, paid rounded down with the fee out of it; every unit locked
    goes to the seller, the grid or back to the buyer."""
    w = make_world()
    key = w.enrol("m1", "solar", max_w=100_000_000, fee_bps=fee_bps)
    total = w.total()
    p = w.now // HOUR + 1
    ids = [sdk.event_fields(w.ok("solar", sdk.offer(key.address, kwh, price, p)).events[0])["id"]
           for kwh, price, _ in offers]
    accept_order = data.draw(st.permutations(range(len(ids))))
    for i in accept_order:
        w.ok(offers[i][2], sdk.accept(ids[i], offers[i][0] * offers[i][1]))
    w.at((p + 1) * HOUR)
    w.ok("grid", w.reading(key, p, produced, consumed))
    for i in data.draw(st.permutations(range(len(ids)))):
        w.ok("wind", sdk.settle(ids[i]))
    surplus, before, delivered = max(0, produced - consumed), 0, 0
    for i in accept_order:
        kwh, price, _ = offers[i]
        expected = sdk.settlement(kwh * 1000, price, fee_bps, surplus, before)
        trade = w.trade(ids[i])
        assert (trade["delivered_wh"], trade["paid"], trade["fee"], trade["refund"]) == (
            expected.delivered_wh, expected.paid, expected.fee, expected.refund)
        before += kwh * 1000
        delivered += expected.delivered_wh
    assert delivered == min(surplus, sum(kwh for kwh, _, _ in offers) * 1000)
    assert w.balance(CONTRACT) == 0 and w.total() == total

"""apps/scf (issue 11): random sequences of every supply-chain-finance operation by every actor
(the right one or anyone), with time moving, against the invariants of the issue:

* the parts of a payable always sum to the confirmed payable;
* no invoice is financed beyond its amount (what financed parts locked on it is at most its amount);
* every holder of every part is paid exactly once at settlement (one PartPaid per part, to its
  holder of record, for its amount, summing to the payable) and never again;
* money is conserved and the contract keeps nothing between transactions;
* a credit line's drawn amount is exactly what its core's unsettled payables add up to, and
  used + available = limit;
* a refusal changes nothing but the sender's nonce.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from consortia.apps.scf import sdk
from consortia.execution.accounts import account_key
from scf_world import BANKS, CONTRACTS, ENTERPRISES, World, make_world

ACTORS = ENTERPRISES + BANKS
SUPPLIERS = ENTERPRISES[1:]
DAY = sdk.DAY_MS
TIME_STEPS = (1_000, 3_600_000, DAY, 3 * DAY, 12 * DAY)
AMOUNTS = st.integers(1, 400_000)


class SupplyChain(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.w: World = make_world()
        self.total = self.w.total()
        self.invoices: list[bytes] = []
        self.paid: dict[int, list[tuple[int, bytes, int]]] = {}
        """payable id -> the (part, holder, amount) its settlement paid."""
        self.numbers = 0

    def send(self, who: str, call: sdk.AppCall) -> bool:
        """Run ``call``; a refusal must change nothing but the sender's nonce."""
        before = dict(self.w.h.state.data)
        holders: dict[int, tuple[bytes, int]] = {}
        if call.method == "settle" and any(p["id"] == call.args[0] for p in self.payables()):
            holders = {p["id"]: (p["holder"], p["amount"]) for p in self.w.view(sdk.parts_of(call.args[0]))}
        out = self.w.send(who, call)
        if not out.ok:
            assert out.code in sdk.SCF_ERRORS, (call.method, out.code, out.message)
            after = self.w.h.state.data
            changed = {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
            assert changed <= {account_key(self.w[who])}, (call.method, out.code)
            return False
        if call.method == "settle":
            payable_id = call.args[0]
            assert payable_id not in self.paid, "a payable is settled once"
            paid = [(p["part"], p["holder"], p["amount"]) for p in sdk.paid_parts(out.events)]
            assert sorted(paid) == sorted((k, v[0], v[1]) for k, v in holders.items())
            self.paid[payable_id] = paid
        return True

    def count(self) -> int:
        return int(self.w.view(sdk.count()))

    def payables(self) -> list[dict[str, Any]]:
        return list(self.w.view(sdk.payables_list(1, sdk.MAX_LIST)))

    def some_part(self, data: st.DataObject, field: str = "") -> int:
        """A part: mostly a live one, mostly one whose ``field`` is set (if any), or any id."""
        if self.count() == 0 or data.draw(st.integers(0, 9), label="bad id?") == 0:
            return data.draw(st.integers(-1, self.count() + 2), label="any id")
        parts = [p for pay in self.payables() for p in self.w.view(sdk.parts_of(pay["id"]))]
        live = [p for p in parts if p["status"] == "held"]
        fitting = [p for p in live if field and p[field]]
        if fitting and data.draw(st.integers(0, 3), label="fitting?") > 0:
            return int(data.draw(st.sampled_from(fitting), label="part")["id"])
        return int(data.draw(st.sampled_from(live or parts), label="part")["id"])

    def some_payable(self, data: st.DataObject) -> int:
        """A payable: mostly an unsettled one past its maturity (if any), or any id."""
        payables = self.payables()
        if not payables or data.draw(st.integers(0, 9), label="bad id?") == 0:
            return data.draw(st.integers(-1, self.count() + 2), label="any id")
        due = [p for p in payables if p["status"] != "settled" and p["maturity"] <= self.w.now]
        if due and data.draw(st.integers(0, 3), label="due?") > 0:
            return int(data.draw(st.sampled_from(due), label="payable")["id"])
        return int(data.draw(st.sampled_from(payables), label="payable")["id"])

    def holder_or_anyone(self, data: st.DataObject, part_id: int) -> str:
        if 0 < part_id <= self.count() and data.draw(st.integers(0, 3), label="holder?") > 0:
            part = self.w.view(sdk.part(part_id)) if self.exists(part_id) else None
            if part:
                return next(label for label, a in self.w.parties.items() if a == part["holder"])
        return data.draw(st.sampled_from(ACTORS), label="anyone")

    def exists(self, part_id: int) -> bool:
        return any(
            p["id"] == part_id for pay in self.payables() for p in self.w.view(sdk.parts_of(pay["id"]))
        )

    # --- rules ------------------------------------------------------------------------------

    @initialize()
    def a_first_payable(self) -> None:
        """A line and one confirmed payable, so every sequence starts with something to move."""
        assert self.send("bank-a", sdk.set_line(self.w["core"], 2_000_000))
        self.register_invoice(1_000_000, "tier1")
        assert self.send(
            "core", sdk.confirm(self.w["tier1"], 1_000_000, self.w.now + 10 * DAY, self.invoices)
        )

    @rule(bank=st.sampled_from(BANKS), limit=st.integers(0, 3_000_000))
    def set_line(self, bank: str, limit: int) -> None:
        self.send(bank, sdk.set_line(self.w["core"], limit))

    @rule(amount=st.integers(1, 1_000_000), seller=st.sampled_from(("tier1", "tier1", "tier1", "tier2")))
    def register_invoice(self, amount: int, seller: str) -> None:
        self.numbers += 1
        digest = sdk.invoice_hash(self.w[seller], self.w["core"], f"N{self.numbers}", amount, "2023-11-01")
        if self.send(seller, sdk.register_invoice(digest, self.w["core"], amount)):
            self.invoices.append(digest)

    @rule(data=st.data())
    def dispute_or_confirm(self, data: st.DataObject) -> None:
        if self.invoices:
            digest = data.draw(st.sampled_from(self.invoices))
            call = data.draw(st.sampled_from((sdk.dispute_invoice(digest), sdk.confirm_invoice(digest))))
            self.send(data.draw(st.sampled_from(("core", "core", "tier1"))), call)

    @rule(
        data=st.data(), amount=st.integers(1, 900_000), term=st.sampled_from((2_000, DAY, 10 * DAY, 40 * DAY))
    )
    def confirm(self, data: st.DataObject, amount: int, term: int) -> None:
        if self.invoices:
            recent = self.invoices[-4:]  # mostly fresh invoices, some already linked or financed
            chosen = data.draw(st.lists(st.sampled_from(recent), min_size=1, max_size=3, unique=True))
            self.send("core", sdk.confirm(self.w["tier1"], amount, self.w.now + term, chosen))

    def amount_of(self, data: st.DataObject, part_id: int) -> int:
        """Mostly a share of the part (all of it, or 1 to 100 %), sometimes any amount."""
        if self.exists(part_id) and data.draw(st.integers(0, 5), label="share?") > 0:
            whole = int(self.w.view(sdk.part(part_id))["amount"])
            return max(1, whole * data.draw(st.sampled_from((100, 100, 50, 30, 1)), label="percent") // 100)
        return data.draw(AMOUNTS, label="amount")

    @rule(data=st.data(), to=st.sampled_from(ACTORS))
    def transfer(self, data: st.DataObject, to: str) -> None:
        part_id = self.some_part(data)
        amount = self.amount_of(data, part_id)
        self.send(self.holder_or_anyone(data, part_id), sdk.transfer(part_id, self.w[to], amount))

    @rule(data=st.data(), bank=st.sampled_from(BANKS), rate=st.integers(1, 2000), recourse=st.booleans())
    def finance(self, data: st.DataObject, bank: str, rate: int, recourse: bool) -> None:
        part_id = self.some_part(data)
        amount = self.amount_of(data, part_id)
        self.send(
            self.holder_or_anyone(data, part_id), sdk.finance(part_id, self.w[bank], amount, rate, recourse)
        )

    @rule(data=st.data(), bank=st.sampled_from(BANKS), short=st.sampled_from((False, False, True)))
    def finance_accept(self, data: st.DataObject, bank: str, short: bool) -> None:
        part_id = self.some_part(data, "offer")
        price = 0
        if self.exists(part_id):
            part = self.w.view(sdk.part(part_id))
            offer = part["offer"]
            if offer:
                maturity = self.w.view(sdk.payable(part["payable"]))["maturity"]
                price = sdk.finance_terms(part["amount"], offer["rate_bps"], self.w.now, maturity)[2]
                bank = next(label for label, a in self.w.parties.items() if a == offer["bank"])
        self.send(bank, sdk.finance_accept(part_id, max(0, price - 1) if short else price))

    @rule(data=st.data())
    def finance_cancel(self, data: st.DataObject) -> None:
        part_id = self.some_part(data, "offer")
        self.send(self.holder_or_anyone(data, part_id), sdk.finance_cancel(part_id))

    @rule(
        data=st.data(),
        who=st.sampled_from(("core", "core", "core", "tier1")),
        wrong=st.sampled_from((False, False, True)),
    )
    def settle(self, data: st.DataObject, who: str, wrong: bool) -> None:
        payable_id = self.some_payable(data)
        amount = 0
        if 0 < payable_id <= self.count() and self.w.view(sdk.payables_list(payable_id, 1)):
            amount = self.w.view(sdk.payable(payable_id))["amount"]
        self.send(who, sdk.settle(payable_id, amount + (1 if wrong else 0)))

    @rule(data=st.data(), who=st.sampled_from(ACTORS))
    def default(self, data: st.DataObject, who: str) -> None:
        self.send(who, sdk.default(self.some_payable(data)))

    @rule(data=st.data())
    def claim_pay(self, data: st.DataObject) -> None:
        part_id = self.some_part(data, "claim")
        who, amount = data.draw(st.sampled_from(ACTORS)), 1
        if self.exists(part_id):
            claim = self.w.view(sdk.part(part_id))["claim"]
            if claim:
                who = next(label for label, a in self.w.parties.items() if a == claim["seller"])
                amount = claim["amount"]
        self.send(who, sdk.claim_pay(part_id, amount))

    @rule(ms=st.sampled_from(TIME_STEPS))
    def time_passes(self, ms: int) -> None:
        self.w.h.next_block(1, ms)

    # --- invariants --------------------------------------------------------------------------

    @invariant()
    def money_is_conserved_and_the_contract_keeps_nothing(self) -> None:
        assert self.w.total() == self.total
        assert all(self.w.balance(c) == 0 for c in CONTRACTS)

    @invariant()
    def parts_sum_to_the_payable_and_each_holder_is_paid_once(self) -> None:
        unsettled = 0
        for pay in self.payables():
            parts = self.w.view(sdk.parts_of(pay["id"]))
            assert sum(p["amount"] for p in parts) == pay["amount"] and all(p["amount"] > 0 for p in parts)
            if pay["status"] == "settled":
                paid = self.paid[pay["id"]]
                assert len(paid) == len(parts) == len({p[0] for p in paid})
                assert sum(p[2] for p in paid) == pay["amount"]
                assert all(p["status"] == "paid" for p in parts)
            else:
                assert pay["id"] not in self.paid and all(p["status"] == "held" for p in parts)
                unsettled += pay["amount"]
        line = self.w.view(sdk.line(self.w["core"]))
        if line:
            assert line["used"] == unsettled and line["used"] + line["available"] == line["limit"]
        else:
            assert unsettled == 0

    @invariant()
    def no_invoice_is_financed_beyond_its_amount(self) -> None:
        locked: dict[bytes, int] = {}
        for pay in self.payables():
            for part in self.w.view(sdk.parts_of(pay["id"])):
                for digest, amount in part["financing"].get("locks", []):
                    locked[digest] = locked.get(digest, 0) + amount
                if part["financing"]:
                    assert sum(n for _, n in part["financing"]["locks"]) == part["amount"]
        for digest in self.invoices:
            record = self.w.view(sdk.invoice(digest))
            assert record["locked"] == locked.get(digest, 0) <= record["amount"]
            assert record["status"] != "disputed" or record["locked"] == 0


SupplyChain.TestCase.settings = settings(
    max_examples=25,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
test_supply_chain = SupplyChain.TestCase

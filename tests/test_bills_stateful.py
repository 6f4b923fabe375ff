"""apps/bills (issue 10): random sequences of every operation by every actor (the right one or
anyone), with time moving, against the invariants of the issue:

* an instrument is paid at most once;
* only its holder of record endorses, presents, discounts, pledges or splits it;
* split parts always sum to the whole;
* a pledged bill changes hands only by enforcement (and leaves its pledge only by release or
  enforcement);
* money is conserved across every settlement, and the contract holds exactly the cover;
* every instrument's history is complete: every successful transaction touching an instrument
  left exactly one step naming its transaction, no step names anything else, and a refusal
  changes nothing but the sender's nonce.
"""

from __future__ import annotations

import hashlib
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from bills_world import BANKS, CONTRACT, ENTERPRISES, World, make_world
from consortia.apps.bills import sdk
from consortia.codec import encode
from consortia.execution.accounts import account_key, decode_account

ACTORS = ENTERPRISES + BANKS
DAY = sdk.DAY_MS
HOLDER_ACTIONS = {"endorse", "present", "discount", "pledge", "split"}
"""Methods only the holder of record may call successfully."""
TIME_STEPS = (1_000, 3_600_000, DAY, 5 * DAY, 11 * DAY, 31 * DAY)


class BillMarket(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.w: World = make_world()
        self.total = self.w.total()
        self.ok_txs: set[bytes] = set()
        self.ok_count = 0
        self.steps_seen = 0

    # --- helpers ---------------------------------------------------------------------------

    def ids(self) -> list[int]:
        return list(range(1, int(self.w.view(sdk.count())) + 1))

    def pick(self, data: st.DataObject, where: str = "") -> int | None:
        """An instrument: mostly one where ``where`` (a field, or ``status=value``) holds, if any."""
        bills = self.w.view(sdk.instruments(1, sdk.MAX_LIST))
        if not bills:
            return None
        if where and data.draw(st.integers(0, 3), label="fitting bill?") > 0:
            field, _, value = where.partition("=")
            fitting = [b for b in bills if (b[field] == value if value else b[field])]
            if fitting:
                return int(data.draw(st.sampled_from(fitting), label="bill")["id"])
        return int(data.draw(st.sampled_from(bills), label="bill")["id"])

    def actor(self, data: st.DataObject, right: str | bytes | None) -> bytes:
        """The right party (most of the time) or anyone."""
        if right is not None and data.draw(st.integers(0, 5), label="right actor?") > 0:
            return right if isinstance(right, bytes) else self.w[right]
        return self.w[data.draw(st.sampled_from(ACTORS), label="actor")]

    def run(self, sender: bytes, call: sdk.AppCall, bill_id: int | None) -> bool:
        """Send ``call``; check the step it left (or that a refusal changed nothing)."""
        w = self.w
        before_state = dict(w.h.state.data)
        before = w.bill(bill_id) if bill_id is not None else None
        out = w.send(sender, call)
        tx_hash = hashlib.sha256(encode([w.h.chain_id, w.h.tx_count])).digest()
        if not out.ok:
            after = w.h.state.data
            changed = {k for k in before_state.keys() | after.keys() if before_state.get(k) != after.get(k)}
            assert changed == {account_key(sender)}, (call.method, out.code, changed)
            old = decode_account(before_state[account_key(sender)])
            assert decode_account(after[account_key(sender)]).balance == old.balance
            return False
        self.ok_txs.add(tx_hash)
        self.ok_count += 1
        if before is not None:
            assert bill_id is not None
            after_bill = w.bill(bill_id)
            self.check_step(call, sender, before, after_bill, tx_hash)
        return True

    def check_step(self, call: sdk.AppCall, sender: bytes, before: dict[str, Any], after: dict[str, Any],
                   tx_hash: bytes) -> None:  # fmt: skip
        method = call.method
        if method in HOLDER_ACTIONS:
            assert sender == before["holder"], (method, "by someone not the holder of record")
        if before["pledge"] and after["holder"] != before["holder"]:
            assert method == "enforce", (method, "moved a pledged bill")
        if before["pledge"] and not after["pledge"]:
            assert method in ("release", "enforce"), (method, "lifted a pledge")
        if before["status"] == "paid":
            raise AssertionError(f"{method} succeeded on a paid instrument")
        new = self.w.history(after["id"])[-(after["steps"] - before["steps"]):]
        assert after["steps"] == before["steps"] + 1, (method, before["steps"], after["steps"])
        assert new[0]["tx"] == tx_hash and new[0]["by"] == sender

    # --- rules -------------------------------------------------------------------------------

    @initialize(terms=st.lists(st.integers(1, 30), min_size=3, max_size=3))
    def a_market(self, terms: list[int]) -> None:
        """Accepted bills of each kind, a cheque and some cover, so every run starts in trade."""
        w = self.w
        plan = [("acme", "beta", "bank-a", sdk.BANK), ("gamma", "delta", "bank-b", sdk.BANK),
                ("beta", "gamma", "delta", sdk.COMMERCIAL)]
        for (drawer, payee, drawee, kind), days in zip(plan, terms, strict=True):
            call = sdk.issue(sdk.BILL, kind, w[payee], w[drawee], 300_000, maturity_ms=w.now + days * DAY)
            assert self.run(w[drawer], call, None)
            assert self.run(w[drawee], sdk.accept(int(w.view(sdk.count()))), int(w.view(sdk.count())))
        assert self.run(w["delta"], sdk.issue(sdk.CHEQUE, "", w["acme"], w["bank-b"], 80_000), None)
        assert self.run(w["delta"], sdk.deposit(w["bank-b"], 100_000), None)

    @rule(data=st.data(), kind=st.sampled_from(["cheque", "bank", "commercial"]),
          amount=st.integers(1, 400_000), term_days=st.integers(0, 40))  # fmt: skip
    def issue(self, data: st.DataObject, kind: str, amount: int, term_days: int) -> None:
        drawer = self.actor(data, None)
        payee = self.w[data.draw(st.sampled_from(ACTORS))]
        drawee = self.w[data.draw(st.sampled_from(BANKS if kind != "commercial" else ACTORS))]
        if kind == "cheque":
            call = sdk.issue(sdk.CHEQUE, "", payee, drawee, amount)
        else:
            maturity = self.w.now + term_days * DAY + 1_000
            call = sdk.issue(sdk.BILL, kind, payee, drawee, amount, maturity_ms=maturity,
                             not_transferable=data.draw(st.booleans()))
        if self.run(drawer, call, None):
            bill = self.w.bill(int(self.w.view(sdk.count())))
            assert bill["holder"] == payee and bill["steps"] == 1
            assert self.w.history(bill["id"])[0]["tx"] in self.ok_txs

    @rule(data=st.data(), amount=st.integers(1, 300_000))
    def deposit(self, data: st.DataObject, amount: int) -> None:
        who, bank = self.actor(data, None), self.w[data.draw(st.sampled_from(ACTORS))]
        self.run(who, sdk.deposit(bank, amount), None)

    @rule(data=st.data(), amount=st.integers(1, 300_000))
    def withdraw(self, data: st.DataObject, amount: int) -> None:
        who, bank = self.actor(data, None), self.w[data.draw(st.sampled_from(ACTORS))]
        self.run(who, sdk.withdraw(bank, amount), None)

    @rule(data=st.data(), method=st.sampled_from(["accept", "refuse"]))
    def acceptance(self, data: st.DataObject, method: str) -> None:
        bill_id = self.pick(data)
        if bill_id is not None:
            call = sdk.accept(bill_id) if method == "accept" else sdk.refuse(bill_id)
            self.run(self.actor(data, self.w.bill(bill_id)["drawee"]), call, bill_id)

    @rule(data=st.data(), method=st.sampled_from(["cancel", "stop"]))
    def drawer_acts(self, data: st.DataObject, method: str) -> None:
        bill_id = self.pick(data)
        if bill_id is not None:
            call = sdk.cancel(bill_id) if method == "cancel" else sdk.stop(bill_id)
            self.run(self.actor(data, self.w.bill(bill_id)["drawer"]), call, bill_id)

    @rule(data=st.data())
    def endorse(self, data: st.DataObject) -> None:
        bill_id = self.pick(data)
        if bill_id is not None:
            to = self.w[data.draw(st.sampled_from(ACTORS))]
            self.run(self.actor(data, self.w.bill(bill_id)["holder"]), sdk.endorse(bill_id, to), bill_id)

    @rule(data=st.data(), cuts=st.lists(st.integers(1, 100), min_size=1, max_size=4))
    def split(self, data: st.DataObject, cuts: list[int]) -> None:
        bill_id = self.pick(data)
        if bill_id is None:
            return
        bill = self.w.bill(bill_id)
        amount = bill["amount"]
        weights = [*cuts, 1]
        parts = [max(1, amount * c // sum(weights)) for c in weights[:-1]]
        parts.append(amount - sum(parts))
        if data.draw(st.integers(0, 4)) == 0:
            parts[-1] += 1  # a wrong sum now and then
        if self.run(self.actor(data, bill["holder"]), sdk.split(bill_id, parts), bill_id):
            after = self.w.bill(bill_id)
            assert after["status"] == "split" and len(after["parts"]) == len(parts)
            for part_id in after["parts"]:
                part = self.w.bill(part_id)
                assert part["steps"] == 1 and self.w.history(part_id)[-1]["tx"] in self.ok_txs

    @rule(data=st.data(), rate=st.integers(1, 2_000))
    def discount(self, data: st.DataObject, rate: int) -> None:
        bill_id = self.pick(data, "status=accepted")
        if bill_id is not None:
            bank = self.w[data.draw(st.sampled_from(BANKS))]
            holder = self.w.bill(bill_id)["holder"]
            self.run(self.actor(data, holder), sdk.discount(bill_id, bank, rate), bill_id)

    @rule(data=st.data(), extra=st.integers(-2, 2))
    def discount_accept(self, data: st.DataObject, extra: int) -> None:
        bill_id = self.pick(data, "offer")
        if bill_id is None:
            return
        bill = self.w.bill(bill_id)
        offer = bill["offer"]
        price = bill["amount"]
        if offer:
            price = sdk.discount_terms(bill["amount"], offer["rate_bps"], self.w.now, bill["maturity"])[2]
        sender = self.actor(data, offer["bank"] if offer else None)
        seller, value = bill["holder"], max(0, price + extra)
        seller_balance = self.w.balance(seller)
        if self.run(sender, sdk.discount_accept(bill_id, value), bill_id):
            assert value >= price and self.w.bill(bill_id)["holder"] == sender
            assert self.w.balance(seller) == seller_balance + price  # delivery versus payment

    @rule(data=st.data())
    def discount_cancel(self, data: st.DataObject) -> None:
        bill_id = self.pick(data, "offer")
        if bill_id is not None:
            self.run(self.actor(data, self.w.bill(bill_id)["holder"]), sdk.discount_cancel(bill_id), bill_id)

    @rule(data=st.data(), until_days=st.integers(0, 20))
    def pledge(self, data: st.DataObject, until_days: int) -> None:
        bill_id = self.pick(data)
        if bill_id is not None:
            until = 0 if until_days == 0 else self.w.now + until_days * DAY
            lender = self.w[data.draw(st.sampled_from(ACTORS))]
            holder = self.w.bill(bill_id)["holder"]
            self.run(self.actor(data, holder), sdk.pledge(bill_id, lender, until), bill_id)

    @rule(data=st.data(), method=st.sampled_from(["release", "enforce"]))
    def pledgee_acts(self, data: st.DataObject, method: str) -> None:
        bill_id = self.pick(data, "pledge")
        if bill_id is not None:
            pledge = self.w.bill(bill_id)["pledge"]
            call = sdk.release(bill_id) if method == "release" else sdk.enforce(bill_id)
            self.run(self.actor(data, pledge["lender"] if pledge else None), call, bill_id)

    @rule(data=st.data())
    def present(self, data: st.DataObject) -> None:
        bill_id = self.pick(data, "status=accepted")
        if bill_id is not None:
            self.run(self.actor(data, self.w.bill(bill_id)["holder"]), sdk.present(bill_id), bill_id)

    @rule(data=st.data(), extra=st.integers(-1, 1))
    def pay(self, data: st.DataObject, extra: int) -> None:
        bill_id = self.pick(data, "status=presented")
        if bill_id is None:
            return
        bill = self.w.bill(bill_id)
        cover = int(self.w.view(sdk.cover(bill["drawer"], bill["drawee"])))
        shortfall = max(0, bill["amount"] - cover)
        own = shortfall if data.draw(st.booleans()) else max(0, shortfall + extra)
        holder, holder_balance = bill["holder"], self.w.balance(bill["holder"])
        payer = self.actor(data, bill["drawee"])
        if self.run(payer, sdk.pay(bill_id, own), bill_id):
            assert own == shortfall
            gained = self.w.balance(holder) - holder_balance
            assert gained == bill["amount"] - (own if payer == holder else 0)

    @rule(data=st.data(), reason=st.sampled_from(sdk.REASONS))
    def dishonour(self, data: st.DataObject, reason: str) -> None:
        bill_id = self.pick(data, "status=presented")
        if bill_id is not None:
            drawee = self.w.bill(bill_id)["drawee"]
            self.run(self.actor(data, drawee), sdk.dishonour(bill_id, reason), bill_id)

    @rule(data=st.data())
    def recourse(self, data: st.DataObject) -> None:
        bill_id = self.pick(data, "status=dishonoured")
        if bill_id is None:
            return
        liable = self.w.view(sdk.liable(bill_id))
        against = data.draw(st.sampled_from(liable)) if liable and data.draw(st.booleans()) \
            else self.w[data.draw(st.sampled_from(ACTORS))]
        self.run(self.actor(data, self.w.bill(bill_id)["holder"]), sdk.recourse(bill_id, against), bill_id)

    @rule(data=st.data())
    def recourse_pay(self, data: st.DataObject) -> None:
        bill_id = self.pick(data, "claim")
        if bill_id is None:
            return
        bill = self.w.bill(bill_id)
        claim = bill["claim"]
        amount = claim["amount"] if claim else bill["amount"]
        if self.run(self.actor(data, claim["against"] if claim else None), sdk.recourse_pay(bill_id, amount),
                    bill_id):
            assert self.w.bill(bill_id)["holder"] == claim["against"]

    @rule(data=st.data())
    def expire(self, data: st.DataObject) -> None:
        bill_id = self.pick(data)
        if bill_id is not None:
            self.run(self.actor(data, None), sdk.expire(bill_id), bill_id)

    @rule(data=st.data(), rate=st.integers(1, 2_000))
    def discount_deal(self, data: st.DataObject, rate: int) -> None:
        """A holder's offer taken at once by the bank: the whole delivery versus payment."""
        bill_id = self.pick(data, "status=accepted")
        if bill_id is None:
            return
        bank = self.w[data.draw(st.sampled_from(BANKS))]
        bill = self.w.bill(bill_id)
        if self.run(bill["holder"], sdk.discount(bill_id, bank, rate), bill_id):
            price = sdk.discount_terms(bill["amount"], rate, self.w.now, bill["maturity"])[2]
            before = self.w.balance(bill["holder"])
            assert self.run(bank, sdk.discount_accept(bill_id, price), bill_id)
            assert self.w.balance(bill["holder"]) == before + price

    @rule(data=st.data(), reasons=st.lists(st.sampled_from(sdk.REASONS), min_size=1, max_size=3),
          claims=st.integers(0, 4))  # fmt: skip
    def settlement(self, data: st.DataObject, reasons: list[str], claims: int) -> None:
        """Presentment when due, then payment or dishonour, then up to ``claims`` recourse steps."""
        bill_id = self.pick(data, "status=accepted")
        if bill_id is None:
            return
        w, bill = self.w, self.w.bill(bill_id)
        if bill["kind"] == "bill" and bill["maturity"] > w.now:
            w.at(bill["maturity"])
        if not self.run(bill["holder"], sdk.present(bill_id), bill_id):
            return
        if data.draw(st.booleans(), label="pay?"):
            cover = int(w.view(sdk.cover(bill["drawer"], bill["drawee"])))
            assert self.run(bill["drawee"], sdk.pay(bill_id, max(0, bill["amount"] - cover)), bill_id)
            return
        if not any(self.run(bill["drawee"], sdk.dishonour(bill_id, reason), bill_id) for reason in reasons):
            return
        for _ in range(claims):
            bill = w.bill(bill_id)
            liable = w.view(sdk.liable(bill_id))
            if bill["status"] != "dishonoured" or not liable:
                return
            against = data.draw(st.sampled_from(liable))
            assert self.run(bill["holder"], sdk.recourse(bill_id, against), bill_id)
            assert self.run(against, sdk.recourse_pay(bill_id, bill["amount"]), bill_id)

    @rule(data=st.data())
    def to_maturity(self, data: st.DataObject) -> None:
        """Time moves to the maturity of a live bill (so presentment, payment and dishonour come)."""
        bills = [b for b in self.w.view(sdk.instruments(1, sdk.MAX_LIST))
                 if b["kind"] == "bill" and b["status"] == "accepted" and b["maturity"] > self.w.now]
        if bills:
            self.w.at(data.draw(st.sampled_from(bills))["maturity"])

    @rule(ms=st.sampled_from(TIME_STEPS))
    def time_passes(self, ms: int) -> None:
        self.w.at(self.w.now + ms)

    # --- invariants over every instrument ----------------------------------------------------------

    @invariant()
    def money_is_conserved_and_the_contract_holds_the_cover(self) -> None:
        assert self.w.total() == self.total
        assert self.w.balance(CONTRACT) == self.w.view(sdk.total_cover())

    @precondition(lambda self: self.ok_count > self.steps_seen)
    @invariant()
    def every_instrument_is_whole(self) -> None:
        self.steps_seen = self.ok_count
        for bill_id in self.ids():
            bill = self.w.bill(bill_id)
            own = [s for s in self.w.history(bill_id) if s["id"] == bill_id]
            assert [s["n"] for s in own] == list(range(1, bill["steps"] + 1))
            assert all(s["tx"] in self.ok_txs for s in own)
            pays = [s for s in own if s["action"] == "pay_bill" or s["action"] == "pay"]
            assert len(pays) <= 1 and (bill["status"] == "paid") == (len(pays) == 1)
            if bill["status"] == "split":
                assert sum(self.w.bill(p)["amount"] for p in bill["parts"]) == bill["amount"]
            if bill["pledge"]:
                assert bill["status"] not in ("paid", "split", "cancelled") and bill["holder"] != \
                    bill["pledge"]["lender"]


BillMarket.TestCase.settings = settings(
    max_examples=30, stateful_step_count=50, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
test_bill_market = BillMarket.TestCase

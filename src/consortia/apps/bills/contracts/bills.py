"""Digital cheques and bills of exchange: the lifecycle of the Negotiable Instruments Law as one
contract, settling in the chain's currency (decisions/0012).

This file is contract source (deployed as text at genesis), not a module of the consortia package.

Parties are identified accounts (``identity_of``: active, not frozen). Times are block
timestamps (ms); dates are Beijing calendar dates (UTC+8). Amounts are integers in the
currency's smallest unit.

    deposit(drawee) + value                      drawer's cover with a drawee       CoverDeposited
    withdraw(drawee, amount)                     the drawer takes cover back        CoverWithdrawn
    issue(kind, acceptance, payee, drawee, amount, maturity_ms, not_transferable, memo, period_ms)
                                   -> id         the drawer                         BillIssued
    accept(id) / refuse(id)                  the drawee of a bill           BillAccepted / BillDishonoured
    cancel(id)                                   the drawer, before acceptance      BillCancelled
    endorse(id, to)                              the holder of record               BillEndorsed
    split(id, amounts) -> [ids]                  the holder; parts sum to the face  BillSplit
    discount(id, bank, rate_bps)                 the holder offers                  DiscountOffered
    discount_accept(id) + value >= price         the bank: pays and takes (DvP)     BillDiscounted
    discount_cancel(id)                          the holder or the bank             DiscountCancelled
    pledge(id, lender, until_ms) / release(id) / enforce(id)  BillPledged, PledgeReleased, -Enforced
    present(id)                                  the holder                         BillPresented
    pay_bill(id) + value == shortfall of cover   the drawee                         BillPaid
    dishonour(id, reason)                        the drawee                         BillDishonoured
    recourse(id, against)                        the holder claims                  RecourseClaimed
    recourse_pay(id) + value == claim            the party claimed; takes the bill  RecoursePaid
    stop(id)                                     the drawer, before payment         BillStopped
    expire(id)                                   anyone, after the last day         BillExpired
    views: get, history, count, cover, quote, liable, involved, held_by, instruments, open_dishonours

Refusal codes: see ERRORS below (the SDK lists the same).
"""

from consortia_contract import Contract, Map, Record, Value, public, require, view

ERRORS = (
    "bad_address", "bad_kind", "bad_amount", "bad_maturity", "bad_period", "bad_memo", "bad_rate",
    "bad_parts", "bad_reason", "bad_party", "unknown_party", "party_frozen", "not_a_bank",
    "bill_not_found", "not_drawer", "not_drawee", "not_holder", "not_pledgee", "not_liable",
    "not_transferable", "not_accepted", "already_accepted", "not_a_bill", "bill_closed",
    "already_paid", "not_due", "matured", "presentment_period_over", "pledged", "not_pledged",
    "pledge_not_due", "stopped", "discount_offered", "no_discount_offer", "not_presented",
    "not_dishonoured", "no_claim", "wrong_value", "insufficient_cover", "cover_needs_value",
    "not_expired", "already_presented",
)

CHEQUE = "cheque"
BILL = "bill"
BANK = "bank"
COMMERCIAL = "commercial"

ISSUED = "issued"
ACCEPTED = "accepted"
PRESENTED = "presented"
PAID = "paid"
DISHONOURED = "dishonoured"
SETTLED = "settled"
CANCELLED = "cancelled"
EXPIRED = "expired"
SPLIT = "split"
LIVE = (ISSUED, ACCEPTED)

SECOND_MS = 1000
DAY_MS = 86_400_000
DATE_OFFSET_MS = 8 * 3_600_000
"""Dates are Beijing calendar dates (UTC+8), the bill system's calendar."""
CHEQUE_PERIOD_MS = 10 * DAY_MS
"""A cheque is presented within 10 days of its issue (the default and the longest period)."""
PRESENT_WINDOW_MS = 10 * DAY_MS
"""A bill is presented from its maturity to 10 days after it."""
MIN_TERM_MS = SECOND_MS
"""The shortest term of a bill or presentment period of a cheque. The law sets no minimum; a
second lets a test on a real network reach maturity by block timestamps, never by faking time."""
MAX_TERM_MONTHS = 12
DAY_BASIS = 360
"""Discount interest: ACT/360 (actual days, 360-day year)."""
BPS = 10_000
MAX_RATE_BPS = 10_000
MAX_PARTS = 16
CIRCULAR_WINDOW_MS = 90 * DAY_MS
"""An instrument endorsed back to a party that endorsed it away within this window alerts the regulator."""
MEMO_BYTES = 32
MAX_LIST = 200
REASONS = ("insufficient_cover", "stopped", "refused", "forged", "account_closed", "disputed")
"""Reasons the drawee may give when it dishonours (a refused acceptance is ``acceptance_refused``)."""
ACCEPTANCE_REFUSED = "acceptance_refused"
BANK_ROLES = ("bank", "central-bank")


def check_address(value: bytes, what: str) -> None:
    require(isinstance(value, bytes) and len(value) == 20,
            f"{what} must be a 20-byte address, got {len(value) if isinstance(value, bytes) else value!r}",
            "bad_address")


def hexa(address: bytes) -> str:
    return "0x" + address.hex()


def civil(ms: int) -> list:
    """The Beijing calendar date [year, month, day] of a timestamp (days-to-civil, integers only)."""
    z = (ms + DATE_OFFSET_MS) // DAY_MS + 719_468
    era = z // 146_097
    doe = z - era * 146_097
    yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = mp + 3 if mp < 10 else mp - 9
    year = yoe + era * 400 + (1 if month <= 2 else 0)
    return [year, month, day]


def show_date(date: list) -> str:
    return f"{date[0]}-{'0' if date[1] < 10 else ''}{date[1]}-{'0' if date[2] < 10 else ''}{date[2]}"


def month_days(year: int, month: int) -> int:
    if month == 2:
        leap = (year % 4 == 0 and year % 100 != 0) or year % 400 == 0
        return 29 if leap else 28
    return 30 if month in (4, 6, 9, 11) else 31


def months_later(date: list, months: int) -> list:
    """The same day ``months`` later (the month's last day when it is shorter)."""
    index = date[0] * 12 + date[1] - 1 + months
    year, month = index // 12, index % 12 + 1
    return [year, month, min(date[2], month_days(year, month))]


def day_number(ms: int) -> int:
    return (ms + DATE_OFFSET_MS) // DAY_MS


def discount_terms(amount: int, rate_bps: int, now_ms: int, maturity_ms: int) -> list:
    """[days, interest, price]: days from the discount date (counted) to the maturity date (not
    counted), interest = amount x rate x days / (10,000 x 360) rounded half up to the unit."""
    days = max(0, day_number(maturity_ms) - day_number(now_ms))
    divisor = BPS * DAY_BASIS
    interest = (amount * rate_bps * days + divisor // 2) // divisor
    return [days, interest, amount - interest]


class Empty(Record):
    """``{}``: no offer, pledge, dishonour or claim at the moment."""


class Offer(Record):
    bank: bytes
    rate_bps: int
    since: int


class Pledge(Record):
    lender: bytes
    since: int
    until: int


class Dishonour(Record):
    reason: str
    by: bytes
    at: int


class Claim(Record):
    against: bytes
    amount: int
    since: int


class Bill(Record):
    """A cheque or bill: parties, amount, dates, status and what is pending on it."""
    id: int
    kind: str
    acceptance: str
    drawer: bytes
    drawee: bytes
    payee: bytes
    holder: bytes
    amount: int
    issued: int
    issued_height: int
    maturity: int
    period: int
    not_transferable: bool
    memo: bytes
    parent: int
    parent_steps: int
    parts: list[int]
    status: str
    stopped: int
    accepted: int
    presented: int
    paid: int
    paid_from_cover: int
    advanced: int
    chain: list[bytes]
    left: list[list[bytes | int]]
    pledge: Pledge | Empty
    offer: Offer | Empty
    dishonour: Dishonour | Empty
    claim: Claim | Empty
    dishonour_open: bool
    steps: int


class Step(Record):
    """One step of an instrument's history, naming its transaction."""
    id: int
    n: int
    action: str
    by: bytes
    party: bytes
    amount: int
    note: str
    holder: bytes
    status: str
    height: int
    time: int
    tx: bytes


class Terms(Record):
    """Discount terms (ACT/360): days to maturity, interest, price."""
    days: int
    interest: int
    price: int


class Bills(Contract):
    bills = Map(int, dict)
    steps = Map(int, Map(int, dict))
    cover_of = Map(bytes, Map(bytes, int))
    cover_total = Value(int)
    open_of = Map(bytes, int)
    party_count = Map(bytes, int)
    party_ids = Map(bytes, Map(int, int))
    party_seen = Map(bytes, Map(int, bool))
    next_id = Value(int)

    # --- cover --------------------------------------------------------------------------

    @public
    def deposit(self, drawee: bytes) -> int:
        """Put the attached value with ``drawee`` as cover for instruments drawn on it."""
        require(self.value > 0, "attach the cover to deposit (attached value is 0)", "cover_needs_value")
        self.party(drawee, "the drawee")
        total = self.cover_of[self.caller][drawee] + self.value
        self.cover_of[self.caller][drawee] = total
        self.cover_total += self.value
        self.emit("CoverDeposited", owner=self.caller, drawee=drawee, amount=self.value, cover=total)
        return total

    @public
    def withdraw(self, drawee: bytes, amount: int) -> int:
        check_address(drawee, "the drawee")
        require(isinstance(amount, int) and amount > 0,
                f"amount must be positive, got {amount!r}", "bad_amount")
        held = self.cover_of[self.caller][drawee]
        require(amount <= held, f"cover of {hexa(self.caller)} with {hexa(drawee)} is {held}, "
                                f"{amount} asked", "insufficient_cover")
        self.cover_of[self.caller][drawee] = held - amount
        self.cover_total -= amount
        self.pay(self.caller, amount)
        self.emit("CoverWithdrawn", owner=self.caller, drawee=drawee, amount=amount, cover=held - amount)
        return held - amount

    # --- issue, acceptance, cancellation ----------------------------------------------------

    @public
    def issue(self, kind: str, acceptance: str, payee: bytes, drawee: bytes, amount: int,
              maturity_ms: int, not_transferable: bool, memo: bytes, period_ms: int) -> int:
        now = self.block.timestamp_ms
        require(kind in (CHEQUE, BILL), f"kind is {CHEQUE!r} or {BILL!r}, got {kind!r}", "bad_kind")
        require(isinstance(amount, int) and amount > 0, f"the face amount must be positive, got {amount!r}",
                "bad_amount")
        require(isinstance(not_transferable, bool), "not_transferable is true or false", "bad_kind")
        require(isinstance(memo, bytes) and len(memo) in (0, MEMO_BYTES),
                f"the memo is a {MEMO_BYTES}-byte hash or empty", "bad_memo")
        self.party(self.caller, "the drawer")
        self.party(payee, "the payee")
        who = self.party(drawee, "the drawee")
        if kind == CHEQUE:
            require(acceptance == "",
                    f"a cheque is never accepted: acceptance must be empty, got {acceptance!r}",
                    "bad_kind")
            require(maturity_ms == 0, f"a cheque is payable at sight: maturity must be 0, got {maturity_ms}",
                    "bad_maturity")
            period = CHEQUE_PERIOD_MS if period_ms == 0 else period_ms
            require(isinstance(period, int) and MIN_TERM_MS <= period <= CHEQUE_PERIOD_MS,
                    f"a cheque's presentment period is {MIN_TERM_MS} to {CHEQUE_PERIOD_MS} ms (0: 10 days), "
                    f"got {period_ms}", "bad_period")
            require(who.get("org_role") in BANK_ROLES and who.get("role") != "wallet",
                    f"a cheque is drawn on a bank; drawee {hexa(drawee)} is {describe(who)}", "not_a_bank")
        else:
            require(acceptance in (BANK, COMMERCIAL),
                    f"a bill is a {BANK!r} or {COMMERCIAL!r} acceptance, got {acceptance!r}", "bad_kind")
            require(period_ms == 0, f"a bill's presentment window is fixed ({PRESENT_WINDOW_MS} ms after "
                                    f"maturity): period must be 0, got {period_ms}", "bad_period")
            period = PRESENT_WINDOW_MS
            require(isinstance(maturity_ms, int), "the maturity is a timestamp in ms", "bad_maturity")
            latest = months_later(civil(now), MAX_TERM_MONTHS)
            require(maturity_ms >= now + MIN_TERM_MS and civil(maturity_ms) <= latest,
                    f"maturity {maturity_ms} must be at least {MIN_TERM_MS} ms after the issue time {now} "
                    f"and on or before {show_date(latest)} (12 months)", "bad_maturity")
            if acceptance == BANK:
                require(who.get("org_role") in BANK_ROLES and who.get("role") != "wallet",
                        f"a bank acceptance is accepted by a bank; {hexa(drawee)} is {describe(who)}",
                        "not_a_bank")
        self.next_id += 1
        bill_id = self.next_id
        bill = {
            "id": bill_id, "kind": kind, "acceptance": acceptance, "drawer": self.caller, "drawee": drawee,
            "payee": payee, "holder": payee, "amount": amount, "issued": now,
            "issued_height": self.block.height, "maturity": maturity_ms, "period": period,
            "not_transferable": not_transferable, "memo": memo, "parent": 0, "parent_steps": 0,
            "parts": [], "status": ISSUED, "stopped": 0, "accepted": 0, "presented": 0, "paid": 0,
            "paid_from_cover": 0, "advanced": 0, "chain": [], "left": [], "pledge": {}, "offer": {},
            "dishonour": {}, "claim": {}, "dishonour_open": False, "steps": 0,
        }
        self.involve(self.caller, bill_id)
        self.involve(drawee, bill_id)
        self.involve(payee, bill_id)
        self.record(bill, "issue", payee, amount, kind if kind == CHEQUE else acceptance + " acceptance")
        self.emit("BillIssued", id=bill_id, kind=kind, acceptance=acceptance, drawer=self.caller,
                  drawee=drawee, payee=payee, amount=amount, maturity=maturity_ms, period=period,
                  not_transferable=not_transferable)
        return bill_id

    @public
    def accept(self, bill_id: int) -> None:
        bill = self.pending_acceptance(bill_id)
        now = self.block.timestamp_ms
        require(now < bill["maturity"], f"bill {bill_id} matured at {bill['maturity']} (now {now}): it can "
                                        "no longer be accepted", "matured")
        bill["status"] = ACCEPTED
        bill["accepted"] = now
        self.record(bill, "accept", b"", bill["amount"], "")
        self.emit("BillAccepted", id=bill_id, acceptor=self.caller, amount=bill["amount"])

    @public
    def refuse(self, bill_id: int) -> None:
        """The drawee refuses acceptance: dishonour by non-acceptance, recourse opens at once."""
        bill = self.pending_acceptance(bill_id)
        self.dishonoured(bill, ACCEPTANCE_REFUSED)

    @public
    def cancel(self, bill_id: int) -> None:
        bill = self.load(bill_id)
        require(self.caller == bill["drawer"],
                f"only the drawer {hexa(bill['drawer'])} cancels bill {bill_id}",
                "not_drawer")
        require(bill["kind"] == BILL,
                f"instrument {bill_id} is a cheque: the drawer stops it, never cancels it",
                "not_a_bill")
        self.require_open(bill)
        require(bill["status"] == ISSUED, f"bill {bill_id} was accepted at {bill['accepted']}: it can be "
                                          "cancelled only before acceptance", "already_accepted")
        bill["status"] = CANCELLED
        self.record(bill, "cancel", b"", bill["amount"], "")
        self.emit("BillCancelled", id=bill_id, drawer=self.caller)

    # --- negotiation --------------------------------------------------------------------------

    @public
    def endorse(self, bill_id: int, to: bytes) -> None:
        bill = self.negotiable(bill_id, "endorse")
        self.party(to, "the endorsee")
        require(to != bill["holder"], f"{hexa(to)} already holds instrument {bill_id}", "bad_party")
        self.circular_check(bill, to)
        self.transfer(bill, to)
        self.record(bill, "endorse", to, bill["amount"], "")
        self.emit("BillEndorsed", id=bill_id, by=self.caller, to=to, amount=bill["amount"])

    @public
    def split(self, bill_id: int, amounts: list) -> list:
        bill = self.negotiable(bill_id, "split", transfers=False)
        require(bill["kind"] == BILL, f"instrument {bill_id} is a cheque: only bills are split", "not_a_bill")
        require(isinstance(amounts, list) and 2 <= len(amounts) <= MAX_PARTS,
                f"split into 2 to {MAX_PARTS} parts, got "
                f"{len(amounts) if isinstance(amounts, list) else amounts!r}", "bad_parts")
        for part in amounts:
            require(isinstance(part, int) and not isinstance(part, bool) and part > 0,
                    f"each part is a positive whole amount, got {part!r}", "bad_parts")
        require(sum(amounts) == bill["amount"],
                f"parts sum to {sum(amounts)}, the face amount of bill {bill_id} is {bill['amount']}",
                "bad_parts")
        ids = [self.next_id + n for n in range(1, len(amounts) + 1)]
        self.next_id += len(amounts)
        bill["status"] = SPLIT
        bill["parts"] = ids
        self.record(bill, "split", b"", bill["amount"], ",".join([str(a) for a in amounts]))
        for index in range(len(ids)):
            child = dict(bill)
            child["id"] = ids[index]
            child["amount"] = amounts[index]
            child["status"] = ACCEPTED
            child["parts"] = []
            child["parent"] = bill_id
            child["parent_steps"] = bill["steps"]
            child["steps"] = 0
            child["chain"] = list(bill["chain"])
            child["left"] = list(bill["left"])
            for party in [bill["drawer"], bill["drawee"], bill["payee"], bill["holder"]] + bill["chain"]:
                self.involve(party, ids[index])
            self.record(child, "split_from", b"", amounts[index],
                        f"part {index + 1} of {len(ids)} of {bill_id}")
        self.emit("BillSplit", id=bill_id, parts=ids, amounts=amounts, holder=bill["holder"])
        return ids

    @public
    def discount(self, bill_id: int, bank: bytes, rate_bps: int) -> dict:
        """The holder offers the bill to ``bank`` at an annual rate; the bank's discount_accept
        pays the price and takes the bill in one transaction."""
        bill = self.negotiable(bill_id, "discount")
        require(bill["kind"] == BILL,
                f"instrument {bill_id} is a cheque: only bills are discounted", "not_a_bill")
        who = self.party(bank, "the discounting bank")
        require(who.get("org_role") in BANK_ROLES and who.get("role") != "wallet",
                f"bills are discounted at a bank; {hexa(bank)} is {describe(who)}", "not_a_bank")
        require(bank != bill["holder"], f"{hexa(bank)} already holds bill {bill_id}", "bad_party")
        require(isinstance(rate_bps, int) and 0 < rate_bps <= MAX_RATE_BPS,
                f"the discount rate is 1 to {MAX_RATE_BPS} basis points a year, got {rate_bps!r}", "bad_rate")
        terms = discount_terms(bill["amount"], rate_bps, self.block.timestamp_ms, bill["maturity"])
        require(terms[2] > 0, f"at {rate_bps} bp for {terms[0]} days the interest {terms[1]} takes the whole "
                              f"face amount {bill['amount']}", "bad_rate")
        bill["offer"] = {"bank": bank, "rate_bps": rate_bps, "since": self.block.timestamp_ms}
        self.involve(bank, bill_id)
        self.record(bill, "discount_offer", bank, terms[2], f"rate {rate_bps} bp")
        self.emit("DiscountOffered", id=bill_id, holder=self.caller, bank=bank, rate_bps=rate_bps,
                  days=terms[0], interest=terms[1], price=terms[2])
        return {"days": terms[0], "interest": terms[1], "price": terms[2]}

    @public
    def discount_accept(self, bill_id: int) -> dict:
        bill = self.load(bill_id)
        offer = bill["offer"]
        require(len(offer) > 0, f"bill {bill_id} has no discount offer", "no_discount_offer")
        require(self.caller == offer["bank"], f"bill {bill_id} is offered to {hexa(offer['bank'])}, not "
                                              f"{hexa(self.caller)}", "no_discount_offer")
        self.require_open(bill)
        require(bill["status"] == ACCEPTED, f"bill {bill_id} is {bill['status']}", "bill_closed")
        require(bill["stopped"] == 0, f"the drawer stopped payment of bill {bill_id} at {bill['stopped']}",
                "stopped")
        now = self.block.timestamp_ms
        require(now < bill["maturity"], f"bill {bill_id} matured at {bill['maturity']} (now {now}): it is "
                                        "presented, not discounted", "matured")
        terms = discount_terms(bill["amount"], offer["rate_bps"], now, bill["maturity"])
        price = terms[2]
        require(self.value >= price,
                f"the price of bill {bill_id} is {price} (face {bill['amount']} - interest "
                                     f"{terms[1]} for {terms[0]} days at {offer['rate_bps']} bp, ACT/360); "
                                     f"attached {self.value}", "wrong_value")
        if self.open_of[bill["drawer"]] > 0:
            self.alert_regulator(
                "discount_open_dishonour", bill["drawer"], bill["amount"],
                f"bill {bill_id} discounted at {hexa(self.caller)} while its drawer "
                f"{hexa(bill['drawer'])} has {self.open_of[bill['drawer']]} open dishonour(s)")
        seller = bill["holder"]
        bill["offer"] = {}
        self.circular_check(bill, self.caller)
        self.transfer(bill, self.caller)
        self.record(bill, "discount", self.caller, price,
                    f"rate {offer['rate_bps']} bp, {terms[0]} days ACT/360, interest {terms[1]}")
        self.pay(seller, price)
        if self.value > price:
            self.pay(self.caller, self.value - price)
        self.emit("BillDiscounted", id=bill_id, seller=seller, bank=self.caller, rate_bps=offer["rate_bps"],
                  days=terms[0], interest=terms[1], price=price)
        return {"days": terms[0], "interest": terms[1], "price": price}

    @public
    def discount_cancel(self, bill_id: int) -> None:
        bill = self.load(bill_id)
        offer = bill["offer"]
        require(len(offer) > 0, f"bill {bill_id} has no discount offer", "no_discount_offer")
        require(self.caller in (bill["holder"], offer["bank"]),
                f"the offer of bill {bill_id} is withdrawn by its holder {hexa(bill['holder'])} or declined "
                f"by the bank {hexa(offer['bank'])}", "not_holder")
        bill["offer"] = {}
        self.record(bill, "discount_cancel", offer["bank"], 0, "")
        self.emit("DiscountCancelled", id=bill_id, bank=offer["bank"], by=self.caller)

    @public
    def pledge(self, bill_id: int, lender: bytes, until_ms: int) -> None:
        bill = self.negotiable(bill_id, "pledge")
        require(bill["kind"] == BILL,
                f"instrument {bill_id} is a cheque: only bills are pledged", "not_a_bill")
        self.party(lender, "the lender")
        require(lender != bill["holder"], f"{hexa(lender)} holds bill {bill_id}: it cannot lend against it",
                "bad_party")
        until = bill["maturity"] if until_ms == 0 else until_ms
        now = self.block.timestamp_ms
        require(isinstance(until, int) and now < until <= bill["maturity"],
                f"the pledge runs until a time after now ({now}) and at most the maturity "
                f"{bill['maturity']} (0: the maturity), got {until_ms}", "bad_maturity")
        bill["pledge"] = {"lender": lender, "since": now, "until": until}
        self.involve(lender, bill_id)
        self.record(bill, "pledge", lender, bill["amount"], f"until {until}")
        self.emit("BillPledged", id=bill_id, holder=self.caller, lender=lender, until=until)

    @public
    def release(self, bill_id: int) -> None:
        bill = self.pledged_bill(bill_id)
        lender = bill["pledge"]["lender"]
        bill["pledge"] = {}
        self.record(bill, "release", bill["holder"], bill["amount"], "")
        self.emit("PledgeReleased", id=bill_id, lender=lender, holder=bill["holder"])

    @public
    def enforce(self, bill_id: int) -> None:
        """The lender, after the pledge's term: the bill becomes the lender's."""
        bill = self.pledged_bill(bill_id)
        pledge = bill["pledge"]
        now = self.block.timestamp_ms
        require(now >= pledge["until"],
                f"the pledge of bill {bill_id} runs until {pledge['until']} (now {now})",
                "pledge_not_due")
        pledgor = bill["holder"]
        bill["pledge"] = {}
        self.transfer(bill, self.caller)
        self.record(bill, "enforce", self.caller, bill["amount"], f"pledgor {hexa(pledgor)}")
        self.emit("PledgeEnforced", id=bill_id, lender=self.caller, pledgor=pledgor)

    # --- presentment, payment, dishonour ---------------------------------------------------

    @public
    def present(self, bill_id: int) -> None:
        bill = self.load(bill_id)
        self.require_open(bill)
        self.require_holder(bill, "presents")
        require(bill["status"] != PRESENTED, f"instrument {bill_id} was presented at {bill['presented']}",
                "already_presented")
        require(bill["status"] in LIVE, f"instrument {bill_id} is {bill['status']}", "bill_closed")
        require(bill["status"] != ISSUED or bill["kind"] == CHEQUE,
                f"bill {bill_id} is not accepted: it cannot be presented for payment", "not_accepted")
        self.require_unencumbered(bill)
        now = self.block.timestamp_ms
        if bill["kind"] == BILL:
            require(now >= bill["maturity"], f"bill {bill_id} matures at {bill['maturity']} (now {now}, "
                                             f"{bill['maturity'] - now} ms to go)", "not_due")
        deadline = self.deadline(bill)
        require(now <= deadline, f"the presentment period of instrument {bill_id} ended at {deadline} "
                                 f"(now {now})", "presentment_period_over")
        bill["status"] = PRESENTED
        bill["presented"] = now
        self.record(bill, "present", bill["drawee"], bill["amount"], "")
        self.emit("BillPresented", id=bill_id, holder=self.caller, drawee=bill["drawee"],
                  amount=bill["amount"])

    @public
    def pay_bill(self, bill_id: int) -> dict:
        """The drawee pays the holder: from the drawer's cover with it first, the rest (its own
        funds: a bank acceptance's, or an advance) attached to this call — exactly."""
        bill = self.load(bill_id)
        require(self.caller == bill["drawee"], f"instrument {bill_id} is paid by its drawee "
                                               f"{hexa(bill['drawee'])}", "not_drawee")
        require(bill["status"] != PAID, f"instrument {bill_id} was paid at {bill['paid']}", "already_paid")
        require(bill["stopped"] == 0,
                f"the drawer stopped payment of instrument {bill_id} at {bill['stopped']}",
                "stopped")
        require(bill["status"] == PRESENTED, f"instrument {bill_id} is {bill['status']}, not presented",
                "not_presented")
        amount = bill["amount"]
        held = self.cover_of[bill["drawer"]][self.caller]
        used = min(held, amount)
        shortfall = amount - used
        require(self.value == shortfall,
                f"instrument {bill_id} of {amount}: the drawer's cover with {hexa(self.caller)} is {held}, "
                f"so "
                f"attach exactly {shortfall}; attached {self.value}", "wrong_value")
        self.cover_of[bill["drawer"]][self.caller] = held - used
        self.cover_total -= used
        bill["status"] = PAID
        bill["paid"] = self.block.timestamp_ms
        bill["paid_from_cover"] = used
        bill["advanced"] = shortfall
        self.record(bill, "pay", bill["holder"], amount, f"cover {used}, drawee's own funds {shortfall}")
        self.pay_out(bill["holder"], amount)
        self.emit("BillPaid", id=bill_id, holder=bill["holder"], drawee=self.caller, amount=amount,
                  from_cover=used, advanced=shortfall)
        return {"from_cover": used, "advanced": shortfall}

    @public
    def dishonour(self, bill_id: int, reason: str) -> None:
        bill = self.load(bill_id)
        require(self.caller == bill["drawee"], f"instrument {bill_id} is dishonoured by its drawee "
                                               f"{hexa(bill['drawee'])}", "not_drawee")
        require(bill["status"] != PAID, f"instrument {bill_id} was paid at {bill['paid']}", "already_paid")
        require(reason in REASONS, f"reason {reason!r} is not one of {list(REASONS)}", "bad_reason")
        if reason == "stopped":
            require(bill["stopped"] > 0, f"instrument {bill_id} is not stopped", "bad_reason")
            self.require_open(bill)
            require(bill["status"] in (PRESENTED, ISSUED, ACCEPTED),
                    f"instrument {bill_id} is {bill['status']}", "bill_closed")
        else:
            require(bill["status"] == PRESENTED, f"instrument {bill_id} is {bill['status']}, not presented",
                    "not_presented")
        if reason == "insufficient_cover":
            held = self.cover_of[bill["drawer"]][self.caller]
            require(bill["acceptance"] != BANK,
                    f"bill {bill_id} is a bank acceptance: the acceptor pays from its "
                                                "own funds", "bad_reason")
            require(held < bill["amount"],
                    f"the drawer's cover with {hexa(self.caller)} is {held}, enough for "
                                           f"{bill['amount']}", "bad_reason")
        self.dishonoured(bill, reason)

    @public
    def stop(self, bill_id: int) -> None:
        bill = self.load(bill_id)
        require(self.caller == bill["drawer"], f"only the drawer {hexa(bill['drawer'])} stops payment of "
                                               f"instrument {bill_id}", "not_drawer")
        require(bill["status"] != PAID, f"instrument {bill_id} was paid at {bill['paid']}", "already_paid")
        require(bill["stopped"] == 0, f"instrument {bill_id} was stopped at {bill['stopped']}", "stopped")
        self.require_open(bill)
        require(bill["status"] in (ISSUED, ACCEPTED, PRESENTED), f"instrument {bill_id} is {bill['status']}",
                "bill_closed")
        bill["stopped"] = self.block.timestamp_ms
        self.record(bill, "stop", b"", bill["amount"], "")
        self.emit("BillStopped", id=bill_id, drawer=self.caller, holder=bill["holder"])

    # --- recourse -----------------------------------------------------------------------------

    @public
    def recourse(self, bill_id: int, against: bytes) -> int:
        """The holder of a dishonoured instrument claims its face amount from any prior party."""
        bill = self.load(bill_id)
        check_address(against, "the party claimed")
        require(bill["status"] == DISHONOURED, f"instrument {bill_id} is {bill['status']}, not dishonoured",
                "not_dishonoured")
        self.require_holder(bill, "claims recourse on")
        if len(bill["pledge"]) > 0:
            fail_pledged(bill)
        liable = self.liable_parties(bill)
        require(against in liable, f"{hexa(against)} is not liable to {hexa(bill['holder'])} on instrument "
                                   f"{bill_id}; liable: {', '.join([hexa(a) for a in liable]) or 'nobody'}",
                "not_liable")
        bill["claim"] = {"against": against, "amount": bill["amount"], "since": self.block.timestamp_ms}
        self.involve(against, bill_id)
        self.record(bill, "recourse", against, bill["amount"], "")
        self.emit("RecourseClaimed", id=bill_id, holder=self.caller, against=against, amount=bill["amount"])
        return bill["amount"]

    @public
    def recourse_pay(self, bill_id: int) -> None:
        """The party claimed pays the claim (attached) and takes the instrument; it may claim
        further back, unless it is the last party liable."""
        bill = self.load(bill_id)
        claim = bill["claim"]
        require(bill["status"] == DISHONOURED and len(claim) > 0,
                f"instrument {bill_id} has no open recourse "
                                                                 "claim", "no_claim")
        require(self.caller == claim["against"], f"the claim on instrument {bill_id} is against "
                                                 f"{hexa(claim['against'])}", "not_liable")
        require(self.value == claim["amount"], f"attach the claim's amount {claim['amount']}; attached "
                                               f"{self.value}", "wrong_value")
        creditor = bill["holder"]
        bill["claim"] = {}
        payer = self.caller
        accepted = bill["accepted"] > 0
        if payer in bill["chain"]:
            bill["chain"] = bill["chain"][:bill["chain"].index(payer)]
        else:
            bill["chain"] = []
        bill["holder"] = payer
        final = (accepted and payer == bill["drawee"]) or (payer == bill["drawer"] and (
            not accepted or bill["drawee"] == bill["drawer"]))
        if final:
            bill["status"] = SETTLED
        if bill["dishonour_open"] and (final or payer == bill["drawer"]):
            bill["dishonour_open"] = False
            self.open_of[bill["drawer"]] -= 1
        self.record(bill, "recourse_pay", creditor, claim["amount"], "settled" if final else "")
        self.pay_out(creditor, claim["amount"])
        self.emit("RecoursePaid", id=bill_id, by=payer, to=creditor, amount=claim["amount"], settled=final)

    # --- expiry -------------------------------------------------------------------------------

    @public
    def expire(self, bill_id: int) -> None:
        """Anyone, after the last day of presentment (or the maturity of a bill never accepted)."""
        bill = self.load(bill_id)
        self.require_open(bill)
        require(bill["status"] in LIVE, f"instrument {bill_id} is {bill['status']}: only an instrument never "
                                        "presented expires", "bill_closed")
        now = self.block.timestamp_ms
        last = bill["maturity"] if bill["kind"] == BILL and bill["status"] == ISSUED else self.deadline(bill)
        require(now > last, f"instrument {bill_id} can be presented (or accepted) until {last} (now {now})",
                "not_expired")
        bill["status"] = EXPIRED
        self.record(bill, "expire", b"", bill["amount"], "")
        self.emit("BillExpired", id=bill_id, holder=bill["holder"], last=last)

    # --- views ---------------------------------------------------------------------------------

    @view
    def get(self, bill_id: int) -> Bill:
        return self.load(bill_id)

    @view
    def history(self, bill_id: int) -> list[Step]:
        """Every step of the instrument, those of the bills it was split from first."""
        bill = self.load(bill_id)
        out = []
        if bill["parent"] > 0:
            full = self.history(bill["parent"])
            out = full[:len(full) - self.bills[bill["parent"]]["steps"] + bill["parent_steps"]]
        for n in range(1, bill["steps"] + 1):
            out.append(self.steps[bill_id][n])
        return out

    @view
    def count(self) -> int:
        return self.next_id

    @view
    def cover(self, owner: bytes, drawee: bytes) -> int:
        return self.cover_of[owner][drawee]

    @view
    def total_cover(self) -> int:
        return self.cover_total

    @view
    def open_dishonours(self, drawer: bytes) -> int:
        return self.open_of[drawer]

    @view
    def quote(self, bill_id: int, rate_bps: int, at_ms: int) -> Terms:
        """The discount terms of a bill at ``rate_bps`` on the date of ``at_ms`` (0: now)."""
        bill = self.load(bill_id)
        at = self.block.timestamp_ms if at_ms == 0 else at_ms
        terms = discount_terms(bill["amount"], rate_bps, at, bill["maturity"])
        return {"days": terms[0], "interest": terms[1], "price": terms[2]}

    @view
    def liable(self, bill_id: int) -> list[bytes]:
        return self.liable_parties(self.load(bill_id))

    @view
    def involved(self, address: bytes, start: int, limit: int) -> list[int]:
        """Ids of instruments ``address`` was ever party to, from the ``start``-th (0-based)."""
        total = self.party_count[address]
        end = min(total, start + min(limit, MAX_LIST))
        return [self.party_ids[address][n] for n in range(max(start, 0) + 1, end + 1)]

    @view
    def held_by(self, holder: bytes, start: int, limit: int) -> list[Bill]:
        """Instruments ``holder`` holds now (among those it was party to, from the ``start``-th)."""
        out = []
        for bill_id in self.involved(holder, start, limit):
            bill = self.bills[bill_id]
            if bill["holder"] == holder and bill["status"] != SPLIT:
                out.append(bill)
        return out

    @view
    def instruments(self, start: int, limit: int) -> list[Bill]:
        """Every instrument from id ``start`` on (the regulator's view), at most 200."""
        first = max(start, 1)
        last = min(self.next_id, first + min(limit, MAX_LIST) - 1)
        return [self.bills[n] for n in range(first, last + 1)]

    # --- internals ------------------------------------------------------------------------

    def load(self, bill_id: int) -> dict:
        require(isinstance(bill_id, int) and 0 < bill_id <= self.next_id,
                f"no instrument {bill_id!r} (ids are 1..{self.next_id})", "bill_not_found")
        return self.bills[bill_id]

    def party(self, address: bytes, what: str) -> dict:
        check_address(address, what)
        who = self.identity_of(address)
        require(who is not None and who.get("role") != "contract" and who.get("status") == "active",
                f"{what} {hexa(address)} must be an active, identified party; it is {describe(who)}",
                "unknown_party")
        require(not who.get("frozen"), f"{what} {hexa(address)} is frozen by the regulator", "party_frozen")
        return who

    def involve(self, address: bytes, bill_id: int) -> None:
        if not self.party_seen[address][bill_id]:
            self.party_seen[address][bill_id] = True
            count = self.party_count[address] + 1
            self.party_count[address] = count
            self.party_ids[address][count] = bill_id

    def record(self, bill: dict, action: str, party: bytes, amount: int, note: str) -> None:
        """Append a step to the instrument's history and store the instrument."""
        n = bill["steps"] + 1
        bill["steps"] = n
        self.steps[bill["id"]][n] = {
            "id": bill["id"], "n": n, "action": action, "by": self.caller, "party": party, "amount": amount,
            "note": note, "holder": bill["holder"], "status": bill["status"], "height": self.block.height,
            "time": self.block.timestamp_ms, "tx": self.tx_hash,
        }
        self.bills[bill["id"]] = bill

    def transfer(self, bill: dict, to: bytes) -> None:
        holder = bill["holder"]
        bill["chain"] = bill["chain"] + [holder]
        bill["left"] = bill["left"] + [[holder, self.block.timestamp_ms]]
        bill["holder"] = to
        self.involve(to, bill["id"])

    def circular_check(self, bill: dict, to: bytes) -> None:
        now = self.block.timestamp_ms
        for entry in bill["left"]:
            if entry[0] == to and now - entry[1] <= CIRCULAR_WINDOW_MS:
                self.alert_regulator(
                    "circular_endorsement", to, bill["amount"],
                    f"instrument {bill['id']} returns to {hexa(to)} from {hexa(bill['holder'])} "
                    f"{(now - entry[1]) // SECOND_MS} s after {hexa(to)} endorsed it away")
                return

    def require_open(self, bill: dict) -> None:
        status = bill["status"]
        require(status != PAID, f"instrument {bill['id']} was paid at {bill['paid']}", "already_paid")
        require(status not in (SETTLED, CANCELLED, EXPIRED, SPLIT),
                f"instrument {bill['id']} is {status}"
                + (f" into {bill['parts']}" if status == SPLIT else ""),
                "bill_closed")

    def require_holder(self, bill: dict, action: str) -> None:
        require(self.caller == bill["holder"], f"only the holder of record {hexa(bill['holder'])} {action} "
                                               f"instrument {bill['id']}, not {hexa(self.caller)}",
                "not_holder")

    def require_unencumbered(self, bill: dict) -> None:
        if len(bill["pledge"]) > 0:
            fail_pledged(bill)
        require(len(bill["offer"]) == 0, f"instrument {bill['id']} is offered for discount to "
                                         f"{hexa(bill['offer']['bank']) if len(bill['offer']) > 0 else ''}; "
                                         "withdraw the offer first", "discount_offered")
        require(bill["stopped"] == 0, f"the drawer stopped payment of instrument {bill['id']} at "
                                      f"{bill['stopped']}", "stopped")

    def negotiable(self, bill_id: int, action: str, transfers: bool = True) -> dict:
        """An instrument its holder may endorse, split, discount or pledge now."""
        bill = self.load(bill_id)
        self.require_open(bill)
        self.require_holder(bill, action + "s")
        require(bill["status"] != DISHONOURED, f"instrument {bill_id} was dishonoured "
                                               f"({bill['dishonour'].get('reason', '')})", "bill_closed")
        require(bill["status"] != PRESENTED, f"instrument {bill_id} was presented at {bill['presented']}",
                "bill_closed")
        require(bill["kind"] == CHEQUE or bill["status"] == ACCEPTED,
                f"bill {bill_id} is not accepted yet", "not_accepted")
        if transfers:
            require(not bill["not_transferable"], f"the drawer marked instrument {bill_id} not transferable",
                    "not_transferable")
        self.require_unencumbered(bill)
        now = self.block.timestamp_ms
        if bill["kind"] == BILL:
            require(now < bill["maturity"],
                    f"bill {bill_id} matured at {bill['maturity']} (now {now}): present "
                                            "it for payment", "matured")
        else:
            deadline = self.deadline(bill)
            require(now <= deadline, f"the presentment period of cheque {bill_id} ended at {deadline} "
                                     f"(now {now})", "presentment_period_over")
        return bill

    def pending_acceptance(self, bill_id: int) -> dict:
        bill = self.load(bill_id)
        require(bill["kind"] == BILL,
                f"instrument {bill_id} is a cheque: cheques are not accepted", "not_a_bill")
        require(self.caller == bill["drawee"], f"bill {bill_id} is accepted or refused by its drawee "
                                               f"{hexa(bill['drawee'])}", "not_drawee")
        self.require_open(bill)
        require(bill["status"] == ISSUED, f"bill {bill_id} is {bill['status']}: acceptance was already "
                                          "decided", "already_accepted")
        return bill

    def pledged_bill(self, bill_id: int) -> dict:
        bill = self.load(bill_id)
        pledge = bill["pledge"]
        require(len(pledge) > 0, f"bill {bill_id} is not pledged", "not_pledged")
        require(self.caller == pledge["lender"], f"only the lender {hexa(pledge['lender'])} releases or "
                                                 f"enforces the pledge of bill {bill_id}", "not_pledgee")
        return bill

    def deadline(self, bill: dict) -> int:
        return (bill["maturity"] if bill["kind"] == BILL else bill["issued"]) + bill["period"]

    def dishonoured(self, bill: dict, reason: str) -> None:
        bill["status"] = DISHONOURED
        bill["dishonour"] = {"reason": reason, "by": self.caller, "at": self.block.timestamp_ms}
        bill["offer"] = {}
        if not bill["dishonour_open"]:
            bill["dishonour_open"] = True
            self.open_of[bill["drawer"]] += 1
        self.record(bill, "dishonour", bill["holder"], bill["amount"], reason)
        self.emit("BillDishonoured", id=bill["id"], drawee=self.caller, holder=bill["holder"], reason=reason,
                  amount=bill["amount"])

    def liable_parties(self, bill: dict) -> list:
        """Who the holder may claim from (jointly and severally): the drawer, the acceptor, and
        the endorsers before the holder's own first endorsement."""
        holder = bill["holder"]
        chain = bill["chain"]
        if holder in chain:
            chain = chain[:chain.index(holder)]
        out = []
        for party in [bill["drawer"]] + ([bill["drawee"]] if bill["accepted"] > 0 else []) + chain:
            if party != holder and party not in out:
                out.append(party)
        return out

    def pay_out(self, to: bytes, amount: int) -> None:
        if amount > 0:
            self.pay(to, amount)


def fail_pledged(bill: dict) -> None:
    pledge = bill["pledge"]
    require(False, f"bill {bill['id']} is pledged to {hexa(pledge['lender'])} until {pledge['until']}: it "
                   "moves only by release or enforcement", "pledged")


def describe(who: dict | None) -> str:
    if who is None:
        return "no identity"
    if "contract" in who:
        return f"the contract {who['contract']!r}"
    return f"a {who.get('status')} {who.get('role')} of {who.get('org')!r} ({who.get('org_role')})"

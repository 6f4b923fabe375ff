"""Supply-chain finance: confirmed payables that travel down the supply chain, are financed at
banks and settled at maturity, and the invoice registry that keeps an invoice from being financed
twice (decisions/0017).

This file is contract source (deployed as text at genesis), not a module of the consortia package.

Parties are identified accounts (``identity_of``: active, not frozen); banks are staff of a
``bank`` (or ``central-bank``) organisation. Times are block timestamps (ms); the discount's day
count uses Beijing calendar dates (UTC+8). Amounts are integers in the currency's smallest unit.

    set_line(core, limit)                          a bank: the core's credit line        LineSet
    register_invoice(hash, buyer, amount[, content]) the seller; content: sealed contents  InvoiceRegistered
    confirm_invoice(hash) / dispute_invoice(hash)  the buyer             InvoiceConfirmed / -Disputed
    confirm(supplier, amount, maturity_ms, invoices) -> payable id (its first part has the same id)
                                                   the core, drawing on its line         PayableConfirmed
    transfer(part, to, amount) -> part id          the holder of record (splits if less) PartTransferred
    finance(part, bank, amount, rate_bps, recourse) -> part id   the holder offers       FinanceOffered
    finance_accept(part) + value >= price          the bank: pays and takes (DvP)        PartFinanced
    finance_cancel(part)                           the holder or the bank                FinanceCancelled
    settle(payable) + value == amount              the core, at maturity or later    PayableSettled, PartPaid
    default(payable)                               anyone, GRACE_MS after maturity PayableOverdue, PartOverdue
    claim_pay(part) + value == claim               the seller of a part financed with recourse   ClaimPaid
    views: line, payable, part, parts_of, invoice, quote, held_by, involved, payables_list, count,
           financed_total

Every part of a payable is a record of its own; a transfer of less than a part splits it (the
rest stays with the holder), so the live parts of a payable always sum to its amount.
Refusal codes: see ERRORS below (the SDK lists the same).
"""

from consortia_contract import Contract, Map, Record, Value, public, require, view

ERRORS = (
    "bad_address",
    "bad_amount",
    "bad_maturity",
    "bad_rate",
    "bad_hash",
    "bad_invoices",
    "bad_party",
    "bad_limit",
    "unknown_party",
    "party_frozen",
    "not_a_bank",
    "not_core",
    "not_buyer",
    "not_holder",
    "not_seller",
    "no_credit_line",
    "line_of_other_bank",
    "over_credit_line",
    "invoice_exists",
    "invoice_not_found",
    "invoice_mismatch",
    "invoice_disputed",
    "invoice_confirmed",
    "invoice_already_financed",
    "payable_not_found",
    "part_not_found",
    "payable_closed",
    "matured",
    "not_due",
    "not_overdue",
    "financed",
    "finance_offered",
    "no_finance_offer",
    "wrong_value",
    "too_many_parts",
    "no_claim",
)

CONFIRMED = "confirmed"
OVERDUE = "overdue"
SETTLED = "settled"
HELD = "held"
PAID = "paid"
REGISTERED = "registered"
DISPUTED = "disputed"

SECOND_MS = 1000
DAY_MS = 86_400_000
DATE_OFFSET_MS = 8 * 3_600_000
"""Dates are Beijing calendar dates (UTC+8)."""
MIN_TERM_MS = SECOND_MS
"""The shortest term of a payable: a second, so a test on a real network reaches maturity by block time."""
MAX_TERM_MS = 366 * DAY_MS
GRACE_MS = DAY_MS
"""After maturity the core has this long to pay before anyone may declare the payable overdue."""
DAY_BASIS = 360
BPS = 10_000
MAX_RATE_BPS = 10_000
MAX_INVOICES = 16
MAX_PARTS = 64
"""Parts of one payable (settlement pays each of them in one transaction)."""
HASH_BYTES = 32
MAX_LIST = 200
BANK_ROLES = ("bank", "central-bank")


def check_address(value: bytes, what: str) -> None:
    require(
        isinstance(value, bytes) and len(value) == 20,
        f"{what} must be a 20-byte address, got {len(value) if isinstance(value, bytes) else value!r}",
        "bad_address",
    )


def check_amount(value: int, what: str) -> None:
    require(
        isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**64,
        f"{what} must be a positive whole amount below 2**64, got {value!r}",
        "bad_amount",
    )


def hexa(address: bytes) -> str:
    return "0x" + address.hex()


def day_number(ms: int) -> int:
    return (ms + DATE_OFFSET_MS) // DAY_MS


def finance_terms(amount: int, rate_bps: int, now_ms: int, maturity_ms: int) -> list:
    """[days, interest, price]: days from the financing date (counted) to the maturity date (not
    counted), interest = amount x rate x days / (10,000 x 360) rounded half up to the unit."""
    days = max(0, day_number(maturity_ms) - day_number(now_ms))
    divisor = BPS * DAY_BASIS
    interest = (amount * rate_bps * days + divisor // 2) // divisor
    return [days, interest, amount - interest]


def describe(who: dict | None) -> str:
    if who is None:
        return "no identity"
    if "contract" in who:
        return f"the contract {who['contract']!r}"
    return f"a {who.get('status')} {who.get('role')} of {who.get('org')!r} ({who.get('org_role')})"


class Empty(Record):
    """``{}``: no credit line, offer, financing or claim."""


class Line(Record):
    """A core enterprise's credit line with its bank (``available`` = limit - used)."""
    core: bytes
    bank: bytes
    limit: int
    used: int
    since: int
    available: int


class Invoice(Record):
    """An invoice as registered, by the hash of its normalised fields."""
    hash: bytes
    seller: bytes
    buyer: bytes
    amount: int
    status: str
    locked: int
    linked: int
    payables: list[int]
    height: int
    time: int
    tx: bytes


class InvoiceWithContent(Invoice):
    """An invoice registered with its (sealed) content."""
    content: bytes


class Payable(Record):
    """A core enterprise's confirmed payable to a supplier, split into parts."""
    id: int
    core: bytes
    bank: bytes
    supplier: bytes
    amount: int
    maturity: int
    invoices: list[bytes]
    status: str
    parts: int
    confirmed: int
    height: int
    tx: bytes
    settled: int
    overdue: int


class FinanceOffer(Record):
    bank: bytes
    rate_bps: int
    recourse: bool
    since: int


class Financing(Record):
    bank: bytes
    seller: bytes
    recourse: bool
    rate_bps: int
    days: int
    interest: int
    price: int
    at: int
    locks: list[list[bytes | int]]


class Claim(Record):
    bank: bytes
    seller: bytes
    amount: int
    since: int
    paid: int


class Part(Record):
    """A part of a payable: holder, amount, previous holders, offer, financing, recourse claim."""
    id: int
    payable: int
    holder: bytes
    amount: int
    parent: int
    chain: list[bytes]
    status: str
    offer: FinanceOffer | Empty
    financing: Financing | Empty
    claim: Claim | Empty
    paid: int
    height: int
    tx: bytes


class Terms(Record):
    """Financing terms (ACT/360): days to maturity, interest, price."""
    days: int
    interest: int
    price: int


class Scf(Contract):
    lines = Map(bytes, dict)
    payables = Map(int, dict)
    parts = Map(int, dict)
    part_ids = Map(int, Map(int, int))
    invoices = Map(bytes, dict)
    party_count = Map(bytes, int)
    party_ids = Map(bytes, Map(int, int))
    party_seen = Map(bytes, Map(int, bool))
    next_id = Value(int)
    total_financed = Value(int)

    # --- credit lines -------------------------------------------------------------------------

    @public
    def set_line(self, core: bytes, limit: int) -> dict:
        """A bank sets (or changes) the credit line of a core enterprise; never below what is drawn."""
        self.bank(self.caller, "the lender")
        self.party(core, "the core enterprise")
        require(core != self.caller, "a bank does not set a credit line for itself", "bad_party")
        require(
            isinstance(limit, int) and not isinstance(limit, bool) and 0 <= limit < 2**64,
            f"the limit is a whole amount from 0 to 2**64 - 1, got {limit!r}",
            "bad_limit",
        )
        line = self.lines[core]
        used = line.get("used", 0)
        if len(line) > 0 and line["bank"] != self.caller:
            require(
                used == 0,
                f"{hexa(core)} draws {used} on its line at {hexa(line['bank'])}: another bank "
                "sets a line once that is repaid",
                "line_of_other_bank",
            )
        require(
            limit >= used,
            f"{hexa(core)} has drawn {used} on its line: the limit cannot go below it (asked {limit})",
            "bad_limit",
        )
        line = {
            "core": core,
            "bank": self.caller,
            "limit": limit,
            "used": used,
            "since": self.block.timestamp_ms,
        }
        self.lines[core] = line
        self.emit("LineSet", core=core, bank=self.caller, limit=limit, used=used)
        return line

    # --- invoice registry -----------------------------------------------------------------------

    @public
    def register_invoice(self, invoice: bytes, buyer: bytes, amount: int, content: bytes = b"") -> dict:
        """The seller registers an invoice by the hash of its normalised fields (the SDK's
        ``invoice_hash``); only the hash, the parties and the amount are on chain, and ``content``:
        the SHA-256 of the invoice's contents sealed to its parties and the supervisor (kept off
        chain by their organisations' nodes; apps/privacy), or empty."""
        self.check_hash(invoice)
        require(
            isinstance(content, bytes) and len(content) in (0, HASH_BYTES),
            f"an invoice's sealed contents are named by their {HASH_BYTES}-byte SHA-256, got "
            f"{len(content) if isinstance(content, bytes) else content!r}",
            "bad_hash",
        )
        self.party(self.caller, "the seller")
        self.party(buyer, "the buyer")
        require(buyer != self.caller, "the buyer and the seller of an invoice differ", "bad_party")
        check_amount(amount, "the invoice amount")
        known = self.invoices[invoice]
        require(
            len(known) == 0,
            f"invoice {invoice.hex()} was registered by {hexa(known.get('seller', b''))} at "
            f"height {known.get('height', 0)}",
            "invoice_exists",
        )
        record = {
            "hash": invoice,
            "seller": self.caller,
            "buyer": buyer,
            "amount": amount,
            "status": REGISTERED,
            "locked": 0,
            "linked": 0,
            "payables": [],
            "height": self.block.height,
            "time": self.block.timestamp_ms,
            "tx": self.tx_hash,
        }
        if len(content) > 0:
            record["content"] = content
        self.invoices[invoice] = record
        self.emit("InvoiceRegistered", hash=invoice, seller=self.caller, buyer=buyer, amount=amount)
        return record

    @public
    def confirm_invoice(self, invoice: bytes) -> None:
        """The buyer confirms an invoice (a disputed one too: the dispute is settled)."""
        record = self.buyer_invoice(invoice)
        require(
            record["status"] != CONFIRMED,
            f"invoice {invoice.hex()} is already confirmed",
            "invoice_confirmed",
        )
        record["status"] = CONFIRMED
        self.invoices[invoice] = record
        self.emit("InvoiceConfirmed", hash=invoice, buyer=self.caller)

    @public
    def dispute_invoice(self, invoice: bytes) -> None:
        """The buyer disputes an invoice it has not confirmed; a disputed invoice is never financed."""
        record = self.buyer_invoice(invoice)
        require(
            record["status"] != CONFIRMED,
            f"invoice {invoice.hex()} was confirmed by its buyer (linked to payables {record['payables']})",
            "invoice_confirmed",
        )
        require(
            record["status"] != DISPUTED, f"invoice {invoice.hex()} is already disputed", "invoice_disputed"
        )
        record["status"] = DISPUTED
        self.invoices[invoice] = record
        self.emit("InvoiceDisputed", hash=invoice, buyer=self.caller, amount=record["amount"])

    # --- confirmed payables -----------------------------------------------------------------

    @public
    def confirm(self, supplier: bytes, amount: int, maturity_ms: int, invoices: list) -> int:
        """The core enterprise confirms a payable to its supplier, drawing on its credit line; the
        invoices are the core's as buyer and the supplier's as seller (confirming the payable
        confirms them)."""
        self.party(self.caller, "the core enterprise")
        self.party(supplier, "the supplier")
        require(supplier != self.caller, "a core enterprise does not owe itself", "bad_party")
        check_amount(amount, "the payable's amount")
        now = self.block.timestamp_ms
        require(
            isinstance(maturity_ms, int) and now + MIN_TERM_MS <= maturity_ms <= now + MAX_TERM_MS,
            f"maturity {maturity_ms!r} must be {MIN_TERM_MS} ms to {MAX_TERM_MS // DAY_MS} days "
            f"after now ({now})",
            "bad_maturity",
        )
        require(
            isinstance(invoices, list) and 1 <= len(invoices) <= MAX_INVOICES,
            f"link 1 to {MAX_INVOICES} invoices, got "
            f"{len(invoices) if isinstance(invoices, list) else invoices!r}",
            "bad_invoices",
        )
        line = self.lines[self.caller]
        require(
            len(line) > 0, f"{hexa(self.caller)} has no credit line: a bank sets one first", "no_credit_line"
        )
        require(
            line["used"] + amount <= line["limit"],
            f"the credit line of {hexa(self.caller)} at {hexa(line['bank'])} is {line['limit']}, "
            f"{line['used']} "
            f"drawn, {line['limit'] - line['used']} available; {amount} asked",
            "over_credit_line",
        )
        records = []
        for invoice in invoices:
            self.check_hash(invoice)
            require(invoices.count(invoice) == 1, f"invoice {invoice.hex()} is linked twice", "bad_invoices")
            record = self.invoices[invoice]
            require(len(record) > 0, f"no invoice {invoice.hex()} is registered", "invoice_not_found")
            require(
                record["buyer"] == self.caller and record["seller"] == supplier,
                f"invoice {invoice.hex()} is from {hexa(record['seller'])} to {hexa(record['buyer'])}, "
                "not from "
                f"the supplier {hexa(supplier)} to the core {hexa(self.caller)}",
                "invoice_mismatch",
            )
            require(
                record["status"] != DISPUTED,
                f"invoice {invoice.hex()} is disputed by its buyer",
                "invoice_disputed",
            )
            records.append(record)
        self.next_id += 1
        payable_id = self.next_id
        invoiced = sum([r["amount"] for r in records])
        open_to_link = sum([max(0, r["amount"] - r["linked"]) for r in records])
        if amount != invoiced or amount > open_to_link:
            self.alert_regulator(
                "invoice_payable_mismatch",
                self.caller,
                amount,
                f"payable {payable_id} of {amount} links invoices of {invoiced} in all, "
                f"{open_to_link} of it not yet "
                "linked to other payables",
            )
        rest = amount
        for record in records:
            share = min(rest, max(0, record["amount"] - record["linked"]))
            record["linked"] += share
            rest -= share
            record["status"] = CONFIRMED
            record["payables"] = record["payables"] + [payable_id]
            self.invoices[record["hash"]] = record
        line["used"] += amount
        self.lines[self.caller] = line
        self.payables[payable_id] = {
            "id": payable_id,
            "core": self.caller,
            "bank": line["bank"],
            "supplier": supplier,
            "amount": amount,
            "maturity": maturity_ms,
            "invoices": list(invoices),
            "status": CONFIRMED,
            "parts": 1,
            "confirmed": now,
            "height": self.block.height,
            "tx": self.tx_hash,
            "settled": 0,
            "overdue": 0,
        }
        self.part_ids[payable_id][1] = payable_id
        self.new_part(payable_id, payable_id, supplier, amount, 0, [])
        self.involve(self.caller, payable_id)
        self.emit(
            "PayableConfirmed",
            id=payable_id,
            core=self.caller,
            supplier=supplier,
            amount=amount,
            maturity=maturity_ms,
            invoices=list(invoices),
            bank=line["bank"],
        )
        return payable_id

    @public
    def transfer(self, part_id: int, to: bytes, amount: int) -> int:
        """The holder passes ``amount`` of a part to ``to``: the whole part, or a new part split
        from it (the rest stays). The id of the part ``to`` now holds."""
        part, payable = self.movable(part_id, "transfers")
        require(
            len(part["financing"]) == 0,
            f"part {part_id} was financed by {hexa(part['holder'])}: a bank holds it to maturity",
            "financed",
        )
        self.party(to, "the recipient")
        require(to != part["holder"], f"{hexa(to)} already holds part {part_id}", "bad_party")
        check_amount(amount, "the amount transferred")
        require(amount <= part["amount"], f"part {part_id} is {part['amount']}; {amount} asked", "bad_amount")
        holder = part["holder"]
        if amount == part["amount"]:
            part["chain"] = part["chain"] + [holder]
            part["holder"] = to
            self.parts[part_id] = part
            self.involve(to, part_id)
            moved = part_id
        else:
            moved = self.split_off(payable, part, amount, to)
        self.emit(
            "PartTransferred",
            payable=payable["id"],
            part=part_id,
            moved=moved,
            by=holder,
            to=to,
            amount=amount,
        )
        return moved

    @public
    def finance(self, part_id: int, bank: bytes, amount: int, rate_bps: int, recourse: bool) -> dict:
        """The holder offers ``amount`` of a part to ``bank`` at an annual rate (a part of its own
        if less than the whole); the bank's finance_accept pays the price and takes it."""
        part, payable = self.movable(part_id, "finances")
        require(len(part["financing"]) == 0, f"part {part_id} is already financed", "financed")
        self.bank(bank, "the financing bank")
        require(bank != part["holder"], f"{hexa(bank)} holds part {part_id}", "bad_party")
        check_amount(amount, "the amount financed")
        require(amount <= part["amount"], f"part {part_id} is {part['amount']}; {amount} asked", "bad_amount")
        require(
            isinstance(rate_bps, int) and not isinstance(rate_bps, bool) and 0 < rate_bps <= MAX_RATE_BPS,
            f"the rate is 1 to {MAX_RATE_BPS} basis points a year, got {rate_bps!r}",
            "bad_rate",
        )
        require(isinstance(recourse, bool), "recourse is true or false", "bad_rate")
        terms = finance_terms(amount, rate_bps, self.block.timestamp_ms, payable["maturity"])
        require(
            terms[2] > 0,
            f"at {rate_bps} bp for {terms[0]} days the interest {terms[1]} takes all of {amount}",
            "bad_rate",
        )
        self.lockable(payable, amount)
        if amount < part["amount"]:
            part_id = self.split_off(payable, part, amount, part["holder"])
            part = self.parts[part_id]
        part["offer"] = {
            "bank": bank,
            "rate_bps": rate_bps,
            "recourse": recourse,
            "since": self.block.timestamp_ms,
        }
        self.parts[part_id] = part
        self.involve(bank, part_id)
        self.emit(
            "FinanceOffered",
            payable=payable["id"],
            part=part_id,
            holder=part["holder"],
            bank=bank,
            amount=amount,
            rate_bps=rate_bps,
            recourse=recourse,
            days=terms[0],
            interest=terms[1],
            price=terms[2],
        )
        return {"part": part_id, "days": terms[0], "interest": terms[1], "price": terms[2]}

    @public
    def finance_accept(self, part_id: int) -> dict:
        """The bank takes the part and pays its price in one transaction (any excess attached returns)."""
        part = self.load_part(part_id)
        offer = part["offer"]
        require(
            len(offer) > 0 and offer["bank"] == self.caller,
            f"part {part_id} is not offered to {hexa(self.caller)}"
            + (f" (offered to {hexa(offer['bank'])})" if len(offer) > 0 else ""),
            "no_finance_offer",
        )
        payable = self.payables[part["payable"]]
        self.require_open(payable)
        now = self.block.timestamp_ms
        require(
            now < payable["maturity"],
            f"payable {payable['id']} matured at {payable['maturity']} (now {now})",
            "matured",
        )
        terms = finance_terms(part["amount"], offer["rate_bps"], now, payable["maturity"])
        price = terms[2]
        require(
            self.value >= price,
            f"the price of part {part_id} is {price} ({part['amount']} - interest {terms[1]} "
            f"for {terms[0]} days "
            f"at {offer['rate_bps']} bp, ACT/360); attached {self.value}",
            "wrong_value",
        )
        locks = self.lock(payable, part["amount"])
        seller = part["holder"]
        part["offer"] = {}
        part["chain"] = part["chain"] + [seller]
        part["holder"] = self.caller
        part["financing"] = {
            "bank": self.caller,
            "seller": seller,
            "recourse": offer["recourse"],
            "rate_bps": offer["rate_bps"],
            "days": terms[0],
            "interest": terms[1],
            "price": price,
            "at": now,
            "locks": locks,
        }
        self.parts[part_id] = part
        self.total_financed += part["amount"]
        self.pay(seller, price)
        if self.value > price:
            self.pay(self.caller, self.value - price)
        self.emit(
            "PartFinanced",
            payable=payable["id"],
            part=part_id,
            seller=seller,
            bank=self.caller,
            amount=part["amount"],
            recourse=offer["recourse"],
            rate_bps=offer["rate_bps"],
            days=terms[0],
            interest=terms[1],
            price=price,
            locks=locks,
        )
        return {"days": terms[0], "interest": terms[1], "price": price}

    @public
    def finance_cancel(self, part_id: int) -> None:
        part = self.load_part(part_id)
        offer = part["offer"]
        require(len(offer) > 0, f"part {part_id} has no financing offer", "no_finance_offer")
        require(
            self.caller in (part["holder"], offer["bank"]),
            f"the offer of part {part_id} is withdrawn by its holder {hexa(part['holder'])} or declined by "
            f"{hexa(offer['bank'])}",
            "not_holder",
        )
        part["offer"] = {}
        self.parts[part_id] = part
        self.emit("FinanceCancelled", part=part_id, bank=offer["bank"], by=self.caller)

    # --- maturity ------------------------------------------------------------------------------

    @public
    def settle(self, payable_id: int) -> list:
        """The core pays every current holder of every part in full (attached value = the
        payable's amount), atomically; its credit line is restored. [[part, holder, amount], ...]"""
        payable = self.load_payable(payable_id)
        require(
            self.caller == payable["core"],
            f"payable {payable_id} is paid by its core enterprise {hexa(payable['core'])}",
            "not_core",
        )
        self.require_open(payable)
        now = self.block.timestamp_ms
        require(
            now >= payable["maturity"],
            f"payable {payable_id} matures at {payable['maturity']} (now {now})",
            "not_due",
        )
        require(
            self.value == payable["amount"],
            f"attach the payable's amount {payable['amount']}; attached {self.value}",
            "wrong_value",
        )
        paid = []
        for n in range(1, payable["parts"] + 1):
            part = self.parts[self.part_ids[payable_id][n]]
            part["status"] = PAID
            part["offer"] = {}
            part["paid"] = now
            if len(part["claim"]) > 0 and part["claim"]["paid"] == 0:
                part["claim"]["paid"] = -1
            self.parts[part["id"]] = part
            paid.append([part["id"], part["holder"], part["amount"]])
        payable["status"] = SETTLED
        payable["settled"] = now
        self.payables[payable_id] = payable
        line = self.lines[payable["core"]]
        line["used"] -= payable["amount"]
        self.lines[payable["core"]] = line
        for entry in paid:
            self.pay(entry[1], entry[2])
            self.emit("PartPaid", payable=payable_id, part=entry[0], holder=entry[1], amount=entry[2])
        self.emit(
            "PayableSettled",
            id=payable_id,
            core=self.caller,
            amount=payable["amount"],
            parts=len(paid),
            late=payable["overdue"] > 0,
        )
        return paid

    @public
    def default(self, payable_id: int) -> list:
        """Anyone, once the grace period after maturity has passed unpaid: the payable is overdue,
        each part raises a default event, and a part financed with recourse becomes a claim of its
        bank on the seller. [[part, holder, amount], ...]"""
        payable = self.load_payable(payable_id)
        self.require_open(payable)
        require(
            payable["status"] != OVERDUE,
            f"payable {payable_id} was declared overdue at {payable['overdue']}",
            "payable_closed",
        )
        now = self.block.timestamp_ms
        due = payable["maturity"] + GRACE_MS
        require(
            now >= due,
            f"payable {payable_id} matures at {payable['maturity']}; it is overdue from {due} (now {now})",
            "not_overdue",
        )
        payable["status"] = OVERDUE
        payable["overdue"] = now
        self.payables[payable_id] = payable
        out = []
        for n in range(1, payable["parts"] + 1):
            part = self.parts[self.part_ids[payable_id][n]]
            financing = part["financing"]
            part["offer"] = {}
            if len(financing) > 0 and financing["recourse"] and part["holder"] == financing["bank"]:
                part["claim"] = {
                    "bank": financing["bank"],
                    "seller": financing["seller"],
                    "amount": part["amount"],
                    "since": now,
                    "paid": 0,
                }
                self.emit(
                    "RecourseClaimed",
                    payable=payable_id,
                    part=part["id"],
                    bank=financing["bank"],
                    seller=financing["seller"],
                    amount=part["amount"],
                )
            self.parts[part["id"]] = part
            out.append([part["id"], part["holder"], part["amount"]])
            self.emit(
                "PartOverdue",
                payable=payable_id,
                part=part["id"],
                core=payable["core"],
                holder=part["holder"],
                amount=part["amount"],
            )
        self.emit(
            "PayableOverdue",
            id=payable_id,
            core=payable["core"],
            amount=payable["amount"],
            maturity=payable["maturity"],
        )
        return out

    @public
    def claim_pay(self, part_id: int) -> None:
        """The seller of a part financed with recourse pays its bank's claim and takes the part
        back (the core's late payment then goes to the seller)."""
        part = self.load_part(part_id)
        claim = part["claim"]
        require(
            len(claim) > 0 and claim["paid"] == 0, f"part {part_id} has no open recourse claim", "no_claim"
        )
        require(
            self.caller == claim["seller"],
            f"the claim on part {part_id} is against {hexa(claim['seller'])}",
            "not_seller",
        )
        require(part["status"] == HELD, f"part {part_id} was paid by the core", "payable_closed")
        require(
            self.value == claim["amount"],
            f"attach the claim's amount {claim['amount']}; attached {self.value}",
            "wrong_value",
        )
        claim["paid"] = self.block.timestamp_ms
        part["claim"] = claim
        part["chain"] = part["chain"] + [part["holder"]]
        part["holder"] = self.caller
        self.parts[part_id] = part
        self.pay(claim["bank"], claim["amount"])
        self.emit("ClaimPaid", part=part_id, seller=self.caller, bank=claim["bank"], amount=claim["amount"])

    # --- views ---------------------------------------------------------------------------------

    @view
    def line(self, core: bytes) -> Line | Empty:
        line = self.lines[core]
        if len(line) > 0:
            line["available"] = line["limit"] - line["used"]
        return line

    @view
    def payable(self, payable_id: int) -> Payable:
        return self.load_payable(payable_id)

    @view
    def part(self, part_id: int) -> Part:
        return self.load_part(part_id)

    @view
    def parts_of(self, payable_id: int) -> list[Part]:
        payable = self.load_payable(payable_id)
        return [self.parts[self.part_ids[payable_id][n]] for n in range(1, payable["parts"] + 1)]

    @view
    def invoice(self, invoice: bytes) -> Invoice | InvoiceWithContent:
        self.check_hash(invoice)
        record = self.invoices[invoice]
        require(len(record) > 0, f"no invoice {invoice.hex()} is registered", "invoice_not_found")
        return record

    @view
    def quote(self, part_id: int, amount: int, rate_bps: int, at_ms: int) -> Terms:
        """The financing terms of ``amount`` of a part at ``rate_bps`` on the date of ``at_ms`` (0: now)."""
        part = self.load_part(part_id)
        at = self.block.timestamp_ms if at_ms == 0 else at_ms
        terms = finance_terms(amount, rate_bps, at, self.payables[part["payable"]]["maturity"])
        return {"days": terms[0], "interest": terms[1], "price": terms[2]}

    @view
    def involved(self, address: bytes, start: int, limit: int) -> list[int]:
        """Ids of payables and parts ``address`` was ever party to, from the ``start``-th (0-based)."""
        total = self.party_count[address]
        end = min(total, start + min(limit, MAX_LIST))
        return [self.party_ids[address][n] for n in range(max(start, 0) + 1, end + 1)]

    @view
    def held_by(self, holder: bytes, start: int, limit: int) -> list[Part]:
        """Parts ``holder`` holds now, unpaid (among what it was party to, from the ``start``-th)."""
        out = []
        for part_id in self.involved(holder, start, limit):
            part = self.parts[part_id]
            if len(part) > 0 and part["holder"] == holder and part["status"] == HELD:
                out.append(part)
        return out

    @view
    def payables_list(self, start: int, limit: int) -> list[Payable]:
        """Every payable from id ``start`` on (the regulator's view), at most 200."""
        first = max(start, 1)
        last = min(self.next_id, first + min(limit, MAX_LIST) - 1)
        out = []
        for n in range(first, last + 1):
            if len(self.payables[n]) > 0:
                out.append(self.payables[n])
        return out

    @view
    def count(self) -> int:
        return self.next_id

    @view
    def financed_total(self) -> int:
        return self.total_financed

    # --- internals ------------------------------------------------------------------------

    def party(self, address: bytes, what: str) -> dict:
        check_address(address, what)
        who = self.identity_of(address)
        require(
            who is not None and who.get("role") != "contract" and who.get("status") == "active",
            f"{what} {hexa(address)} must be an active, identified party; it is {describe(who)}",
            "unknown_party",
        )
        require(not who.get("frozen"), f"{what} {hexa(address)} is frozen by the regulator", "party_frozen")
        return who

    def bank(self, address: bytes, what: str) -> dict:
        who = self.party(address, what)
        require(
            who.get("org_role") in BANK_ROLES and who.get("role") != "wallet",
            f"{what} must be staff of a bank; {hexa(address)} is {describe(who)}",
            "not_a_bank",
        )
        return who

    def check_hash(self, invoice: bytes) -> None:
        require(
            isinstance(invoice, bytes) and len(invoice) == HASH_BYTES,
            f"an invoice is named by its {HASH_BYTES}-byte hash, got "
            f"{len(invoice) if isinstance(invoice, bytes) else invoice!r}",
            "bad_hash",
        )

    def buyer_invoice(self, invoice: bytes) -> dict:
        self.check_hash(invoice)
        record = self.invoices[invoice]
        require(len(record) > 0, f"no invoice {invoice.hex()} is registered", "invoice_not_found")
        require(
            self.caller == record["buyer"],
            f"invoice {invoice.hex()} is confirmed or disputed by its buyer {hexa(record['buyer'])}",
            "not_buyer",
        )
        return record

    def load_payable(self, payable_id: int) -> dict:
        payable = (
            self.payables[payable_id]
            if isinstance(payable_id, int) and not isinstance(payable_id, bool)
            else {}
        )
        require(len(payable) > 0, f"no payable {payable_id!r}", "payable_not_found")
        return payable

    def load_part(self, part_id: int) -> dict:
        part = self.parts[part_id] if isinstance(part_id, int) and not isinstance(part_id, bool) else {}
        require(len(part) > 0, f"no part {part_id!r}", "part_not_found")
        return part

    def require_open(self, payable: dict) -> None:
        require(
            payable["status"] != SETTLED,
            f"payable {payable['id']} was settled at {payable['settled']}",
            "payable_closed",
        )

    def movable(self, part_id: int, action: str) -> list:
        """A part its holder may transfer or finance now: [part, payable]."""
        part = self.load_part(part_id)
        payable = self.payables[part["payable"]]
        self.require_open(payable)
        require(
            self.caller == part["holder"],
            f"only the holder of record {hexa(part['holder'])} {action} part "
            f"{part_id}, not {hexa(self.caller)}",
            "not_holder",
        )
        require(
            len(part["offer"]) == 0,
            f"part {part_id} is offered for financing to "
            f"{hexa(part['offer']['bank']) if len(part['offer']) > 0 else ''}; "
            "withdraw the offer first",
            "finance_offered",
        )
        now = self.block.timestamp_ms
        require(
            payable["status"] == CONFIRMED and now < payable["maturity"],
            f"payable {payable['id']} matured at {payable['maturity']} (now {now})",
            "matured",
        )
        return [part, payable]

    def new_part(
        self, payable_id: int, part_id: int, holder: bytes, amount: int, parent: int, chain: list
    ) -> dict:
        part = {
            "id": part_id,
            "payable": payable_id,
            "holder": holder,
            "amount": amount,
            "parent": parent,
            "chain": chain,
            "status": HELD,
            "offer": {},
            "financing": {},
            "claim": {},
            "paid": 0,
            "height": self.block.height,
            "tx": self.tx_hash,
        }
        self.parts[part_id] = part
        self.involve(holder, part_id)
        return part

    def split_off(self, payable: dict, part: dict, amount: int, to: bytes) -> int:
        """A new part of ``amount`` for ``to`` out of ``part`` (which keeps the rest)."""
        require(
            payable["parts"] < MAX_PARTS,
            f"payable {payable['id']} has {payable['parts']} parts, the most one payable has ({MAX_PARTS})",
            "too_many_parts",
        )
        part["amount"] -= amount
        self.parts[part["id"]] = part
        self.next_id += 1
        child_id = self.next_id
        payable["parts"] += 1
        self.part_ids[payable["id"]][payable["parts"]] = child_id
        self.payables[payable["id"]] = payable
        chain = part["chain"] + [part["holder"]] if to != part["holder"] else list(part["chain"])
        self.new_part(payable["id"], child_id, to, amount, part["id"], chain)
        return child_id

    def lockable(self, payable: dict, amount: int) -> list:
        """The payable's invoices with what of each is not yet financed; refuses when short."""
        free = []
        total = 0
        for invoice in payable["invoices"]:
            record = self.invoices[invoice]
            require(record["status"] != DISPUTED, f"invoice {invoice.hex()} is disputed", "invoice_disputed")
            open_amount = record["amount"] - record["locked"]
            free.append([invoice, open_amount])
            total += open_amount
        if total < amount:
            detail = "; ".join(
                [
                    f"{entry[0].hex()}: {self.invoices[entry[0]]['amount']} invoiced, "
                    f"{self.invoices[entry[0]]['locked']} financed"
                    for entry in free
                ]
            )
            require(
                False,
                f"payable {payable['id']}'s invoices have {total} not yet financed, {amount} "
                f"asked ({detail})",
                "invoice_already_financed",
            )
        return free

    def lock(self, payable: dict, amount: int) -> list:
        """Lock ``amount`` on the payable's invoices, first invoice first: [[hash, amount], ...]."""
        locks = []
        rest = amount
        for entry in self.lockable(payable, amount):
            take = min(rest, entry[1])
            if take > 0:
                record = self.invoices[entry[0]]
                record["locked"] += take
                self.invoices[entry[0]] = record
                locks.append([entry[0], take])
                rest -= take
        return locks

    def involve(self, address: bytes, item_id: int) -> None:
        if not self.party_seen[address][item_id]:
            self.party_seen[address][item_id] = True
            count = self.party_count[address] + 1
            self.party_count[address] = count
            self.party_ids[address][count] = item_id

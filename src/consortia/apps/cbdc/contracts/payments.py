"""Scheduled payments: a payer locks ``amount * count`` and the chain pays the payee ``amount``
at ``first_height``, ``first_height + interval``, ... (``count`` instalments); the payer may
cancel and get back what has not been paid.

This file is contract source (deployed as text at genesis), not a module of the consortia package.

    create(payee, amount, first_height, count, interval) + attached value == amount * count -> id
                                                                       PaymentCreated
    pay_instalment(id, index)  anyone from the instalment's height (the chain calls it there)
                                                                       InstalmentPaid
    cancel(id)                 the payer, while active                 PaymentCancelled
    get(id) -> dict, instalment(id, index) -> dict, count() -> int

An instalment the chain could not pay at its height (the payee frozen, say) stays due: anyone
may pay it later with ``pay_instalment``, until the payer cancels.

Refusal codes: wrong_value, bad_address, bad_schedule, payment_not_found, instalment_not_due,
instalment_not_payable, not_payer, payment_not_cancellable.
"""

from consortia_contract import Contract, Map, Record, Value, public, require, view

MAX_INSTALMENTS = 100
MAX_AHEAD = 1_000_000
ACTIVE = "active"
COMPLETED = "completed"
CANCELLED = "cancelled"


def check_address(value: bytes, what: str) -> None:
    require(isinstance(value, bytes) and len(value) == 20,
            f"{what} must be a 20-byte address, got {len(value) if isinstance(value, bytes) else value!r}",
            "bad_address")


class Payment(Record):
    """Scheduled payments: payer, payee, instalment amount and schedule, what was paid."""
    id: int
    payer: bytes
    payee: bytes
    amount: int
    first: int
    count: int
    interval: int
    paid_count: int
    status: str
    created: int
    closed: int
    refunded: int


class Instalment(Record):
    index: int
    due: int
    amount: int
    paid_height: int


class Payments(Contract):
    payments = Map(int, dict)
    paid = Map(int, Map(int, int))
    next_id = Value(int)

    @public
    def create(self, payee: bytes, amount: int, first_height: int, count: int, interval: int) -> int:
        check_address(payee, "payee")
        require(amount > 0, f"instalment amount must be positive, got {amount}", "bad_schedule")
        require(0 < count <= MAX_INSTALMENTS,
                f"count must be 1 to {MAX_INSTALMENTS} instalments, got {count}", "bad_schedule")
        require(count == 1 or interval > 0,
                f"interval must be at least 1 block between instalments, got {interval}", "bad_schedule")
        now = self.block.height
        last = first_height + (count - 1) * interval
        require(now < first_height and last <= now + MAX_AHEAD,
                f"instalments must fall after the current block {now} and at most {MAX_AHEAD} blocks "
                f"ahead; they run from {first_height} to {last}", "bad_schedule")
        total = amount * count
        require(self.value == total,
                f"attach exactly {amount} x {count} = {total}; attached {self.value}", "wrong_value")
        self.next_id += 1
        payment_id = self.next_id
        self.payments[payment_id] = {
            "id": payment_id, "payer": self.caller, "payee": payee, "amount": amount,
            "first": first_height, "count": count, "interval": interval if count > 1 else 0,
            "paid_count": 0, "status": ACTIVE, "created": now, "closed": 0, "refunded": 0,
        }
        for index in range(count):
            self.schedule(first_height + index * interval, "pay_instalment", payment_id, index)
        self.emit("PaymentCreated", id=payment_id, payer=self.caller, payee=payee, amount=amount,
                  first=first_height, count=count, interval=interval, total=total)
        return payment_id

    @public
    def pay_instalment(self, payment_id: int, index: int) -> None:
        payment = self.load(payment_id)
        automatic = self.caller == self.address
        require(0 <= index < payment["count"],
                f"payment {payment_id} has instalments 0..{payment['count'] - 1}, not {index}",
                "instalment_not_payable")
        due = payment["first"] + index * payment["interval"]
        now = self.block.height
        require(now >= due, f"instalment {index} of payment {payment_id} is due at height {due} (now {now})",
                "instalment_not_due")
        if payment["status"] != ACTIVE or self.paid[payment_id][index] != 0:
            # the chain's call for an instalment already paid or cancelled: nothing to do
            require(automatic, f"instalment {index} of payment {payment_id} is not payable: payment is "
                               f"{payment['status']}, instalment paid at height "
                               f"{self.paid[payment_id][index]}", "instalment_not_payable")
            return
        self.paid[payment_id][index] = now
        payment["paid_count"] += 1
        if payment["paid_count"] == payment["count"]:
            payment["status"] = COMPLETED
            payment["closed"] = now
        self.payments[payment_id] = payment
        self.pay(payment["payee"], payment["amount"])
        self.emit("InstalmentPaid", id=payment_id, index=index, payee=payment["payee"],
                  amount=payment["amount"], paid_count=payment["paid_count"], automatic=automatic)

    @public
    def cancel(self, payment_id: int) -> None:
        payment = self.load(payment_id)
        require(self.caller == payment["payer"],
                f"payment {payment_id} is cancelled only by its payer 0x{payment['payer'].hex()}, "
                f"not 0x{self.caller.hex()}", "not_payer")
        require(payment["status"] == ACTIVE, f"payment {payment_id} is already {payment['status']}",
                "payment_not_cancellable")
        unpaid = payment["count"] - payment["paid_count"]
        refund = unpaid * payment["amount"]
        payment["status"] = CANCELLED
        payment["closed"] = self.block.height
        payment["refunded"] = refund
        self.payments[payment_id] = payment
        self.pay(payment["payer"], refund)
        self.emit("PaymentCancelled", id=payment_id, payer=payment["payer"], refunded=refund,
                  unpaid=unpaid, paid_count=payment["paid_count"])

    @view
    def get(self, payment_id: int) -> Payment:
        return self.load(payment_id)

    @view
    def instalment(self, payment_id: int, index: int) -> Instalment:
        payment = self.load(payment_id)
        require(0 <= index < payment["count"],
                f"payment {payment_id} has instalments 0..{payment['count'] - 1}, not {index}",
                "instalment_not_payable")
        return {"index": index, "due": payment["first"] + index * payment["interval"],
                "amount": payment["amount"], "paid_height": self.paid[payment_id][index]}

    @view
    def count(self) -> int:
        return self.next_id

    def load(self, payment_id: int) -> dict:
        require(0 < payment_id <= self.next_id,
                f"no payment {payment_id} (ids are 1..{self.next_id})", "payment_not_found")
        return self.payments[payment_id]

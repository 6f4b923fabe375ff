"""Escrow: a payer locks currency for a payee; a named releaser releases it to the payee up to
a deadline, after which it goes back to the payer (automatically at ``deadline + 1``).

This file is contract source (deployed as text at genesis), not a module of the consortia package.

    create(payee, releaser, deadline_height) + attached value -> id     EscrowCreated
    release(id)      the releaser, at or before the deadline, while open  EscrowReleased
    refund(id)       anyone, after the deadline, while open                EscrowRefunded
    get(id) -> dict, count() -> int

Refusal codes: escrow_needs_value, bad_address, bad_deadline, escrow_not_found,
escrow_not_releasable, escrow_not_refundable.
"""

from consortia_contract import Contract, Map, Record, Value, public, require, view

MAX_AHEAD = 1_000_000
OPEN = "open"
RELEASED = "released"
REFUNDED = "refunded"


def check_address(value: bytes, what: str) -> None:
    require(isinstance(value, bytes) and len(value) == 20,
            f"{what} must be a 20-byte address, got {len(value) if isinstance(value, bytes) else value!r}",
            "bad_address")


class EscrowRecord(Record):
    """An escrow: who pays whom, who releases, the amount held, its deadline and status."""
    id: int
    payer: bytes
    payee: bytes
    releaser: bytes
    amount: int
    deadline: int
    status: str
    created: int
    settled: int


class Escrow(Contract):
    escrows = Map(int, dict)
    next_id = Value(int)

    @public
    def create(self, payee: bytes, releaser: bytes, deadline_height: int) -> int:
        require(self.value > 0, "attach the amount to hold in escrow (attached value is 0)",
                "escrow_needs_value")
        check_address(payee, "payee")
        check_address(releaser, "releaser")
        now = self.block.height
        require(now <= deadline_height < now + MAX_AHEAD,
                f"deadline height {deadline_height} must be from the current block {now} to "
                f"{now + MAX_AHEAD - 1}", "bad_deadline")
        self.next_id += 1
        escrow_id = self.next_id
        self.escrows[escrow_id] = {
            "id": escrow_id, "payer": self.caller, "payee": payee, "releaser": releaser,
            "amount": self.value, "deadline": deadline_height, "status": OPEN,
            "created": now, "settled": 0,
        }
        self.schedule(deadline_height + 1, "refund", escrow_id)
        self.emit("EscrowCreated", id=escrow_id, payer=self.caller, payee=payee, releaser=releaser,
                  amount=self.value, deadline=deadline_height)
        return escrow_id

    @public
    def release(self, escrow_id: int) -> None:
        escrow = self.load(escrow_id)
        now = self.block.height
        require(self.caller == escrow["releaser"],
                f"escrow {escrow_id} can be released only by its releaser 0x{escrow['releaser'].hex()}, "
                f"not 0x{self.caller.hex()}", "escrow_not_releasable")
        require(escrow["status"] == OPEN,
                f"escrow {escrow_id} is already {escrow['status']} (at height {escrow['settled']})",
                "escrow_not_releasable")
        require(now <= escrow["deadline"],
                f"escrow {escrow_id} is past its deadline {escrow['deadline']} (now {now})",
                "escrow_not_releasable")
        self.settle(escrow, RELEASED)
        self.pay(escrow["payee"], escrow["amount"])
        self.emit("EscrowReleased", id=escrow_id, payee=escrow["payee"], amount=escrow["amount"],
                  by=self.caller)

    @public
    def refund(self, escrow_id: int) -> None:
        escrow = self.load(escrow_id)
        now = self.block.height
        automatic = self.caller == self.address
        if escrow["status"] != OPEN:
            # the scheduled refund after a release or a manual refund: nothing to do
            require(automatic, f"escrow {escrow_id} is already {escrow['status']} "
                               f"(at height {escrow['settled']})", "escrow_not_refundable")
            return
        require(now > escrow["deadline"],
                f"escrow {escrow_id} can be refunded only after its deadline {escrow['deadline']} "
                f"(now {now})", "escrow_not_refundable")
        self.settle(escrow, REFUNDED)
        self.pay(escrow["payer"], escrow["amount"])
        self.emit("EscrowRefunded", id=escrow_id, payer=escrow["payer"], amount=escrow["amount"],
                  by=self.caller, automatic=automatic)

    @view
    def get(self, escrow_id: int) -> EscrowRecord:
        return self.load(escrow_id)

    @view
    def count(self) -> int:
        return self.next_id

    def load(self, escrow_id: int) -> dict:
        require(isinstance(escrow_id, int) and 0 < escrow_id <= self.next_id,
                f"no escrow {escrow_id!r} (ids are 1..{self.next_id})", "escrow_not_found")
        return self.escrows[escrow_id]

    def settle(self, escrow: dict, status: str) -> None:
        escrow["status"] = status
        escrow["settled"] = self.block.height
        self.escrows[escrow["id"]] = escrow

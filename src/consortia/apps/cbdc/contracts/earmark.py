"""Earmarked funds (a subsidy or grant): an issuer locks currency for a recipient, who may spend
it only at listed payees and only before it expires; at expiry the rest goes back to the issuer.

This file is contract source (deployed as text at genesis), not a module of the consortia package.

    create(recipient, payees, expires_height) + attached value -> id   EarmarkCreated
    spend(id, payee, amount)   the recipient, to a listed payee, before expiry   EarmarkSpent
    expire(id)                 anyone from the expiry height (scheduled there)   EarmarkExpired
    get(id) -> dict, allowed(id, payee) -> bool, count() -> int

Refusal codes: earmark_needs_value, bad_address, too_many_payees, bad_expiry, earmark_not_found,
not_recipient, earmark_expired, payee_not_allowed, bad_amount, earmark_insufficient,
earmark_not_expirable.
"""

from consortia_contract import Contract, Map, Record, Value, public, require, view

MAX_PAYEES = 32
MAX_AHEAD = 1_000_000
OPEN = "open"
SPENT = "spent"
EXPIRED = "expired"


def check_address(value: bytes, what: str) -> None:
    require(isinstance(value, bytes) and len(value) == 20,
            f"{what} must be a 20-byte address, got {len(value) if isinstance(value, bytes) else value!r}",
            "bad_address")


class EarmarkRecord(Record):
    """Earmarked funds: issuer, recipient, allowed payees, amount and what remains, expiry."""
    id: int
    issuer: bytes
    recipient: bytes
    payees: list[bytes]
    amount: int
    remaining: int
    expires: int
    status: str
    created: int
    closed: int


class Earmark(Contract):
    earmarks = Map(int, dict)
    payees = Map(int, Map(bytes, bool))
    next_id = Value(int)

    @public
    def create(self, recipient: bytes, payees: list, expires_height: int) -> int:
        require(self.value > 0, "attach the amount to earmark (attached value is 0)", "earmark_needs_value")
        check_address(recipient, "recipient")
        require(isinstance(payees, list) and 0 < len(payees) <= MAX_PAYEES,
                f"list 1 to {MAX_PAYEES} payees, got "
                f"{len(payees) if isinstance(payees, list) else 'no list'}", "too_many_payees")
        now = self.block.height
        require(now < expires_height <= now + MAX_AHEAD,
                f"expiry height {expires_height} must be after the current block {now} and at most "
                f"{MAX_AHEAD} blocks ahead", "bad_expiry")
        self.next_id += 1
        earmark_id = self.next_id
        listed = []
        for payee in payees:
            check_address(payee, "each payee")
            if not self.payees[earmark_id][payee]:
                self.payees[earmark_id][payee] = True
                listed.append(payee)
        self.earmarks[earmark_id] = {
            "id": earmark_id, "issuer": self.caller, "recipient": recipient, "payees": listed,
            "amount": self.value, "remaining": self.value, "expires": expires_height,
            "status": OPEN, "created": now, "closed": 0,
        }
        self.schedule(expires_height, "expire", earmark_id)
        self.emit("EarmarkCreated", id=earmark_id, issuer=self.caller, recipient=recipient,
                  payees=listed, amount=self.value, expires=expires_height)
        return earmark_id

    @public
    def spend(self, earmark_id: int, payee: bytes, amount: int) -> None:
        earmark = self.load(earmark_id)
        now = self.block.height
        require(self.caller == earmark["recipient"],
                f"earmark {earmark_id} is spent only by its recipient 0x{earmark['recipient'].hex()}, "
                f"not 0x{self.caller.hex()}", "not_recipient")
        require(earmark["status"] != EXPIRED and now < earmark["expires"],
                f"earmark {earmark_id} expired at height {earmark['expires']} (now {now})", "earmark_expired")
        require(self.payees[earmark_id][payee],
                f"0x{payee.hex()} is not an allowed payee of earmark {earmark_id} "
                f"({len(earmark['payees'])} listed)", "payee_not_allowed")
        require(amount > 0, f"amount must be positive, got {amount}", "bad_amount")
        remaining = earmark["remaining"]
        require(amount <= remaining,
                f"earmark {earmark_id} has {remaining} left, {amount} asked", "earmark_insufficient")
        earmark["remaining"] = remaining - amount
        if earmark["remaining"] == 0:
            earmark["status"] = SPENT
            earmark["closed"] = now
        self.earmarks[earmark_id] = earmark
        self.pay(payee, amount)
        self.emit("EarmarkSpent", id=earmark_id, payee=payee, amount=amount, remaining=earmark["remaining"])

    @public
    def expire(self, earmark_id: int) -> None:
        earmark = self.load(earmark_id)
        now = self.block.height
        automatic = self.caller == self.address
        if earmark["status"] != OPEN:
            # the scheduled expiry of an earmark already spent or expired: nothing to do
            require(automatic, f"earmark {earmark_id} is already {earmark['status']}",
                    "earmark_not_expirable")
            return
        require(now >= earmark["expires"],
                f"earmark {earmark_id} expires at height {earmark['expires']} (now {now})",
                "earmark_not_expirable")
        returned = earmark["remaining"]
        earmark["remaining"] = 0
        earmark["status"] = EXPIRED
        earmark["closed"] = now
        self.earmarks[earmark_id] = earmark
        if returned > 0:
            self.pay(earmark["issuer"], returned)
        self.emit("EarmarkExpired", id=earmark_id, issuer=earmark["issuer"], returned=returned,
                  automatic=automatic)

    @view
    def get(self, earmark_id: int) -> EarmarkRecord:
        return self.load(earmark_id)

    @view
    def allowed(self, earmark_id: int, payee: bytes) -> bool:
        self.load(earmark_id)
        return self.payees[earmark_id][payee]

    @view
    def count(self) -> int:
        return self.next_id

    def load(self, earmark_id: int) -> dict:
        require(0 < earmark_id <= self.next_id,
                f"no earmark {earmark_id} (ids are 1..{self.next_id})", "earmark_not_found")
        return self.earmarks[earmark_id]

"""Controllable anonymity: the regulator asks a wallet's bank who is behind the wallet; the bank
answers with the personal data and salt behind the wallet's commitment, sealed to the key the
regulator named (an X25519 sealed box: only that key opens it). The chain records who asked,
why, who answered and the ciphertext; it checks what it can (roles, sizes, once), never the
content (the regulator checks the answer against the wallet's commitment off chain).

This file is contract source (deployed as text at genesis), not a module of the consortia package.

    request(wallet, reason, regulator_key) -> id   regulator staff (admin or auditor)   ResolveRequested
    answer(id, ciphertext)                        an active admin of the wallet's bank  ResolveAnswered
    get(id) -> dict, count() -> int

Refusal codes: not_regulator, not_a_wallet, bad_reason, bad_regulator_key, resolve_not_found,
not_wallet_bank, already_answered, bad_answer, answer_too_large.
"""

from consortia_contract import Contract, Map, Record, Value, public, require, view

MAX_REASON = 512
KEY_BYTES = 32
SEALED_OVERHEAD = 48
MAX_ANSWER = 4096
REGULATOR = "regulator"
STAFF_ROLES = ("admin", "auditor")
WALLET = "wallet"
ACTIVE = "active"
OPEN = "open"
ANSWERED = "answered"


class ResolveRequest(Record):
    """An identity-resolution request; the answer stays ciphertext for the regulator's key."""
    id: int
    wallet: bytes
    org: str
    requested_by: bytes
    requester_org: str
    reason: str
    regulator_key: bytes
    requested: int
    status: str
    answered: int
    answered_by: bytes
    ciphertext: bytes


class Resolve(Contract):
    requests = Map(int, dict)
    next_id = Value(int)

    @public
    def request(self, wallet: bytes, reason: str, regulator_key: bytes) -> int:
        who = self.identity_of(self.caller)
        require(who is not None and who.get("org_role") == REGULATOR and who.get("role") in STAFF_ROLES
                and who.get("status") == ACTIVE,
                f"only active regulator staff (admin or auditor) request identity resolution; "
                f"0x{self.caller.hex()} is {describe(who)}", "not_regulator")
        held = self.identity_of(wallet)
        require(held is not None and held.get("role") == WALLET,
                f"0x{wallet.hex()} is {describe(held)}, not a wallet", "not_a_wallet")
        require(0 < len(reason) <= MAX_REASON,
                f"give a reason of 1 to {MAX_REASON} characters, got {len(reason)}", "bad_reason")
        require(len(regulator_key) == KEY_BYTES,
                f"the regulator key is a {KEY_BYTES}-byte X25519 public key, got {len(regulator_key)} bytes",
                "bad_regulator_key")
        self.next_id += 1
        request_id = self.next_id
        self.requests[request_id] = {
            "id": request_id, "wallet": wallet, "org": held["org"], "requested_by": self.caller,
            "requester_org": who["org"], "reason": reason, "regulator_key": regulator_key,
            "requested": self.block.height, "status": OPEN, "answered": 0, "answered_by": b"",
            "ciphertext": b"",
        }
        self.emit("ResolveRequested", id=request_id, wallet=wallet, org=held["org"], by=self.caller,
                  reason=reason)
        return request_id

    @public
    def answer(self, request_id: int, ciphertext: bytes) -> None:
        request = self.load(request_id)
        who = self.identity_of(self.caller)
        require(who is not None and who.get("org") == request["org"] and who.get("role") == "admin"
                and who.get("status") == ACTIVE,
                f"request {request_id} is answered by an active admin of {request['org']!r}, the wallet's "
                f"bank; 0x{self.caller.hex()} is {describe(who)}", "not_wallet_bank")
        require(request["status"] == OPEN,
                f"request {request_id} was answered at height {request['answered']}", "already_answered")
        size = len(ciphertext)
        require(size <= MAX_ANSWER, f"the answer is {size} bytes, above {MAX_ANSWER}", "answer_too_large")
        require(size > SEALED_OVERHEAD,
                f"the answer is {size} bytes; a sealed box is more than {SEALED_OVERHEAD}", "bad_answer")
        request["status"] = ANSWERED
        request["answered"] = self.block.height
        request["answered_by"] = self.caller
        request["ciphertext"] = ciphertext
        self.requests[request_id] = request
        self.emit("ResolveAnswered", id=request_id, wallet=request["wallet"], org=request["org"],
                  by=self.caller, size=size)

    @view
    def get(self, request_id: int) -> ResolveRequest:
        return self.load(request_id)

    @view
    def count(self) -> int:
        return self.next_id

    def load(self, request_id: int) -> dict:
        require(0 < request_id <= self.next_id,
                f"no resolution request {request_id} (ids are 1..{self.next_id})", "resolve_not_found")
        return self.requests[request_id]


def describe(who: dict | None) -> str:
    if who is None:
        return "no identity"
    if "contract" in who:
        return f"the contract {who['contract']!r}"
    return f"a {who.get('status')} {who.get('role')} of {who.get('org')!r} ({who.get('org_role')})"

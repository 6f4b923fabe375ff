"""Shared credit records: loans recorded by lenders against a borrower, the borrower's consent,
and consented queries, each logged on chain (decisions/0017).

This file is contract source (deployed as text at genesis), not a module of the consortia package.

A loan carries only a commitment to its contract (``H(salt || terms)``), its amount, dates and
status; the borrower is an identified account. Lenders are staff of a bank; the regulator's
staff query any borrower without consent (logged the same way).

    record(borrower, commitment, amount, start_ms, due_ms) -> id   a lender        LoanRecorded
    repay(id) / default(id) / write_off(id)       the lender of the loan           LoanStatus
    consent(lender, scope, until_ms)               the borrower                     ConsentGranted
    revoke(lender)                                 the borrower                     ConsentRevoked
    query(borrower) -> summary                     a consented lender or the regulator   CreditQueried
    views: loan, consent_of, log, log_count, count

Status: ``current`` (``overdue`` once its due time has passed unpaid), ``overdue`` (declared by
the lender), ``repaid``, ``written_off``. Refusal codes: see ERRORS below (the SDK lists the same).
"""

from consortia_contract import Contract, Map, Record, Value, public, require, view

ERRORS = (
    "bad_address",
    "bad_amount",
    "bad_dates",
    "bad_hash",
    "bad_scope",
    "bad_party",
    "unknown_party",
    "party_frozen",
    "not_a_lender",
    "loan_not_found",
    "not_lender",
    "loan_closed",
    "no_consent",
)

CURRENT = "current"
OVERDUE = "overdue"
REPAID = "repaid"
WRITTEN_OFF = "written_off"
SUMMARY = "summary"
LOANS = "loans"
SCOPES = (SUMMARY, LOANS)
"""What a consent lets a lender see: the totals only, or each loan as well."""
REGULATOR = "regulator"
LENDER_ROLES = ("bank", "central-bank")
HASH_BYTES = 32
MAX_LIST = 200
MAX_LOANS_QUERIED = 100
"""A query answers with at most this many loans of the borrower (the totals count them all)."""


def check_address(value: bytes, what: str) -> None:
    require(
        isinstance(value, bytes) and len(value) == 20,
        f"{what} must be a 20-byte address, got {len(value) if isinstance(value, bytes) else value!r}",
        "bad_address",
    )


def hexa(address: bytes) -> str:
    return "0x" + address.hex()


def describe(who: dict | None) -> str:
    if who is None:
        return "no identity"
    if "contract" in who:
        return f"the contract {who['contract']!r}"
    return f"a {who.get('status')} {who.get('role')} of {who.get('org')!r} ({who.get('org_role')})"


def status_at(loan: dict, now: int) -> str:
    """A loan's status at ``now``: a current loan past its due time is overdue."""
    if loan["status"] == CURRENT and now > loan["due"]:
        return OVERDUE
    return loan["status"]


class Empty(Record):
    """``{}``: no consent."""


class Loan(Record):
    """A loan record: lender, borrower's commitment, amount, dates, recorded status and status now."""
    id: int
    lender: bytes
    borrower: bytes
    commitment: bytes
    amount: int
    start: int
    due: int
    status: str
    recorded: int
    changed: int
    height: int
    tx: bytes
    status_now: str


class Consent(Record):
    """A borrower's consent for a lender to query its credit."""
    lender: bytes
    scope: str
    until: int
    since: int
    revoked: int
    tx: bytes


class Query(Record):
    """One query of a borrower's credit: who, which scope, when, in which transaction."""
    n: int
    by: bytes
    scope: str
    time: int
    height: int
    tx: bytes


class Credit(Contract):
    loans = Map(int, dict)
    borrower_count = Map(bytes, int)
    borrower_loans = Map(bytes, Map(int, int))
    consents = Map(bytes, Map(bytes, dict))
    log_count_of = Map(bytes, int)
    logs = Map(bytes, Map(int, dict))
    next_id = Value(int)

    # --- loans ----------------------------------------------------------------------------

    @public
    def record(self, borrower: bytes, commitment: bytes, amount: int, start_ms: int, due_ms: int) -> int:
        self.lender_party(self.caller)
        self.party(borrower, "the borrower")
        require(borrower != self.caller, "a lender does not lend to itself", "bad_party")
        require(
            isinstance(commitment, bytes) and len(commitment) == HASH_BYTES,
            f"the loan's commitment is a {HASH_BYTES}-byte hash",
            "bad_hash",
        )
        require(
            isinstance(amount, int) and not isinstance(amount, bool) and 0 < amount < 2**64,
            f"the amount must be a positive whole amount below 2**64, got {amount!r}",
            "bad_amount",
        )
        require(
            isinstance(start_ms, int) and isinstance(due_ms, int) and 0 <= start_ms < due_ms,
            f"the loan starts before it is due (start {start_ms!r}, due {due_ms!r})",
            "bad_dates",
        )
        now = self.block.timestamp_ms
        totals = self.totals(borrower, now)
        if totals["overdue"] > 0:
            self.alert_regulator(
                "overdue_borrower_new_loan",
                borrower,
                amount,
                f"{hexa(self.caller)} lends {amount} to {hexa(borrower)}, "
                f"who has {totals['overdue_loans']} overdue "
                f"loan(s) of {totals['overdue']} in all",
            )
        self.next_id += 1
        loan_id = self.next_id
        loan = {
            "id": loan_id,
            "lender": self.caller,
            "borrower": borrower,
            "commitment": commitment,
            "amount": amount,
            "start": start_ms,
            "due": due_ms,
            "status": CURRENT,
            "recorded": now,
            "changed": now,
            "height": self.block.height,
            "tx": self.tx_hash,
        }
        self.loans[loan_id] = loan
        count = self.borrower_count[borrower] + 1
        self.borrower_count[borrower] = count
        self.borrower_loans[borrower][count] = loan_id
        self.emit(
            "LoanRecorded",
            id=loan_id,
            lender=self.caller,
            borrower=borrower,
            amount=amount,
            start=start_ms,
            due=due_ms,
        )
        return loan_id

    @public
    def repay(self, loan_id: int) -> None:
        self.change(loan_id, REPAID)

    @public
    def default(self, loan_id: int) -> None:
        """The lender declares the loan overdue (before its due time passes, too)."""
        self.change(loan_id, OVERDUE)

    @public
    def write_off(self, loan_id: int) -> None:
        self.change(loan_id, WRITTEN_OFF)

    # --- consent --------------------------------------------------------------------------

    @public
    def consent(self, lender: bytes, scope: str, until_ms: int) -> dict:
        """The borrower lets ``lender`` query its credit until ``until_ms`` (replacing an earlier consent)."""
        self.lender_party(lender)
        require(lender != self.caller, "a borrower does not consent to itself", "bad_party")
        require(scope in SCOPES, f"the scope is one of {list(SCOPES)}, got {scope!r}", "bad_scope")
        now = self.block.timestamp_ms
        require(
            isinstance(until_ms, int) and not isinstance(until_ms, bool) and until_ms > now,
            f"consent runs until a time after now ({now}), got {until_ms!r}",
            "bad_dates",
        )
        grant = {
            "lender": lender,
            "scope": scope,
            "until": until_ms,
            "since": now,
            "revoked": 0,
            "tx": self.tx_hash,
        }
        self.consents[self.caller][lender] = grant
        self.emit("ConsentGranted", borrower=self.caller, lender=lender, scope=scope, until=until_ms)
        return grant

    @public
    def revoke(self, lender: bytes) -> None:
        check_address(lender, "the lender")
        grant = self.consents[self.caller][lender]
        require(
            len(grant) > 0 and grant["revoked"] == 0,
            f"{hexa(self.caller)} has no consent for {hexa(lender)} to revoke",
            "no_consent",
        )
        grant["revoked"] = self.block.timestamp_ms
        self.consents[self.caller][lender] = grant
        self.emit("ConsentRevoked", borrower=self.caller, lender=lender)

    @public
    def query(self, borrower: bytes) -> dict:
        """A lender with the borrower's consent (or the regulator): the borrower's outstanding and
        overdue totals across all lenders (and each loan, for the ``loans`` scope). Logged."""
        check_address(borrower, "the borrower")
        who = self.party(self.caller, "the lender")
        now = self.block.timestamp_ms
        if who.get("org_role") == REGULATOR:
            scope = REGULATOR
        else:
            require(
                who.get("org_role") in LENDER_ROLES and who.get("role") != "wallet",
                f"credit is queried by a lender or the regulator; {hexa(self.caller)} is {describe(who)}",
                "not_a_lender",
            )
            grant = self.consents[borrower][self.caller]
            require(
                len(grant) > 0, f"{hexa(borrower)} has given {hexa(self.caller)} no consent", "no_consent"
            )
            require(
                grant["revoked"] == 0,
                f"{hexa(borrower)} revoked its consent for {hexa(self.caller)} at {grant['revoked']}",
                "no_consent",
            )
            require(
                now < grant["until"],
                f"the consent of {hexa(borrower)} for {hexa(self.caller)} ran until "
                f"{grant['until']} (now {now})",
                "no_consent",
            )
            scope = grant["scope"]
        answer = self.totals(borrower, now)
        answer["borrower"] = borrower
        answer["scope"] = scope
        answer["at"] = now
        if scope != SUMMARY:
            answer["items"] = self.loans_of(borrower, now)
        n = self.log_count_of[borrower] + 1
        self.log_count_of[borrower] = n
        self.logs[borrower][n] = {
            "n": n,
            "by": self.caller,
            "scope": scope,
            "time": now,
            "height": self.block.height,
            "tx": self.tx_hash,
        }
        self.emit("CreditQueried", **answer)
        return answer

    # --- views -----------------------------------------------------------------------------

    @view
    def loan(self, loan_id: int) -> Loan:
        loan = self.load(loan_id)
        loan["status_now"] = status_at(loan, self.block.timestamp_ms)
        return loan

    @view
    def consent_of(self, borrower: bytes, lender: bytes) -> Consent | Empty:
        return self.consents[borrower][lender]

    @view
    def log(self, borrower: bytes, start: int, limit: int) -> list[Query]:
        """Every query of ``borrower``'s credit (who, scope, when, which transaction), from
        the ``start``-th."""
        total = self.log_count_of[borrower]
        end = min(total, start + min(limit, MAX_LIST))
        return [self.logs[borrower][n] for n in range(max(start, 0) + 1, end + 1)]

    @view
    def log_count(self, borrower: bytes) -> int:
        return self.log_count_of[borrower]

    @view
    def count(self) -> int:
        return self.next_id

    # --- internals ---------------------------------------------------------------------------

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

    def lender_party(self, address: bytes) -> dict:
        who = self.party(address, "the lender")
        require(
            who.get("org_role") in LENDER_ROLES and who.get("role") != "wallet",
            f"loans are recorded and queried by lenders (bank staff); {hexa(address)} is {describe(who)}",
            "not_a_lender",
        )
        return who

    def load(self, loan_id: int) -> dict:
        loan = self.loans[loan_id] if isinstance(loan_id, int) and not isinstance(loan_id, bool) else {}
        require(len(loan) > 0, f"no loan {loan_id!r} (ids are 1..{self.next_id})", "loan_not_found")
        return loan

    def change(self, loan_id: int, status: str) -> None:
        loan = self.load(loan_id)
        require(
            self.caller == loan["lender"],
            f"loan {loan_id} is changed by its lender {hexa(loan['lender'])}",
            "not_lender",
        )
        require(
            loan["status"] in (CURRENT, OVERDUE) and loan["status"] != status,
            f"loan {loan_id} is {loan['status']}",
            "loan_closed",
        )
        loan["status"] = status
        loan["changed"] = self.block.timestamp_ms
        self.loans[loan_id] = loan
        self.emit(
            "LoanStatus",
            id=loan_id,
            lender=self.caller,
            borrower=loan["borrower"],
            status=status,
            amount=loan["amount"],
        )

    def totals(self, borrower: bytes, now: int) -> dict:
        outstanding = 0
        overdue = 0
        overdue_loans = 0
        written_off = 0
        open_loans = 0
        lenders = []
        for n in range(1, self.borrower_count[borrower] + 1):
            loan = self.loans[self.borrower_loans[borrower][n]]
            status = status_at(loan, now)
            if status in (CURRENT, OVERDUE):
                outstanding += loan["amount"]
                open_loans += 1
                if loan["lender"] not in lenders:
                    lenders.append(loan["lender"])
            if status == OVERDUE:
                overdue += loan["amount"]
                overdue_loans += 1
            if status == WRITTEN_OFF:
                written_off += loan["amount"]
        return {
            "outstanding": outstanding,
            "overdue": overdue,
            "overdue_loans": overdue_loans,
            "open_loans": open_loans,
            "written_off": written_off,
            "lenders": lenders,
            "loans": self.borrower_count[borrower],
        }

    def loans_of(self, borrower: bytes, now: int) -> list:
        out = []
        last = min(self.borrower_count[borrower], MAX_LOANS_QUERIED)
        for n in range(1, last + 1):
            loan = self.loans[self.borrower_loans[borrower][n]]
            out.append(
                {
                    "id": loan["id"],
                    "lender": loan["lender"],
                    "amount": loan["amount"],
                    "start": loan["start"],
                    "due": loan["due"],
                    "status": status_at(loan, now),
                }
            )
        return out

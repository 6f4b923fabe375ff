"""Building the calls of ``apps/scf`` (contracts ``scf`` and ``credit``) and reading their views:
plain functions the client SDK, the CLI and the REST layer wrap (the :class:`AppCall` /
:class:`ViewCall` shapes of ``apps/cbdc``).

    digest = invoice_hash(seller, buyer, "INV-001", 1_000_000, "2025-03-01")
    call = confirm(supplier, 1_000_000, maturity_ms, [digest])
    payable_id = payable_id_of(receipt.events)          # from the PayableConfirmed event

:func:`finance_terms` is the contract's discount arithmetic (ACT/360 on Beijing dates, interest
rounded half up), so a bank knows the price it attaches.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any

from consortia.apps.cbdc.sdk import AppCall, ViewCall, encode_args, event_fields
from consortia.client.arguments import InvalidArgument
from consortia.codec import decode_any, encode
from consortia.errors import DecodeError
from consortia.types.receipt import Event

__all__ = ["AppCall", "ViewCall", "encode_args", "event_fields"]

SCF = "scf"
CREDIT = "credit"

SECOND_MS = 1000
DAY_MS = 86_400_000
DATE_OFFSET_MS = 8 * 3_600_000
MIN_TERM_MS = SECOND_MS
MAX_TERM_MS = 366 * DAY_MS
GRACE_MS = DAY_MS
DAY_BASIS = 360
BPS = 10_000
MAX_RATE_BPS = 10_000
MAX_INVOICES = 16
MAX_PARTS = 64
HASH_BYTES = 32
MAX_LIST = 200
MAX_LOANS_QUERIED = 100
SCOPES = ("summary", "loans")
LOAN_STATUSES = ("current", "overdue", "repaid", "written_off")
ALERT_RULES = ("scf.invoice_payable_mismatch", "credit.overdue_borrower_new_loan")
"""The regulator alert rules the contracts raise (``/v1/reg/alerts``)."""

SCF_ERRORS: tuple[str, ...] = (
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
CREDIT_ERRORS: tuple[str, ...] = (
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
ERROR_CODES: dict[str, tuple[str, ...]] = {SCF: SCF_ERRORS, CREDIT: CREDIT_ERRORS}
"""The receipt statuses each contract refuses with (besides the chain's own rules of money)."""

INVOICE_DOMAIN = b"consortia/invoice\x00"
LOAN_DOMAIN = b"consortia/loan\x00"


# --- the invoice hash -----------------------------------------------------------------------------


def normalise_number(number: str) -> str:
    """An invoice number as every bank writes it: NFKC, upper case, without spaces, dashes,
    slashes, dots or underscores (``inv 2025/001`` and ``INV-2025-001`` are one invoice)."""
    if not isinstance(number, str) or len(number) > 1000:
        raise InvalidArgument(f"an invoice number is text of 1 to 64 characters besides separators, "
                              f"got {number!r:.80}")
    text = unicodedata.normalize("NFKC", number).upper()
    kept = "".join(ch for ch in text if not ch.isspace() and ch not in "-_/.")
    if not kept or len(kept) > 64:
        raise InvalidArgument(f"an invoice number has 1 to 64 characters besides separators, got {number!r}")
    return kept


def normalise_date(date: str) -> str:
    """An invoice date as ``YYYY-MM-DD`` (``2025-3-1``, ``2025/03/01`` and ``20250301`` are accepted)."""
    if not isinstance(date, str) or len(date) > 40:
        raise InvalidArgument(f"an invoice date is YYYY-MM-DD, got {date!r:.80}")
    text = date.strip().replace("/", "-")
    for pattern in ("%Y-%m-%d", "%Y%m%d"):
        try:
            return dt.datetime.strptime(text, pattern).date().isoformat()
        except ValueError:
            continue
    raise InvalidArgument(f"an invoice date is YYYY-MM-DD, got {date!r}")


def invoice_hash(seller: bytes, buyer: bytes, number: str, amount: int, date: str) -> bytes:
    """The registry's name of an invoice: SHA-256 over the domain and the canonical encoding of
    its normalised fields ``[seller, buyer, number, amount, date]``. Every bank computes the same
    hash from the same invoice, and the hash reveals neither its number nor its date."""
    if len(seller) != 20 or len(buyer) != 20:
        raise InvalidArgument("the seller and the buyer are 20-byte addresses")
    if isinstance(amount, bool) or not isinstance(amount, int) or not 0 < amount < 2**64:
        raise InvalidArgument(f"an invoice amount is a positive whole amount below 2**64, got {amount!r}")
    fields = [bytes(seller), bytes(buyer), normalise_number(number), amount, normalise_date(date)]
    return hashlib.sha256(INVOICE_DOMAIN + encode(fields)).digest()


MAX_INVOICE_LINES = 200
MAX_INVOICE_TEXT = 500


def invoice_contents(seller: bytes, buyer: bytes, number: str, amount: int, date: str,
                     lines: Sequence[str] = (), note: str = "") -> bytes:  # fmt: skip
    """An invoice's contents as sealed for its parties and the supervisor (apps/privacy): JSON
    with sorted keys of the normalised fields the registry hashes (:func:`invoice_hash`), the
    invoice's lines and a note. Whoever opens it checks it against the on-chain hash
    (:func:`check_invoice_contents`)."""
    invoice_hash(seller, buyer, number, amount, date)  # the same checks
    if not isinstance(note, str):
        raise InvalidArgument(f"an invoice's note is text, got {type(note).__name__}")
    if not isinstance(lines, list | tuple):
        raise InvalidArgument(f"an invoice's lines are a list of text, got {type(lines).__name__}")
    if len(lines) > MAX_INVOICE_LINES or any(not isinstance(t, str) or not 1 <= len(t) <= MAX_INVOICE_TEXT
                                             for t in [*lines, *([note] if note else [])]):
        raise InvalidArgument(f"an invoice has at most {MAX_INVOICE_LINES} lines and a note, each 1 to "
                              f"{MAX_INVOICE_TEXT} characters")
    body = {"seller": "0x" + seller.hex(), "buyer": "0x" + buyer.hex(), "number": normalise_number(number),
            "amount": amount, "date": normalise_date(date), "lines": list(lines), "note": note}
    return json.dumps(body, sort_keys=True, ensure_ascii=False).encode()


def check_invoice_contents(plaintext: bytes, digest: bytes) -> dict[str, Any]:
    """Opened contents, checked to be the invoice the registry names by ``digest``."""
    try:
        body = json.loads(plaintext)
        fields = (bytes.fromhex(body["seller"][2:]), bytes.fromhex(body["buyer"][2:]), body["number"],
                  body["amount"], body["date"])
    except (ValueError, KeyError, TypeError):
        raise InvalidArgument("the opened contents are not an invoice's") from None
    if invoice_hash(*fields) != digest:
        raise InvalidArgument(f"the opened contents hash to 0x{invoice_hash(*fields).hex()}, not the invoice "
                              f"0x{digest.hex()} registered on chain: they are not its contents")
    return dict(body)


def loan_commitment(salt: bytes, terms: bytes) -> bytes:
    """The commitment a lender records for a loan: SHA-256(domain || salt || terms)."""
    if len(salt) < 16:
        raise InvalidArgument("a commitment's salt has at least 16 bytes")
    return hashlib.sha256(LOAN_DOMAIN + salt + terms).digest()


# --- scf: lines, invoices, payables ------------------------------------------------------------------


def set_line(core: bytes, limit: int) -> AppCall:
    return AppCall(SCF, "set_line", [core, limit])


def register_invoice(digest: bytes, buyer: bytes, amount: int, content: bytes = b"") -> AppCall:
    args: list[Any] = [digest, buyer, amount]
    return AppCall(SCF, "register_invoice", [*args, content] if content else args)


def confirm_invoice(digest: bytes) -> AppCall:
    return AppCall(SCF, "confirm_invoice", [digest])


def dispute_invoice(digest: bytes) -> AppCall:
    return AppCall(SCF, "dispute_invoice", [digest])


def confirm(supplier: bytes, amount: int, maturity_ms: int, invoices: Sequence[bytes]) -> AppCall:
    return AppCall(SCF, "confirm", [supplier, amount, maturity_ms, list(invoices)])


def transfer(part_id: int, to: bytes, amount: int) -> AppCall:
    return AppCall(SCF, "transfer", [part_id, to, amount])


def finance(part_id: int, bank: bytes, amount: int, rate_bps: int, recourse: bool) -> AppCall:
    return AppCall(SCF, "finance", [part_id, bank, amount, rate_bps, recourse])


def finance_accept(part_id: int, price: int) -> AppCall:
    """The bank's side: attach ``price`` (at least the contract's price; any excess returns)."""
    return AppCall(SCF, "finance_accept", [part_id], price)


def finance_cancel(part_id: int) -> AppCall:
    return AppCall(SCF, "finance_cancel", [part_id])


def settle(payable_id: int, amount: int) -> AppCall:
    """The core pays the payable's ``amount`` (attached) to every holder of every part."""
    return AppCall(SCF, "settle", [payable_id], amount)


def default(payable_id: int) -> AppCall:
    return AppCall(SCF, "default", [payable_id])


def claim_pay(part_id: int, amount: int) -> AppCall:
    return AppCall(SCF, "claim_pay", [part_id], amount)


def line(core: bytes) -> ViewCall:
    return ViewCall(SCF, "line", [core])


def payable(payable_id: int) -> ViewCall:
    return ViewCall(SCF, "payable", [payable_id])


def part(part_id: int) -> ViewCall:
    return ViewCall(SCF, "part", [part_id])


def parts_of(payable_id: int) -> ViewCall:
    return ViewCall(SCF, "parts_of", [payable_id])


def invoice(digest: bytes) -> ViewCall:
    return ViewCall(SCF, "invoice", [digest])


def quote(part_id: int, amount: int, rate_bps: int, at_ms: int = 0) -> ViewCall:
    return ViewCall(SCF, "quote", [part_id, amount, rate_bps, at_ms])


def held_by(holder: bytes, start: int = 0, limit: int = MAX_LIST) -> ViewCall:
    return ViewCall(SCF, "held_by", [holder, start, limit])


def involved(address: bytes, start: int = 0, limit: int = MAX_LIST) -> ViewCall:
    return ViewCall(SCF, "involved", [address, start, limit])


def payables_list(start: int = 1, limit: int = MAX_LIST) -> ViewCall:
    return ViewCall(SCF, "payables_list", [start, limit])


def count() -> ViewCall:
    return ViewCall(SCF, "count", [])


# --- credit -----------------------------------------------------------------------------------------


def record_loan(borrower: bytes, commitment: bytes, amount: int, start_ms: int, due_ms: int) -> AppCall:
    return AppCall(CREDIT, "record", [borrower, commitment, amount, start_ms, due_ms])


def repay(loan_id: int) -> AppCall:
    return AppCall(CREDIT, "repay", [loan_id])


def default_loan(loan_id: int) -> AppCall:
    return AppCall(CREDIT, "default", [loan_id])


def write_off(loan_id: int) -> AppCall:
    return AppCall(CREDIT, "write_off", [loan_id])


def consent(lender: bytes, scope: str, until_ms: int) -> AppCall:
    return AppCall(CREDIT, "consent", [lender, scope, until_ms])


def revoke(lender: bytes) -> AppCall:
    return AppCall(CREDIT, "revoke", [lender])


def query(borrower: bytes) -> AppCall:
    """A logged query (a transaction): the answer is the receipt's ``CreditQueried`` event."""
    return AppCall(CREDIT, "query", [borrower])


def loan(loan_id: int) -> ViewCall:
    return ViewCall(CREDIT, "loan", [loan_id])


def consent_of(borrower: bytes, lender: bytes) -> ViewCall:
    return ViewCall(CREDIT, "consent_of", [borrower, lender])


def query_log(borrower: bytes, start: int = 0, limit: int = MAX_LIST) -> ViewCall:
    return ViewCall(CREDIT, "log", [borrower, start, limit])


# --- the contract's arithmetic and receipts, for clients ------------------------------------------


def day_number(ms: int) -> int:
    """The Beijing (UTC+8) calendar day of a timestamp, as days since 1970-01-01."""
    return (ms + DATE_OFFSET_MS) // DAY_MS


def finance_terms(amount: int, rate_bps: int, now_ms: int, maturity_ms: int) -> tuple[int, int, int]:
    """``(days, interest, price)`` as the contract computes them: days from the financing date
    (counted) to the maturity date (not counted), interest = amount x rate_bps x days /
    (10,000 x 360) rounded half up to the unit, price = amount - interest."""
    days = max(0, day_number(maturity_ms) - day_number(now_ms))
    divisor = BPS * DAY_BASIS
    interest = (amount * rate_bps * days + divisor // 2) // divisor
    return days, interest, amount - interest


def _event(events: Iterable[Event], contract: str, name: str) -> dict[str, Any]:
    for event in events:
        if event.contract == contract and event.name == name:
            return dict(decode_any(event.data, dict[str, Any]))
    raise DecodeError(f"no {contract}.{name} event among the receipt's events")


def payable_id_of(events: Iterable[Event]) -> int:
    """The id of the payable a ``confirm`` made (its first part has the same id)."""
    return int(_event(events, SCF, "PayableConfirmed")["id"])


def moved_part(events: Iterable[Event]) -> int:
    """The id of the part the recipient of a ``transfer`` now holds."""
    return int(_event(events, SCF, "PartTransferred")["moved"])


def offered_part(events: Iterable[Event]) -> dict[str, Any]:
    """The ``FinanceOffered`` fields of a ``finance`` call: the offered part, its price and terms."""
    return _event(events, SCF, "FinanceOffered")


def loan_id_of(events: Iterable[Event]) -> int:
    return int(_event(events, CREDIT, "LoanRecorded")["id"])


def query_answer(events: Iterable[Event]) -> dict[str, Any]:
    """The answer of a credit ``query`` (its ``CreditQueried`` event)."""
    return _event(events, CREDIT, "CreditQueried")


def paid_parts(events: Iterable[Event]) -> list[dict[str, Any]]:
    """Every ``PartPaid`` of a settlement: ``{payable, part, holder, amount}``."""
    return [
        dict(decode_any(e.data, dict[str, Any])) for e in events if e.contract == SCF and e.name == "PartPaid"
    ]

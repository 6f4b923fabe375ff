"""Building the calls of ``apps/bills`` and reading its views: plain functions the client SDK,
the CLI and the REST layer wrap (the same :class:`AppCall` / :class:`ViewCall` shapes as
``apps/cbdc``).

    call = issue(BILL, BANK, payee, bank, 1_000_000, maturity_ms=..., not_transferable=False)
    tx_call = Call(call.contract, call.method, encode_args(call), call.value)
    bill_id = issued_id(receipt.events)                 # from the BillIssued event

Times are block timestamps in milliseconds; :func:`discount_terms` is the contract's discount
arithmetic (ACT/360, Beijing dates, interest rounded half up), for a bank to know the price it
attaches.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from consortia.apps.cbdc.sdk import AppCall, ViewCall, encode_args, event_fields
from consortia.codec import decode_any
from consortia.errors import DecodeError
from consortia.types.receipt import Event

__all__ = ["AppCall", "ViewCall", "encode_args", "event_fields"]

BILLS = "bills"
CHEQUE = "cheque"
BILL = "bill"
BANK = "bank"
COMMERCIAL = "commercial"
KINDS = (CHEQUE, BILL)
ACCEPTANCES = (BANK, COMMERCIAL)

SECOND_MS = 1000
DAY_MS = 86_400_000
DATE_OFFSET_MS = 8 * 3_600_000
CHEQUE_PERIOD_MS = 10 * DAY_MS
PRESENT_WINDOW_MS = 10 * DAY_MS
MIN_TERM_MS = SECOND_MS
MAX_TERM_MONTHS = 12
DAY_BASIS = 360
BPS = 10_000
MAX_RATE_BPS = 10_000
MAX_PARTS = 16
MEMO_BYTES = 32
MAX_LIST = 200
CIRCULAR_WINDOW_MS = 90 * DAY_MS
REASONS = ("insufficient_cover", "stopped", "refused", "forged", "account_closed", "disputed")
ALERT_RULES = ("bills.circular_endorsement", "bills.discount_open_dishonour")
"""The regulator alert rules the contract raises (``/v1/reg/alerts``)."""

STATUSES = ("issued", "accepted", "presented", "paid", "dishonoured", "settled", "cancelled", "expired",
            "split")

ERROR_CODES: tuple[str, ...] = (
    "bad_address", "bad_kind", "bad_amount", "bad_maturity", "bad_period", "bad_memo", "bad_rate",
    "bad_parts", "bad_reason", "bad_party", "unknown_party", "party_frozen", "not_a_bank",
    "bill_not_found", "not_drawer", "not_drawee", "not_holder", "not_pledgee", "not_liable",
    "not_transferable", "not_accepted", "already_accepted", "not_a_bill", "bill_closed",
    "already_paid", "not_due", "matured", "presentment_period_over", "pledged", "not_pledged",
    "pledge_not_due", "stopped", "discount_offered", "no_discount_offer", "not_presented",
    "not_dishonoured", "no_claim", "wrong_value", "insufficient_cover", "cover_needs_value",
    "not_expired", "already_presented",
)
"""The receipt statuses the contract refuses with (besides the chain's own rules of money)."""


# --- cover ------------------------------------------------------------------------------------


def deposit(drawee: bytes, amount: int) -> AppCall:
    """Put ``amount`` with ``drawee`` as cover for the instruments this key draws on it."""
    return AppCall(BILLS, "deposit", [drawee], amount)


def withdraw(drawee: bytes, amount: int) -> AppCall:
    return AppCall(BILLS, "withdraw", [drawee, amount])


# --- the lifecycle ------------------------------------------------------------------------------


def issue(kind: str, acceptance: str, payee: bytes, drawee: bytes, amount: int, *, maturity_ms: int = 0,
          not_transferable: bool = False, memo: bytes = b"", period_ms: int = 0) -> AppCall:  # fmt: skip
    """Draw a cheque (``acceptance`` empty, ``maturity_ms`` 0, ``period_ms`` 0 for 10 days) or a
    bill (``acceptance`` ``bank`` or ``commercial``, ``maturity_ms`` a timestamp)."""
    return AppCall(BILLS, "issue", [kind, acceptance, payee, drawee, amount, maturity_ms, not_transferable,
                                    memo, period_ms])


def accept(bill_id: int) -> AppCall:
    return AppCall(BILLS, "accept", [bill_id])


def refuse(bill_id: int) -> AppCall:
    return AppCall(BILLS, "refuse", [bill_id])


def cancel(bill_id: int) -> AppCall:
    return AppCall(BILLS, "cancel", [bill_id])


def endorse(bill_id: int, to: bytes) -> AppCall:
    return AppCall(BILLS, "endorse", [bill_id, to])


def split(bill_id: int, amounts: Sequence[int]) -> AppCall:
    return AppCall(BILLS, "split", [bill_id, list(amounts)])


def discount(bill_id: int, bank: bytes, rate_bps: int) -> AppCall:
    return AppCall(BILLS, "discount", [bill_id, bank, rate_bps])


def discount_accept(bill_id: int, price: int) -> AppCall:
    """The bank's side: attach ``price`` (at least the contract's price; any excess returns)."""
    return AppCall(BILLS, "discount_accept", [bill_id], price)


def discount_cancel(bill_id: int) -> AppCall:
    return AppCall(BILLS, "discount_cancel", [bill_id])


def pledge(bill_id: int, lender: bytes, until_ms: int = 0) -> AppCall:
    return AppCall(BILLS, "pledge", [bill_id, lender, until_ms])


def release(bill_id: int) -> AppCall:
    return AppCall(BILLS, "release", [bill_id])


def enforce(bill_id: int) -> AppCall:
    return AppCall(BILLS, "enforce", [bill_id])


def present(bill_id: int) -> AppCall:
    return AppCall(BILLS, "present", [bill_id])


def pay(bill_id: int, own_funds: int = 0) -> AppCall:
    """The drawee pays: the drawer's cover first, ``own_funds`` (exactly the shortfall) attached."""
    return AppCall(BILLS, "pay_bill", [bill_id], own_funds)


def dishonour(bill_id: int, reason: str) -> AppCall:
    return AppCall(BILLS, "dishonour", [bill_id, reason])


def stop(bill_id: int) -> AppCall:
    return AppCall(BILLS, "stop", [bill_id])


def recourse(bill_id: int, against: bytes) -> AppCall:
    return AppCall(BILLS, "recourse", [bill_id, against])


def recourse_pay(bill_id: int, amount: int) -> AppCall:
    return AppCall(BILLS, "recourse_pay", [bill_id], amount)


def expire(bill_id: int) -> AppCall:
    return AppCall(BILLS, "expire", [bill_id])


# --- views ----------------------------------------------------------------------------------------


def get(bill_id: int) -> ViewCall:
    return ViewCall(BILLS, "get", [bill_id])


def history(bill_id: int) -> ViewCall:
    return ViewCall(BILLS, "history", [bill_id])


def count() -> ViewCall:
    return ViewCall(BILLS, "count", [])


def cover(owner: bytes, drawee: bytes) -> ViewCall:
    return ViewCall(BILLS, "cover", [owner, drawee])


def total_cover() -> ViewCall:
    return ViewCall(BILLS, "total_cover", [])


def open_dishonours(drawer: bytes) -> ViewCall:
    return ViewCall(BILLS, "open_dishonours", [drawer])


def quote(bill_id: int, rate_bps: int, at_ms: int = 0) -> ViewCall:
    return ViewCall(BILLS, "quote", [bill_id, rate_bps, at_ms])


def liable(bill_id: int) -> ViewCall:
    return ViewCall(BILLS, "liable", [bill_id])


def involved(address: bytes, start: int = 0, limit: int = MAX_LIST) -> ViewCall:
    return ViewCall(BILLS, "involved", [address, start, limit])


def held_by(holder: bytes, start: int = 0, limit: int = MAX_LIST) -> ViewCall:
    return ViewCall(BILLS, "held_by", [holder, start, limit])


def instruments(start: int = 1, limit: int = MAX_LIST) -> ViewCall:
    return ViewCall(BILLS, "instruments", [start, limit])


# --- the contract's arithmetic, for clients ----------------------------------------------------------


def day_number(ms: int) -> int:
    """The Beijing (UTC+8) calendar day of a timestamp, as days since 1970-01-01."""
    return (ms + DATE_OFFSET_MS) // DAY_MS


def discount_terms(amount: int, rate_bps: int, now_ms: int, maturity_ms: int) -> tuple[int, int, int]:
    """``(days, interest, price)`` as the contract computes them: days from the discount date
    (counted) to the maturity date (not counted), interest = amount x rate_bps x days /
    (10,000 x 360) rounded half up to the unit, price = amount - interest."""
    days = max(0, day_number(maturity_ms) - day_number(now_ms))
    divisor = BPS * DAY_BASIS
    interest = (amount * rate_bps * days + divisor // 2) // divisor
    return days, interest, amount - interest


def issued_id(events: Iterable[Event]) -> int:
    """The id of the instrument an ``issue`` call made, from its receipt's events."""
    for event in events:
        if event.contract == BILLS and event.name == "BillIssued":
            return int(decode_any(event.data, dict[str, Any])["id"])
    raise DecodeError(f"no {BILLS}.BillIssued event among the receipt's events")


def split_ids(events: Iterable[Event]) -> list[int]:
    """The ids of the parts a ``split`` call made."""
    for event in events:
        if event.contract == BILLS and event.name == "BillSplit":
            return [int(i) for i in decode_any(event.data, dict[str, Any])["parts"]]
    raise DecodeError(f"no {BILLS}.BillSplit event among the receipt's events")

"""Digital cheques and bills of exchange from Python (issue 10, decisions/0012).

    with Client("http://127.0.0.1:8700") as client:
        acme = BillsWallet(Wallet(load_key_file(Path("acme.key")), client))
        bill = acme.issue("bill", payee=beta, amount=1_000_000, drawee=bank_a,
                          maturity_ms=parse_when("+90d"), acceptance="bank")
        bank = BillsWallet(Wallet(load_key_file(Path("net/orgs/bank-a/admin.key")), client))
        bank.accept(bill.id)
        ...
        BillsQueries(client).bill(bill.id)                     # the instrument, addresses as 0x text

Every argument is checked before anything is signed (:mod:`consortia.client.arguments`); every
action is one transaction that waits for finality; a refusal raises the typed error of its
receipt — the contract's own codes (``not_holder``, ``not_due``, ``pledged``, ...) as
:class:`~consortia.client.cbdc.ContractRefused` with that ``code`` and the contract's message.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from consortia.apps.bills import sdk as apps
from consortia.client import contracts as sdk
from consortia.client.arguments import (
    InvalidArgument,
    check_address_arg,
    check_amount,
    check_bps,
    check_flag,
    check_id,
    is_int,
)
from consortia.client.cbdc import ContractRefused, app_refusal
from consortia.client.client import Client
from consortia.client.permissioned import PermWallet
from consortia.contracts.python.json_data import to_json
from consortia.crypto.address import format_address

__all__ = ["BillsQueries", "BillsWallet", "ContractRefused", "Issued", "parse_when"]

MAX_TIMESTAMP_MS = 2**63 - 1
BEIJING = dt.timezone(dt.timedelta(hours=8))
RELATIVE = re.compile(r"\+(\d{1,9})(ms|s|m|h|d)")
UNIT_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}


# --- argument checks ----------------------------------------------------------------------------


def check_kind(kind: object, acceptance: object) -> tuple[str, str]:
    """``(kind, acceptance)``: a cheque has no acceptance; a bill is a bank or commercial acceptance."""
    if kind not in apps.KINDS:
        raise InvalidArgument(f"kind is one of {list(apps.KINDS)}, got {kind!r:.40}")
    if kind == apps.CHEQUE:
        if acceptance not in ("", *apps.ACCEPTANCES):  # the default (a bank acceptance) is ignored
            raise InvalidArgument(f"a cheque has no acceptance; got {acceptance!r:.40}")
        return apps.CHEQUE, ""
    if acceptance not in apps.ACCEPTANCES:
        raise InvalidArgument(f"a bill is a {' or '.join(apps.ACCEPTANCES)} acceptance, "
                              f"got {acceptance!r:.40}")
    return apps.BILL, str(acceptance)


def check_timestamp(value: object, what: str) -> int:
    if not is_int(value) or not 0 <= value <= MAX_TIMESTAMP_MS:  # type: ignore[operator]
        raise InvalidArgument(f"{what} must be a timestamp in ms from 0 to {MAX_TIMESTAMP_MS}, "
                              f"got {value!r:.40}")
    assert isinstance(value, int)
    return value


def check_parts(amounts: object) -> list[int]:
    if not isinstance(amounts, list | tuple) or not 2 <= len(amounts) <= apps.MAX_PARTS:
        raise InvalidArgument(f"split into 2 to {apps.MAX_PARTS} parts, got {amounts!r:.80}")
    return [check_amount(a, "each part") for a in amounts]


def check_reason(reason: object) -> str:
    if reason not in apps.REASONS:
        raise InvalidArgument(f"the reason is one of {list(apps.REASONS)}, got {reason!r:.40}")
    return str(reason)


def check_memo(memo: object) -> bytes:
    if not isinstance(memo, bytes) or len(memo) not in (0, apps.MEMO_BYTES):
        raise InvalidArgument(f"the memo is a {apps.MEMO_BYTES}-byte hash (or nothing)")
    return memo


def parse_when(text: str, now_ms: int | None = None) -> int:
    """A time in ms from ``+30s`` / ``+15m`` / ``+2h`` / ``+90d`` (after ``now_ms``, default the
    local clock), an ISO date (``2026-12-31``: midnight, Beijing time) or date-time with or without
    an offset (Beijing time when none), or a timestamp in ms."""
    text = text.strip()
    found = RELATIVE.fullmatch(text)
    if found:
        base = now_ms if now_ms is not None else int(dt.datetime.now(dt.UTC).timestamp() * 1000)
        return base + int(found.group(1)) * UNIT_MS[found.group(2)]
    if text.isdigit() and len(text) <= 19:
        return check_timestamp(int(text), "the time")
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        raise InvalidArgument(f"a time is +N(ms|s|m|h|d), an ISO date or date-time, or ms; "
                              f"got {text!r:.40}") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=BEIJING)
    return check_timestamp(int(when.timestamp() * 1000), "the time")


# --- actions ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Issued:
    """An instrument the chain made: its id and the receipt of the call."""

    id: int
    receipt: sdk.ContractReceipt


def _event(receipt: sdk.ContractReceipt, name: str) -> dict[str, Any]:
    for event in receipt.events:
        if event.contract == apps.BILLS and event.name == name:
            return event.fields
    raise InvalidArgument(f"bills call 0x{receipt.tx_hash.hex()} emitted no {name} event")


class BillsWallet(PermWallet):
    """A key's actions on cheques and bills (drawer, drawee, holder, bank, lender); each waits
    for finality and raises the typed refusal."""

    def _app(self, call: apps.AppCall) -> sdk.ContractReceipt:
        receipt = sdk.send(self.wallet, call.contract, call.method, call.args, timeout=self.timeout,
                           check=False, value=call.value)
        if not receipt.ok:
            raise app_refusal(receipt)
        return receipt

    def _queries(self) -> BillsQueries:
        return BillsQueries(self.client)

    # cover
    def deposit(self, drawee: bytes | str, amount: int) -> sdk.ContractReceipt:
        """Put ``amount`` with ``drawee`` as cover for instruments this key draws on it."""
        return self._app(apps.deposit(check_address_arg(drawee, "drawee"), check_amount(amount)))

    def withdraw(self, drawee: bytes | str, amount: int) -> sdk.ContractReceipt:
        return self._app(apps.withdraw(check_address_arg(drawee, "drawee"), check_amount(amount)))

    # issue and acceptance
    def issue(self, kind: str, payee: bytes | str, amount: int, drawee: bytes | str, *,
              maturity_ms: int = 0, acceptance: str = apps.BANK, not_transferable: bool = False,
              memo: bytes = b"", period_ms: int = 0) -> Issued:  # fmt: skip
        """Draw a cheque (``maturity_ms`` 0; ``period_ms`` 0 for 10 days) or a bill."""
        kind, acceptance = check_kind(kind, acceptance)
        maturity = check_timestamp(maturity_ms, "the maturity")
        if kind == apps.BILL and maturity == 0:
            raise InvalidArgument("a bill needs a maturity")
        to, drawn_on = check_address_arg(payee, "payee"), check_address_arg(drawee, "drawee")
        call = apps.issue(kind, acceptance, to, drawn_on, check_amount(amount), maturity_ms=maturity,
                          not_transferable=check_flag(not_transferable, "not_transferable"),
                          memo=check_memo(memo),
                          period_ms=check_timestamp(period_ms, "the presentment period"))
        receipt = self._app(call)
        return Issued(int(_event(receipt, "BillIssued")["id"]), receipt)

    def accept(self, bill_id: int) -> sdk.ContractReceipt:
        return self._app(apps.accept(check_id(bill_id, "bill id")))

    def refuse(self, bill_id: int) -> sdk.ContractReceipt:
        return self._app(apps.refuse(check_id(bill_id, "bill id")))

    def cancel(self, bill_id: int) -> sdk.ContractReceipt:
        return self._app(apps.cancel(check_id(bill_id, "bill id")))

    # negotiation
    def endorse(self, bill_id: int, to: bytes | str) -> sdk.ContractReceipt:
        return self._app(apps.endorse(check_id(bill_id, "bill id"), check_address_arg(to, "endorsee")))

    def split(self, bill_id: int, amounts: Sequence[int]) -> list[int]:
        """Split into parts summing to the face amount; the new parts' ids."""
        receipt = self._app(apps.split(check_id(bill_id, "bill id"), check_parts(amounts)))
        return [int(i) for i in _event(receipt, "BillSplit")["parts"]]

    def discount(self, bill_id: int, bank: bytes | str, rate_bps: int) -> dict[str, Any]:
        """Offer the bill to ``bank`` at ``rate_bps`` a year; the terms (days, interest, price)."""
        receipt = self._app(apps.discount(check_id(bill_id, "bill id"), check_address_arg(bank, "bank"),
                                          check_bps(rate_bps, apps.MAX_RATE_BPS, "discount rate")))
        fields = _event(receipt, "DiscountOffered")
        return {"days": fields["days"], "interest": fields["interest"], "price": fields["price"],
                "tx_hash": "0x" + receipt.tx_hash.hex(), "height": receipt.height}

    def discount_accept(self, bill_id: int, price: int | None = None) -> sdk.ContractReceipt:
        """The bank pays the price and takes the bill in one transaction. Without ``price`` it
        attaches the price at tomorrow's date (never less than today's), the excess coming back."""
        bill_id = check_id(bill_id, "bill id")
        if price is None:
            queries = self._queries()
            bill = queries.bill(bill_id)
            offer = bill["offer"]
            if not offer:
                raise ContractRefused(f"bill {bill_id} has no discount offer", "no_discount_offer")
            head = queries.head_time()
            price = int(queries.quote(bill_id, int(offer["rate_bps"]), head + apps.DAY_MS)["price"])
            price = max(price, int(queries.quote(bill_id, int(offer["rate_bps"]), head)["price"]))
        return self._app(apps.discount_accept(bill_id, check_amount(price, "price")))

    def discount_cancel(self, bill_id: int) -> sdk.ContractReceipt:
        return self._app(apps.discount_cancel(check_id(bill_id, "bill id")))

    def pledge(self, bill_id: int, lender: bytes | str, until_ms: int = 0) -> sdk.ContractReceipt:
        return self._app(apps.pledge(check_id(bill_id, "bill id"), check_address_arg(lender, "lender"),
                                     check_timestamp(until_ms, "the pledge's term")))

    def release(self, bill_id: int) -> sdk.ContractReceipt:
        return self._app(apps.release(check_id(bill_id, "bill id")))

    def enforce(self, bill_id: int) -> sdk.ContractReceipt:
        return self._app(apps.enforce(check_id(bill_id, "bill id")))

    # presentment, payment, dishonour, recourse
    def present(self, bill_id: int) -> sdk.ContractReceipt:
        return self._app(apps.present(check_id(bill_id, "bill id")))

    def pay(self, bill_id: int, own_funds: int | None = None) -> sdk.ContractReceipt:
        """The drawee pays: the drawer's cover first, the shortfall from this key (read from the
        chain when ``own_funds`` is None)."""
        bill_id = check_id(bill_id, "bill id")
        if own_funds is None:
            queries = self._queries()
            bill = queries.bill(bill_id)
            own_funds = max(0, int(bill["amount"]) - queries.cover(bill["drawer"], bill["drawee"]))
        if not is_int(own_funds) or own_funds < 0:
            raise InvalidArgument(f"own funds are a whole number of units, got {own_funds!r:.40}")
        return self._app(apps.pay(bill_id, own_funds))

    def dishonour(self, bill_id: int, reason: str) -> sdk.ContractReceipt:
        return self._app(apps.dishonour(check_id(bill_id, "bill id"), check_reason(reason)))

    def stop(self, bill_id: int) -> sdk.ContractReceipt:
        return self._app(apps.stop(check_id(bill_id, "bill id")))

    def recourse(self, bill_id: int, against: bytes | str) -> sdk.ContractReceipt:
        return self._app(apps.recourse(check_id(bill_id, "bill id"), check_address_arg(against, "against")))

    def recourse_pay(self, bill_id: int) -> sdk.ContractReceipt:
        """Pay the claim against this key (its amount read from the chain) and take the instrument."""
        bill_id = check_id(bill_id, "bill id")
        claim = self._queries().bill(bill_id)["claim"]
        if not claim:
            raise ContractRefused(f"instrument {bill_id} has no open recourse claim", "no_claim")
        return self._app(apps.recourse_pay(bill_id, check_amount(int(claim["amount"]))))

    def expire(self, bill_id: int) -> sdk.ContractReceipt:
        return self._app(apps.expire(check_id(bill_id, "bill id")))


# --- queries ------------------------------------------------------------------------------------


class BillsQueries:
    """Read-only views through a node's REST API (``/v1/bills``); addresses as ``0x`` text."""

    def __init__(self, client: Client) -> None:
        self.client = client

    def bill(self, bill_id: int) -> dict[str, Any]:
        return dict(self.client.get(f"/v1/bills/{check_id(bill_id, 'bill id')}")["bill"])

    def history(self, bill_id: int) -> list[dict[str, Any]]:
        return list(self.client.get(f"/v1/bills/{check_id(bill_id, 'bill id')}/history")["history"])

    def liable(self, bill_id: int) -> list[str]:
        return list(self.client.get(f"/v1/bills/{check_id(bill_id, 'bill id')}/liable")["liable"])

    def list(self, holder: bytes | str | None = None, start: int = 0,
             limit: int = apps.MAX_LIST) -> list[dict[str, Any]]:  # fmt: skip
        """Instruments ``holder`` holds now, or every instrument (the regulator's view) from id
        ``start`` when no holder is given."""
        params: dict[str, Any] = {"start": start, "limit": limit}
        if holder is not None:
            params["holder"] = format_address(check_address_arg(holder, "holder"))
        return list(self.client.get("/v1/bills", **params)["bills"])

    def cover(self, owner: bytes | str, drawee: bytes | str) -> int:
        owner_text = format_address(check_address_arg(owner, "owner"))
        drawee_text = format_address(check_address_arg(drawee, "drawee"))
        return int(self.client.get(f"/v1/bills/cover/{owner_text}/{drawee_text}")["cover"])

    def quote(self, bill_id: int, rate_bps: int, at_ms: int = 0) -> dict[str, int]:
        path = f"/v1/bills/{check_id(bill_id, 'bill id')}/quote"
        at_ms = check_timestamp(at_ms, "the quote's time")
        rate = check_bps(rate_bps, apps.MAX_RATE_BPS, "discount rate")
        data = self.client.get(path, rate_bps=rate, at_ms=at_ms)
        return {k: int(data[k]) for k in ("days", "interest", "price")}

    def open_dishonours(self, drawer: bytes | str) -> int:
        text = format_address(check_address_arg(drawer, "drawer"))
        return int(self.client.get(f"/v1/bills/drawers/{text}")["open_dishonours"])

    def head_time(self) -> int:
        """The timestamp of the node's latest block (what the contract's next block is near)."""
        return int(self.client.get("/v1/status")["timestamp_ms"])


def view_json(result: Any) -> Any:
    """A contract view's result as JSON (bytes as ``0x`` hex)."""
    return to_json(result)

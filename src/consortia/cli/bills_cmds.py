"""``consortia bill …``: digital cheques and bills of exchange (issue 10).

    consortia bill issue --kind bill --acceptance bank --payee 0x… --amount 1000000 --drawee 0x… \\
        --maturity +90d --key acme.key
    consortia bill accept 1 --key bank.key
    consortia bill endorse 1 --to 0x… --key beta.key
    consortia bill split 1 --amounts 600000,400000 --key gamma.key
    consortia bill discount 2 --bank 0x… --rate-bps 360 --key gamma.key
    consortia bill discount-accept 2 --key bank-b.key          # pays the price, takes the bill
    consortia bill present 2 --key bank-b.key; consortia bill pay 2 --key bank.key
    consortia bill show 2; consortia bill history 2; consortia bill list --holder 0x…

Every argument is checked before anything is signed; every action is one transaction that waits
for finality. A refusal exits non-zero naming its code and the contract's figures (``not_due``:
"bill 2 matures at … (now …, 3000 ms to go)"); ``--json`` prints one JSON document; no command
prints a traceback.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from consortia.apps.bills.sdk import MAX_RATE_BPS
from consortia.cli.connect import connect
from consortia.cli.keys import load_key
from consortia.cli.options import JSON, KEY, NODE, READ_KEY, TIMEOUT
from consortia.cli.output import console, emit, handles_errors
from consortia.client import bills
from consortia.client import contracts as sdk
from consortia.client.arguments import InvalidArgument, check_bps, check_id, parse_int_text
from consortia.client.wallet import Wallet

BILL_ID = typer.Argument(..., metavar="ID", help="The instrument's id.")

bill_app = typer.Typer(no_args_is_help=True, help="Digital cheques and bills of exchange.")


def register(app: typer.Typer) -> None:
    app.add_typer(bill_app, name="bill")


# --- helpers ------------------------------------------------------------------------------------


@contextlib.contextmanager
def _signer(key: Path, node: str, timeout: float) -> Iterator[bills.BillsWallet]:
    signer_key = load_key(key)
    with connect(node, signer_key, timeout=timeout + 10) as client:
        yield bills.BillsWallet(Wallet(signer_key, client), timeout=timeout)


def _id(text: str) -> int:
    return check_id(parse_int_text(text, "id"), "bill id")


def _done(data: dict[str, Any], as_json: bool, what: str) -> None:
    emit(data, as_json, lambda: console.print(
        f"[bold green]{what}[/]: {data['tx_hash']} committed at height {data['height']}", highlight=False))


def _act(key: Path, node: str, timeout: float, as_json: bool, what: str,
         action: Callable[[bills.BillsWallet], sdk.ContractReceipt], **extra: Any) -> None:  # fmt: skip
    with _signer(key, node, timeout) as wallet:
        receipt = action(wallet)
    _done({**receipt.to_json(), **extra}, as_json, what)


def _show(data: dict[str, Any], as_json: bool, title: str) -> None:
    def human() -> None:
        table = Table(title=title, show_header=False, box=None)
        for key, value in data.items():
            if isinstance(value, dict):
                value = ", ".join(f"{k} {v}" for k, v in value.items()) or "-"
            elif isinstance(value, list):
                value = ", ".join(map(str, value)) or "-"
            table.add_row(f"[bold]{key}[/]", "-" if value is None else str(value))
        console.print(table)

    emit(data, as_json, human)


@contextlib.contextmanager
def _query(node: str, key: Path | None) -> Iterator[bills.BillsQueries]:
    with connect(node, key) as client:
        yield bills.BillsQueries(client)


# --- issue, acceptance, cancellation ------------------------------------------------------------


@bill_app.command("issue")
@handles_errors
def bill_issue(
    kind: str = typer.Option(..., "--kind", help="cheque or bill."),
    payee: str = typer.Option(..., "--payee", help="0x address of the payee."),
    amount: str = typer.Option(..., "--amount", help="Face amount in units."),
    drawee: str = typer.Option(..., "--drawee", help="0x address of the drawee (bank, or acceptor)."),
    maturity: str = typer.Option("", "--maturity", help="A bill's maturity: +90d, +30s, 2026-12-31 or ms."),
    acceptance: str = typer.Option("bank", "--acceptance", help="A bill's acceptance: bank or commercial."),
    not_transferable: bool = typer.Option(False, "--not-transferable", help="Mark it not transferable."),
    memo: str = typer.Option("", "--memo", help="0x hash of a document (32 bytes)."),
    key: Path = KEY, node: str = NODE, timeout: float = TIMEOUT, as_json: bool = JSON,
) -> None:  # fmt: skip
    """Draw a cheque or a bill."""
    kind, acceptance = bills.check_kind(kind, acceptance)
    face = parse_int_text(amount, "amount")
    memo_bytes = _hex32(memo)
    if kind == "cheque" and maturity:
        raise InvalidArgument("a cheque is payable at sight: give no --maturity")
    if kind == "bill" and not maturity:
        raise InvalidArgument("a bill needs --maturity (+90d, 2026-12-31, ...)")
    with _signer(key, node, timeout) as wallet:
        when = bills.parse_when(maturity, bills.BillsQueries(wallet.client).head_time()) if maturity else 0
        made = wallet.issue(kind, payee, face, drawee, maturity_ms=when, acceptance=acceptance,
                            not_transferable=not_transferable, memo=memo_bytes)
    data = {**made.receipt.to_json(), "id": made.id, "maturity_ms": when}
    emit(data, as_json, lambda: console.print(
        f"[bold green]{kind} {made.id} issued[/]: {data['tx_hash']} committed at height {data['height']}",
        highlight=False))


def _hex32(text: str) -> bytes:
    if not text:
        return b""
    try:
        value = bytes.fromhex(text.removeprefix("0x"))
    except ValueError:
        raise InvalidArgument(f"--memo is a 0x hash of 32 bytes, got {text!r:.80}") from None
    return bills.check_memo(value)


def _simple(name: str, what: str, method: Callable[[bills.BillsWallet, int], sdk.ContractReceipt],
            doc: str) -> None:  # fmt: skip
    def command(bill_id: str = BILL_ID, key: Path = KEY, node: str = NODE, timeout: float = TIMEOUT,
                as_json: bool = JSON) -> None:  # fmt: skip
        found = _id(bill_id)
        _act(key, node, timeout, as_json, f"{what} {found}", lambda w: method(w, found), id=found)

    command.__doc__ = doc
    command.__name__ = f"bill_{name.replace('-', '_')}"
    bill_app.command(name)(handles_errors(command))


_simple("accept", "accepted", bills.BillsWallet.accept, "The drawee accepts a bill.")
_simple("refuse", "acceptance refused:", bills.BillsWallet.refuse,
        "The drawee refuses acceptance (dishonour by non-acceptance: recourse opens).")
_simple("cancel", "cancelled", bills.BillsWallet.cancel, "The drawer cancels a bill before acceptance.")
_simple("discount-cancel", "discount offer withdrawn on", bills.BillsWallet.discount_cancel,
        "The holder withdraws a discount offer, or the bank declines it.")
_simple("release", "pledge released on", bills.BillsWallet.release, "The lender releases a pledged bill.")
_simple("enforce", "pledge enforced on", bills.BillsWallet.enforce,
        "The lender enforces the pledge after its term: the bill becomes the lender's.")
_simple("present", "presented", bills.BillsWallet.present,
        "The holder presents for payment (a bill at or after maturity, a cheque within its period).")
_simple("stop", "payment stopped on", bills.BillsWallet.stop, "The drawer stops payment (before payment).")
_simple("recourse-pay", "recourse paid on", bills.BillsWallet.recourse_pay,
        "The party claimed pays the claim and takes the instrument.")
_simple("expire", "expired", bills.BillsWallet.expire, "Anyone: expire an instrument past its last day.")


# --- negotiation --------------------------------------------------------------------------------


@bill_app.command("endorse")
@handles_errors
def bill_endorse(bill_id: str = BILL_ID,
                 to: str = typer.Option(..., "--to", help="0x address of the endorsee."),
                 key: Path = KEY, node: str = NODE, timeout: float = TIMEOUT, as_json: bool = JSON) -> None:
    """The holder of record endorses the instrument to the next holder."""
    found = _id(bill_id)
    _act(key, node, timeout, as_json, f"endorsed {found}", lambda w: w.endorse(found, to), id=found, to=to)


@bill_app.command("split")
@handles_errors
def bill_split(bill_id: str = BILL_ID,
               amounts: str = typer.Option(..., "--amounts", help="Parts, comma-separated (A,B,...)."),
               key: Path = KEY, node: str = NODE, timeout: float = TIMEOUT, as_json: bool = JSON) -> None:
    """Split a bill into parts summing to its face amount (each keeps the history)."""
    found = _id(bill_id)
    parts = [parse_int_text(p.strip(), "each part") for p in amounts.split(",") if p.strip()]
    with _signer(key, node, timeout) as wallet:
        ids = wallet.split(found, parts)
    data = {"ok": True, "id": found, "parts": ids, "amounts": parts}
    emit(data, as_json, lambda: console.print(f"[bold green]split {found}[/] into {ids}", highlight=False))


@bill_app.command("discount")
@handles_errors
def bill_discount(bill_id: str = BILL_ID,
                  bank: str = typer.Option(..., "--bank", help="0x address of the bank."),
                  rate_bps: str = typer.Option(..., "--rate-bps", help="Annual rate in basis points."),
                  key: Path = KEY, node: str = NODE, timeout: float = TIMEOUT, as_json: bool = JSON) -> None:
    """The holder offers a bill for discount at a bank (the bank's discount-accept settles it)."""
    found = _id(bill_id)
    rate = check_bps(parse_int_text(rate_bps, "rate"), MAX_RATE_BPS, "discount rate")
    with _signer(key, node, timeout) as wallet:
        terms = wallet.discount(found, bank, rate)
    data = {"ok": True, "id": found, "bank": bank, "rate_bps": rate, **terms}
    emit(data, as_json, lambda: console.print(
        f"[bold green]offered {found}[/] at {rate} bp: {terms['days']} days, interest {terms['interest']}, "
        f"price {terms['price']}", highlight=False))


@bill_app.command("discount-accept")
@handles_errors
def bill_discount_accept(bill_id: str = BILL_ID,
                         price: str = typer.Option("", "--price", help="Units to attach (default: quoted)."),
                         key: Path = KEY, node: str = NODE, timeout: float = TIMEOUT,
                         as_json: bool = JSON) -> None:  # fmt: skip
    """The bank pays the price and takes the bill in one transaction (delivery versus payment)."""
    found = _id(bill_id)
    attached = parse_int_text(price, "price") if price else None
    _act(key, node, timeout, as_json, f"discounted {found}", lambda w: w.discount_accept(found, attached),
         id=found)


@bill_app.command("pledge")
@handles_errors
def bill_pledge(bill_id: str = BILL_ID, to: str = typer.Option(..., "--to", help="0x address of the lender."),
                until: str = typer.Option("", "--until", help="End of the pledge (default: maturity)."),
                key: Path = KEY, node: str = NODE, timeout: float = TIMEOUT, as_json: bool = JSON) -> None:
    """The holder pledges a bill to a lender (it cannot move until released or enforced)."""
    found = _id(bill_id)
    with _signer(key, node, timeout) as wallet:
        until_ms = bills.parse_when(until, bills.BillsQueries(wallet.client).head_time()) if until else 0
        receipt = wallet.pledge(found, to, until_ms)
    _done({**receipt.to_json(), "id": found, "lender": to, "until_ms": until_ms}, as_json, f"pledged {found}")


@bill_app.command("pay")
@handles_errors
def bill_pay(bill_id: str = BILL_ID,
             own_funds: str = typer.Option("", "--own-funds", help="Units of the drawee's own."),
             key: Path = KEY, node: str = NODE, timeout: float = TIMEOUT, as_json: bool = JSON) -> None:
    """The drawee pays a presented instrument: the drawer's cover first, the rest its own funds."""
    found = _id(bill_id)
    own = parse_int_text(own_funds, "own funds") if own_funds else None
    _act(key, node, timeout, as_json, f"paid {found}", lambda w: w.pay(found, own), id=found)


@bill_app.command("dishonour")
@handles_errors
def bill_dishonour(bill_id: str = BILL_ID,
                   reason: str = typer.Option(..., "--reason", help="insufficient_cover, stopped, ..."),
                   key: Path = KEY, node: str = NODE, timeout: float = TIMEOUT, as_json: bool = JSON) -> None:
    """The drawee dishonours a presented (or stopped) instrument: recourse opens."""
    found, why = _id(bill_id), bills.check_reason(reason)
    _act(key, node, timeout, as_json, f"dishonoured {found}", lambda w: w.dishonour(found, why), id=found,
         reason=why)


@bill_app.command("recourse")
@handles_errors
def bill_recourse(bill_id: str = BILL_ID,
                  against: str = typer.Option(..., "--against", help="0x address of a prior party."),
                  key: Path = KEY, node: str = NODE, timeout: float = TIMEOUT, as_json: bool = JSON) -> None:
    """The holder of a dishonoured instrument claims its amount from any prior party."""
    found = _id(bill_id)
    _act(key, node, timeout, as_json, f"recourse claimed on {found}", lambda w: w.recourse(found, against),
         id=found, against=against)


# --- cover --------------------------------------------------------------------------------------


@bill_app.command("deposit")
@handles_errors
def bill_deposit(drawee: str = typer.Option(..., "--drawee", help="0x address of the drawee."),
                 amount: str = typer.Option(..., "--amount", help="Units of cover."),
                 key: Path = KEY, node: str = NODE, timeout: float = TIMEOUT, as_json: bool = JSON) -> None:
    """Put cover with a drawee for the instruments you draw on it."""
    units = parse_int_text(amount, "amount")
    _act(key, node, timeout, as_json, f"deposited {units}", lambda w: w.deposit(drawee, units), amount=units)


@bill_app.command("withdraw")
@handles_errors
def bill_withdraw(drawee: str = typer.Option(..., "--drawee", help="0x address of the drawee."),
                  amount: str = typer.Option(..., "--amount", help="Units of cover."),
                  key: Path = KEY, node: str = NODE, timeout: float = TIMEOUT, as_json: bool = JSON) -> None:
    """Take cover back."""
    units = parse_int_text(amount, "amount")
    _act(key, node, timeout, as_json, f"withdrew {units}", lambda w: w.withdraw(drawee, units), amount=units)


# --- queries ------------------------------------------------------------------------------------


@bill_app.command("show")
@handles_errors
def bill_show(bill_id: str = BILL_ID,
              node: str = NODE, key: Path | None = READ_KEY, as_json: bool = JSON) -> None:
    """One instrument as the chain holds it."""
    found = _id(bill_id)
    with _query(node, key) as queries:
        data = queries.bill(found)
    _show(data, as_json, f"instrument {found}")


@bill_app.command("history")
@handles_errors
def bill_history(bill_id: str = BILL_ID,
                 node: str = NODE, key: Path | None = READ_KEY, as_json: bool = JSON) -> None:
    """Every step of an instrument, each with its transaction."""
    found = _id(bill_id)
    with _query(node, key) as queries:
        steps = queries.history(found)

    def human() -> None:
        table = Table(title=f"history of {found}")
        for column in ("id", "n", "action", "by", "party", "amount", "status", "height", "tx"):
            table.add_column(column)
        for s in steps:
            shown = ("id", "n", "action", "by", "party", "amount", "status", "height")
            table.add_row(*(str(s[c]) for c in shown), str(s["tx"])[:18])
        console.print(table)

    emit({"id": found, "history": steps}, as_json, human)


@bill_app.command("list")
@handles_errors
def bill_list(holder: str = typer.Option("", "--holder", help="0x address (default: every instrument)."),
              start: str = typer.Option("0", "--start", help="First index (or id) to list."),
              node: str = NODE, key: Path | None = READ_KEY, as_json: bool = JSON) -> None:
    """Instruments a holder holds now, or every instrument (the regulator's view)."""
    first = parse_int_text(start, "start") if start != "0" else 0
    with _query(node, key) as queries:
        found = queries.list(holder or None, first)

    def human() -> None:
        table = Table(title=f"instruments held by {holder}" if holder else "instruments")
        for column in ("id", "kind", "amount", "status", "holder", "maturity"):
            table.add_column(column)
        for b in found:
            table.add_row(*(str(b[c]) for c in ("id", "kind", "amount", "status", "holder", "maturity")))
        console.print(table)

    emit({"holder": holder or None, "bills": found}, as_json, human)


@bill_app.command("cover")
@handles_errors
def bill_cover(owner: str = typer.Argument(..., help="0x address of the drawer."),
               drawee: str = typer.Argument(..., help="0x address of the drawee."),
               node: str = NODE, key: Path | None = READ_KEY, as_json: bool = JSON) -> None:
    """Cover a drawer holds with a drawee."""
    with _query(node, key) as queries:
        amount = queries.cover(owner, drawee)
    emit({"owner": owner, "drawee": drawee, "cover": amount}, as_json, lambda: console.print(str(amount)))

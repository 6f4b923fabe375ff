"""``consortia scf …``, ``consortia invoice …``, ``consortia credit …``: supply-chain finance and
shared credit records (issue 11, decisions/0017).

    consortia scf line --core 0x… --limit 5000000 --key bank-a.key
    consortia invoice register --buyer 0x… --number INV-2025-001 --amount 1000000 --date 2025-03-01 \\
        --key tier1.key                                           # prints the invoice's hash
    consortia scf confirm --supplier 0x… --amount 1000000 --maturity +90d --invoice 0x… --key core.key
    consortia scf transfer 1 --to 0x… --amount 400000 --key tier1.key
    consortia scf finance 2 --bank 0x… --amount 400000 --rate-bps 450 [--recourse] --key tier2.key
    consortia scf finance-accept 3 --key bank-a.key              # pays the price, takes the part
    consortia scf settle 1 --key core.key; consortia scf show 1; consortia scf list --holder 0x…
    consortia credit record --borrower 0x… --amount 800000 --due +180d --terms "loan 1" --key bank-a.key
    consortia credit consent --lender 0x… --until +30d --key borrower.key
    consortia credit query 0x… --key bank-b.key; consortia credit log 0x…

Every argument is checked before anything is signed (``consortia.client.arguments``); every
action is one transaction that waits for finality. A refusal exits non-zero naming the
contract's code and figures (``invoice_already_financed``: "... 400000 not yet financed, 500000
asked"); ``--json`` prints one JSON document (addresses and hashes as ``0x`` text); no command
prints a traceback.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from consortia.apps.scf import sdk as apps
from consortia.cli.connect import connect
from consortia.cli.keys import load_key
from consortia.cli.options import JSON, KEY, KEY_ENV, NODE, READ_KEY, TIMEOUT
from consortia.cli.output import console, emit, handles_errors, plain_text, shorten
from consortia.client import contracts as sdk
from consortia.client.arguments import (
    InvalidArgument,
    check_address_arg,
    check_amount,
    check_bps,
    check_digest,
    check_id,
    parse_int_text,
)
from consortia.client.bills import parse_when
from consortia.client.client import Client
from consortia.client.scf import ScfQueries, ScfWallet, check_credit_limit, check_scope
from consortia.client.wallet import Wallet
from consortia.contracts.python.json_data import to_json
from consortia.crypto.address import format_address

PART_ID = typer.Argument(..., metavar="ID", help="The part's id (a payable's first part has its id).")
PAYABLE_ID = typer.Argument(..., metavar="ID", help="The payable's id.")
LOAN_ID = typer.Argument(..., metavar="ID", help="The loan's id.")
HASH = typer.Argument(..., metavar="HASH", help="The invoice's hash (0x + 64 hex digits).")
WHEN = "+90d, +30s, 2026-12-31, an ISO date-time, or ms"

scf_app = typer.Typer(no_args_is_help=True, help="Supply-chain finance: credit lines and confirmed payables.")
invoice_app = typer.Typer(no_args_is_help=True, help="The invoice registry: register, confirm, dispute.")
credit_app = typer.Typer(no_args_is_help=True, help="Shared credit records: loans, consent, logged queries.")


def register(app: typer.Typer) -> None:
    app.add_typer(scf_app, name="scf")
    app.add_typer(invoice_app, name="invoice")
    app.add_typer(credit_app, name="credit")


# --- helpers ------------------------------------------------------------------------------------


@contextlib.contextmanager
def _signer(key: Path, node: str, timeout: float) -> Iterator[ScfWallet]:
    signer_key = load_key(key)
    with connect(node, signer_key, timeout=timeout + 10) as client:
        yield ScfWallet(Wallet(signer_key, client), timeout=timeout)


@contextlib.contextmanager
def _query(node: str, key: Path | None) -> Iterator[ScfQueries]:
    with connect(node, key) as client:
        yield ScfQueries(client)


def _part(text: str) -> int:
    return check_id(parse_int_text(text, "part id"), "part id")


def _payable(text: str) -> int:
    return check_id(parse_int_text(text, "payable id"), "payable id")


def _loan(text: str) -> int:
    return check_id(parse_int_text(text, "loan id"), "loan id")


def _amount(text: str, what: str = "amount") -> int:
    return check_amount(parse_int_text(text, what), what)


def _start(text: str) -> int:
    first = parse_int_text(text, "start")
    if first < 0:
        raise InvalidArgument(f"--start is 0 or more, got {first}")
    return first


def _when(text: str, wallet_or_client: ScfWallet | Client, what: str) -> int:
    """A time from the command line; relative times count from the chain's head (block time)."""
    if not text.strip():
        raise InvalidArgument(f"{what} is {WHEN}")
    client = wallet_or_client.client if isinstance(wallet_or_client, ScfWallet) else wallet_or_client
    head = ScfQueries(client).head_time() if text.strip().startswith("+") else None
    return parse_when(text, head)


def _done(data: dict[str, Any], as_json: bool, what: str) -> None:
    shown = to_json(data)
    emit(
        shown,
        as_json,
        lambda: console.print(
            f"[bold green]{escape(what)}[/]: {shown['tx_hash']} committed at height {shown['height']}",
            highlight=False,
        ),
    )


def _act(key: Path, node: str, timeout: float, as_json: bool, what: str,
         action: Callable[[ScfWallet], sdk.ContractReceipt], **extra: Any) -> None:  # fmt: skip
    with _signer(key, node, timeout) as wallet:
        receipt = action(wallet)
    _done({**receipt.to_json(), **extra}, as_json, what)


def _said(data: dict[str, Any], as_json: bool, line: str) -> None:
    """An action's result (its event's fields): one JSON document, or one line for a person."""
    emit(to_json(data), as_json, lambda: console.print(line, highlight=False))


def _show(data: dict[str, Any], as_json: bool, title: str) -> None:
    shown = to_json(data)

    def human() -> None:
        table = Table(title=title, show_header=False, box=None)
        for key, value in shown.items():
            text = "-" if value in (None, "", [], {}) else plain_text(value)
            table.add_row(f"[bold]{escape(str(key))}[/]", escape(text))
        console.print(table)

    emit(shown, as_json, human)


def _rows(title: str, columns: tuple[str, ...], items: list[dict[str, Any]]) -> Callable[[], None]:
    def human() -> None:
        table = Table(title=title)
        for column in columns:
            table.add_column(column)
        for item in items:
            cells = []
            for column in columns:
                value = item.get(column)
                text = plain_text(value) if value not in (None, "") else "-"
                cells.append(escape(shorten(text, 12, 6) if str(text).startswith("0x") else text))
            table.add_row(*cells)
        console.print(table)

    return human


def invoice_hash_arg(text: str) -> bytes:
    return check_digest(text, "invoice hash")


def _addr(value: bytes) -> str:
    return format_address(value)


# --- scf: credit lines ----------------------------------------------------------------------------


@scf_app.command("line")
@handles_errors
def scf_line(
    core: str = typer.Option(..., "--core", help="0x address of the core enterprise."),
    limit: str = typer.Option(..., "--limit", help="The line's limit in units."),
    key: Path = KEY,
    node: str = NODE,
    timeout: float = TIMEOUT,
    as_json: bool = JSON,
) -> None:
    """A bank sets (or changes) a core enterprise's credit line."""
    address = check_address_arg(core, "core enterprise")
    units = check_credit_limit(parse_int_text(limit, "limit"))
    with _signer(key, node, timeout) as wallet:
        fields = wallet.set_line(address, units)
    _said({"ok": True, **fields}, as_json, f"credit line of {_addr(address)} set to {units}")


@scf_app.command("line-show")
@handles_errors
def scf_line_show(
    core: str = typer.Argument(..., metavar="CORE", help="0x address of the core enterprise."),
    node: str = NODE, key: Path | None = READ_KEY,
    as_json: bool = JSON,
) -> None:
    """A core enterprise's credit line: bank, limit, used, available."""
    address = check_address_arg(core, "core enterprise")
    with _query(node, key) as queries:
        line = queries.line(address)
    if not line:
        raise InvalidArgument(f"{_addr(address)} has no credit line")
    _show({"core": address, **line}, as_json, f"credit line of {_addr(address)}")


# --- scf: payables --------------------------------------------------------------------------------


@scf_app.command("confirm")
@handles_errors
def scf_confirm(
    supplier: str = typer.Option(..., "--supplier", help="0x address of the tier-1 supplier."),
    amount: str = typer.Option(..., "--amount", help="The payable's amount in units."),
    maturity: str = typer.Option(..., "--maturity", help=f"Maturity: {WHEN}."),
    invoice: list[str] = typer.Option(..., "--invoice", help="Invoice hash (repeat, 1 to 16)."),
    key: Path = KEY,
    node: str = NODE,
    timeout: float = TIMEOUT,
    as_json: bool = JSON,
) -> None:
    """The core enterprise confirms a payable to its supplier on its credit line."""
    to = check_address_arg(supplier, "supplier")
    units = _amount(amount)
    if not 1 <= len(invoice) <= apps.MAX_INVOICES:
        raise InvalidArgument(
            f"link 1 to {apps.MAX_INVOICES} invoices (--invoice HASH each), got {len(invoice)}"
        )
    hashes = [check_digest(h, "invoice hash") for h in invoice]
    with _signer(key, node, timeout) as wallet:
        when = _when(maturity, wallet, "the maturity")
        payable_id = wallet.confirm(to, units, when, hashes)
    _said(
        {"ok": True, "id": payable_id, "supplier": to, "amount": units, "maturity": when, "invoices": hashes},
        as_json,
        f"payable {payable_id} confirmed: {units} to {_addr(to)} at {when}",
    )


@scf_app.command("transfer")
@handles_errors
def scf_transfer(
    part_id: str = PART_ID,
    to: str = typer.Option(..., "--to", help="0x address of the next holder."),
    amount: str = typer.Option(..., "--amount", help="Units to pass (less than the part splits it)."),
    key: Path = KEY,
    node: str = NODE,
    timeout: float = TIMEOUT,
    as_json: bool = JSON,
) -> None:
    """The holder of record passes a part, or an amount split off it, to its own supplier."""
    found, recipient, units = _part(part_id), check_address_arg(to, "recipient"), _amount(amount)
    with _signer(key, node, timeout) as wallet:
        moved = wallet.transfer(found, recipient, units)
    _said(
        {"ok": True, "from_part": found, "part": moved, "to": recipient, "amount": units},
        as_json,
        f"part {moved} ({units}) now held by {_addr(recipient)}",
    )


@scf_app.command("finance")
@handles_errors
def scf_finance(
    part_id: str = PART_ID,
    bank: str = typer.Option(..., "--bank", help="0x address of the bank."),
    amount: str = typer.Option(..., "--amount", help="Units to finance (less than the part splits it)."),
    rate_bps: str = typer.Option(..., "--rate-bps", help="Annual discount rate in basis points."),
    recourse: bool = typer.Option(False, "--recourse", help="Financing with recourse on the seller."),
    key: Path = KEY,
    node: str = NODE,
    timeout: float = TIMEOUT,
    as_json: bool = JSON,
) -> None:
    """The holder offers (part of) a part to a bank; the bank's finance-accept settles it (DvP)."""
    found, to, units = _part(part_id), check_address_arg(bank, "bank"), _amount(amount)
    rate = check_bps(parse_int_text(rate_bps, "rate"), apps.MAX_RATE_BPS, "rate")
    with _signer(key, node, timeout) as wallet:
        terms = wallet.finance(found, to, units, rate, recourse)
    _said(
        {"ok": True, "bank": to, **terms},
        as_json,
        f"part {terms['part']} offered to {_addr(to)} at {rate} bp: {terms['days']} days, "
        f"interest {terms['interest']}, price {terms['price']}",
    )


@scf_app.command("finance-accept")
@handles_errors
def scf_finance_accept(
    part_id: str = PART_ID,
    price: str = typer.Option("", "--price", help="Units to attach (default: quoted)."),
    key: Path = KEY,
    node: str = NODE,
    timeout: float = TIMEOUT,
    as_json: bool = JSON,
) -> None:
    """The bank pays the price and takes the offered part in one transaction."""
    found = _part(part_id)
    attached = _amount(price, "price") if price else None
    with _signer(key, node, timeout) as wallet:
        fields = wallet.finance_accept(found, attached)
    _said({"ok": True, **fields}, as_json, f"part {found} financed: price {fields.get('price')} paid")


def _simple(app: typer.Typer, name: str, what: str, parse: Callable[[str], Any], argument: Any,
            method: Callable[[ScfWallet, Any], sdk.ContractReceipt], doc: str) -> None:  # fmt: skip
    def command(item: str = argument, key: Path = KEY, node: str = NODE, timeout: float = TIMEOUT,
                as_json: bool = JSON) -> None:  # fmt: skip
        found = parse(item)
        named = f"0x{found.hex()}" if isinstance(found, bytes) else found
        _act(key, node, timeout, as_json, f"{what} {named}", lambda w: method(w, found), id=found)

    command.__doc__ = doc
    command.__name__ = f"{name.replace('-', '_')}"
    app.command(name)(handles_errors(command))


_simple(
    scf_app,
    "finance-cancel",
    "financing offer withdrawn on part",
    _part,
    PART_ID,
    ScfWallet.finance_cancel,
    "The holder withdraws a financing offer, or the bank declines it.",
)
_simple(
    scf_app,
    "default",
    "default declared on payable",
    _payable,
    PAYABLE_ID,
    ScfWallet.default,
    "Anyone, a day after maturity: overdue parts, and recourse claims on the sellers.",
)
_simple(
    scf_app,
    "claim-pay",
    "recourse claim paid on part",
    _part,
    PART_ID,
    ScfWallet.claim_pay,
    "The seller pays the bank's recourse claim and takes the part back.",
)


@scf_app.command("settle")
@handles_errors
def scf_settle(
    payable_id: str = PAYABLE_ID,
    key: Path = KEY,
    node: str = NODE,
    timeout: float = TIMEOUT,
    as_json: bool = JSON,
) -> None:
    """The core enterprise pays every holder of every part at or after maturity (one transaction)."""
    found = _payable(payable_id)
    with _signer(key, node, timeout) as wallet:
        paid = wallet.settle(found)
    data = {"ok": True, "id": found, "paid": paid}
    emit(
        to_json(data), as_json, _rows(f"payable {found} settled", ("part", "holder", "amount"), to_json(paid))
    )


@scf_app.command("show")
@handles_errors
def scf_show(payable_id: str = PAYABLE_ID,
             node: str = NODE, key: Path | None = READ_KEY, as_json: bool = JSON) -> None:
    """A payable and every part of it: holders, amounts, financing, status."""
    found = _payable(payable_id)
    with _query(node, key) as queries:
        payable = queries.payable(found)
        parts = queries.parts_of(found)
    shown = to_json({"payable": payable, "parts": parts})

    def human() -> None:
        table = Table(title=f"payable {found}", show_header=False, box=None)
        for key, value in shown["payable"].items():
            table.add_row(f"[bold]{escape(str(key))}[/]", escape(plain_text(value)))
        console.print(table)
        _rows("parts", ("id", "holder", "amount", "status", "parent", "paid"), shown["parts"])()

    emit(shown, as_json, human)


@scf_app.command("part")
@handles_errors
def scf_part(part_id: str = PART_ID,
             node: str = NODE, key: Path | None = READ_KEY, as_json: bool = JSON) -> None:
    """One part: holder, amount, previous holders, offer, financing, claim."""
    found = _part(part_id)
    with _query(node, key) as queries:
        part = queries.part(found)
    _show(part, as_json, f"part {found}")


@scf_app.command("list")
@handles_errors
def scf_list(
    holder: str = typer.Option("", "--holder", help="0x address (default: every payable)."),
    start: str = typer.Option("", "--start", help="From the n-th (0-based) part, or the payable id."),
    node: str = NODE, key: Path | None = READ_KEY,
    as_json: bool = JSON,
) -> None:
    """Parts a holder holds now, unpaid; without --holder every payable (the regulator's view)."""
    address = check_address_arg(holder, "holder") if holder else None
    first = _start(start) if start else None
    with _query(node, key) as queries:
        if address is None:
            found = queries.payables(first if first is not None else 1)
        else:
            found = queries.held_by(address, first or 0)
    if address is None:
        columns = ("id", "core", "supplier", "amount", "maturity", "status")
        emit(to_json({"payables": found}), as_json, _rows("payables", columns, to_json(found)))
    else:
        columns = ("id", "payable", "amount", "status", "parent")
        emit(
            to_json({"holder": address, "parts": found}),
            as_json,
            _rows(f"parts held by {_addr(address)}", columns, to_json(found)),
        )


# --- invoices -------------------------------------------------------------------------------------


def _invoice_fields(
    seller: bytes, buyer: str, number: str, amount: str, date: str
) -> tuple[bytes, int, bytes]:
    to = check_address_arg(buyer, "buyer")
    units = _amount(amount)
    return to, units, apps.invoice_hash(seller, to, number, units, date)


@invoice_app.command("hash")
@handles_errors
def invoice_hash(
    seller: str = typer.Option(..., "--seller", help="0x address of the seller."),
    buyer: str = typer.Option(..., "--buyer", help="0x address of the buyer."),
    number: str = typer.Option(..., "--number", help="The invoice number."),
    amount: str = typer.Option(..., "--amount", help="The invoice amount in units."),
    date: str = typer.Option(..., "--date", help="The invoice date (YYYY-MM-DD)."),
    as_json: bool = JSON,
) -> None:
    """The registry's hash of an invoice (offline): what every bank computes from the same invoice."""
    _, _, digest = _invoice_fields(check_address_arg(seller, "seller"), buyer, number, amount, date)
    emit({"hash": "0x" + digest.hex()}, as_json, lambda: console.print("0x" + digest.hex(), highlight=False))


@invoice_app.command("register")
@handles_errors
def invoice_register(
    buyer: str = typer.Option(..., "--buyer", help="0x address of the buyer."),
    number: str = typer.Option(..., "--number", help="The invoice number."),
    amount: str = typer.Option(..., "--amount", help="The invoice amount in units."),
    date: str = typer.Option(..., "--date", help="The invoice date (YYYY-MM-DD)."),
    seller: str = typer.Option("", "--seller", help="0x address of the seller (the key's)."),
    line: list[str] = typer.Option([], "--line", help="An invoice line (repeat); implies --seal."),
    note: str = typer.Option("", "--note", help="A note on the invoice; implies --seal."),
    seal: bool = typer.Option(False, "--seal", help="Keep the invoice's contents sealed to the seller, "
                              "the buyer and the regulator, on their organisations' nodes."),
    key: Path = KEY,
    node: str = NODE,
    timeout: float = TIMEOUT,
    as_json: bool = JSON,
) -> None:
    """The seller registers an invoice by the hash of its normalised fields (number, date off chain);
    with --seal (or --line/--note) its contents travel sealed (``invoice show HASH --key``)."""
    signer = load_key(key)
    if seller and check_address_arg(seller, "seller") != signer.address:
        raise InvalidArgument(
            f"the seller registers its own invoices: --seller {seller} is not the key's "
            f"address {_addr(signer.address)}"
        )
    to, units, digest = _invoice_fields(signer.address, buyer, number, amount, date)
    if seal or line or note:
        with connect(node, signer, timeout=timeout + 10) as client:
            sealed = ScfWallet(Wallet(signer, client), timeout=timeout).register_sealed_invoice(
                to, number, units, date, line, note
            )
        data = {"ok": True, "seller": _addr(signer.address), "buyer": _addr(to), "amount": units, **sealed}
        emit(data, as_json, lambda: console.print(
            f"invoice registered: {sealed['hash']}, contents sealed as {sealed['content']} on "
            f"{len(sealed['stores'])} store(s)", highlight=False))
        return
    with connect(node, signer, timeout=timeout + 10) as client:
        registered = ScfWallet(Wallet(signer, client), timeout=timeout).register_invoice(
            to, number, units, date
        )
    assert registered == digest
    _said(
        {"ok": True, "hash": digest, "seller": signer.address, "buyer": to, "amount": units},
        as_json,
        f"invoice registered: 0x{digest.hex()}",
    )


_simple(
    invoice_app,
    "confirm",
    "confirmed invoice",
    invoice_hash_arg,
    HASH,
    ScfWallet.confirm_invoice,
    "The buyer confirms an invoice.",
)
_simple(
    invoice_app,
    "dispute",
    "disputed invoice",
    invoice_hash_arg,
    HASH,
    ScfWallet.dispute_invoice,
    "The buyer disputes an invoice (a disputed invoice cannot be financed).",
)


@invoice_app.command("show")
@handles_errors
def invoice_show(
    digest: str = HASH,
    key: Path | None = typer.Option(None, "--key", envvar=KEY_ENV, help="A party's or the regulator's key: "
                                    "open the invoice's sealed contents (and sign the reads)."),
    node: str = NODE,
    as_json: bool = JSON,
) -> None:
    """An invoice as registered: seller, buyer, amount, status, what is financed against it; with
    --key, its sealed contents opened and checked against its hash."""
    found = check_digest(digest, "invoice hash")
    signer = None if key is None else load_key(key)
    with connect(node, signer) as client:
        queries = ScfQueries(client)
        record = queries.invoice(found)
        if signer is not None:
            contents = queries.invoice_contents(found, signer)
            record["contents"] = {k: v for k, v in contents.items() if k not in ("hash", "content")}
    _show({"hash": found, **record}, as_json, f"invoice 0x{found.hex()}")


# --- credit records -------------------------------------------------------------------------------


@credit_app.command("record")
@handles_errors
def credit_record(
    borrower: str = typer.Option(..., "--borrower", help="0x address of the borrower."),
    amount: str = typer.Option(..., "--amount", help="The loan's amount in units."),
    due: str = typer.Option(..., "--due", help=f"When it is due: {WHEN}."),
    start: str = typer.Option("", "--start", help="When it started (default: the chain's now)."),
    commitment: str = typer.Option("", "--commitment", help="0x hash committing to its terms."),
    terms: str = typer.Option(
        "", "--terms", help="Terms to commit to with a fresh salt (printed: keep it to open the commitment)."
    ),
    key: Path = KEY,
    node: str = NODE,
    timeout: float = TIMEOUT,
    as_json: bool = JSON,
) -> None:
    """A lender records a loan against a borrower (a commitment to its terms, amount, dates)."""
    who = check_address_arg(borrower, "borrower")
    units = _amount(amount)
    if bool(commitment) == bool(terms):
        raise InvalidArgument("give either --commitment HASH or --terms TEXT (committed with a fresh salt)")
    salt = secrets.token_bytes(16) if terms else b""
    made = (check_digest(commitment, "commitment") if commitment
            else apps.loan_commitment(salt, terms.encode()))
    with _signer(key, node, timeout) as wallet:
        head = ScfQueries(wallet.client).head_time()
        start_ms = parse_when(start, head) if start else head
        due_ms = parse_when(due, head)
        if due_ms <= start_ms:
            raise InvalidArgument(f"the loan is due ({due_ms}) after it starts ({start_ms})")
        loan_id = wallet.record_loan(who, made, units, start_ms, due_ms)
    data: dict[str, Any] = {
        "ok": True,
        "id": loan_id,
        "borrower": who,
        "amount": units,
        "start": start_ms,
        "due": due_ms,
        "commitment": made,
    }
    if salt:
        data["salt"] = salt
    _said(
        data,
        as_json,
        f"loan {loan_id} recorded: {units} to {_addr(who)}, due {due_ms}"
        + (f" (salt 0x{salt.hex()})" if salt else ""),
    )


_simple(
    credit_app, "repay", "repaid loan", _loan, LOAN_ID, ScfWallet.repay, "The lender marks a loan repaid."
)
_simple(
    credit_app,
    "default",
    "overdue declared on loan",
    _loan,
    LOAN_ID,
    ScfWallet.default_loan,
    "The lender declares a loan overdue.",
)
_simple(
    credit_app,
    "write-off",
    "written off loan",
    _loan,
    LOAN_ID,
    ScfWallet.write_off,
    "The lender writes a loan off.",
)


@credit_app.command("consent")
@handles_errors
def credit_consent(
    lender: str = typer.Option(..., "--lender", help="0x address of the lender."),
    until: str = typer.Option(..., "--until", help=f"The consent's end: {WHEN}."),
    scope: str = typer.Option("loans", "--scope", help="summary (totals) or loans (each loan too)."),
    key: Path = KEY,
    node: str = NODE,
    timeout: float = TIMEOUT,
    as_json: bool = JSON,
) -> None:
    """The borrower lets a lender query its credit until a time."""
    to, kind = check_address_arg(lender, "lender"), check_scope(scope)
    with _signer(key, node, timeout) as wallet:
        until_ms = _when(until, wallet, "the consent's end")
        receipt = wallet.consent(to, until_ms, kind)
    _done(
        {**receipt.to_json(), "lender": to, "scope": kind, "until": until_ms},
        as_json,
        f"consent given to {_addr(to)} until {until_ms}",
    )


@credit_app.command("revoke")
@handles_errors
def credit_revoke(
    lender: str = typer.Option(..., "--lender", help="0x address of the lender."),
    key: Path = KEY,
    node: str = NODE,
    timeout: float = TIMEOUT,
    as_json: bool = JSON,
) -> None:
    """The borrower revokes a lender's consent."""
    to = check_address_arg(lender, "lender")
    _act(
        key,
        node,
        timeout,
        as_json,
        f"consent revoked for {_addr(to)}",
        lambda w: w.revoke_consent(to),
        lender=to,
    )


@credit_app.command("query")
@handles_errors
def credit_query(
    borrower: str = typer.Argument(..., metavar="BORROWER", help="0x address of the borrower."),
    key: Path = KEY,
    node: str = NODE,
    timeout: float = TIMEOUT,
    as_json: bool = JSON,
) -> None:
    """A logged query (a transaction): the borrower's outstanding and overdue across lenders.
    Needs the borrower's consent (or the regulator's key)."""
    who = check_address_arg(borrower, "borrower")
    with _signer(key, node, timeout) as wallet:
        answer = wallet.query_credit(who)
    shown = to_json({"ok": True, **answer})

    def human() -> None:
        table = Table(title=f"credit of {_addr(who)}", show_header=False, box=None)
        for name, value in shown.items():
            if name not in ("items", "ok"):
                table.add_row(f"[bold]{escape(name)}[/]", escape(plain_text(value)))
        console.print(table)
        if "items" in shown:
            _rows("loans", ("id", "lender", "amount", "start", "due", "status"), shown["items"])()

    emit(shown, as_json, human)


@credit_app.command("log")
@handles_errors
def credit_log(
    borrower: str = typer.Argument(..., metavar="BORROWER", help="0x address of the borrower."),
    start: str = typer.Option("0", "--start", help="From the n-th query (0-based)."),
    node: str = NODE, key: Path | None = READ_KEY,
    as_json: bool = JSON,
) -> None:
    """Every query of a borrower's credit: who, scope, when, which transaction."""
    who = check_address_arg(borrower, "borrower")
    first = _start(start)
    with _query(node, key) as queries:
        entries = queries.query_log(who, first)
    emit(
        to_json({"borrower": who, "log": entries}),
        as_json,
        _rows(f"queries of {_addr(who)}", ("n", "by", "scope", "time", "height", "tx"), to_json(entries)),
    )


@credit_app.command("loan")
@handles_errors
def credit_loan(loan_id: str = LOAN_ID,
                node: str = NODE, key: Path | None = READ_KEY, as_json: bool = JSON) -> None:
    """One loan as recorded (its status now included)."""
    found = _loan(loan_id)
    with _query(node, key) as queries:
        loan = queries.loan(found)
    _show(loan, as_json, f"loan {found}")

"""``consortia cbdc …``, ``consortia wallet …``, ``consortia escrow …`` and the regulator's
``consortia reg resolve`` / ``reg resolution``: the two-tier digital currency (issue 9).

    consortia cbdc issue --bank bank-a --amount 1000000 --key net/orgs/cb/admin.key
    consortia wallet open --org-key net/orgs/bank-a/admin.key --tier 4 --phone 13800000000 \\
        --out w.key --no-password            # w.key for the holder, w.key.pii.json for the bank
    consortia wallet fund 0x… --amount 50000 --key net/orgs/bank-a/admin.key
    consortia wallet pay 0x… --amount 1000 --key w.key
    consortia wallet show 0x…
    consortia cbdc supply

Every amount, address and tier is checked before anything is signed; every action is one signed
transaction that waits for finality. A refusal exits non-zero naming its code and the figures
(``limit_exceeded``: "payments today would total 600000, above the tier 4 daily limit 500000");
``--json`` prints one JSON document; ``--node URL`` picks the node.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from consortia.cli import perm_cmds
from consortia.cli.connect import connect
from consortia.cli.keys import load_key, new_password
from consortia.cli.options import JSON, KEY, NODE, READ_KEY, TIMEOUT
from consortia.cli.output import console, emit, handles_errors
from consortia.client import cbdc
from consortia.client import contracts as sdk
from consortia.client.wallet import TxResult, Wallet
from consortia.crypto.address import format_address
from consortia.errors import KeyFileError

ORG_KEY = typer.Option(..., "--org-key", help="Key file of an admin of the wallet's bank.")
AMOUNT = typer.Option(..., "--amount", help="Units (1 to 2**64-1).")
ADDRESS = typer.Argument(..., help="0x address of the wallet.")
RECORD_ID = typer.Argument(..., metavar="ID", help="The record's id.")

cbdc_app = typer.Typer(no_args_is_help=True, help="The digital currency: issue, redeem, supply, earmarks.")
wallet_app = typer.Typer(no_args_is_help=True, help="Wallets: open, fund, pay, show, upgrade, close.")
escrow_app = typer.Typer(no_args_is_help=True, help="Escrow: lock currency until a releaser releases it.")


def register(app: typer.Typer) -> None:
    """Add the currency commands to the main CLI (and ``resolve``/``resolution`` to ``reg``)."""
    app.add_typer(cbdc_app, name="cbdc")
    app.add_typer(wallet_app, name="wallet")
    app.add_typer(escrow_app, name="escrow")
    perm_cmds.reg_app.command("resolve")(reg_resolve)
    perm_cmds.reg_app.command("resolution")(reg_resolution)


# --- helpers ------------------------------------------------------------------------------------


@contextlib.contextmanager
def _signer(key: Path, node: str, timeout: float) -> Any:
    signer_key = load_key(key)
    with connect(node, signer_key, timeout=timeout + 10) as client:
        yield cbdc.CbdcWallet(Wallet(signer_key, client), timeout=timeout)


def _tx_json(result: TxResult, **extra: Any) -> dict[str, Any]:
    return {"ok": True, "tx_hash": "0x" + result.tx_hash.hex(), "height": result.height, **extra}


def _receipt_json(receipt: sdk.ContractReceipt, **extra: Any) -> dict[str, Any]:
    return {**receipt.to_json(), **extra}


def _emit_done(data: dict[str, Any], as_json: bool, what: str) -> None:
    emit(data, as_json, lambda: console.print(
        f"[bold green]{what}[/]: {data['tx_hash']} committed at height {data['height']}"))


def _act(key: Path, node: str, timeout: float, as_json: bool, what: str,
         action: Callable[[cbdc.CbdcWallet], TxResult], **extra: Any) -> None:  # fmt: skip
    with _signer(key, node, timeout) as wallet:
        result = action(wallet)
    _emit_done(_tx_json(result, **extra), as_json, what)


def _app_act(key: Path, node: str, timeout: float, as_json: bool, what: str,
             action: Callable[[cbdc.CbdcWallet], sdk.ContractReceipt], **extra: Any) -> None:  # fmt: skip
    with _signer(key, node, timeout) as wallet:
        receipt = action(wallet)
    _emit_done(_receipt_json(receipt, **extra), as_json, what)


def _created(key: Path, node: str, timeout: float, as_json: bool, what: str,
             action: Callable[[cbdc.CbdcWallet], cbdc.Created], **extra: Any) -> None:  # fmt: skip
    with _signer(key, node, timeout) as wallet:
        made = action(wallet)
    data = _receipt_json(made.receipt, id=made.id, **extra)
    emit(data, as_json, lambda: console.print(
        f"[bold green]{what} {made.id}[/]: {data['tx_hash']} committed at height {data['height']}"))


def _show(data: dict[str, Any], as_json: bool, title: str) -> None:
    def human() -> None:
        table = Table(title=title, show_header=False, box=None)
        for key, value in data.items():
            if isinstance(value, dict):
                value = ", ".join(f"{k} {v}" for k, v in value.items())
            elif isinstance(value, list):
                value = ", ".join(map(str, value)) or "-"
            table.add_row(f"[bold]{key}[/]", "-" if value is None else str(value))
        console.print(table)

    emit(data, as_json, human)


def _addresses(text: str) -> list[bytes]:
    return cbdc.check_payees([part.strip() for part in text.split(",") if part.strip()])


# --- cbdc -------------------------------------------------------------------------------------


@cbdc_app.command("issue")
@handles_errors
def cbdc_issue(
    bank: str = typer.Option(..., "--bank", help="The operator bank (organisation name)."),
    amount: int = AMOUNT, key: Path = KEY, node: str = NODE, timeout: float = TIMEOUT, as_json: bool = JSON,
) -> None:  # fmt: skip
    """Central bank: issue currency into a bank's reserve."""
    bank, amount = cbdc.check_org(bank), cbdc.check_amount(amount)
    _act(key, node, timeout, as_json, f"issued {amount} to {bank}", lambda w: w.issue(bank, amount),
         bank=bank, amount=amount)


@cbdc_app.command("redeem")
@handles_errors
def cbdc_redeem(amount: int = AMOUNT, key: Path = KEY, node: str = NODE, timeout: float = TIMEOUT,
                as_json: bool = JSON) -> None:  # fmt: skip
    """Bank: redeem (burn) currency from your organisation's reserve."""
    amount = cbdc.check_amount(amount)
    _act(key, node, timeout, as_json, f"redeemed {amount}", lambda w: w.redeem(amount), amount=amount)


@cbdc_app.command("supply")
@handles_errors
def cbdc_supply(node: str = NODE, key: Path | None = READ_KEY, as_json: bool = JSON) -> None:
    """Money supply: issued, redeemed and in circulation, of the chain and per organisation."""
    with connect(node, key) as client:
        data = cbdc.CbdcQueries(client).supply()

    def human() -> None:
        table = Table("", "issued", "redeemed", "in circulation", title=f"supply at height {data['height']}")
        for name, t in [("[bold]total[/]", data), *data["by_org"].items()]:
            table.add_row(name, str(t["issued"]), str(t["redeemed"]), str(t["in_circulation"]))
        console.print(table)

    emit(data, as_json, human)


@cbdc_app.command("reserve")
@handles_errors
def cbdc_reserve(org: str = typer.Argument(..., help="Organisation name."),
                 node: str = NODE, key: Path | None = READ_KEY,
                 as_json: bool = JSON) -> None:  # fmt: skip
    """An organisation's reserve account: address, balance, freeze, its issuance."""
    with connect(node, key) as client:
        data = cbdc.CbdcQueries(client).reserve(org)
    _show(data, as_json, f"reserve of {org}")


@cbdc_app.command("earmark")
@handles_errors
def cbdc_earmark(
    to: str = typer.Option(..., "--to", help="The recipient wallet."),
    amount: int = AMOUNT,
    payees: str = typer.Option(..., "--payees", help="Allowed payees, comma separated (0x…,0x…)."),
    expires_height: int = typer.Option(..., "--expires-height", help="Unspent funds return here."),
    key: Path = KEY, node: str = NODE, timeout: float = TIMEOUT, as_json: bool = JSON,
) -> None:  # fmt: skip
    """Earmark funds for a recipient, spendable only at the listed payees before expiry."""
    recipient, amount = cbdc.check_address_arg(to, "recipient"), cbdc.check_amount(amount)
    listed, expires = _addresses(payees), cbdc.check_height(expires_height, "expiry height")
    _created(key, node, timeout, as_json, "earmark",
             lambda w: w.earmark_create(recipient, listed, expires, amount),
             recipient=format_address(recipient), amount=amount, expires_height=expires,
             payees=[format_address(p) for p in listed])


@cbdc_app.command("spend")
@handles_errors
def cbdc_spend(
    earmark_id: int = RECORD_ID,
    payee: str = typer.Option(..., "--payee", help="An allowed payee."),
    amount: int = AMOUNT, key: Path = KEY, node: str = NODE, timeout: float = TIMEOUT, as_json: bool = JSON,
) -> None:  # fmt: skip
    """Recipient: spend earmarked funds at an allowed payee."""
    earmark_id, amount = cbdc.check_id(earmark_id, "earmark id"), cbdc.check_amount(amount)
    target = cbdc.check_address_arg(payee, "payee")
    _app_act(key, node, timeout, as_json, f"spent {amount} of earmark {earmark_id}",
             lambda w: w.earmark_spend(earmark_id, target, amount),
             id=earmark_id, payee=format_address(target), amount=amount)


@cbdc_app.command("earmark-show")
@handles_errors
def cbdc_earmark_show(earmark_id: int = RECORD_ID,
                      node: str = NODE, key: Path | None = READ_KEY, as_json: bool = JSON) -> None:
    """Earmarked funds: recipient, payees, amount left, expiry, status."""
    with connect(node, key) as client:
        data = cbdc.CbdcQueries(client).earmark(earmark_id)
    _show(data, as_json, f"earmark {earmark_id}")


@cbdc_app.command("schedule")
@handles_errors
def cbdc_schedule(
    to: str = typer.Option(..., "--to", help="The payee."),
    amount: int = typer.Option(..., "--amount", help="Units per instalment."),
    first_height: int = typer.Option(..., "--first-height", help="Height of the first instalment."),
    count: int = typer.Option(1, "--count", help="Instalments (1-100)."),
    interval: int = typer.Option(0, "--interval", help="Blocks between instalments."),
    key: Path = KEY, node: str = NODE, timeout: float = TIMEOUT, as_json: bool = JSON,
) -> None:  # fmt: skip
    """Lock amount x count now; the chain pays each instalment at its height."""
    payee = cbdc.check_address_arg(to, "payee")
    cbdc.check_amount(amount)
    cbdc.check_height(first_height, "first height")
    cbdc.check_amount(amount * count, "amount x count")
    _created(key, node, timeout, as_json, "scheduled payment",
             lambda w: w.schedule_payments(payee, amount, first_height, count, interval),
             payee=format_address(payee), amount=amount, count=count)


@cbdc_app.command("cancel-schedule")
@handles_errors
def cbdc_cancel_schedule(payment_id: int = RECORD_ID, key: Path = KEY, node: str = NODE,
                         timeout: float = TIMEOUT, as_json: bool = JSON) -> None:  # fmt: skip
    """Payer: cancel a scheduled payment; what is unpaid comes back."""
    payment_id = cbdc.check_id(payment_id, "payment id")
    _app_act(key, node, timeout, as_json, f"cancelled payment {payment_id}",
             lambda w: w.cancel_payments(payment_id), id=payment_id)


# --- wallet -----------------------------------------------------------------------------------


@wallet_app.command("open")
@handles_errors
def wallet_open(
    org_key: Path = ORG_KEY,
    tier: int = typer.Option(..., "--tier", help="1 (full KYC) … 4 (anonymous, phone number only)."),
    name: str = typer.Option(None, "--name", help="Holder's name (tiers 1-3; kept off chain)."),
    phone: str = typer.Option(None, "--phone", help="Holder's phone number (tier 4; kept off chain)."),
    out: Path = typer.Option(..., "--out", help="Key file to write for the wallet holder."),
    no_password: bool = typer.Option(False, "--no-password", help="Store the new key unencrypted (dev)."),
    node: str = NODE, timeout: float = TIMEOUT, as_json: bool = JSON,
) -> None:  # fmt: skip
    """Open a wallet: a new key, and on chain only its tier and the bank's salted commitment.

    The salt and personal data go to ``OUT.pii.json`` (the bank's record, mode 0600)."""
    tier = cbdc.check_tier(tier)
    cbdc.personal_fields(tier, name, phone)
    pii = cbdc.record_path(out)
    for path in (out, pii):
        if path.exists():
            raise KeyFileError(f"{path} already exists; choose another --out")
    password = new_password(no_password)
    with _signer(org_key, node, timeout) as bank:
        new = bank.prepare_wallet(tier, name, phone)
        new.save(out, password)
        try:
            result = bank.open_prepared(new)
        except BaseException:
            for path in (out, pii):  # never opened: its key is worthless
                path.unlink(missing_ok=True)
            raise
    data = _tx_json(result, address=format_address(new.key.address), org=new.record.org, tier=tier,
                    key_file=str(out), pii_file=str(pii), commitment="0x" + new.record.commitment.hex())
    emit(data, as_json, lambda: console.print(
        f"[bold green]wallet opened[/] {data['address']} at {new.record.org} (tier {tier}) at height "
        f"{result.height}; key {out}, bank's record {pii}"))


@wallet_app.command("fund")
@handles_errors
def wallet_fund(address: str = ADDRESS, amount: int = AMOUNT, key: Path = KEY, node: str = NODE,
                timeout: float = TIMEOUT, as_json: bool = JSON) -> None:  # fmt: skip
    """Bank: move currency from your organisation's reserve to a wallet."""
    target, amount = cbdc.check_address_arg(address), cbdc.check_amount(amount)
    _act(key, node, timeout, as_json, f"funded {format_address(target)} with {amount}",
         lambda w: w.fund(target, amount), address=format_address(target), amount=amount)


@wallet_app.command("pay")
@handles_errors
def wallet_pay(address: str = typer.Argument(..., help="0x address of the payee."), amount: int = AMOUNT,
               key: Path = KEY, node: str = NODE, timeout: float = TIMEOUT,
               as_json: bool = JSON) -> None:  # fmt: skip
    """Pay from your wallet (your tier's per-payment, daily and the payee's balance limits apply)."""
    target, amount = cbdc.check_address_arg(address, "payee"), cbdc.check_amount(amount)
    _act(key, node, timeout, as_json, f"paid {amount} to {format_address(target)}",
         lambda w: w.pay(target, amount), to=format_address(target), amount=amount)


def _status(wallet: dict[str, Any]) -> str:
    closed = wallet["status"] != "active"
    text = f"closed at height {wallet['closed_height']}" if closed and wallet["wallet"] else wallet["status"]
    return text + (" (frozen)" if wallet["frozen"] else "")


@wallet_app.command("show")
@handles_errors
def wallet_show(address: str = ADDRESS,
                node: str = NODE, key: Path | None = READ_KEY, as_json: bool = JSON) -> None:
    """A wallet: bank, tier, status, balance, the tier's limits and what it paid today."""
    target = cbdc.check_address_arg(address)
    with connect(node, key) as client:
        data = cbdc.CbdcQueries(client).wallet(target)
    limits = data["limits"]

    def human() -> None:
        def cap(value: int | None) -> str:
            return "unlimited" if value is None else str(value)

        table = Table(title=f"wallet {data['address']}", show_header=False, box=None)
        rows = [("bank", data["org"]), ("role", data["role"]), ("tier", data["tier"]),
                ("status", _status(data)),
                ("balance", f"{data['balance']} (cap {cap(limits['balance'])})"),
                ("per payment", cap(limits["per_payment"])),
                ("paid today", f"{data['spent_today']} of {cap(limits['daily'])}"),
                ("commitment", data["commitment"]), ("opened at height", data["opened_height"])]
        for label, value in rows:
            table.add_row(f"[bold]{label}[/]", str(value))
        console.print(table)

    emit(data, as_json, human)


@wallet_app.command("upgrade")
@handles_errors
def wallet_upgrade(address: str = ADDRESS, tier: int = typer.Option(..., "--tier", help="New tier 1-4."),
                   org_key: Path = ORG_KEY, node: str = NODE, timeout: float = TIMEOUT,
                   as_json: bool = JSON) -> None:  # fmt: skip
    """Bank: change a wallet's tier (refused if its balance is over the new tier's cap)."""
    target, tier = cbdc.check_address_arg(address), cbdc.check_tier(tier)
    _act(org_key, node, timeout, as_json, f"{format_address(target)} now tier {tier}",
         lambda w: w.upgrade(target, tier), address=format_address(target), tier=tier)


@wallet_app.command("close")
@handles_errors
def wallet_close(address: str = ADDRESS, org_key: Path = ORG_KEY, node: str = NODE,
                 timeout: float = TIMEOUT, as_json: bool = JSON) -> None:  # fmt: skip
    """Bank: close a wallet for good; its balance goes back to the bank's reserve."""
    target = cbdc.check_address_arg(address)
    _act(org_key, node, timeout, as_json, f"closed {format_address(target)}",
         lambda w: w.close_wallet(target), address=format_address(target))


@wallet_app.command("resolve-answer")
@handles_errors
def wallet_resolve_answer(
    request_id: int = typer.Argument(..., metavar="REQUEST_ID"),
    org_key: Path = ORG_KEY,
    pii: Path = typer.Option(..., "--pii", help="The bank's record of the wallet (KEYFILE.pii.json)."),
    node: str = NODE, timeout: float = TIMEOUT, as_json: bool = JSON,
) -> None:  # fmt: skip
    """Bank: answer the regulator's resolution request, sealed to the regulator's key."""
    request_id = cbdc.check_id(request_id, "request id")
    record = cbdc.WalletRecord.load(pii)
    _app_act(org_key, node, timeout, as_json, f"answered resolution request {request_id}",
             lambda w: w.resolve_answer(request_id, record), id=request_id,
             wallet=format_address(record.address))


# --- escrow -----------------------------------------------------------------------------------


@escrow_app.command("create")
@handles_errors
def escrow_create(
    payee: str = typer.Option(..., "--payee", help="Who receives the funds on release."),
    releaser: str = typer.Option(..., "--releaser", help="Who may release them."),
    deadline_height: int = typer.Option(..., "--deadline-height", help="Last height to release."),
    amount: int = AMOUNT, key: Path = KEY, node: str = NODE, timeout: float = TIMEOUT, as_json: bool = JSON,
) -> None:  # fmt: skip
    """Lock currency in escrow for a payee until the releaser releases it (or the deadline passes)."""
    to, by = cbdc.check_address_arg(payee, "payee"), cbdc.check_address_arg(releaser, "releaser")
    deadline, amount = cbdc.check_height(deadline_height, "deadline height"), cbdc.check_amount(amount)
    _created(key, node, timeout, as_json, "escrow", lambda w: w.escrow_create(to, by, deadline, amount),
             payee=format_address(to), releaser=format_address(by), amount=amount, deadline_height=deadline)


@escrow_app.command("release")
@handles_errors
def escrow_release(escrow_id: int = RECORD_ID, key: Path = KEY, node: str = NODE, timeout: float = TIMEOUT,
                   as_json: bool = JSON) -> None:  # fmt: skip
    """Releaser: pay the escrowed funds to the payee."""
    escrow_id = cbdc.check_id(escrow_id, "escrow id")
    _app_act(key, node, timeout, as_json, f"released escrow {escrow_id}",
             lambda w: w.escrow_release(escrow_id), id=escrow_id)


@escrow_app.command("refund")
@handles_errors
def escrow_refund(escrow_id: int = RECORD_ID, key: Path = KEY, node: str = NODE, timeout: float = TIMEOUT,
                  as_json: bool = JSON) -> None:  # fmt: skip
    """After the deadline: return the escrowed funds to the payer."""
    escrow_id = cbdc.check_id(escrow_id, "escrow id")
    _app_act(key, node, timeout, as_json, f"refunded escrow {escrow_id}",
             lambda w: w.escrow_refund(escrow_id), id=escrow_id)


@escrow_app.command("show")
@handles_errors
def escrow_show(escrow_id: int = RECORD_ID,
                node: str = NODE, key: Path | None = READ_KEY, as_json: bool = JSON) -> None:
    """An escrow: payer, payee, releaser, amount, deadline, status."""
    with connect(node, key) as client:
        data = cbdc.CbdcQueries(client).escrow(escrow_id)
    _show(data, as_json, f"escrow {escrow_id}")


# --- the regulator: identity resolution (registered on ``consortia reg``) -----------------------


@handles_errors
def reg_resolve(
    address: str = typer.Argument(..., help="0x address of the wallet."),
    reason: str = typer.Option(..., "--reason", help="Why (recorded on chain, 1-512 characters)."),
    key: Path = KEY, node: str = NODE, timeout: float = TIMEOUT, as_json: bool = JSON,
) -> None:  # fmt: skip
    """Ask a wallet's bank who holds it; the answer is sealed to a key derived from yours."""
    target = cbdc.check_address_arg(address, "wallet")
    reason = cbdc.check_text(reason, "the reason", cbdc.MAX_REASON)
    _created(key, node, timeout, as_json, "resolution request",
             lambda w: w.resolve_request(target, reason), wallet=format_address(target), reason=reason)


@handles_errors
def reg_resolution(
    request_id: int = typer.Argument(..., metavar="REQUEST_ID"),
    key: Path = typer.Option(..., "--key", help="Key file of the regulator who asked."),
    node: str = NODE, as_json: bool = JSON,
) -> None:  # fmt: skip
    """Open a bank's answer locally and check it against the wallet's on-chain commitment
    (exits non-zero if it does not match)."""
    request_id = cbdc.check_id(request_id, "request id")
    regulator_key = load_key(key)
    with connect(node, regulator_key) as client:
        data = cbdc.CbdcQueries(client).resolution(request_id, regulator_key)
    data = {"ok": data["matches_commitment"], **data}

    def human() -> None:
        verdict = ("[bold green]matches[/] the wallet's commitment" if data["matches_commitment"]
                   else "[bold red]does NOT match[/] the wallet's commitment")
        console.print(f"wallet {data['wallet']} at {data['org']}: {verdict}")
        for field_name, value in (data["personal_data"] or {}).items():
            console.print(f"  {field_name}: {value}")

    emit(data, as_json, human)
    if not data["matches_commitment"]:
        raise typer.Exit(1)

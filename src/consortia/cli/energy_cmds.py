"""``consortia energy …``: meters, signed readings, green certificates and peer-to-peer energy
(issue 12).

    consortia energy meter add --meter-key meter.key --owner 0x… --max-w 5000000 --interval 1h \\
        --fee-bps 100 --key net/orgs/grid-co/admin.key
    consortia energy read --meter-key meter.key --wh 2400000 --period last --key gateway.key
    consortia energy certs --owner 0x…
    consortia energy cert transfer 3 --to 0x… --key solar.key
    consortia energy cert retire 3 --beneficiary "Acme Steel, Scope 2 2026" --key acme.key
    consortia energy offer --meter 0x… --kwh 10 --price 1234 --period next --key solar.key
    consortia energy accept 1 --key buyer.key          # locks 10 x 1234 until settlement
    consortia energy settle 1 --key buyer.key          # after the period is read

Every argument is checked before anything is signed; every action is one transaction that waits
for finality. A refusal exits non-zero naming its code and the contract's figures
(``reading_too_large``: "the meter reads at most 5000000 Wh an interval ..."); ``--json`` prints
one JSON document; no command prints a traceback.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from consortia.cli.connect import connect
from consortia.cli.keys import load_key
from consortia.cli.options import JSON, KEY, NODE, READ_KEY, TIMEOUT
from consortia.cli.output import console, emit, handles_errors, plain_text, shorten
from consortia.client import energy
from consortia.client.arguments import check_address_arg, check_id, parse_int_text
from consortia.client.wallet import Wallet

TRADE_ID = typer.Argument(..., metavar="ID", help="The trade's id.")
SERIAL = typer.Argument(..., metavar="SERIAL", help="The certificate's serial.")
METER_KEY = typer.Option(..., "--meter-key", help="Key file of the meter (its key is its identity).")

energy_app = typer.Typer(no_args_is_help=True, help="Meters, readings, green certificates, P2P energy.")
meter_app = typer.Typer(no_args_is_help=True, help="Meters enrolled by a grid operator.")
cert_app = typer.Typer(no_args_is_help=True, help="Green certificates: show, transfer, retire.")
energy_app.add_typer(meter_app, name="meter")
energy_app.add_typer(cert_app, name="cert")


def register(app: typer.Typer) -> None:
    app.add_typer(energy_app, name="energy")


# --- helpers ------------------------------------------------------------------------------------


@contextlib.contextmanager
def _signer(key: Path, node: str, timeout: float) -> Iterator[energy.EnergyWallet]:
    signer_key = load_key(key)
    with connect(node, signer_key, timeout=timeout + 10) as client:
        yield energy.EnergyWallet(Wallet(signer_key, client), timeout=timeout)


@contextlib.contextmanager
def _query(node: str, key: Path | None) -> Iterator[energy.EnergyQueries]:
    with connect(node, key) as client:
        yield energy.EnergyQueries(client)


def _done(data: dict[str, Any], as_json: bool, what: str) -> None:
    emit(data, as_json, lambda: console.print(
        f"[bold green]{escape(what)}[/]: {data['tx_hash']} committed at height {data['height']}",
        highlight=False))


def _address(text: str) -> str:
    return shorten(text, 8, 4) if text.startswith("0x") and len(text) == 42 else text


def _table(rows: list[dict[str, Any]], columns: tuple[str, ...], title: str) -> Callable[[], None]:
    def human() -> None:
        table = Table(title=title)
        for column in columns:
            table.add_column(column)
        for row in rows:
            table.add_row(*(escape(_address(plain_text(row.get(c, "")))) for c in columns))
        console.print(table)

    return human


def _int(text: str, what: str) -> int:
    return parse_int_text(text, what)


# --- meters -------------------------------------------------------------------------------------


@meter_app.command("add")
@handles_errors
def meter_add(
    meter_key: Path = METER_KEY,
    owner: str = typer.Option(..., "--owner", help="0x address of the prosumer who owns the meter."),
    max_w: str = typer.Option(..., "--max-w", help="Rated power in W (the most an interval may read)."),
    interval: str = typer.Option("15m", "--interval", help="Metering interval: 15m, 1h, 30s or ms."),
    first_period: str = typer.Option("current", "--first-period",
                                     help="First period it may read: a number, current or last."),
    fee_bps: str = typer.Option("0", "--fee-bps", help="The grid's fee on the meter's P2P trades (bps)."),
    key: Path = KEY, node: str = NODE, timeout: float = TIMEOUT, as_json: bool = JSON,
) -> None:  # fmt: skip
    """A grid operator enrols a meter (by its public key) for its owner."""
    check_address_arg(owner, "--owner")  # before anything is signed or asked of the node
    meter = load_key(meter_key)
    interval_ms = energy.check_interval(energy.parse_duration(interval))
    power = energy.check_power(_int(max_w, "--max-w"))
    energy.check_max_wh(power, interval_ms)
    fee = energy.check_fee(_int(fee_bps, "--fee-bps"))
    with _signer(key, node, timeout) as wallet:
        first = energy.parse_period(first_period, wallet.queries().head_time(), interval_ms)
        made = wallet.enrol(meter.public_key, owner, interval_ms=interval_ms, max_w=power, first_period=first,
                            fee_bps=fee)
    data = made.to_json()
    data["first_period"] = first
    _done(data, as_json, f"meter {data['meter']} enrolled")


@meter_app.command("show")
@handles_errors
def meter_show(
    address: str = typer.Argument(..., metavar="ADDRESS", help="0x address of the meter."),
    node: str = NODE, key: Path | None = READ_KEY, as_json: bool = JSON,
) -> None:  # fmt: skip
    """A meter: owner, operator, interval, maximum, last period read, totals, carry."""
    with _query(node, key) as query:
        emit(query.meter(address), as_json)


def _set_active(address: str, active: bool, key: Path, node: str, timeout: float, as_json: bool) -> None:
    with _signer(key, node, timeout) as wallet:
        receipt = wallet.set_active(address, active)
    _done({**receipt.to_json(), "meter": address, "active": active}, as_json,
          f"meter {address} {'activated' if active else 'deactivated'}")


@meter_app.command("deactivate")
@handles_errors
def meter_deactivate(address: str = typer.Argument(..., metavar="ADDRESS"), key: Path = KEY,
                     node: str = NODE, timeout: float = TIMEOUT, as_json: bool = JSON) -> None:  # fmt: skip
    """The meter's grid operator stops its readings and offers (e.g. a faulty or tampered meter)."""
    _set_active(address, False, key, node, timeout, as_json)


@meter_app.command("activate")
@handles_errors
def meter_activate(address: str = typer.Argument(..., metavar="ADDRESS"), key: Path = KEY,
                   node: str = NODE, timeout: float = TIMEOUT, as_json: bool = JSON) -> None:  # fmt: skip
    """The meter's grid operator lets it read again."""
    _set_active(address, True, key, node, timeout, as_json)


# --- readings -------------------------------------------------------------------------------------


@energy_app.command("read")
@handles_errors
def energy_read(
    meter_key: Path = METER_KEY,
    wh: str = typer.Option(..., "--wh", help="Production in the interval (Wh)."),
    period: str = typer.Option(..., "--period", help="The interval: a number, or last (the latest ended)."),
    consumed_wh: str = typer.Option("0", "--consumed-wh", help="Consumption in the interval (Wh)."),
    key: Path | None = typer.Option(None, "--key", help="Key file of the gateway that sends it "
                                                        "(default: the meter's own key)."),
    node: str = NODE, timeout: float = TIMEOUT, as_json: bool = JSON,
) -> None:  # fmt: skip
    """Submit one interval reading, signed by the meter's key; production issues certificates."""
    meter = load_key(meter_key)
    produced = energy.check_wh(_int(wh, "--wh"), "production (Wh)")
    consumed = energy.check_wh(_int(consumed_wh, "--consumed-wh"), "consumption (Wh)")
    with _signer(key or meter_key, node, timeout) as wallet:
        queries = wallet.queries()
        interval = int(queries.meter(meter.address)["interval_ms"])
        found = energy.parse_period(period, queries.head_time(), interval)
        made = wallet.read(meter, found, produced, consumed)
    data = made.to_json()
    serials = data["certificates"]
    issued = f"certificates {serials[0]}..{serials[-1]}" if serials else "no certificate"
    _done(data, as_json, f"reading of period {found}: {issued}, {data['carry_wh']} Wh carried")


# --- certificates ---------------------------------------------------------------------------------

CERT_COLUMNS = ("serial", "status", "meter", "period", "holder", "beneficiary")


@energy_app.command("certs")
@handles_errors
def energy_certs(
    owner: str = typer.Option(..., "--owner", help="0x address of the holder."),
    start: str = typer.Option("0", "--start", help="From the owner's n-th certificate (0-based)."),
    limit: str = typer.Option("200", "--limit", help="At most this many (1 to 200)."),
    node: str = NODE, key: Path | None = READ_KEY, as_json: bool = JSON,
) -> None:  # fmt: skip
    """Certificates an address holds (the ones it retired included)."""
    with _query(node, key) as query:
        rows = query.certificates(owner, _int(start, "--start"), _int(limit, "--limit"))
    human = _table(rows, CERT_COLUMNS, f"certificates of {owner}")
    emit({"owner": owner, "certificates": rows}, as_json, human)


@cert_app.command("show")
@handles_errors
def cert_show(serial: str = SERIAL,
              node: str = NODE, key: Path | None = READ_KEY, as_json: bool = JSON) -> None:
    """One certificate: its meter, period, holder, status and (once retired) beneficiary."""
    with _query(node, key) as query:
        emit(query.certificate(energy.check_serial(_int(serial, "serial"))), as_json)


@cert_app.command("transfer")
@handles_errors
def cert_transfer(serial: str = SERIAL,
                  to: str = typer.Option(..., "--to", help="0x address of the new holder."),
                  key: Path = KEY, node: str = NODE, timeout: float = TIMEOUT, as_json: bool = JSON) -> None:
    """The holder transfers a certificate."""
    found = energy.check_serial(_int(serial, "serial"))
    with _signer(key, node, timeout) as wallet:
        receipt = wallet.transfer(found, to)
    _done({**receipt.to_json(), "serial": found, "to": to}, as_json, f"certificate {found} transferred")


@cert_app.command("retire")
@handles_errors
def cert_retire(serial: str = SERIAL,
                beneficiary: str = typer.Option(..., "--beneficiary", help="Whose consumption it covers."),
                key: Path = KEY, node: str = NODE, timeout: float = TIMEOUT, as_json: bool = JSON) -> None:
    """The holder retires a certificate for a beneficiary, once and for ever."""
    found = energy.check_serial(_int(serial, "serial"))
    named = energy.check_beneficiary(beneficiary)
    with _signer(key, node, timeout) as wallet:
        receipt = wallet.retire(found, named)
    _done({**receipt.to_json(), "serial": found, "beneficiary": named}, as_json,
          f"certificate {found} retired for {named}")


# --- trades -----------------------------------------------------------------------------------------

TRADE_COLUMNS = ("id", "status", "period", "kwh", "price_per_kwh", "seller", "buyer", "delivered_wh", "paid",
                 "refund")


@energy_app.command("offer")
@handles_errors
def energy_offer(
    meter: str = typer.Option(..., "--meter", help="0x address of the seller's meter."),
    kwh: str = typer.Option(..., "--kwh", help="Energy offered (kWh)."),
    price: str = typer.Option(..., "--price", help="Price per kWh in currency units."),
    period: str = typer.Option(..., "--period", help="The meter's period: a number, current or next."),
    key: Path = KEY, node: str = NODE, timeout: float = TIMEOUT, as_json: bool = JSON,
) -> None:  # fmt: skip
    """The meter's owner offers surplus energy of one period."""
    amount, unit_price = energy.check_kwh(_int(kwh, "--kwh")), energy.check_price(_int(price, "--price"))
    with _signer(key, node, timeout) as wallet:
        queries = wallet.queries()
        interval = int(queries.meter(meter)["interval_ms"])
        found = energy.parse_period(period, queries.head_time(), interval)
        made = wallet.offer(meter, amount, unit_price, found)
    data = {**made.to_json(), "period": found, "kwh": amount, "price_per_kwh": unit_price}
    _done(data, as_json, f"offer {data['id']} made for period {found}")


@energy_app.command("accept")
@handles_errors
def energy_accept(trade_id: str = TRADE_ID, key: Path = KEY, node: str = NODE, timeout: float = TIMEOUT,
                  as_json: bool = JSON) -> None:  # fmt: skip
    """A buyer takes an offer, locking its full price until settlement."""
    found = check_id(_int(trade_id, "id"), "trade id")
    with _signer(key, node, timeout) as wallet:
        made = wallet.accept(found)
    data = made.to_json()
    _done(data, as_json, f"trade {found} accepted, {data['locked']} locked")


@energy_app.command("settle")
@handles_errors
def energy_settle(trade_id: str = TRADE_ID, key: Path = KEY, node: str = NODE, timeout: float = TIMEOUT,
                  as_json: bool = JSON) -> None:  # fmt: skip
    """Anyone settles a trade once its period is read: metered energy paid, the rest refunded."""
    found = check_id(_int(trade_id, "id"), "trade id")
    with _signer(key, node, timeout) as wallet:
        made = wallet.settle(found)
    data = made.to_json()
    _done(data, as_json, f"trade {found} settled: {data['delivered_wh']} Wh delivered, {data['paid']} paid "
                         f"({data['fee']} grid fee), {data['refund']} refunded")


@energy_app.command("cancel")
@handles_errors
def energy_cancel(trade_id: str = TRADE_ID, key: Path = KEY, node: str = NODE, timeout: float = TIMEOUT,
                  as_json: bool = JSON) -> None:  # fmt: skip
    """The seller withdraws an offer nobody accepted."""
    found = check_id(_int(trade_id, "id"), "trade id")
    with _signer(key, node, timeout) as wallet:
        receipt = wallet.cancel(found)
    _done({**receipt.to_json(), "id": found}, as_json, f"offer {found} cancelled")


@energy_app.command("trade")
@handles_errors
def energy_trade(trade_id: str = TRADE_ID,
                 node: str = NODE, key: Path | None = READ_KEY, as_json: bool = JSON) -> None:
    """One trade: the offer, its buyer and, once settled, the figures."""
    with _query(node, key) as query:
        emit(query.trade(check_id(_int(trade_id, "id"), "trade id")), as_json)


@energy_app.command("trades")
@handles_errors
def energy_trades(
    party: str = typer.Option(..., "--party", help="0x address of a seller or buyer."),
    start: str = typer.Option("0", "--start", help="From the party's n-th trade (0-based)."),
    limit: str = typer.Option("200", "--limit", help="At most this many (1 to 200)."),
    node: str = NODE, key: Path | None = READ_KEY, as_json: bool = JSON,
) -> None:  # fmt: skip
    """Trades an address offered or accepted."""
    with _query(node, key) as query:
        rows = query.trades(party, _int(start, "--start"), _int(limit, "--limit"))
    emit({"party": party, "trades": rows}, as_json, _table(rows, TRADE_COLUMNS, f"trades of {party}"))


@energy_app.command("totals")
@handles_errors
def energy_totals(node: str = NODE, key: Path | None = READ_KEY, as_json: bool = JSON) -> None:
    """Meters, production, certificates issued and retired, trades."""
    with _query(node, key) as query:
        emit(query.totals(), as_json)


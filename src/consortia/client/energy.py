"""Metered energy from Python (issue 12, decisions/0018): meters, readings, green certificates
and peer-to-peer trades.

    with Client("http://127.0.0.1:8700") as client:
        grid = EnergyWallet(Wallet(load_key_file(Path("net/orgs/grid-co/admin.key")), client))
        grid.enrol(meter_key.public_key, owner=solar, interval_ms=3_600_000, max_w=5_000_000)
        gateway = EnergyWallet(Wallet(gateway_key, client))
        gateway.read(meter_key, period, produced_wh=2_400_000)        # signed by the meter's key
        EnergyQueries(client).certificates(solar)                      # addresses as 0x text

Every argument is checked before anything is signed (:mod:`consortia.client.arguments`); every
action is one transaction that waits for finality; a refusal raises the typed error of its
receipt — the contract's own codes (``bad_signature``, ``already_retired``, ``not_metered``, ...)
as :class:`~consortia.client.cbdc.ContractRefused` with that code and the contract's figures.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from consortia.apps.energy import sdk as apps
from consortia.client import contracts as sdk
from consortia.client.arguments import (
    InvalidArgument,
    check_address_arg,
    check_flag,
    check_id,
    check_instance,
    check_text,
    is_int,
)
from consortia.client.cbdc import ContractRefused, app_refusal
from consortia.client.client import Client
from consortia.client.permissioned import PermWallet
from consortia.crypto.address import format_address
from consortia.crypto.keys import KeyPair

__all__ = ["ContractRefused", "EnergyQueries", "EnergyWallet", "Made", "parse_duration", "parse_period"]

DURATION = re.compile(r"(\d{1,9})(ms|s|m|h|d)?")
UNIT_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}
PERIOD_WORDS = ("last", "current", "next")


# --- argument checks ----------------------------------------------------------------------------


def _ranged(value: object, low: int, high: int, what: str) -> int:
    if not is_int(value) or not low <= value <= high:  # type: ignore[operator]
        raise InvalidArgument(f"{what} must be a whole number from {low} to {high}, got {value!r:.40}")
    assert isinstance(value, int)
    return value


def check_interval(value: object) -> int:
    return _ranged(value, apps.MIN_INTERVAL_MS, apps.MAX_INTERVAL_MS, "the interval (ms)")


def check_power(value: object) -> int:
    return _ranged(value, 1, apps.MAX_POWER_W, "the rated power (W)")


def check_fee(value: object) -> int:
    return _ranged(value, 0, apps.MAX_FEE_BPS, "the grid fee (basis points)")


def check_period(value: object) -> int:
    return _ranged(value, 0, apps.MAX_PERIOD, "the period")


def check_wh(value: object, what: str) -> int:
    return _ranged(value, 0, apps.MAX_INTERVAL_WH, what)


def check_kwh(value: object) -> int:
    return _ranged(value, 1, apps.MAX_INTERVAL_WH // apps.WH_PER_KWH, "the energy offered (kWh)")


def check_price(value: object) -> int:
    return _ranged(value, 1, apps.MAX_PRICE, "the price per kWh")


def check_serial(value: object) -> int:
    return check_id(value, "certificate serial")


def check_beneficiary(value: object) -> str:
    text = check_text(value, "the beneficiary", apps.BENEFICIARY_CHARS)
    if text.strip() != text:
        raise InvalidArgument(f"the beneficiary has no surrounding spaces, got {text!r:.60}")
    return text


def check_meter_key(value: object) -> bytes:
    if not isinstance(value, bytes) or len(value) not in apps.KEY_SIZES:
        raise InvalidArgument(f"a meter key is a public key of {' or '.join(map(str, apps.KEY_SIZES))} bytes")
    return value


def check_max_wh(max_w: int, interval_ms: int) -> int:
    most = apps.max_wh(max_w, interval_ms)
    if not 1 <= most <= apps.MAX_INTERVAL_WH:
        raise InvalidArgument(f"{max_w} W over {interval_ms} ms is {most} Wh an interval; it must be 1 to "
                              f"{apps.MAX_INTERVAL_WH} (raise the power or the interval, or lower them)")
    return most


def parse_duration(text: str) -> int:
    """Milliseconds from ``900000``, ``15m``, ``1h``, ``30s``, ``1d``."""
    found = DURATION.fullmatch(text.strip())
    if found is None:
        raise InvalidArgument(f"a duration is N(ms|s|m|h|d) or ms, got {text!r:.40}")
    return int(found.group(1)) * UNIT_MS[found.group(2) or "ms"]


def parse_period(text: str, now_ms: int, interval_ms: int) -> int:
    """A period from its number, or ``last`` (the latest that has ended by ``now_ms``),
    ``current`` or ``next``."""
    text = text.strip()
    current = apps.period_at(now_ms, interval_ms)
    words = {"last": current - 1, "current": current, "next": current + 1}
    if text in words:
        return check_period(words[text])
    if not text.isdigit() or len(text) > 19:
        raise InvalidArgument(f"a period is a whole number or one of {list(PERIOD_WORDS)}, got {text!r:.40}")
    return check_period(int(text))


# --- actions ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Made:
    """What an action made (a trade's id, a reading's certificates) and the receipt of its call."""

    fields: dict[str, Any]
    receipt: sdk.ContractReceipt

    def to_json(self) -> dict[str, Any]:
        return {**self.receipt.to_json(), **self.fields}


def _events(receipt: sdk.ContractReceipt, name: str) -> list[dict[str, Any]]:
    return [e.fields for e in receipt.events if e.contract == apps.ENERGY and e.name == name]


def _hexed(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: "0x" + v.hex() if isinstance(v, bytes) else v for k, v in fields.items()}


class EnergyWallet(PermWallet):
    """A key's energy actions (grid operator, gateway, certificate holder, seller, buyer); each
    waits for finality and raises the typed refusal."""

    def _app(self, call: apps.AppCall) -> sdk.ContractReceipt:
        receipt = sdk.send(self.wallet, call.contract, call.method, call.args, timeout=self.timeout,
                           check=False, value=call.value)
        if not receipt.ok:
            raise app_refusal(receipt)
        return receipt

    def queries(self) -> EnergyQueries:
        return EnergyQueries(self.client)

    # meters
    def enrol(self, meter_key: bytes, owner: bytes | str, *, interval_ms: int, max_w: int,
              first_period: int | None = None, fee_bps: int = 0) -> Made:  # fmt: skip
        """Enrol the meter whose public key is ``meter_key`` for ``owner`` (this key: an identity of
        a ``grid`` organisation). ``first_period`` defaults to the period the chain's head is in."""
        interval, power = check_interval(interval_ms), check_power(max_w)
        check_max_wh(power, interval)
        key, to, fee = check_meter_key(meter_key), check_address_arg(owner, "owner"), check_fee(fee_bps)
        if first_period is None:
            first_period = apps.period_at(self.queries().head_time(), interval)
        call = apps.enrol(key, to, interval_ms=interval, max_w=power, first_period=check_period(first_period),
                          fee_bps=fee)
        receipt = self._app(call)
        return Made(_hexed(_events(receipt, "MeterEnrolled")[0]), receipt)

    def set_active(self, meter: bytes | str, active: bool) -> sdk.ContractReceipt:
        return self._app(apps.set_active(check_address_arg(meter, "meter"), check_flag(active, "active")))

    def read(self, meter_key: KeyPair, period: int, produced_wh: int, consumed_wh: int = 0) -> Made:
        """Submit one interval reading signed by ``meter_key`` (this key sends it, as the meter's
        gateway: it may be the meter's own key if that is an enrolled identity)."""
        meter_key = check_instance(meter_key, KeyPair, "the meter's key")
        period = check_period(period)
        produced = check_wh(produced_wh, "production (Wh)")
        consumed = check_wh(consumed_wh, "consumption (Wh)")
        message = apps.reading_message(self.client.chain_id(), meter_key.address, period, produced, consumed)
        receipt = self._app(apps.read(meter_key.address, period, produced, consumed, meter_key.sign(message)))
        reading = _events(receipt, "Reading")[0]
        issued = _events(receipt, "CertificatesIssued")
        serials = [] if not issued else list(range(issued[0]["first"], issued[0]["last"] + 1))
        fields = {"meter": format_address(meter_key.address), "period": period, "produced_wh": produced,
                  "consumed_wh": consumed, "carry_wh": reading["carry_wh"], "certificates": serials}
        return Made(fields, receipt)

    # certificates
    def transfer(self, serial: int, to: bytes | str) -> sdk.ContractReceipt:
        return self._app(apps.transfer(check_serial(serial), check_address_arg(to, "to")))

    def retire(self, serial: int, beneficiary: str) -> sdk.ContractReceipt:
        return self._app(apps.retire(check_serial(serial), check_beneficiary(beneficiary)))

    # trades
    def offer(self, meter: bytes | str, kwh: int, price_per_kwh: int, period: int) -> Made:
        call = apps.offer(check_address_arg(meter, "meter"), check_kwh(kwh), check_price(price_per_kwh),
                          check_period(period))
        receipt = self._app(call)
        return Made({"id": int(_events(receipt, "OfferMade")[0]["id"])}, receipt)

    def cancel(self, trade_id: int) -> sdk.ContractReceipt:
        return self._app(apps.cancel(check_id(trade_id, "trade id")))

    def accept(self, trade_id: int) -> Made:
        """Buy the offer: attach its full price (read from the chain), locked until settlement."""
        trade = self.queries().trade(check_id(trade_id, "trade id"))
        if trade["status"] != "open":
            raise ContractRefused(f"trade {trade_id} is {trade['status']}, not open", "offer_not_open")
        price = int(trade["kwh"]) * int(trade["price_per_kwh"])
        receipt = self._app(apps.accept(trade_id, price))
        return Made({"id": trade_id, "locked": price}, receipt)

    def settle(self, trade_id: int) -> Made:
        receipt = self._app(apps.settle(check_id(trade_id, "trade id")))
        fields = _events(receipt, "TradeSettled")[0]
        return Made({k: fields[k] for k in ("id", "delivered_wh", "paid", "fee", "refund")}, receipt)


# --- queries ------------------------------------------------------------------------------------


class EnergyQueries:
    """Read-only views through a node's REST API (``/v1/energy``); addresses as ``0x`` text."""

    def __init__(self, client: Client) -> None:
        self.client = client

    def meter(self, meter: bytes | str) -> dict[str, Any]:
        text = format_address(check_address_arg(meter, "meter"))
        return dict(self.client.get(f"/v1/energy/meters/{text}")["meter"])

    def reading(self, meter: bytes | str, period: int) -> list[int] | None:
        text = format_address(check_address_arg(meter, "meter"))
        found = self.client.get(f"/v1/energy/meters/{text}/readings/{check_period(period)}")["reading"]
        return None if found is None else [int(v) for v in found]

    def certificate(self, serial: int) -> dict[str, Any]:
        return dict(self.client.get(f"/v1/energy/certificates/{check_serial(serial)}")["certificate"])

    def certificates(self, owner: bytes | str, start: int = 0,
                     limit: int = apps.MAX_LIST) -> list[dict[str, Any]]:  # fmt: skip
        text = format_address(check_address_arg(owner, "owner"))
        data = self.client.get("/v1/energy/certificates", owner=text, start=start, limit=limit)
        return list(data["certificates"])

    def trade(self, trade_id: int) -> dict[str, Any]:
        return dict(self.client.get(f"/v1/energy/trades/{check_id(trade_id, 'trade id')}")["trade"])

    def trades(self, party: bytes | str, start: int = 0,
               limit: int = apps.MAX_LIST) -> list[dict[str, Any]]:  # fmt: skip
        text = format_address(check_address_arg(party, "party"))
        return list(self.client.get("/v1/energy/trades", party=text, start=start, limit=limit)["trades"])

    def totals(self) -> dict[str, int]:
        data = self.client.get("/v1/energy")["totals"]
        return {k: int(v) for k, v in data.items()}

    def head_time(self) -> int:
        """The timestamp of the node's latest block (what the contract's next block is near)."""
        return int(self.client.get("/v1/status")["timestamp_ms"])

"""Building the calls of ``apps/energy`` and naming its views: plain functions the client SDK
(:mod:`consortia.client.energy`), the CLI and the REST layer share (the same :class:`AppCall` /
:class:`ViewCall` shapes as ``apps/cbdc``).

    call = enrol(meter_key.public_key, owner, interval_ms=900_000, max_w=10_000, first_period=p)
    signature = meter_key.sign(reading_message(chain_id, meter, period, produced_wh, consumed_wh))
    call = read(meter, period, produced_wh, consumed_wh, signature)

:func:`settlement` is the contract's settlement arithmetic (integer, rounded down) for a client
to know what a trade pays.
"""

from __future__ import annotations

from typing import NamedTuple

from consortia.apps.cbdc.sdk import AppCall, ViewCall, encode_args, event_fields

__all__ = ["AppCall", "ViewCall", "encode_args", "event_fields"]

ENERGY = "energy"

WH_PER_CERTIFICATE = 1_000_000
WH_PER_KWH = 1000
MS_PER_HOUR = 3_600_000
MIN_INTERVAL_MS = 1000
MAX_INTERVAL_MS = 86_400_000
MAX_POWER_W = 1_000_000_000
MAX_INTERVAL_WH = 100_000_000
BPS = 10_000
MAX_FEE_BPS = 1000
MAX_PRICE = 1_000_000_000_000
MAX_OFFERS_PER_PERIOD = 16
SETTLE_GRACE_MS = 86_400_000
KEY_SIZES = (32, 65)
SIGNATURE_BYTES = 64
BENEFICIARY_CHARS = 200
MAX_LIST = 200
GRID_ROLE = "grid"
READING_DOMAIN = b"consortia/energy/reading\x00"
MAX_PERIOD = 2**62

TRADE_STATUSES = ("open", "accepted", "settled", "cancelled")
CERTIFICATE_STATUSES = ("active", "retired")

ERROR_CODES: tuple[str, ...] = (
    "bad_address", "bad_key", "bad_interval", "bad_power", "bad_period", "bad_fee", "bad_energy",
    "bad_price", "bad_signature", "bad_beneficiary", "bad_serial", "bad_limit",
    "not_grid_operator", "unknown_party", "party_frozen", "meter_exists", "meter_not_found", "meter_inactive",
    "not_meter_operator", "period_not_over", "period_not_increasing", "period_before_enrolment",
    "reading_too_large", "certificate_not_found", "not_holder", "already_retired", "trade_not_found",
    "not_seller", "own_offer", "offer_not_open", "period_over", "too_many_offers", "over_capacity",
    "wrong_value", "not_accepted", "not_metered",
)
"""The receipt statuses the contract refuses with (besides the chain's own rules of money)."""


# --- the contract's arithmetic, for clients --------------------------------------------------------


def reading_message(chain_id: str, meter: bytes, period: int, produced_wh: int, consumed_wh: int) -> bytes:
    """What a meter signs for one interval reading (the contract checks exactly these bytes)."""
    return (READING_DOMAIN + chain_id.encode() + b"\x00" + meter + period.to_bytes(8, "big")
            + produced_wh.to_bytes(8, "big") + consumed_wh.to_bytes(8, "big"))


def max_wh(max_w: int, interval_ms: int) -> int:
    """The most a meter of rated power ``max_w`` reads in one interval."""
    return max_w * interval_ms // MS_PER_HOUR


def period_at(timestamp_ms: int, interval_ms: int) -> int:
    """The period a timestamp falls in."""
    return timestamp_ms // interval_ms


def period_end_ms(period: int, interval_ms: int) -> int:
    return (period + 1) * interval_ms


class Settlement(NamedTuple):
    delivered_wh: int
    paid: int
    fee: int
    seller_gets: int
    refund: int


def settlement(offered_wh: int, price_per_kwh: int, fee_bps: int, surplus_wh: int,
               accepted_before_wh: int = 0) -> Settlement:  # fmt: skip
    """A trade's settlement as the contract computes it: the period's surplus (production minus
    consumption, at least 0) goes to the period's accepted trades in acceptance order; paid =
    delivered Wh x price per kWh / 1000 rounded down, fee = paid x fee_bps / 10,000 rounded
    down (out of the seller's proceeds), the rest of the locked price back to the buyer."""
    delivered = min(offered_wh, max(0, surplus_wh - accepted_before_wh))
    paid = delivered * price_per_kwh // WH_PER_KWH
    fee = paid * fee_bps // BPS
    locked = offered_wh // WH_PER_KWH * price_per_kwh
    return Settlement(delivered, paid, fee, paid - fee, locked - paid)


# --- calls ------------------------------------------------------------------------------------------


def enrol(meter_key: bytes, owner: bytes, *, interval_ms: int, max_w: int, first_period: int,
          fee_bps: int = 0) -> AppCall:  # fmt: skip
    """A grid operator enrols the meter whose public key is ``meter_key`` for ``owner``."""
    return AppCall(ENERGY, "enrol", [meter_key, owner, interval_ms, max_w, first_period, fee_bps])


def set_active(meter: bytes, active: bool) -> AppCall:
    return AppCall(ENERGY, "set_active", [meter, active])


def read(meter: bytes, period: int, produced_wh: int, consumed_wh: int, signature: bytes) -> AppCall:
    return AppCall(ENERGY, "read", [meter, period, produced_wh, consumed_wh, signature])


def transfer(serial: int, to: bytes) -> AppCall:
    return AppCall(ENERGY, "transfer", [serial, to])


def retire(serial: int, beneficiary: str) -> AppCall:
    return AppCall(ENERGY, "retire", [serial, beneficiary])


def offer(meter: bytes, kwh: int, price_per_kwh: int, period: int) -> AppCall:
    return AppCall(ENERGY, "offer", [meter, kwh, price_per_kwh, period])


def cancel(trade_id: int) -> AppCall:
    return AppCall(ENERGY, "cancel", [trade_id])


def accept(trade_id: int, price: int) -> AppCall:
    """The buyer's side: attach the offer's full price (kWh x price per kWh), locked until settlement."""
    return AppCall(ENERGY, "accept", [trade_id], price)


def settle(trade_id: int) -> AppCall:
    return AppCall(ENERGY, "settle", [trade_id])


# --- views ------------------------------------------------------------------------------------------


def meter(address: bytes) -> ViewCall:
    return ViewCall(ENERGY, "meter", [address])


def reading(address: bytes, period: int) -> ViewCall:
    return ViewCall(ENERGY, "reading", [address, period])


def certificate(serial: int) -> ViewCall:
    return ViewCall(ENERGY, "certificate", [serial])


def certificates_of(owner: bytes, start: int = 0, limit: int = MAX_LIST) -> ViewCall:
    return ViewCall(ENERGY, "certificates_of", [owner, start, limit])


def trade(trade_id: int) -> ViewCall:
    return ViewCall(ENERGY, "trade", [trade_id])


def trades_of(party: bytes, start: int = 0, limit: int = MAX_LIST) -> ViewCall:
    return ViewCall(ENERGY, "trades_of", [party, start, limit])


def totals() -> ViewCall:
    return ViewCall(ENERGY, "totals", [])

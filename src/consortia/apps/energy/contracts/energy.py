"""Energy: meters enrolled by a grid operator, signed interval readings, green certificates (one
per MWh, retired once) and peer-to-peer energy settled in the chain's currency (decisions/0018).

This file is contract source (deployed as text at genesis), not a module of the consortia package.

Energy is in whole Wh, money in the currency's smallest unit, times are block timestamps (ms).
A meter's period ``p`` is the interval [p x interval_ms, (p + 1) x interval_ms) of block time.

    enrol(meter_key, owner, interval_ms, max_w, first_period, fee_bps)   a grid identity   MeterEnrolled
    set_active(meter, active)                     the meter's grid operator           MeterStatus
    read(meter, period, produced_wh, consumed_wh, signature)   anyone (the meter's gateway) with
                                   the meter's signature over reading_message(...)   Reading,
                                                                                     CertificatesIssued
    transfer(serial, to)                          the certificate's holder            CertificateTransferred
    retire(serial, beneficiary)                   the holder, once                    CertificateRetired
    offer(meter, kwh, price_per_kwh, period) -> id   the meter's owner, before the period ends  OfferMade
    cancel(id)                                    the seller, before acceptance       OfferCancelled
    accept(id) + value == kwh x price_per_kwh     a buyer, before the period ends     OfferAccepted
    settle(id)                                    anyone, once the period is metered  TradeSettled
    views: meter, reading, certificate, certificates_of, trade, trades_of, totals

Refusal codes: see ERRORS below (the SDK lists the same).
"""

from consortia_contract import Contract, Map, Record, Value, public, require, view

ERRORS = (
    "bad_address", "bad_key", "bad_interval", "bad_power", "bad_period", "bad_fee", "bad_energy",
    "bad_price", "bad_signature", "bad_beneficiary", "bad_serial", "bad_limit",
    "not_grid_operator", "unknown_party", "party_frozen", "meter_exists", "meter_not_found", "meter_inactive",
    "not_meter_operator", "period_not_over", "period_not_increasing", "period_before_enrolment",
    "reading_too_large", "certificate_not_found", "not_holder", "already_retired", "trade_not_found",
    "not_seller", "own_offer", "offer_not_open", "period_over", "too_many_offers", "over_capacity",
    "wrong_value", "not_accepted", "not_metered",
)

WH_PER_CERTIFICATE = 1_000_000
"""One green certificate per MWh of production."""
WH_PER_KWH = 1000
MS_PER_HOUR = 3_600_000
MIN_INTERVAL_MS = 1000
"""The shortest metering interval (a second: lets a test on a real network close periods by
block timestamps, never by faking time)."""
MAX_INTERVAL_MS = 86_400_000
MAX_POWER_W = 1_000_000_000
"""A meter's rated power is at most 1 GW."""
MAX_INTERVAL_WH = 100_000_000
"""The most one interval may read (100 MWh): a reading issues at most 101 certificates."""
BPS = 10_000
MAX_FEE_BPS = 1000
"""The grid operator's fee on a settled trade: at most 10 %."""
MAX_PRICE = 1_000_000_000_000
MAX_OFFERS_PER_PERIOD = 16
SETTLE_GRACE_MS = 86_400_000
"""A trade whose period has no reading this long after its end settles as undelivered."""
KEY_SIZES = (32, 65)
"""A public key of the chain's suite: ed25519 32 bytes, SM2 65."""
SIGNATURE_BYTES = 64
BENEFICIARY_CHARS = 200
MAX_LIST = 200
GRID_ROLE = "grid"
READING_DOMAIN = b"consortia/energy/reading\x00"

OPEN = "open"
ACCEPTED = "accepted"
SETTLED = "settled"
CANCELLED = "cancelled"
ACTIVE = "active"
RETIRED = "retired"


def check_address(value: bytes, what: str) -> None:
    require(isinstance(value, bytes) and len(value) == 20,
            f"{what} must be a 20-byte address, got {len(value) if isinstance(value, bytes) else value!r}",
            "bad_address")


def check_count(value: int, low: int, high: int, what: str, code: str) -> None:
    require(isinstance(value, int) and not isinstance(value, bool) and low <= value <= high,
            f"{what} must be a whole number from {low} to {high}, got {value!r}", code)


def hexa(address: bytes) -> str:
    return "0x" + address.hex()


def reading_message(chain_id: str, meter: bytes, period: int, produced_wh: int, consumed_wh: int) -> bytes:
    """What a meter signs: domain, chain id, meter address, period, production, consumption."""
    return (READING_DOMAIN + chain_id.encode() + b"\x00" + meter + period.to_bytes(8, "big")
            + produced_wh.to_bytes(8, "big") + consumed_wh.to_bytes(8, "big"))


class Meter(Record):
    """A smart meter: owner, grid operator, interval, maximum, counters."""
    meter: bytes
    key: bytes
    owner: bytes
    operator: bytes
    grid: str
    interval_ms: int
    max_w: int
    max_wh: int
    first_period: int
    fee_bps: int
    active: bool
    last_period: int
    readings: int
    produced_wh: int
    consumed_wh: int
    carry_wh: int
    certificates: int
    enrolled_height: int


class Certificate(Record):
    """A green certificate of 1 MWh produced by a meter in a period."""
    serial: int
    meter: bytes
    period: int
    grid: str
    holder: bytes
    status: str
    issued_height: int
    issued_ms: int
    transfers: int
    beneficiary: str
    retired_by: bytes
    retired_height: int


class Trade(Record):
    """A peer-to-peer trade of a period's production: offer, buyer, locked price, settlement."""
    id: int
    meter: bytes
    seller: bytes
    buyer: bytes
    period: int
    kwh: int
    wh: int
    price_per_kwh: int
    locked: int
    fee_bps: int
    operator: bytes
    status: str
    offered_height: int
    delivered_wh: int
    paid: int
    fee: int
    refund: int
    settled_height: int


class Totals(Record):
    meters: int
    produced_wh: int
    certificates: int
    retired: int
    trades: int


class Energy(Contract):
    meters = Map(bytes, dict)
    meter_count = Value(int)
    readings = Map(bytes, Map(int, list))
    certificates = Map(int, dict)
    issued = Value(int)
    retired_count = Value(int)
    produced_total = Value(int)
    held_count = Map(bytes, int)
    held_serials = Map(bytes, Map(int, int))
    held_seen = Map(bytes, Map(int, bool))
    trades = Map(int, dict)
    trade_count = Value(int)
    period_offers = Map(bytes, Map(int, list))
    period_accepted = Map(bytes, Map(int, list))
    party_count = Map(bytes, int)
    party_trades = Map(bytes, Map(int, int))

    # --- parties ----------------------------------------------------------------------------

    def party(self, address: bytes, what: str) -> dict:
        """An active, unfrozen identity (not a contract)."""
        check_address(address, what)
        who = self.identity_of(address)
        require(who is not None and who.get("contract") is None and who["status"] == "active",
                f"{what} {hexa(address)} is not an active identity on this chain", "unknown_party")
        require(not who["frozen"], f"{what} {hexa(address)} is frozen by the regulator", "party_frozen")
        return who

    def meter_of(self, meter: bytes) -> dict:
        check_address(meter, "the meter")
        record = self.meters.get(meter)
        require(record is not None, f"no meter {hexa(meter)} is enrolled", "meter_not_found")
        return record

    def hold(self, owner: bytes, serial: int) -> None:
        if not self.held_seen[owner][serial]:
            self.held_seen[owner][serial] = True
            n = self.held_count[owner] + 1
            self.held_count[owner] = n
            self.held_serials[owner][n] = serial

    def involve(self, party: bytes, trade_id: int) -> None:
        n = self.party_count[party] + 1
        self.party_count[party] = n
        self.party_trades[party][n] = trade_id

    # --- meters -----------------------------------------------------------------------------

    @public
    def enrol(self, meter_key: bytes, owner: bytes, interval_ms: int, max_w: int, first_period: int,
              fee_bps: int) -> dict:
        operator = self.party(self.caller, "the grid operator")
        require(operator["org_role"] == GRID_ROLE,
                f"{hexa(self.caller)} belongs to {operator['org']!r} (role {operator['org_role']!r}); "
                f"only identities of a {GRID_ROLE!r} organisation enrol meters", "not_grid_operator")
        require(isinstance(meter_key, bytes) and len(meter_key) in KEY_SIZES,
                f"a meter key is a public key of {KEY_SIZES[0]} (ed25519) or {KEY_SIZES[1]} (SM2) bytes, got "
                f"{len(meter_key) if isinstance(meter_key, bytes) else meter_key!r}", "bad_key")
        self.party(owner, "the meter's owner")
        check_count(interval_ms, MIN_INTERVAL_MS, MAX_INTERVAL_MS, "the interval (ms)", "bad_interval")
        check_count(max_w, 1, MAX_POWER_W, "the rated power (W)", "bad_power")
        check_count(first_period, 0, 2**62, "the first period", "bad_period")
        check_count(fee_bps, 0, MAX_FEE_BPS, "the grid fee (basis points)", "bad_fee")
        max_wh = max_w * interval_ms // MS_PER_HOUR
        require(1 <= max_wh <= MAX_INTERVAL_WH,
                f"{max_w} W over {interval_ms} ms is at most {max_wh} Wh an interval; it must be 1 to "
                f"{MAX_INTERVAL_WH}", "bad_power")
        meter = self.address_of_key(meter_key)
        require(self.meters.get(meter) is None, f"meter {hexa(meter)} is already enrolled", "meter_exists")
        record = {
            "meter": meter, "key": meter_key, "owner": owner, "operator": self.caller,
            "grid": operator["org"], "interval_ms": interval_ms, "max_w": max_w, "max_wh": max_wh,
            "first_period": first_period, "fee_bps": fee_bps, "active": True, "last_period": -1,
            "readings": 0, "produced_wh": 0, "consumed_wh": 0, "carry_wh": 0, "certificates": 0,
            "enrolled_height": self.block.height,
        }
        self.meters[meter] = record
        self.meter_count += 1
        self.emit("MeterEnrolled", meter=meter, owner=owner, operator=self.caller, grid=operator["org"],
                  interval_ms=interval_ms, max_wh=max_wh, fee_bps=fee_bps)
        return record

    @public
    def set_active(self, meter: bytes, active: bool) -> dict:
        record = self.meter_of(meter)
        require(self.caller == record["operator"],
                f"meter {hexa(meter)} is operated by {hexa(record['operator'])}, not {hexa(self.caller)}",
                "not_meter_operator")
        record["active"] = active
        self.meters[meter] = record
        self.emit("MeterStatus", meter=meter, active=active)
        return record

    # --- readings and certificates ------------------------------------------------------------

    @public
    def read(self, meter: bytes, period: int, produced_wh: int, consumed_wh: int, signature: bytes) -> dict:
        record = self.meter_of(meter)
        require(record["active"], f"meter {hexa(meter)} is deactivated by its grid operator",
                "meter_inactive")
        check_count(period, 0, 2**62, "the period", "bad_period")
        check_count(produced_wh, 0, 2**62, "production (Wh)", "bad_energy")
        check_count(consumed_wh, 0, 2**62, "consumption (Wh)", "bad_energy")
        require(isinstance(signature, bytes) and len(signature) == SIGNATURE_BYTES,
                f"a signature is {SIGNATURE_BYTES} bytes", "bad_signature")
        message = reading_message(self.block.chain_id, meter, period, produced_wh, consumed_wh)
        require(self.verify_signature(record["key"], message, signature),
                f"the signature is not meter {hexa(meter)}'s over this reading", "bad_signature")
        require(period >= record["first_period"],
                f"period {period} is before the meter's first period {record['first_period']}",
                "period_before_enrolment")
        require(period > record["last_period"],
                f"period {period} is not after the meter's last reading (period {record['last_period']})",
                "period_not_increasing")
        end_ms = (period + 1) * record["interval_ms"]
        now = self.block.timestamp_ms
        require(end_ms <= now, f"period {period} ends at {end_ms} ms; the block's time is {now} "
                               f"({end_ms - now} ms to go)", "period_not_over")
        limit = record["max_wh"]
        require(produced_wh <= limit and consumed_wh <= limit,
                f"the meter reads at most {limit} Wh an interval ({record['max_w']} W over "
                f"{record['interval_ms']} ms); got {produced_wh} Wh produced, {consumed_wh} Wh consumed",
                "reading_too_large")
        self.readings[meter][period] = [produced_wh, consumed_wh]
        carry = record["carry_wh"] + produced_wh
        count = carry // WH_PER_CERTIFICATE
        record["carry_wh"] = carry - count * WH_PER_CERTIFICATE
        record["last_period"] = period
        record["readings"] = record["readings"] + 1
        record["produced_wh"] = record["produced_wh"] + produced_wh
        record["consumed_wh"] = record["consumed_wh"] + consumed_wh
        record["certificates"] = record["certificates"] + count
        self.meters[meter] = record
        self.produced_total += produced_wh
        self.emit("Reading", meter=meter, period=period, produced_wh=produced_wh, consumed_wh=consumed_wh,
                  carry_wh=record["carry_wh"])
        first = self.issued + 1
        owner = record["owner"]
        for serial in range(first, first + count):
            self.certificates[serial] = {
                "serial": serial, "meter": meter, "period": period, "grid": record["grid"],
                "holder": owner, "status": ACTIVE, "issued_height": self.block.height,
                "issued_ms": now, "transfers": 0, "beneficiary": "", "retired_by": b"",
                "retired_height": 0,
            }
            self.hold(owner, serial)
        if count > 0:
            self.issued = first + count - 1
            self.emit("CertificatesIssued", meter=meter, period=period, owner=owner, first=first,
                      last=first + count - 1, count=count)
        return {"meter": meter, "period": period, "certificates": count, "first": first if count else 0,
                "carry_wh": record["carry_wh"]}

    def certificate_of(self, serial: int) -> dict:
        check_count(serial, 1, 2**62, "a certificate serial", "bad_serial")
        cert = self.certificates.get(serial)
        require(cert is not None, f"no certificate {serial} (certificates issued: {self.issued})",
                "certificate_not_found")
        return cert

    def held(self, serial: int) -> dict:
        cert = self.certificate_of(serial)
        require(cert["status"] == ACTIVE,
                f"certificate {serial} was retired at height {cert['retired_height']} for "
                f"{cert['beneficiary']!r}; it cannot be claimed again", "already_retired")
        require(cert["holder"] == self.caller,
                f"certificate {serial} is held by {hexa(cert['holder'])}, not {hexa(self.caller)}",
                "not_holder")
        return cert

    @public
    def transfer(self, serial: int, to: bytes) -> dict:
        cert = self.held(serial)
        self.party(to, "the new holder")
        cert["holder"] = to
        cert["transfers"] = cert["transfers"] + 1
        self.certificates[serial] = cert
        self.hold(to, serial)
        self.emit("CertificateTransferred", serial=serial, frm=self.caller, to=to)
        return cert

    @public
    def retire(self, serial: int, beneficiary: str) -> dict:
        cert = self.held(serial)
        given = f"{len(beneficiary)} characters" if isinstance(beneficiary, str) else f"{beneficiary!r}"
        require(isinstance(beneficiary, str) and 1 <= len(beneficiary) <= BENEFICIARY_CHARS
                and beneficiary.strip() == beneficiary,
                f"the beneficiary is a name of 1 to {BENEFICIARY_CHARS} characters without surrounding "
                f"spaces, got {given}", "bad_beneficiary")
        cert["status"] = RETIRED
        cert["beneficiary"] = beneficiary
        cert["retired_by"] = self.caller
        cert["retired_height"] = self.block.height
        self.certificates[serial] = cert
        self.retired_count += 1
        self.emit("CertificateRetired", serial=serial, holder=self.caller, beneficiary=beneficiary)
        return cert

    # --- peer-to-peer trades ----------------------------------------------------------------------

    @public
    def offer(self, meter: bytes, kwh: int, price_per_kwh: int, period: int) -> int:
        record = self.meter_of(meter)
        require(record["owner"] == self.caller,
                f"meter {hexa(meter)} belongs to {hexa(record['owner'])}; only its owner sells its energy",
                "not_seller")
        require(record["active"], f"meter {hexa(meter)} is deactivated by its grid operator",
                "meter_inactive")
        self.party(self.caller, "the seller")
        check_count(kwh, 1, MAX_INTERVAL_WH // WH_PER_KWH, "the energy offered (kWh)", "bad_energy")
        check_count(price_per_kwh, 1, MAX_PRICE, "the price per kWh", "bad_price")
        check_count(period, 0, 2**62, "the period", "bad_period")
        end_ms = (period + 1) * record["interval_ms"]
        now = self.block.timestamp_ms
        require(now < end_ms and period > record["last_period"],
                f"period {period} of meter {hexa(meter)} ended at {end_ms} ms (the block's time is {now}, "
                f"last period read {record['last_period']})", "period_over")
        offers = self.period_offers[meter][period]
        require(len(offers) < MAX_OFFERS_PER_PERIOD,
                f"meter {hexa(meter)} has {len(offers)} offers for period {period}, the most there may be",
                "too_many_offers")
        committed = 0
        for other in offers:
            trade = self.trades[other]
            if trade["status"] != CANCELLED:
                committed += trade["wh"]
        wh = kwh * WH_PER_KWH
        require(committed + wh <= record["max_wh"],
                f"meter {hexa(meter)} reads at most {record['max_wh']} Wh in period {period}; {committed} Wh "
                f"are offered already, {wh} Wh more asked", "over_capacity")
        trade_id = self.trade_count + 1
        self.trade_count = trade_id
        self.trades[trade_id] = {
            "id": trade_id, "meter": meter, "seller": self.caller, "buyer": b"", "period": period,
            "kwh": kwh, "wh": wh, "price_per_kwh": price_per_kwh, "locked": 0,
            "fee_bps": record["fee_bps"], "operator": record["operator"], "status": OPEN,
            "offered_height": self.block.height, "delivered_wh": 0, "paid": 0, "fee": 0, "refund": 0,
            "settled_height": 0,
        }
        offers.append(trade_id)
        self.period_offers[meter][period] = offers
        self.involve(self.caller, trade_id)
        self.emit("OfferMade", id=trade_id, meter=meter, seller=self.caller, kwh=kwh,
                  price_per_kwh=price_per_kwh, period=period)
        return trade_id

    def trade_of(self, trade_id: int) -> dict:
        check_count(trade_id, 1, 2**62, "a trade id", "trade_not_found")
        trade = self.trades.get(trade_id)
        require(trade is not None, f"no trade {trade_id} (trades: {self.trade_count})", "trade_not_found")
        return trade

    @public
    def cancel(self, trade_id: int) -> dict:
        trade = self.trade_of(trade_id)
        require(trade["seller"] == self.caller,
                f"trade {trade_id} is offered by {hexa(trade['seller'])}, not {hexa(self.caller)}",
                "not_seller")
        require(trade["status"] == OPEN, f"trade {trade_id} is {trade['status']}, not open", "offer_not_open")
        trade["status"] = CANCELLED
        self.trades[trade_id] = trade
        self.emit("OfferCancelled", id=trade_id)
        return trade

    @public
    def accept(self, trade_id: int) -> dict:
        trade = self.trade_of(trade_id)
        require(trade["status"] == OPEN, f"trade {trade_id} is {trade['status']}, not open", "offer_not_open")
        require(self.caller != trade["seller"], "a seller cannot buy its own offer", "own_offer")
        self.party(self.caller, "the buyer")
        record = self.meters[trade["meter"]]
        end_ms = (trade["period"] + 1) * record["interval_ms"]
        now = self.block.timestamp_ms
        require(now < end_ms and trade["period"] > record["last_period"],
                f"period {trade['period']} ended at {end_ms} ms (the block's time is {now})", "period_over")
        price = trade["kwh"] * trade["price_per_kwh"]
        require(self.value == price,
                f"attach exactly {trade['kwh']} kWh x {trade['price_per_kwh']} = {price} "
                f"(attached {self.value})",
                "wrong_value")
        trade["buyer"] = self.caller
        trade["locked"] = price
        trade["status"] = ACCEPTED
        self.trades[trade_id] = trade
        accepted = self.period_accepted[trade["meter"]][trade["period"]]
        accepted.append(trade_id)
        self.period_accepted[trade["meter"]][trade["period"]] = accepted
        self.involve(self.caller, trade_id)
        self.emit("OfferAccepted", id=trade_id, buyer=self.caller, locked=price)
        return trade

    @public
    def settle(self, trade_id: int) -> dict:
        trade = self.trade_of(trade_id)
        require(trade["status"] == ACCEPTED, f"trade {trade_id} is {trade['status']}, not accepted",
                "not_accepted")
        meter, period = trade["meter"], trade["period"]
        record = self.meters[meter]
        end_ms = (period + 1) * record["interval_ms"]
        now = self.block.timestamp_ms
        reading = self.readings[meter].get(period)
        metered = reading is not None or record["last_period"] > period or now >= end_ms + SETTLE_GRACE_MS
        require(now >= end_ms and metered,
                f"period {period} of meter {hexa(meter)} (ends at {end_ms} ms) has no reading yet; the "
                f"block's time is {now}; it settles once read, or as undelivered from "
                f"{end_ms + SETTLE_GRACE_MS} ms",
                "not_metered")
        surplus = 0
        if reading is not None:
            surplus = max(0, reading[0] - reading[1])
        before = 0
        for other in self.period_accepted[meter][period]:
            if other == trade_id:
                break
            before += self.trades[other]["wh"]
        delivered = min(trade["wh"], max(0, surplus - before))
        paid = delivered * trade["price_per_kwh"] // WH_PER_KWH
        fee = paid * trade["fee_bps"] // BPS
        refund = trade["locked"] - paid
        trade["status"] = SETTLED
        trade["delivered_wh"] = delivered
        trade["paid"] = paid
        trade["fee"] = fee
        trade["refund"] = refund
        trade["settled_height"] = self.block.height
        self.trades[trade_id] = trade
        if paid - fee > 0:
            self.pay(trade["seller"], paid - fee)
        if fee > 0:
            self.pay(trade["operator"], fee)
        if refund > 0:
            self.pay(trade["buyer"], refund)
        self.emit("TradeSettled", id=trade_id, delivered_wh=delivered, paid=paid, fee=fee, refund=refund)
        return trade

    # --- views ------------------------------------------------------------------------------------

    @view
    def meter(self, meter: bytes) -> Meter:
        return self.meter_of(meter)

    @view
    def reading(self, meter: bytes, period: int) -> list[int] | None:
        self.meter_of(meter)
        check_count(period, 0, 2**62, "the period", "bad_period")
        return self.readings[meter].get(period)

    @view
    def certificate(self, serial: int) -> Certificate:
        return self.certificate_of(serial)

    @view
    def certificates_of(self, owner: bytes, start: int, limit: int) -> list[Certificate]:
        """Certificates ``owner`` holds now (retired ones it retired included), from the
        ``start``-th it ever received (0-based)."""
        check_address(owner, "the owner")
        check_count(start, 0, 2**62, "start", "bad_limit")
        check_count(limit, 1, MAX_LIST, "limit", "bad_limit")
        out = []
        n = self.held_count[owner]
        i = start + 1
        while i <= n and len(out) < limit:
            cert = self.certificates[self.held_serials[owner][i]]
            if cert["holder"] == owner:
                out.append(cert)
            i += 1
        return out

    @view
    def trade(self, trade_id: int) -> Trade:
        return self.trade_of(trade_id)

    @view
    def trades_of(self, party: bytes, start: int, limit: int) -> list[Trade]:
        """Trades ``party`` offered or accepted, from its ``start``-th (0-based)."""
        check_address(party, "the party")
        check_count(start, 0, 2**62, "start", "bad_limit")
        check_count(limit, 1, MAX_LIST, "limit", "bad_limit")
        out = []
        n = self.party_count[party]
        i = start + 1
        while i <= n and len(out) < limit:
            out.append(self.trades[self.party_trades[party][i]])
            i += 1
        return out

    @view
    def totals(self) -> Totals:
        return {"meters": self.meter_count, "produced_wh": self.produced_total, "certificates": self.issued,
                "retired": self.retired_count, "trades": self.trade_count}

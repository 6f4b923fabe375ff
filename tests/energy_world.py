"""A permissioned in-process chain with the energy application deployed as at genesis, and the
parties of a local energy market: a grid operator (the admin of a ``grid`` organisation),
prosumers and a buyer (members of an enterprise organisation), a bank (not a grid) and the
regulator. Shared by tests/test_app_energy.py."""

from __future__ import annotations

from typing import Any

from tests.app_world import AppWorld

from consortia.apps.energy import sdk
from consortia.apps.genesis import app_records
from consortia.contracts.permissioned.harness import (
    DEFAULT_ORGS,
    consortium,
    seeded_key,
)
from consortia.contracts.python.api import address_of
from consortia.crypto.keys import KeyPair

SUITE = "ed25519"
PEOPLE = ("solar", "wind", "buyer", "other")
START_FUNDS = 10_000_000
CONTRACT = address_of(sdk.ENERGY)
HOUR = 3_600_000


class World(AppWorld):
    def total(self) -> int:
        return sum(self.balance(a) for a in self.parties.values()) + self.balance(CONTRACT)

    def at(self, ms: int) -> None:
        if ms > self.now:
            self.h.next_block(1, ms - self.now)

    # --- meters -------------------------------------------------------------------------------

    def enrol(self, label: str, owner: str, *, interval_ms: int = HOUR, max_w: int = 5_000_000,
              first_period: int | None = None, fee_bps: int = 100) -> KeyPair:  # fmt: skip
        key = seeded_key(f"meter:{label}")
        first = self.now // interval_ms - 100 if first_period is None else first_period
        self.ok("grid", sdk.enrol(key.public_key, self[owner], interval_ms=interval_ms, max_w=max_w,
                                  first_period=first, fee_bps=fee_bps))
        self.parties[label] = key.address
        return key

    def reading(self, key: KeyPair, period: int, produced: int, consumed: int = 0) -> sdk.AppCall:
        signature = key.sign(sdk.reading_message(self.h.chain_id, key.address, period, produced, consumed))
        return sdk.read(key.address, period, produced, consumed, signature)

    def meter(self, key: KeyPair) -> dict[str, Any]:
        return dict(self.view(sdk.meter(key.address)))

    def cert(self, serial: int) -> dict[str, Any]:
        return dict(self.view(sdk.certificate(serial)))

    def trade(self, trade_id: int) -> dict[str, Any]:
        return dict(self.view(sdk.trade(trade_id)))


def make_world() -> World:
    net = consortium((*DEFAULT_ORGS, ("grid-co", "grid"), ("homes", "enterprise")))
    h = net.harness
    h.state.data.update(app_records(SUITE))  # compiled once per process
    host = h.enable_contracts()
    parties: dict[str, bytes] = {"grid": net.admins["grid-co"].address, "bank": net.admins["bank-a"].address,
                                 "reg": net.admins["reg"].address}
    parties["lineman"] = net.member("grid-co", "lineman").address
    for label in PEOPLE:
        parties[label] = net.member("homes", label).address
        net.fund(parties[label], START_FUNDS)
    return World(net, host, parties)

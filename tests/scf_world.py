"""A permissioned in-process chain with apps/scf deployed as at genesis and the parties of a
supply chain: a core enterprise, four suppliers (tiers 1..4, members of enterprise
organisations), two banks (their admins) and the regulator. Shared by tests/test_app_scf.py and
tests/test_scf_stateful.py."""

from __future__ import annotations

from typing import Any

from tests.app_world import AppWorld

from consortia.apps.genesis import app_records
from consortia.apps.scf import sdk
from consortia.contracts.permissioned.alerting import alerts
from consortia.contracts.permissioned.harness import DEFAULT_ORGS, consortium
from consortia.contracts.python.api import address_of

SUITE = "ed25519"
ENTERPRISES = ("core", "tier1", "tier2", "tier3", "tier4")
BANKS = ("bank-a", "bank-b")
COMPANIES = ("corp-x", "corp-y")
START_FUNDS = 10_000_000
BANK_FUNDS = 50_000_000
CONTRACTS = (address_of(sdk.SCF), address_of(sdk.CREDIT))


class World(AppWorld):
    def total(self) -> int:
        """Money held by every party and the contracts (nothing else moves in these tests)."""
        return sum(self.balance(a) for a in self.parties.values()) + sum(self.balance(c) for c in CONTRACTS)

    def alerts(self) -> list[Any]:
        return alerts(self.h.get, limit=1000)

    def at(self, ms: int) -> None:
        """Move to the first block at or after ``ms`` (one block of that length)."""
        if ms > self.now:
            self.h.next_block(1, ms - self.now)

    def invoice(self, seller: str, buyer: str, number: str, amount: int, date: str = "2023-11-01") -> bytes:
        """Register an invoice of ``seller`` to ``buyer``; its hash."""
        digest = sdk.invoice_hash(self[seller], self[buyer], number, amount, date)
        self.ok(seller, sdk.register_invoice(digest, self[buyer], amount))
        return digest


def make_world() -> World:
    net = consortium(DEFAULT_ORGS + tuple((name, "enterprise") for name in COMPANIES))
    h = net.harness
    h.state.data.update(app_records(SUITE))  # the genesis a node builds: consortium + apps
    host = h.enable_contracts()
    parties: dict[str, bytes] = {bank: net.admins[bank].address for bank in BANKS}
    parties["reg"] = net.admins["reg"].address
    for index, label in enumerate(ENTERPRISES):
        parties[label] = net.member(COMPANIES[index % 2], label).address
        net.fund(parties[label], START_FUNDS)
    for bank in BANKS:
        net.fund(parties[bank], BANK_FUNDS)
    return World(net, host, parties)

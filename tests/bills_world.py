"""A permissioned in-process chain with the bills application deployed as at genesis, and the
parties of a bill market: enterprises (members of the banks' organisations), two banks (their
admins) and the regulator. Shared by tests/test_app_bills.py and tests/test_bills_stateful.py."""

from __future__ import annotations

from typing import Any

from tests.app_world import AppWorld

from consortia.apps.bills import sdk
from consortia.apps.genesis import app_records
from consortia.contracts.permissioned.alerting import alerts
from consortia.contracts.permissioned.harness import DEFAULT_ORGS, consortium
from consortia.contracts.python.api import address_of

SUITE = "ed25519"
ENTERPRISES = ("acme", "beta", "gamma", "delta")
BANKS = ("bank-a", "bank-b")
COMPANIES = ("corp-x", "corp-y")
"""Two enterprise organisations whose members are the enterprises."""
START_FUNDS = 1_000_000
BANK_FUNDS = 50_000_000
CONTRACT = address_of(sdk.BILLS)


class World(AppWorld):
    def bill(self, bill_id: int) -> dict[str, Any]:
        return dict(self.view(sdk.get(bill_id)))

    def history(self, bill_id: int) -> list[dict[str, Any]]:
        return list(self.view(sdk.history(bill_id)))

    def total(self) -> int:
        """Money held by every party and the contract (nothing else moves in these tests)."""
        return sum(self.balance(a) for a in self.parties.values()) + self.balance(CONTRACT)

    def alerts(self) -> list[Any]:
        return alerts(self.h.get, limit=1000)

    def at(self, ms: int) -> None:
        """Move to the first block at or after ``ms`` (one block of that length)."""
        if ms > self.now:
            self.h.next_block(1, ms - self.now)


def make_world() -> World:
    net = consortium(DEFAULT_ORGS + tuple((name, "enterprise") for name in COMPANIES))
    h = net.harness
    h.state.data.update(app_records(SUITE))  # the genesis a node builds: consortium + apps
    host = h.enable_contracts()
    parties: dict[str, bytes] = {bank: net.admins[bank].address for bank in BANKS}
    parties["reg"] = net.admins["reg"].address
    for index, label in enumerate(ENTERPRISES):
        parties[label] = net.member(COMPANIES[index % 2], label).address
    for label in ENTERPRISES:
        net.fund(parties[label], START_FUNDS)
    for bank in BANKS:
        net.fund(parties[bank], BANK_FUNDS)
    return World(net, host, parties)

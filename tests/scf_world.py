"""A permissioned in-process chain with apps/scf deployed as at genesis and the parties of a
supply chain: a core enterprise, four suppliers (tiers 1..4, members of enterprise
organisations), two banks (their admins) and the regulator. Shared by tests/test_app_scf.py and
tests/test_scf_stateful.py."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from consortia.apps.genesis import app_records
from consortia.apps.scf import sdk
from consortia.contracts.permissioned.alerting import alerts
from consortia.contracts.permissioned.harness import DEFAULT_ORGS, Consortium, Harness, Outcome, consortium
from consortia.contracts.python.api import address_of
from consortia.contracts.python.host import PythonContractHost
from consortia.execution.accounts import account_key, decode_account

SUITE = "ed25519"
ENTERPRISES = ("core", "tier1", "tier2", "tier3", "tier4")
BANKS = ("bank-a", "bank-b")
COMPANIES = ("corp-x", "corp-y")
START_FUNDS = 10_000_000
BANK_FUNDS = 50_000_000
CONTRACTS = (address_of(sdk.SCF), address_of(sdk.CREDIT))


@dataclass
class World:
    net: Consortium
    host: PythonContractHost
    parties: dict[str, bytes]

    @property
    def h(self) -> Harness:
        return self.net.harness

    def __getitem__(self, label: str) -> bytes:
        return self.parties[label]

    @property
    def now(self) -> int:
        return self.h.timestamp_ms

    def send(self, who: str | bytes, call: sdk.AppCall) -> Outcome:
        sender = self.parties[who] if isinstance(who, str) else who
        return self.h.call(sender, call.contract, call.method, sdk.encode_args(call), value=call.value)

    def ok(self, who: str | bytes, call: sdk.AppCall) -> Outcome:
        out = self.send(who, call)
        assert out.ok, (call.method, out.code, out.message)
        return out

    def refused(self, who: str | bytes, call: sdk.AppCall, code: str) -> Outcome:
        """``call`` is refused with ``code`` and changes nothing but the sender's nonce."""
        sender = self.parties[who] if isinstance(who, str) else who
        before = dict(self.h.state.data)
        out = self.send(sender, call)
        assert out.code == code, (call.method, out.code, out.message)
        after = self.h.state.data
        changed = {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
        assert changed == {account_key(sender)}, changed
        old, new = decode_account(before[account_key(sender)]), decode_account(after[account_key(sender)])
        assert (new.nonce, new.balance) == (old.nonce + 1, old.balance)
        return out

    def view(self, call: sdk.ViewCall) -> Any:
        return self.host.run_view(self.h.state, self.h.block(), call.contract, call.method, call.args)

    def balance(self, who: str | bytes) -> int:
        return self.net.balance(self.parties[who] if isinstance(who, str) else who)

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

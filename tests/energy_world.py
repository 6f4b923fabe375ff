"""A permissioned in-process chain with the energy application deployed as at genesis, and the
parties of a local energy market: a grid operator (the admin of a ``grid`` organisation),
prosumers and a buyer (members of an enterprise organisation), a bank (not a grid) and the
regulator. Shared by tests/test_app_energy.py."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from consortia.apps.energy import sdk
from consortia.apps.genesis import app_records
from consortia.contracts.permissioned.harness import (
    DEFAULT_ORGS,
    Consortium,
    Harness,
    Outcome,
    consortium,
    seeded_key,
)
from consortia.contracts.python.api import address_of
from consortia.contracts.python.host import PythonContractHost
from consortia.crypto.keys import KeyPair
from consortia.execution.accounts import account_key, decode_account

SUITE = "ed25519"
PEOPLE = ("solar", "wind", "buyer", "other")
START_FUNDS = 10_000_000
CONTRACT = address_of(sdk.ENERGY)
HOUR = 3_600_000


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


@functools.cache
def _app_records() -> dict[bytes, bytes]:
    """The applications' genesis records (pure and deterministic: built once per test session)."""
    return app_records(SUITE)


def make_world() -> World:
    net = consortium((*DEFAULT_ORGS, ("grid-co", "grid"), ("homes", "enterprise")))
    h = net.harness
    h.state.data.update(_app_records())
    host = h.enable_contracts()
    parties: dict[str, bytes] = {"grid": net.admins["grid-co"].address, "bank": net.admins["bank-a"].address,
                                 "reg": net.admins["reg"].address}
    parties["lineman"] = net.member("grid-co", "lineman").address
    for label in PEOPLE:
        parties[label] = net.member("homes", label).address
        net.fund(parties[label], START_FUNDS)
    return World(net, host, parties)

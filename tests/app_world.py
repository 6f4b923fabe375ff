"""What every in-process application world shares: a permissioned Harness with the apps deployed
as at genesis, named parties, and calls that must pass or be refused changing nothing but the
sender's nonce. ``tests/bills_world.py``, ``scf_world.py`` and ``energy_world.py`` extend it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from consortia.apps.cbdc.sdk import AppCall, ViewCall, encode_args
from consortia.contracts.permissioned.harness import Consortium, Harness, Outcome
from consortia.contracts.python.host import PythonContractHost
from consortia.execution.accounts import account_key, decode_account


@dataclass
class AppWorld:
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

    def address(self, who: str | bytes) -> bytes:
        return self.parties[who] if isinstance(who, str) else who

    def send(self, who: str | bytes, call: AppCall) -> Outcome:
        return self.h.call(self.address(who), call.contract, call.method, encode_args(call), value=call.value)

    def ok(self, who: str | bytes, call: AppCall) -> Outcome:
        out = self.send(who, call)
        assert out.ok, (call.method, out.code, out.message)
        return out

    def refused(self, who: str | bytes, call: AppCall, code: str) -> Outcome:
        """``call`` is refused with ``code`` and changes nothing but the sender's nonce."""
        sender = self.address(who)
        before = dict(self.h.state.data)
        out = self.send(sender, call)
        assert out.code == code, (call.method, out.code, out.message)
        after = self.h.state.data
        changed = {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
        assert changed == {account_key(sender)}, changed
        old, new = decode_account(before[account_key(sender)]), decode_account(after[account_key(sender)])
        assert (new.nonce, new.balance) == (old.nonce + 1, old.balance)
        return out

    def view(self, call: ViewCall) -> Any:
        return self.host.run_view(self.h.state, self.h.block(), call.contract, call.method, call.args)

    def balance(self, who: str | bytes) -> int:
        return self.net.balance(self.address(who))

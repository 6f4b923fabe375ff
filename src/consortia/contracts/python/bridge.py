"""The contract bridge: how a Python contract touches money and identities (decisions/0011).

The runtime knows no rule of money itself; it asks a :class:`Bridge`. An open chain uses
:class:`OpenBridge` (balances move, nobody is identified); a permissioned chain plugs in the
permission layer's bridge, which applies the regulator's rules to every movement — the same
``check_transfer`` / ``observe_transfer`` a native transfer meets.
"""

from __future__ import annotations

from typing import Any, Protocol

from consortia.codec import encode
from consortia.contracts.native_currency import balance_of, move
from consortia.contracts.python.layout import contract_at
from consortia.crypto.address import address_from_public_key
from consortia.crypto.suites import Suite, get_suite
from consortia.execution.context import CallContext
from consortia.execution.state_view import StateReader
from consortia.types.receipt import Event

ALERT_EVENT = "Alert"


class Bridge(Protocol):
    suite: Suite

    def pay(self, ctx: CallContext, frm: bytes, to: bytes, amount: int) -> None:
        """Move ``amount`` native units ``frm`` → ``to`` under the chain's rules, or raise the
        typed refusal (nothing changes)."""

    def identity(self, state: StateReader, address: bytes) -> dict[str, Any] | None:
        """What a contract may know of ``address``: plain data, or None for nobody."""

    def check_contract_call(self, state: StateReader, contract: str) -> None:
        """Raise the typed refusal if ``contract`` may not change state now (e.g. frozen)."""

    def alert(self, ctx: CallContext, contract: str, rule: str, address: bytes, amount: int,
              detail: str) -> None:  # fmt: skip
        """Raise an alert of ``contract``'s rule ``rule`` about ``address`` where the chain's
        regulator sees its alerts (arguments already checked by the host)."""


def contract_identity(state: StateReader, address: bytes) -> dict[str, Any] | None:
    name = contract_at(state, address)
    if name is None:
        return None
    return {"contract": name, "org": None, "org_role": None, "role": "contract",
            "kyc_tier": None, "status": "active", "frozen": False}


class OpenBridge:
    """An open chain's bridge: balances move with no rules; only contracts are known."""

    def __init__(self, suite: str = "ed25519") -> None:
        self.suite = get_suite(suite)

    def pay(self, ctx: CallContext, frm: bytes, to: bytes, amount: int) -> None:
        move(ctx, frm, to, amount)

    def identity(self, state: StateReader, address: bytes) -> dict[str, Any] | None:
        return contract_identity(state, address)

    def check_contract_call(self, state: StateReader, contract: str) -> None:
        return None

    def alert(self, ctx: CallContext, contract: str, rule: str, address: bytes, amount: int,
              detail: str) -> None:  # fmt: skip
        """No regulator on an open chain: the alert is an ``Alert`` event of the contract."""
        data = encode({"address": address, "amount": amount, "detail": detail, "rule": rule})
        ctx.events.append(Event(contract, ALERT_EVENT, data))


def key_address(bridge: Bridge, public_key: bytes) -> bytes:
    return address_from_public_key(bridge.suite, public_key)


__all__ = ["Bridge", "OpenBridge", "balance_of", "contract_identity", "key_address"]

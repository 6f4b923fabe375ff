"""An in-memory chain for contract authors' tests: deploy, call and view without a node.

    chain = LocalChain()
    alice, bob = chain.account("alice"), chain.account("bob")
    token = chain.deploy("token", source, "TOK", 1000, sender=alice)
    token.call("transfer", bob, 5, sender=alice)
    assert token.view("balance_of", bob) == 5

Native money (the contract bridge): ``chain.fund(alice, 100)`` gives a test account native
units, ``chain.balance(address)`` reads them, ``call(..., value=N)`` attaches units to a call,
and ``chain.advance()`` runs the scheduled calls of each block it passes
(``chain.scheduled_receipts``). Money moves with no rules here (an open chain's bridge); pass
``bridge=`` to test under other rules.

A failed call raises the contract's typed error (``ContractFailed``, ``OutOfSteps``, ...) and
leaves the state as it was, exactly as a failed transaction does on chain.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import msgspec

from consortia.codec import encode
from consortia.contracts.native_currency import balance_of, credit
from consortia.contracts.python.bridge import Bridge
from consortia.contracts.python.host import PythonContractHost
from consortia.contracts.python.limits import DEFAULT_STEP_BUDGET
from consortia.contracts.python.registry import ContractInfo, ContractRegistry, contract_info
from consortia.errors import ConsortiaError
from consortia.execution.context import BlockContext, CallContext, TxState
from consortia.execution.state_view import Overlay
from consortia.types.receipt import Event, Receipt


class DictState:
    """A plain dict as a StateReader."""

    __slots__ = ("data",)

    def __init__(self, data: dict[bytes, bytes]) -> None:
        self.data = data

    def get(self, key: bytes) -> bytes | None:
        return self.data.get(key)


@dataclass(frozen=True, slots=True)
class CallResult:
    steps: int
    events: list[Event]
    writes: dict[bytes, bytes | None]

    def event_fields(self, index: int = -1) -> dict[str, Any]:
        """The decoded fields of one event (the last one by default)."""
        return msgspec.msgpack.decode(self.events[index].data)


@dataclass
class LocalChain:
    chain_id: str = "local"
    height: int = 1
    timestamp_ms: int = 1_700_000_000_000
    budget: int = DEFAULT_STEP_BUDGET
    state: dict[bytes, bytes] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    tx_counter: int = 0
    bridge: Bridge | None = None
    scheduled_receipts: list[Receipt] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.host = PythonContractHost(budget=self.budget, bridge=self.bridge)
        self.registry = ContractRegistry(self.host)

    # --- chain -------------------------------------------------------------------------

    @staticmethod
    def account(label: str) -> bytes:
        """A stable 20-byte address for a test participant."""
        return hashlib.sha256(b"local-account:" + label.encode()).digest()[:20]

    def block(self) -> BlockContext:
        return BlockContext(self.chain_id, self.height, self.timestamp_ms, 0)

    def advance(self, blocks: int = 1, ms_per_block: int = 1000) -> None:
        """Close the current block (running the calls scheduled for it) and the next
        ``blocks - 1``, moving to a new block."""
        for _ in range(blocks):
            writes: dict[bytes, bytes | None] = {}
            receipts = self.host.end_block(Overlay(DictState(self.state), writes), writes, self.block())
            self._apply(writes)
            for receipt in receipts:
                self.events.extend(receipt.events)
            self.scheduled_receipts.extend(receipts)
            self.height += 1
            self.timestamp_ms += ms_per_block

    def fund(self, address: bytes, amount: int) -> None:
        """Give a test account ``amount`` native units (out of thin air: a test fixture)."""
        state = TxState(DictState(self.state))
        credit(state, address, amount)
        self._apply(state.writes)

    def balance(self, address: bytes) -> int:
        return balance_of(self.state.get, address)

    def _apply(self, writes: dict[bytes, bytes | None]) -> None:
        for key, value in writes.items():
            if value is None:
                self.state.pop(key, None)
            else:
                self.state[key] = value

    def snapshot(self) -> dict[bytes, bytes]:
        return dict(self.state)

    # --- transactions ------------------------------------------------------------------

    def transact(self, sender: bytes, run: Any, value: int = 0) -> CallResult:
        """Run ``run(ctx)`` as one transaction: all its writes apply, or none."""
        self.tx_counter += 1
        tx_hash = hashlib.sha256(b"local-tx:%d" % self.tx_counter).digest()
        ctx = CallContext(sender=sender, tx_hash=tx_hash, block=self.block(),
                          state=TxState(DictState(self.state)), value=value)
        try:
            run(ctx)
        except ConsortiaError as exc:
            exc.details.setdefault("steps", ctx.steps)
            raise
        self._apply(ctx.state.writes)
        self.events.extend(ctx.events)
        return CallResult(ctx.steps, list(ctx.events), dict(ctx.state.writes))

    def deploy(self, name: str, source: str, *init_args: Any, sender: bytes) -> LocalContract:
        args = encode([name, source, list(init_args)])
        self.transact(sender, lambda ctx: self.registry.call(ctx, "deploy", args))
        return LocalContract(self, name)

    def upgrade(self, name: str, source: str, *, sender: bytes) -> CallResult:
        args = encode([name, source])
        return self.transact(sender, lambda ctx: self.registry.call(ctx, "upgrade", args))

    def call(self, contract: str, method: str, *args: Any, sender: bytes, value: int = 0) -> CallResult:
        raw = encode(list(args))
        return self.transact(
            sender, lambda ctx: self.host.call_contract(ctx, contract, method, raw), value
        )

    def view(self, contract: str, method: str, *args: Any, caller: bytes = bytes(20)) -> Any:
        return self.host.run_view(DictState(self.state), self.block(), contract, method, list(args),
                                  caller=caller)

    def info(self, name: str) -> ContractInfo | None:
        return contract_info(DictState(self.state), name)


@dataclass(frozen=True, slots=True)
class LocalContract:
    chain: LocalChain
    name: str

    def call(self, method: str, *args: Any, sender: bytes, value: int = 0) -> CallResult:
        return self.chain.call(self.name, method, *args, sender=sender, value=value)

    @property
    def address(self) -> bytes:
        """The contract's account address."""
        return self.chain.host.address_of(self.name)

    def view(self, method: str, *args: Any, caller: bytes = bytes(20)) -> Any:
        return self.chain.view(self.name, method, *args, caller=caller)

    def info(self) -> ContractInfo | None:
        return self.chain.info(self.name)

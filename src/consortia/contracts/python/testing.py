"""An in-memory chain for contract authors' tests: deploy, call and view without a node.

    chain = LocalChain()
    alice, bob = chain.account("alice"), chain.account("bob")
    token = chain.deploy("token", source, "TOK", 1000, sender=alice)
    token.call("transfer", bob, 5, sender=alice)
    assert token.view("balance_of", bob) == 5

A failed call raises the contract's typed error (``ContractFailed``, ``OutOfSteps``, ...) and
leaves the state as it was, exactly as a failed transaction does on chain.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import msgspec

from consortia.codec import encode
from consortia.contracts.python.host import PythonContractHost
from consortia.contracts.python.limits import DEFAULT_STEP_BUDGET
from consortia.contracts.python.registry import ContractInfo, ContractRegistry, contract_info
from consortia.errors import ConsortiaError
from consortia.execution.context import BlockContext, CallContext, TxState
from consortia.types.receipt import Event


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

    def __post_init__(self) -> None:
        self.host = PythonContractHost(budget=self.budget)
        self.registry = ContractRegistry(self.host)

    # --- chain -------------------------------------------------------------------------

    @staticmethod
    def account(label: str) -> bytes:
        """A stable 20-byte address for a test participant."""
        return hashlib.sha256(b"local-account:" + label.encode()).digest()[:20]

    def block(self) -> BlockContext:
        return BlockContext(self.chain_id, self.height, self.timestamp_ms, 0)

    def advance(self, blocks: int = 1, ms_per_block: int = 1000) -> None:
        self.height += blocks
        self.timestamp_ms += blocks * ms_per_block

    def snapshot(self) -> dict[bytes, bytes]:
        return dict(self.state)

    # --- transactions ------------------------------------------------------------------

    def transact(self, sender: bytes, run: Any) -> CallResult:
        """Run ``run(ctx)`` as one transaction: all its writes apply, or none."""
        self.tx_counter += 1
        tx_hash = hashlib.sha256(b"local-tx:%d" % self.tx_counter).digest()
        ctx = CallContext(sender=sender, tx_hash=tx_hash, block=self.block(),
                          state=TxState(DictState(self.state)))
        try:
            run(ctx)
        except ConsortiaError as exc:
            exc.details.setdefault("steps", ctx.steps)
            raise
        for key, value in ctx.state.writes.items():
            if value is None:
                self.state.pop(key, None)
            else:
                self.state[key] = value
        self.events.extend(ctx.events)
        return CallResult(ctx.steps, list(ctx.events), dict(ctx.state.writes))

    def deploy(self, name: str, source: str, *init_args: Any, sender: bytes) -> LocalContract:
        args = encode([name, source, list(init_args)])
        self.transact(sender, lambda ctx: self.registry.call(ctx, "deploy", args))
        return LocalContract(self, name)

    def upgrade(self, name: str, source: str, *, sender: bytes) -> CallResult:
        args = encode([name, source])
        return self.transact(sender, lambda ctx: self.registry.call(ctx, "upgrade", args))

    def call(self, contract: str, method: str, *args: Any, sender: bytes) -> CallResult:
        raw = encode(list(args))
        return self.transact(sender, lambda ctx: self.host.call_contract(ctx, contract, method, raw))

    def view(self, contract: str, method: str, *args: Any, caller: bytes = bytes(20)) -> Any:
        return self.host.run_view(DictState(self.state), self.block(), contract, method, list(args),
                                  caller=caller)

    def info(self, name: str) -> ContractInfo | None:
        return contract_info(DictState(self.state), name)


@dataclass(frozen=True, slots=True)
class LocalContract:
    chain: LocalChain
    name: str

    def call(self, method: str, *args: Any, sender: bytes) -> CallResult:
        return self.chain.call(self.name, method, *args, sender=sender)

    def view(self, method: str, *args: Any, caller: bytes = bytes(20)) -> Any:
        return self.chain.view(self.name, method, *args, caller=caller)

    def info(self) -> ContractInfo | None:
        return self.chain.info(self.name)

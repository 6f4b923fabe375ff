"""What a contract sees while it runs one transaction: caller, block, state and events."""

from __future__ import annotations

from dataclasses import dataclass, field

from consortia.execution.state_view import MISSING, StateReader
from consortia.types.receipt import Event


@dataclass(frozen=True, slots=True)
class BlockContext:
    """The block being executed. Contracts get time only from here, never from a clock."""

    chain_id: str
    height: int
    timestamp_ms: int
    proposer: int
    max_expiry_window: int | None = None
    """The chain's expiry window in force for this block (from its parent's state); None: no
    bound (tools that execute outside a chain)."""


@dataclass(slots=True)
class TxState:
    """A transaction's writes over the block's state; dropped whole if the transaction fails."""

    base: StateReader
    writes: dict[bytes, bytes | None] = field(default_factory=dict)

    def get(self, key: bytes) -> bytes | None:
        value = self.writes.get(key, MISSING)
        if value is MISSING:
            return self.base.get(key)
        return value  # type: ignore[return-value]

    def set(self, key: bytes, value: bytes | None) -> None:
        self.writes[key] = value


@dataclass(slots=True)
class CallContext:
    sender: bytes
    tx_hash: bytes
    block: BlockContext
    state: TxState
    events: list[Event] = field(default_factory=list)
    steps: int = 0
    value: int = 0
    """Native units the transaction attaches to a deployed contract's call."""
    sender_checked: bool = False
    """The identity and regulator rules on the sender already passed on this very view (a
    leader's proposal checks them to leave refused senders out); a contract may skip them."""

    def emit(self, contract: str, name: str, data: bytes) -> None:
        self.events.append(Event(contract, name, data))

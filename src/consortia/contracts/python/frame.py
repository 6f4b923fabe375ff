"""One contract invocation: who called, which contract, the state, and whether it may write."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from consortia.contracts.python.errors import ReadOnlyViolation
from consortia.contracts.python.metering import Meter
from consortia.execution.context import BlockContext, TxState
from consortia.types.receipt import Event

if TYPE_CHECKING:
    from consortia.contracts.python.host import PythonContractHost


class BlockInfo:
    """What a contract may know of the block: ``height``, ``timestamp_ms``, ``chain_id``."""

    _consortia_open = True
    __slots__ = ("chain_id", "height", "timestamp_ms")

    def __init__(self, block: BlockContext) -> None:
        self.chain_id = block.chain_id
        self.height = block.height
        self.timestamp_ms = block.timestamp_ms


@dataclass(slots=True)
class Frame:
    host: PythonContractHost
    contract: str
    address: bytes
    caller: bytes
    origin: bytes
    tx_hash: bytes
    block: BlockInfo
    state: TxState
    events: list[Event]
    meter: Meter
    read_only: bool
    depth: int
    block_context: BlockContext
    value: int = 0
    """Native units the transaction attached to this call (top-level frame only)."""

    def check_writable(self, action: str) -> None:
        if self.read_only:
            raise ReadOnlyViolation(f"a view cannot {action} (contract {self.contract!r})")

    def child(self, contract: str, address: bytes, read_only: bool) -> Frame:
        return Frame(
            host=self.host, contract=contract, address=address, caller=self.address,
            origin=self.origin, tx_hash=self.tx_hash, block=self.block, state=self.state,
            events=self.events, meter=self.meter, read_only=self.read_only or read_only,
            depth=self.depth + 1, block_context=self.block_context,
        )


"""Fan-out of committed blocks to live subscribers and to clients waiting for a transaction."""

from __future__ import annotations

import asyncio
from typing import Any

from consortia.api.tx_view import event_view
from consortia.node.chain import ExecutedBlock
from consortia.types.block import CommittedBlock

SUBSCRIBER_QUEUE = 1024
MAX_SUBSCRIBERS = 256
MAX_WAITERS = 100_000


def block_summary(committed: CommittedBlock, block_id: bytes) -> dict[str, Any]:
    h = committed.block.header
    return {
        "height": h.height,
        "id": "0x" + block_id.hex(),
        "round": h.round,
        "timestamp_ms": h.timestamp_ms,
        "tx_count": h.tx_count,
        "state_root": "0x" + h.state_root.hex(),
        "proposer": h.proposer,
    }


class EventHub:
    """Called on the node's loop thread when a block commits."""

    def __init__(self) -> None:
        self._subscribers: set[asyncio.Queue[dict[str, Any] | None]] = set()
        self._waiters: dict[bytes, list[asyncio.Future[None]]] = {}

    # --- subscriptions --------------------------------------------------------------------

    def subscribe(self) -> asyncio.Queue[dict[str, Any] | None]:
        if len(self._subscribers) >= MAX_SUBSCRIBERS:
            raise OverflowError("too many event subscribers")
        queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(SUBSCRIBER_QUEUE)
        self._subscribers.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[dict[str, Any] | None]) -> None:
        self._subscribers.discard(queue)

    # --- waiting for one transaction ------------------------------------------------------

    def waiter(self, tx_hash: bytes) -> asyncio.Future[None]:
        if sum(len(w) for w in self._waiters.values()) >= MAX_WAITERS:
            raise OverflowError("too many clients waiting for transactions")
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(tx_hash, []).append(fut)
        return fut

    def drop_waiter(self, tx_hash: bytes, fut: asyncio.Future[None]) -> None:
        waiting = self._waiters.get(tx_hash)
        if waiting and fut in waiting:
            waiting.remove(fut)
            if not waiting:
                del self._waiters[tx_hash]

    # --- publishing -----------------------------------------------------------------------

    def on_commit(self, executed: ExecutedBlock, committed: CommittedBlock) -> None:
        receipts = executed.receipts
        if self._waiters:
            for tx_hash in (t.hash for t in executed.txs):
                for fut in self._waiters.pop(tx_hash, ()):
                    if not fut.done():
                        fut.set_result(None)
        if not self._subscribers:
            return
        summary = block_summary(committed, committed.qc.block_id)
        events = [
            {"tx_hash": "0x" + r.tx_hash.hex(), "index": i, **event_view(e)}
            for r in receipts
            for i, e in enumerate(r.events)
        ]
        message = {"block": summary, "events": events}
        for queue in list(self._subscribers):
            try:
                queue.put_nowait(message)
            except asyncio.QueueFull:  # a subscriber that does not read is cut off
                self._subscribers.discard(queue)
                queue.get_nowait()
                queue.put_nowait(None)

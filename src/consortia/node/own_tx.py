"""Waiting for a transaction a node's own service submitted (a notary anchoring, a health
record's access log, the read audit's anchoring) to commit — one loop, used by each of them."""

from __future__ import annotations

import asyncio

from consortia.errors import Timeout, TxDropped
from consortia.node.node import Node


async def until_committed(node: Node, tx_hash: bytes, waiter: asyncio.Future[None], timeout_s: float,
                          what: str, on_timeout: str = "") -> None:  # fmt: skip
    """Return once ``tx_hash`` is in the chain store; ``waiter`` is ``node.events.waiter(tx_hash)``
    taken before the submission (the caller drops it). :class:`Timeout` after ``timeout_s``
    (``on_timeout`` adds what that means), :class:`TxDropped` as soon as the pool dropped it.
    ``what`` names the transaction in both ("the anchoring transaction")."""
    chain = node.chain
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not waiter.done() and not chain.store.has_tx(tx_hash):
        left = deadline - loop.time()
        if left <= 0:
            raise Timeout(f"{what} 0x{tx_hash.hex()} did not commit within {timeout_s:g} s{on_timeout}")
        await asyncio.wait({waiter}, timeout=min(left, 0.5))
        reason = chain.mempool.dropped_reason(tx_hash)
        if reason is not None and not chain.store.has_tx(tx_hash):
            raise TxDropped(f"{what} 0x{tx_hash.hex()} was dropped: {reason}", reason=reason)

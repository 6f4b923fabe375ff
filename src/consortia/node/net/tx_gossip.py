"""Admitted transactions passed on to the other validators, so that any leader can include them.

Outgoing transactions are batched: a message holds at most ``TX_FLUSH_COUNT`` transactions and
``limits.TX_GOSSIP_BYTES`` transaction bytes (one larger transaction goes alone), and leaves
after ``TX_FLUSH_SECONDS`` at the latest. Incoming ones go through the node's own admission
(each node verifies each signature once); that runs as a task whose outcome is always
collected: a storage failure halts the node, anything else is logged.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine, Sequence
from typing import Any

from consortia.errors import ConsortiaError, StorageError
from consortia.limits import TX_GOSSIP_BYTES, item_bytes
from consortia.node.net.links import Links
from consortia.node.wire import TxsMsg

log = logging.getLogger("consortia.network")

TX_FLUSH_SECONDS = 0.01
TX_FLUSH_COUNT = 2000


class TxGossip:
    def __init__(self, links: Links) -> None:
        self.links = links
        self._outbox: list[bytes] = []
        self._outbox_bytes = 0
        self._flush_handle: asyncio.TimerHandle | None = None
        self.tasks: set[asyncio.Task[Any]] = set()
        """Admission of peers' transactions still running (the simulator cancels them on a crash)."""

    # --- out ---------------------------------------------------------------------------------

    def spread(self, raws: Sequence[bytes]) -> None:
        """Queue newly admitted transactions for the other validators (batched)."""
        if self.links.frames is None:
            return
        for raw in raws:
            if self._outbox and (
                self._outbox_bytes + len(raw) > TX_GOSSIP_BYTES or len(self._outbox) >= TX_FLUSH_COUNT
            ):
                self.flush()
            self._outbox.append(raw)
            self._outbox_bytes += item_bytes(raw)
        if len(self._outbox) >= TX_FLUSH_COUNT:
            self.flush()
        elif self._outbox and self._flush_handle is None:
            loop = asyncio.get_running_loop()
            self._flush_handle = loop.call_later(TX_FLUSH_SECONDS, self.flush)

    def flush(self) -> None:
        if self._flush_handle is not None:
            self._flush_handle.cancel()
        self._flush_handle = None
        outbox, self._outbox = self._outbox, []
        self._outbox_bytes = 0
        if outbox:
            self.links.broadcast(TxsMsg(outbox))

    # --- in ----------------------------------------------------------------------------------

    def on_txs(self, sender: int, msg: TxsMsg) -> None:
        self._spawn(self.links.node.submit(msg.txs, from_peer=True))

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[Any]) -> None:
        """Collect a spawned task's outcome: a storage failure halts the node (if it has not
        already), anything else is logged — never an unobserved exception."""
        self.tasks.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is None:
            return
        if isinstance(exc, StorageError):
            if self.links.driver is not None:
                self.links.driver.halt(exc)
        elif isinstance(exc, ConsortiaError):
            log.warning("passing on transactions failed: %s", exc.message)
        else:
            log.error("passing on transactions failed", exc_info=exc)

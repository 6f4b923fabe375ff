"""A bounded per-peer outbox that never blocks the sender: when full, the oldest item goes."""

from __future__ import annotations

import asyncio
from collections import deque


class SendQueue:
    """FIFO of payloads waiting for a link; ``put`` is synchronous, ``wait`` is for the writer.

    Must be used from the event loop thread (``asyncio.Event`` is not thread-safe).
    """

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError(f"send queue limit must be >= 1, got {limit}")
        self.limit = limit
        self.dropped = 0
        self._items: deque[bytes] = deque()
        self._ready = asyncio.Event()

    def put(self, payload: bytes) -> None:
        """Enqueue ``payload``; if the queue is full, drop the oldest item and count it."""
        if len(self._items) >= self.limit:
            self._items.popleft()
            self.dropped += 1
        self._items.append(payload)
        self._ready.set()

    def take(self, max_items: int, max_bytes: int) -> list[bytes]:
        """Pop up to ``max_items`` payloads totalling about ``max_bytes`` (always at least one if any)."""
        batch: list[bytes] = []
        size = 0
        while self._items and len(batch) < max_items:
            if batch and size + len(self._items[0]) > max_bytes:
                break
            payload = self._items.popleft()
            batch.append(payload)
            size += len(payload)
        if not self._items:
            self._ready.clear()
        return batch

    async def wait(self) -> None:
        """Return once the queue is not empty."""
        while not self._items:
            self._ready.clear()
            await self._ready.wait()

    def __len__(self) -> int:
        return len(self._items)

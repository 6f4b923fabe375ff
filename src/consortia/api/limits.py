"""Budgets of the API edge (issue 14): token buckets per caller, and concurrent streams per caller.

Pure logic, a clock passed in; the ASGI side is :mod:`consortia.api.edge`.

A *budget* is a token bucket per key (an identity's address, or a source address): ``burst``
tokens at most, refilled at ``per_second``; a request takes one token, or is refused with the
seconds until one is back (the ``Retry-After`` of a 429). Memory is bounded: at most
``max_keys`` buckets are kept, least recently used dropped first. A bucket idle for
``burst / per_second`` seconds is full again, so dropping it loses nothing; dropping a busier one
(only when more than ``max_keys`` callers are active at once) gives its caller a fresh burst.

*Stream slots* count the event streams a caller holds open; past ``limit`` a new one is refused
until one closes.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable

from consortia.errors import RateLimited, TooManyStreams

__all__ = ["MAX_KEYS", "Budget", "RateLimited", "StreamSlots", "TooManyStreams", "refusal", "retry_after"]

MAX_KEYS = 100_000
"""Buckets one budget keeps (a bound on memory whatever the number of callers)."""


class Budget:
    """Token buckets of one kind of request, one per key."""

    def __init__(self, name: str, per_second: int, burst: int, *,
                 clock: Callable[[], float] = time.monotonic, max_keys: int = MAX_KEYS) -> None:  # fmt: skip
        if per_second <= 0 or burst < 1:
            raise ValueError(f"budget {name}: per_second must be > 0 and burst >= 1")
        self.name = name
        self.per_second = per_second
        self.burst = burst
        self.clock = clock
        self.max_keys = max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        """key -> (tokens at ``stamp``, stamp), most recently used last."""

    def __len__(self) -> int:
        return len(self._buckets)

    def _tokens(self, key: str, now: float) -> float:
        held = self._buckets.get(key)
        if held is None:
            return float(self.burst)
        tokens, stamp = held
        return min(float(self.burst), tokens + (now - stamp) * self.per_second)

    def wait(self, key: str) -> float:
        """Seconds until ``key`` may take a token (0: now), taking nothing."""
        tokens = self._tokens(key, self.clock())
        return 0.0 if tokens >= 1.0 else (1.0 - tokens) / self.per_second

    def take(self, key: str) -> float:
        """Take a token for ``key``: 0.0 if taken, else the seconds until one is back."""
        now = self.clock()
        tokens = self._tokens(key, now)
        if tokens < 1.0:
            return (1.0 - tokens) / self.per_second
        self._buckets[key] = (tokens - 1.0, now)
        self._buckets.move_to_end(key)
        while len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)
        return 0.0

    def charge(self, key: str) -> None:
        """:meth:`take`, refusing with :class:`RateLimited` when the bucket is empty."""
        wait = self.take(key)
        if wait > 0:
            raise refusal(self, wait)


def retry_after(wait: float) -> int:
    """Whole seconds a client should wait (``Retry-After`` is an integer, at least 1)."""
    return max(1, math.ceil(wait))


def refusal(budget: Budget, wait: float) -> RateLimited:
    return RateLimited(
        f"too many {budget.name} requests: at most {budget.per_second} a second (bursts of "
        f"{budget.burst}); retry after {retry_after(wait)} s",
        budget=budget.name, retry_after_s=retry_after(wait),
    )


class StreamSlots:
    """Open event streams per key, at most ``limit`` each."""

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError("streams per caller must be at least 1")
        self.limit = limit
        self._open: dict[str, int] = {}

    def held(self, key: str) -> int:
        return self._open.get(key, 0)

    def acquire(self, key: str) -> None:
        held = self._open.get(key, 0)
        if held >= self.limit:
            raise TooManyStreams(
                f"this caller already holds {held} event streams open, the most a node allows; "
                "close one first", limit=self.limit,
            )
        self._open[key] = held + 1

    def release(self, key: str) -> None:
        held = self._open.get(key, 0)
        if held <= 1:
            self._open.pop(key, None)
        else:
            self._open[key] = held - 1

"""Exponential reconnect backoff with jitter from an injectable random source."""

from __future__ import annotations

import random


class Backoff:
    """Delays ``initial, 2*initial, ... , maximum`` each scaled by a jitter factor in [0.5, 1.0].

    The jitter keeps nodes that lost a link at the same moment from redialling in lockstep; pass a
    seeded ``random.Random`` for reproducible delays.
    """

    def __init__(self, initial: float = 0.1, maximum: float = 5.0, rng: random.Random | None = None) -> None:
        if not 0 < initial <= maximum:
            raise ValueError(f"backoff needs 0 < initial <= maximum, got {initial} and {maximum}")
        self.initial = initial
        self.maximum = maximum
        self._rng = rng if rng is not None else random.Random()
        self._next = initial

    def next_delay(self) -> float:
        """The delay before the next attempt; each call doubles the base, up to ``maximum``."""
        base = self._next
        self._next = min(self._next * 2, self.maximum)
        return base * (0.5 + 0.5 * self._rng.random())

    def reset(self) -> None:
        """Start again from ``initial`` (after a link that stayed up)."""
        self._next = self.initial

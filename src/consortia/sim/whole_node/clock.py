"""Each simulated node's clocks, derived from the loop's virtual time with its own skew and drift."""

from __future__ import annotations

import asyncio

from consortia.sim.whole_node.homes import GENESIS_TIME_MS


class SimClock:
    """A node's wall clock runs ``offset_ms`` off true time and gains ``drift`` (e.g. 0.01 = 1%)
    per unit of time; its monotonic clock drifts alike (both come from one oscillator)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, offset_ms: int, drift: float) -> None:
        self._loop = loop
        self.offset_ms = offset_ms
        self.drift = drift

    def monotonic(self) -> float:
        return self._loop.time() * (1.0 + self.drift)

    def now_ms(self) -> int:
        return GENESIS_TIME_MS + self.offset_ms + int(self.monotonic() * 1000)

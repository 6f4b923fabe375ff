"""A deterministic asyncio event loop on virtual time.

``time()`` is a number the loop owns. When nothing is ready to run, the loop does not sleep: it
moves its clock straight to the next timer. No I/O, no threads, no self-pipe: every callback is
a timer or a ``call_soon``, run in the order asyncio always runs them (FIFO within an iteration,
timers by due time then by scheduling order), so one seed gives one schedule.
"""

from __future__ import annotations

import asyncio
import selectors
from collections.abc import Callable, Mapping
from typing import Any


class Idle(RuntimeError):
    """Nothing is ready and no timer is due ever again: the simulation would sleep forever."""


class _Clockwork(selectors.BaseSelector):
    """Stands in for the OS selector: "waiting" for ``timeout`` moves the clock to the next timer."""

    def __init__(self, loop: VirtualTimeLoop) -> None:
        self._loop = loop

    def register(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        raise NotImplementedError("the virtual-time loop does no I/O")

    def unregister(self, fileobj: Any) -> selectors.SelectorKey:
        raise NotImplementedError("the virtual-time loop does no I/O")

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        self._loop._advance(timeout)
        return []

    def get_map(self) -> Mapping[Any, selectors.SelectorKey]:
        return {}

    def close(self) -> None:
        pass


class VirtualTimeLoop(asyncio.BaseEventLoop):
    def __init__(self) -> None:
        super().__init__()
        self._now = 0.0
        self._selector = _Clockwork(self)
        self.iterations = 0
        self.after_iteration: Callable[[], None] | None = None

    def time(self) -> float:
        return self._now

    def _advance(self, timeout: float | None) -> None:
        if timeout is None:
            raise Idle("no callback is ready and no timer is scheduled")
        if timeout > 0:
            scheduled: list[asyncio.TimerHandle] = self._scheduled  # type: ignore[attr-defined]
            self._now = max(self._now, scheduled[0].when()) if scheduled else self._now + timeout

    def _run_once(self) -> None:
        super()._run_once()  # type: ignore[misc]
        self.iterations += 1
        if self.after_iteration is not None:
            self.after_iteration()

    def _process_events(self, event_list: list[Any]) -> None:
        pass

    def _write_to_self(self) -> None:
        pass

"""Shared by the in-process transport tests: quick link timings and an asyncio runner that
checks nothing is left running."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from consortia.p2p.timings import LinkTimings


def fast_timings(idle_timeout: float) -> LinkTimings:
    """Link timings shrunk for tests on 127.0.0.1."""
    return LinkTimings(
        ping_interval=0.1,
        idle_timeout=idle_timeout,
        connect_timeout=1.0,
        handshake_timeout=1.0,
        backoff_initial=0.05,
        backoff_max=0.2,
        stable_after=0.2,
        close_timeout=0.5,
    )


def run(coro: Coroutine[Any, Any, None], timeout: float = 20.0) -> None:
    """Run ``coro`` to the end; fail if it overruns or leaves tasks behind after stop()."""

    async def main() -> None:
        await asyncio.wait_for(coro, timeout)
        leftover = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        assert leftover == [], f"tasks left after stop(): {leftover}"

    asyncio.run(main())


async def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.02)

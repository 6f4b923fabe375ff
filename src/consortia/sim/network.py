"""The simulated network: who can reach whom, and what happens to each message on the way.

All randomness comes from the simulation's seeded ``random.Random``; nothing here iterates over
a set or a hash-ordered structure, so a seed replays exactly.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class LinkProfile:
    """Fault rates on every link while the network is unstable (before GST); the simulators
    (consensus core and whole node) share it."""

    loss: float
    duplicate: float
    min_delay_ms: int
    max_delay_ms: int
    spike: float = 0.0
    """Chance that a frame is held back ten times longer (a burst of reordering)."""

    def describe(self) -> str:
        return (f"loss={self.loss} dup={self.duplicate} delay={self.min_delay_ms}.."
                f"{self.max_delay_ms}ms spike={self.spike}")


class Network:
    """Partitions (groups plus one-way blocks) and per-message delay, loss and duplication."""

    def __init__(self, rng: random.Random, unstable: LinkProfile, stable: LinkProfile) -> None:
        self._rng = rng
        self._unstable = unstable
        self._stable = stable
        self.stable = False
        self._group: dict[int, int] = {}
        self._one_way_blocked: dict[tuple[int, int], None] = {}
        self.description = "connected"

    def heal(self) -> None:
        self._group = {}
        self._one_way_blocked = {}
        self.description = "connected"

    def set_groups(self, group: dict[int, int], description: str) -> None:
        self._group = dict(group)
        self._one_way_blocked = {}
        self.description = description

    def block_links(self, links: list[tuple[int, int]], description: str) -> None:
        """Drop every message on the given one-way links (src, dst); everything else flows."""
        self._group = {}
        self._one_way_blocked = dict.fromkeys(links)
        self.description = description

    def connected(self, src: int, dst: int) -> bool:
        if (src, dst) in self._one_way_blocked:
            return False
        return self._group.get(src, 0) == self._group.get(dst, 0)

    def delays(self, src: int, dst: int) -> list[int]:
        """Delivery delays for one message from ``src`` to ``dst``: [] if lost, two if duplicated."""
        if not self.connected(src, dst):
            return []
        profile = self._stable if self.stable else self._unstable
        rng = self._rng
        if profile.loss and rng.random() < profile.loss:
            return []
        out = [rng.randint(profile.min_delay_ms, profile.max_delay_ms)]
        if profile.duplicate and rng.random() < profile.duplicate:
            out.append(rng.randint(profile.min_delay_ms, profile.max_delay_ms))
        return out

"""What the lab's switch does with one Ethernet frame: where it goes, when, or whether it is lost.

Pure (clock and randomness come in), so it is tested apart from the TAP devices. Hosts are
ports ``0..n-1``; the operator port (the machine running the tests) is ``n``: always connected,
never delayed, so measurements see the network between hosts and not the path to them.

The impairment is netem's: each frame between two hosts is delayed ``delay_ms`` ± uniform
``jitter_ms`` once (one way; a round trip gets it twice) and lost with ``loss_percent``. Unlike
netem with jitter, frames on one (source, destination) pair keep their order (a WAN path
rarely reorders; reordering every few frames would measure TCP's fast retransmit instead).
A partition puts hosts into groups; frames cross no group boundary.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

BROADCAST = b"\xff" * 6
MAC_BYTES = 6
MIN_FRAME = 14


@dataclass(frozen=True)
class Impairment:
    delay_ms: float = 0.0
    jitter_ms: float = 0.0
    loss_percent: float = 0.0

    def __post_init__(self) -> None:
        if self.delay_ms < 0 or not 0 <= self.jitter_ms <= self.delay_ms:
            raise ValueError("delay and jitter must be >= 0 and jitter at most the delay")
        if not 0 <= self.loss_percent < 100:
            raise ValueError("loss must be a percentage in [0, 100)")

    @classmethod
    def parse(cls, text: str) -> Impairment:
        """netem's words: ``"50ms 10ms loss 1%"`` (delay, optional jitter, optional loss)."""
        words = text.replace("delay", " ").split()
        delay = jitter = loss = 0.0
        times: list[float] = []
        i = 0
        while i < len(words):
            word = words[i]
            if word == "loss" and i + 1 < len(words):
                loss = float(words[i + 1].rstrip("%"))
                i += 2
                continue
            if not word.endswith("ms"):
                raise ValueError(f"netem text {text!r}: expected '<n>ms' or 'loss <p>%', got {word!r}")
            times.append(float(word[:-2]))
            i += 1
        if len(times) > 2:
            raise ValueError(f"netem text {text!r}: at most a delay and a jitter")
        if times:
            delay = times[0]
        if len(times) == 2:
            jitter = times[1]
        return cls(delay, jitter, loss)


@dataclass
class Wire:
    hosts: int
    rng: random.Random = field(default_factory=random.Random)
    impairment: Impairment = field(default_factory=Impairment)
    groups: dict[int, int] = field(default_factory=dict)
    """host -> group while partitioned (empty: one network)."""
    _macs: dict[bytes, int] = field(default_factory=dict)
    _last: dict[tuple[int, int], float] = field(default_factory=dict)
    lost: int = 0
    blocked: int = 0

    @property
    def operator(self) -> int:
        return self.hosts

    def partition(self, groups: list[list[int]]) -> None:
        """Split the hosts into ``groups`` (a host in none is alone)."""
        seen = [h for g in groups for h in g]
        if len(set(seen)) != len(seen) or any(not 0 <= h < self.hosts for h in seen):
            raise ValueError(f"groups must name distinct hosts in [0, {self.hosts}), got {groups}")
        self.groups = {h: k for k, g in enumerate(groups) for h in g}
        for h in range(self.hosts):
            self.groups.setdefault(h, len(groups) + h)

    def heal(self) -> None:
        self.groups = {}

    def connected(self, a: int, b: int) -> bool:
        if a == self.operator or b == self.operator or not self.groups:
            return True
        return self.groups[a] == self.groups[b]

    def route(self, src: int, frame: bytes, now: float) -> list[tuple[float, int]]:
        """(when, port) for each delivery of ``frame`` that came in on port ``src`` at ``now``
        (seconds)."""
        if len(frame) < MIN_FRAME:
            return []
        dst_mac, src_mac = frame[:MAC_BYTES], frame[MAC_BYTES:2 * MAC_BYTES]
        if not src_mac[0] & 1:
            self._macs[src_mac] = src
        port = self._macs.get(dst_mac)
        targets = [port] if port is not None and dst_mac != BROADCAST else [
            p for p in range(self.hosts + 1) if p != src
        ]
        out: list[tuple[float, int]] = []
        for dst in targets:
            if dst == src:
                continue
            if not self.connected(src, dst):
                self.blocked += 1
                continue
            if src == self.operator or dst == self.operator:
                out.append((now, dst))
                continue
            imp = self.impairment
            if imp.loss_percent and self.rng.random() * 100 < imp.loss_percent:
                self.lost += 1
                continue
            delay = imp.delay_ms + (self.rng.uniform(-imp.jitter_ms, imp.jitter_ms) if imp.jitter_ms else 0)
            when = max(now + delay / 1000, self._last.get((src, dst), 0.0))
            self._last[(src, dst)] = when
            out.append((when, dst))
        return out

"""The simulated network between node stacks: the ``FrameTransport`` each ``PeerNetwork`` uses.

Frames are delivered by ``loop.call_later`` on the virtual-time loop with a seeded delay (so
they reorder), may be lost or duplicated, and do not cross partitions (groups, or one-way
blocked links). After the network heals (GST) there is no loss and delays are short. All
randomness comes from the simulation's seeded ``random.Random`` and nothing iterates over a
hash-ordered container, so a seed replays exactly.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
from collections.abc import Callable

from consortia.sim.network import LinkProfile

Receiver = Callable[[int, bytes], None]
_CONSENSUS_TAGS = (b"proposal", b"vote", b"timeout")


def is_consensus(payload: bytes) -> bool:
    """A proposal, vote or timeout frame (read from the envelope's tag, without decoding)."""
    head = payload[:12]
    return any(tag in head for tag in _CONSENSUS_TAGS)


class SimNet:
    def __init__(self, loop: asyncio.AbstractEventLoop, rng: random.Random, nodes: int,
                 unstable: LinkProfile, stable: LinkProfile) -> None:
        self._loop = loop
        self._rng = rng
        self.nodes = nodes
        self._unstable = unstable
        self._stable = stable
        self.stable = False
        self.receivers: list[Receiver | None] = [None] * nodes
        self._group: dict[int, int] = {}
        self._blocked: dict[tuple[int, int], None] = {}
        self.trace = hashlib.blake2b(digest_size=16)
        self.frames_sent = 0
        self.frames_delivered = 0

    # --- partitions ------------------------------------------------------------------------

    def heal(self) -> None:
        self._group = {}
        self._blocked = {}

    def split(self, group: dict[int, int]) -> None:
        self._blocked = {}
        self._group = dict(group)

    def block(self, links: list[tuple[int, int]]) -> None:
        self._group = {}
        self._blocked = dict.fromkeys(links)

    def reachable(self, src: int, dst: int) -> bool:
        if (src, dst) in self._blocked:
            return False
        return self._group.get(src, 0) == self._group.get(dst, 0)

    # --- frames ------------------------------------------------------------------------------

    def transmit(self, src: int, dst: int, payload: bytes) -> None:
        self.frames_sent += 1
        if not self.reachable(src, dst):
            return
        rng = self._rng
        profile = self._stable if self.stable else self._unstable
        if profile.loss and rng.random() < profile.loss:
            return
        copies = 2 if profile.duplicate and rng.random() < profile.duplicate else 1
        for _ in range(copies):
            delay = rng.randint(profile.min_delay_ms, profile.max_delay_ms)
            if profile.spike and rng.random() < profile.spike:
                delay *= 10
            self._loop.call_later(delay / 1000, self._deliver, src, dst, payload)

    def _deliver(self, src: int, dst: int, payload: bytes) -> None:
        receiver = self.receivers[dst]
        if receiver is None:
            return  # the node is down: the frame is lost with its connection
        self.frames_delivered += 1
        self.trace.update(b"%d>%d@%r:" % (src, dst, self._loop.time()))
        self.trace.update(payload)
        receiver(src, payload)


class SimFrames:
    """One incarnation's link to the others; inert once that incarnation is dead.

    ``crash_after``: the process dies right after its consensus frame (proposal, vote, timeout)
    number ``crash_after`` left: a crash between two things a node does, e.g. after a message
    and before the next write."""

    def __init__(self, net: SimNet, me: int, on_send: Callable[[int, int, bytes], None],
                 crash_after: int | None = None, on_crash: Callable[[], None] | None = None) -> None:
        self._net = net
        self._me = me
        self._on_send = on_send
        self._crash_after = crash_after
        self._on_crash = on_crash
        self.sent = 0
        self.dead = False

    def send(self, peer: int, payload: bytes) -> None:
        if self.dead or peer == self._me or not 0 <= peer < self._net.nodes:
            return
        self._on_send(self._me, peer, payload)
        self._net.transmit(self._me, peer, payload)
        if is_consensus(payload):
            self.sent += 1
            if self.sent == self._crash_after and self._on_crash is not None:
                self._on_crash()

    def disarm(self) -> None:
        self._crash_after = None

    def broadcast(self, payload: bytes) -> None:
        for peer in range(self._net.nodes):
            if peer != self._me:
                self.send(peer, payload)

    def connected_peers(self) -> list[int]:
        return [p for p in range(self._net.nodes)
                if p != self._me and self._net.reachable(self._me, p)]

"""The lab's switch: one process owning a TAP device per host (and one for the operator),
forwarding Ethernet frames between them as :class:`~consortia.netlab.wire.Wire` decides.

    python -m consortia.netlab.switch TAP0 TAP1 ... OPERATOR_TAP

It creates the TAP devices (in its own network namespace; the lab then moves each into its
host's namespace: the file descriptors stay attached), prints ``{"ready": true}`` and obeys one
JSON command per line on standard input, answering each with one JSON line:
``{"impair": "50ms 10ms loss 1%"}``, ``{"partition": [[0, 1], [2, 3]]}``, ``{"heal": true}``,
``{"stats": true}``. It exits when standard input closes.

This stands in for ``tc qdisc ... netem`` + a bridge where the kernel has no netem (a kernel
built without ``CONFIG_NET_SCH_NETEM``), and also carries partitions, so a test needs nothing
but iproute2 and ``/dev/net/tun``.
"""

from __future__ import annotations

import contextlib
import fcntl
import heapq
import json
import os
import select
import struct
import sys
import time
from typing import Any

from consortia.netlab.wire import Impairment, Wire

TUNSETIFF = 0x400454CA
IFF_TAP = 0x0002
IFF_NO_PI = 0x1000
MAX_FRAME = 65_536
MAX_QUEUED = 200_000


def open_tap(name: str) -> int:
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TAP | IFF_NO_PI))
    return fd


def obey(wire: Wire, command: dict[str, Any]) -> dict[str, Any]:
    if "impair" in command:
        wire.impairment = Impairment.parse(str(command["impair"]))
    elif "partition" in command:
        wire.partition([[int(h) for h in group] for group in command["partition"]])
    elif "heal" in command:
        wire.heal()
    elif "stats" not in command:
        raise ValueError(f"unknown command {command}")
    return {"ok": True, "lost": wire.lost, "blocked": wire.blocked,
            "impairment": vars(wire.impairment), "groups": wire.groups}


def serve(names: list[str]) -> None:
    fds = [open_tap(name) for name in names]
    port_of = {fd: port for port, fd in enumerate(fds)}
    wire = Wire(hosts=len(fds) - 1)
    pending: list[tuple[float, int, int, bytes]] = []
    seq = 0
    stdin = sys.stdin.fileno()
    print(json.dumps({"ready": True, "taps": names}), flush=True)
    buffer = b""
    while True:
        now = time.monotonic()
        while pending and pending[0][0] <= now:
            _, _, port, frame = heapq.heappop(pending)
            with contextlib.suppress(OSError):  # a full or downed device drops the frame
                os.write(fds[port], frame)
        timeout = max(0.0, pending[0][0] - now) if pending else 0.5
        readable, _, _ = select.select([stdin, *fds], [], [], timeout)
        for fd in readable:
            if fd == stdin:
                chunk = os.read(stdin, 65_536)
                if not chunk:
                    return
                buffer += chunk
                while b"\n" in buffer:
                    line, buffer = buffer.split(b"\n", 1)
                    try:
                        answer = obey(wire, json.loads(line))
                    except (ValueError, TypeError, KeyError) as exc:
                        answer = {"ok": False, "error": str(exc)}
                    print(json.dumps(answer), flush=True)
                continue
            for _ in range(64):  # drain a burst without starving the others
                try:
                    frame = os.read(fd, MAX_FRAME)
                except (BlockingIOError, OSError):
                    break
                arrived = time.monotonic()
                for when, port in wire.route(port_of[fd], frame, arrived):
                    if len(pending) < MAX_QUEUED:
                        heapq.heappush(pending, (when, seq, port, frame))
                        seq += 1


def main() -> None:
    names = sys.argv[1:]
    if len(names) < 2:
        raise SystemExit("usage: python -m consortia.netlab.switch TAP... OPERATOR_TAP")
    serve(names)


if __name__ == "__main__":
    main()

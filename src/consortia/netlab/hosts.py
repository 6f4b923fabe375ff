"""Namespaced hosts on one machine: each host a Linux network namespace with its own address,
all joined by the lab's switch (:mod:`consortia.netlab.switch`), which delays, drops and
partitions the traffic between them; the operator (this process) reaches every host unimpaired.

    with Lab(4) as lab:
        lab.impair("50ms 10ms loss 1%")
        proc = lab.popen(0, ["consortia", "node", "start", ...])
        lab.partition([[0, 1], [2, 3]]); ...; lab.heal()

Needs root, iproute2 (``ip``) and ``/dev/net/tun``; :func:`unavailable_reason` says what is
missing. Everything a lab makes (namespaces, TAP devices, the switch) is removed by
:meth:`Lab.close`, which the context manager calls even when the body fails; a lab left behind by
a killed process is removed by the next one (:func:`remove_stale_labs`).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

PREFIX = "czlab"
SUBNET_BASE = "10.231"
OPERATOR_HOST = 254


class LabUnavailable(RuntimeError):
    """This machine cannot run namespaced hosts; the message says exactly why."""


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30)
    if check and proc.returncode != 0:
        raise LabUnavailable(f"`ip {' '.join(args)}` failed: {proc.stderr.strip()}")
    return proc


def unavailable_reason() -> str | None:
    """None if namespaced hosts work here, else what is missing."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    if shutil.which("ip") is None:
        return "iproute2's `ip` is not installed"
    if not Path("/dev/net/tun").exists():
        return "/dev/net/tun is missing (kernel without CONFIG_TUN)"
    probe = f"{PREFIX}{os.getpid()}probe"
    made = _ip("netns", "add", probe, check=False)
    if made.returncode != 0:
        return f"`ip netns add` fails: {made.stderr.strip()}"
    _ip("netns", "del", probe, check=False)
    return None


def remove_stale_labs() -> list[str]:
    """Delete the namespaces of labs whose process is gone; their names."""
    listed = _ip("netns", "list", check=False).stdout.split("\n")
    removed = []
    for line in listed:
        name = line.split(" ")[0]
        if not name.startswith(PREFIX):
            continue
        digits = "".join(c for c in name[len(PREFIX):].split("h")[0] if c.isdigit())
        if digits and not Path(f"/proc/{digits}").exists():
            _ip("netns", "del", name, check=False)
            removed.append(name)
    return removed


class Lab:
    def __init__(self, hosts: int) -> None:
        if not 1 <= hosts <= 64:
            raise ValueError("a lab has 1 to 64 hosts")
        self.hosts = hosts
        tag = f"{PREFIX}{os.getpid()}"
        self.namespaces = [f"{tag}h{i}" for i in range(hosts)]
        self._taps = [f"{tag}t{i}"[-15:] for i in range(hosts)] + [f"{tag}op"[-15:]]
        self.subnet = f"{SUBNET_BASE}.{os.getpid() % 250}"
        self._switch: subprocess.Popen[str] | None = None

    def address(self, host: int) -> str:
        return f"{self.subnet}.{host + 1}"

    @property
    def operator_address(self) -> str:
        return f"{self.subnet}.{OPERATOR_HOST}"

    def __enter__(self) -> Lab:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def start(self) -> None:
        reason = unavailable_reason()
        if reason is not None:
            raise LabUnavailable(reason)
        remove_stale_labs()
        self._switch = subprocess.Popen(
            [sys.executable, "-m", "consortia.netlab.switch", *self._taps],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )
        try:
            assert self._switch.stdout is not None
            line = self._switch.stdout.readline()
            if not line or not json.loads(line).get("ready"):
                raise LabUnavailable(f"the lab's switch did not start: {line!r}")
            for i, ns in enumerate(self.namespaces):
                _ip("netns", "add", ns)
                _ip("link", "set", self._taps[i], "netns", ns)
                _ip("-n", ns, "addr", "add", f"{self.address(i)}/24", "dev", self._taps[i])
                _ip("-n", ns, "link", "set", self._taps[i], "up")
                _ip("-n", ns, "link", "set", "lo", "up")
            _ip("addr", "add", f"{self.operator_address}/24", "dev", self._taps[-1])
            _ip("link", "set", self._taps[-1], "up")
        except BaseException:
            self.close()
            raise

    def popen(self, host: int, argv: Sequence[str], **kwargs: Any) -> subprocess.Popen[str]:
        """Run ``argv`` inside host ``host``'s namespace (the process is ``argv`` itself)."""
        return subprocess.Popen(["ip", "netns", "exec", self.namespaces[host], *argv], text=True, **kwargs)

    def command(self, **command: Any) -> dict[str, Any]:
        switch = self._switch
        if switch is None or switch.stdin is None or switch.stdout is None:
            raise RuntimeError("the lab is not running")
        switch.stdin.write(json.dumps(command) + "\n")
        switch.stdin.flush()
        answer = dict(json.loads(switch.stdout.readline()))
        if not answer.get("ok"):
            raise ValueError(f"the lab's switch refused {command}: {answer.get('error')}")
        return answer

    def impair(self, netem: str) -> dict[str, Any]:
        """netem's words between hosts, e.g. ``"50ms 10ms loss 1%"`` (``""``: none)."""
        return self.command(impair=netem)

    def partition(self, groups: list[list[int]]) -> dict[str, Any]:
        return self.command(partition=groups)

    def isolate(self, host: int) -> dict[str, Any]:
        return self.partition([[h for h in range(self.hosts) if h != host]])

    def heal(self) -> dict[str, Any]:
        return self.command(heal=True)

    def close(self) -> None:
        switch, self._switch = self._switch, None
        if switch is not None:
            if switch.stdin is not None:
                switch.stdin.close()
            try:
                switch.wait(timeout=10)
            except subprocess.TimeoutExpired:
                switch.kill()
                switch.wait()
            if switch.stdout is not None:
                switch.stdout.close()
        for ns in self.namespaces:
            _ip("netns", "del", ns, check=False)

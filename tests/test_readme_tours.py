"""The README's two tours and docs/first-contract.md run as written, on a fresh directory, one
after the other as a new user would (issue 16).

The blocks run are those marked ``<!-- tour: NAME -->`` in the markdown. Each command goes to one
bash session per tour (so ``ALICE=...`` and ``$N`` carry on, ``source .venv/bin/activate`` works
through a ``.venv`` link), with its exit code and output checked. What differs from a user's run,
and only that: the networks listen on free ports (8600.. and 8700.. and the dev chain's 8545 are
mapped to them), ``./scripts/start.sh`` is the ``consortia up`` it runs, a command a user runs "in
another terminal" (``consortia up``, ``consortia dev``) runs in the background until the tour
ends, placeholders such as ``0x<tx hash printed above>`` are filled from what the tour printed,
and first-contract.md's "add --node" is ``CONSORTIA_NODE``.
"""

from __future__ import annotations

import contextlib
import os
import queue
import re
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from tests.procs import free_port_base

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent
VENV = Path(os.environ.get("VIRTUAL_ENV") or ROOT / ".venv")
MARK = re.compile(r"<!--\s*tour:\s*([\w-]+)")
HEX64 = re.compile(r"0x[0-9a-f]{64}")
ADDRESS = re.compile(r"0x[0-9a-f]{40}(?![0-9a-f])")


@dataclass
class Step:
    command: str
    expected: list[str] = field(default_factory=list)
    """A transcript's lines after ``$ command`` (what the page says it prints)."""


def tour(markdown: Path, name: str) -> list[Step]:
    """The commands of every block of ``markdown`` marked ``<!-- tour: name -->``, in order:
    continuation lines joined, comment lines dropped, ``$ `` transcripts with their output."""
    lines = markdown.read_text().splitlines()
    steps: list[Step] = []
    i = 0
    while i < len(lines):
        found = MARK.search(lines[i])
        i += 1
        if not found or found.group(1) != name:
            continue
        assert lines[i].startswith("```"), f"{markdown.name}:{i + 1}: a tour mark must precede a block"
        i += 1
        block: list[str] = []
        while not lines[i].startswith("```"):
            block.append(lines[i])
            i += 1
        steps += block_steps(block)
    assert steps, f"no block marked tour: {name} in {markdown}"
    return steps


def block_steps(block: list[str]) -> list[Step]:
    steps: list[Step] = []
    transcript = any(line.startswith("$ ") for line in block)
    pending = ""
    for line in block:
        if transcript and not line.startswith("$ "):
            steps[-1].expected.append(line)
            continue
        line = line.removeprefix("$ ") if transcript else line
        if pending:
            line = pending + " " + line.strip()
            pending = ""
        if line.rstrip().endswith("\\"):
            pending = line.rstrip()[:-1].rstrip()
            continue
        if line.strip() and not line.lstrip().startswith("#"):
            steps.append(Step(line))
    return steps


class Shell:
    """One bash session: commands in, each one's exit code and output (stdout and stderr) out."""

    def __init__(self, cwd: Path, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            ["bash", "--norc", "--noprofile"], cwd=cwd, env=env, text=True, bufsize=1,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)

    def run(self, command: str, timeout: float = 120) -> tuple[int, str]:
        marker = f"@@{uuid.uuid4().hex}@@"
        assert self.proc.stdin is not None
        self.proc.stdin.write(f"{command}\n__rc=$?; echo; echo {marker}$__rc\n")
        self.proc.stdin.flush()
        out: list[str] = []
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"`{command}` did not finish in {timeout} s:\n{''.join(out)}") from None
            if line.startswith(marker):
                return int(line[len(marker):]), "".join(out).removesuffix("\n")
            out.append(line)

    def close(self) -> None:
        stop_group(self.proc)


def stop_group(proc: subprocess.Popen[str]) -> None:
    """Ctrl-C to the process and everything it started, then a kill if it lingers."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
    else:
        with contextlib.suppress(ProcessLookupError):  # its children may still run
            os.killpg(proc.pid, signal.SIGKILL)


class Background:
    """A command "in another terminal" (with the project's ``.venv`` activated): started, and
    waited for until it says it is ready."""

    def __init__(self, command: str, cwd: Path, env: dict[str, str], ready: str) -> None:
        self.log = cwd / f"background-{uuid.uuid4().hex[:8]}.log"
        self.out = self.log.open("w")
        self.proc = subprocess.Popen(
            ["bash", "-c", f"source .venv/bin/activate && {command}"], cwd=cwd, env=env, text=True,
            stdout=self.out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
        )
        deadline = time.monotonic() + 90
        while ready not in self.log.read_text():
            assert self.proc.poll() is None, f"`{command}` stopped:\n{self.log.read_text()}"
            assert time.monotonic() < deadline, f"`{command}` not ready:\n{self.log.read_text()}"
            time.sleep(0.2)

    def stop(self) -> None:
        stop_group(self.proc)
        self.out.close()


@dataclass
class Tourist:
    """A new user in a fresh directory, with the project installed (``.venv``)."""

    home: Path
    ports: dict[int, int]
    env: dict[str, str]
    filled: dict[str, str] = field(default_factory=dict)
    background: list[Background] = field(default_factory=list)
    shell: Shell | None = None
    """One terminal for the whole visit: what a tour set (``source .venv/bin/activate``, ``$N``)
    is still set in the next."""

    def terminal(self) -> Shell:
        if self.shell is None:
            self.shell = Shell(self.home, self.env)
        return self.shell

    def rewrite(self, command: str) -> str:
        """The command with the tour's ports mapped to free ones and placeholders filled."""
        command = re.sub(r"\b(8[5-7]\d\d)\b", lambda m: str(self.ports.get(int(m[1]), m[1])), command)
        for placeholder, value in self.filled.items():
            command = command.replace(placeholder, value)
        left = re.findall(r"0x<[^>]*>", command)
        assert not left, f"no value for {left} in `{command}`"
        return command

    def start(self, command: str, ready: str) -> None:
        self.background.append(Background(self.rewrite(command), self.home, self.env, ready))

    def stop_all(self) -> None:
        while self.background:
            self.background.pop().stop()


Check = Callable[[str], None]


def settled(text: str) -> str:
    """``text`` with what differs from run to run made uniform: hex strings, then numbers."""
    return re.sub(r"\d+", "N", re.sub(r"0x[0-9a-f]*", "0xH", text))


def walk(tourist: Tourist, steps: list[Step], checks: dict[str, Check],
         fills: dict[str, tuple[str, re.Pattern[str]]], starts: dict[str, str]) -> list[str]:
    """Run ``steps`` in one shell: a command starting with a key of ``starts`` runs in the
    background until its ready text; ``checks[prefix]`` looks at a command's output; after a
    command starting with ``fills[placeholder][0]``, the placeholder is its first match."""
    shell = tourist.terminal()
    ran: list[str] = []
    try:
        for step in steps:
            start = next((ready for prefix, ready in starts.items() if step.command.startswith(prefix)), None)
            if start is not None:
                tourist.start(step.command, start)
                ran.append(step.command)
                continue
            command = tourist.rewrite(step.command)
            rc, out = shell.run(command)
            assert "Traceback" not in out, f"`{command}` printed a traceback:\n{out}"
            if step.expected:  # a transcript: the page shows what it prints (and whether it fails)
                fails = any(line.startswith(("failed", "error")) for line in step.expected)
                assert (rc != 0) == fails, f"`{command}` exited {rc}:\n{out}"
                for line in step.expected:
                    for part in re.split(r"…|\.\.\.", line):
                        part = settled(part.strip())
                        if len(part) > 3:
                            assert part in settled(out), f"`{command}`: {part!r} not in:\n{out}"
            else:
                assert rc == 0, f"`{command}` exited {rc}:\n{out}"
            for prefix, check in checks.items():
                if command.startswith(prefix):
                    check(out)
            for placeholder, (prefix, pattern) in fills.items():
                if command.startswith(prefix) and placeholder not in tourist.filled:
                    found = pattern.search(out)
                    assert found, f"`{command}` printed no value for {placeholder}:\n{out}"
                    tourist.filled[placeholder] = found.group(0)
            ran.append(command)
    finally:
        tourist.stop_all()
    return ran


def contains(*texts: str) -> Check:
    def check(out: str) -> None:
        for text in texts:
            assert text in out, f"{text!r} not in:\n{out}"
    return check


@pytest.fixture(scope="module")
def tourist(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tourist]:
    home = tmp_path_factory.mktemp("tourist")
    (home / ".venv").symlink_to(VENV)
    short = free_port_base(4, p2p_offset=100)
    perm = free_port_base(5, p2p_offset=100)
    dev = free_port_base(1)
    ports = {8600 + i: short + i for i in range(4)} | {8700 + i: perm + i for i in range(5)}
    ports[8545] = dev
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CONSORTIA_", "VIRTUAL_ENV"))}
    env |= {"CONSORTIA_KEY_PASSWORD": "tour password", "COLUMNS": "100", "PATH": os.environ["PATH"]}
    person = Tourist(home, ports, env)
    yield person
    person.stop_all()
    if person.shell is not None:
        person.shell.close()


def test_the_short_tour(tourist: Tourist) -> None:
    steps = tour(ROOT / "README.md", "short")
    # what ./scripts/start.sh runs (after installing): `consortia up --home .consortia`
    tourist.start("consortia up --home .consortia --base-port 8600", "stop with Ctrl-C")
    ran = walk(tourist, steps, checks={
        "consortia network status": contains("node0", "node3"),
        "consortia transfer": contains("committed"),
        "consortia balance": contains("1000"),
        "consortia tx ": contains("transfer", "sender"),
        "consortia verify": contains("valid"),
        "consortia sim": contains("all seeds clean"),
    }, fills={"0x<tx hash printed above>": ("consortia transfer", HEX64)}, starts={})
    assert any(c.startswith("consortia watch") for c in ran) and len(ran) == len(steps)
    assert (tourist.home / "erin.key").exists() and (tourist.home / "receipt.json").exists()


def test_the_permissioned_tour(tourist: Tourist) -> None:
    steps = tour(ROOT / "README.md", "permissioned")
    ran = walk(tourist, steps, checks={
        "consortia gov vote 1 --approve --key .consortia-perm/orgs/bank-a": contains("2 of 3", "1 more"),
        "consortia gov vote 1 --approve --key .consortia-perm/orgs/bank-b": contains("executed"),
        "consortia contract deploy tally": contains("deployed 'tally'"),
    }, fills={"0x<Erin's address>": ("consortia identity enroll", ADDRESS)},
        starts={"consortia up --home .consortia-perm": "stop with Ctrl-C"})
    assert len(ran) == len(steps)
    assert (tourist.home / "erin.key").exists() and (tourist.home / "erin-bank-a.key").exists()


def test_first_contract(tourist: Tourist) -> None:
    steps = tour(ROOT / "docs" / "first-contract.md", "first-contract")
    # the guide's "consortia dev" in another terminal, and its default node on 8545
    tourist.start("consortia dev --api-port 8545", "stop with Ctrl-C")
    tourist.terminal().run("export CONSORTIA_NODE=" + tourist.rewrite("http://127.0.0.1:8545"))
    alice = subprocess.run([str(VENV / "bin" / "consortia"), "keys", "show", ".consortia-dev/keys/alice.key"],
                           cwd=tourist.home, capture_output=True, text=True, check=True).stdout.strip()
    tourist.filled["0x<alice address>"] = alice
    ran = walk(tourist, steps, checks={
        "consortia contract test counter": contains("passed"),
        "consortia view counter status": contains('"total": 5', '"cap": 100'),
        "consortia view counter total_of": contains("5"),
        "consortia contract info counter --source": contains("class Counter(Contract)"),
    }, fills={}, starts={})
    assert len(ran) == len(steps)

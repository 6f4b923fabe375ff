"""Start real node processes on 127.0.0.1 and run the CLI as a user would."""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from consortia.client.client import Client
from consortia.client.request_signing import SignedRequests
from consortia.crypto.keyfile import load_key_file

CLI = [sys.executable, "-m", "consortia.cli"]
KEY_ENV = "CONSORTIA_KEY"


def _bindable(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    """A free port below Linux's ephemeral range, so outgoing connections never take it."""
    return free_port_base(1)


PORTS_LOW, PORTS_HIGH = 20000, 32000
"""Ports tests use: below Linux's ephemeral range (32768 and up)."""


def _port_range() -> tuple[int, int]:
    """This test process's share of the ports: with pytest-xdist each worker (``gw0``,
    ``gw1``, …) draws from its own slice, so parallel workers never race for a port."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    count = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1") or 1)
    index = int(worker[2:]) if worker.startswith("gw") and worker[2:].isdigit() else 0
    size = (PORTS_HIGH - PORTS_LOW) // max(count, 1)
    return PORTS_LOW + index * size, PORTS_LOW + (index + 1) * size


def free_port_base(count: int = 1, p2p_offset: int | None = None) -> int:
    """A base port with ``count`` free ports (and as many at ``base + p2p_offset``)."""
    rng = random.Random()
    low, high = _port_range()
    for _ in range(1000):
        base = rng.randrange(low, high - 200)
        ports = list(range(base, base + count))
        if p2p_offset is not None:
            ports += [p + p2p_offset for p in ports]
        if all(_bindable(p) for p in ports):
            return base
    raise AssertionError("no free block of ports below the ephemeral range")


def _node_arg(args: tuple[str, ...]) -> str | None:
    for i, arg in enumerate(args):
        if arg == "--node" and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith("--node="):
            return arg.split("=", 1)[1]
    return None


def reader_env(args: tuple[str, ...] | list[str]) -> dict[str, str]:
    """``CONSORTIA_KEY`` for a CLI command naming a registered node with ``--node``, else nothing."""
    node = _node_arg(tuple(args))
    key = reader_for(node) if node is not None else None
    return {KEY_ENV: str(key)} if key is not None else {}


def cli(*args: str, check: bool = False, timeout: float = 60,
        anonymous: bool = False) -> subprocess.CompletedProcess[str]:  # fmt: skip
    """``anonymous``: no ``CONSORTIA_KEY`` (else the registered reader of the ``--node`` named)."""
    env = dict(os.environ)
    if anonymous:
        env.pop(KEY_ENV, None)
    else:
        env = {**reader_env(args), **env}
    proc = subprocess.run(
        [*CLI, *args], capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL, env=env
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"consortia {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc


def cli_result(*args: str) -> dict[str, Any]:
    """A CLI command with --json: its document (success or failure) and its exit code (``_rc``)."""
    proc = cli(*args, "--json", timeout=90)
    out = dict(json.loads(proc.stdout.strip().splitlines()[-1]))
    out["_rc"] = proc.returncode
    return out


def cli_json(*args: str, check: bool = True) -> Any:
    proc = cli(*args, "--json", check=check)
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    if args[:2] == ("network", "init") and isinstance(out, dict):
        register_readers(out)
    return out


# --- reading a chain with organisations ----------------------------------------------------------
# Its API answers signed requests only (decisions/0021). A network the tests make with `network init
# --orgs` is registered here (by `cli_json`), and the tests read it as the regulator's admin, who may
# read everything: `cli` puts that key in CONSORTIA_KEY when the command names one of its nodes with
# `--node` (unless `anonymous=True` or the test sets the variable itself), and `api_get` /
# `api_stream` / `api_client` sign with it. Who may read what is tested route by route in
# tests/test_api_route_policy.py; every other test reads as an operator would.

_READERS: dict[str, Path] = {}
_AUTHS: dict[tuple[str, str], SignedRequests] = {}


def _base(url: str) -> str:
    parsed = httpx.URL(url)
    return f"{parsed.scheme}://{parsed.host}:{parsed.port}"


def org_reader_key(info: dict[str, Any]) -> Path | None:
    """The key the tests read a chain with organisations as: the regulator's admin, else the
    first organisation's admin; None on a chain without organisations."""
    orgs = info.get("orgs") or []
    chosen = next((o for o in orgs if o.get("role") == "regulator"), orgs[0] if orgs else None)
    return None if chosen is None else Path(chosen["admin_key"])


def register_readers(info: dict[str, Any], key: Path | None = None) -> None:
    """Read the nodes of ``info`` (what `network init --json` printed) as ``key`` (default
    :func:`org_reader_key`)."""
    key = key or org_reader_key(info)
    if key is not None:
        for node in info.get("nodes", []):
            _READERS[_base(node["api"])] = key


def reader_for(url: str) -> Path | None:
    return _READERS.get(_base(url))


def reader_auth(url: str, key_file: Path) -> SignedRequests:
    """An httpx auth signing every request to ``url``'s node as the identity in ``key_file``."""
    base = _base(url)
    if (base, str(key_file)) not in _AUTHS:
        chain_id = httpx.get(base + "/v1/status", timeout=5).json()["chain_id"]
        _AUTHS[base, str(key_file)] = SignedRequests(load_key_file(key_file, None), str(chain_id))
    return _AUTHS[base, str(key_file)]


def _auth_for(url: str) -> Any:
    key = reader_for(url)
    return reader_auth(url, key) if key is not None else httpx.USE_CLIENT_DEFAULT


def api_get(url: str, **kwargs: Any) -> httpx.Response:
    """``httpx.get``, signed as the node's registered reader when it has one."""
    kwargs.setdefault("auth", _auth_for(url))
    return httpx.get(url, **kwargs)


def api_post(url: str, **kwargs: Any) -> httpx.Response:
    kwargs.setdefault("auth", _auth_for(url))
    return httpx.post(url, **kwargs)


def api_put(url: str, **kwargs: Any) -> httpx.Response:
    kwargs.setdefault("auth", _auth_for(url))
    return httpx.put(url, **kwargs)


def api_stream(method: str, url: str, **kwargs: Any) -> Any:
    """``httpx.stream``, signed as the node's registered reader when it has one."""
    kwargs.setdefault("auth", _auth_for(url))
    return httpx.stream(method, url, **kwargs)


def api_client(url: str, **kwargs: Any) -> Client:
    """An SDK client of ``url`` reading as the node's registered reader when it has one."""
    key = reader_for(url)
    return Client(url, key=load_key_file(key, None) if key is not None else None, **kwargs)


def admin_auth(root: Path, chain_id: str, org: str = "reg") -> SignedRequests:
    """Requests signed as organisation ``org``'s admin of the network made under ``root`` (the
    regulator's by default: it may read everything) — for an app served in process."""
    return SignedRequests(load_key_file(root / "orgs" / org / "admin.key", None), chain_id)


class NodeProcess:
    """A `consortia` node process: start it, wait for its API, kill -9 or stop it."""

    proc: subprocess.Popen[str] | None
    url: str
    env: dict[str, str] | None = None  # extra environment for the process (fault injection)

    def get(self, path: str, **params: Any) -> httpx.Response:
        """A GET of the node's API (signed as the network's reader, if it has one)."""
        return api_get(self.url + path, params=params or None, timeout=5)

    def _launch(self, args: list[str], stderr: Any, timeout: float) -> dict[str, Any]:
        self.proc = subprocess.Popen(
            [*CLI, *args, "--json"],
            stdout=subprocess.PIPE, stderr=stderr, text=True, stdin=subprocess.DEVNULL,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **(self.env or {})},
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            err = self.proc.stderr.read() if self.proc.stderr else ""
            raise AssertionError(f"node did not start: {err}")
        wait_for(lambda: httpx.get(self.url + "/v1/status", timeout=1).is_success, timeout,
                 "the node API")
        return dict(json.loads(line))

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)
        self._close_streams()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._close_streams()

    def _close_streams(self) -> None:
        for stream in (self.proc.stdout, self.proc.stderr) if self.proc else ():
            if stream:
                stream.close()

    def status(self) -> dict[str, Any]:
        return httpx.get(self.url + "/v1/status", timeout=5).json()

    def height(self) -> int:
        return int(self.status()["height"])

    def block_id(self, height: int) -> str:
        return str(self.get(f"/v1/blocks/{height}").json()["id"])

    def state_root(self, height: int) -> str:
        block = self.get(f"/v1/blocks/{height}").json()
        return str(block["header"]["state_root"])


@dataclass
class DevNode(NodeProcess):
    """`consortia dev`: a one-validator chain."""

    home: Path
    port: int
    proc: subprocess.Popen[str] | None = None
    info: dict[str, Any] | None = None

    @property
    def url(self) -> str:  # type: ignore[override]
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30) -> dict[str, Any]:
        args = ["dev", "--home", str(self.home), "--api-port", str(self.port)]
        self.info = self._launch(args, subprocess.PIPE, timeout)
        return self.info


@dataclass
class NetNode(NodeProcess):
    """One validator of a network made by `consortia network init`, run by `node start`."""

    home: Path
    url: str
    proc: subprocess.Popen[str] | None = None

    def start(self, timeout: float = 30) -> None:
        log = open(self.home / "test-node.log", "a")  # noqa: SIM115
        self._launch(["node", "start", "--home", str(self.home)], log, timeout)


def wait_for(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except (httpx.HTTPError, KeyError):
            pass
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@contextlib.contextmanager
def running_network(home: Path, *init_args: str, validators: int = 4,
                    start: bool = True) -> Iterator[tuple[dict[str, Any], list[NetNode]]]:
    """``consortia network init`` a network of real validator processes on 127.0.0.1 (ports
    below the ephemeral range), start every node, yield (init info, nodes), stop them all.
    (Its reads are signed as the regulator's admin: see :func:`register_readers`.)"""
    base = free_port_base(validators + 1, p2p_offset=100)
    info = cli_json("network", "init", "--validators", str(validators), "--home", str(home),
                    "--base-port", str(base), *init_args)
    nodes = [NetNode(Path(n["home"]), n["api"]) for n in info["nodes"]]
    try:
        if start:
            for node in nodes:
                node.start()
        yield info, nodes
    finally:
        for node in nodes:
            node.stop()

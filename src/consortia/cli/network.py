"""``consortia network …`` and ``consortia up``: local multi-validator networks.

``--orgs "cb:central-bank,bank-a:bank,reg:regulator"`` on ``network init`` makes the network
permissioned (see :mod:`consortia.node.network_setup`). The ``init`` command itself is declared
in ``cli/main.py``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import typer
from rich.table import Table

from consortia.cli.output import console, emit, err_console, shorten
from consortia.crypto.address import format_address
from consortia.crypto.keyfile import read_key_file_address
from consortia.errors import ConfigError
from consortia.node.config import GENESIS_FILE, load_config
from consortia.node.genesis import load_genesis
from consortia.node.home_setup import list_account_keys
from consortia.node.network_setup import NETWORK_CHAIN_ID, init_network, load_orgs, node_homes

ORGS_HELP = ('Permissioned network: organisations as NAME:ROLE, comma separated, e.g. '
             '"cb:central-bank,bank-a:bank,bank-b:bank,reg:regulator".')
network_app = typer.Typer(no_args_is_help=True, help="Set up and inspect a network of validators.")


def _keys(root: Path) -> list[dict[str, str]]:
    return [
        {"name": p.stem, "file": str(p), "address": format_address(read_key_file_address(p))}
        for p in list_account_keys(root)
    ]


def _orgs(root: Path) -> list[dict[str, Any]]:
    return [o.to_json() for o in load_orgs(root)]


def _print_orgs(orgs: list[dict[str, Any]]) -> None:
    if not orgs:
        return
    console.print("  organisations (admin keys unencrypted, for development only):")
    for o in orgs:
        nodes = ",".join(f"node{i}" for i in o["validators"]) or "no validator"
        console.print(f"    {o['name']} ({o['role']}): {o['admin_key']}  {o['admin']}  ({nodes})")


def init_command(
    root: Path,
    validators: int,
    suite: str,
    base_port: int,
    as_json: bool,
    orgs: str | None = None,
    standby: int = 0,
    chain_id: str = NETWORK_CHAIN_ID,
) -> None:
    homes = init_network(
        root, validators, suite=suite, base_port=base_port, orgs=orgs or None, standby=standby,
        chain_id=chain_id,
    )
    data = {
        "home": str(root),
        "genesis": str(root / GENESIS_FILE),
        "nodes": [{"index": h.index, "home": str(h.home), "api": h.api_url, "p2p_port": h.p2p_port}
                  for h in homes],
        "keys": _keys(root),
        "permissioned": bool(orgs),
        "orgs": _orgs(root),
    }

    def human() -> None:
        console.print(f"[bold green]network of {validators} validators[/] in {root}")
        for h in homes:
            console.print(f"  node{h.index}: {h.home}  API {h.api_url}  p2p :{h.p2p_port}")
        console.print("  funded dev keys (unencrypted, for development only):")
        for k in data["keys"]:
            console.print(f"    {k['file']}  {k['address']}")
        _print_orgs(data["orgs"])

    emit(data, as_json, human)


def node_status(home: Path) -> dict[str, Any]:
    config = load_config(home)
    url = f"http://{config.api_host}:{config.api_port}"
    return url_status(url, {"node": config.name, "index": config.validator_index})


def url_status(url: str, known: dict[str, Any] | None = None) -> dict[str, Any]:
    """One node's row, asked over its API (a remote host needs nothing but its URL)."""
    row: dict[str, Any] = {"node": url, "index": None, **(known or {}), "api": url}
    try:
        status = httpx.get(url.rstrip("/") + "/v1/status", timeout=3).json()
    except (httpx.HTTPError, ValueError) as exc:
        return {**row, "up": False, "error": str(exc)[:200]}
    if known is None:
        row["node"], row["index"] = status.get("node", url), status.get("validator_index")
    return {
        **row,
        "genesis_hash": status.get("genesis_hash"),
        "warnings": status.get("warnings", []),
        "up": True,
        "height": status["height"],
        "role": "validator" if status.get("validator") is not None else "follower",
        "round": status.get("consensus_round"),
        "leader": status.get("leader"),
        "peers": status.get("peers", []),
        "state_root": status["state_root"],
        "block_id": status["block_id"],
    }


def status_command(root: Path | None, as_json: bool, urls: list[str] | None = None) -> None:
    """The nodes of a local network (``root``) or of remote hosts (``urls``)."""
    if urls:
        rows = [url_status(u) for u in urls]
    else:
        homes = node_homes(root) if root is not None else []
        if not homes:
            raise ConfigError(f"no node homes under {root}; run `consortia network init` first, "
                              "or pass --api URL for each remote node")
        rows = [node_status(h) for h in homes]
    hashes = {r["genesis_hash"] for r in rows if r["up"]}

    def human() -> None:
        table = Table("node", "role", "api", "height", "round", "leader", "peers", "state root")
        for r in rows:
            if not r["up"]:
                table.add_row(r["node"], "", r["api"], "[red]down[/]", "", "", "", "")
                continue
            following = r["round"] is None  # a standby or removed node: it follows, it does not vote
            table.add_row(r["node"], r["role"], r["api"], str(r["height"]),
                          "-" if following else str(r["round"]), "-" if following else str(r["leader"]),
                          ",".join(map(str, r["peers"])), shorten(r["state_root"], 18))
        console.print(table)
        if len(hashes) > 1:
            err_console.print(f"[red]the nodes run different chains[/] (genesis hashes {sorted(hashes)})")
        for r in rows:
            for warning in r.get("warnings", []):
                err_console.print(f"[yellow]{r['node']}: {warning}[/]")

    emit({"nodes": rows, "same_genesis": len(hashes) <= 1}, as_json, human)


DEFAULT_BASE_PORT = 8600


def start_failure(log: Path) -> str:
    """What a node that did not start said last: its error line (a port in use, a bad home),
    not just where its log is."""
    try:
        lines = [line.strip() for line in log.read_text(errors="replace").splitlines() if line.strip()]
    except OSError:
        return "no log was written"
    for line in reversed(lines):  # the node's own typed error line: "error (code): message"
        if line.startswith("error ("):
            return line[-300:]
    for line in reversed(lines):
        if "Error" in line or "error" in line:
            return line[-300:]
    return lines[-1][-300:] if lines else "it wrote nothing to its log"


def up_command(
    root: Path,
    validators: int,
    suite: str,
    base_port: int | None,
    as_json: bool,
    orgs: str | None = None,
    standby: int = 0,
    chain_id: str = NETWORK_CHAIN_ID,
) -> None:
    """Initialise if needed, run every validator as its own process, stop them on Ctrl-C.
    ``base_port`` None: 8600 for a new network, the existing ports otherwise."""
    created = not (root / GENESIS_FILE).exists()
    if created:
        init_network(root, validators, suite=suite, base_port=DEFAULT_BASE_PORT if base_port is None
                     else base_port, orgs=orgs or None, standby=standby, chain_id=chain_id)  # fmt: skip
    homes = node_homes(root)
    if not created and base_port is not None and homes:
        existing = load_config(homes[0]).api_port
        if existing != base_port:
            raise ConfigError(
                f"{root} is a network made with base port {existing}; --base-port {base_port} "
                "applies only when a network is created (run without it, or use a new --home)"
            )
    procs: list[tuple[Path, subprocess.Popen[str]]] = []
    stop = {"now": False}

    def request_stop(signum: int, frame: object) -> None:
        stop["now"] = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    try:
        for home in homes:
            log = open(home / "node.log", "a")  # noqa: SIM115 (owned by the child's lifetime)
            proc = subprocess.Popen(
                [sys.executable, "-m", "consortia.cli", "node", "start", "--home", str(home), "--json"],
                stdout=subprocess.PIPE, stderr=log, text=True, stdin=subprocess.DEVNULL,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
            procs.append((home, proc))
        nodes = []
        for home, proc in procs:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            started = json.loads(line) if line.strip().startswith("{") else None
            if started is None or started.get("ok") is False:
                reason = (started or {}).get("error", {}).get("message") or start_failure(home / "node.log")
                raise ConfigError(f"{home.name} did not start: {reason} (log: {home / 'node.log'})")
            nodes.append({"home": str(home), **started})
        info = {"home": str(root), "created": created, "genesis": str(root / GENESIS_FILE),
                "nodes": nodes, "keys": _keys(root), "orgs": _orgs(root)}

        def human() -> None:
            voting = len(load_genesis(root / GENESIS_FILE).validators)
            standby = f" and {len(nodes) - voting} standby node(s)" if len(nodes) > voting else ""
            console.print(f"[bold green]Consortia network[/] of {voting} validators{standby} in {root}")
            for n in nodes:
                console.print(f"  {Path(n['home']).name}: API and explorer {n['api']}")
            console.print("  funded dev keys (unencrypted, for development only):")
            for k in info["keys"]:
                console.print(f"    {k['file']}  {k['address']}")
            _print_orgs(info["orgs"])
            console.print(f"  logs: {root}/node*/node.log — stop with Ctrl-C")

        emit(info, as_json, human)
        reported: set[Path] = set()
        while not stop["now"]:
            for home, proc in procs:
                if proc.poll() is not None and home not in reported:
                    reported.add(home)
                    err_console.print(f"[red]{home.name} exited with {proc.returncode}[/]; "
                                      "the others keep running")
            if len(reported) == len(procs):
                break
            time.sleep(0.2)
    finally:
        for _, proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for _, proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()

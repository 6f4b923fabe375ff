"""`consortia up` says what is wrong with a network instead of leaving the user to dig (issue 16)."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from tests.procs import cli, cli_json, free_port_base

from consortia.cli.network import start_failure

pytestmark = pytest.mark.slow


def test_up_names_a_port_clash_and_refuses_a_base_port_it_would_ignore(tmp_path: Path) -> None:
    root = tmp_path / "net"
    base = free_port_base(1, p2p_offset=100)
    cli_json("network", "init", "--validators", "1", "--home", str(root), "--base-port", str(base))
    # the network was made on `base`; another base port would be silently ignored: refused
    other = cli("up", "--home", str(root), "--base-port", str(base + 1), "--json", timeout=60)
    error = json.loads(other.stdout.strip().splitlines()[-1])["error"]
    assert other.returncode != 0 and error["code"] == "config_error"
    assert f"base port {base}" in error["message"] and "only when a network is created" in error["message"]
    # its API port taken by someone else: the reason, not only where the log is
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", base))
        squatter.listen()
        clash = cli("up", "--home", str(root), "--json", timeout=60)
    error = json.loads(clash.stdout.strip().splitlines()[-1])["error"]
    assert clash.returncode != 0 and "did not start" in error["message"]
    assert f"127.0.0.1:{base}" in error["message"] and "already in use" in error["message"].lower(), error


def test_start_failure_reads_the_last_error_line(tmp_path: Path) -> None:
    log = tmp_path / "node.log"
    assert start_failure(log) == "no log was written"
    log.write_text("INFO starting\nTraceback (most recent call last):\n  File x\nOSError: [Errno 98] "
                   "error while attempting to bind on address ('127.0.0.1', 8600): address already in use\n")
    assert "address already in use" in start_failure(log)

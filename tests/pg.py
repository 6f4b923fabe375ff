"""A throwaway PostgreSQL server for the index tests: ``initdb`` + ``pg_ctl`` of Debian's
``postgresql`` package (``scripts/bootstrap.sh test`` installs it), a cluster in a temporary
directory on a free port, stopped and deleted afterwards. As root the server runs as the
``postgres`` user (PostgreSQL refuses to run as root)."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from tests.procs import free_port


def pg_bin() -> Path | None:
    """The newest installed PostgreSQL's bin directory (Debian layout, or PATH)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _as_server_user(cmd: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return cmd
    return ["runuser", "-u", "postgres", "--", *cmd]


@contextmanager
def postgres_server() -> Iterator[str]:
    """Start a cluster; yield a ``postgresql://`` URL of an empty database; stop it."""
    bindir = pg_bin()
    if bindir is None:
        message = "PostgreSQL is not installed (scripts/bootstrap.sh test installs it)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    root = Path(tempfile.mkdtemp(prefix="consortia-pg-"))
    data, sock = root / "data", root / "sock"
    sock.mkdir()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        shutil.chown(sock, "postgres")
    port = free_port()
    run = lambda *cmd: subprocess.run(_as_server_user([*cmd]), check=True, capture_output=True,  # noqa: E731
                                      text=True, timeout=120)  # fmt: skip
    run(str(bindir / "initdb"), "-D", str(data), "-U", "consortia", "--auth=trust", "-E", "UTF8",
        "--no-sync")
    options = (f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=off "
               "-c synchronous_commit=off -c full_page_writes=off -c max_connections=50")
    run(str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(root / "server.log"),
        "-w", "-t", "60", "start")
    try:
        run(str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "consortia", "index")
        yield f"postgresql://consortia@127.0.0.1:{port}/index"
    finally:
        subprocess.run(_as_server_user([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate",
                                        "-w", "stop"]), capture_output=True, timeout=60)  # fmt: skip
        shutil.rmtree(root, ignore_errors=True)


def fresh_database(url: str, name: str) -> str:
    """A new empty database on the server of ``url`` (one per test), its URL."""
    import psycopg

    base = url.rsplit("/", 1)[0]
    with psycopg.connect(url.replace("postgresql://", "postgresql://", 1), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{base}/{name}"

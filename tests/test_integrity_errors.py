"""Data that does not check out is an IntegrityError, not NotFound (issue 17: catch-up and
snapshots reported a re-executed block that differs, or a snapshot naming another block, as
"not found")."""

from __future__ import annotations

import ast
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

import consortia
from consortia.errors import ConsortiaError, IntegrityError, NotFound, error_from_dict
from consortia.node.net import state_sync
from consortia.node.peer_network import PeerNetwork

SRC = Path(consortia.__file__).parent
MISMATCH_WORDS = ("differs", "another", "mismatch", "does not match", "not the one")


def test_integrity_error_is_typed_and_rebuilt_by_clients() -> None:
    err = IntegrityError("x")
    assert err.code == "integrity_error" and err.http_status == 500
    assert not isinstance(err, NotFound)
    assert type(error_from_dict(err.to_dict())) is IntegrityError


def test_no_not_found_names_a_mismatch() -> None:
    """Every ``raise NotFound("...")`` in the source is about something missing."""
    offenders = []
    for path in sorted(SRC.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call)):
                continue
            func = node.exc.func
            if not (isinstance(func, ast.Name) and func.id == "NotFound") or not node.exc.args:
                continue
            text = ast.unparse(node.exc.args[0]).lower()
            if any(word in text for word in MISMATCH_WORDS):
                offenders.append(f"{path.relative_to(SRC)}:{node.lineno}")
    assert offenders == []


def _network(chain: Any, driver: Any) -> PeerNetwork:
    clock = SimpleNamespace(monotonic=lambda: 0.0, now_ms=lambda: 0)
    node = SimpleNamespace(chain=chain, on_admitted=[], genesis=None,
                           reload_pool=lambda: None, clock=clock)
    net = PeerNetwork(node)  # type: ignore[arg-type]
    net.driver = driver
    return net


def _committed(height: int) -> Any:
    return SimpleNamespace(block=SimpleNamespace(header=SimpleNamespace(height=height)), qc=None)


def test_catch_up_block_that_re_executes_differently_is_an_integrity_error(refusals: Any) -> None:
    committed: list[bytes] = []
    chain = SimpleNamespace(
        head=SimpleNamespace(height=4),
        params=SimpleNamespace(snapshot_gap=1000),
        validate_block=lambda block: SimpleNamespace(block_id=b"executed"),
    )
    driver = SimpleNamespace(
        verify_certificate=lambda header, qc: b"certified",
        commit_fetched=lambda block_id, qc: committed.append(block_id),
        restart_core=lambda: None,
    )
    net = _network(chain, driver)
    net.block_sync.on_height_response(7, SimpleNamespace(blocks=[_committed(5)], head_height=5))  # type: ignore[arg-type]
    assert committed == []
    assert [type(e) for e in refusals.errors] == [IntegrityError]


def test_snapshot_naming_another_block_is_an_integrity_error(
    refusals: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    installed: list[Any] = []
    monkeypatch.setattr(state_sync, "verify_certified_header", lambda *args: b"carried")
    chain = SimpleNamespace(install_snapshot=lambda *args: installed.append(args))
    net = _network(chain, SimpleNamespace(restart_core=lambda: None))
    chunk = SimpleNamespace(snapshot_id=b"named", index=0, total=1, block=_committed(9), items=[],
                            epochs=[])
    net.frames = SimpleNamespace(send=lambda peer, payload: None)  # type: ignore[assignment]
    net.state_sync.request(3)
    net.state_sync.on_chunk(3, chunk)  # type: ignore[arg-type]
    assert installed == []
    assert [type(e) for e in refusals.errors] == [IntegrityError]
    assert all(isinstance(e, ConsortiaError) for e in refusals.errors)

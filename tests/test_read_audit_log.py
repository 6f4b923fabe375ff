"""The read audit's log (issue 14, decisions/0026): append, verify, tampering found with its
line, a torn last line detected, cut and recorded (never dropped), segments, pages; and whose
data an answer holds (``subject_orgs``)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from consortia.api.auth.principal import Principal
from consortia.api.auth.read_audit import EVERYONE, AuditedResponse, ReadAudit, subject_orgs
from consortia.api.auth.read_log import (
    GENESIS_PREV,
    READ,
    TORN_TAIL,
    Read,
    ReadAuditUnavailable,
    ReadLog,
    ReadLogBroken,
    TornTail,
    segments,
    verify_log,
)
from consortia.api.auth.route_policy import ROUTES

ALICE = bytes.fromhex("aa" * 20)
BOB = bytes.fromhex("bb" * 20)
REGULATOR = bytes.fromhex("ee" * 20)


def _read(i: int, subjects: frozenset[str] = frozenset({"bank-a"})) -> Read:
    return Read(REGULATOR, "reg", "admin", "GET", f"/v1/accounts/0x{'aa' * 20}", f"n={i}", subjects, 200)


def _filled(directory: Path, n: int, segment_bytes: int = 1 << 20) -> ReadLog:
    log = ReadLog.open(directory, segment_bytes)
    for i in range(n):
        log.append(_read(i), 1_000 + i)
    return log


def test_entries_chain_and_the_head_is_the_last_hash(tmp_path: Path) -> None:
    log = _filled(tmp_path, 5)
    verified = verify_log(tmp_path)
    assert (verified.entries, verified.head_seq, verified.head) == (5, 5, log.head)
    entries, reached = log.page(0, 100)
    assert [e.seq for e in entries] == [1, 2, 3, 4, 5] and reached == 5
    assert entries[0].prev == GENESIS_PREV
    assert all(b.prev == a.hash for a, b in itertools.pairwise(entries))
    assert entries[2].subjects == ["bank-a"] and entries[2].reader == "0x" + "ee" * 20
    reopened = ReadLog.open(tmp_path)
    assert (reopened.head_seq, reopened.head, reopened.torn_cut) == (5, log.head, [])
    reopened.append(_read(9), 9_000)
    assert verify_log(tmp_path).entries == 6


@pytest.mark.parametrize("edit", ["status", "subjects", "spacing", "remove", "swap"])
def test_any_edit_is_found_with_its_line(tmp_path: Path, edit: str) -> None:
    _filled(tmp_path, 4)
    path = segments(tmp_path)[0]
    lines = path.read_bytes().split(b"\n")[:-1]
    if edit == "status":
        lines[1] = lines[1].replace(b'"status":200', b'"status":404')
    elif edit == "subjects":
        lines[1] = lines[1].replace(b'"bank-a"', b'"bank-b"')
    elif edit == "spacing":
        lines[1] = lines[1].replace(b'"status":200', b'"status": 200')
    elif edit == "remove":
        del lines[1]
    else:
        lines[1], lines[2] = lines[2], lines[1]
    path.write_bytes(b"\n".join(lines) + b"\n")
    with pytest.raises(ReadLogBroken) as caught:
        verify_log(tmp_path)
    assert f"{path.name}:2" in caught.value.message


def test_a_torn_last_line_is_reported_then_cut_into_a_side_file_and_recorded(tmp_path: Path) -> None:
    log = _filled(tmp_path, 3)
    path = segments(tmp_path)[0]
    whole = path.read_bytes()
    torn = b'{"seq":4,"time_ms":5,"kind":"re'
    path.write_bytes(whole + torn)
    with pytest.raises(TornTail) as caught:
        verify_log(tmp_path)
    assert f"{path.name}:4" in caught.value.message and "torn" in caught.value.message
    reopened = ReadLog.open(tmp_path, now_ms=7_000)
    assert len(reopened.torn_cut) == 1 and hashlib.sha256(torn).hexdigest() in reopened.torn_cut[0]
    side = path.with_name(f"{path.name}.torn-{len(whole)}")
    assert side.read_bytes() == torn  # kept, never dropped
    verified = verify_log(tmp_path)
    assert verified.entries == 4
    entries, _ = reopened.page(3, 10)
    assert entries[0].kind == TORN_TAIL and entries[0].prev == log.head and str(len(torn)) in entries[0].note


def test_segments_rotate_and_the_chain_runs_across_them(tmp_path: Path) -> None:
    log = _filled(tmp_path, 30, segment_bytes=1024)
    files = segments(tmp_path)
    assert len(files) > 3 and log.closed_segments == len(files) - 1
    assert verify_log(tmp_path).entries == 30
    entries, reached = log.page(12, 5)
    assert [e.seq for e in entries] == [13, 14, 15, 16, 17] and reached == 17
    assert ReadLog.open(tmp_path, 1024).head == log.head
    first = files[1].read_bytes().split(b"\n")
    files[1].write_bytes(b"\n".join(first[1:]))  # a segment's first line removed
    with pytest.raises(ReadLogBroken):
        verify_log(tmp_path)


def test_pages_keep_only_what_the_reader_may_see(tmp_path: Path) -> None:
    log = ReadLog.open(tmp_path)
    log.append(_read(0, frozenset({"bank-a"})), 1)
    log.append(_read(1, frozenset({"bank-b"})), 2)
    log.append(_read(2, frozenset({EVERYONE})), 3)
    entries, _ = log.page(0, 10, lambda e: e.kind == READ and ("bank-b" in e.subjects or "*" in e.subjects))
    assert [e.seq for e in entries] == [2, 3]


def test_a_log_that_cannot_be_opened_refuses_overseers_reads(tmp_path: Path) -> None:
    _filled(tmp_path / "audit" / "reads", 2)
    path = segments(tmp_path / "audit" / "reads")[0]
    path.write_bytes(path.read_bytes().replace(b'"status":200', b'"status":500', 1))
    audit = ReadAudit.open(tmp_path, 1 << 20)
    assert audit.log is None and "cannot be opened" in audit.problem
    with pytest.raises(ReadAuditUnavailable):
        audit.append(_read(0))


def test_whose_data_an_answer_holds() -> None:
    orgs = {ALICE: "bank-a", BOB: "bank-b"}.get
    alice, bob = "0x" + ALICE.hex(), "0x" + BOB.hex()
    account = ROUTES["/v1/accounts/{address}"]
    named = {"address": alice}
    assert subject_orgs(account, "/v1/accounts/{address}", named, [{"balance": 1}], orgs) == {"bank-a"}
    history = ROUTES["/v1/history/{address}"]
    answer = {"items": [{"from": alice, "to": bob}]}
    assert subject_orgs(history, "/v1/history/{address}", named, [answer], orgs) == {"bank-a", "bank-b"}
    reserve = ROUTES["/v1/reserves/{org}"]
    assert subject_orgs(reserve, "/v1/reserves/{org}", {"org": "bank-b"}, [{}], orgs) == {"bank-b"}
    state = ROUTES["/v1/state/{key}"]
    assert subject_orgs(state, "/v1/state/{key}", {"key": "0x00"}, [{"value": "0x"}], orgs) == {EVERYONE}
    blocks = ROUTES["/v1/blocks"]
    assert subject_orgs(blocks, "/v1/blocks", {}, [None], orgs) == {EVERYONE}  # not JSON
    assert subject_orgs(blocks, "/v1/blocks", {}, [{"blocks": []}], orgs) == frozenset()
    unknown = "0x" + "cc" * 20
    assert subject_orgs(account, "/v1/accounts/{address}", {"address": unknown}, [{}], orgs) == frozenset()


# --- write-ahead: the answer leaves only after its entry is on disk ------------------------------

class _Orgs:
    def org_of(self, address: bytes) -> str | None:
        return {ALICE: "bank-a", BOB: "bank-b", REGULATOR: "reg"}.get(address)


@contextlib.contextmanager
def _lookup() -> Iterator[_Orgs]:
    yield _Orgs()


def _overseer() -> Principal:
    return Principal(REGULATOR, "reg", "admin", "regulator")


def _respond(audit: ReadAudit, template: str, params: dict[str, str], messages: list[dict[str, Any]],
             sent: list[tuple[dict[str, Any], int]]) -> AuditedResponse:  # fmt: skip
    async def send(message: Any) -> None:
        sent.append((message, audit.log.head_seq if audit.log else -1))

    response = AuditedResponse(send, audit, _overseer(), ROUTES[template], template, params, "GET",
                               template, "", _lookup)  # fmt: skip

    async def run() -> None:
        for message in messages:
            await response(message)

    asyncio.run(run())
    return response


def _answer(body: bytes, content_type: bytes = b"application/json") -> list[dict[str, Any]]:
    return [{"type": "http.response.start", "status": 200, "headers": [(b"content-type", content_type)]},
            {"type": "http.response.body", "body": body, "more_body": False}]


def test_an_answer_leaves_only_after_its_entry_is_written(tmp_path: Path) -> None:
    audit = ReadAudit(ReadLog.open(tmp_path))
    sent: list[tuple[dict[str, Any], int]] = []
    alice = "0x" + ALICE.hex()
    body = json.dumps({"address": alice, "paid_to": "0x" + BOB.hex()}).encode()
    _respond(audit, "/v1/accounts/{address}", {"address": alice}, _answer(body), sent)
    assert [m["type"] for m, _ in sent] == ["http.response.start", "http.response.body"]
    assert all(seq == 1 for _, seq in sent)  # the entry was durable before the first byte left
    entry = audit.log.page(0, 10)[0][0] if audit.log else None
    assert entry is not None and entry.subjects == ["bank-a", "bank-b"] and entry.status == 200


def test_nothing_foreign_logs_nothing_and_a_stream_is_everyones(tmp_path: Path) -> None:
    audit = ReadAudit(ReadLog.open(tmp_path))
    sent: list[tuple[dict[str, Any], int]] = []
    own = "0x" + REGULATOR.hex()
    _respond(audit, "/v1/accounts/{address}", {"address": own}, _answer(b'{"balance": 0}'), sent)
    assert audit.log is not None and audit.log.head_seq == 0 and len(sent) == 2
    _respond(audit, "/v1/events", {}, _answer(b"data: x\n\n", b"text/event-stream")[:1], sent)
    assert audit.log.head_seq == 1 and audit.log.page(0, 5)[0][0].subjects == [EVERYONE]


def test_an_unwritable_log_refuses_the_read_and_sends_nothing(tmp_path: Path) -> None:
    sent: list[tuple[dict[str, Any], int]] = []
    alice = "0x" + ALICE.hex()
    broken = ReadAudit(None, "the read audit log cannot be opened: test")
    response = _respond(broken, "/v1/accounts/{address}", {"address": alice}, _answer(b"{}"), sent)
    assert sent == [] and isinstance(response.failed, ReadAuditUnavailable) and not response.started


def test_configure_writes_node_json_and_refuses_what_makes_no_sense(tmp_path: Path) -> None:
    from tests.test_api_hostile_input import make_home
    from typer.testing import CliRunner

    from consortia.cli.main import app
    from consortia.crypto.keyfile import save_key_file
    from consortia.crypto.keys import KeyPair
    from consortia.node.config import load_config

    home = tmp_path / "node"
    make_home(home, 1)
    key = KeyPair.generate("ed25519")
    save_key_file(tmp_path / "anchor.key", key, None)
    cli = CliRunner()
    for bad in (["--every", "0"], ["--segment-bytes", "10"], ["--anchor-key", str(tmp_path / "none.key")]):
        refused = cli.invoke(app, ["audit", "reads", "configure", "--home", str(home), *bad])
        assert refused.exit_code == 1 and "Traceback" not in refused.output, refused.output
        assert load_config(home).read_audit is None  # nothing written
    done = cli.invoke(app, ["audit", "reads", "configure", "--home", str(home), "--anchor-key",
                            str(tmp_path / "anchor.key"), "--every", "5", "--json"])  # fmt: skip
    assert done.exit_code == 0, done.output
    assert json.loads(done.output)["anchorer"].lower() == "0x" + key.address.hex()
    written = load_config(home).read_audit
    assert written is not None and (written.anchor_interval_s, written.anchor_key_file) == (
        5, str((tmp_path / "anchor.key").resolve()))

"""apps/trace (issue 18) in process: identifiers (GS1 check digits, EPC URIs, industrial-internet
ids), the story ore → coil → parts → machine with its refusals (typed, changing nothing), the
recall reaching the machine and alerting its holder, and the SQL index's answers (provenance,
where-used, status, the public view) on SQLite and on a real PostgreSQL."""

from __future__ import annotations

import ast
import hashlib
import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.pg import fresh_database, postgres_server
from tests.trace_story import (
    AFFECTED_BY_COIL,
    COIL,
    EPC_PART_A,
    MACHINE,
    ORE,
    PALLET,
    PART_A,
    PART_B,
    PROVENANCE_OF_MACHINE,
    WHERE_USED_OF_ORE,
    batch,
    gtin,
)
from tests.trace_world import TraceWorld, make_world

from consortia.apps.trace import epcis, identifiers, sdk
from consortia.apps.trace.contracts import source
from consortia.client.arguments import InvalidArgument
from consortia.errors import NotFound
from consortia.index import trace_queries
from consortia.index.database import IndexDatabase

REPORT_FAIL = hashlib.sha256(b"coil COIL-88: ultrasonic test, inclusions at 40 mm").digest()
REPORT_PASS = hashlib.sha256(b"coil COIL-88: re-test after trimming, conformant").digest()


@pytest.fixture
def w() -> TraceWorld:
    return make_world()


@pytest.fixture(scope="module")
def pg_server() -> Iterator[str]:
    with postgres_server() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[IndexDatabase]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'index.sqlite3'}"
    else:
        url = fresh_database(request.getfixturevalue("pg_server"), "t" + uuid.uuid4().hex[:12])
    database = IndexDatabase(url, "trace-test", b"\0" * 32)
    yield database
    database.close()


# --- the SDK agrees with the contract ---------------------------------------------------------


def _constants() -> dict[str, object]:
    out: dict[str, object] = {}
    for node in ast.parse(source("trace")).body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            try:
                out[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:  # expressions of other constants
                continue
    return out


def test_the_sdk_agrees_with_the_contract_source() -> None:
    consts = _constants()
    assert consts["ERRORS"] == sdk.ERROR_CODES
    assert consts["PUBLIC_FIELDS"] == sdk.PUBLIC_FIELDS
    assert consts["RESULTS"] == sdk.RESULTS
    for name in ("MAX_ITEMS", "MAX_TEXT", "HASH_BYTES", "INSPECTOR"):
        assert consts[name] == getattr(sdk, name), name
    assert consts["MAX_ID"] == identifiers.MAX_ID and consts["MAX_VALUE"] == identifiers.MAX_VALUE
    used: set[str] = set()
    emitted: set[str] = set()
    for node in ast.walk(ast.parse(source("trace"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "require":
            code = node.args[-1]
            assert isinstance(code, ast.Constant), ast.unparse(node)[:80]
            used.add(code.value)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "emit":
            emitted.add(node.args[0].value)  # type: ignore[attr-defined]
    assert used == set(sdk.ERROR_CODES)
    assert emitted == set(sdk.EVENTS)


# --- identifiers ------------------------------------------------------------------------------


def test_identifiers_are_checked_and_made_canonical() -> None:
    assert identifiers.canonical(EPC_PART_A) == PART_A
    assert identifiers.canonical(f"https://example.com/shop/01/{gtin('0950600013437')}/21/PA-1?x=1") == PART_A
    short = "https://id.gs1.org/01/" + gtin("950600013437")[:13] + "/21/PA-1"  # a GTIN-13, padded
    assert identifiers.canonical(short) == PART_A
    lot = identifiers.parse_item_id("urn:epc:class:lgtin:9506000.013436.COIL-88")
    assert (lot.canonical, lot.kind) == (COIL, "batch")
    unit = identifiers.parse_item_id("urn:epc:id:sscc:9506000.0100000001")
    assert (unit.canonical, unit.kind) == (PALLET, "unit")
    assert identifiers.epc_uri(identifiers.parse_item_id(PART_A), 7) == EPC_PART_A
    assert identifiers.parse_item_id(MACHINE).kind == "iii"
    wrong = PART_A.replace("09506000134376", "09506000134377")
    for bad, words in ((wrong, "check digit"), ("https://id.gs1.org/01/09506000134376", "product class"),
                       ("urn:epc:id:sgtin:9506000.13437.PA-1", "13 digits"), ("88/x", "not an item id"),
                       (PART_A + "X" * 20, "1 to 20"), ("ISBN 978-3", "not an item id")):  # fmt: skip
        with pytest.raises(InvalidArgument, match=words):
            identifiers.parse_item_id(bad)


VALUES = st.text(alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-._", min_size=1,
                 max_size=22)  # fmt: skip
BODIES = st.text(alphabet="0123456789", min_size=13, max_size=13)


@settings(max_examples=40, deadline=None)
@given(body=BODIES, value=VALUES, check=st.integers(0, 9), lot=st.booleans())
def test_the_contract_and_the_sdk_accept_the_same_digital_links(body: str, value: str, check: int,
                                                                lot: bool) -> None:  # fmt: skip
    world = _shared_world()
    text = f"https://id.gs1.org/01/{body}{check}/{'10' if lot else '21'}/{value}"
    try:
        sdk_ok = identifiers.canonical(text) == text
    except InvalidArgument:
        sdk_ok = False
    out = world.send("mine", sdk.register(text, "a thing"))
    assert out.code in ("ok", "bad_id", "already_registered"), (out.code, out.message)
    assert (out.code != "bad_id") == sdk_ok, (text, out.message)


_WORLD: list[TraceWorld] = []


def _shared_world() -> TraceWorld:
    if not _WORLD:
        _WORLD.append(make_world())
    return _WORLD[0]


# --- the story ------------------------------------------------------------------------------------


def run_story(w: TraceWorld) -> None:
    """Ore → coil → parts → machine; two handovers of single items and one of a pallet; a
    failed and a passed inspection of the coil."""
    w.ok("mine", sdk.register(ORE, "iron ore, 62 % Fe", ["product", "producer"]))
    w.ok("mine", sdk.observe(ORE, "pit 3 weighbridge", "41.2 t"))
    w.ok("mine", sdk.handover(ORE, w["mill"]))
    w.ok("mill", sdk.receive(ORE))
    w.ok("mill", sdk.transform([ORE], [COIL], "hot-rolled steel coil, 2 mm"))
    w.ok("lab", sdk.certify(COIL, "fail", REPORT_FAIL))
    w.ok("lab", sdk.certify(COIL, "pass", REPORT_PASS))
    w.ok("mill", sdk.handover(COIL, w["parts"]))
    w.ok("parts", sdk.receive(COIL))
    w.ok("parts", sdk.transform([COIL], [PART_A, PART_B], "stamped bracket"))
    w.ok("parts", sdk.register(PALLET, "pallet of brackets"))
    w.ok("parts", sdk.aggregate(PALLET, [PART_A, PART_B]))
    w.ok("parts", sdk.handover(PALLET, w["maker"]))
    out = w.ok("maker", sdk.receive(PALLET))
    assert sdk.event_fields(out.events[-1])["items"] == [PALLET, PART_A, PART_B]
    w.ok("maker", sdk.disaggregate(PALLET))
    w.ok("maker", sdk.register(MACHINE, "press brake PB-100", list(sdk.PUBLIC_FIELDS)))
    w.ok("maker", sdk.transform([PART_A, PART_B], [MACHINE]))


def test_the_story_with_every_refusal_typed_and_changing_nothing(w: TraceWorld) -> None:
    w.ok("mine", sdk.register(ORE, "iron ore", []))
    w.refused("mine", sdk.register(ORE, "again", []), "already_registered")
    w.refused("mine", sdk.register(EPC_PART_A, "EPC, not canonical", []), "bad_id")
    w.refused("mine", sdk.register(batch("0950600013435", "X").replace("/10/", "/17/"), "ai 17"), "bad_id")
    w.refused("mine", sdk.register(COIL, "", []), "bad_text")
    w.refused("mine", sdk.register(COIL, "coil", ["secret"]), "bad_public")
    w.refused("mill", sdk.observe(ORE, "somewhere"), "not_holder")
    w.refused("mill", sdk.observe(COIL, "somewhere"), "unknown_item")
    w.refused("mine", sdk.handover(ORE, w["mine"]), "self_handover")
    w.refused("mine", sdk.handover(ORE, b"\1" * 20), "unknown_party")
    w.ok("mine", sdk.handover(ORE, w["mill"]))
    # a pending handover blocks everything else, the holder's own actions included
    w.refused("mine", sdk.observe(ORE, "yard"), "handover_pending")
    w.refused("mine", sdk.transform([ORE], [COIL], "coil"), "handover_pending")
    w.refused("mine", sdk.handover(ORE, w["parts"]), "handover_pending")
    w.refused("parts", sdk.receive(ORE), "not_receiver")
    w.ok("mill", sdk.receive(ORE))
    w.refused("mill", sdk.receive(ORE), "no_handover")
    hand = w.view(sdk.handover_of(ORE, 1))
    assert (hand["sender"], hand["receiver"]) == (w["mine"], w["mill"])
    assert hand["sent_tx"] != hand["received_tx"]
    w.refused("mill", sdk.certify(ORE, "pass", REPORT_PASS), "not_inspector")
    w.refused("lab", sdk.certify(ORE, "maybe", REPORT_PASS), "bad_result")
    w.refused("lab", sdk.certify(ORE, "pass", b"short"), "bad_hash")
    w.ok("mill", sdk.transform([ORE], [COIL], "coil"))
    w.refused("mill", sdk.transform([ORE], [PART_A], "part"), "already_consumed")
    w.refused("mill", sdk.handover(ORE, w["parts"]), "already_consumed")
    w.refused("mill", sdk.transform([COIL], [COIL], "itself"), "cycle")
    w.refused("mill", sdk.transform([COIL], [ORE], "back to ore"), "output_exists")
    w.refused("mill", sdk.transform([COIL, COIL], [PART_A], "twice"), "bad_list")
    # packing: no cycles, packed items move only with their container
    w.ok("mill", sdk.register(PALLET, "pallet"))
    w.ok("mill", sdk.aggregate(PALLET, [COIL]))
    w.refused("mill", sdk.handover(COIL, w["parts"]), "packed")
    w.refused("mill", sdk.transform([PALLET], [PART_A], "pallet parts"), "packed")
    w.ok("mill", sdk.disaggregate(PALLET))
    w.refused("mill", sdk.disaggregate(PALLET), "not_aggregated")
    w.refused("mill", sdk.aggregate(COIL, [PALLET]), "cycle")  # COIL was packed in PALLET
    w.refused("mill", sdk.aggregate(PALLET, [PALLET]), "cycle")
    # recall: only the producer or the regulator
    w.refused("mill", sdk.recall(ORE, "not mine to recall"), "not_recaller")
    w.refused("mine", sdk.lift_recall(ORE, "nothing to lift"), "not_recalled")
    w.ok("reg", sdk.recall(ORE, "radioactive inclusions"))
    w.refused("mine", sdk.recall(ORE, "again"), "already_recalled")
    w.refused("mill", sdk.aggregate(PALLET, [COIL]), "recalled")
    w.refused("mill", sdk.handover(COIL, w["parts"]), "recalled")
    w.ok("mill", sdk.handover(COIL, w["mine"]))  # returned to the recalling producer
    w.ok("mine", sdk.receive(COIL))
    w.ok("mine", sdk.lift_recall(ORE, "lab error: not radioactive"))
    assert w.item(COIL)["affected"] == [] and w.item(COIL)["holder"] == w["mine"]


def test_a_recall_reaches_the_machine_and_alerts_its_holder(w: TraceWorld) -> None:
    run_story(w)
    assert w.item(MACHINE)["inputs"] == [PART_A, PART_B] and w.item(PART_A)["status"] == "consumed"
    out = w.ok("mill", sdk.recall(COIL, "inclusions found in the coil batch"))
    assert sdk.event_fields(out.events[0])["reached"] == 3
    affected = [sdk.event_fields(e)["item"] for e in out.events if e.name == "Affected"]
    assert affected == AFFECTED_BY_COIL
    alerted = [sdk.event_fields(e) for e in out.events if e.name == "HolderAlerted"]
    assert [(a["holder"], a["items"]) for a in alerted] == [(w["maker"], AFFECTED_BY_COIL)]
    rules = [(a.rule, a.address) for a in w.alerts()]
    assert rules == [("trace.recall", w["maker"])]
    assert w.item(MACHINE)["affected"] == [COIL] and w.item(ORE)["affected"] == []
    w.refused("maker", sdk.handover(MACHINE, w["parts"]), "recalled")
    w.ok("mill", sdk.lift_recall(COIL, "re-test conformant"))
    assert w.item(MACHINE)["affected"] == []
    w.ok("maker", sdk.handover(MACHINE, w["parts"]))


# --- the index's answers ----------------------------------------------------------------------


def test_provenance_where_used_status_and_the_public_view_from_the_index(db: IndexDatabase) -> None:
    w = make_world()
    run_story(w)
    w.ok("mill", sdk.recall(COIL, "inclusions found in the coil batch"))
    w.index_into(db)
    with db.reading() as conn:
        prov = trace_queries.provenance(conn, MACHINE)
        assert {i["item"] for i in prov["items"]} == PROVENANCE_OF_MACHINE and not prov["truncated"]
        assert {(e["src"], e["dst"], e["kind"]) for e in prov["edges"]} == {
            (ORE, COIL, "transform"), (COIL, PART_A, "transform"), (COIL, PART_B, "transform"),
            (PART_A, MACHINE, "transform"), (PART_B, MACHINE, "transform")}  # fmt: skip
        checks = [(e["fields"]["item"], e["fields"]["result"], e["signer"]) for e in prov["inspections"]]
        lab = "0x" + w["lab"].hex()
        assert checks == [(COIL, "fail", lab), (COIL, "pass", lab)]
        used = trace_queries.where_used(conn, ORE)
        assert {i["item"] for i in used["items"]} == WHERE_USED_OF_ORE
        assert (PART_A, PALLET, "aggregate") in {(e["src"], e["dst"], e["kind"]) for e in used["edges"]}
        status = trace_queries.status(conn, MACHINE)
        assert status["holder"] == "0x" + w["maker"].hex() and status["recalled"]
        assert status["affected_by"] == [{"item": COIL, "reason": "inclusions found in the coil batch"}]
        coil = trace_queries.status(conn, COIL)
        assert (coil["inspections"], coil["handovers"], coil["status"]) == (2, 1, "consumed")
        assert trace_queries.status(conn, PALLET)["handovers"] == 1
        seen = trace_queries.public_view(conn, ORE)
        assert seen == {"item": ORE, "kind": "batch", "recalled": False, "recall_reason": None,
                        "product": "iron ore, 62 % Fe", "producer": "0x" + w["mine"].hex()}  # fmt: skip
        machine = trace_queries.public_view(conn, MACHINE)
        assert machine["recalled"] and machine["recall_reason"] == "inclusions found in the coil batch"
        upstream = sorted(PROVENANCE_OF_MACHINE - {MACHINE})
        assert machine["provenance"] == [{"item": i} | ({"product": "iron ore, 62 % Fe"} if i == ORE else {})
                                         for i in upstream]  # fmt: skip
        assert "holder" in machine and "inspections" in machine
        with pytest.raises(NotFound):
            trace_queries.status(conn, "88.1.1/none")
    # lifting the recall clears the machine in the index too
    start = len(w.log)
    w.ok("mill", sdk.lift_recall(COIL, "re-test conformant"))
    w.index_into(db, start)
    with db.reading() as conn:
        assert not trace_queries.status(conn, MACHINE)["recalled"]
        assert trace_queries.status(conn, COIL)["recall_reason"] is None


# --- EPCIS 2.0 ------------------------------------------------------------------------------------


def test_an_exported_epcis_document_is_valid_and_reads_back_as_the_same_events(tmp_path: Path) -> None:
    w = make_world()
    run_story(w)
    w.ok("mill", sdk.recall(COIL, "inclusions found in the coil batch"))
    w.ok("mill", sdk.lift_recall(COIL, "re-test conformant"))
    w.ok("maker", sdk.handover(MACHINE, w["parts"]))
    w.ok("maker", sdk.cancel_handover(MACHINE))
    w.ok("maker", sdk.observe(MACHINE, "hall 2, bay 4", "serial plate read"))
    db = IndexDatabase(f"sqlite:///{tmp_path / 'index.sqlite3'}", "trace-test", b"\0" * 32)
    try:
        w.index_into(db)
        with db.reading() as conn:
            items = [i["item"] for i in trace_queries.provenance(conn, MACHINE)["items"]]
            events = trace_queries.events_of(conn, [*items, PALLET])
    finally:
        db.close()
    calls = epcis.calls_of_events(events)
    assert [c.action for c in calls].count("transform") == 3 and len(calls) == 22
    document = epcis.export_document(calls, 1_700_000_000_000)
    kinds = {e["type"] for e in document["epcisBody"]["eventList"]}
    assert kinds == {"ObjectEvent", "AggregationEvent", "TransformationEvent"}
    text = json.dumps(document)  # what goes to a file and comes back
    back = epcis.import_document(json.loads(text))
    assert [c.normal() for c in back] == [c.normal() for c in calls]
    assert epcis.export_document(back, 1_700_000_000_000) == document
    # a lot travels as a class (quantity list), a serialised part as an instance, the machine as a URN
    transform = next(e for e in document["epcisBody"]["eventList"] if e.get("inputQuantityList"))
    assert transform["inputQuantityList"] == [{"epcClass": ORE}] and transform["outputQuantityList"] == [
        {"epcClass": COIL}]  # fmt: skip
    assert epcis.item_uri(MACHINE) == "urn:consortia:iii:" + MACHINE


def test_epcis_documents_from_elsewhere_and_broken_ones() -> None:
    foreign = {
        "@context": [epcis.EPCIS_CONTEXT], "type": "EPCISDocument", "schemaVersion": "2.0",
        "creationDate": "2026-06-04T14:59:02.099+02:00",
        "epcisBody": {"eventList": [
            {"type": "ObjectEvent", "action": "ADD", "eventTime": "2026-06-04T12:00:00Z",
             "eventTimeZoneOffset": "+02:00", "epcList": [EPC_PART_A], "bizStep": "commissioning"},
            {"type": "AggregationEvent", "action": "ADD", "eventTime": "2026-06-04T12:05:00Z",
             "eventTimeZoneOffset": "+02:00", "parentID": "urn:epc:id:sscc:9506000.0100000001",
             "childEPCs": [EPC_PART_A]},
            {"type": "ObjectEvent", "action": "OBSERVE", "eventTime": "2026-06-04T13:00:00Z",
             "eventTimeZoneOffset": "+02:00", "epcList": [EPC_PART_A],
             "readPoint": {"id": "urn:epc:id:sgln:9506000.00001.0"}},
        ]},
    }  # fmt: skip
    calls = epcis.import_document(foreign)
    assert [(c.action, c.item) for c in calls] == [("register", PART_A), ("aggregate", PALLET),
                                                   ("observe", PART_A)]  # fmt: skip
    assert calls[1].items == (PART_A,) and calls[2].where == "urn:epc:id:sgln:9506000.00001.0"
    assert calls[0].time_ms == 1_780_574_400_000
    with pytest.raises(epcis.EpcisInvalid, match="eventTime"):
        broken = json.loads(json.dumps(foreign))
        broken["epcisBody"]["eventList"][0]["eventTime"] = "yesterday"
        epcis.import_document(broken)
    with pytest.raises(epcis.EpcisInvalid, match="check digit"):
        wrong = json.loads(json.dumps(foreign))
        wrong["epcisBody"]["eventList"][0]["epcList"] = [PART_A.replace("09506000134376", "09506000134377")]
        epcis.import_document(wrong)
    with pytest.raises(epcis.EpcisInvalid, match="EPCISDocument"):
        epcis.import_document({"type": "ObjectEvent"})

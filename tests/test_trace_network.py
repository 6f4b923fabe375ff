"""Issue 18 on four real validators (one network for the module), through the SDK, the CLI and
the REST API, each firm talking to its own node:

* ore → steel coil → parts → an assembled machine across four firms (a mine, a steelworks, a parts
  maker, a machine builder), a failed and a passed inspection of the coil by an inspector
  organisation, custody handed over twice (sender hands over, receiver confirms; a pending
  handover blocks the sender), the parts travelling on a pallet;
* the coil's batch recalled → the machine is flagged, its holder alerted (the regulator's alert
  and an event in the holder's feed), the recall lifted on the record;
* provenance and where-used from the SQL index list exactly the right items; both signatures of
  every completed handover are on chain;
* an EPCIS 2.0 document exported and read back gives the same events; a document from a firm's
  own system imported through the CLI and exported again gives the same events."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from tests.procs import NetNode, api_client, api_get, api_post, cli_result, running_network, wait_for
from tests.trace_story import (
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
    serial,
)

from consortia.api.openapi import openapi_spec
from consortia.apps.trace import epcis
from consortia.client.client import Client
from consortia.client.trace import ContractRefused, TraceQueries, TraceWallet
from consortia.client.wallet import Wallet
from consortia.crypto.keyfile import load_key_file

pytestmark = pytest.mark.slow

ORGS = "reg:regulator,mine:enterprise,mill:enterprise,parts:enterprise,maker:enterprise,lab:inspector"
TIMEOUT = 30.0
REASON = "inclusions found in coil batch COIL-88"


@dataclass
class Chain:
    nodes: list[NetNode]
    clients: list[Client]
    firms: dict[str, TraceWallet]
    key_files: dict[str, Path]
    home: Path

    def hexa(self, name: str) -> str:
        return "0x" + self.firms[name].address.hex()

    def url(self, n: int) -> str:
        return self.nodes[n].url


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chain]:
    home = tmp_path_factory.mktemp("trace-net")
    with running_network(home / "net", "--orgs", ORGS) as (info, nodes):
        clients = [api_client(n.url, timeout=TIMEOUT) for n in nodes]
        try:
            wait_for(lambda: min(n.height() for n in nodes) >= 1, TIMEOUT, "the first block on every node")
            key_files = {o["name"]: Path(o["admin_key"]) for o in info["orgs"]}
            firms = {name: TraceWallet(Wallet(load_key_file(file), clients[i % 4]), timeout=TIMEOUT)
                     for i, (name, file) in enumerate(key_files.items())}  # fmt: skip
            yield Chain(nodes, clients, firms, key_files, home)
        finally:
            for client in clients:
                client.close()


def _indexed(chain: Chain, height: int) -> None:
    def reached() -> bool:
        return all(api_get(f"{n.url}/v1/index/status", timeout=5).json()["indexed_height"] >= height
                   for n in chain.nodes)  # fmt: skip

    wait_for(reached, TIMEOUT, f"every node's index at {height}")


def _refused(code: str, action: Any) -> None:
    with pytest.raises(ContractRefused) as caught:
        action()
    assert caught.value.code == code, (caught.value.code, caught.value.message)


def keeps_schema(method: str, path: str, body: Any) -> None:
    """``body`` is valid against the route's 200 schema in /openapi.json (issue 16)."""
    spec = openapi_spec()
    schema = spec["paths"][path][method]["responses"]["200"]["content"]["application/json"]["schema"]
    jsonschema.Draft202012Validator({**schema, "components": spec["components"]}).validate(body)


def test_ore_to_machine_recall_and_epcis_on_four_validators(chain: Chain) -> None:
    f = chain.firms
    views = [TraceQueries(c) for c in chain.clients]
    report_fail, report_pass = chain.home / "coil-ut-1.txt", chain.home / "coil-ut-2.txt"
    report_fail.write_text("coil COIL-88, ultrasonic test: inclusions at 40 mm - FAIL\n")
    report_pass.write_text("coil COIL-88, re-test after trimming: conformant - PASS\n")

    # the mine registers its ore through the CLI, with an EPC URI (made canonical before signing)
    out = cli_result("trace", "register", "--id", "urn:epc:class:lgtin:9506000.013435.ORE-2026-07",
                     "--product", "iron ore, 62 % Fe", "--public", "product,producer",
                     "--key", str(chain.key_files["mine"]), "--node", chain.url(1))
    assert out["_rc"] == 0 and out["item"] == ORE, out
    f["mine"].observe(ORE, "pit 3 weighbridge", "41.2 t")
    f["mine"].handover(ORE, f["mill"].address)  # handover 1: pending until the mill confirms
    _refused("handover_pending", lambda: f["mine"].observe(ORE, "yard"))
    _refused("not_receiver", lambda: f["parts"].receive(ORE))
    f["mill"].receive(ORE)
    f["mill"].transform([ORE], [COIL], "hot-rolled steel coil, 2 mm")
    _refused("already_consumed", lambda: f["mill"].transform([ORE], [batch("0950600013436", "X")], "again"))
    # a failed and a passed inspection, through the CLI (the report's SHA-256 on chain)
    for result, report in (("fail", report_fail), ("pass", report_pass)):
        out = cli_result("trace", "certify", COIL, "--result", result, "--report", str(report),
                         "--key", str(chain.key_files["lab"]), "--node", chain.url(2))
        assert out["_rc"] == 0, out
    out = cli_result("trace", "certify", COIL, "--result", "pass", "--report", str(report_pass),
                     "--key", str(chain.key_files["mill"]), "--node", chain.url(2))
    assert out["_rc"] != 0 and out["error"]["code"] == "not_inspector", out
    f["mill"].handover(COIL, f["parts"].address)  # handover 2
    f["parts"].receive(COIL)
    f["parts"].transform([COIL], [EPC_PART_A, PART_B], "stamped bracket")
    f["parts"].register(PALLET, "pallet of brackets")
    f["parts"].aggregate(PALLET, [PART_A, PART_B])
    _refused("not_holder", lambda: f["maker"].disaggregate(PALLET))
    f["parts"].handover(PALLET, f["maker"].address)  # handover 3: the pallet and what is on it
    f["maker"].receive(PALLET)
    f["maker"].disaggregate(PALLET)
    f["maker"].register(MACHINE, "press brake PB-100", ["product", "producer", "inspections", "provenance"])
    f["maker"].transform([PART_A, PART_B], [MACHINE])

    # the coil's batch is recalled by the steelworks: the machine is flagged, the maker alerted
    recall = f["mill"].recall(COIL, REASON)
    _refused("recalled", lambda: f["maker"].handover(MACHINE, f["parts"].address))
    _indexed(chain, recall.height)
    status = views[3].status(MACHINE)
    assert status["recalled"] and status["holder"] == chain.hexa("maker")
    keeps_schema("get", "/v1/trace/status", status)
    keeps_schema("get", "/v1/trace/public", views[0].public(MACHINE))
    assert status["affected_by"] == [{"item": COIL, "reason": REASON}]
    assert views[0].public(MACHINE)["recalled"] and views[0].public(MACHINE)["recall_reason"] == REASON
    alerts = api_get(f"{chain.url(0)}/v1/index/alerts", params={"address": chain.hexa("maker")},
                       timeout=10).json()["items"]  # fmt: skip
    assert [a["rule"] for a in alerts] == ["trace.recall"] and MACHINE in alerts[0]["detail"]
    feed = api_get(f"{chain.url(3)}/v1/index/events", timeout=10, params={
        "party": chain.hexa("maker"), "contract": "trace", "name": "HolderAlerted"}).json()["items"]
    assert [e["fields"]["items"] for e in feed] == [[PART_A, PART_B, MACHINE]]

    # provenance and where-used from the index, on every node
    for view in views:
        prov = view.provenance(MACHINE)
        assert {i["item"] for i in prov["items"]} == PROVENANCE_OF_MACHINE
        assert [(c["fields"]["result"], c["signer"]) for c in prov["inspections"]] == [
            ("fail", chain.hexa("lab")), ("pass", chain.hexa("lab"))]  # fmt: skip
        assert {i["item"] for i in view.where_used(ORE)["items"]} == WHERE_USED_OF_ORE
    keeps_schema("get", "/v1/trace/provenance", prov)
    keeps_schema("get", "/v1/trace/where-used", views[0].where_used(ORE))
    keeps_schema("get", "/v1/trace/export", views[0]._get("export", MACHINE))
    events = api_get(f"{chain.url(0)}/v1/explorer/trace/events", params={"id": MACHINE}, timeout=10)
    keeps_schema("get", "/v1/explorer/trace/events", events.json())
    out = cli_result("trace", "where-used", COIL, "--node", chain.url(1))
    assert {i["item"] for i in out["items"]} == {COIL, PART_A, PART_B, PALLET, MACHINE}

    # every completed handover carries both signatures: the sender's transaction and the receiver's
    events = api_get(f"{chain.url(0)}/v1/index/events", params={"contract": "trace", "name": "Received",
                                                                 "order": "asc"}, timeout=10).json()["items"]
    assert len(events) == 3
    for event in events:
        fields = event["fields"]
        sent = api_get(f"{chain.url(0)}/v1/index/txs/{fields['sent_tx']}", timeout=10).json()
        got = api_get(f"{chain.url(0)}/v1/index/txs/{event['tx_hash']}", timeout=10).json()
        assert (sent["sender"], sent["method"], sent["status"]) == (fields["sender"], "handover", "ok")
        assert (got["sender"], got["method"], got["status"]) == (fields["receiver"], "receive", "ok")

    # the recall is lifted on the record
    lifted = f["mill"].lift_recall(COIL, "re-test after trimming conformant")
    _indexed(chain, lifted.height)
    assert not views[2].status(MACHINE)["recalled"]

    # EPCIS: the machine's document exported (CLI), valid, read back as the same events
    path = chain.home / "machine.epcis.json"
    out = cli_result("trace", "export", MACHINE, "--out", str(path), "--node", chain.url(2))
    assert out["_rc"] == 0, out
    document = json.loads(path.read_text())
    calls = epcis.import_document(document)
    upstream = [i["item"] for i in views[2].provenance(MACHINE)["items"]]
    assert [c.action for c in calls] == [
        "register", "observe", "handover", "receive", "transform", "certify", "certify", "handover",
        "receive", "transform", "aggregate", "receive", "disaggregate", "register", "transform", "recall",
        "lift_recall"]
    assert {c.item for c in calls if c.action == "recall"} == {COIL}
    checked = api_post(f"{chain.url(1)}/v1/trace/epcis", json=document, timeout=10).json()
    assert [c["action"] for c in checked["calls"]] == [c.action for c in calls]
    keeps_schema("post", "/v1/trace/epcis", checked)
    assert set(upstream) == PROVENANCE_OF_MACHINE

    # a firm's own system's document: imported (signed by the maker), exported, the same events
    spare, bolt = serial("0950600013438", "SP-7"), serial("0950600013439", "B-1")
    mine = chain.hexa("maker")
    legacy = epcis.export_document([
        epcis.TraceCall("register", spare, product="spare hydraulic pump", public=("product",), signer=mine,
                        time_ms=1_780_000_000_000),
        epcis.TraceCall("register", bolt, product="bolt kit", signer=mine, time_ms=1_780_000_001_000),
        epcis.TraceCall("observe", spare, where="hall 2, bay 4", reading="22 C", signer=mine,
                        time_ms=1_780_000_002_000),
        epcis.TraceCall("transform", "", items=(spare, bolt), outputs=(serial("0950600013440", "KIT-1"),),
                        product="pump service kit", signer=mine, time_ms=1_780_000_003_000),
    ], 1_780_000_004_000)  # fmt: skip
    legacy_file = chain.home / "legacy.epcis.json"
    legacy_file.write_text(json.dumps(legacy))
    out = cli_result("trace", "import", str(legacy_file), "--key", str(chain.key_files["maker"]),
                     "--node", chain.url(3))
    assert out["_rc"] == 0 and [e["status"] for e in out["events"]] == ["ok"] * 4, out
    height = max(n.height() for n in chain.nodes)
    _indexed(chain, height)
    again = epcis.import_document(views[3].export(serial("0950600013440", "KIT-1")))

    def untimed(items: list[epcis.TraceCall]) -> list[epcis.TraceCall]:
        return [replace(c, time_ms=0).normal() for c in items]

    assert untimed(again) == untimed(epcis.import_document(legacy))
    out = cli_result("trace", "import", str(legacy_file), "--key", str(chain.key_files["maker"]),
                     "--node", chain.url(3))
    assert out["_rc"] == 1 and out["events"][0]["status"] == "already_registered", out
    # the trace tables are derived from the chain like the rest of the index: the check agrees
    report = cli_result("index", "check", "--node", chain.url(0))
    assert report["ok"] and report["objects_checked"], report

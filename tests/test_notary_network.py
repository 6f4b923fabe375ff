"""Notarisation on four real validators (issue 12): 1,000 documents stamped in one transaction and
each verified offline against the genesis file; first stamps kept; the stamping service used by
several clients at once, its answers verified offline too; typed refusals. One network."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import msgspec
import pytest
from tests.procs import NetNode, api_client, api_post, cli, cli_result, running_network, wait_for

from consortia.api.openapi import openapi_spec
from consortia.apps.notary.errors import NotaryOff, TooManyDocuments
from consortia.apps.notary.receipts import document_hash, verify_receipt
from consortia.client import notary
from consortia.node.config import NotaryServiceConfig, load_config, write_config
from consortia.node.genesis import load_genesis
from consortia.types.genesis import Genesis

ORGS = "cb:central-bank,bank-a:bank,bank-b:bank,reg:regulator"
MAX_REQUEST = 2_000
pytestmark = pytest.mark.slow


@dataclass
class Net:
    info: dict[str, Any]
    nodes: list[NetNode]
    genesis_file: Path
    genesis: Genesis
    root: Path

    def key(self, name: str) -> str:
        return str(next(k["file"] for k in self.info["keys"] if k["name"] == name))

    def address(self, name: str) -> str:
        return str(next(k["address"] for k in self.info["keys"] if k["name"] == name))


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Net]:
    root = tmp_path_factory.mktemp("notary-net")
    with running_network(root / "net", "--orgs", ORGS, start=False) as (info, nodes):
        dave = next(k["file"] for k in info["keys"] if k["name"] == "dave")
        home = nodes[0].home  # node0 runs the stamping service, signing with dave's key
        config = load_config(home)
        service = NotaryServiceConfig(dave, MAX_REQUEST, 20_000, 100)
        write_config(home, msgspec.structs.replace(config, notary=service))
        for node in nodes:
            node.start()
        wait_for(lambda: min(n.height() for n in nodes) >= 1, 30, "first block")
        genesis_file = Path(info["home"]) / "genesis.json"
        yield Net(info, nodes, genesis_file, load_genesis(genesis_file), root)


def test_a_thousand_documents_stamped_and_each_verified_offline(net: Net) -> None:
    docs = net.root / "docs"
    docs.mkdir()
    files = []
    for i in range(1000):
        path = docs / f"contract-{i:04d}.txt"
        path.write_text(f"contract number {i}\nsigned by both parties\n")
        files.append(path)
    out = net.root / "receipts"
    url = net.nodes[0].url
    stamped = cli_result("notary", "stamp", *map(str, files), "--key", net.key("alice"), "--out", str(out),
                         "--node", url)
    assert stamped["_rc"] == 0 and stamped["ok"] and stamped["documents"] == 1000, stamped
    assert stamped["indexed"]
    receipts = [Path(r["receipt"]) for r in stamped["receipts"]]
    assert [r.name for r in receipts] == [f"{f.name}.notary.json" for f in files]
    for path, receipt in zip(files, receipts, strict=True):  # each one, offline, the genesis only
        verified = notary.verify_file(path, receipt, net.genesis)
        assert verified.height == stamped["height"] and verified.documents == 1000
        assert "0x" + verified.stamper.hex() == net.address("alice")

    # the command line, offline: valid; a changed byte in the document or the receipt is caught
    ok = cli_result("notary", "verify", str(files[7]), str(receipts[7]), "--genesis", str(net.genesis_file))
    assert ok["_rc"] == 0 and ok["ok"] and ok["stamper"] == net.address("alice"), ok
    changed = docs / "changed.txt"
    changed.write_bytes(files[7].read_bytes().replace(b"7", b"8"))
    bad = cli("notary", "verify", str(changed), str(receipts[7]), "--genesis", str(net.genesis_file))
    assert bad.returncode == 1 and "proof" in bad.stderr and "Traceback" not in bad.stderr
    forged = net.root / "forged.json"
    data = receipts[7].read_bytes()
    forged.write_bytes(data.replace(b'"index": 7', b'"index": 6', 1))
    genesis = str(net.genesis_file)
    refused = cli_result("notary", "verify", str(files[7]), str(forged), "--genesis", genesis)
    assert refused["_rc"] == 1 and refused["error"]["code"] == "invalid_proof", refused
    wrong = cli_result("notary", "verify", str(files[8]), str(receipts[7]), "--genesis", genesis)
    assert wrong["_rc"] == 1 and "SHA-256" in wrong["error"]["message"]

    # who stamped what and when; stamped again later, a document keeps its first stamp
    first = cli_result("notary", "show", str(files[3]), "--node", url)
    assert first["kind"] == "document" and first["stamper"] == net.address("alice"), first
    assert first["height"] == stamped["height"]
    again = cli_result("notary", "stamp", str(files[3]), str(files[4]), "--key", net.key("bob"),
                       "--out", str(net.root / "again"), "--node", url)
    assert again["ok"] and again["height"] > stamped["height"], again
    shown = cli_result("notary", "show", str(files[3]), "--node", url,
                       "--receipt-out", str(net.root / "first.json"))
    assert (shown["stamper"], shown["height"], shown["stamps_seen"]) == \
        (net.address("alice"), stamped["height"], 2), shown
    assert notary.verify_file(files[3], net.root / "first.json", net.genesis).height == stamped["height"]
    # the root is on chain: any node answers the same
    root = cli_result("notary", "show", stamped["root"], "--node", net.nodes[3].url)
    assert root["kind"] == "root" and root["stamper"] == net.address("alice") and root["documents"] == 1000
    listed = cli_result("notary", "stamps", net.address("alice"), "--node", net.nodes[2].url)
    assert listed["count"] >= 1 and stamped["root"] in [r["root"] for r in listed["roots"]]
    unknown = cli_result("notary", "show", "ab" * 32, "--node", url)
    assert unknown["_rc"] == 1 and unknown["error"]["code"] == "unknown_document"


def keeps_schema(method: str, path: str, body: Any) -> None:
    """``body`` is valid against the route's 200 schema in /openapi.json (issue 16)."""
    spec = openapi_spec()
    schema = spec["paths"][path][method]["responses"]["200"]["content"]["application/json"]["schema"]
    jsonschema.Draft202012Validator({**schema, "components": spec["components"]}).validate(body)


def test_the_stamping_service_serves_concurrent_clients(net: Net) -> None:
    url = net.nodes[0].url
    clients, rounds, per_request = 8, 3, 500

    def client_run(c: int) -> list[notary.Stamped]:
        done = []
        with api_client(url, timeout=90) as client:
            api = notary.NotaryClient(client)
            for r in range(rounds):
                leaves = [document_hash(f"client {c} round {r} doc {i}".encode()) for i in range(per_request)]
                done.append(api.stamp_hashes(leaves))
        return done

    with ThreadPoolExecutor(clients) as pool:
        results = [s for batch in pool.map(client_run, range(clients)) for s in batch]
    assert len(results) == clients * rounds
    for stamped in results:
        assert len(stamped.receipts) == per_request
        for receipt in stamped.receipts[:: per_request // 10]:
            assert verify_receipt(receipt, net.genesis).stamper.hex() == net.address("dave")[2:]
    anchorings = {s.tx_hash for s in results}
    assert len(anchorings) < len(results), "requests waiting together share one anchoring"
    with api_client(url) as client:
        api = notary.NotaryClient(client)
        wait_for(lambda: api.service()["pending_documents"] == 0, 20, "the index to record every answer")
        status = api.service()
        assert status["documents"] >= clients * rounds * per_request and status["pending_requests"] == 0
        # the node's index answers for every document the service stamped, receipt included
        doc = document_hash(b"client 5 round 2 doc 17")
        found = notary.NotaryClient(client).document(doc)
        assert verify_receipt(notary.receipt_of(found), net.genesis, doc).document == doc
    keeps_schema("get", "/v1/notary/service", status)
    keeps_schema("get", "/v1/notary/documents/{document}", found)
    one = api_post(f"{url}/v1/notary/stamp", json={"hashes": ["0x" + document_hash(b"one more").hex()]})
    assert one.status_code == 200, one.text
    keeps_schema("post", "/v1/notary/stamp", one.json())

    # the command line through the service
    paper = net.root / "paper.txt"
    paper.write_text("a paper stamped through the node's service\n")
    out = cli_result("notary", "stamp", str(paper), "--service", "--out", str(net.root / "svc"),
                     "--node", url)
    assert out["ok"], out
    assert notary.verify_file(paper, Path(out["receipts"][0]["receipt"]), net.genesis)


def test_the_service_refuses_what_it_cannot_take(net: Net) -> None:
    url = net.nodes[0].url
    with api_client(url) as client:
        api = notary.NotaryClient(client)
        with pytest.raises(TooManyDocuments):
            api.stamp_hashes([document_hash(str(i).encode()) for i in range(MAX_REQUEST + 1)])
        before = api.service()
    too_many = api_post(f"{url}/v1/notary/stamp", json={"hashes": ["0x" + "ab" * 32] * (MAX_REQUEST + 1)})
    assert too_many.status_code == 413 and too_many.json()["code"] in ("too_many_documents", "body_too_large")
    bad = api_post(f"{url}/v1/notary/stamp", json={"hashes": ["0x1234"]})
    assert bad.status_code == 400 and bad.json()["code"] == "bad_document_hash"
    ragged = api_post(f"{url}/v1/notary/stamp", content=b"x" * 33,
                        headers={"content-type": "application/octet-stream"})
    assert ragged.status_code == 400 and ragged.json()["code"] == "bad_document_hash"
    empty = api_post(f"{url}/v1/notary/stamp", json={"hashes": []})
    assert empty.status_code == 400 and empty.json()["code"] == "no_documents"
    with api_client(url) as client:
        after = notary.NotaryClient(client).service()
    assert after["anchors"] == before["anchors"] and after["pending_documents"] == 0
    # a node without the service says so
    with api_client(net.nodes[1].url) as client, pytest.raises(NotaryOff):
        notary.NotaryClient(client).stamp_hashes([document_hash(b"x")])
    # a registration that is not what its transaction anchored changes nothing
    tx = cli_result("notary", "stamp", __file__, "--key", net.key("carol"), "--out",
                    str(net.root / "carol"), "--node", url, "--no-register")
    assert tx["ok"] and not tx["indexed"]
    wrong = api_post(f"{url}/v1/notary/batches",
                       json={"tx_hash": tx["tx_hash"], "hashes": ["0x" + "cd" * 32]})
    assert wrong.status_code == 422 and wrong.json()["code"] == "batch_mismatch"
    assert cli_result("notary", "show", tx["receipts"][0]["sha256"], "--node", url)["_rc"] == 1
    right = api_post(f"{url}/v1/notary/batches",
                       json={"tx_hash": tx["tx_hash"], "hashes": [tx["receipts"][0]["sha256"]]})
    assert right.status_code == 200 and right.json()["indexed"], right.text
    keeps_schema("post", "/v1/notary/batches", right.json())
    assert cli_result("notary", "show", tx["receipts"][0]["sha256"], "--node", url)["stamper"] == \
        net.address("carol")


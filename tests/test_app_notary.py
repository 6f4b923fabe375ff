"""apps/notary (issue 12): batch trees and their proofs, the ``notary`` contract, document
receipts that verify offline against the genesis (and catch any changed byte), the node's
document index."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.conftest import CHAIN_ID, ChainFixture, make_chain
from tests.procs import admin_auth
from typer.testing import CliRunner

from consortia.api.app import create_app
from consortia.apps.genesis import app_records
from consortia.apps.notary import receipts as rc
from consortia.apps.notary.contracts import source
from consortia.apps.notary.errors import BadDocumentHash, NoDocuments, TooManyDocuments
from consortia.apps.notary.index import DocumentIndex, IndexedBatch
from consortia.apps.notary.sdk import anchor_call
from consortia.cli.main import app
from consortia.client import notary as sdk
from consortia.client.tx_builder import sign_tx
from consortia.codec import decode_any, encode
from consortia.contracts.permissioned.harness import Consortium, consortium
from consortia.contracts.python.registry import CONSORTIUM, contract_info
from consortia.crypto.keyfile import save_key_file
from consortia.crypto.keys import KeyPair
from consortia.errors import ProofError
from consortia.ledger.merkle import inclusion_proof, inclusion_proofs, merkle_root, verify_inclusion
from consortia.node import queries
from consortia.node.config import NotaryServiceConfig, load_config, write_config
from consortia.node.network_setup import init_network
from consortia.node.node import Node
from consortia.types.transaction import Call

SUITE = "ed25519"


def leaf(i: int) -> bytes:
    return hashlib.sha256(f"document {i}".encode()).digest()


# --- trees --------------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(st.lists(st.binary(min_size=0, max_size=40), min_size=1, max_size=70))
def test_all_proofs_at_once_are_the_single_proofs(items: list[bytes]) -> None:
    root, proofs = inclusion_proofs(items, rc.sha256)
    assert root == merkle_root(items, rc.sha256)
    for i, item in enumerate(items):
        assert proofs[i] == inclusion_proof(items, i, rc.sha256)
        assert verify_inclusion(root, item, proofs[i], rc.sha256)


def test_an_empty_tree_has_no_proofs() -> None:
    with pytest.raises(ValueError):
        inclusion_proofs([], rc.sha256)
    with pytest.raises(ValueError):
        rc.batch_root([])


# --- the contract -------------------------------------------------------------------------------


@dataclass
class Notary:
    net: Consortium
    host: Any

    def anchor(self, sender: bytes, root: bytes, size: int, documents: int) -> Any:
        return self.net.harness.call(sender, "notary", "anchor", encode([root, size, documents]))

    def view(self, method: str, *args: Any) -> Any:
        h = self.net.harness
        return self.host.run_view(h.state, h.block(), "notary", method, list(args))


@pytest.fixture
def notary() -> Notary:
    net = consortium()
    net.harness.state.data.update(app_records(SUITE))
    host = net.harness.enable_contracts()
    return Notary(net, host)


def test_the_notary_is_deployed_at_genesis(notary: Notary) -> None:
    info = contract_info(notary.net.harness.get, "notary")
    assert info is not None and info.owner == CONSORTIUM and info.version == 1


def test_first_anchoring_is_kept(notary: Notary) -> None:
    alice = notary.net.member("bank-a", "alice").address
    bob = notary.net.member("bank-b", "bob").address
    root = leaf(1)
    first = notary.anchor(alice, root, 3, 3)
    assert first.ok, first.message
    height = notary.net.harness.block().height
    notary.net.harness.next_block(5)
    again = notary.anchor(bob, root, 3, 3)
    assert again.ok and again.event_names() == ["NotaryRestamped"]
    record = notary.view("get", root)
    assert (record["stamper"], record["height"], record["stamps"]) == (alice, height, 2)
    assert record["last_height"] == height + 5
    assert notary.view("count") == 1 and notary.view("documents") == 3
    assert notary.view("stamper_count", alice) == 1 and notary.view("stamper_count", bob) == 0
    assert notary.view("stamper_root", alice, 1) == root
    assert notary.view("get", leaf(2)) is None


@pytest.mark.parametrize(("root", "size", "documents", "code"), [
    (b"\x01" * 31, 1, 1, "bad_root"), ("ab" * 16, 1, 1, "bad_arguments"), (leaf(0), 0, 0, "bad_size"),
    (leaf(0), 5, 4, "bad_size"), (leaf(0), 1, 2**41, "bad_size"), (leaf(0), True, 1, "bad_arguments"),
])
def test_bad_anchorings_are_refused_and_change_nothing(notary: Notary, root: Any, size: Any,
                                                      documents: Any, code: str) -> None:  # fmt: skip
    alice = notary.net.member("bank-a", "alice").address
    before = dict(notary.net.harness.state.data)
    out = notary.anchor(alice, root, size, documents)
    assert out.code == code, out.message
    changed = {k for k, v in notary.net.harness.state.data.items() if before.get(k) != v}
    assert all(not k.startswith(b"c/s/notary") for k in changed)
    assert notary.view("count") == 0


# --- receipts on a real (one-validator) chain ---------------------------------------------------


@dataclass
class Stamped:
    tc: ChainFixture
    leaves: list[bytes]
    receipts: list[rc.DocumentReceipt]
    nonce: int


def _anchor(tc: ChainFixture, nonce: int, root: bytes, size: int, documents: int) -> bytes:
    raw = sign_tx(tc.accounts[0], CHAIN_ID, nonce, 1000, anchor_call(root, size, documents))
    assert tc.submit([raw])[0].error is None
    executed = tc.produce()
    tc.produce()  # the next block certifies it
    return executed.txs[0].hash


@pytest.fixture(scope="module")
def stamped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stamped]:
    tc = make_chain(tmp_path_factory.mktemp("notary") / "data")
    deploy = Call("contracts", "deploy", encode(["notary", source("notary"), []]))
    assert tc.submit([sign_tx(tc.accounts[0], CHAIN_ID, 0, 1000, deploy)])[0].error is None
    tc.produce()
    leaves = [leaf(i) for i in range(13)]
    root, _ = rc.batch_levels(leaves)
    tx_hash = _anchor(tc, 1, root, len(leaves), len(leaves))
    proof = queries.receipt_proof(tc.chain, tx_hash)
    assert proof.receipt.status == "ok", proof.receipt.error
    yield Stamped(tc, leaves, rc.build_receipts(leaves, [], proof), 2)
    tc.chain.store.close()


def test_every_document_receipt_verifies_offline(stamped: Stamped) -> None:
    for i, receipt in enumerate(stamped.receipts):
        verified = rc.verify_receipt(receipt, stamped.tc.genesis, stamped.leaves[i])
        assert verified.document == stamped.leaves[i] and verified.documents == 13
        assert verified.stamper == stamped.tc.accounts[0].address
        again = rc.receipt_from_file_bytes(rc.receipt_file_bytes(receipt))
        assert again == receipt


def test_sub_batches_under_one_anchoring(stamped: Stamped) -> None:
    """The service's shape: each request's batch is an item (size || root) of the anchored tree."""
    tc = stamped.tc
    requests = [[leaf(100 + i) for i in range(n)] for n in (1, 2, 5, 8, 3)]
    subs = [rc.batch_levels(r)[0] for r in requests]
    items = [rc.sub_batch_item(len(r), s) for r, s in zip(requests, subs, strict=True)]
    root, proofs = inclusion_proofs(items, rc.sha256)
    tx_hash = _anchor(tc, stamped.nonce, root, len(items), sum(map(len, requests)))
    stamped.nonce += 1
    anchor = queries.receipt_proof(tc.chain, tx_hash)
    for request, p in zip(requests, proofs, strict=True):
        upper = [rc.Level(p.index, p.size, p.path, root)]
        for doc, receipt in zip(request, rc.build_receipts(request, upper, anchor), strict=True):
            assert rc.verify_receipt(receipt, tc.genesis, doc).documents == 19
    # a receipt that claims one request's documents under another's sub-root fails
    wrong = rc.build_receipts(requests[1], [rc.Level(proofs[2].index, 5, proofs[2].path, root)], anchor)[0]
    with pytest.raises(ProofError, match="level"):
        rc.verify_receipt(wrong, tc.genesis)


def test_a_receipt_of_another_root_or_a_failed_anchoring_is_refused(stamped: Stamped) -> None:
    good = stamped.receipts[0]
    other = rc.DocumentReceipt(1, leaf(999), [rc.Level(0, 1, [], rc.batch_root([leaf(999)]))], good.anchor)
    with pytest.raises(ProofError, match="anchors"):
        rc.verify_receipt(other, stamped.tc.genesis)
    with pytest.raises(ProofError, match="SHA-256"):
        rc.verify_receipt(good, stamped.tc.genesis, leaf(999))
    with pytest.raises(ProofError, match="version"):
        rc.verify_receipt(rc.DocumentReceipt(2, good.document, good.levels, good.anchor), stamped.tc.genesis)
    tc = stamped.tc
    refused_raw = sign_tx(tc.accounts[0], CHAIN_ID, stamped.nonce, 1000,
                          Call("notary", "anchor", encode([b"\x00" * 32, 2, 1])))
    stamped.nonce += 1
    assert tc.submit([refused_raw])[0].error is None
    executed = tc.produce()
    tc.produce()
    failed = queries.receipt_proof(tc.chain, executed.txs[0].hash)
    assert failed.receipt.status == "bad_size"
    _, levels = rc.batch_levels([leaf(5), leaf(6)])
    receipt = rc.DocumentReceipt(1, leaf(5), [levels[0]], failed)
    with pytest.raises(ProofError, match="failed on chain"):
        rc.verify_receipt(receipt, tc.genesis)


def _flip(data: bytes, position: int, bit: int) -> bytes:
    i = position % len(data)
    return data[:i] + bytes([data[i] ^ (1 << bit)]) + data[i + 1:]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(which=st.integers(0, 12), position=st.integers(0, 10**6), bit=st.integers(0, 7))
def test_any_changed_byte_of_a_receipt_file_is_caught(stamped: Stamped, which: int, position: int,
                                                      bit: int) -> None:  # fmt: skip
    data = rc.receipt_file_bytes(stamped.receipts[which])
    tampered = _flip(data, position, bit)
    with pytest.raises(ProofError):
        rc.verify_receipt(rc.receipt_from_file_bytes(tampered), stamped.tc.genesis, stamped.leaves[which])


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(which=st.integers(0, 12), position=st.integers(0, 10**6), bit=st.integers(0, 7))
def test_any_changed_byte_of_a_document_is_caught(stamped: Stamped, which: int, position: int,
                                                  bit: int) -> None:  # fmt: skip
    real = stamped.receipts[which]
    original = f"document {which}".encode()
    assert rc.verify_receipt(real, stamped.tc.genesis, rc.document_hash(original))
    with pytest.raises(ProofError, match="SHA-256"):
        rc.verify_receipt(real, stamped.tc.genesis, rc.document_hash(_flip(original, position, bit)))


def test_receipt_files_refuse_other_forms(stamped: Stamped) -> None:
    data = rc.receipt_file_bytes(stamped.receipts[0])
    for bad in (b"", b"{}", b"[1]", data.replace(b"\n", b"\r\n"), data.upper(), data[:-1], data + b" ",
                data.replace(b'"version": 1', b'"version": 1, "note": "x"')):
        with pytest.raises(ProofError):
            rc.receipt_from_file_bytes(bad)


# --- the node's index ---------------------------------------------------------------------------


def test_the_index_keeps_each_documents_first_stamp(tmp_path: Path) -> None:
    index = DocumentIndex(tmp_path)
    level = rc.Level(0, 1, [], b"\x01" * 32)

    def batch(height: int, leaves: list[bytes], tag: int) -> IndexedBatch:
        return IndexedBatch(bytes([tag]) * 32, b"\x02" * 32, bytes([tag]) * 32, height, height * 1000,
                            b"\x03" * 20, [level], leaves)

    index.add([batch(10, [leaf(1), leaf(2)], 1)])
    index.add([batch(20, [leaf(2), leaf(3)], 2)])
    first = index.first(leaf(2))
    assert first is not None and first.batch.height == 10 and first.position == 1 and first.stamps == 2
    assert first.batch.leaves == [leaf(1), leaf(2)] and first.batch.upper == [level]
    index.add([batch(5, [leaf(3)], 3)])  # an earlier stamp learnt late replaces the later one
    third = index.first(leaf(3))
    assert third is not None and third.batch.height == 5 and third.stamps == 2
    assert index.first(leaf(4)) is None and index.counts() == (3, 3)
    assert index.has_tx(b"\x02" * 32) and not index.has_tx(b"\x09" * 32)
    index.close()
    reopened = DocumentIndex(tmp_path)
    assert reopened.counts() == (3, 3)
    reopened.close()


def test_anchor_arguments_decode(stamped: Stamped) -> None:
    root, size, documents = rc.anchored_args(stamped.receipts[0].anchor.tx)
    assert (size, documents) == (13, 13) and root == stamped.receipts[0].levels[-1].root
    assert decode_any(encode([root, 1, 1]), tuple[bytes, int, int]) == (root, 1, 1)


# --- the command line and the REST layer, without a network -------------------------------------

runner = CliRunner()


def invoke(*args: str) -> tuple[int, dict[str, Any]]:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, json.loads(result.stdout.strip().splitlines()[-1])


def test_cli_refusals_are_typed_and_never_a_traceback(tmp_path: Path) -> None:
    doc = tmp_path / "a.txt"
    doc.write_text("a")
    receipt = tmp_path / "a.txt.notary.json"
    receipt.write_text("{}")
    cases = [
        (["notary", "stamp", str(doc), "--out", str(tmp_path / "o")], "config_error"),
        (["notary", "stamp", str(doc), "--out", str(tmp_path / "o"), "--key", "k", "--service"],
         "config_error"),
        (["notary", "stamp", str(tmp_path / "missing"), "--out", str(tmp_path / "o"), "--service"],
         "config_error"),
        (["notary", "verify", str(doc), str(receipt), "--genesis", str(tmp_path / "none.json")], None),
        (["notary", "show", "zz", "--node", "http://127.0.0.1:9"], "bad_document_hash"),
        (["notary", "stamps", "0x12", "--node", "http://127.0.0.1:9"], "bad_address"),
        (["notary", "enable", "--home", str(tmp_path / "nohome"), "--key", str(doc)], "config_error"),
        (["notary", "service", "--node", "http://127.0.0.1:9"], "connection_failed"),
    ]
    for args, code in cases:
        rc_, out = invoke(*args)
        assert rc_ == 1 and out["ok"] is False, (args, out)
        assert code is None or out["error"]["code"] == code, (args, out)
    genesis = tmp_path / "g.json"
    genesis.write_text("{}")
    rc_, out = invoke("notary", "verify", str(doc), str(receipt), "--genesis", str(genesis))
    assert rc_ == 1 and out["error"]["code"] in ("invalid_proof", "config_error", "decode_error")


def test_sdk_checks_hashes_before_sending() -> None:
    with pytest.raises(NoDocuments):
        sdk.check_hashes([])
    with pytest.raises(BadDocumentHash):
        sdk.check_hashes(["0x1234"])
    with pytest.raises(BadDocumentHash):
        sdk.check_hash(b"\x00" * 31)
    with pytest.raises(TooManyDocuments):
        sdk.check_hashes([leaf(0)] * 3, limit=2)
    checked = sdk.check_hashes(["0x" + leaf(1).hex(), leaf(2).hex().upper(), leaf(3)])
    assert checked == [leaf(1), leaf(2), leaf(3)]
    assert [p.name for p in sdk.receipt_paths(Path("o"), ["a", "b", "a"])] == \
        ["a.notary.json", "b.notary.json", "a-2.notary.json"]


def test_rest_refusals_of_a_node(tmp_path: Path) -> None:
    orgs = "cb:central-bank,bank-a:bank,reg:regulator"
    homes = init_network(tmp_path / "net", 4, base_port=29_400, orgs=orgs)
    key = tmp_path / "notary.key"
    save_key_file(key, KeyPair.generate(SUITE), None)
    config = load_config(homes[0].home)
    service = NotaryServiceConfig(str(key), 3, 10, 5)
    write_config(homes[0].home, msgspec.structs.replace(config, notary=service))
    with_service, without = Node(homes[0].home), Node(homes[1].home)

    async def ask(node: Node, calls: list[tuple[str, str, Any]]) -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=create_app(node))
        auth = admin_auth(tmp_path / "net", node.genesis.chain_id)  # the regulator reads all
        async with httpx.AsyncClient(transport=transport, base_url="http://node", auth=auth) as http:
            out = []
            for method, path, body in calls:
                if isinstance(body, bytes):
                    out.append(await http.request(method, path, content=body,
                                                  headers={"content-type": "application/octet-stream"}))
                else:
                    out.append(await http.request(method, path, json=body))
            return out

    h = "0x" + leaf(1).hex()
    try:
        answers = asyncio.run(ask(with_service, [
            ("POST", "/v1/notary/stamp", {"hashes": [h] * 4}),
            ("POST", "/v1/notary/stamp", leaf(1) * 4),
            ("POST", "/v1/notary/stamp", {"hashes": ["0x12"]}),
            ("POST", "/v1/notary/stamp", b"\x01" * 33),
            ("POST", "/v1/notary/stamp", {"hashes": []}),
            ("POST", "/v1/notary/stamp?wait=nan", {"hashes": [h]}),
            ("GET", "/v1/notary/service", None),
            ("GET", f"/v1/notary/documents/{h}", None),
            ("GET", f"/v1/notary/roots/{h}", None),
            ("POST", "/v1/notary/batches", {"tx_hash": h, "hashes": [h]}),
            ("POST", "/v1/notary/batches", {"tx_hash": "0x12", "hashes": [h]}),
            ("GET", f"/v1/notary/stampers/0x{'ab' * 20}", None),
        ]))
        off = asyncio.run(ask(without, [("POST", "/v1/notary/stamp", {"hashes": [h]}),
                                        ("GET", "/v1/notary/service", None)]))
    finally:
        with_service.close()
        without.close()
    codes = [(r.status_code, r.json().get("code")) for r in answers]
    assert codes[:6] == [(413, "too_many_documents"), (413, "too_many_documents"),
                         (400, "bad_document_hash"), (400, "bad_document_hash"), (400, "no_documents"),
                         (400, "malformed")], codes
    status = answers[6].json()
    assert status["pending_documents"] == 0 and status["limits"]["max_request_hashes"] == 3
    assert codes[7:11] == [(404, "unknown_document"), (404, "unknown_document"), (404, "not_found"),
                           (400, "malformed")], codes
    assert answers[11].json()["count"] == 0 and answers[11].json()["roots"] == []
    assert [(r.status_code, r.json()["code"]) for r in off] == [(404, "notary_service_off")] * 2

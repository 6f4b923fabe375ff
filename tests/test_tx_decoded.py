"""Transactions, receipts and events read as JSON people understand (issue 16)."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import typer
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from consortia.api import tx_view as v
from consortia.api.app import create_app
from consortia.cli import chain_cmds
from consortia.client.tx_builder import sign_transfer
from consortia.codec import encode
from consortia.contracts.native_currency import encode_transfer_args
from consortia.contracts.permissioned import governance, identity, monetary, regulator
from consortia.contracts.permissioned.records import Alert, ContractCode, ParamChange
from consortia.contracts.python.registry import encode_event
from consortia.contracts.python.source_hash import code_hash_of
from consortia.crypto.keyfile import load_key_file
from consortia.crypto.keys import KeyPair
from consortia.crypto.suites import get_suite
from consortia.node.config import VALIDATOR_KEY_FILE
from consortia.node.home_setup import DEV_CHAIN_ID, init_dev_home
from consortia.node.node import Node
from consortia.node.solo import produce_block
from consortia.types.receipt import Event, Receipt
from consortia.types.transaction import Call, SignedTx, TxBody

A = bytes(range(20))
B = bytes(range(20, 40))
H32 = bytes(32)
HA, HB = "0x" + A.hex(), "0x" + B.hex()


def args(contract: str, method: str, data: bytes) -> Any:
    decoded, named = v.args_view(contract, method, data)
    assert named, (contract, method, decoded)
    return decoded


# --- arguments of every system method ------------------------------------------------------------


def test_currency_methods() -> None:
    assert args("currency", "transfer", encode_transfer_args(A, 5)) == {"to": HA, "amount": 5}
    assert args("currency", "issue", monetary.encode_issue_args("bank-a", 100)) == {
        "bank": "bank-a", "amount": 100}
    assert args("currency", "redeem", monetary.encode_redeem_args(7)) == {"amount": 7}
    assert args("currency", "fund", monetary.encode_fund_args(B, 9)) == {"address": HB, "amount": 9}
    # a transfer the contract would refuse (amount 0) still shows its fields
    assert args("currency", "transfer", encode([A, 0])) == {"to": HA, "amount": 0}


def test_identity_methods() -> None:
    enroll = identity.encode_enroll_args(A, "admin", 2, H32, b"PEM")
    assert args("identity", "enroll", enroll) == {
        "address": HA, "role": "admin", "kyc_tier": 2, "pii_hash": "0x" + H32.hex(),
        "certificate_pem": "0x" + b"PEM".hex()}
    assert args("identity", "revoke", identity.encode_revoke_args(A)) == {"address": HA}
    assert args("identity", "open_wallet", identity.encode_open_wallet_args(A, 3, H32)) == {
        "address": HA, "tier": 3, "commitment": "0x" + H32.hex()}
    assert args("identity", "set_tier", identity.encode_set_tier_args(A, 1)) == {"address": HA, "tier": 1}
    assert args("identity", "close_wallet", identity.encode_close_wallet_args(A)) == {"address": HA}


def test_regulator_methods() -> None:
    for method in ("freeze", "unfreeze"):
        assert args("regulator", method, regulator.encode_address_args(A)) == {"address": HA}
    for method in ("freeze_asset", "unfreeze_asset"):
        assert args("regulator", method, regulator.encode_asset_args("native")) == {"asset": "native"}
    assert args("regulator", "set_limits", regulator.encode_limits_args(2, 10, None, 99)) == {
        "tier": 2, "per_payment": 10, "daily": None, "balance": 99}
    assert args("regulator", "set_rule", regulator.encode_rule_args("large_amount", [500])) == {
        "rule": "large_amount", "params": [500]}


def test_governance_methods() -> None:
    payload = encode(ParamChange("max_block_txs", 50))
    got = args("governance", "propose", governance.encode_propose_args("set-param", payload, 40))
    assert got == {"kind": "set-param", "payload": {"name": "max_block_txs", "value": 50},
                   "payload_raw": "0x" + payload.hex(), "deadline_height": 40}
    code = encode(ContractCode("token", H32))
    got = args("governance", "propose", governance.encode_propose_args("deploy-contract", code, 9))
    assert got["payload"] == {"name": "token", "code_hash": "0x" + H32.hex()}
    got = args("governance", "propose", governance.encode_propose_args("remove-org", encode("x"), 9))
    assert got["payload"] == "x"
    # a payload that does not fit its kind is shown generically
    got = args("governance", "propose", governance.encode_propose_args("set-param", encode([1]), 9))
    assert got["payload"] == [1]
    assert args("governance", "vote", governance.encode_vote_args(3, True)) == {
        "proposal_id": 3, "approve": True}


def test_contract_registry_methods_show_the_code_hash_not_the_source() -> None:
    source = "class C:\n    pass\n" * 100
    got = args("contracts", "deploy", encode(["token", source, ["TOK", 5]]))
    assert got == {"name": "token", "code_hash": "0x" + code_hash_of(source).hex(),
                   "source_bytes": len(source), "init_args": ["TOK", 5]}
    assert args("contracts", "deploy", encode(["t", "x"]))["init_args"] == []
    got = args("contracts", "upgrade", encode(["token", source]))
    assert set(got) == {"name", "code_hash", "source_bytes"}


def test_unknown_contracts_and_bad_shapes_are_generic() -> None:
    assert v.args_view("token", "transfer", encode([A, 5, {"memo": b"\x01"}])) == (
        [HA, 5, {"memo": "0x01"}], False)
    assert v.args_view("currency", "transfer", encode(["nope"])) == (["nope"], False)
    assert v.args_view("identity", "nope", encode([1])) == ([1], False)
    assert v.args_view("x", "y", b"\xc1") == (None, False)  # not MessagePack at all


# --- events --------------------------------------------------------------------------------------


SYSTEM_EVENTS: list[tuple[str, str, list[Any], dict[str, Any]]] = [
    ("currency", "Transfer", [A, B, 5], {"from": HA, "to": HB, "amount": 5}),
    ("currency", "Issued", ["bank-a", 5, A], {"bank": "bank-a", "amount": 5, "by": HA}),
    ("currency", "Redeemed", ["bank-a", 5, A], {"bank": "bank-a", "amount": 5, "by": HA}),
    ("currency", "Funded", ["bank-a", B, 5], {"bank": "bank-a", "address": HB, "amount": 5}),
    ("identity", "Enrolled", [A, "org", "admin", 2, B],
     {"address": HA, "org": "org", "role": "admin", "kyc_tier": 2, "by": HB}),
    ("identity", "Revoked", [A, "org", B], {"address": HA, "org": "org", "by": HB}),
    ("identity", "WalletOpened", [A, "bank", 2], {"address": HA, "org": "bank", "tier": 2}),
    ("identity", "TierChanged", [A, "bank", 1, 2],
     {"address": HA, "org": "bank", "old_tier": 1, "tier": 2}),
    ("identity", "WalletClosed", [A, "bank", 7], {"address": HA, "org": "bank", "swept": 7}),
    ("regulator", "Frozen", [A, B], {"address": HA, "by": HB}),
    ("regulator", "Unfrozen", [A, B], {"address": HA, "by": HB}),
    ("regulator", "AssetFrozen", ["native", B], {"asset": "native", "by": HB}),
    ("regulator", "AssetUnfrozen", ["native", B], {"asset": "native", "by": HB}),
    ("regulator", "LimitsSet", [1, 10, None, 5, B],
     {"tier": 1, "per_payment": 10, "daily": None, "balance": 5, "by": HB}),
    ("regulator", "RuleSet", ["velocity", [1, 2, 3], B],
     {"rule": "velocity", "params": [1, 2, 3], "by": HB}),
    ("governance", "Proposed", [1, "set-param", A, "org", 40],
     {"proposal_id": 1, "kind": "set-param", "proposer": HA, "org": "org", "deadline_height": 40}),
    ("governance", "Voted", [1, "org", A, False],
     {"proposal_id": 1, "org": "org", "voter": HA, "approve": False}),
    ("governance", "Closed", [1, "set-param", "executed", "done"],
     {"proposal_id": 1, "kind": "set-param", "status": "executed", "outcome": "done"}),
]


@pytest.mark.parametrize(("contract", "name", "values", "expected"), SYSTEM_EVENTS)
def test_system_events_by_field_name(contract: str, name: str, values: list[Any],
                                     expected: dict[str, Any]) -> None:
    data = encode(values)
    view = v.event_view(Event(contract, name, data))
    assert view == {"contract": contract, "name": name, "data": "0x" + data.hex(), "fields": expected}


def test_alert_registry_and_python_contract_events() -> None:
    alert = Alert(4, "large_amount", A, 900, 12, 1700, H32, "over 500")
    assert v.event_fields("regulator", "Alert", encode(alert)) == {
        "id": 4, "rule": "large_amount", "address": HA, "amount": 900, "height": 12,
        "timestamp_ms": 1700, "tx_hash": "0x" + H32.hex(), "detail": "over 500"}
    assert v.event_fields("contracts", "Deployed", encode_event("token", H32, 1)) == {
        "code_hash": "0x" + H32.hex(), "name": "token", "version": 1}
    assert v.event_fields("token", "Transfer", encode({"sender": A, "to": B, "amount": 3})) == {
        "sender": HA, "to": HB, "amount": 3}
    # a known name with an unexpected shape, a list event and garbage
    assert v.event_fields("currency", "Transfer", encode([1])) == {"value": [1]}
    assert v.event_fields("x", "Y", encode([1, b"\x02"])) == {"value": [1, "0x02"]}
    assert v.event_fields("x", "Y", b"\xc1") == {"value": None}


def test_receipt_view_keeps_the_old_fields() -> None:
    receipt = Receipt(H32, "ok", "", 3, [Event("currency", "Transfer", encode([A, B, 5]))])
    view = v.receipt_view(receipt)
    assert view["status"] == "ok" and view["steps"] == 3 and view["tx_hash"] == "0x" + H32.hex()
    assert view["events"][0]["data"] == "0x" + encode([A, B, 5]).hex()
    assert view["events"][0]["fields"]["amount"] == 5


# --- hostile bytes never raise ---------------------------------------------------------------------


CONTRACTS = st.sampled_from(["currency", "identity", "regulator", "governance", "contracts", "token"])
METHODS = st.sampled_from(sorted({m for _, m in v.ARGS} | {"nope"}))
NAMES = st.sampled_from(sorted({n for _, n in v.EVENT_FIELDS} | {"Deployed", "Other"}))
PLAIN = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.text(max_size=8)
    | st.binary(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(CONTRACTS, METHODS, NAMES, st.one_of(st.binary(max_size=64), PLAIN.map(encode)))
def test_arbitrary_bytes_never_raise(contract: str, method: str, name: str, data: bytes) -> None:
    decoded, _ = v.args_view(contract, method, data)
    fields = v.event_fields(contract, name, data)
    json.dumps([decoded, fields])  # plain JSON
    assert isinstance(fields, dict)
    suite = get_suite("ed25519")
    view = v.tx_view(data, suite)
    assert view["raw"] == "0x" + data.hex() and "hash" in view


@settings(max_examples=100, deadline=None)
@given(CONTRACTS, METHODS, st.binary(max_size=40), st.integers(0, 2**64 - 1))
def test_any_signed_call_decodes(contract: str, method: str, data: bytes, nonce: int) -> None:
    key = _KEY
    body = encode(TxBody("c", key.public_key, nonce, 9, Call(contract, method, data, 1)))
    view = v.tx_view(encode(SignedTx(body, b"\x00" * 64)), get_suite("ed25519"))
    assert view["sender"] == "0x" + key.address.hex() and view["nonce"] == nonce
    assert view["contract"] == contract and view["method"] == method and view["value"] == 1
    json.dumps(view)


_KEY = KeyPair.generate("ed25519")


def test_huge_nesting_is_cut_not_raised() -> None:
    deep: Any = 1
    for _ in range(200):
        deep = [deep]
    data = encode(deep)
    assert json.dumps(v.args_view("token", "m", data))
    assert v.event_fields("token", "E", data)


# --- a committed transfer, in process ----------------------------------------------------------------


@pytest.fixture
def node(tmp_path: Path):
    accounts = init_dev_home(tmp_path / "home")
    node = Node(tmp_path / "home")
    node.keys = [load_key_file(a.path, None) for a in accounts]  # type: ignore[attr-defined]
    node.validator = load_key_file(tmp_path / "home" / VALIDATOR_KEY_FILE, None)  # type: ignore[attr-defined]
    yield node
    node.close()


def _commit_transfer(node: Node) -> tuple[str, bytes, bytes]:
    keys = node.keys  # type: ignore[attr-defined]
    raw = sign_transfer(keys[0], DEV_CHAIN_ID, 0, 50, keys[1].address, 7)

    async def submit() -> bytes:
        result = (await node.submit([raw]))[0]
        assert result.error is None and result.tx_hash is not None
        return result.tx_hash

    tx_hash = asyncio.run(submit())
    produce_block(node.chain, node.validator, int(time.time() * 1000))  # type: ignore[attr-defined]
    return "0x" + tx_hash.hex(), keys[0].address, keys[1].address


def _get(node: Node, *paths: str) -> list[Any]:
    async def fetch() -> list[Any]:
        transport = httpx.ASGITransport(app=create_app(node))
        async with httpx.AsyncClient(transport=transport, base_url="http://node") as http:
            return [(await http.get(p)).json() for p in paths]

    return asyncio.run(fetch())


def test_api_shows_a_committed_transfer_decoded(node: Node) -> None:
    queue = node.events.subscribe()
    tx_hash, alice, bob = _commit_transfer(node)
    got, block = _get(node, f"/v1/tx/{tx_hash}", "/v1/blocks/latest")
    assert got["status"] == "committed" and got["tx"].startswith("0x")  # old fields kept
    decoded = got["decoded"]
    assert decoded["hash"] == tx_hash and decoded["sender"] == "0x" + alice.hex()
    assert decoded["contract"] == "currency" and decoded["method"] == "transfer"
    assert decoded["args"] == {"to": "0x" + bob.hex(), "amount": 7} and decoded["args_named"]
    assert decoded["nonce"] == 0 and decoded["expiry"] == 50 and decoded["value"] == 0
    assert decoded["chain_id"] == DEV_CHAIN_ID and decoded["raw"] == got["tx"]
    event = got["receipt"]["events"][0]
    assert event["name"] == "Transfer" and event["data"].startswith("0x")
    assert event["fields"] == {"from": "0x" + alice.hex(), "to": "0x" + bob.hex(), "amount": 7}

    assert block["txs"] == [tx_hash]
    (item,) = block["transactions"]
    assert item["args"] == decoded["args"] and item["receipt"]["status"] == "ok"
    assert item["receipt"]["events"][0]["fields"]["amount"] == 7

    message = queue.get_nowait()  # what /v1/events streams
    assert message["block"]["tx_count"] == 1
    assert message["events"][0]["fields"]["amount"] == 7 and message["events"][0]["tx_hash"] == tx_hash


# --- the CLI against a real node ------------------------------------------------------------------


def _cli() -> typer.Typer:
    app = typer.Typer()
    app.command("status-placeholder", hidden=True)(lambda: None)  # keep sub-command mode
    chain_cmds.register(app)
    return app


def test_cli_argument_errors_are_typed() -> None:
    runner = CliRunner()
    app = _cli()
    bad = runner.invoke(app, ["tx", "0x12", "--json"])
    assert bad.exit_code == 1 and json.loads(bad.stdout)["error"]["code"] == "malformed"
    bad = runner.invoke(app, ["block", "nope"])
    assert bad.exit_code == 1 and "malformed" in bad.output and not _crashed(bad)
    down = runner.invoke(app, ["block", "latest", "--node", "http://127.0.0.1:1", "--json"])
    assert down.exit_code == 1 and json.loads(down.stdout)["error"]["code"] == "connection_failed"
    down = runner.invoke(app, ["watch", "--node", "http://127.0.0.1:1", "--count", "1"])
    assert down.exit_code == 1 and "connection_failed" in down.output and not _crashed(down)


def _crashed(result: Any) -> bool:
    return result.exception is not None and not isinstance(result.exception, SystemExit)


def test_sse_parsing() -> None:
    lines = [": ping", "event: block", 'data: {"a":1}', "", "data: x", "data: y", "", "event: e"]
    assert list(chain_cmds.sse_messages(lines)) == [("block", '{"a":1}'), ("message", "x\ny")]


def test_cli_tx_block_and_watch(tmp_path: Path) -> None:
    from tests.procs import DevNode, cli_json, free_port

    dev = DevNode(tmp_path / "chain", free_port())
    info = dev.start()
    try:
        alice, bob = info["keys"][0], info["keys"][1]
        runner = CliRunner()
        app = _cli()
        watched: dict[str, Any] = {}

        def watch() -> None:
            watched["result"] = runner.invoke(app, ["watch", "--node", dev.url, "--count", "1", "--json"])

        watcher = threading.Thread(target=watch)
        watcher.start()
        time.sleep(0.5)
        sent = cli_json("transfer", "--key", alice["file"], "--to", bob["address"], "--amount", "12",
                        "--node", dev.url)
        watcher.join(30)
        assert not watcher.is_alive()

        out = runner.invoke(app, ["tx", sent["tx_hash"], "--node", dev.url, "--json"])
        assert out.exit_code == 0, out.output
        data = json.loads(out.stdout)
        assert data["decoded"]["args"] == {"to": bob["address"].lower(), "amount": 12}
        human = runner.invoke(app, ["tx", sent["tx_hash"], "--node", dev.url])
        assert human.exit_code == 0 and "currency.transfer(to=" in human.stdout
        assert "amount=12" in human.stdout and "event currency.Transfer" in human.stdout

        out = runner.invoke(app, ["block", str(sent["height"]), "--node", dev.url, "--json"])
        assert out.exit_code == 0 and json.loads(out.stdout)["txs"] == [sent["tx_hash"]]
        human = runner.invoke(app, ["block", "latest", "--node", dev.url])
        assert human.exit_code == 0 and "block" in human.stdout

        result = watched["result"]
        assert result.exit_code == 0, result.output
        (line,) = result.stdout.strip().splitlines()
        message = json.loads(line)
        assert "block" in message and isinstance(message["events"], list)
    finally:
        dev.stop()


def test_human_output_survives_odd_text(capsys: pytest.CaptureFixture[str]) -> None:
    receipt = {"status": "invalid_call", "error": "takes [to, amount] [/x]", "steps": 1,
               "events": [{"contract": "t", "name": "E", "fields": {"a": "[/b]"}}]}
    chain_cmds.print_tx({"tx_hash": "0xab", "status": "committed", "height": 3, "index": 0,
                         "block_id": "0x1", "receipt": receipt,
                         "decoded": {"contract": "x", "method": "m", "args": None, "args_raw": "0xc1"}})
    chain_cmds.print_block({"id": "0x1", "header": {"height": 1},
                            "transactions": [{"hash": "0xaa", "error": "not a transaction"}]})
    out = capsys.readouterr().out
    assert "[/x]" in out and "x.m(raw 0xc1)" in out and "undecodable transaction" in out

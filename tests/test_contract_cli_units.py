"""The pieces behind the contract CLI, without a node: the JSON mapping of plain data, typed
errors from receipts, the scaffold and its fixtures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from consortia.cli.main import app
from consortia.client.contracts import ContractReceipt, receipt_error, receipt_from_json
from consortia.codec import encode
from consortia.contracts.python import ContractFailed, OutOfSteps
from consortia.contracts.python.json_data import args_from_json, from_json, to_json
from consortia.contracts.python.pytest_plugin import contract_name_for
from consortia.contracts.python.scaffold import render, scaffold
from consortia.contracts.python.testing import LocalChain
from consortia.errors import ConfigError, DecodeError, RemoteError

scalars = st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.text() | st.binary()
plain = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(plain)
def test_json_view_round_trips(value) -> None:
    assert from_json(json.loads(json.dumps(to_json(value)))) == value


def test_json_view_of_bytes_and_hex_looking_text() -> None:
    assert to_json(b"\x01\xab") == "0x01ab"
    assert from_json("0x01ab") == b"\x01\xab"
    assert from_json("0x") == b""
    assert from_json("0x123") == "0x123"  # odd length: text
    assert to_json("0xab") == {"$str": "0xab"}
    assert from_json({"$str": "0xab"}) == "0xab"
    assert from_json({"$bytes": "0xab"}) == b"\xab"
    assert to_json({b"\x01": (1, 2)}) == {"0x01": [1, 2]}


def test_json_arguments_are_an_array_without_floats() -> None:
    assert args_from_json(["0x00", 5, "hi"]) == [b"\x00", 5, "hi"]
    for bad in ({"a": 1}, 5, [1.5], [{"$bytes": "zz"}]):
        with pytest.raises(DecodeError):
            args_from_json(bad)


def receipt(status: str, error: str = "") -> ContractReceipt:
    return ContractReceipt(b"\x11" * 32, 7, status, error, 1234, [])


def test_failed_receipts_become_typed_errors_with_the_contract_message() -> None:
    err = receipt_error(receipt("contract_error", "allowance exceeded"))
    assert isinstance(err, ContractFailed) and err.message == "allowance exceeded"
    assert err.details["steps"] == 1234 and err.receipt.height == 7
    assert isinstance(receipt_error(receipt("out_of_steps", "out of steps")), OutOfSteps)
    assert receipt_error(receipt("contract_rejected", "line 3: no imports")).code == "contract_rejected"
    unknown = receipt_error(receipt("brand_new_code", "?"))
    assert isinstance(unknown, RemoteError) and unknown.remote_code == "brand_new_code"


def test_receipt_events_are_decoded() -> None:
    data = {"height": 3, "receipt": {"status": "ok", "error": "", "steps": 9, "events": [
        {"contract": "token", "name": "Transfer", "data": "0x" + encode({"to": b"\x02", "n": 1}).hex()},
    ]}}
    got = receipt_from_json(b"\x00" * 32, data)
    assert got.ok and got.events[0].fields == {"to": b"\x02", "n": 1}
    assert got.to_json()["events"][0]["fields"] == {"to": "0x02", "n": 1}


def test_scaffold_writes_a_working_contract_and_refuses_to_overwrite(tmp_path: Path) -> None:
    folder = scaffold("my_counter", tmp_path)
    assert "class MyCounter(Contract)" in (folder / "contract.py").read_text()
    with pytest.raises(ConfigError):
        scaffold("my_counter", tmp_path)
    with pytest.raises(ConfigError):
        scaffold("Bad-Name", tmp_path)
    chain = LocalChain()
    alice = chain.account("alice")
    counter = chain.deploy("my_counter", render("my_counter")["contract.py"], 10, sender=alice)
    counter.call("bump", 3, sender=alice)
    assert counter.view("status")["total"] == 3


def test_contract_names_from_paths() -> None:
    assert contract_name_for(Path("/x/counter/contract.py")) == "counter"
    assert contract_name_for(Path("/x/My-Token.py")) == "my_token"


def test_cli_new_and_bad_arguments(tmp_path: Path) -> None:
    runner = CliRunner()
    out = runner.invoke(app, ["contract", "new", "ledger", "--dir", str(tmp_path), "--json"])
    assert out.exit_code == 0 and json.loads(out.stdout)["name"] == "ledger"
    again = runner.invoke(app, ["contract", "new", "ledger", "--dir", str(tmp_path), "--json"])
    assert again.exit_code == 1 and json.loads(again.stdout)["error"]["code"] == "config_error"
    bad = runner.invoke(app, ["view", "ledger", "status", "{not json", "--json"])
    assert bad.exit_code == 1 and json.loads(bad.stdout)["error"]["code"] == "malformed"


BROKEN = (
    "import os\n"
    "from consortia_contract import Contract, public\n\n\n"
    "class C(Contract):\n"
    "    @public\n"
    "    def f(self) -> None:\n"
    "        eval('1')\n"
    "        self._y = 1\n"
)


def test_contract_check_lists_every_violation_and_deploy_refuses_before_signing(tmp_path: Path) -> None:
    bad = tmp_path / "broken.py"
    bad.write_text(BROKEN)
    runner = CliRunner()
    text = runner.invoke(app, ["contract", "check", str(bad)])
    assert text.exit_code == 1
    assert f"{bad}:8: [builtin] name 'eval'" in text.stdout and f"{bad}:9: [underscore]" in text.stdout
    doc = json.loads(runner.invoke(app, ["contract", "check", str(bad), "--json"]).stdout)
    assert doc["ok"] is False and {(v["line"], v["rule"]) for v in doc["violations"]} >= {
        (1, "import"), (8, "builtin"), (9, "underscore")}
    # deploy checks first: no key is read (this one does not exist), nothing is signed or sent
    refused = runner.invoke(app, ["contract", "deploy", str(bad), "--key", str(tmp_path / "no.key"),
                                  "--node", "http://127.0.0.1:9", "--json"])
    error = json.loads(refused.stdout.strip().splitlines()[-1])["error"]
    assert refused.exit_code != 0 and error["code"] == "contract_rejected"
    assert len(error["details"]["violations"]) == len(doc["violations"])
    good = tmp_path / "good"
    scaffold("good", tmp_path)
    ok = runner.invoke(app, ["contract", "check", str(good), "--json"])
    assert ok.exit_code == 0 and json.loads(ok.stdout)["ok"] is True

"""Issue 11's interfaces without a running network: the ``scf``, ``invoice`` and ``credit`` CLI
refuse bad input before anything is signed or sent (typed errors, ``--json`` documents, never a
traceback), and the ``/v1/scf`` REST routes of a node answer typed 4xx for bad or unknown input
and read the contracts deployed at genesis. The story through the CLI and REST on real
validators is in tests/test_scf_network.py."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.procs import admin_auth
from typer.testing import CliRunner

from consortia.api.app import create_app
from consortia.api.openapi import openapi_spec
from consortia.apps.scf import sdk as apps
from consortia.cli.main import app
from consortia.crypto.keyfile import save_key_file
from consortia.crypto.keys import KeyPair
from consortia.node.network_setup import init_network
from consortia.node.node import Node

runner = CliRunner()
NOWHERE = "http://127.0.0.1:9"
"""No node listens there: a command that got as far as the network would fail differently."""
A = "0x" + "11" * 20
B = "0x" + "22" * 20
H = "0x" + "ab" * 32


def invoke(*args: str, node: bool = True) -> tuple[int, dict[str, Any]]:
    result = runner.invoke(app, [*args, "--json", *(["--node", NOWHERE] if node else [])])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "k.key"
    save_key_file(path, KeyPair.generate("ed25519"), None)
    return path


REFUSED: list[tuple[tuple[str, ...], str]] = [
    (("scf", "line", "--core", "0x1234", "--limit", "5"), "bad_address"),
    (("scf", "line", "--core", A, "--limit", "-1"), "invalid_argument"),
    (("scf", "line", "--core", A, "--limit", str(2**64)), "invalid_argument"),
    (("scf", "confirm", "--supplier", A, "--amount", "0", "--maturity", "+30d", "--invoice", H),
     "invalid_amount"),
    (("scf", "confirm", "--supplier", A, "--amount", "5", "--maturity", "+30d", "--invoice", "0x12"),
     "invalid_argument"),
    (("scf", "confirm", "--supplier", A, "--amount", "5", "--maturity", "+30d",
      *[x for _ in range(apps.MAX_INVOICES + 1) for x in ("--invoice", H)]), "invalid_argument"),
    (("scf", "confirm", "--supplier", "acme", "--amount", "5", "--maturity", "+30d", "--invoice", H),
     "bad_address"),
    (("scf", "transfer", "0", "--to", A, "--amount", "5"), "invalid_argument"),
    (("scf", "transfer", "x", "--to", A, "--amount", "5"), "invalid_argument"),
    (("scf", "transfer", "1", "--to", A, "--amount", "1.5"), "invalid_amount"),
    (("scf", "finance", "1", "--bank", A, "--amount", "5", "--rate-bps", "0"), "invalid_argument"),
    (("scf", "finance", "1", "--bank", A, "--amount", "5", "--rate-bps", str(apps.MAX_RATE_BPS + 1)),
     "invalid_argument"),
    (("scf", "finance", "1", "--bank", "", "--amount", "5", "--rate-bps", "450"), "bad_address"),
    (("scf", "finance-accept", "1", "--price", "0"), "invalid_amount"),
    (("scf", "finance-cancel", "0"), "invalid_argument"),
    (("scf", "settle", "0"), "invalid_argument"),
    (("scf", "default", "many"), "invalid_argument"),
    (("scf", "claim-pay", "0"), "invalid_argument"),
    (("invoice", "register", "--buyer", A, "--number", "---", "--amount", "5", "--date", "2025-03-01"),
     "invalid_argument"),
    (("invoice", "register", "--buyer", A, "--number", "INV-1", "--amount", "5", "--date", "1 March"),
     "invalid_argument"),
    (("invoice", "register", "--buyer", A, "--number", "INV-1", "--amount", "0", "--date", "2025-03-01"),
     "invalid_amount"),
    (("invoice", "register", "--buyer", A, "--number", "INV-1", "--amount", "5", "--date", "2025-03-01",
      "--seller", B), "invalid_argument"),  # another's invoice
    (("invoice", "confirm", "0x" + "ab" * 31), "invalid_argument"),
    (("invoice", "dispute", "xyz"), "invalid_argument"),
    (("credit", "record", "--borrower", A, "--amount", "5", "--due", "+30d"), "invalid_argument"),
    (("credit", "record", "--borrower", A, "--amount", "5", "--due", "+30d", "--terms", "t",
      "--commitment", H), "invalid_argument"),
    (("credit", "record", "--borrower", A, "--amount", "-5", "--due", "+30d", "--terms", "t"),
     "invalid_amount"),
    (("credit", "record", "--borrower", A, "--amount", "5", "--due", "+30d", "--commitment", "0x1"),
     "invalid_argument"),
    (("credit", "consent", "--lender", A, "--until", "+30d", "--scope", "everything"), "invalid_argument"),
    (("credit", "consent", "--lender", "0xzz", "--until", "+30d"), "bad_address"),
    (("credit", "revoke", "--lender", "nobody"), "bad_address"),
    (("credit", "query", "0x12"), "bad_address"),
    (("credit", "repay", "0"), "invalid_argument"),
    (("credit", "default", "x"), "invalid_argument"),
    (("credit", "write-off", "1e3"), "invalid_argument"),
]
READS = ("line-show", "show", "part", "list", "log", "loan")


@pytest.mark.parametrize(("args", "code"), REFUSED)
def test_bad_arguments_are_refused_before_signing(key_file: Path, args: tuple[str, ...], code: str) -> None:
    rc, out = invoke(*args, "--key", str(key_file))
    assert rc != 0 and out["ok"] is False and out["error"]["code"] == code, out


@pytest.mark.parametrize(("args", "code"), [
    (("scf", "show", "0"), "invalid_argument"),
    (("scf", "part", "x"), "invalid_argument"),
    (("scf", "list", "--holder", "0x12"), "bad_address"),
    (("scf", "list", "--start", "-1"), "invalid_argument"),
    (("scf", "line-show", "core"), "bad_address"),
    (("invoice", "show", "0x12"), "invalid_argument"),
    (("credit", "log", "0x"), "bad_address"),
    (("credit", "loan", "0"), "invalid_argument"),
])
def test_bad_reads_are_refused_before_asking(args: tuple[str, ...], code: str) -> None:
    rc, out = invoke(*args)
    assert rc != 0 and out["ok"] is False and out["error"]["code"] == code, out


def test_a_missing_key_and_an_unreachable_node_are_typed(tmp_path: Path) -> None:
    rc, out = invoke("scf", "settle", "1", "--key", str(tmp_path / "none.key"))
    assert rc != 0 and out["error"]["code"] == "key_file_error", out
    rc, out = invoke("scf", "show", "1")
    assert rc != 0 and out["ok"] is False and out["error"]["code"] not in ("invalid_argument", ""), out


def test_the_invoice_hash_offline_is_the_sdk_hash() -> None:
    rc, out = invoke("invoice", "hash", "--seller", A, "--buyer", "0x1", "--number", "1", "--amount", "5",
                     "--date", "2025-03-01", node=False)
    assert rc != 0 and out["error"]["code"] == "bad_address", out
    rc, out = invoke("invoice", "hash", "--seller", A, "--buyer", B, "--number", "inv 2025/001",
                     "--amount", "1000000", "--date", "2025-3-1", node=False)
    expected = apps.invoice_hash(bytes.fromhex(A[2:]), bytes.fromhex(B[2:]), "INV-2025-001", 1_000_000,
                                 "2025-03-01")
    assert rc == 0 and out == {"hash": "0x" + expected.hex()}


def test_rest_routes_of_a_node_are_typed(tmp_path: Path) -> None:
    orgs = "cb:central-bank,bank-a:bank,reg:regulator"
    homes = init_network(tmp_path / "net", 4, base_port=29_500, orgs=orgs)
    node = Node(homes[0].home)
    paths = [
        "/v1/scf/payables", "/v1/scf/payables?start=1&limit=5", f"/v1/scf/parts?holder={A}",
        f"/v1/scf/credit/log/{A}", f"/v1/scf/credit/consents/{A}/{B}",
        # 404: nothing by that id or key yet
        "/v1/scf/payables/1", "/v1/scf/parts/1", "/v1/scf/parts/1/quote?amount=5&rate_bps=450",
        f"/v1/scf/lines/{A}", f"/v1/scf/invoices/{H}", "/v1/scf/credit/loans/1",
        # 400: bad input
        "/v1/scf/payables/0", "/v1/scf/payables/x", "/v1/scf/payables?limit=201", "/v1/scf/parts",
        "/v1/scf/parts?holder=0x12", "/v1/scf/parts/1/quote?rate_bps=450", "/v1/scf/parts/1/quote?amount=5",
        "/v1/scf/parts/1/quote?amount=5&rate_bps=10001", f"/v1/scf/invoices/{H[:-2]}",
        "/v1/scf/invoices/" + "ab" * 32, "/v1/scf/credit/loans/99999999999999999999",
        "/v1/scf/credit/consents/0x12/0x34", f"/v1/scf/lines/{A}x",
    ]

    async def ask() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=create_app(node))
        auth = admin_auth(tmp_path / "net", node.genesis.chain_id)  # the regulator reads all
        async with httpx.AsyncClient(transport=transport, base_url="http://node", auth=auth) as http:
            return [await http.get(path) for path in paths]

    try:
        answers = asyncio.run(ask())
    finally:
        node.close()
    ok, missing, bad = answers[:5], answers[5:11], answers[11:]
    assert [r.status_code for r in ok] == [200] * 5, [r.text for r in ok]
    assert ok[0].json()["payables"] == [] and ok[2].json()["parts"] == [] and ok[3].json()["log"] == []
    assert ok[4].json()["consent"] is None
    assert [(r.status_code, r.json()["code"]) for r in missing] == [(404, "not_found")] * 6, \
        [r.text for r in missing]
    assert all(r.status_code == 400 and r.json()["code"] for r in bad), [(r.status_code, r.text) for r in bad]
    assert {p for p in openapi_spec()["paths"] if p.startswith("/v1/scf")} == {
        "/v1/scf/payables", "/v1/scf/payables/{id}", "/v1/scf/parts", "/v1/scf/parts/{id}",
        "/v1/scf/parts/{id}/quote", "/v1/scf/lines/{core}", "/v1/scf/invoices/{hash}",
        "/v1/scf/credit/loans/{id}", "/v1/scf/credit/log/{borrower}",
        "/v1/scf/credit/consents/{borrower}/{lender}"}


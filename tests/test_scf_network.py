"""Issue 11 on four real validators (one network for the module), through the SDK, each party on
its own node: a core enterprise confirms a payable on its bank's credit line; it travels three
tiers down, split on the way; two tiers finance their parts at two different banks (DvP); a
second financing of the same invoice at the other bank is refused; maturity (block time) pays
every holder of every part at once and restores the line; a lender's credit query is refused
until the borrower consents and then shows another lender's loan; money is conserved."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tests.openapi_bodies import check_answer
from tests.procs import NetNode, api_client, api_get, reader_env, running_network, wait_for
from typer.testing import CliRunner

from consortia.apps.scf import sdk as apps
from consortia.cli.main import app
from consortia.client.cbdc import CbdcWallet
from consortia.client.client import Client
from consortia.client.permissioned import prepare_identity
from consortia.client.scf import ContractRefused, ScfQueries, ScfWallet
from consortia.client.wallet import Wallet
from consortia.contracts.permissioned.monetary import reserve_address
from consortia.contracts.python.api import address_of
from consortia.crypto.address import format_address
from consortia.crypto.keyfile import load_key_file, save_key_file
from consortia.crypto.keys import KeyPair

pytestmark = pytest.mark.slow

ORGS = "cb:central-bank,bank-a:bank,bank-b:bank,reg:regulator,corp-x:enterprise,corp-y:enterprise"
TIMEOUT = 30.0
M = 1_000_000
TERM_MS = 15_000
"""Maturity of the payables after confirmation (the financing steps before it take ~5 s;
the credit steps fill the wait)."""


@dataclass
class Chain:
    nodes: list[NetNode]
    clients: list[Client]
    parties: dict[str, ScfWallet]
    reserves: list[bytes]

    def addr(self, name: str) -> bytes:
        return self.parties[name].address

    def balance(self, address: bytes) -> int:
        url = f"{self.nodes[0].url}/v1/accounts/{format_address(address)}"
        return int(api_get(url, timeout=5).json()["balance"])

    def total(self) -> int:
        accounts = [p.address for p in self.parties.values()] + self.reserves
        return sum(self.balance(a) for a in [*accounts, address_of(apps.SCF), address_of(apps.CREDIT)])


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chain]:
    home = tmp_path_factory.mktemp("scf-net")
    with running_network(home / "net", "--orgs", ORGS) as (info, nodes):
        clients = [api_client(n.url, timeout=TIMEOUT) for n in nodes]
        try:
            wait_for(lambda: min(n.height() for n in nodes) >= 1, TIMEOUT, "the first block on every node")
            yield _open(info, nodes, clients)
        finally:
            for client in clients:
                client.close()


def _open(info: dict[str, Any], nodes: list[NetNode], clients: list[Client]) -> Chain:
    admin_files = {o["name"]: o["admin_key"] for o in info["orgs"]}
    admins = {name: load_key_file(Path(file)) for name, file in admin_files.items()}
    suite = clients[0].genesis().suite

    def wallet(key: KeyPair, node: int) -> ScfWallet:
        return ScfWallet(Wallet(key, clients[node % 4]), timeout=TIMEOUT)

    central = CbdcWallet(Wallet(admins["cb"], clients[0]), timeout=TIMEOUT)
    for bank in ("bank-a", "bank-b"):
        central.issue(bank, 20 * M)
    parties = {"bank-a": wallet(admins["bank-a"], 1), "bank-b": wallet(admins["bank-b"], 2)}
    companies = (
        ("core", "corp-x", "bank-a"),
        ("tier1", "corp-x", "bank-a"),
        ("tier2", "corp-y", "bank-b"),
        ("tier3", "corp-y", "bank-b"),
    )
    for index, (name, org, bank) in enumerate(companies):
        ca_cert = next((Path(admin_files[org]).parent / "ca").glob("*-ca.crt"))
        new = prepare_identity(name, suite, ca_cert.read_bytes(), ca_cert.with_suffix(".key").read_bytes())
        wallet(admins[org], index).enroll(new.key.address, 1, new.pii_hash, new.certificate)
        CbdcWallet(Wallet(admins[bank], clients[index % 4]), timeout=TIMEOUT).fund(new.key.address, 3 * M)
        parties[name] = wallet(new.key, index)
    for bank in ("bank-a", "bank-b"):
        CbdcWallet(Wallet(admins[bank], clients[0]), timeout=TIMEOUT).fund(admins[bank].address, 5 * M)
    return Chain(nodes, clients, parties, [reserve_address("bank-a"), reserve_address("bank-b")])


def test_a_payable_down_three_tiers_financed_at_two_banks_and_paid_at_maturity(chain: Chain) -> None:
    p, addr = chain.parties, chain.addr
    views = [ScfQueries(c) for c in chain.clients]
    total = chain.total()

    p["bank-a"].set_line(addr("core"), 5 * M)
    invoice = p["tier1"].register_invoice(addr("core"), "INV-2025-001", M, "2025-03-01")
    assert views[2].invoice(invoice)["amount"] == M  # the same hash at every node
    maturity = views[0].head_time() + TERM_MS
    payable = p["core"].confirm(addr("tier1"), M, maturity, [invoice])
    assert views[1].line(addr("core"))["used"] == M

    # three tiers down, split on the way
    to_tier2 = p["tier1"].transfer(payable, addr("tier2"), 600_000)
    to_tier3 = p["tier2"].transfer(to_tier2, addr("tier3"), 250_000)
    with pytest.raises(ContractRefused) as refused:
        p["tier1"].transfer(to_tier2, addr("tier3"), 1)
    assert refused.value.code == "not_holder"

    # tier 2 finances at bank A, tier 3 at bank B (with recourse): price to the seller, part to the bank
    offer2 = p["tier2"].finance(to_tier2, addr("bank-a"), 350_000, 450)
    offer3 = p["tier3"].finance(to_tier3, addr("bank-b"), 250_000, 600, recourse=True)
    seller_before = chain.balance(addr("tier2"))
    done = p["bank-a"].finance_accept(offer2["part"])
    assert done["price"] == offer2["price"] == 350_000 - offer2["interest"]
    assert chain.balance(addr("tier2")) == seller_before + done["price"]
    p["bank-b"].finance_accept(offer3["part"])
    assert views[3].invoice(invoice)["locked"] == 600_000

    # the same invoice again at the other bank, through a second payable on it: refused past what is left
    second = p["core"].confirm(addr("tier1"), 500_000, maturity, [invoice])
    with pytest.raises(ContractRefused) as refused:
        p["tier1"].finance(second, addr("bank-b"), 500_000, 450)
    assert refused.value.code == "invoice_already_financed"
    assert "400000 not yet financed, 500000 asked" in str(refused.value)
    assert views[0].invoice(invoice)["locked"] == 600_000

    # credit records: refused without consent, another lender's loan shown with it
    now = views[0].head_time()
    p["bank-a"].record_loan(
        addr("tier2"), apps.loan_commitment(b"s" * 16, b"loan 1"), 800_000, now, now + 10**9
    )
    with pytest.raises(ContractRefused) as refused:
        p["bank-b"].query_credit(addr("tier2"))
    assert refused.value.code == "no_consent"
    p["tier2"].consent(addr("bank-b"), now + 10**9)
    answer = p["bank-b"].query_credit(addr("tier2"))
    assert answer["outstanding"] == 800_000 and answer["lenders"] == [addr("bank-a")]
    assert [item["lender"] for item in answer["items"]] == [addr("bank-a")]
    assert [e["by"] for e in views[1].query_log(addr("tier2"))] == [addr("bank-b")]

    # maturity by block time: every holder of every part paid at once, the line restored
    wait_for(lambda: views[0].head_time() >= maturity, TIMEOUT + TERM_MS / 1000, "a block at the maturity")
    holders = {(part["holder"], part["amount"]) for part in views[0].parts_of(payable)}
    assert sorted(holders) == sorted(
        {(addr("tier1"), 400_000), (addr("bank-a"), 350_000), (addr("bank-b"), 250_000)}
    )
    before = {name: chain.balance(addr(name)) for name in p}
    paid = p["core"].settle(payable)
    assert sorted((x["holder"], x["amount"]) for x in paid) == sorted(holders)
    for name in p:
        received = sum(x["amount"] for x in paid if x["holder"] == addr(name))
        spent = M if name == "core" else 0
        assert chain.balance(addr(name)) == before[name] + received - spent, name
    p["core"].settle(second)
    assert views[2].line(addr("core"))["used"] == 0
    assert all(part["status"] == "paid" for part in views[3].parts_of(payable))
    assert chain.total() == total


def cli(node: str | None, *args: str) -> dict[str, Any]:
    """One ``consortia`` command (against ``node``, unless None) with ``--json``: its document
    (and it exited 0 exactly when the document is not a refusal)."""
    argv = [*args, "--json", *(["--node", node] if node else [])]
    result = CliRunner().invoke(app, argv, env=reader_env(argv))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert (result.exit_code == 0) == (out.get("ok", True) is not False), (args, result.stdout)
    return out


def test_the_cli_and_rest_over_the_same_network(chain: Chain, tmp_path: Path) -> None:
    """The story again through ``consortia scf|invoice|credit`` (keys in files, each party on
    its own node) and read back through ``/v1/scf``."""
    p, addr = chain.parties, chain.addr
    keys = {}
    for name in ("bank-a", "bank-b", "core", "tier1", "tier2", "tier3"):
        keys[name] = str(tmp_path / f"{name}.key")
        save_key_file(Path(keys[name]), p[name].wallet.key, None)
    url = [n.url for n in chain.nodes]
    a = {name: format_address(addr(name)) for name in keys}

    line = cli(url[1], "scf", "line", "--core", a["core"], "--limit", str(5 * M), "--key", keys["bank-a"])
    assert line["ok"] and line["limit"] == 5 * M
    digest = cli(url[1], "invoice", "register", "--buyer", a["core"], "--number", "cli 7",
                 "--amount", "300000", "--date", "2025-04-01", "--key", keys["tier1"])["hash"]
    offline = cli(None, "invoice", "hash", "--seller", a["tier1"], "--buyer", a["core"],
                  "--number", "CLI-7", "--amount", "300000", "--date", "20250401")
    assert offline["hash"] == digest
    payable = cli(url[0], "scf", "confirm", "--supplier", a["tier1"], "--amount", "300000",
                  "--maturity", "+1h", "--invoice", digest, "--key", keys["core"])["id"]
    part = cli(url[1], "scf", "transfer", str(payable), "--to", a["tier2"], "--amount", "100000",
               "--key", keys["tier1"])["part"]
    refused = cli(url[3], "scf", "transfer", str(payable), "--to", a["tier3"], "--amount", "1",
                  "--key", keys["tier3"])
    assert refused["error"]["code"] == "not_holder"
    offer = cli(url[2], "scf", "finance", str(part), "--bank", a["bank-b"], "--amount", "100000",
                "--rate-bps", "500", "--key", keys["tier2"])
    assert offer["price"] == 100_000 - offer["interest"] and offer["part"] == part
    assert cli(url[2], "scf", "finance-accept", str(part), "--key", keys["bank-b"])["price"] == offer["price"]
    shown = cli(url[3], "scf", "show", str(payable))
    assert sorted((x["holder"], x["amount"]) for x in shown["parts"]) == sorted(
        [(a["tier1"], 200_000), (a["bank-b"], 100_000)])
    held = cli(url[0], "scf", "list", "--holder", a["bank-b"])["parts"]
    assert part in [x["id"] for x in held]

    # credit: consent, a logged query, revocation, then refused
    assert cli(url[3], "credit", "consent", "--lender", a["bank-a"], "--until", "+1h", "--scope", "summary",
               "--key", keys["tier3"])["ok"]
    answer = cli(url[1], "credit", "query", a["tier3"], "--key", keys["bank-a"])
    assert answer["scope"] == "summary" and "items" not in answer
    assert cli(url[3], "credit", "revoke", "--lender", a["bank-a"], "--key", keys["tier3"])["ok"]
    again = cli(url[1], "credit", "query", a["tier3"], "--key", keys["bank-a"])
    assert again["error"]["code"] == "no_consent"
    assert [e["by"] for e in cli(url[0], "credit", "log", a["tier3"])["log"]] == [a["bank-a"]]

    # the same through REST, on another node
    def get(path: str) -> dict[str, Any]:
        response = api_get(url[2] + path, timeout=5)
        assert response.status_code == 200, (path, response.text)
        check_answer(path, response.json())  # the view's declared result shape, as documented
        return dict(response.json())

    assert get(f"/v1/scf/payables/{payable}")["parts"] == shown["parts"]
    assert get(f"/v1/scf/invoices/{digest}")["invoice"]["locked"] == 100_000
    assert get(f"/v1/scf/lines/{a['core']}")["line"]["used"] >= 300_000
    assert part in [x["id"] for x in get(f"/v1/scf/parts?holder={a['bank-b']}")["parts"]]
    assert get(f"/v1/scf/parts/{payable}/quote?amount=1000&rate_bps=500")["price"] <= 1000
    assert [e["by"] for e in get(f"/v1/scf/credit/log/{a['tier3']}")["log"]] == [a["bank-a"]]
    assert get(f"/v1/scf/credit/consents/{a['tier3']}/{a['bank-a']}")["consent"]["revoked"] > 0
    assert any(x["id"] == payable for x in get("/v1/scf/payables")["payables"])
    missing = api_get(url[2] + "/v1/scf/parts/999999", timeout=5)
    assert (missing.status_code, missing.json()["code"]) == (404, "not_found")

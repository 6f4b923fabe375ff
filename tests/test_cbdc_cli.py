"""The currency's user surface (issue 9): SDK argument checks, CLI refusals before signing, REST
views in process, and one story on four real validators driven through the CLI."""

from __future__ import annotations

import asyncio
import json
import stat
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.procs import admin_auth, api_get, cli, cli_result, running_network, wait_for
from typer.testing import CliRunner

from consortia.api.app import create_app
from consortia.cli.main import app
from consortia.client import cbdc
from consortia.client import contracts as sdk
from consortia.contracts.permissioned.errors import LimitExceeded
from consortia.contracts.permissioned.identity import pii_commitment
from consortia.crypto import sealed
from consortia.crypto.address import BadAddress
from consortia.crypto.keys import KeyPair
from consortia.errors import ConfigError, InvalidCall
from consortia.node.network_setup import init_network
from consortia.node.node import Node

ORGS = "cb:central-bank,bank-a:bank,bank-b:bank,reg:regulator"
ADDR = "0x" + "ab" * 20
runner = CliRunner()


def invoke(*args: str) -> tuple[int, dict[str, Any]]:
    """A CLI command in process with --json: exit code and its document."""
    result = runner.invoke(app, [*args, "--json"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, json.loads(result.stdout.strip().splitlines()[-1])


# --- argument checks ------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [0, -5, 10**30, 2**64, True, "5", 1.5, None])
def test_bad_amounts_are_refused(bad: object) -> None:
    with pytest.raises(cbdc.InvalidAmount):
        cbdc.check_amount(bad)


def test_good_amounts_addresses_and_tiers() -> None:
    assert cbdc.check_amount(1) == 1 and cbdc.check_amount(2**64 - 1) == 2**64 - 1
    raw = bytes.fromhex("ab" * 20)
    check = cbdc.check_address_arg
    assert check(ADDR) == raw == check(ADDR.upper()[2:]) == check(raw)
    assert [cbdc.check_tier(t) for t in (1, 2, 3, 4)] == [1, 2, 3, 4]


@pytest.mark.parametrize("bad", ["0x12", "zz" * 20, b"\x00" * 19, 5, None, "0x" + "ab" * 21])
def test_bad_addresses_are_refused(bad: object) -> None:
    with pytest.raises(BadAddress):
        cbdc.check_address_arg(bad)


@pytest.mark.parametrize("bad", [0, 5, -1, True, "4", 2.0])
def test_bad_tiers_are_refused(bad: object) -> None:
    with pytest.raises(cbdc.InvalidTier):
        cbdc.check_tier(bad)


def test_other_arguments() -> None:
    for bad_id in (0, -1, 2**63, "1", False):
        with pytest.raises(cbdc.InvalidArgument):
            cbdc.check_id(bad_id)
    with pytest.raises(cbdc.InvalidArgument):
        cbdc.check_height(-1)
    with pytest.raises(cbdc.InvalidArgument):
        cbdc.check_payees([])
    with pytest.raises(cbdc.InvalidArgument):
        cbdc.check_payees([ADDR] * 33)
    with pytest.raises(BadAddress):
        cbdc.check_payees([ADDR, "0x12"])
    with pytest.raises(cbdc.InvalidArgument):
        cbdc.check_org("")
    with pytest.raises(cbdc.InvalidArgument):
        cbdc.check_text("  ", "the reason", 512)


def test_personal_data_by_tier() -> None:
    with pytest.raises(cbdc.InvalidArgument, match="phone"):
        cbdc.personal_fields(4, "Ann", None)
    with pytest.raises(cbdc.InvalidArgument, match="name"):
        cbdc.personal_fields(2, None, "138")
    assert cbdc.personal_fields(4, None, " 138 ") == {"phone": "138"}
    assert cbdc.personal_data_bytes({"phone": "1", "name": "Ä"}) == '{"name":"Ä","phone":"1"}'.encode()


def test_wallet_record_commitment_and_sealed_answer(tmp_path: Path) -> None:
    new = cbdc.prepare_wallet("bank-a", 4, "ed25519", phone="13800000000")
    record = new.record
    assert record.address == new.key.address and len(record.salt) == 32
    assert record.commitment == pii_commitment(record.salt, record.data, "ed25519")
    pii = new.save(tmp_path / "w.key", None)
    assert pii == tmp_path / "w.key.pii.json" and stat.S_IMODE(pii.stat().st_mode) == 0o600
    assert cbdc.WalletRecord.load(pii) == record
    with pytest.raises(Exception, match="already exists"):
        new.save(tmp_path / "w.key", None)
    # what the bank seals to the regulator opens only with the regulator's key and matches
    regulator = KeyPair.generate("ed25519")
    box = sealed.seal_identity(sealed.resolve_public_key(regulator), record.salt, record.data)
    salt, data = sealed.open_identity(sealed.resolve_keypair(regulator), box)
    assert sealed.matches_commitment(record.commitment, salt, data, "ed25519")
    (tmp_path / "bad.json").write_text('{"address": "0x12"}')
    with pytest.raises(ConfigError):
        cbdc.WalletRecord.load(tmp_path / "bad.json")


def _receipt(status: str, error: str) -> sdk.ContractReceipt:
    return sdk.ContractReceipt(b"\x01" * 32, 7, status, error, 10)


def test_refusals_keep_the_receipt_code() -> None:
    own = cbdc.app_refusal(_receipt("escrow_not_releasable", "escrow 3 is already released"))
    assert isinstance(own, cbdc.ContractRefused) and own.code == "escrow_not_releasable"
    assert own.to_dict()["code"] == "escrow_not_releasable" and "released" in own.message
    system = cbdc.app_refusal(_receipt("limit_exceeded", "above the tier 4 balance limit 1000000"))
    assert isinstance(system, LimitExceeded)


def test_attached_value_is_checked_before_signing() -> None:
    for bad in (-1, 2**64, True, 1.5):
        with pytest.raises(InvalidCall):
            sdk.send(None, "escrow", "create", [], value=bad)  # type: ignore[arg-type]


# --- the CLI refuses before signing (no node, no key file read) -------------------------------------


@pytest.mark.parametrize("amount", ["0", "-5", str(10**30)])
def test_cli_refuses_bad_amounts_before_signing(amount: str) -> None:
    for args in (["cbdc", "issue", "--bank", "bank-a"], ["cbdc", "redeem"], ["wallet", "fund", ADDR],
                 ["wallet", "pay", ADDR]):
        code, out = invoke(*args, "--amount", amount, "--key", "/nonexistent.key")
        assert code == 1 and out["error"]["code"] == "invalid_amount", (args, out)
        assert amount in out["error"]["message"]


def test_cli_refuses_bad_tiers_addresses_and_personal_data(tmp_path: Path) -> None:
    out_key = tmp_path / "w.key"
    opened = ["wallet", "open", "--org-key", "/nonexistent.key", "--out", str(out_key), "--no-password"]
    assert invoke(*opened, "--tier", "5", "--phone", "1")[1]["error"]["code"] == "invalid_tier"
    assert invoke(*opened, "--tier", "4", "--name", "Ann")[1]["error"]["code"] == "invalid_argument"
    assert not out_key.exists()
    code, out = invoke("wallet", "upgrade", ADDR, "--tier", "0", "--org-key", "/nonexistent.key")
    assert code == 1 and out["error"]["code"] == "invalid_tier"
    code, out = invoke("wallet", "pay", "0x12", "--amount", "5", "--key", "/x")
    assert code == 1 and out["error"]["code"] == "bad_address"
    code, out = invoke("cbdc", "earmark", "--to", ADDR, "--amount", "5", "--payees", ",",
                       "--expires-height", "10", "--key", "/x")
    assert code == 1 and out["error"]["code"] == "invalid_argument"
    code, out = invoke("escrow", "release", "0", "--key", "/x")
    assert code == 1 and out["error"]["code"] == "invalid_argument"
    code, out = invoke("reg", "resolve", ADDR, "--reason", "", "--key", "/x")
    assert code == 1 and out["error"]["code"] == "invalid_argument"
    code, out = invoke("wallet", "resolve-answer", "1", "--org-key", "/x", "--pii", str(tmp_path / "none"))
    assert code == 1 and out["error"]["code"] == "config_error"


# --- REST views, in process ----------------------------------------------------------------------


def test_rest_views_of_a_fresh_permissioned_chain(tmp_path: Path) -> None:
    homes = init_network(tmp_path / "net", 4, base_port=29_000, orgs=ORGS)
    node = Node(homes[0].home)

    async def fetch(paths: list[str]) -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=create_app(node))
        auth = admin_auth(tmp_path / "net", node.genesis.chain_id)  # the regulator reads all
        async with httpx.AsyncClient(transport=transport, base_url="http://node", auth=auth) as http:
            return [await http.get(p) for p in paths]

    try:
        paths = ["/v1/cbdc/supply", "/v1/reserves/bank-a", "/v1/reserves/nope", f"/v1/wallets/{ADDR}",
                 "/v1/escrows/1", "/v1/earmarks/1", "/v1/resolve/1", "/v1/escrows/x", "/v1/wallets/zz"]
        answers = asyncio.run(fetch(paths))
    finally:
        node.close()
    supply, reserve, *missing, bad_id, bad_address = answers
    assert supply.status_code == 200 and supply.json()["in_circulation"] == supply.json()["issued"] > 0
    assert reserve.json()["balance"] == 0 and reserve.json()["role"] == "bank"
    assert [r.status_code for r in missing] == [404] * 5
    assert {r.json()["code"] for r in missing} == {"not_found"}
    assert bad_id.status_code == 400 and bad_address.json()["code"] == "bad_address"


# --- four real validators, through the CLI -------------------------------------------------------


def _admin(info: dict[str, Any], org: str) -> str:
    return str(next(o["admin_key"] for o in info["orgs"] if o["name"] == org))


@pytest.mark.slow
def test_currency_story_on_four_validators(tmp_path: Path) -> None:
    with running_network(tmp_path / "net", "--orgs", ORGS) as (info, nodes):
        url = nodes[0].url
        wait_for(lambda: min(n.height() for n in nodes) >= 1, 30, "first block")
        cb, bank_a, reg = _admin(info, "cb"), _admin(info, "bank-a"), _admin(info, "reg")
        alice = next(k for k in info["keys"] if k["name"] == "alice")["address"]
        before = cli_result("cbdc", "supply", "--node", url)

        def run(*args: str) -> dict[str, Any]:
            return cli_result(*args, "--node", url)

        # central bank -> bank-a's reserve; a bank may not issue
        assert run("cbdc", "issue", "--bank", "bank-a", "--amount", "10000000", "--key", cb)["ok"]
        refused = run("cbdc", "issue", "--bank", "bank-a", "--amount", "5", "--key", bank_a)
        assert refused["_rc"] == 1 and refused["error"]["code"] == "not_issuer"

        # a tier-4 wallet: key for the holder, the bank's record next to it, commitment on chain
        wallet_key = tmp_path / "w.key"
        opened = run("wallet", "open", "--org-key", bank_a, "--tier", "4", "--phone", "13800000000",
                     "--out", str(wallet_key), "--no-password")
        assert opened["ok"] and opened["org"] == "bank-a", opened
        wallet = opened["address"]
        record = json.loads(Path(opened["pii_file"]).read_text())
        assert record["personal_data"] == {"phone": "13800000000"} and record["address"] == wallet

        # only a bank opens wallets; a refused opening leaves no key behind
        stray = tmp_path / "stray.key"
        no = run("wallet", "open", "--org-key", cb, "--tier", "4", "--phone", "1", "--out", str(stray),
                 "--no-password")
        assert no["_rc"] == 1 and no["error"]["code"] == "not_operator_bank", no
        assert not stray.exists() and not (tmp_path / "stray.key.pii.json").exists()

        # fund it from the reserve, pay twice, then the third payment breaks the daily limit
        assert run("wallet", "fund", wallet, "--amount", "900000", "--key", bank_a)["ok"]
        assert run("wallet", "pay", alice, "--amount", "200000", "--key", str(wallet_key))["ok"]
        assert run("wallet", "pay", alice, "--amount", "200000", "--key", str(wallet_key))["ok"]
        over = run("wallet", "pay", alice, "--amount", "200000", "--key", str(wallet_key))
        assert over["_rc"] == 1 and over["error"]["code"] == "limit_exceeded", over
        assert "600000" in over["error"]["message"] and "500000" in over["error"]["message"]
        text = cli("wallet", "pay", alice, "--amount", "250000", "--key", str(wallet_key), "--node", url)
        assert text.returncode == 1 and "limit_exceeded" in text.stderr and "Traceback" not in text.stderr
        bad = cli("wallet", "pay", alice, "--amount", "-5", "--key", str(wallet_key), "--node", url)
        assert bad.returncode == 1 and "invalid_amount" in bad.stderr and "Traceback" not in bad.stderr

        shown = run("wallet", "show", wallet)
        assert (shown["tier"], shown["balance"], shown["spent_today"]) == (4, 500_000, 400_000), shown
        assert shown["limits"] == {"per_payment": 200_000, "daily": 500_000, "balance": 1_000_000}
        assert shown["remaining_today"] == 100_000 and shown["role"] == "wallet"

        # escrow from the wallet to alice, released by bank-a's admin
        bank_admin = next(o["admin"] for o in info["orgs"] if o["name"] == "bank-a")
        height = nodes[0].height()
        made = run("escrow", "create", "--payee", alice, "--releaser", bank_admin, "--deadline-height",
                   str(height + 100), "--amount", "50000", "--key", str(wallet_key))
        assert made["ok"] and made["id"] == 1, made
        not_yours = run("escrow", "release", "1", "--key", str(wallet_key))
        assert not_yours["_rc"] == 1 and not_yours["error"]["code"] == "escrow_not_releasable"
        assert run("escrow", "release", "1", "--key", bank_a)["ok"]
        assert run("escrow", "show", "1")["status"] == "released"

        # controllable anonymity: the regulator asks, the bank answers sealed, the regulator opens
        asked = run("reg", "resolve", wallet, "--reason", "court order 17", "--key", reg)
        assert asked["ok"] and asked["id"] == 1, asked
        assert run("wallet", "resolve-answer", "1", "--org-key", bank_a, "--pii", opened["pii_file"])["ok"]
        found = run("reg", "resolution", "1", "--key", reg)
        assert found["matches_commitment"] and found["personal_data"] == {"phone": "13800000000"}, found

        # supply: +10,000,000 issued, 1,000 redeemed; served by another node too
        assert run("cbdc", "redeem", "--amount", "1000", "--key", bank_a)["ok"]
        supply = run("cbdc", "supply")
        assert supply["issued"] == before["issued"] + 10_000_000 and supply["redeemed"] == 1000
        assert supply["by_org"]["bank-a"]["issued"] == before["by_org"]["bank-a"]["issued"] + 10_000_000
        wait_for(lambda: nodes[3].height() >= supply["height"], 20, "node3 caught up")
        reserve = api_get(f"{nodes[3].url}/v1/reserves/bank-a", timeout=5).json()
        assert reserve["balance"] == 10_000_000 - 900_000 - 1000

"""Issue 12's energy part on four real validators (one network for the module), through the SDK,
the REST routes and the CLI:

* a grid operator enrols a meter (CLI); its signed readings issue green certificates, one per
  MWh with the remainder carried; a certificate is transferred and retired, and retiring it
  again is refused (exit code, typed error, nothing changed);
* a peer-to-peer trade on a second meter with 2-second intervals: offered, accepted (the price
  locked), metered short of the offer and settled pro rata with the grid's fee and the rest
  refunded — the period closed by block timestamps, never by faking time.

Parties talk to different nodes, so every step also crosses the peer network."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tests.procs import NetNode, api_client, api_get, cli, cli_result, running_network, wait_for

from consortia.apps.energy import sdk as apps
from consortia.client.cbdc import CbdcWallet, ContractRefused
from consortia.client.client import Client
from consortia.client.energy import EnergyQueries, EnergyWallet
from consortia.client.permissioned import prepare_identity
from consortia.client.wallet import Wallet
from consortia.contracts.python.api import address_of
from consortia.crypto.address import format_address
from consortia.crypto.keyfile import load_key_file, save_key_file
from consortia.crypto.keys import KeyPair
from consortia.ledger.proofs import verify_receipt_proof

pytestmark = pytest.mark.slow

ORGS = "cb:central-bank,bank-a:bank,reg:regulator,grid-co:grid,homes:enterprise"
TIMEOUT = 30.0
HOUR = 3_600_000
FAST_MS = 2000
"""The trading meter's interval: a period closes two seconds of block time after it starts."""


@dataclass
class Grid:
    nodes: list[NetNode]
    clients: list[Client]
    parties: dict[str, EnergyWallet]
    key_files: dict[str, Path]

    def addr(self, name: str) -> str:
        return format_address(self.parties[name].address)

    def balance(self, name: str) -> int:
        return self.clients[0].balance(self.parties[name].address)


@pytest.fixture(scope="module")
def grid(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Grid]:
    home = tmp_path_factory.mktemp("energy-net")
    with running_network(home / "net", "--orgs", ORGS) as (info, nodes):
        clients = [api_client(n.url, timeout=TIMEOUT) for n in nodes]
        try:
            wait_for(lambda: min(n.height() for n in nodes) >= 1, TIMEOUT, "the first block on every node")
            yield _open_grid(home, info, nodes, clients)
        finally:
            for client in clients:
                client.close()


def _open_grid(home: Path, info: dict[str, Any], nodes: list[NetNode], clients: list[Client]) -> Grid:
    admin_files = {o["name"]: Path(o["admin_key"]) for o in info["orgs"]}
    admins = {name: load_key_file(file) for name, file in admin_files.items()}
    suite = clients[0].genesis().suite
    CbdcWallet(Wallet(admins["cb"], clients[0]), timeout=TIMEOUT).issue("bank-a", 50_000_000)
    bank = CbdcWallet(Wallet(admins["bank-a"], clients[1]), timeout=TIMEOUT)
    homes = EnergyWallet(Wallet(admins["homes"], clients[2]), timeout=TIMEOUT)
    ca_cert = next((admin_files["homes"].parent / "ca").glob("*-ca.crt"))
    parties = {"grid": EnergyWallet(Wallet(admins["grid-co"], clients[3]), timeout=TIMEOUT)}
    key_files = {"grid": admin_files["grid-co"]}
    for index, name in enumerate(("solar", "buyer")):
        new = prepare_identity(name, suite, ca_cert.read_bytes(), ca_cert.with_suffix(".key").read_bytes())
        key_files[name] = home / f"{name}.key"
        save_key_file(key_files[name], new.key, None)
        homes.enroll(new.key.address, 1, new.pii_hash, new.certificate)
        bank.fund(new.key.address, 1_000_000)
        parties[name] = EnergyWallet(Wallet(new.key, clients[index]), timeout=TIMEOUT)
    for name in ("plant", "roof"):  # meters: keys only, never chain identities
        key_files[name] = home / f"{name}.key"
        save_key_file(key_files[name], KeyPair.generate(suite), None)
    return Grid(nodes, clients, parties, key_files)


def test_readings_issue_certificates_transferred_and_retired_once(grid: Grid) -> None:
    p, files, url = grid.parties, grid.key_files, grid.nodes[0].url
    queries = EnergyQueries(grid.clients[1])
    plant = load_key_file(files["plant"])
    first = queries.head_time() // HOUR - 5
    added = cli_result("energy", "meter", "add", "--meter-key", str(files["plant"]),
                       "--owner", grid.addr("solar"), "--max-w", "5000000", "--interval", "1h",
                       "--first-period", str(first), "--fee-bps", "100", "--key", str(files["grid"]),
                       "--node", url)
    assert added["_rc"] == 0 and added["meter"] == format_address(plant.address), added
    refused = cli_result("energy", "meter", "add", "--meter-key", str(files["roof"]),
                         "--owner", grid.addr("solar"), "--max-w", "1000", "--key", str(files["solar"]),
                         "--node", url)
    assert refused["_rc"] != 0 and refused["error"]["code"] == "not_grid_operator", refused

    read = cli_result("energy", "read", "--meter-key", str(files["plant"]), "--wh", "2400000",
                      "--period", str(first), "--key", str(files["solar"]), "--node", grid.nodes[2].url)
    assert read["_rc"] == 0 and read["certificates"] == [1, 2] and read["carry_wh"] == 400_000, read
    p["solar"].read(plant, first + 1, 300_000)
    made = p["buyer"].read(plant, first + 2, 350_000, 12_000)  # any identity may be the gateway
    assert made.fields["certificates"] == [3] and made.fields["carry_wh"] == 50_000
    with pytest.raises(ContractRefused) as replay:
        p["solar"].read(plant, first + 2, 350_000, 12_000)
    assert replay.value.code == "period_not_increasing"
    with pytest.raises(ContractRefused) as too_much:
        p["solar"].read(plant, first + 3, 5_000_001)
    assert too_much.value.code == "reading_too_large" and "5000000 Wh" in too_much.value.message
    meter = EnergyQueries(grid.clients[3]).meter(plant.address)
    assert (meter["produced_wh"], meter["certificates"], meter["carry_wh"]) == (3_050_000, 3, 50_000)

    certs = cli_result("energy", "certs", "--owner", grid.addr("solar"), "--node", grid.nodes[1].url)
    assert [c["serial"] for c in certs["certificates"]] == [1, 2, 3]
    assert certs["certificates"][0]["meter"] == format_address(plant.address)
    moved = cli_result("energy", "cert", "transfer", "1", "--to", grid.addr("buyer"),
                       "--key", str(files["solar"]), "--node", url)
    assert moved["_rc"] == 0, moved
    retired = cli_result("energy", "cert", "retire", "1", "--beneficiary", "Acme Steel, Scope 2 2026",
                         "--key", str(files["buyer"]), "--node", grid.nodes[3].url)
    assert retired["_rc"] == 0, retired
    before = queries.certificate(1)
    again = cli_result("energy", "cert", "retire", "1", "--beneficiary", "Someone else",
                       "--key", str(files["buyer"]), "--node", url)
    assert again["_rc"] != 0 and again["error"]["code"] == "already_retired", again
    assert "Acme Steel, Scope 2 2026" in again["error"]["message"]
    with pytest.raises(ContractRefused) as elsewhere:
        p["buyer"].transfer(1, grid.addr("solar"))
    assert elsewhere.value.code == "already_retired"
    after = queries.certificate(1)
    assert after == before and after["status"] == "retired"
    assert after["beneficiary"] == "Acme Steel, Scope 2 2026"
    assert after["holder"] == grid.addr("buyer") and after["retired_by"] == grid.addr("buyer")
    totals = queries.totals()
    assert (totals["certificates"], totals["retired"]) == (3, 1)
    for path, status in (("/v1/energy/certificates/4", 404), ("/v1/energy/trades/1", 404),
                         (f"/v1/energy/meters/0x{'00' * 20}", 404), ("/v1/energy/certificates", 400),
                         ("/v1/energy/certificates?owner=0x12", 400), ("/v1/energy/certificates/0", 400)):
        answer = api_get(grid.nodes[1].url + path, timeout=5)
        assert answer.status_code == status and "code" in answer.json(), (path, answer.text)
    reading = api_get(f"{url}/v1/energy/meters/{format_address(plant.address)}/readings/{first}", timeout=5)
    assert reading.json()["reading"] == [2_400_000, 0]
    genesis = grid.clients[0].genesis()
    proof = grid.clients[2].receipt_proof(bytes.fromhex(retired["tx_hash"].removeprefix("0x")))
    assert verify_receipt_proof(proof, genesis).status == "ok"


def test_a_p2p_trade_settles_pro_rata_for_partial_delivery(grid: Grid) -> None:
    p, files = grid.parties, grid.key_files
    roof = load_key_file(files["roof"])
    queries = EnergyQueries(grid.clients[2])
    p["grid"].enrol(roof.public_key, p["solar"].address, interval_ms=FAST_MS, max_w=36_000_000, fee_bps=250)
    period = queries.head_time() // FAST_MS + 4  # 6-8 s ahead: time to offer and accept
    offered = cli_result("energy", "offer", "--meter", format_address(roof.address), "--kwh", "10",
                         "--price", "1234", "--period", str(period), "--key", str(files["solar"]),
                         "--node", grid.nodes[1].url)
    assert offered["_rc"] == 0, offered
    trade_id = int(offered["id"])
    balances = {name: grid.balance(name) for name in ("solar", "buyer", "grid")}
    accepted = p["buyer"].accept(trade_id)
    assert accepted.fields["locked"] == 12_340
    assert grid.balance("buyer") == balances["buyer"] - 12_340
    with pytest.raises(ContractRefused) as early:
        p["buyer"].settle(trade_id)
    assert early.value.code == "not_metered"

    end_ms = apps.period_end_ms(period, FAST_MS)
    wait_for(lambda: queries.head_time() >= end_ms, TIMEOUT, f"a block at or after {end_ms}")
    p["solar"].read(roof, period, 7_777, 1_000)  # 6,777 Wh of surplus for the 10,000 Wh sold
    settled = cli_result("energy", "settle", str(trade_id), "--key", str(files["grid"]),
                         "--node", grid.nodes[3].url)
    assert settled["_rc"] == 0, settled
    expected = apps.settlement(10_000, 1_234, 250, 6_777)
    assert (settled["delivered_wh"], settled["paid"], settled["fee"], settled["refund"]) == (
        6_777, expected.paid, expected.fee, expected.refund) == (6_777, 8_362, 209, 3_978)
    assert grid.balance("solar") == balances["solar"] + expected.seller_gets
    assert grid.balance("grid") == balances["grid"] + expected.fee
    assert grid.balance("buyer") == balances["buyer"] - expected.paid
    assert grid.clients[0].balance(address_of(apps.ENERGY)) == 0
    trade = EnergyQueries(grid.clients[0]).trade(trade_id)
    assert trade["status"] == "settled" and trade["buyer"] == grid.addr("buyer")
    again = cli_result("energy", "settle", str(trade_id), "--key", str(files["buyer"]),
                       "--node", grid.nodes[0].url)
    assert again["_rc"] != 0 and again["error"]["code"] == "not_accepted", again
    listed = cli("energy", "trades", "--party", grid.addr("buyer"), "--node", grid.nodes[2].url)
    assert listed.returncode == 0, listed.stderr  # printed into a pipe: whole addresses, never cut
    rows = [row for row in listed.stdout.splitlines() if row.startswith("│") and grid.addr("buyer") in row]
    assert len(rows) == 1 and "…" not in listed.stdout, listed.stdout
    assert all(f" {cell} " in rows[0] for cell in ("settled", grid.addr("solar"), 6777, 8362, 3978)), rows

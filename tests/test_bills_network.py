"""Issue 10 on four real validators (one network for the module), through the SDK and the CLI:

* a bank acceptance bill issued, accepted, endorsed twice, split; one part discounted at a bank
  (delivery versus payment) and the other pledged and released; both presented and paid at
  maturity — maturity reached by block timestamps (the contract's shortest term is a second);
* a cheque stopped by its drawer and then refused at presentment (through the CLI);
* a dishonoured commercial bill recovered by recourse from an earlier endorser;
* balances conserved throughout, every step's receipt verified offline against the genesis,
  the regulator's view of every instrument and its alert on a circular endorsement.

Each party talks to its own node, so every step also crosses the peer network."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tests.procs import NetNode, api_client, api_get, cli_result, running_network, wait_for

from consortia.client.bills import BillsQueries, BillsWallet, ContractRefused
from consortia.client.cbdc import CbdcWallet
from consortia.client.client import Client
from consortia.client.permissioned import prepare_identity
from consortia.client.wallet import Wallet
from consortia.contracts.permissioned.monetary import reserve_address
from consortia.contracts.python.api import address_of
from consortia.crypto.address import format_address
from consortia.crypto.keyfile import load_key_file, save_key_file
from consortia.crypto.keys import KeyPair
from consortia.ledger.proofs import verify_receipt_proof

pytestmark = pytest.mark.slow

ORGS = "cb:central-bank,bank-a:bank,bank-b:bank,reg:regulator,corp-x:enterprise,corp-y:enterprise"
TIMEOUT = 30.0
FACE = 1_000_000
TERM_MS = 40_000
"""Maturity of the story's bills after their issue (the steps before it take ~20 s)."""
RATE_BPS = 360


@dataclass
class Market:
    nodes: list[NetNode]
    clients: list[Client]
    parties: dict[str, BillsWallet]
    key_files: dict[str, Path]
    reserves: list[bytes]

    def addr(self, name: str) -> bytes:
        return self.parties[name].address

    def balances(self) -> int:
        accounts = [p.address for p in self.parties.values()] + self.reserves + [address_of("bills")]
        return sum(int(api_get(f"{self.nodes[0].url}/v1/accounts/{format_address(a)}", timeout=5)
                       .json()["balance"]) for a in accounts)


@pytest.fixture(scope="module")
def market(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Market]:
    home = tmp_path_factory.mktemp("bills-net")
    with running_network(home / "net", "--orgs", ORGS) as (info, nodes):
        clients = [api_client(n.url, timeout=TIMEOUT) for n in nodes]
        try:
            wait_for(lambda: min(n.height() for n in nodes) >= 1, TIMEOUT, "the first block on every node")
            yield _open_market(home, info, nodes, clients)
        finally:
            for client in clients:
                client.close()


def _open_market(home: Path, info: dict[str, Any], nodes: list[NetNode], clients: list[Client]) -> Market:
    admin_files = {o["name"]: o["admin_key"] for o in info["orgs"]}
    admins = {name: load_key_file(Path(file)) for name, file in admin_files.items()}
    suite = clients[0].genesis().suite

    def wallet(key: KeyPair, node: int) -> BillsWallet:
        return BillsWallet(Wallet(key, clients[node % 4]), timeout=TIMEOUT)

    central = CbdcWallet(Wallet(admins["cb"], clients[0]), timeout=TIMEOUT)
    for bank in ("bank-a", "bank-b"):
        central.issue(bank, 20 * FACE)
    parties = {"bank-a": wallet(admins["bank-a"], 1), "bank-b": wallet(admins["bank-b"], 2),
               "reg": wallet(admins["reg"], 3)}
    key_files: dict[str, Path] = {}
    for index, (name, org, bank) in enumerate((("acme", "corp-x", "bank-a"), ("beta", "corp-x", "bank-a"),
                                               ("gamma", "corp-y", "bank-b"), ("delta", "corp-y", "bank-b"))):
        ca_cert = next((Path(admin_files[org]).parent / "ca").glob("*-ca.crt"))
        new = prepare_identity(name, suite, ca_cert.read_bytes(), ca_cert.with_suffix(".key").read_bytes())
        key = new.key
        key_files[name] = home / f"{name}.key"
        save_key_file(key_files[name], key, None)
        wallet(admins[org], index).enroll(key.address, 1, new.pii_hash, new.certificate)
        CbdcWallet(Wallet(admins[bank], clients[index % 4]), timeout=TIMEOUT).fund(key.address, 3 * FACE)
        parties[name] = wallet(key, index)
    for bank in ("bank-a", "bank-b"):  # the banks' own funds (for advances and discounts)
        CbdcWallet(Wallet(admins[bank], clients[0]), timeout=TIMEOUT).fund(admins[bank].address, 5 * FACE)
    return Market(nodes, clients, parties, key_files, [reserve_address("bank-a"), reserve_address("bank-b")])


def _wait_until(market: Market, when_ms: int) -> None:
    """Until the chain's head block is at or after ``when_ms`` (block timestamps, not our clock)."""
    query = BillsQueries(market.clients[0])
    wait_for(lambda: query.head_time() >= when_ms, TIMEOUT + TERM_MS / 1000, f"a block at {when_ms}")


def test_the_lifecycle_on_four_validators(market: Market) -> None:
    p, addr = market.parties, market.addr
    views = [BillsQueries(c) for c in market.clients]
    total = market.balances()
    started = time.monotonic()

    # the bank acceptance (acme draws on bank-a to beta) and a commercial bill (delta draws on gamma)
    now = views[0].head_time()
    bill = p["acme"].issue("bill", addr("beta"), FACE, addr("bank-a"), maturity_ms=now + TERM_MS).id
    commercial = p["delta"].issue("bill", addr("beta"), 300_000, addr("gamma"), maturity_ms=now + TERM_MS,
                                  acceptance="commercial").id
    p["bank-a"].accept(bill)
    p["gamma"].accept(commercial)
    p["beta"].endorse(bill, addr("gamma"))
    p["gamma"].endorse(bill, addr("delta"))
    first, second = p["delta"].split(bill, [600_000, 400_000])
    assert views[3].bill(bill)["status"] == "split"
    assert [s["action"] for s in views[2].history(first)] == [
        "issue", "accept", "endorse", "endorse", "split", "split_from"]

    terms = p["delta"].discount(first, addr("bank-b"), RATE_BPS)
    before_delta = views[0].list(addr("delta"))
    p["bank-b"].discount_accept(first)
    assert views[1].bill(first)["holder"] == format_address(addr("bank-b"))
    assert terms["price"] == 600_000 - terms["interest"] and terms["days"] in (0, 1)
    assert len(views[0].list(addr("delta"))) == len(before_delta) - 1

    p["delta"].pledge(second, addr("bank-b"))
    with pytest.raises(ContractRefused) as refused:
        p["delta"].endorse(second, addr("acme"))
    assert refused.value.code == "pledged"
    p["bank-b"].release(second)

    # the commercial bill goes to acme; beta is now an earlier endorser
    p["beta"].endorse(commercial, addr("acme"))

    # a cheque: acme draws on bank-a to gamma and stops it; gamma's presentment is refused
    cheque = p["acme"].issue("cheque", addr("gamma"), 70_000, addr("bank-a")).id
    p["acme"].stop(cheque)
    refused_json = cli_result("bill", "present", str(cheque), "--key", str(market.key_files["gamma"]),
                              "--node", market.nodes[2].url)
    assert refused_json["_rc"] != 0 and refused_json["error"]["code"] == "stopped", refused_json
    assert "stopped payment" in refused_json["error"]["message"]
    assert views[3].bill(cheque)["status"] == "issued"  # nothing changed

    # maturity by block timestamps: presented and paid (acme's cover first, bank-a's funds after)
    p["acme"].deposit(addr("bank-a"), 500_000)
    with pytest.raises(ContractRefused) as early:
        p["delta"].present(second)
    assert early.value.code == "not_due" and "to go" in early.value.message
    _wait_until(market, now + TERM_MS)
    p["bank-b"].present(first)
    p["delta"].present(second)
    paid_first = p["bank-a"].pay(first)
    paid_second = p["bank-a"].pay(second)
    assert paid_first.events[-1].fields["from_cover"] == 500_000
    assert paid_second.events[-1].fields["advanced"] == 400_000
    for part in (first, second):
        assert views[part % 4].bill(part)["status"] == "paid"
    with pytest.raises(ContractRefused) as twice:
        p["bank-a"].pay(first)
    assert twice.value.code == "already_paid"

    # the commercial bill is dishonoured; acme recovers from beta, an earlier endorser
    p["acme"].present(commercial)
    p["gamma"].dishonour(commercial, "refused")
    assert views[0].liable(commercial) == [format_address(addr(n)) for n in ("delta", "gamma", "beta")]
    p["acme"].recourse(commercial, addr("beta"))
    p["beta"].recourse_pay(commercial)
    recovered = views[1].bill(commercial)
    assert recovered["holder"] == format_address(addr("beta")) and recovered["status"] == "dishonoured"
    assert views[2].open_dishonours(addr("delta")) == 1

    # money conserved; every step of the pledged part verifies offline against the genesis
    assert market.balances() == total
    genesis = market.clients[0].genesis()
    for step in views[3].history(second):
        tx_hash = bytes.fromhex(step["tx"].removeprefix("0x"))
        verified = verify_receipt_proof(market.clients[int(step["n"]) % 4].receipt_proof(tx_hash), genesis)
        assert verified.status == "ok" and verified.tx_hash == tx_hash
    # the regulator sees every instrument
    everything = views[3].list()
    assert [b["id"] for b in everything] == list(range(1, cheque + 1))
    print(f"\nbills story on 4 validators: {time.monotonic() - started:.1f} s")


def test_cli_refusals_never_trace_back_and_alerts_reach_the_regulator(market: Market) -> None:
    p, addr = market.parties, market.addr
    key, url = str(market.key_files["acme"]), market.nodes[0].url
    for args, code in (
        (("bill", "issue", "--kind", "bill", "--payee", format_address(addr("beta")), "--amount", "10",
          "--drawee", format_address(addr("bank-a")), "--maturity", "+400d"), "bad_maturity"),
        (("bill", "issue", "--kind", "note", "--payee", "0x00", "--amount", "10", "--drawee", "0x00"),
         "invalid_argument"),
        (("bill", "split", "1", "--amounts", "1,99999999999999999999999"), "invalid_amount"),
        (("bill", "show", "99999"), "not_found"),
        (("bill", "endorse", "1", "--to", "0x1234"), "bad_address"),
    ):
        signed = ("--key", key) if args[1] != "show" else ()
        result = cli_result(*args, *signed, "--node", url)
        assert result["_rc"] != 0 and result["error"]["code"] == code, result
    shown = cli_result("bill", "show", "1", "--node", market.nodes[1].url)
    assert shown["_rc"] == 0 and shown["status"] == "split"

    # a circular endorsement through the CLI: beta -> gamma -> beta raises the regulator's alert
    now = BillsQueries(market.clients[0]).head_time()
    circle = p["acme"].issue("bill", addr("beta"), 50_000, addr("bank-a"), maturity_ms=now + 3_600_000).id
    p["bank-a"].accept(circle)
    p["beta"].endorse(circle, addr("gamma"))
    back = cli_result("bill", "endorse", str(circle), "--to", format_address(addr("beta")),
                      "--key", str(market.key_files["gamma"]), "--node", market.nodes[2].url)
    assert back["_rc"] == 0 and back["ok"], back
    alerts = market.clients[3].get("/v1/reg/alerts")["alerts"]
    assert any(a["rule"] == "bills.circular_endorsement" and a["address"] == format_address(addr("beta"))
               for a in alerts), alerts

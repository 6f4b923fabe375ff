"""A 4-validator network with something on every page of the explorer: payments between enrolled
companies, a governance proposal with a vote, a bill endorsed down a chain, a supply-chain payable
split twice, a meter's certificates, a notarised file and a regulator's alert.

Used by ``tests/test_explorer_browser.py`` (one network for the module); ``python -m
tests.explorer_world DIR`` keeps such a network running for working on the pages by hand."""

from __future__ import annotations

import json
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tests.procs import NetNode, running_network, wait_for

from consortia.apps.notary.receipts import document_hash
from consortia.client.bills import BillsWallet
from consortia.client.cbdc import CbdcWallet
from consortia.client.client import Client
from consortia.client.energy import EnergyWallet
from consortia.client.notary import NotaryWallet
from consortia.client.permissioned import SET_PARAM, PermWallet, prepare_identity, set_param_payload
from consortia.client.scf import ScfWallet
from consortia.client.wallet import Wallet
from consortia.crypto.address import format_address
from consortia.crypto.keyfile import load_key_file, save_key_file
from consortia.crypto.keys import KeyPair

ORGS = "cb:central-bank,bank-a:bank,bank-b:bank,reg:regulator,corp-x:enterprise,grid-co:grid"
TIMEOUT = 30.0
M = 1_000_000
HOUR = 3_600_000
LARGE = 2 * M
"""The regulator's large-amount threshold in this world (a payment above it raises an alert)."""


@dataclass
class World:
    """What the world made, as ``0x`` text and ids (what a user types into the search box)."""

    urls: list[str]
    genesis_file: str
    companies: dict[str, str]
    key_files: dict[str, str]
    payment_tx: str
    payment_height: int
    proposal_id: int
    bill_id: int
    payable_id: int
    meter: str
    certificate: int
    notarised_file: str
    notary_root: str
    wallet: str


def _admins(info: dict[str, Any]) -> dict[str, KeyPair]:
    return {o["name"]: load_key_file(Path(o["admin_key"])) for o in info["orgs"]}


def populate(home: Path, info: dict[str, Any], clients: list[Client]) -> World:
    """Make the world's content through the SDKs, each party on its own node."""
    admins = _admins(info)
    admin_files = {o["name"]: Path(o["admin_key"]) for o in info["orgs"]}
    suite = clients[0].genesis().suite
    central = CbdcWallet(Wallet(admins["cb"], clients[0]), timeout=TIMEOUT)
    central.issue("bank-a", 40 * M)
    bank_a = CbdcWallet(Wallet(admins["bank-a"], clients[1]), timeout=TIMEOUT)
    bank_a.fund(admins["bank-a"].address, 5 * M)
    corp_x = PermWallet(Wallet(admins["corp-x"], clients[2]), timeout=TIMEOUT)
    ca_cert = next((admin_files["corp-x"].parent / "ca").glob("*-ca.crt"))
    keys: dict[str, KeyPair] = {}
    key_files: dict[str, str] = {}
    for name in ("acme", "beta", "gamma"):
        new = prepare_identity(name, suite, ca_cert.read_bytes(), ca_cert.with_suffix(".key").read_bytes())
        corp_x.enroll(new.key.address, 1, new.pii_hash, new.certificate)
        bank_a.fund(new.key.address, 5 * M)
        keys[name] = new.key
        key_files[name] = str(home / f"{name}.key")
        save_key_file(Path(key_files[name]), new.key, None)
    addr = {name: key.address for name, key in keys.items()}

    def wallet(kind: type[Any], name: str, node: int) -> Any:
        return kind(Wallet(keys[name], clients[node % 4]), timeout=TIMEOUT)

    # payments: acme pays beta twice, beta pays gamma
    acme = Wallet(keys["acme"], clients[0])
    paid = acme.transfer(addr["beta"], 120_000)
    acme.transfer(addr["beta"], 30_000)
    Wallet(keys["beta"], clients[1]).transfer(addr["gamma"], 45_000)

    # governance: the central bank proposes a parameter, bank-a approves
    cb_perm = PermWallet(Wallet(admins["cb"], clients[0]), timeout=TIMEOUT)
    proposal_id = cb_perm.propose(SET_PARAM, set_param_payload("max_block_txs", 4000))
    PermWallet(Wallet(admins["bank-a"], clients[1]), timeout=TIMEOUT).vote(proposal_id, True)

    # a bank acceptance bill: acme draws on bank-a to beta, accepted, endorsed to gamma
    now = clients[0].get("/v1/blocks/latest")["header"]["timestamp_ms"]
    bill = wallet(BillsWallet, "acme", 0).issue("bill", addr["beta"], M, admins["bank-a"].address,
                                                maturity_ms=now + 30 * 86_400_000).id
    BillsWallet(Wallet(admins["bank-a"], clients[1]), timeout=TIMEOUT).accept(bill)
    wallet(BillsWallet, "beta", 2).endorse(bill, addr["gamma"])

    # supply-chain finance: bank-a's line for acme; a payable to beta passed down to gamma
    ScfWallet(Wallet(admins["bank-a"], clients[1]), timeout=TIMEOUT).set_line(addr["acme"], 5 * M)
    invoice = wallet(ScfWallet, "beta", 1).register_invoice(addr["acme"], "INV-EXPLORER-1", M, "2026-11-30")
    payable = wallet(ScfWallet, "acme", 0).confirm(addr["beta"], M, now + 60 * 86_400_000, [invoice])
    part = wallet(ScfWallet, "beta", 1).transfer(payable, addr["gamma"], 400_000)
    wallet(ScfWallet, "gamma", 2).transfer(part, addr["acme"], 100_000)

    # energy: grid-co enrols a meter for gamma; a reading of 2.4 MWh issues two certificates
    meter_key = KeyPair.generate(suite)
    grid = EnergyWallet(Wallet(admins["grid-co"], clients[3]), timeout=TIMEOUT)
    first = now // HOUR - 3
    grid.enrol(meter_key.public_key, addr["gamma"], interval_ms=HOUR, max_w=5 * M, first_period=first)
    made = wallet(EnergyWallet, "gamma", 3).read(meter_key, first, 2_400_000)

    # notarisation: one file, registered with node 0 (the node the browser talks to)
    document = home / "contract.txt"
    document.write_text("Supply contract between acme and beta, signed on 30 November 2026.\n")
    stamped = NotaryWallet(Wallet(keys["gamma"], clients[0]), timeout=TIMEOUT).stamp(
        [document_hash(document.read_bytes())])

    # a tier-2 wallet opened at bank-a (a name known to the bank only), funded
    opened = bank_a.open_wallet(2, name="Erin Example")
    bank_a.fund(opened.wallet.key.address, 50_000)

    # the regulator watches large payments
    PermWallet(Wallet(admins["reg"], clients[3]), timeout=TIMEOUT).set_rule("large_amount", [LARGE])
    return World(
        urls=[c.url for c in clients], genesis_file=str(Path(info["home"]) / "genesis.json"),
        companies={name: format_address(a) for name, a in addr.items()}, key_files=key_files,
        payment_tx="0x" + paid.tx_hash.hex(), payment_height=int(paid.height), proposal_id=proposal_id,
        bill_id=bill, payable_id=payable, meter=format_address(meter_key.address),
        certificate=int(made.fields["certificates"][0]), notarised_file=str(document),
        notary_root="0x" + stamped.root.hex(), wallet=format_address(opened.wallet.key.address),
    )  # fmt: skip


def large_payment(world: World, clients: list[Client]) -> str:
    """A payment above the regulator's threshold (raises an alert); its transaction hash."""
    key = load_key_file(Path(world.key_files["beta"]))
    done = Wallet(key, clients[1]).transfer(world.companies["acme"], LARGE + 1)
    return "0x" + done.tx_hash.hex()


def open_clients(nodes: list[NetNode]) -> list[Client]:
    clients = [Client(n.url, timeout=TIMEOUT) for n in nodes]
    wait_for(lambda: min(n.height() for n in nodes) >= 1, TIMEOUT, "the first block on every node")
    return clients


def main(home: Path) -> None:
    """Keep a populated network running (Ctrl-C stops it); its world in ``home/world.json``."""
    home.mkdir(parents=True, exist_ok=True)
    with running_network(home / "net", "--orgs", ORGS) as (info, nodes):
        clients = open_clients(nodes)
        started = time.monotonic()
        world = populate(home, info, clients)
        (home / "world.json").write_text(json.dumps(asdict(world), indent=2))
        print(f"populated in {time.monotonic() - started:.1f} s: {nodes[0].url}", flush=True)
        try:
            while all(n.proc is not None and n.proc.poll() is None for n in nodes):
                time.sleep(1)
        except KeyboardInterrupt:
            pass
        finally:
            for client in clients:
                client.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]))

"""A 4-validator network with something on every page of the explorer: payments between enrolled
companies, a governance proposal with a vote, a bill endorsed down a chain, a supply-chain payable
split twice, a meter's certificates, a notarised file, a regulator's alert, a health record (granted,
opened in an emergency) kept by node 0, and a traced item made from a batch and handed over.

Nodes 0 to 2 ask every API caller who it is (``api_auth`` on, as on any chain with organisations);
node 3 keeps an open API (``api_auth`` off: a closed lab), so the explorer is also seen where
nothing changes. Each party reads through a client signed with its own key, the test's own reads
as the regulator.

Used by ``tests/test_explorer_browser.py`` (one network for the module); ``python -m
tests.explorer_world DIR`` keeps such a network running for working on the pages by hand."""

from __future__ import annotations

import contextlib
import json
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import msgspec
from tests.procs import NetNode, running_network, wait_for

from consortia.apps.notary.receipts import document_hash
from consortia.apps.trace.identifiers import canonical
from consortia.client.bills import BillsWallet
from consortia.client.cbdc import CbdcWallet
from consortia.client.client import Client
from consortia.client.energy import EnergyWallet
from consortia.client.health import HealthWallet
from consortia.client.notary import NotaryWallet
from consortia.client.permissioned import SET_PARAM, PermWallet, prepare_identity, set_param_payload
from consortia.client.scf import ScfWallet
from consortia.client.trace import TraceWallet
from consortia.client.wallet import Wallet
from consortia.crypto.address import format_address
from consortia.crypto.keyfile import load_key_file, save_key_file
from consortia.crypto.keys import KeyPair
from consortia.node.config import HealthStoreConfig, load_config, write_config
from consortia.node.genesis import load_genesis

ORGS = "cb:central-bank,bank-a:bank,bank-b:bank,reg:regulator,corp-x:enterprise,grid-co:grid,hosp-a:hospital"
TIMEOUT = 30.0
M = 1_000_000
HOUR = 3_600_000
LARGE = 2 * M
"""The regulator's large-amount threshold in this world (a payment above it raises an alert)."""
BATCH = "urn:epc:class:lgtin:0614141.107346.COIL-7"
ITEM = "urn:epc:id:sgtin:0614141.107346.BR-1"
CUSTODIAN_KEY = "custodian.key"
OPEN_NODE = 3
"""The node whose API is open (the others ask who is calling)."""


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
    other_bank_admin: str
    record: str
    patient: str
    batch: str
    item: str


def _admins(info: dict[str, Any]) -> dict[str, KeyPair]:
    return {o["name"]: load_key_file(Path(o["admin_key"])) for o in info["orgs"]}


def _identity(org_dir: Path, name: str, suite: str) -> Any:
    ca_cert = next((org_dir / "ca").glob("*-ca.crt"))
    return prepare_identity(name, suite, ca_cert.read_bytes(), ca_cert.with_suffix(".key").read_bytes())


@contextlib.contextmanager
def world_network(home: Path) -> Iterator[tuple[dict[str, Any], list[NetNode]]]:
    """The world's four validators, started with ``api_auth`` on (node 3: off) and node 0 keeping
    hospital A's health records (its custodian key in ``home/custodian.key``, enrolled by
    ``populate``)."""
    with running_network(home / "net", "--orgs", ORGS, start=False) as (info, nodes):
        suite = load_genesis(Path(info["home"]) / "genesis.json").suite
        custodian = _identity(Path(info["home"]) / "orgs/hosp-a", "records store, hospital A", suite)
        save_key_file(home / CUSTODIAN_KEY, custodian.key, None)
        (home / "custodian.json").write_text(json.dumps({"pii_hash": custodian.pii_hash.hex(),
                                                         "certificate": custodian.certificate.hex()}))
        for n, node in enumerate(nodes):
            config = msgspec.structs.replace(load_config(node.home), api_auth=n != OPEN_NODE)
            if n == 0:
                config = msgspec.structs.replace(config, health=HealthStoreConfig(str(home / CUSTODIAN_KEY)))
            write_config(node.home, config)
            node.start()
        yield info, nodes


def populate(home: Path, info: dict[str, Any], clients: list[Client]) -> World:
    """Make the world's content through the SDKs, each party on its own node, reading as itself."""
    admins = _admins(info)
    admin_files = {o["name"]: Path(o["admin_key"]) for o in info["orgs"]}
    suite = clients[0].genesis().suite
    opened_clients: list[Client] = []

    def signed(key: KeyPair, node: int) -> Client:
        made = Client(clients[node % 4].url, timeout=TIMEOUT, key=key)
        opened_clients.append(made)
        return made

    try:
        return _populate(home, info, clients, admins, admin_files, suite, signed)
    finally:
        for client in opened_clients:
            client.close()


def _populate(home: Path, info: dict[str, Any], clients: list[Client], admins: dict[str, KeyPair],
              admin_files: dict[str, Path], suite: str, signed: Any) -> World:
    def as_(kind: type[Any], key: KeyPair, node: int) -> Any:
        return kind(Wallet(key, signed(key, node)), timeout=TIMEOUT)

    central = as_(CbdcWallet, admins["cb"], 0)
    central.issue("bank-a", 40 * M)
    bank_a = as_(CbdcWallet, admins["bank-a"], 1)
    bank_a.fund(admins["bank-a"].address, 5 * M)
    corp_x = as_(PermWallet, admins["corp-x"], 2)
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
        return as_(kind, keys[name], node)

    # payments: acme pays beta twice, beta pays gamma
    acme = Wallet(keys["acme"], signed(keys["acme"], 0))
    paid = acme.transfer(addr["beta"], 120_000)
    acme.transfer(addr["beta"], 30_000)
    Wallet(keys["beta"], signed(keys["beta"], 1)).transfer(addr["gamma"], 45_000)

    # governance: the central bank proposes a parameter, bank-a approves
    cb_perm = as_(PermWallet, admins["cb"], 0)
    proposal_id = cb_perm.propose(SET_PARAM, set_param_payload("max_block_txs", 4000))
    as_(PermWallet, admins["bank-a"], 1).vote(proposal_id, True)

    # a bank acceptance bill: acme draws on bank-a to beta, accepted, endorsed to gamma
    now = clients[0].get("/v1/blocks/latest")["header"]["timestamp_ms"]
    bill = wallet(BillsWallet, "acme", 0).issue("bill", addr["beta"], M, admins["bank-a"].address,
                                                maturity_ms=now + 30 * 86_400_000).id
    as_(BillsWallet, admins["bank-a"], 1).accept(bill)
    wallet(BillsWallet, "beta", 2).endorse(bill, addr["gamma"])

    # supply-chain finance: bank-a's line for acme; a payable to beta passed down to gamma
    as_(ScfWallet, admins["bank-a"], 1).set_line(addr["acme"], 5 * M)
    invoice = wallet(ScfWallet, "beta", 1).register_invoice(addr["acme"], "INV-EXPLORER-1", M, "2026-11-30")
    payable = wallet(ScfWallet, "acme", 0).confirm(addr["beta"], M, now + 60 * 86_400_000, [invoice])
    part = wallet(ScfWallet, "beta", 1).transfer(payable, addr["gamma"], 400_000)
    wallet(ScfWallet, "gamma", 2).transfer(part, addr["acme"], 100_000)

    # energy: grid-co enrols a meter for gamma; a reading of 2.4 MWh issues two certificates
    meter_key = KeyPair.generate(suite)
    grid = as_(EnergyWallet, admins["grid-co"], 3)
    first = now // HOUR - 3
    grid.enrol(meter_key.public_key, addr["gamma"], interval_ms=HOUR, max_w=5 * M, first_period=first)
    made = wallet(EnergyWallet, "gamma", 3).read(meter_key, first, 2_400_000)

    # notarisation: one file, registered with node 0 (the node the browser talks to)
    document = home / "contract.txt"
    document.write_text("Supply contract between acme and beta, signed on 30 November 2026.\n")
    stamped = wallet(NotaryWallet, "gamma", 0).stamp([document_hash(document.read_bytes())])

    # a tier-2 wallet opened at bank-a (a name known to the bank only), funded
    opened = bank_a.open_wallet(2, name="Erin Example")
    bank_a.fund(opened.wallet.key.address, 50_000)
    key_files["erin"] = str(home / "erin.key")
    save_key_file(Path(key_files["erin"]), opened.wallet.key, None)
    key_files["reg"] = str(admin_files["reg"])

    # the regulator watches large payments
    as_(PermWallet, admins["reg"], 3).set_rule("large_amount", [LARGE])

    # health: hospital A's custodian (node 0's key) enrolled; a record of acme's, granted to beta,
    # opened in an emergency by hospital A's admin (an alert to acme and the regulator)
    custodian = load_key_file(home / CUSTODIAN_KEY)
    hosp_admin = admins["hosp-a"]
    cert = json.loads((home / "custodian.json").read_text())
    as_(PermWallet, hosp_admin, 0).enroll(custodian.address, 1, bytes.fromhex(cert["pii_hash"]),
                                          bytes.fromhex(cert["certificate"]))  # fmt: skip
    for key in (keys["acme"], keys["beta"], custodian, hosp_admin):
        as_(HealthWallet, key, 0).register_key()
    doctor = as_(HealthWallet, hosp_admin, 0)
    # the ciphertext's upload (PUT /v1/health/records/{record}) reads as the regulator: its answer
    # names no party, so the route's "concerns" rule refuses it to the hospital's own admin
    uploader = HealthWallet(Wallet(hosp_admin, signed(admins["reg"], 0)), timeout=TIMEOUT)
    record = uploader.put(b"Visit of 30 November 2026: sealed contents the explorer never shows.\n",
                          addr["acme"])
    wallet(HealthWallet, "acme", 0).grant(record["record"], addr["beta"], "second opinion",
                                          now + 30 * 86_400_000)
    doctor.break_glass(record["record"], "unconscious in the ED")

    # traceability: acme registers a batch, makes a bracket from it, hands it to beta
    maker = wallet(TraceWallet, "acme", 0)
    maker.register(BATCH, "steel coil", ["product", "producer"])
    maker.transform([BATCH], [ITEM], "bracket")
    maker.handover(ITEM, addr["beta"])
    wallet(TraceWallet, "beta", 1).receive(ITEM)
    return World(
        urls=[c.url for c in clients], genesis_file=str(Path(info["home"]) / "genesis.json"),
        companies={name: format_address(a) for name, a in addr.items()}, key_files=key_files,
        payment_tx="0x" + paid.tx_hash.hex(), payment_height=int(paid.height), proposal_id=proposal_id,
        bill_id=bill, payable_id=payable, meter=format_address(meter_key.address),
        certificate=int(made.fields["certificates"][0]), notarised_file=str(document),
        notary_root="0x" + stamped.root.hex(), wallet=format_address(opened.wallet.key.address),
        other_bank_admin=format_address(admins["bank-b"].address), record=record["record"],
        patient=format_address(addr["acme"]), batch=canonical(BATCH), item=canonical(ITEM),
    )  # fmt: skip


def large_payment(world: World, clients: list[Client]) -> str:
    """A payment above the regulator's threshold (raises an alert); its transaction hash."""
    key = load_key_file(Path(world.key_files["beta"]))
    with Client(clients[1].url, timeout=TIMEOUT, key=key) as client:
        done = Wallet(key, client).transfer(world.companies["acme"], LARGE + 1)
    return "0x" + done.tx_hash.hex()


def open_clients(info: dict[str, Any], nodes: list[NetNode]) -> list[Client]:
    """A client of each node reading as the regulator (who may read everything)."""
    regulator = _admins(info)["reg"]
    clients = [Client(n.url, timeout=TIMEOUT, key=regulator) for n in nodes]
    wait_for(lambda: min(n.height() for n in nodes) >= 1, TIMEOUT, "the first block on every node")
    return clients


def main(home: Path) -> None:
    """Keep a populated network running (Ctrl-C stops it); its world in ``home/world.json``."""
    home.mkdir(parents=True, exist_ok=True)
    with world_network(home) as (info, nodes):
        clients = open_clients(info, nodes)
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

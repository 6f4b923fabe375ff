"""The SQL index on four real validators (each indexing into its own SQLite file; node 3 into
a real PostgreSQL server): after a scripted day of payments, governance and application use,
``consortia reg audit`` of an account lists every payment it made and received with its
counterparties, ``consortia history`` and ``consortia txs`` answer, ``consortia index check``
reports no difference on every node, and ``/metrics`` shows the index lag. Each node indexes
in a process of its own: killed, it is restarted and resumes; the node killed, it ends.

One network for the module; every step also crosses the peer network (parties talk to
different nodes)."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tests.pg import fresh_database, postgres_server
from tests.procs import NetNode, api_client, api_get, cli, cli_json, running_network, wait_for

from consortia.client.cbdc import CbdcWallet, ContractRefused
from consortia.client.client import Client
from consortia.client.index import IndexQueries
from consortia.client.permissioned import PermQueries, PermWallet
from consortia.client.wallet import Wallet
from consortia.codec import encode
from consortia.contracts.permissioned.errors import LimitExceeded
from consortia.contracts.permissioned.gov_actions import SET_PARAM
from consortia.contracts.permissioned.monetary import reserve_address
from consortia.contracts.permissioned.records import ParamChange
from consortia.contracts.python.api import address_of
from consortia.crypto.address import format_address
from consortia.crypto.keyfile import load_key_file
from consortia.crypto.keys import KeyPair

pytestmark = pytest.mark.slow

ORGS = "cb:central-bank,bank-a:bank,bank-b:bank,reg:regulator"
TIMEOUT = 30.0


def _hex(address: bytes) -> str:
    return format_address(address)


@dataclass
class IndexedNode(NetNode):
    """A validator started with ``--index-db`` (empty: SQLite in its home)."""

    index_db: str = ""

    def start(self, timeout: float = 30) -> None:
        log = open(self.home / "test-node.log", "a")  # noqa: SIM115
        self._launch(["node", "start", "--home", str(self.home), "--index-db", self.index_db], log, timeout)


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[dict[str, Any], list[NetNode], str]]:
    home = tmp_path_factory.mktemp("index-net")
    with postgres_server() as server:
        pg_url = fresh_database(server, "node3")
        with running_network(home / "net", "--orgs", ORGS, start=False) as (info, made):
            nodes = [IndexedNode(n.home, n.url, index_db=pg_url if i == 3 else "")
                     for i, n in enumerate(made)]
            try:
                for node in nodes:
                    node.start()
                wait_for(lambda: min(n.height() for n in nodes) >= 1, TIMEOUT, "the first block")
                yield info, list(nodes), pg_url
            finally:
                for node in nodes:
                    node.stop()


def _party(key: KeyPair, client: Client) -> CbdcWallet:
    return CbdcWallet(Wallet(key, client), timeout=TIMEOUT)


def _indexed(nodes: list[NetNode], height: int) -> None:
    def every_index_reached() -> bool:
        return all(api_get(f"{n.url}/v1/index/status", timeout=5).json()["indexed_height"] >= height
                   for n in nodes)  # fmt: skip

    wait_for(every_index_reached, TIMEOUT, f"every node's index at {height}")


@pytest.mark.timeout(400)
def test_a_scripted_day_is_in_every_nodes_index_and_the_audit(network: Any) -> None:
    info, nodes, _pg = network
    clients = [api_client(n.url, timeout=TIMEOUT) for n in nodes]
    try:
        admins = {o["name"]: load_key_file(Path(o["admin_key"])) for o in info["orgs"]}
        cb, bank_a = _party(admins["cb"], clients[0]), _party(admins["bank-a"], clients[1])
        bank_b = _party(admins["bank-b"], clients[2])

        # money: issue to both banks; wallets opened and funded; payments across banks
        cb.issue("bank-a", 5_000_000)
        cb.issue("bank-b", 3_000_000)
        alice_new = bank_a.open_wallet(1, name="Alice Example")
        bob_new = bank_b.open_wallet(2, name="Bob Example")
        carol_new = bank_b.open_wallet(4, phone="+86 138 0000 0001")
        alice = _party(alice_new.wallet.key, clients[1])
        bob = _party(bob_new.wallet.key, clients[2])
        carol = _party(carol_new.wallet.key, clients[3])
        bank_a.fund(alice.address, 900_000)
        bank_b.fund(bob.address, 200_000)
        bank_b.fund(carol.address, 100_000)
        expected: list[tuple[str, str, int]] = [("in", _hex(reserve_address("bank-a")), 900_000)]
        for payee, amount in ((bob, 120_000), (carol, 30_000), (bob, 45_000)):
            assert alice.pay(payee.address, amount).status == "ok"
            expected.append(("out", _hex(payee.address), amount))
        assert bob.pay(alice.address, 7_000).status == "ok"
        expected.append(("in", _hex(bob.address), 7_000))
        with pytest.raises(LimitExceeded):  # refused at admission: never on chain, not in history
            carol.pay(alice.address, 250_000)

        # an application: alice locks money in escrow (attached value), bob releases it to carol
        held = alice.escrow_create(carol.address, bob.address, clients[1].height() + 200, 50_000)
        expected.append(("out", _hex(address_of("escrow")), 50_000))
        with pytest.raises(ContractRefused):  # a failed call: committed with its status
            alice.escrow_release(held.id)
        released = bob.escrow_release(held.id)
        assert released.ok

        # governance: a parameter change proposed by the central bank, voted by the banks
        gov = {o: PermWallet(Wallet(admins[o], clients[i]), timeout=TIMEOUT)
               for i, o in enumerate(("cb", "bank-a", "bank-b"))}  # fmt: skip
        proposal_id = gov["cb"].propose(SET_PARAM, encode(ParamChange("max_block_txs", 3000)),
                                        clients[0].height() + 50)  # fmt: skip
        last = gov["bank-a"].vote(proposal_id, True)
        ballots = 2
        if PermQueries(clients[2]).proposal(proposal_id)["status"] == "open":
            last = gov["bank-b"].vote(proposal_id, True)
            ballots = 3
        _indexed(nodes, max(last.height, released.height))

        # the regulator's audit of alice lists every payment she made and received
        audit = cli_json("reg", "audit", _hex(alice.address), "--node", nodes[3].url)
        history = audit["history"]
        assert history["available"] and history["next_cursor"] is None, history
        payments = [(i["role"], i["counterparty"], i["amount"]) for i in reversed(history["items"])
                    if i["role"] in ("in", "out")]  # fmt: skip
        assert payments == expected, payments
        calls = [(i["contract"], i["method"], i["status"]) for i in history["items"] if i["role"] == "call"]
        assert ("escrow", "release", "escrow_not_releasable") in calls, calls
        assert ("escrow", "create", "ok") in calls and ("currency", "transfer", "ok") in calls
        # ... and the escrow's payout reached carol from the escrow contract
        carol_items = IndexQueries(clients[0]).history_all(carol.address)
        escrow = _hex(address_of("escrow"))
        assert any(i["role"] == "in" and i["kind"] == "payout" and i["counterparty"] == escrow
                   and i["amount"] == 50_000 for i in carol_items), carol_items  # fmt: skip
        text = cli("reg", "audit", _hex(alice.address), "--node", nodes[0].url, check=True).stdout
        assert "history" in text and _hex(bob.address)[:14] in text.replace("\n", "")

        # other queries, through the CLI and the SDK
        txs = cli_json("txs", "--contract", "currency", "--method", "issue", "--node", nodes[2].url)
        assert [t["args"]["bank"] for t in txs["items"]] == ["bank-b", "bank-a"]
        from_cli = cli_json("history", _hex(bob.address), "--all", "--node", nodes[1].url)
        assert {(i["role"], i["amount"]) for i in from_cli["items"] if i["role"] != "call"} >= {
            ("in", 120_000), ("in", 45_000), ("out", 7_000), ("in", 200_000)}
        queries = IndexQueries(clients[3])
        proposals = queries.proposals()["items"]
        assert proposals[0]["id"] == proposal_id and proposals[0]["status"] == "executed", proposals
        assert [v["org"] for v in proposals[0]["votes"]] == ["cb", "bank-a", "bank-b"][:ballots]
        wallets = {w["address"]: w for w in queries.wallets(org="bank-b")["items"]}
        assert wallets[_hex(carol.address)]["tier"] == 4
        escrow_events = queries.events(contract="escrow", order="asc")["items"]
        assert escrow_events, "the application's events are indexed with their fields"
        assert queries.events(party=carol.address)["items"]

        # every node's index agrees with its chain; node 3 is on PostgreSQL
        for node in nodes:
            report = cli_json("index", "check", "--node", node.url)
            assert report["ok"] and report["objects_checked"], report["differences"]
            assert report["blocks_checked"] >= last.height
        assert queries.status()["backend"] == "postgresql"
        assert IndexQueries(clients[0]).status()["backend"] == "sqlite"
        metrics = api_get(f"{nodes[0].url}/metrics", timeout=5).text
        for name in ("consortia_index_height", "consortia_index_lag_blocks", "consortia_index_lag_seconds"):
            assert name in metrics
        bad = cli("history", "0x12", "--node", nodes[0].url, "--json")
        assert bad.returncode != 0 and json.loads(bad.stdout)["error"]["code"] == "bad_address"
    finally:
        for c in clients:
            c.close()


def _alive(pid: int) -> bool:
    """The process exists and is not a zombie left for its (dead) parent's reaper."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


def _index_status(node: NetNode) -> dict[str, Any]:
    return dict(api_get(f"{node.url}/v1/index/status", timeout=5).json())


@pytest.mark.timeout(240)
def test_the_index_runs_in_its_own_process_comes_back_when_killed_and_dies_with_its_node(
    network: Any,
) -> None:
    info, nodes, _pg = network
    node = nodes[1]
    assert node.proc is not None
    first = _index_status(node)
    worker = first["process"]
    assert worker and worker != node.proc.pid and _alive(worker), first

    # the index process killed mid-run: the node restarts it and the index resumes, no gap
    os.kill(worker, signal.SIGKILL)
    wait_for(lambda: (s := _index_status(node))["restarts"] >= 1 and s["process"] not in (None, worker),
             TIMEOUT, "the node restarting its index process")  # fmt: skip
    admins = {o["name"]: load_key_file(Path(o["admin_key"])) for o in info["orgs"]}
    with api_client(node.url, timeout=TIMEOUT) as client:
        paid = _party(admins["cb"], client).issue("bank-a", 1_000)
    _indexed([node], paid.height)
    report = cli_json("index", "check", "--node", node.url)
    assert report["ok"] and report["blocks_checked"] >= paid.height, report["differences"]
    assert node.proc.pid != _index_status(node)["process"]

    # the node killed outright: its index process notices (its input closes) and ends
    victim = nodes[2]
    assert victim.proc is not None
    orphan = _index_status(victim)["process"]
    victim.kill9()
    wait_for(lambda: not _alive(orphan), TIMEOUT, "the dead node's index process to end")
    victim.start()
    _indexed([victim], paid.height)

"""The permission layer on four real validators (`network init --orgs`), through the CLI and
through hand-crafted transactions posted straight to a node: every rule is the executor's."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest
from tests.procs import (
    NetNode,
    api_client,
    api_get,
    api_post,
    api_stream,
    cli,
    cli_json,
    cli_result,
    free_port_base,
    wait_for,
)

from consortia.client.permissioned import PermQueries, PermWallet, prepare_identity
from consortia.client.tx_builder import sign_tx, transfer_call
from consortia.client.wallet import Wallet
from consortia.contracts.permissioned import governance, identity, regulator
from consortia.contracts.permissioned import keys as perm_keys
from consortia.contracts.permissioned.errors import ProposalExpired
from consortia.crypto.address import format_address
from consortia.crypto.keyfile import load_key_file
from consortia.crypto.keys import KeyPair
from consortia.types.transaction import Call

pytestmark = pytest.mark.slow
ORGS = "cb:central-bank,bank-a:bank,bank-b:bank,reg:regulator"


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("perm") / "net"
    base = free_port_base(4, p2p_offset=100)
    info = cli_json("network", "init", "--validators", "4", "--home", str(root), "--base-port", str(base),
                    "--orgs", ORGS)
    nodes = [NetNode(Path(n["home"]), n["api"]) for n in info["nodes"]]
    try:
        for node in nodes:
            node.start()
        wait_for(lambda: min(n.height() for n in nodes) >= 1, 30, "first block")
        yield info, nodes
    finally:
        for node in nodes:
            node.stop()


def _admin(info: dict[str, Any], org: str) -> str:
    return str(next(o["admin_key"] for o in info["orgs"] if o["name"] == org))


def _key(info: dict[str, Any], name: str) -> dict[str, str]:
    return next(k for k in info["keys"] if k["name"] == name)


run = cli_result


def code(out: dict[str, Any]) -> str:
    """The refusal code of a failed CLI action: admission errors and failed receipts alike."""
    assert out["_rc"] != 0, out
    return str(out["error"]["code"] if "error" in out and isinstance(out["error"], dict) else out["status"])


def synced(node: NetNode, height: int) -> None:
    wait_for(lambda: node.height() >= height, 20, f"{node.home.name} at height {height}")


def _read_alert_stream(url: str, found: list[dict[str, Any]], ready: threading.Event) -> None:
    with api_stream("GET", url + "/v1/reg/alerts/stream", timeout=60) as response:
        ready.set()
        for line in response.iter_lines():
            if line.startswith("data:"):
                found.append(json.loads(line[5:]))
                return


def test_cli_story(net) -> None:
    info, nodes = net
    url, url2 = nodes[0].url, nodes[2].url
    home = Path(info["home"])
    bank_a, bank_b, cb, reg = (_admin(info, o) for o in ("bank-a", "bank-b", "cb", "reg"))
    alice, bob = _key(info, "alice"), _key(info, "bob")

    # enrol a new identity with a certificate from bank-a's CA; PII stays next to the key
    erin_key = home / "erin.key"
    out = run("identity", "enroll", "--org-key", bank_a, "--name", "Erin Example", "--kyc-tier", "1",
              "--out", str(erin_key), "--no-password", "--node", url)
    assert out["ok"] and out["org"] == "bank-a" and out["certificate"], out
    erin = out["address"]
    pii = json.loads((home / "erin.pii.json").read_text())
    assert pii["name"] == "Erin Example" and len(bytes.fromhex(pii["salt"][2:])) >= 16
    synced(nodes[2], out["height"])
    shown = run("identity", "show", erin, "--node", url2)
    assert shown["status"] == "active" and shown["kyc_tier"] == 1 and shown["pii_hash"] == pii["pii_hash"]

    # transact
    assert run("transfer", "--key", alice["file"], "--to", erin, "--amount", "5000", "--node", url)["ok"]

    # a tier limit: only the regulator may set it; a breach is refused with limit_exceeded
    assert code(run("reg", "limits", "--tier", "1", "--per-payment", "1000", "--key", bank_a,
                    "--node", url)) == "not_regulator"
    assert run("reg", "limits", "--tier", "1", "--per-payment", "1000", "--daily", "100000",
               "--key", reg, "--node", url)["ok"]
    assert code(run("transfer", "--key", erin_key.as_posix(), "--to", bob["address"], "--amount", "1500",
                    "--node", url)) == "limit_exceeded"

    # structuring: three payments just under 1000 raise one alert, seen by query and stream
    assert run("reg", "rule", "structuring", "--threshold", "1000", "--margin-bps", "1000",
               "--min-count", "3", "--window-blocks", "100", "--key", reg, "--node", url)["ok"]
    streamed: list[dict[str, Any]] = []
    ready = threading.Event()
    reader = threading.Thread(target=_read_alert_stream, args=(url2, streamed, ready), daemon=True)
    reader.start()
    assert ready.wait(10)
    for _ in range(3):
        assert run("transfer", "--key", erin_key.as_posix(), "--to", bob["address"], "--amount", "950",
                   "--node", url)["ok"]
    wait_for(lambda: run("reg", "alerts", "--node", url2)["alerts"], 20, "the alert on node2")
    alerts = run("reg", "alerts", "--node", url2)["alerts"]
    assert [(a["rule"], a["address"]) for a in alerts] == [("structuring", erin)]
    reader.join(20)
    assert streamed and streamed[0]["id"] == alerts[0]["id"]
    assert run("reg", "alerts", "--since", str(alerts[0]["id"]), "--node", url)["alerts"] == []

    # freeze: refused at admission; unfreeze: accepted again
    frozen = run("reg", "freeze", erin, "--key", reg, "--node", url)
    assert frozen["ok"]
    assert code(run("transfer", "--key", erin_key.as_posix(), "--to", bob["address"], "--amount", "1",
                    "--node", url)) == "account_frozen"
    synced(nodes[2], frozen["height"])
    audit = run("reg", "audit", erin, "--node", url2)
    assert audit["frozen"] and audit["balance"] == 5000 - 3 * 950
    assert audit["alerts"][0]["rule"] == "structuring"
    assert audit["daily"]["count"] == 3
    assert run("reg", "unfreeze", erin, "--key", reg, "--node", url)["ok"]
    assert run("transfer", "--key", erin_key.as_posix(), "--to", bob["address"], "--amount", "1",
               "--node", url)["ok"]

    # revoke: refused at admission, for good
    revoked = run("identity", "revoke", erin, "--org-key", bank_a, "--node", url)
    assert revoked["ok"]
    synced(nodes[2], revoked["height"])
    assert code(run("transfer", "--key", erin_key.as_posix(), "--to", bob["address"], "--amount", "1",
                    "--node", url2)) == "revoked_identity"  # its reads are refused first
    assert run("identity", "show", erin, "--node", url)["status"] == "revoked"

    # governance: a set-param proposal below the threshold does not execute; enough votes do
    proposed = run("gov", "propose", "set-param", "--name", "max_block_txs", "--value", "4000",
                   "--key", cb, "--node", url)
    pid = str(proposed["proposal_id"])
    assert proposed["proposal"]["required"] == 3  # ceil(4 * 2/3) organisations
    assert code(run("gov", "vote", pid, "--approve", "--key", alice["file"], "--node", url)) == (
        "not_committee_member"
    )
    first = run("gov", "vote", pid, "--approve", "--key", bank_a, "--node", url)
    assert first["proposal"]["status"] == "open"
    assert code(run("gov", "vote", pid, "--approve", "--key", bank_a, "--node", url)) == "duplicate_vote"
    synced(nodes[2], first["height"])
    shown = run("gov", "show", pid, "--node", url2)
    assert (shown["status"], shown["approvals"]) == ("open", 2)
    voted = run("gov", "vote", pid, "--approve", "--key", bank_b, "--node", url)
    assert voted["proposal"]["status"] == "executed", voted
    assert "max_block_txs = 4000" in voted["proposal"]["outcome"]
    synced(nodes[2], voted["height"])
    assert [p["id"] for p in run("gov", "list", "--node", url2)["proposals"]] == [int(pid)]

    # the parameter is in force on every node
    wait_for(lambda: api_get(f"{url2}/v1/status", timeout=5).json()["max_block_txs"] == 4000, 20,
             "the new block size limit on node 2")

    # a fifth validator by vote: the set changes at a defined height and commits go on (with
    # four of five voting); then it is removed again by vote and commits still go on
    new_key = home / "v4.key"
    cli("keys", "new", "--out", str(new_key), "--no-password", check=True)
    added = run("gov", "propose", "add-validator", "--name", "validator-4", "--validator-key", str(new_key),
                "--key", cb, "--node", url)
    vid = str(added["proposal_id"])
    run("gov", "vote", vid, "--approve", "--key", bank_a, "--node", url)
    done = run("gov", "vote", vid, "--approve", "--key", bank_b, "--node", url)["proposal"]
    assert done["status"] == "executed" and "5 validators from height" in done["outcome"], done
    state = api_get(f"{url}/v1/state/0x{perm_keys.VSET_COUNT.hex()}", timeout=5).json()
    assert state["value"] is not None
    wait_for(lambda: api_get(f"{url}/v1/status", timeout=5).json()["epoch"] == 1, 60, "epoch 1")
    before = nodes[1].height()
    wait_for(lambda: min(n.height() for n in nodes) > before + 2, 60, "commits to continue")
    new_public = load_key_file(new_key).public_key.hex()
    removed = run("gov", "propose", "remove-validator", "--public-key", new_public, "--key", cb,
                  "--node", url)
    rid = str(removed["proposal_id"])
    run("gov", "vote", rid, "--approve", "--key", bank_a, "--node", url)
    gone = run("gov", "vote", rid, "--approve", "--key", bank_b, "--node", url)["proposal"]
    assert gone["status"] == "executed", gone
    wait_for(lambda: api_get(f"{url}/v1/status", timeout=5).json()["epoch"] == 2, 60, "epoch 2")
    before = nodes[1].height()
    wait_for(lambda: min(n.height() for n in nodes) > before + 2, 60, "commits to continue")


def _send(url: str, key: KeyPair, call: Call) -> str:
    """Sign ``call`` by hand, POST it to /v1/tx: the refusal code at admission, or the receipt's status."""
    account = api_get(f"{url}/v1/accounts/{format_address(key.address)}", timeout=5).json()
    chain_id = api_get(f"{url}/v1/status", timeout=5).json()["chain_id"]
    raw = sign_tx(key, chain_id, account["next_nonce"], account["height"] + 100, call)
    response = api_post(f"{url}/v1/tx", content=raw, headers={"content-type": "application/octet-stream"},
                          timeout=10)
    if response.status_code >= 400:
        return str(response.json()["code"])
    tx_hash = response.json()["tx_hash"]
    done = api_get(f"{url}/v1/tx/{tx_hash}/wait", params={"timeout": 30}, timeout=40).json()
    return str(done["receipt"]["status"])


def test_hand_crafted_transactions_meet_the_same_rules(net) -> None:
    info, nodes = net
    url = nodes[1].url
    home = Path(info["home"])
    admins = {o["name"]: load_key_file(Path(o["admin_key"])) for o in info["orgs"]}
    alice = load_key_file(Path(_key(info, "alice")["file"]))
    with api_client(url) as client:
        bank_b = PermWallet(Wallet(admins["bank-b"], client))
        # a proposal with a near deadline, voted on once that has passed
        deadline = client.height() + 6
        pid = bank_b.propose("set-param", _param_payload(), deadline_height=deadline)
        # a new member of bank-b (certificate from bank-b's CA)
        ca_dir = home / "orgs" / "bank-b" / "ca"
        new = prepare_identity("Mallory", client.genesis().suite, (ca_dir / "bank-b-ca.crt").read_bytes(),
                               (ca_dir / "bank-b-ca.key").read_bytes())
        bank_b.enroll(new.key.address, 2, new.pii_hash, new.certificate)
        PermWallet(Wallet(alice, client)).transfer(new.key.address, 100)
        member = new.key

        # a member cannot vote
        assert _send(url, member, Call(governance.NAME, governance.VOTE,
                                       governance.encode_vote_args(pid, True))) == "not_committee_member"
        # an organisation admin cannot freeze
        freeze = Call(regulator.NAME, regulator.FREEZE, regulator.encode_address_args(member.address))
        assert _send(url, admins["bank-a"], freeze) == "not_regulator"
        # an admin of another organisation cannot revoke it
        revoke = Call(identity.NAME, identity.REVOKE, identity.encode_revoke_args(member.address))
        assert _send(url, admins["cb"], revoke) == "not_org_admin"
        # the regulator cannot move money
        assert _send(url, admins["reg"], transfer_call(alice.address, 1)) == "regulator_cannot_transfer"
        # a member can (and a key nobody enrolled cannot)
        assert _send(url, member, transfer_call(alice.address, 1)) == "ok"
        assert _send(url, KeyPair.generate(), transfer_call(alice.address, 1)) == "unknown_identity"
        # frozen, then revoked (by the regulator): refused at admission
        assert _send(url, admins["reg"], freeze) == "ok"
        assert _send(url, member, transfer_call(alice.address, 1)) == "account_frozen"
        assert _send(url, admins["reg"], revoke) == "ok"
        assert _send(url, member, transfer_call(alice.address, 1)) == "identity_revoked"
        assert PermQueries(client).identity(member.address)["status"] == "revoked"

        # an expired proposal cannot be voted on (hand-crafted, and through the SDK)
        wait_for(lambda: client.height() > deadline, 20, "the deadline to pass")
        vote = Call(governance.NAME, governance.VOTE, governance.encode_vote_args(pid, True))
        assert _send(url, admins["cb"], vote) == "proposal_expired"
        with pytest.raises(ProposalExpired):
            PermWallet(Wallet(admins["bank-a"], client)).vote(pid, True)
        assert PermQueries(client).proposal(pid)["status"] == "expired"


def _param_payload() -> bytes:
    from consortia.client.permissioned import set_param_payload

    return set_param_payload("mempool_max_txs", 150_000)

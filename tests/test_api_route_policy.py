"""Who may read what (issue 14): the route × role table, enforced in one place.

Unit part: every route the node serves has exactly one row in ``api/auth/route_policy.ROUTES``
and every row a route; every path of the OpenAPI document has a row; ``docs/api-access.md`` is
the table as generated. Network part: four validators with organisations and ``api_auth`` on;
for every route, an anonymous client, a wallet holder, the counterparty in her own bank, a
member of another bank, her bank's admin, the other bank's admin and the regulator each get
exactly what the table says (served, 401 or 403) — over the real API, signed by the SDK."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from tests.procs import free_port, running_network, wait_for
from tests.test_api_hostile_input import make_home

from consortia.api.app import create_app
from consortia.api.auth.route_policy import ROUTES, Rule, markdown_table
from consortia.api.openapi import openapi_spec
from consortia.client.cbdc import CbdcWallet
from consortia.client.client import Client
from consortia.client.wallet import Wallet
from consortia.crypto.address import format_address
from consortia.crypto.keyfile import load_key_file
from consortia.crypto.keys import KeyPair
from consortia.execution.accounts import account_key
from consortia.node.config import ReadAuditConfig, load_config, write_config
from consortia.node.node import Node

DOC = Path(__file__).resolve().parent.parent / "docs" / "api-access.md"
ORGS = "cb:central-bank,bank-a:bank,bank-b:bank,reg:regulator"
TIMEOUT = 30.0


def fast_anchors(config: ReadAuditConfig) -> ReadAuditConfig:
    """Anchoring the read log's head every second (ten minutes by default)."""
    return msgspec.structs.replace(config, anchor_interval_s=1)


def _served_paths() -> set[str]:
    home = Path(tempfile.mkdtemp()) / "node"
    make_home(home, free_port())
    node = Node(home, password="")
    try:
        return {r.path for r in create_app(node).routes if getattr(r, "path", None)}
    finally:
        node.close()


def test_every_route_has_exactly_one_rule_and_every_rule_a_route() -> None:
    served = _served_paths()
    assert sorted(served - set(ROUTES)) == [], "routes without an access rule (refused to everyone)"
    assert sorted(set(ROUTES) - served) == [], "rules for routes the node does not serve"


def _shape(template: str) -> str:
    """A template with its parameters' names left out (the document may name them otherwise)."""
    return re.sub(r"\{[^}]*\}", "{}", template)


def test_every_openapi_path_has_a_rule() -> None:
    ruled = {_shape(t) for t in ROUTES}
    assert sorted(p for p in openapi_spec()["paths"] if _shape(p) not in ruled) == []


def test_every_write_is_decided_before_its_handler_runs() -> None:
    """A write's rule never waits for the handler's answer (concerns without a parent object, or a
    list): the handler would already have acted when the gate refused."""
    methods = ("put", "post", "delete", "patch")
    paths = openapi_spec()["paths"]
    writes = [(path, m.upper()) for path, ops in paths.items() for m in ops if m in methods]
    assert writes
    late = [(path, method) for path, method in writes
            if (a := ROUTES[path].for_method(method)).listing
            or (a.rule is Rule.CONCERNS and not a.object_path)]  # fmt: skip
    assert late == [], late


def test_the_access_document_is_the_table() -> None:
    assert DOC.read_text().split("<!-- table -->\n", 1)[1] == markdown_table(), \
        "regenerate docs/api-access.md: python -m consortia.api.auth.route_policy"


# --- the walk on a real network -----------------------------------------------------------------

ANON, ALICE, ALICE2, BOB = "anonymous", "alice", "alice2", "bob"
ADMIN_A, ADMIN_B, REG = "admin-a", "admin-b", "regulator"
ACTORS = (ANON, ALICE, ALICE2, BOB, ADMIN_A, ADMIN_B, REG)
STREAMS = {"/v1/events", "/v1/reg/alerts/stream"}
PARAM_ACTOR = {"address": ALICE, "owner": ALICE, "core": ALICE, "borrower": ALICE, "drawee": ALICE2,
               "lender": BOB}  # fmt: skip
"""Whose account each path parameter names in the walk (see :func:`_concrete`)."""
BANK_ADMIN = {ALICE: ADMIN_A, ALICE2: ADMIN_A, BOB: ADMIN_B}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    home = tmp_path_factory.mktemp("route-policy")
    with running_network(home / "net", "--orgs", ORGS, start=False) as (info, nodes):
        for node in nodes:
            config = load_config(node.home)
            assert config.read_audit is not None and config.read_audit.anchor_key_file  # network init's
            write_config(node.home, msgspec.structs.replace(config, api_auth=True,
                                                            read_audit=_anchors(node, nodes, config)))
            node.start()
        wait_for(lambda: min(n.height() for n in nodes) >= 1, TIMEOUT, "the first block")
        url = nodes[0].url
        admins = {o["name"]: load_key_file(Path(o["admin_key"])) for o in info["orgs"]}

        def party(key: KeyPair) -> CbdcWallet:
            return CbdcWallet(Wallet(key, Client(url, timeout=TIMEOUT, key=key)), timeout=TIMEOUT)

        cb, bank_a, bank_b = party(admins["cb"]), party(admins["bank-a"]), party(admins["bank-b"])
        cb.issue("bank-a", 1_000_000)
        cb.issue("bank-b", 1_000_000)
        keys = {ALICE: bank_a.open_wallet(2, name="Alice").wallet.key,
                ALICE2: bank_a.open_wallet(2, name="Alice Two").wallet.key,
                BOB: bank_b.open_wallet(2, name="Bob").wallet.key,
                ADMIN_A: admins["bank-a"], ADMIN_B: admins["bank-b"], REG: admins["reg"]}  # fmt: skip
        bank_a.fund(keys[ALICE].address, 100_000)
        alice = party(keys[ALICE])
        paid = alice.pay(keys[ALICE2].address, 1_000)
        escrow = alice.escrow_create(keys[ALICE2].address, keys[ALICE2].address,
                                     alice.wallet.client.height() + 500, 2_000)  # fmt: skip
        yield {"url": url, "keys": keys, "tx": paid.tx_hash, "escrow": escrow.id,
               "homes": [n.home for n in nodes]}


def _concrete(template: str, w: dict[str, Any]) -> str:
    alice = format_address(w["keys"][ALICE].address)
    values = {
        "address": alice, "owner": alice, "core": alice, "borrower": alice,
        "drawee": format_address(w["keys"][ALICE2].address), "lender": format_address(w["keys"][BOB].address),
        "org": "bank-a", "tx_hash": "0x" + w["tx"].hex(), "ref": "1", "name": "escrow", "method": "get",
        "key": "0x" + account_key(w["keys"][ALICE].address).hex(), "proposal_id": "1", "tier": "1",
        "record_id": str(w["escrow"]), "bill_id": "1", "id": "1", "hash": "0x" + "00" * 32, "serial": "1",
        "trade_id": "1", "period": "1", "record": "0x" + "00" * 32, "document": "0x" + "00" * 32,
        "root": "0x" + "00" * 32, "file": "index.html",
    }  # fmt: skip
    return template.format(**values)


def _expected(template: str, actor: str) -> str:
    """What the table says ``actor`` gets: "served", "401" or "403" (for the walk's objects:
    the account is alice's, the organisation bank-a, the transaction and escrow alice's with
    alice2)."""
    access = ROUTES[template]
    if access.rule in (Rule.PUBLIC, Rule.SUBMIT, Rule.SIGNED_BODY):
        return "served"
    if actor == ANON:
        return "401"
    allowed = {
        Rule.MEMBER: set(ACTORS),
        Rule.STAFF: {ADMIN_A, ADMIN_B, REG},
        Rule.OVERSIGHT: {REG},
        Rule.ORG: {ADMIN_A, REG},
    }.get(access.rule)
    if access.rule is Rule.ACCOUNT:
        named = {PARAM_ACTOR[p] for p in access.param.split(",")}
        allowed = named | {BANK_ADMIN[a] for a in named} | {REG}
    if allowed is None:  # CONCERNS: only the walk's transaction and escrow exist
        concerned = template.startswith(("/v1/tx/", "/v1/index/txs/", "/v1/escrows/"))
        allowed = {ALICE, ALICE2, ADMIN_A, REG} if concerned else set(ACTORS)
    return "served" if actor in allowed else "403"


def _outcome(http: httpx.Client, method: str, path: str, auth: httpx.Auth | None) -> str:
    if path in STREAMS:
        with http.stream("GET", path, auth=auth, timeout=10) as response:
            status = response.status_code
    elif method == "POST":
        status = http.post(path, content=b"{}", headers={"content-type": "application/json"},
                           auth=auth).status_code
    else:
        status = http.get(path, auth=auth).status_code
    return str(status) if status in (401, 403) else "served"


@pytest.mark.timeout(400)
def test_every_route_answers_each_role_as_the_table_says(world: dict[str, Any]) -> None:
    from consortia.client.request_signing import SignedRequests

    chain_id = httpx.get(world["url"] + "/v1/status").json()["chain_id"]
    posts = {"/v1/tx", "/v1/txs", "/v1/contracts/{name}/view/{method}", "/v1/notary/stamp",
             "/v1/notary/batches", "/v1/health/fetch", "/v1/trace/epcis"}  # fmt: skip
    wrong: list[str] = []
    with httpx.Client(base_url=world["url"], timeout=TIMEOUT) as http:
        for template in sorted(ROUTES):
            path = _concrete(template, world)
            for actor in ACTORS:
                auth = None if actor == ANON else SignedRequests(world["keys"][actor], chain_id)
                got = _outcome(http, "POST" if template in posts else "GET", path, auth)
                want = _expected(template, actor)
                if got != want:
                    wrong.append(f"{template} as {actor}: got {got}, table says {want}")
    assert wrong == [], "\n".join(wrong)


@pytest.mark.timeout(120)
def test_sessions_for_the_explorer_and_the_operators_one_time_sign_in(world: dict[str, Any]) -> None:
    from consortia.client.request_signing import SignedRequests

    url = world["url"]
    assert httpx.get(url + "/v1/status").json()["api_access"] == "signed"
    chain_id = httpx.get(url + "/v1/status").json()["chain_id"]
    with httpx.Client(base_url=url, timeout=TIMEOUT) as http:
        made = http.post("/v1/auth/session", auth=SignedRequests(world["keys"][ADMIN_A], chain_id)).json()
        assert made["org"] == "bank-a" and not made["operator"]
        bearer = {"authorization": f"Bearer {made['token']}"}
        assert http.get("/v1/blocks", headers=bearer).status_code == 200
        assert http.get("/v1/reg/audit/" + format_address(world["keys"][ALICE].address),
                        headers=bearer).status_code == 403  # fmt: skip
        with http.stream("GET", f"/v1/events?access_token={made['token']}") as stream:
            assert stream.status_code == 200
        assert http.get("/v1/blocks", headers={"authorization": "Bearer cs1.x.y"}).status_code == 401

        # the operator's link, printed in node0's log: exchanged once for a staff session
        log = (world["homes"][0] / "test-node.log").read_text()
        link = log.rsplit("#signin=", 1)[1].split()[0]
        assert http.get("/v1/blocks", headers={"authorization": f"Bearer {link}"}).status_code == 401
        operator = http.post("/v1/auth/session", headers={"authorization": f"Bearer {link}"}).json()
        assert operator["operator"] and operator["address"] is None
        again = http.post("/v1/auth/session", headers={"authorization": f"Bearer {link}"})
        assert again.status_code == 401 and again.json()["code"] == "bad_session_token"
        staff = {"authorization": f"Bearer {operator['token']}"}
        assert http.get("/v1/blocks", headers=staff).status_code == 200


# --- the read audit (decisions/0026) ------------------------------------------------------------

def _anchors(node: Any, nodes: list[Any], config: Any) -> ReadAuditConfig:
    """node0 anchors every second, with the key `network init --orgs` chose (its organisation's
    admin: a validator key is no identity); the others as initialised (every ten minutes)."""
    return fast_anchors(config.read_audit) if node is nodes[0] else config.read_audit


@pytest.mark.timeout(180)
def test_the_regulators_reads_of_a_banks_data_are_logged_anchored_and_checked(world: dict[str, Any],
                                                                              tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from consortia.api.auth.read_log import LOG_DIR, segments
    from consortia.cli.main import app
    from consortia.client.read_audit import reads
    from consortia.crypto.keyfile import save_key_file
    from consortia.errors import ConsortiaError

    keys, home = world["keys"], world["homes"][0]
    signed = {who: Client(world["url"], timeout=TIMEOUT, key=keys[who]) for who in (REG, ADMIN_A, ADMIN_B,
                                                                                   ALICE)}
    reg = signed[REG]
    start = reads(reg, 0, 1)["head_seq"]

    # the regulator reading its own identity, the organisations and the status logs nothing
    reg.get(f"/v1/identities/{format_address(keys[REG].address)}")
    reg.get("/v1/orgs")
    reg.status()
    assert reads(reg, start, 10)["entries"] == []

    # the regulator reads a bank-a customer's account and history: logged as bank-a's data
    alice = format_address(keys[ALICE].address)
    reg.get(f"/v1/accounts/{alice}")
    reg.get(f"/v1/history/{alice}")
    logged = reads(reg, start, 10)["entries"]
    assert [e["path"] for e in logged] == [f"/v1/accounts/{alice}", f"/v1/history/{alice}"]
    assert all("bank-a" in e["subjects"] and e["reader_org"] == "reg" and e["status"] == 200 for e in logged)
    assert logged[0]["reader"] == format_address(keys[REG].address).lower()

    # bank-a's admin sees them; bank-b's admin and alice herself do not
    seen_a = [e["path"] for e in reads(signed[ADMIN_A], start, 500)["entries"]]
    assert f"/v1/accounts/{alice}" in seen_a and f"/v1/history/{alice}" in seen_a
    assert f"/v1/accounts/{alice}" not in [e["path"] for e in reads(signed[ADMIN_B], start, 500)["entries"]]
    with pytest.raises(ConsortiaError) as refused:
        reads(signed[ADMIN_B], start, 10, org="bank-a")
    assert refused.value.code == "forbidden"
    with pytest.raises(ConsortiaError) as member:
        reads(signed[ALICE], start, 10)
    assert member.value.code == "forbidden"

    # within the anchor period (1 s here) the head is on chain, and verify proves it
    last = logged[-1]["seq"]
    wait_for(lambda: reads(reg, 0, 1)["anchored_seq"] >= last, TIMEOUT, "the read log's head anchored")
    cli = CliRunner()
    ok = cli.invoke(app, ["audit", "reads", "verify", "--home", str(home), "--json"])
    assert ok.exit_code == 0, ok.output
    report = msgspec.json.decode(ok.output)
    assert report["entries"] >= last and report["anchorings"] and report["roots_on_chain"] >= 1
    admin_file = tmp_path / "admin-a.key"
    save_key_file(admin_file, keys[ADMIN_A], None)
    listed = cli.invoke(app, ["audit", "reads", "--key", str(admin_file), "--node", world["url"],
                              "--after", str(start)])
    assert listed.exit_code == 0 and f"/v1/accounts/{alice}" in listed.output, listed.output

    # one line edited: verify fails and names it
    segment = segments(home / LOG_DIR)[-1]
    lines = segment.read_bytes().split(b"\n")
    at = next(i for i, line in enumerate(lines) if f'"seq":{logged[0]["seq"]},'.encode() in line)
    original = lines[at]
    lines[at] = original.replace(b'"status":200', b'"status":404')
    segment.write_bytes(b"\n".join(lines))
    try:
        broken = cli.invoke(app, ["audit", "reads", "verify", "--home", str(home)])
        assert broken.exit_code != 0 and f"{segment.name}:{at + 1}" in broken.output, broken.output
    finally:
        lines[at] = original
        segment.write_bytes(b"\n".join(lines))


def test_answers_on_a_chain_with_organisations_keep_their_openapi_schemas(world: dict[str, Any]) -> None:
    """What the regulator reads on this chain (organisations, identities, an indexed history,
    the read audit on) is valid against the route's typed 200 schema in /openapi.json (issue 16)."""
    import jsonschema

    from consortia.api.openapi import openapi_spec

    spec = openapi_spec()
    reg = Client(world["url"], timeout=TIMEOUT, key=world["keys"][REG])
    alice = format_address(world["keys"][ALICE].address)
    checked = []
    head = reg.height()
    wait_for(lambda: reg.get("/v1/index/status")["indexed_height"] >= head, TIMEOUT, "the index at the head")
    for template in ["/v1/orgs", "/v1/identities/{address}", "/v1/gov/proposals", "/v1/reg/alerts",
                     "/v1/reg/audit/{address}", "/v1/reg/rules", "/v1/history/{address}", "/v1/index/txs",
                     "/v1/index/txs/{tx_hash}", "/v1/index/events", "/v1/index/wallets", "/v1/index/status",
                     "/v1/audit/reads", "/v1/explorer/accounts/{address}", "/v1/auth/whoami",
                     "/v1/explorer/trace/accounts/{address}"]:
        path = template.replace("{address}", alice).replace("{tx_hash}", "0x" + world["tx"].hex())
        body = reg.get(path)
        schema = spec["paths"][template]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        jsonschema.Draft202012Validator({**schema, "components": spec["components"]}).validate(body)
        checked.append(body)
    orgs, identity, _, _, audit, _, history, *_, account, who, _ = checked
    assert account["identity"]["org"] == "bank-a" and who["org"] == "reg" and who["oversees"]
    assert {o["name"] for o in orgs["orgs"]} >= {"cb", "bank-a", "bank-b", "reg"}
    assert identity["org"] == "bank-a" and audit["identity"]["org"] == "bank-a"
    assert audit["history"]["available"] and history["items"], (audit["history"], history)

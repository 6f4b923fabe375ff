"""The OpenAPI document is typed from the server's own types and served with its docs page
(issue 16): it passes openapi-spec-validator, names this node in ``servers``, gives every route
and every JSON body a schema, those schemas hold for what a node with committed transactions
answers, and ``/docs`` is Swagger UI served from the package (nothing from elsewhere)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
from openapi_spec_validator import validate
from starlette.routing import Route

from consortia.api.app import create_app
from consortia.api.openapi import RESPONSE_TYPES, openapi_spec
from consortia.client.tx_builder import sign_transfer
from consortia.crypto.keyfile import load_key_file
from consortia.node.consensus_driver import ConsensusDriver
from consortia.node.home_setup import DEV_CHAIN_ID, init_dev_home
from consortia.node.node import Node

PAGES = {"/", "/docs", "/docs/{file}", "/explorer/{name}"}
"""Routes that serve pages and their files for people, not the API."""


class Live:
    def __init__(self, node: Node, tx_hash: str) -> None:
        self.node, self.tx_hash = node, tx_hash
        self.app = create_app(node)
        self.loop = asyncio.new_event_loop()
        transport = httpx.ASGITransport(app=self.app)
        self.http = httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8545")

    def get(self, url: str, **options: Any) -> httpx.Response:
        return self.loop.run_until_complete(self.http.get(url, **options))

    def close(self) -> None:
        self.loop.run_until_complete(self.http.aclose())
        self.loop.close()


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """A dev node that committed a transfer (its consensus run in-process, then stopped)."""
    home = tmp_path_factory.mktemp("openapi") / "home"
    accounts = init_dev_home(home)
    node = Node(home)
    key = load_key_file(accounts[0].path, None)
    to = load_key_file(accounts[1].path, None).address
    driver = ConsensusDriver(node)
    node.consensus = driver

    async def commit_one() -> str:
        stop = asyncio.Event()
        task = asyncio.create_task(driver.run(stop))
        [admitted] = await node.submit([sign_transfer(key, DEV_CHAIN_ID, 0, 1000, to, 5)])
        deadline = asyncio.get_running_loop().time() + 10
        while len(node.chain.mempool) and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.02)
        stop.set()
        await asyncio.wait({task}, timeout=5)
        assert admitted.tx_hash is not None
        return "0x" + admitted.tx_hash.hex()

    tx_hash = asyncio.run(commit_one())
    world = Live(node, tx_hash)
    yield world
    world.close()
    node.close()


def conforms(spec: dict[str, Any], schema: dict[str, Any], body: Any) -> None:
    """``body`` is valid against ``schema``, whose ``$ref``s point into ``spec``'s components."""
    jsonschema.Draft202012Validator({**schema, "components": spec["components"]}).validate(body)


def test_the_document_is_valid_openapi_and_names_this_node(live: Live) -> None:
    spec = live.get("/openapi.json").json()
    validate(spec)
    assert spec["servers"] == [{"url": "http://127.0.0.1:8545", "description": "this node"}]
    validate(openapi_spec())  # the default: relative to wherever it is served


def shape(path: str) -> str:
    """A path template with its parameters unnamed (a route's ``{bill_id}`` is the spec's ``{id}``)."""
    return re.sub(r"\{[^}]+\}", "{}", path)


def test_every_route_is_described_with_typed_bodies(live: Live) -> None:
    spec = openapi_spec()
    described = {shape(path): operations for path, operations in spec["paths"].items()}
    for route in live.app.routes:
        assert isinstance(route, Route)
        if route.path in PAGES:
            continue
        assert shape(route.path) in described, f"{route.path} is not in /openapi.json"
        for method in set(route.methods or ()) - {"HEAD"}:
            operation = described[shape(route.path)].get(method.lower())
            assert operation is not None, f"{method} {route.path} is not in /openapi.json"
            for status, response in operation["responses"].items():
                media = response.get("content", {})
                for kind, body in media.items():
                    if kind == "application/json":
                        schema = body.get("schema", {})
                        refs = [schema] if "$ref" in schema else schema.get("anyOf", [])
                        assert refs and all("$ref" in r for r in refs), (
                            f"{method} {route.path} {status} has no typed schema: {schema}")
    assert not [k for k in RESPONSE_TYPES if k[1] not in spec["paths"]]  # no stale entry


def test_bodies_of_a_node_with_a_committed_transfer_keep_their_schemas(live: Live) -> None:
    spec = live.get("/openapi.json").json()
    tx = live.get(f"/v1/tx/{live.tx_hash}").json()
    assert tx["status"] == "committed" and tx["decoded"]["method"] == "transfer"
    height = tx["height"]
    for path, url in [
        ("/v1/status", "/v1/status"),
        ("/v1/genesis", "/v1/genesis"),
        ("/v1/tx/{tx_hash}", f"/v1/tx/{live.tx_hash}"),
        ("/v1/tx/{tx_hash}/wait", f"/v1/tx/{live.tx_hash}/wait"),
        ("/v1/tx/{tx_hash}/proof", f"/v1/tx/{live.tx_hash}/proof"),
        ("/v1/blocks", "/v1/blocks"),
        ("/v1/blocks/{ref}", f"/v1/blocks/{height}"),
        ("/v1/accounts/{address}", "/v1/accounts/" + tx["decoded"]["sender"]),
        ("/v1/accounts/{address}/proof", "/v1/accounts/" + tx["decoded"]["sender"] + "/proof"),
        ("/v1/evidence", "/v1/evidence"),
    ]:
        r = live.get(url)
        assert r.status_code == 200, (url, r.text)
        schema = spec["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        conforms(spec, schema, r.json())
    error = live.get("/v1/blocks/999999")
    assert error.status_code == 404
    conforms(spec, spec["paths"]["/v1/blocks/{ref}"]["get"]["responses"]["404"]["content"]
             ["application/json"]["schema"], error.json())
    # a changed type is caught: the schema is not a bare object
    broken = live.get("/v1/status").json() | {"height": "12"}
    with pytest.raises(jsonschema.ValidationError):
        conforms(spec, {"$ref": "#/components/schemas/StatusView"}, broken)


def test_the_docs_page_is_served_from_the_package(live: Live) -> None:
    page = live.get("/docs")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources and all(not s.startswith(("http:", "https:", "//")) for s in sources), sources
    for source in sources:
        asset = live.get("/" + source)
        assert asset.status_code == 200 and asset.content, source
    bundle = live.get("/docs/swagger-ui-bundle.js")
    assert b"SwaggerUIBundle" in bundle.content and len(bundle.content) > 500_000
    assert "openapi.json" in live.get("/docs/consortia-start.js").text
    missing = live.get("/docs/app.py")
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    assert live.get("/docs/index.html").status_code == 404  # only the files the page uses


def test_the_bundle_is_a_declared_dependency() -> None:
    pyproject = (Path(__file__).resolve().parent.parent / "pyproject.toml").read_text()
    assert '"swagger-ui-bundle-v2' in pyproject and "openapi-spec-validator" in pyproject


# --- no generic success schemas beyond an explicit list ---------------------------------------

GENERIC = {"$ref": "#/components/schemas/ViewAnswer"}
"""The fallback body of a route no type describes (an application's view, any fields)."""

ALLOWED_GENERIC: set[tuple[str, str]] = set()
"""Operations whose success body is still the generic one: type them (a TypedDict the handler's
answer matches, in api/views*.py, named in openapi.RESPONSE_TYPES) and take them off this list."""


def _bare(spec: dict[str, Any], schema: dict[str, Any]) -> bool:
    """An object schema that names no field (directly, or the component a ``$ref`` names)."""
    if "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].removeprefix("#/components/schemas/")]
    return schema.get("type") == "object" and not schema.get("properties")


def generic_operations(spec: dict[str, Any]) -> set[tuple[str, str]]:
    """Every operation whose 2xx JSON body is generic: the ViewAnswer fallback, or an object (or
    any of several) that names no field."""
    out = set()
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for status, response in operation.get("responses", {}).items():
                schema = response.get("content", {}).get("application/json", {}).get("schema")
                if not status.startswith("2") or schema is None:
                    continue
                if schema == GENERIC or any(_bare(spec, s) for s in schema.get("anyOf", [schema])):
                    out.add((method, path))
    return out


def test_no_success_schema_is_generic_but_the_listed_ones() -> None:
    spec = openapi_spec()
    assert generic_operations({**spec, "paths": {"/x": {"get": {"responses": {"200": {"content": {
        "application/json": {"schema": {"type": "object"}}}}}}}}}) == {("get", "/x")}  # the check bites
    generic = generic_operations(spec)
    assert generic <= ALLOWED_GENERIC, f"newly generic: {sorted(generic - ALLOWED_GENERIC)}"
    typed_now = sorted(ALLOWED_GENERIC - generic)
    assert not typed_now, f"typed now, take them off ALLOWED_GENERIC: {typed_now}"


def test_index_answers_keep_their_schemas(tmp_path: Path) -> None:
    """The index routes' schemas hold for what the index's queries answer over a real chain with
    transfers (every row kind that chain has, pages with a next cursor)."""
    from tests.conftest import make_chain

    from consortia.index import queries
    from consortia.index.check import check_index
    from consortia.index.database import IndexDatabase
    from consortia.index.follower import index_to
    from consortia.node.genesis import genesis_hash

    spec = openapi_spec()
    tc = make_chain(tmp_path / "data", accounts=3, balance=1000)
    try:
        for nonce in range(3):
            tc.submit([tc.transfer(0, tc.accounts[1].address, 7 + nonce, nonce, expiry=10_000)])
            tc.produce()
        db = IndexDatabase(f"sqlite:///{tmp_path / 'index.sqlite3'}", tc.genesis.chain_id,
                           genesis_hash(tc.genesis))
        index_to(db, tc.chain.store, tc.chain.suite, tc.genesis, tc.chain.head.height)
        sender = tc.accounts[0].address
        with db.reading() as conn:
            pages = {
                "/v1/history/{address}": queries.account_history(conn, sender, limit=2),
                "/v1/index/txs": queries.transactions(conn, limit=2),
                "/v1/index/events": queries.events(conn, limit=2),
                "/v1/index/alerts": queries.alerts(conn),
                "/v1/index/proposals": queries.proposals(conn),
                "/v1/index/wallets": queries.wallets(conn),
            }
            tx_hash = bytes.fromhex(pages["/v1/index/txs"].items[0]["tx_hash"][2:])
            one = queries.transaction(conn, tx_hash)
        height = db.head().height
        report = check_index(db, tc.chain.store, tc.chain.suite, tc.genesis, 0, height).to_json()
        db.close()
    finally:
        tc.chain.store.close()
    assert pages["/v1/history/{address}"].next_cursor is not None and pages["/v1/index/txs"].items
    for path, page in pages.items():
        schema = spec["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        conforms(spec, schema, {**page.to_json(), "indexed_height": height})
    schema = spec["paths"]["/v1/index/txs/{tx_hash}"]["get"]["responses"]["200"]["content"][
        "application/json"]["schema"]
    conforms(spec, schema, one)
    assert report["ok"] and report["blocks_checked"] == height + 1, report
    conforms(spec, spec["paths"]["/v1/index/check"]["get"]["responses"]["200"]["content"]
             ["application/json"]["schema"], report)
    with pytest.raises(jsonschema.ValidationError):  # a changed column is caught
        conforms(spec, schema, {**(one or {}), "steps": "3"})


def test_regulator_answers_keep_their_schemas(live: Live) -> None:
    spec = live.get("/openapi.json").json()
    sender = live.get(f"/v1/tx/{live.tx_hash}").json()["decoded"]["sender"]
    for path, url in [("/v1/reg/audit/{address}", f"/v1/reg/audit/{sender}"),
                      ("/v1/reg/alerts", "/v1/reg/alerts"), ("/v1/reg/rules", "/v1/reg/rules"),
                      ("/v1/reg/limits/{tier}", "/v1/reg/limits/0")]:
        r = live.get(url)
        assert r.status_code == 200, (url, r.text)
        schema = spec["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        conforms(spec, schema, r.json())
    audit = live.get(f"/v1/reg/audit/{sender}").json()
    assert audit["balance"] is not None and audit["history"]["available"] is False
    with pytest.raises(jsonschema.ValidationError):  # a changed field is caught
        conforms(spec, {"$ref": "#/components/schemas/RegAuditView"}, audit | {"frozen": "no"})


def test_index_status_and_read_audit_keep_their_schemas(live: Live, tmp_path: Path) -> None:
    from consortia.api.audit_routes import entry_json
    from consortia.api.auth.read_log import Read, ReadLog
    from consortia.index.follower import IndexFollower

    spec = live.get("/openapi.json").json()
    off = live.get("/v1/audit/reads")  # a chain without organisations keeps no read audit
    assert off.status_code == 200 and off.json()["audit"].startswith("off")
    conforms(spec, spec["paths"]["/v1/audit/reads"]["get"]["responses"]["200"]["content"]
             ["application/json"]["schema"], off.json())
    log = ReadLog.open(tmp_path / "reads")
    log.append(Read(bytes(20), "reg", "admin", "GET", "/v1/accounts/0x" + "aa" * 20, "",
                    frozenset({"bank-a"}), 200), 1_000)
    entries, reached = log.page(0, 10)
    page = {"entries": [entry_json(e) for e in entries], "next_after": reached, "head_seq": log.head_seq,
            "head": "0x" + log.head, "anchored_seq": 0, "audit": "on"}
    conforms(spec, {"$ref": "#/components/schemas/ReadAuditPage"}, page)
    store = live.node.chain.store
    follower = IndexFollower(lambda: None, store, live.node.chain.suite, live.node.genesis)  # type: ignore[arg-type,return-value]
    status = follower.status(live.node.chain.head.height)
    conforms(spec, spec["paths"]["/v1/index/status"]["get"]["responses"]["200"]["content"]
             ["application/json"]["schema"], status)
    with pytest.raises(jsonschema.ValidationError):
        conforms(spec, {"$ref": "#/components/schemas/IndexStatusView"}, status | {"lag_blocks": None})


def test_explorer_answers_keep_their_schemas(live: Live) -> None:
    spec = live.get("/openapi.json").json()
    tx = live.get(f"/v1/tx/{live.tx_hash}").json()
    sender = tx["decoded"]["sender"]
    for path, url in [("/v1/search", f"/v1/search?q={tx['height']}"),
                      ("/v1/search", f"/v1/search?q={sender}"),
                      ("/v1/search", f"/v1/search?q={live.tx_hash}"), ("/v1/search", "/v1/search?q=bank-a"),
                      ("/v1/explorer/accounts/{address}", f"/v1/explorer/accounts/{sender}"),
                      ("/v1/auth/whoami", "/v1/auth/whoami")]:
        r = live.get(url)
        assert r.status_code == 200, (url, r.text)
        schema = spec["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        conforms(spec, schema, r.json())
    assert {m["kind"] for m in live.get(f"/v1/search?q={live.tx_hash}").json()["matches"]} == {"tx"}

"""The explorer served by the node, and the two read routes it needs beyond the others.

| path | what |
|---|---|
| `GET /` | the explorer (one page; its views are hash routes: `#/block/12`, `#/tx/0x…`, ...) |
| `GET /explorer/{file}` | its scripts and style sheet (shipped in the package: no asset from the internet) |
| `GET /v1/search?q=` | what a query names: blocks, transactions, accounts, objects, organisations |
| `GET /v1/explorer/accounts/{address}` | identity (or null), organisations it administers, is it a meter |
| `GET /v1/explorer/trace/events?id=` | a traced item's own events, in chain order (SQL index) |
| `GET /v1/explorer/trace/accounts/{address}` | the traced items an account holds or produced (SQL index) |
| `GET /v1/auth/whoami` | who the caller is on this node (the explorer's header badge) |

The pages are served with a Content-Security-Policy that allows this node only: no script, style,
image or connection from anywhere else, and no inline script. A search answers
``{"query", "form", "matches": [{"kind", "id", "label", ...}]}``, every match something that
exists on the committed head; an unreadable query is a 400 ``bad_search``.

``whoami`` answers ``{"api_access": "open"}`` on an open API; on one that authenticates, the
caller (identity or the node's operator) and what the explorer may ask for (``staff``:
blocks, search and the live block stream; ``oversees``: everything, the regulator's alerts).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec
from sqlalchemy import Connection, or_, select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from consortia.api.app_views import AppViews
from consortia.api.auth.gate import staff
from consortia.api.auth.principal import Principal
from consortia.api.auth.sessions import Claims
from consortia.api.index_routes import index_db
from consortia.api.perm_routes import identity_json
from consortia.api.search_query import Query, parse_query
from consortia.api.views_explorer import (
    AccountTracedItems,
    ExplorerAccountView,
    SearchMatch,
    SearchView,
    TracedItemsOf,
    WhoAmI,
)
from consortia.api.views_trace import ItemEventsView
from consortia.apps.bills import sdk as bills
from consortia.apps.cbdc.sdk import ViewCall
from consortia.apps.energy import sdk as energy
from consortia.apps.health.sdk import HEALTH
from consortia.apps.notary.receipts import NOTARY
from consortia.apps.scf import sdk as scf
from consortia.apps.trace import sdk as trace
from consortia.apps.trace.identifiers import canonical
from consortia.client.arguments import InvalidArgument
from consortia.contracts.permissioned import identity_record, orgs, proposal
from consortia.contracts.python.json_data import to_json
from consortia.crypto.address import format_address, parse_address
from consortia.errors import NotFound
from consortia.index import schema, trace_queries
from consortia.node.node import Node

STATIC = Path(__file__).parent / "static"
ASSETS: dict[str, str] = {
    "explorer.css": "text/css",
    "dom.js": "text/javascript",
    "api.js": "text/javascript",
    "charts.js": "text/javascript",
    "sha256.js": "text/javascript",
    "chain_pages.js": "text/javascript",
    "app_pages.js": "text/javascript",
    "work_pages.js": "text/javascript",
    "signin.js": "text/javascript",
    "explorer.js": "text/javascript",
}
"""Every file under ``/explorer/``: nothing else in the package is served."""
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
       "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
HEADERS = {"content-security-policy": CSP, "cache-control": "no-cache", "x-content-type-options": "nosniff"}
_json = msgspec.json.Encoder()
MAX_ITEM_EVENTS = 500
"""Events of one item the trace page lists at most (its oldest first)."""
MAX_ACCOUNT_ITEMS = 100
"""Traced items an account page lists at most (the first registered first)."""


def items_of(conn: Connection, address: bytes, limit: int = MAX_ACCOUNT_ITEMS) -> TracedItemsOf:
    """The traced items ``address`` holds or produced, from the index (at most ``limit``)."""
    items = schema.trace_items
    query = (select(items.c.item, items.c.product, items.c.kind, items.c.status, items.c.holder,
                    items.c.producer, items.c.recall_reason, items.c.affected)
             .where(or_(items.c.holder == address, items.c.producer == address))
             .order_by(items.c.registered_height, items.c.item).limit(limit + 1))  # fmt: skip
    rows = conn.execute(query).all()
    return {"address": format_address(address), "truncated": len(rows) > limit, "items": [
        {"item": r.item, "product": r.product, "kind": r.kind, "status": r.status,
         "holds": bytes(r.holder) == address, "produced": bytes(r.producer) == address,
         "recalled": r.recall_reason is not None or r.affected not in ("[]", "")}
        for r in rows[:limit]]}  # fmt: skip


def _response(data: Any) -> Response:
    return Response(_json.encode(data), media_type="application/json")


class Resolver:
    """Finds what a classified query names on the committed head (blocking: run in a thread)."""

    def __init__(self, node: Node) -> None:
        self.chain = node.chain
        self.views = {app: AppViews(node, app, codes) for app, codes in (
            ("bills", ("bill_not_found",)),
            ("scf", ("payable_not_found", "part_not_found", "invoice_not_found")),
            ("energy", ("meter_not_found", "certificate_not_found", "trade_not_found")),
            ("notary", ()),
            ("health", ("record_not_found",)),
            ("trace", ("unknown_item",)),
        )}  # fmt: skip

    def view(self, app: str, call: ViewCall) -> Any:
        """An application's view, or None when the object (or the application) is not there."""
        views = self.views[app]
        try:
            return to_json(views.run(views.head_block(), call))
        except NotFound:
            return None

    def matches(self, query: Query) -> list[SearchMatch]:
        if query.form == "number":
            assert query.number is not None
            found = (self.numbered(kind, query.number) for kind in query.kinds)
            return [m for m in found if m is not None]
        if query.form == "address":
            return self.address(query.raw)
        if query.form == "hash":
            return self.hash(query.raw)
        if query.form == "item":
            return self.item(query.text)
        return self.name(query.text)

    def numbered(self, kind: str, number: int) -> SearchMatch | None:
        if kind == "block":
            if number > self.chain.head.height:
                return None
            return {"kind": "block", "id": number, "label": f"block at height {number}"}
        if kind == "proposal":
            with self.chain.store.snapshot() as snap:
                found = proposal(snap.get, number)
            if found is None:
                return None
            return {"kind": "proposal", "id": number, "label": f"proposal {number}: {found.kind}"}
        if kind == "part":
            part = self.view("scf", scf.part(number)) if number >= 1 else None
            if not part:
                return None
            return {"kind": "part", "id": number, "payable": part["payable"],
                    "label": f"part {number} of payable {part['payable']}"}
        calls: dict[str, tuple[str, Callable[[int], ViewCall], str]] = {
            "bill": ("bills", bills.get, "kind"),
            "payable": ("scf", scf.payable, "status"),
            "certificate": ("energy", energy.certificate, "status"),
            "trade": ("energy", energy.trade, "status"),
        }
        app, call, field = calls[kind]
        found = self.view(app, call(number)) if number >= 1 else None
        if not found:
            return None
        return {"kind": kind, "id": number, "label": f"{kind} {number} ({found.get(field, '')})"}

    def address(self, raw: bytes) -> list[SearchMatch]:
        address = format_address(raw)
        out: list[SearchMatch] = [{"kind": "account", "id": address, "label": f"account {address}"}]
        if self.view("energy", energy.meter(raw)):
            out.append({"kind": "meter", "id": address, "label": f"meter {address}"})
        return out

    def hash(self, raw: bytes) -> list[SearchMatch]:
        text = "0x" + raw.hex()
        out: list[SearchMatch] = []
        if self.chain.store.has_tx(raw) or raw in self.chain.mempool:
            out.append({"kind": "tx", "id": text, "label": f"transaction {text}"})
        try:
            height = self.chain.store.height_of_block(raw)
            out.append({"kind": "block", "id": height, "label": f"block at height {height}"})
        except NotFound:
            pass
        if self.view("notary", ViewCall(NOTARY, "get", [raw])):
            out.append({"kind": "notary_root", "id": text, "label": f"notarised root {text}"})
        if self.view("scf", scf.invoice(raw)):
            out.append({"kind": "invoice", "id": text, "label": f"invoice {text}"})
        record = self.view("health", ViewCall(HEALTH, "record", [raw]))
        if record:
            label = f"health record {text} ({record['hospital']})"
            out.append({"kind": "record", "id": text, "label": label})
        return out

    def item(self, item: str) -> list[SearchMatch]:
        found = self.view("trace", trace.get(item))
        if not found:
            return []
        return [{"kind": "item", "id": item, "label": f"item {item} ({found.get('product', '')})"}]

    def name(self, text: str) -> list[SearchMatch]:
        with self.chain.store.snapshot() as snap:
            found = [o for o in orgs(snap.get) if o.name.lower() == text.lower()]
        return [{"kind": "org", "id": o.name, "label": f"organisation {o.name} ({o.role})"} for o in found]

    def account(self, raw: bytes) -> ExplorerAccountView:
        with self.chain.store.snapshot() as snap:
            record = identity_record(snap.get, raw)
            identity = identity_json(record, snap.get) if record is not None else None
            admin_of = [o.name for o in orgs(snap.get) if raw in o.admins]
        return {"address": format_address(raw), "identity": identity, "admin_of": admin_of,
                "meter": bool(self.view("energy", energy.meter(raw)))}  # fmt: skip


def explorer_routes(node: Node) -> list[Route]:
    resolver = Resolver(node)

    def page(request: Request) -> Response:
        return FileResponse(STATIC / "explorer.html", headers=HEADERS)

    def asset(request: Request) -> Response:
        name = request.path_params["name"]
        media = ASSETS.get(name)
        if media is None:
            raise NotFound(f"the explorer has no file {name[:64]!r}")
        return FileResponse(STATIC / name, media_type=media, headers=HEADERS)

    async def search(request: Request) -> Response:
        query = parse_query(request.query_params.get("q", ""))
        found = await run_in_threadpool(resolver.matches, query)
        body: SearchView = {"query": query.text, "form": query.form, "height": node.chain.head.height,
                            "matches": found}  # fmt: skip
        return _response(body)

    async def account(request: Request) -> Response:
        raw = parse_address(request.path_params["address"])
        return _response(await run_in_threadpool(resolver.account, raw))

    def trace_events(request: Request) -> Response:
        value = request.query_params.get("id")
        if not value:
            raise InvalidArgument("give the item as ?id=… (EPC URI, GS1 Digital Link or 88.x/…)")
        item = canonical(value)
        db = index_db(node)
        with db.reading() as conn:
            trace_queries.item_row(conn, item)  # an unknown item: 404
            events = trace_queries.events_of(conn, [item], limit=MAX_ITEM_EVENTS)
        body: ItemEventsView = {"item": item, "events": events, "indexed_height": db.head().height}
        return _response(body)

    def trace_items(request: Request) -> Response:
        raw = parse_address(request.path_params["address"])
        db = index_db(node)
        with db.reading() as conn:
            found = items_of(conn, raw)
        listed: AccountTracedItems = {**found, "indexed_height": db.head().height}
        return _response(listed)

    def whoami(request: Request) -> Response:
        who: Principal | None = getattr(request.state, "principal", None)
        if who is None:
            open_access: WhoAmI = {"api_access": "open"}
            return _response(open_access)
        claims: Claims | None = getattr(request.state, "claims", None)
        signed: WhoAmI = {
            "api_access": "signed", "operator": not who.address,
            "address": format_address(who.address) if who.address else None,
            "org": who.org or None, "role": who.role, "org_role": who.org_role,
            "staff": staff(who), "oversees": who.oversees,
            "session_expires": claims.expires if claims is not None else None,
        }  # fmt: skip
        return _response(signed)

    return [
        Route("/", page),
        Route("/explorer/{name}", asset),
        Route("/v1/search", search),
        Route("/v1/explorer/accounts/{address}", account),
        Route("/v1/explorer/trace/events", trace_events),
        Route("/v1/explorer/trace/accounts/{address}", trace_items),
        Route("/v1/auth/whoami", whoami),
    ]

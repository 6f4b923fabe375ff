"""REST routes of the SQL index (``consortia.index``): history and queries, paged by cursor.

| path | what |
|---|---|
| `GET /v1/index/status` | backend, indexed height, the chain's head, lag (blocks, seconds), error |
| `GET /v1/history/{address}?role=&order=&cursor=&limit=` | an account's calls and payments |
| `GET /v1/index/txs?contract=&method=&status=&sender=&from_height=&to_height=&…` | transactions |
| `GET /v1/index/events?contract=&name=&party=&from_height=&to_height=&…` | events |
| `GET /v1/index/alerts?address=`, `/v1/index/proposals?status=`, `/v1/index/wallets?org=` | objects |
| `GET /v1/index/check?from_height=&to_height=` | compare the index with the chain (bounded range) |

Every list answers ``{"items": [...], "next_cursor": ..., "indexed_height": ...}``; a node with no
index answers 404 ``index_unavailable``; bad parameters 400 ``invalid_query`` / ``decode_error``.
Handlers are plain functions: Starlette runs them in its thread pool, never on the node's loop.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from consortia.api.params import parse_hash, query_uint
from consortia.api.views_index import IndexCheckView
from consortia.api.views_ops import IndexStatusView
from consortia.api.views_reg import AuditHistory
from consortia.crypto.address import parse_address
from consortia.errors import NotFound
from consortia.index import queries
from consortia.index.check import check_index
from consortia.index.database import IndexDatabase, IndexUnavailable
from consortia.index.queries import InvalidQuery, Page
from consortia.node.node import Node

MAX_CHECK_BLOCKS = 20_000
"""Blocks one ``/v1/index/check`` request compares (the CLI walks longer chains in ranges)."""
MAX_TEXT = 64
AUDIT_HISTORY_LIMIT = 1000
_json = msgspec.json.Encoder()


def _response(data: Any, status: int = 200) -> Response:
    return Response(_json.encode(data), status_code=status, media_type="application/json")


def index_db(node: Node) -> IndexDatabase:
    if node.index is None:
        raise IndexUnavailable("this node keeps no SQL index (started with --index-db off, "
                               "or not by `consortia node start`)")
    if node.index.db is None:
        raise IndexUnavailable(f"the SQL index is not open yet: {node.index.stats.error or 'starting'}")
    return node.index.db


def _text(request: Request, name: str) -> str | None:
    value = request.query_params.get(name)
    if value is None or value == "":
        return None
    if len(value) > MAX_TEXT or not value.isprintable():
        raise InvalidQuery(f"{name} must be printable text of at most {MAX_TEXT} characters")
    return value


def _address(request: Request, name: str) -> bytes | None:
    value = request.query_params.get(name)
    return None if value is None or value == "" else parse_address(value)


def _height(request: Request, name: str) -> int | None:
    return query_uint(request, name, 0) if name in request.query_params else None


def _paging(request: Request) -> dict[str, Any]:
    return {"cursor": _text(request, "cursor"),
            "limit": query_uint(request, "limit", queries.DEFAULT_LIMIT, minimum=1,
                                maximum=queries.MAX_LIMIT),
            "order": _text(request, "order") or "desc"}  # fmt: skip


def audit_history(node: Node, address: bytes, limit: int = AUDIT_HISTORY_LIMIT) -> AuditHistory:
    """The newest ``limit`` entries of an account's history for the regulator's audit, with the
    cursor of the rest; ``{"available": false, "reason": ...}`` on a node without an index."""
    try:
        db = index_db(node)
        with db.reading() as conn:
            page = queries.account_history(conn, address, limit=limit)
        return {"available": True, "indexed_height": db.head().height, **page.to_json()}
    except IndexUnavailable as exc:
        return {"available": False, "reason": exc.message}


def index_routes(node: Node) -> list[Route]:
    def listing(run: Callable[[Any, dict[str, Any]], Page]) -> Callable[[Request], Response]:
        def handler(request: Request) -> Response:
            db = index_db(node)
            paging = _paging(request)
            with db.reading() as conn:
                page = run(conn, {"request": request, **paging})
            return _response({**page.to_json(), "indexed_height": db.head().height})

        return handler

    def status(request: Request) -> Response:
        if node.index is None:
            raise IndexUnavailable("this node keeps no SQL index (started with --index-db off, "
                                   "or not by `consortia node start`)")
        body: IndexStatusView = node.index.status(node.chain.head.height)  # type: ignore[assignment]
        return _response(body)

    def history(conn: Any, a: dict[str, Any]) -> Page:
        request: Request = a.pop("request")
        address = parse_address(request.path_params["address"])
        return queries.account_history(conn, address, role=_text(request, "role"), **a)

    def txs(conn: Any, a: dict[str, Any]) -> Page:
        r: Request = a.pop("request")
        return queries.transactions(
            conn, contract=_text(r, "contract"), method=_text(r, "method"), status=_text(r, "status"),
            sender=_address(r, "sender"), from_height=_height(r, "from_height"),
            to_height=_height(r, "to_height"), **a)  # fmt: skip

    def events(conn: Any, a: dict[str, Any]) -> Page:
        r: Request = a.pop("request")
        return queries.events(
            conn, contract=_text(r, "contract"), name=_text(r, "name"), party=_address(r, "party"),
            from_height=_height(r, "from_height"), to_height=_height(r, "to_height"), **a)  # fmt: skip

    def alerts(conn: Any, a: dict[str, Any]) -> Page:
        r: Request = a.pop("request")
        return queries.alerts(conn, address=_address(r, "address"), **a)

    def proposals(conn: Any, a: dict[str, Any]) -> Page:
        r: Request = a.pop("request")
        return queries.proposals(conn, status=_text(r, "status"), **a)

    def wallets(conn: Any, a: dict[str, Any]) -> Page:
        r: Request = a.pop("request")
        return queries.wallets(conn, org=_text(r, "org"), **a)

    def tx(request: Request) -> Response:
        db = index_db(node)
        tx_hash = parse_hash(request.path_params["tx_hash"], "transaction hash")
        with db.reading() as conn:
            found = queries.transaction(conn, tx_hash)
        if found is None:
            raise NotFound(f"transaction 0x{tx_hash.hex()} is not in the index")
        return _response(found)

    def check(request: Request) -> Response:
        db = index_db(node)
        low = query_uint(request, "from_height", 0)
        indexed = db.head().height
        high = query_uint(request, "to_height", max(indexed, 0))
        if high < low:
            raise InvalidQuery(f"from_height {low} is above to_height {high}")
        if high - low + 1 > MAX_CHECK_BLOCKS:
            raise InvalidQuery(f"one check covers at most {MAX_CHECK_BLOCKS} blocks; "
                               f"ask for ranges (from_height {low}, to_height {high})")
        chain = node.chain
        report = check_index(db, chain.store, chain.suite, node.genesis, low, high)
        body: IndexCheckView = report.to_json()  # type: ignore[assignment]
        return _response(body)

    return [
        Route("/v1/index/status", status),
        Route("/v1/history/{address}", listing(history)),
        Route("/v1/index/txs", listing(txs)),
        Route("/v1/index/txs/{tx_hash}", tx),
        Route("/v1/index/events", listing(events)),
        Route("/v1/index/alerts", listing(alerts)),
        Route("/v1/index/proposals", listing(proposals)),
        Route("/v1/index/wallets", listing(wallets)),
        Route("/v1/index/check", check),
    ]

"""REST routes of industrial traceability (issue 18, decisions/0021). Read-only: every action
is a signed transaction calling the ``trace`` contract (``POST /v1/tx``).

| path | what |
|---|---|
| `GET /v1/trace/item?id=ID` | the contract's record of an item (committed state) |
| `GET /v1/trace/status?id=ID` | holder, pending handover, recall, the recalls it is affected by (SQL index) |
| `GET /v1/trace/provenance?id=ID` | everything upstream (itself included), the edges, every inspection |
| `GET /v1/trace/where-used?id=ID` | everything downstream (itself included) and the edges |
| `GET /v1/trace/public?id=ID` | the public verification view: only what the producer marked public |
| `GET /v1/trace/export?id=ID` | an EPCIS 2.0 document of the events of the item and everything upstream |
| `POST /v1/trace/epcis` | validate an EPCIS 2.0 document (GS1's schema); the calls it would make |

``id`` may be an EPC URI, a GS1 Digital Link or an industrial-internet id (made canonical; a bad
one or a wrong check digit is a 400 ``invalid_argument``); an unknown item is a 404. The index
answers carry ``indexed_height``; a node with no index answers 404 ``index_unavailable``.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from consortia.api.app_views import AppViews, json_response
from consortia.api.bodies import read_json
from consortia.api.index_routes import index_db
from consortia.api.views_trace import EpcisChecked
from consortia.apps.trace import epcis
from consortia.apps.trace import sdk as apps
from consortia.apps.trace.identifiers import canonical
from consortia.client.arguments import InvalidArgument
from consortia.contracts.python.json_data import to_json
from consortia.index import trace_queries
from consortia.node.node import Node

EPCIS_BODY_LIMIT = 8 * 1024 * 1024


def _item(request: Request) -> str:
    value = request.query_params.get("id")
    if not value:
        raise InvalidArgument("give the item as ?id=… (EPC URI, GS1 Digital Link or 88.x/…)")
    return canonical(value)


def trace_routes(node: Node) -> list[Route]:
    views = AppViews(node, "trace", ("unknown_item",))

    def from_index(answer: Callable[[Any, str], dict[str, Any]]) -> Callable[[Request], Response]:
        def handler(request: Request) -> Response:
            item = _item(request)
            db = index_db(node)
            with db.reading() as conn:
                found = answer(conn, item)
            return json_response({**found, "indexed_height": db.head().height})

        return handler

    async def get_item(request: Request) -> Response:
        item = _item(request)
        block = views.head_block()
        result = await run_in_threadpool(views.run, block, apps.get(item))
        return json_response({"height": block.height, "item": to_json(result)})

    def export(conn: Any, item: str) -> dict[str, Any]:
        trace_queries.item_row(conn, item)
        calls = epcis.calls_of_events(trace_queries.events_upstream(conn, item))
        return {"item": item, "document": epcis.export_document(calls, int(time.time() * 1000))}

    async def check_document(request: Request) -> Response:
        document = await read_json(request, EPCIS_BODY_LIMIT)
        calls = await run_in_threadpool(epcis.import_document, document)
        checked: EpcisChecked = {
            "valid": True,
            "calls": [{k: v for k, v in dataclasses.asdict(c).items() if k != "extra"} for c in calls],
        }
        return json_response(checked)

    return [
        Route("/v1/trace/item", get_item),
        Route("/v1/trace/status", from_index(trace_queries.status)),
        Route("/v1/trace/provenance", from_index(trace_queries.provenance)),
        Route("/v1/trace/where-used", from_index(trace_queries.where_used)),
        Route("/v1/trace/public", from_index(trace_queries.public_view)),
        Route("/v1/trace/export", from_index(export)),
        Route("/v1/trace/epcis", check_document, methods=["POST"]),
    ]

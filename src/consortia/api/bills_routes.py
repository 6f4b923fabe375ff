"""REST routes of the cheques and bills application (issue 10, decisions/0012). Read-only:
every action is a signed transaction calling the ``bills`` contract (``POST /v1/tx``).

| path | what |
|---|---|
| `GET /v1/bills?holder=0x…&start=N&limit=N` | what the holder holds; no `holder`: every instrument |
| `GET /v1/bills/{id}` | one instrument: parties, status, endorsers, pledge, offer, dishonour, claim |
| `GET /v1/bills/{id}/history` | every step (the split-from bills' first), each naming its transaction |
| `GET /v1/bills/{id}/liable` | who the holder may claim from on recourse |
| `GET /v1/bills/{id}/quote?rate_bps=R&at_ms=T` | discount terms (days, interest, price; ACT/360) |
| `GET /v1/bills/cover/{owner}/{drawee}` | cover ``owner`` holds with ``drawee`` |
| `GET /v1/bills/drawers/{address}` | open dishonours of a drawer |

Everything is read from committed state, one snapshot per request, addresses as ``0x`` text;
an unknown instrument is a typed 404 (``not_found``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from consortia.api.app_views import AppViews, json_response
from consortia.api.params import parse_uint, query_uint
from consortia.apps.bills import sdk as apps
from consortia.contracts.python.json_data import to_json
from consortia.crypto.address import parse_address
from consortia.execution.context import BlockContext
from consortia.node.node import Node

MAX_ID = 2**63 - 1
MAX_MS = 2**63 - 1


def bills_routes(node: Node) -> list[Route]:
    views = AppViews(node, "bills", ("bill_not_found",))
    head_block, run = views.head_block, views.run

    async def answer(build: Callable[[BlockContext], apps.ViewCall], key: str, **extra: Any) -> Response:
        block = head_block()
        result = await run_in_threadpool(run, block, build(block))
        return json_response({"height": block.height, **extra, key: to_json(result)})

    def bill_id(request: Request) -> int:
        return parse_uint(request.path_params["bill_id"], "bill id", minimum=1, maximum=MAX_ID)

    async def list_bills(request: Request) -> Response:
        start = query_uint(request, "start", 0, maximum=MAX_ID)
        limit = query_uint(request, "limit", apps.MAX_LIST, minimum=1, maximum=apps.MAX_LIST)
        holder = request.query_params.get("holder")
        if holder is None:
            return await answer(lambda b: apps.instruments(max(start, 1), limit), "bills")
        address = parse_address(holder)
        return await answer(lambda b: apps.held_by(address, start, limit), "bills", holder=holder)

    async def get_bill(request: Request) -> Response:
        found = bill_id(request)
        return await answer(lambda b: apps.get(found), "bill", id=found)

    async def get_history(request: Request) -> Response:
        found = bill_id(request)
        return await answer(lambda b: apps.history(found), "history", id=found)

    async def get_liable(request: Request) -> Response:
        found = bill_id(request)
        return await answer(lambda b: apps.liable(found), "liable", id=found)

    async def get_quote(request: Request) -> Response:
        found = bill_id(request)
        rate = query_uint(request, "rate_bps", 0, minimum=1, maximum=apps.MAX_RATE_BPS)
        at_ms = query_uint(request, "at_ms", 0, maximum=MAX_MS)
        block = head_block()
        result = await run_in_threadpool(run, block, apps.quote(found, rate, at_ms))
        return json_response({"height": block.height, "id": found, "rate_bps": rate, **to_json(result)})

    async def get_cover(request: Request) -> Response:
        owner = parse_address(request.path_params["owner"])
        drawee = parse_address(request.path_params["drawee"])
        return await answer(lambda b: apps.cover(owner, drawee), "cover")

    async def get_drawer(request: Request) -> Response:
        drawer = parse_address(request.path_params["address"])
        return await answer(lambda b: apps.open_dishonours(drawer), "open_dishonours")

    return [
        Route("/v1/bills", list_bills),
        Route("/v1/bills/cover/{owner}/{drawee}", get_cover),
        Route("/v1/bills/drawers/{address}", get_drawer),
        Route("/v1/bills/{bill_id}", get_bill),
        Route("/v1/bills/{bill_id}/history", get_history),
        Route("/v1/bills/{bill_id}/liable", get_liable),
        Route("/v1/bills/{bill_id}/quote", get_quote),
    ]

"""REST routes of the energy application (issue 12, decisions/0018). Read-only: every action
is a signed transaction calling the ``energy`` contract (``POST /v1/tx``).

| path | what |
|---|---|
| `GET /v1/energy` | totals: meters, production (Wh), certificates issued and retired, trades |
| `GET /v1/energy/meters/{address}` | a meter: key, owner, grid operator, interval, maximum, counters, carry |
| `GET /v1/energy/meters/{address}/readings/{period}` | one interval's [produced Wh, consumed Wh], or null |
| `GET /v1/energy/certificates?owner=0x…&start=N&limit=N` | certificates the owner holds (retired included) |
| `GET /v1/energy/certificates/{serial}` | one certificate: meter, period, holder, status, beneficiary |
| `GET /v1/energy/trades?party=0x…&start=N&limit=N` | trades a party offered or accepted |
| `GET /v1/energy/trades/{id}` | one trade: offer, buyer, locked price, settlement figures |

Everything is read from committed state, one snapshot per request, addresses as ``0x`` text;
an unknown meter, certificate or trade is a typed 404 (``not_found``).
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
from consortia.apps.energy import sdk as apps
from consortia.contracts.python.json_data import to_json
from consortia.crypto.address import parse_address
from consortia.errors import DecodeError
from consortia.node.node import Node

MAX_ID = 2**62
NOT_FOUND_CODES = ("meter_not_found", "certificate_not_found", "trade_not_found")


def energy_routes(node: Node) -> list[Route]:
    views = AppViews(node, "energy", NOT_FOUND_CODES)
    head_block, run = views.head_block, views.run

    async def answer(call: apps.ViewCall, key: str, **extra: Any) -> Response:
        block = head_block()
        result = await run_in_threadpool(run, block, call)
        return json_response({"height": block.height, **extra, key: to_json(result)})

    def page(request: Request) -> tuple[int, int]:
        start = query_uint(request, "start", 0, maximum=MAX_ID)
        limit = query_uint(request, "limit", apps.MAX_LIST, minimum=1, maximum=apps.MAX_LIST)
        return start, limit

    def required_address(request: Request, name: str) -> tuple[str, bytes]:
        text = request.query_params.get(name)
        if text is None:
            raise DecodeError(f"give ?{name}=0x… (the address whose list to read)")
        return text, parse_address(text)

    async def totals(request: Request) -> Response:
        return await answer(apps.totals(), "totals")

    async def get_meter(request: Request) -> Response:
        address = parse_address(request.path_params["address"])
        return await answer(apps.meter(address), "meter")

    async def get_reading(request: Request) -> Response:
        address = parse_address(request.path_params["address"])
        period = parse_uint(request.path_params["period"], "period", maximum=apps.MAX_PERIOD)
        return await answer(apps.reading(address, period), "reading", period=period)

    async def list_certificates(request: Request) -> Response:
        text, owner = required_address(request, "owner")
        start, limit = page(request)
        return await answer(apps.certificates_of(owner, start, limit), "certificates", owner=text)

    async def get_certificate(request: Request) -> Response:
        serial = parse_uint(request.path_params["serial"], "serial", minimum=1, maximum=MAX_ID)
        return await answer(apps.certificate(serial), "certificate", serial=serial)

    async def list_trades(request: Request) -> Response:
        text, party = required_address(request, "party")
        start, limit = page(request)
        return await answer(apps.trades_of(party, start, limit), "trades", party=text)

    async def get_trade(request: Request) -> Response:
        trade_id = parse_uint(request.path_params["trade_id"], "trade id", minimum=1, maximum=MAX_ID)
        return await answer(apps.trade(trade_id), "trade", id=trade_id)

    routes: list[tuple[str, Callable[[Request], Any]]] = [
        ("/v1/energy", totals),
        ("/v1/energy/meters/{address}", get_meter),
        ("/v1/energy/meters/{address}/readings/{period}", get_reading),
        ("/v1/energy/certificates", list_certificates),
        ("/v1/energy/certificates/{serial}", get_certificate),
        ("/v1/energy/trades", list_trades),
        ("/v1/energy/trades/{trade_id}", get_trade),
    ]
    return [Route(path, handler) for path, handler in routes]

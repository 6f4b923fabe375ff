"""What the API's edge costs per request (issue 14, api/limits.py, api/edge.py).

1. A token bucket's ``take`` (one caller, and ``--callers`` distinct callers cycling through a
   budget that keeps them all), in microseconds.
2. A GET through the ASGI stack in process (no sockets): a trivial route after ``--routes``
   others (a node serves ~150; matched last, the worst case), and the same route behind the two
   edge layers (refused-credentials guard and budgets; the gate between
   them is left out: its cost is decisions/0021's), in microseconds per request, with the
   budgets generous enough that nothing is refused.
3. The member's event filter: the events of one block of ``--events`` events kept for one
   member (each event's data decoded for its parties), in microseconds per block.

Medians of ``--rounds`` rounds; one JSON line per figure.

    python bench/api_edge.py [--rounds 5] [--callers 10000] [--events 500] [--routes 150]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from typing import Any

import msgspec
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import Response
from starlette.routing import Route

from consortia.api.auth.principal import Principal
from consortia.api.edge import edge_middleware
from consortia.api.limits import Budget
from consortia.api.stream_filter import stream_filter
from consortia.node.config import ApiEdgeConfig, RateConfig


class Passthrough:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


def bucket_us(callers: int, n: int) -> float:
    budget = Budget("reads", per_second=1_000_000, burst=1_000_000, max_keys=callers + 1)
    keys = [f"id:{i:040x}" for i in range(callers)]
    start = time.perf_counter()
    for i in range(n):
        budget.take(keys[i % callers])
    return (time.perf_counter() - start) / n * 1e6


def asgi_us(app: Starlette, n: int) -> float:
    scope = {"type": "http", "method": "GET", "path": "/v1/status", "raw_path": b"/v1/status",
             "query_string": b"", "headers": [], "client": ("10.0.0.1", 1), "server": ("node", 80),
             "scheme": "http", "root_path": "", "http_version": "1.1"}  # fmt: skip

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Any) -> None:
        return None

    async def run() -> float:
        start = time.perf_counter()
        for _ in range(n):
            await app(dict(scope, state={}), receive, send)
        return (time.perf_counter() - start) / n * 1e6

    return asyncio.run(run())


def filter_us(events: int, n: int) -> float:
    me = b"\xaa" * 20
    block = {"block": {"height": 1}, "events": [
        {"tx_hash": "0x" + "00" * 32, "index": 0, "contract": "cbdc", "name": "Transfer",
         "data": "0x" + msgspec.msgpack.encode([me if i % 10 == 0 else bytes([i % 256]) * 20,
                                                 b"\xbb" * 20, i]).hex(), "fields": {}}
        for i in range(events)]}  # fmt: skip
    keep = stream_filter(Principal(me, "bank-a", "member", "bank"))
    assert keep is not None
    start = time.perf_counter()
    for _ in range(n):
        keep(block)
    return (time.perf_counter() - start) / n * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--callers", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=500)
    parser.add_argument("--routes", type=int, default=150, help="routes before the one asked for")
    args = parser.parse_args()
    answer = Response(b"{}", media_type="application/json")
    routes = [Route(f"/v1/app{i}/{{ref}}", lambda r: answer) for i in range(args.routes)]
    routes.append(Route("/v1/status", lambda r: answer))  # matched last: the worst case
    plain = Starlette(routes=routes)
    generous = RateConfig(per_second=10**9, burst=10**9)
    stack, _ = edge_middleware(Middleware(Passthrough), routes,
                               ApiEdgeConfig(reads=generous, failed_auth=generous))  # fmt: skip
    edged = Starlette(routes=routes, middleware=stack)
    figures = {
        "bucket_take_one_caller_us": lambda: bucket_us(1, 200_000),
        f"bucket_take_{args.callers}_callers_us": lambda: bucket_us(args.callers, 200_000),
        f"member_filter_block_of_{args.events}_events_us": lambda: filter_us(args.events, 200),
    }
    for name, measure in figures.items():
        value = statistics.median(measure() for _ in range(args.rounds))
        print(json.dumps({"figure": name, "median": round(value, 2)}))
    asgi_us(edged, 1_000)  # warm both stacks up
    asgi_us(plain, 1_000)
    pairs = [(asgi_us(plain, 3_000), asgi_us(edged, 3_000)) for _ in range(args.rounds)]  # interleaved
    for name, values in (("asgi_get_plain_us", [p for p, _ in pairs]),
                         ("asgi_get_with_edge_us", [e for _, e in pairs]),
                         ("asgi_edge_overhead_us", [e - p for p, e in pairs])):  # fmt: skip
        print(json.dumps({"figure": name, "median": round(statistics.median(values), 2)}))


if __name__ == "__main__":
    main()

"""The API's edge (issue 14): rate limits per caller and bounded event streams, as two ASGI layers
around the authorisation gate (:mod:`consortia.api.auth.gate`).

``CredentialGuard`` (outside the gate)
    Counts refused credentials (a 401) per *source address*; a source that has spent its
    ``failed_auth`` budget is answered 429 before its next signature is even checked.

``QuotaGuard`` (inside the gate, so it sees who the gate authenticated)
    Charges each request to its *caller*: the identity that signed it (or the session's), else
    its source address (public routes, submissions, a development chain's open API) — in the
    budget of its kind: ``expensive`` (index consistency checks, search, provenance walks,
    contract views, the regulator's audit view), ``submissions`` (any request that is not a
    GET; a batch of transactions counts once: its size is bounded by the chain's
    ``max_batch_txs`` and each transaction pays admission), or ``reads``. An event stream also
    holds one of the caller's stream slots until the client goes away.

A refusal is a typed 429 ``rate_limited`` with ``Retry-After`` (whole seconds) or
``too_many_streams``; it changes nothing. Budgets are per node, in memory (decisions/0027).
"""

from __future__ import annotations

import ipaddress
import weakref
from collections.abc import Iterable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

import msgspec
from prometheus_client import CollectorRegistry, Counter, Gauge
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Receive, Scope, Send

from consortia.api.limits import Budget, RateLimited, StreamSlots, refusal, retry_after
from consortia.errors import ConsortiaError
from consortia.node.config import ApiEdgeConfig

STREAMS = frozenset({"/v1/events", "/v1/reg/alerts/stream"})
"""Routes that answer with a server-sent event stream (each holds a stream slot while open)."""
EXPENSIVE = frozenset({
    "/v1/index/check", "/v1/search", "/v1/trace/provenance", "/v1/trace/where-used",
    "/v1/trace/export", "/v1/contracts/{name}/view/{method}", "/v1/reg/audit/{address}",
})
"""Routes whose one request can cost much more than a read: the ``expensive`` budget."""
READS, SUBMISSIONS, EXPENSIVE_QUERIES, FAILED_AUTH = "reads", "submissions", "expensive", "failed_auth"
_CHARGED = "edge_charged"
_METRICS: weakref.WeakKeyDictionary[CollectorRegistry, tuple[Counter, Gauge]] = weakref.WeakKeyDictionary()


def kind_of(template: str | None, method: str) -> str:
    """Which budget a request spends: ``expensive``, ``submissions`` or ``reads``."""
    if template in EXPENSIVE:
        return EXPENSIVE_QUERIES
    if method not in ("GET", "HEAD", "OPTIONS"):
        return SUBMISSIONS
    return READS


def source_of(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def caller_of(scope: Scope) -> str:
    """The key a request is charged to: ``id:<address hex>`` for an authenticated identity
    (``id:`` alone for the node's operator), else ``ip:<source>``."""
    who = scope.get("state", {}).get("principal")
    if who is not None:
        return "id:" + who.address.hex()
    return "ip:" + source_of(scope)


@dataclass
class EdgeBudgets:
    """One node's budgets and stream slots, built from its ``api_edge`` settings."""

    reads: Budget
    submissions: Budget
    expensive: Budget
    failed_auth: Budget
    streams: StreamSlots
    exempt_loopback: bool
    refused: Counter | None = field(default=None)
    """``consortia_api_refused{reason, budget}``: requests refused at the edge, when counted."""
    streams_open: Gauge | None = field(default=None)

    @classmethod
    def from_config(cls, config: ApiEdgeConfig) -> EdgeBudgets:
        def budget(name: str) -> Budget:
            rate = getattr(config, name)
            return Budget(name.replace("_", " "), rate.per_second, rate.burst)

        return cls(budget(READS), budget(SUBMISSIONS), budget(EXPENSIVE_QUERIES), budget(FAILED_AUTH),
                   StreamSlots(config.streams_per_caller), config.exempt_loopback)  # fmt: skip

    def of_kind(self, kind: str) -> Budget:
        return {READS: self.reads, SUBMISSIONS: self.submissions, EXPENSIVE_QUERIES: self.expensive}[kind]

    def exempt(self, scope: Scope) -> bool:
        return self.exempt_loopback and is_loopback(source_of(scope))

    def count_in(self, registry: CollectorRegistry) -> None:
        """Export refusals and open streams as Prometheus metrics of ``registry`` (the same
        series for every app built on one node's registry)."""
        if registry not in _METRICS:
            _METRICS[registry] = (
                Counter("consortia_api_refused", "API requests refused at the edge", ["reason", "budget"],
                        registry=registry),
                Gauge("consortia_api_streams_open", "Event streams open", registry=registry))  # fmt: skip
        self.refused, self.streams_open = _METRICS[registry]

    def note(self, exc: ConsortiaError) -> None:
        if self.refused is not None:
            self.refused.labels(exc.code, str(exc.details.get("budget", ""))).inc()

    def opened(self, by: int) -> None:
        if self.streams_open is not None:
            self.streams_open.inc(by)


class _Routes:
    def __init__(self, routes: Iterable[BaseRoute]) -> None:
        self.routes = list(routes)

    def template(self, scope: Scope) -> str | None:
        for route in self.routes:
            match, _child = route.matches(scope)
            if match is not Match.NONE:
                return getattr(route, "path", None)
        return None


class CredentialGuard:
    """Outside the gate: refused credentials cost their source address."""

    def __init__(self, app: ASGIApp, budgets: EdgeBudgets) -> None:
        self.app = app
        self.budgets = budgets

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.budgets.exempt(scope):
            await self.app(scope, receive, send)
            return
        source = source_of(scope)
        failed = self.budgets.failed_auth
        wait = failed.wait(source)
        if wait > 0:
            exc = refusal(failed, wait)
            self.budgets.note(exc)
            await send_refusal(send, exc)
            return

        async def watching(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start" and message["status"] == 401:
                failed.take(source)
            await send(message)

        await self.app(scope, receive, watching)


class QuotaGuard:
    """Inside the gate: each request charged once to its caller; streams hold a slot."""

    def __init__(self, app: ASGIApp, routes: Iterable[BaseRoute], budgets: EdgeBudgets) -> None:
        self.app = app
        self.routes = _Routes(r for r in routes if getattr(r, "path", None) in EXPENSIVE | STREAMS)
        """Only the routes that decide more than the method does (a scan of ~10, not ~150)."""
        self.budgets = budgets

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        state = scope.setdefault("state", {})
        if scope["type"] != "http" or state.get(_CHARGED) or self.budgets.exempt(scope):
            await self.app(scope, receive, send)
            return
        state[_CHARGED] = True  # the gate's look at a parent object is the same request
        template = self.routes.template(scope)
        caller = caller_of(scope)
        try:
            self.budgets.of_kind(kind_of(template, scope["method"])).charge(caller)
            if template in STREAMS:
                self.budgets.streams.acquire(caller)
        except ConsortiaError as exc:
            self.budgets.note(exc)
            await send_refusal(send, exc)
            return
        if template not in STREAMS:
            await self.app(scope, receive, send)
            return
        self.budgets.opened(1)
        try:
            await self.app(scope, receive, send)  # returns when the client has gone
        finally:
            self.budgets.streams.release(caller)
            self.budgets.opened(-1)


async def send_refusal(send: Send, exc: ConsortiaError) -> None:
    body = msgspec.json.encode(exc.to_dict())
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if isinstance(exc, RateLimited):
        headers.append((b"retry-after", str(retry_after(float(exc.details["retry_after_s"]))).encode()))
    await send({"type": "http.response.start", "status": exc.http_status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


CORS_HEADERS = ["authorization", "content-type", "content-digest", "signature", "signature-input"]


def edge_middleware(gate: Middleware, routes: Iterable[BaseRoute], config: ApiEdgeConfig | None,
                    registry: CollectorRegistry | None = None,
                    ) -> tuple[list[Middleware], EdgeBudgets]:  # fmt: skip
    """The API's middleware, outermost first: CORS (only for the origins configured; none by
    default, so a browser on another origin reads nothing), refused credentials, the gate,
    budgets and stream slots; refusals and open streams counted in ``registry`` if given."""
    config = config or ApiEdgeConfig()
    budgets = EdgeBudgets.from_config(config)
    if registry is not None:
        budgets.count_in(registry)
    stack = [Middleware(CredentialGuard, budgets=budgets), gate,
             Middleware(QuotaGuard, routes=routes, budgets=budgets)]  # fmt: skip
    if config.cors_origins:
        stack.insert(0, Middleware(CORSMiddleware, allow_origins=config.cors_origins,
                                   allow_methods=["GET", "POST", "PUT"], allow_headers=CORS_HEADERS,
                                   expose_headers=["retry-after"], max_age=600))  # fmt: skip
    return stack, budgets

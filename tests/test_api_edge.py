"""The API's edge (issue 14), its pure parts and its ASGI layers in process: token buckets (refill,
burst, Retry-After, bounded memory), stream slots, which budget a route spends, the member's
event filter (the same parties the SQL index records), the node.json settings, and the two
middlewares around a small Starlette app: a caller past its budget gets a typed 429 with
Retry-After while another caller is served, refused credentials cost their source address,
an event stream holds a slot until its client goes, CORS is closed unless origins are
configured. The real network test is tests/test_api_edge_network.py."""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient
from starlette.types import Receive, Scope, Send

from consortia.api.auth.principal import OPERATOR, Principal
from consortia.api.edge import (
    EXPENSIVE,
    STREAMS,
    EdgeBudgets,
    caller_of,
    edge_middleware,
    kind_of,
)
from consortia.api.event_parties import MAX_PARTIES, event_parties
from consortia.api.limits import Budget, RateLimited, StreamSlots, TooManyStreams, retry_after
from consortia.api.openapi import openapi_spec
from consortia.api.stream_filter import stream_filter
from consortia.codec.plain import from_plain
from consortia.errors import ConfigError
from consortia.node.config import ApiEdgeConfig, NodeConfig, RateConfig


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# --- token buckets ----------------------------------------------------------------------------


def test_a_bucket_gives_its_burst_then_refills_at_its_rate() -> None:
    clock = Clock()
    budget = Budget("reads", per_second=2, burst=3, clock=clock)
    assert [budget.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert budget.take("a") == pytest.approx(0.5)  # one token back in half a second
    assert budget.take("b") == 0.0  # another caller has its own bucket
    clock.now += 0.5
    assert budget.take("a") == 0.0
    assert budget.take("a") > 0
    clock.now += 100  # never more than the burst
    assert [budget.take("a") for _ in range(4)][:3] == [0.0, 0.0, 0.0]
    assert budget.wait("a") > 0


def test_a_refusal_is_typed_with_whole_seconds_to_wait_and_takes_nothing() -> None:
    clock = Clock()
    budget = Budget("expensive", per_second=1, burst=1, clock=clock)
    budget.charge("a")
    with pytest.raises(RateLimited) as refused:
        budget.charge("a")
    assert refused.value.http_status == 429 and refused.value.code == "rate_limited"
    assert refused.value.details == {"budget": "expensive", "retry_after_s": 1}
    clock.now += 0.99  # the refusal took no token: the bucket is almost full again
    assert budget.wait("a") == pytest.approx(0.01)
    assert retry_after(0.01) == 1 and retry_after(2.2) == 3


def test_memory_is_bounded_and_dropping_an_idle_bucket_loses_nothing() -> None:
    clock = Clock()
    budget = Budget("reads", per_second=10, burst=5, clock=clock, max_keys=100)
    for i in range(1000):
        budget.take(f"caller-{i}")
    assert len(budget) == 100
    assert budget.take("caller-999") == 0.0


@settings(max_examples=60, deadline=None)
@given(rate=st.integers(1, 50), burst=st.integers(1, 50),
       gaps=st.lists(st.floats(0, 2, allow_nan=False), min_size=1, max_size=80))  # fmt: skip
def test_a_bucket_never_allows_more_than_burst_plus_rate_times_time(rate: int, burst: int,
                                                                    gaps: list[float]) -> None:
    clock = Clock()
    budget = Budget("reads", per_second=rate, burst=burst, clock=clock)
    start, taken = clock.now, 0
    for gap in gaps:
        clock.now += gap
        taken += budget.take("a") == 0.0
        assert taken <= burst + rate * (clock.now - start) + 1e-9


def test_stream_slots_are_bounded_per_caller_and_released() -> None:
    slots = StreamSlots(2)
    slots.acquire("a")
    slots.acquire("a")
    slots.acquire("b")
    with pytest.raises(TooManyStreams) as refused:
        slots.acquire("a")
    assert refused.value.http_status == 429 and refused.value.code == "too_many_streams"
    slots.release("a")
    slots.acquire("a")
    for _ in range(3):
        slots.release("a")
    assert slots.held("a") == 0


# --- which budget, which caller -----------------------------------------------------------------


def test_routes_spend_the_budget_of_their_kind() -> None:
    assert kind_of("/v1/accounts/{address}", "GET") == "reads"
    assert kind_of("/v1/txs", "POST") == "submissions"
    assert kind_of("/v1/index/check", "GET") == "expensive"
    assert kind_of(None, "GET") == "reads"
    spec = openapi_spec("/")["paths"]
    streams = {path for path, ops in spec.items()
               if "text/event-stream" in str(ops.get("get", {}).get("responses", {}))}  # fmt: skip
    assert streams == set(STREAMS), "every event-stream route holds a stream slot"
    assert set(spec) >= EXPENSIVE, "expensive routes are routes"
    undocumented = [f"{method} {path}" for path, ops in spec.items() for method, op in ops.items()
                    if "429" not in op["responses"]]  # fmt: skip
    assert undocumented == [], "every operation may answer 429"


def test_the_caller_is_the_authenticated_identity_else_the_source_address() -> None:
    who = Principal(b"\x11" * 20, "bank-a", "member", "bank")
    assert caller_of({"client": ("10.0.0.9", 5000), "state": {"principal": who}}) == "id:" + "11" * 20
    assert caller_of({"client": ("10.0.0.9", 5000), "state": {}}) == "ip:10.0.0.9"
    assert caller_of({"state": {"principal": OPERATOR}}) == "id:"


# --- a member's event stream ----------------------------------------------------------------


def _event(*fields: Any) -> dict[str, Any]:
    return {"tx_hash": "0x" + "00" * 32, "index": 0, "contract": "cbdc", "name": "Transfer",
            "data": "0x" + msgspec.msgpack.encode(list(fields)).hex(), "fields": {}}


def test_a_member_keeps_only_the_events_that_name_it_and_staff_keep_everything() -> None:
    alice, bob, carol = b"\xaa" * 20, b"\xbb" * 20, b"\xcc" * 20
    mine, theirs = _event(alice, bob, 5), _event(carol, bob, 7)
    nested = _event([carol, alice], 1)  # one level below a field
    message = {"block": {"height": 3}, "events": [mine, theirs, nested]}
    keep = stream_filter(Principal(alice, "bank-a", "member", "bank"))
    assert keep is not None
    assert keep(message) == {"block": {"height": 3}, "events": [mine, nested]}
    assert keep({"block": {"height": 4}, "events": [theirs]}) is None  # the block is not sent
    assert keep({"block": {"height": 5}, "events": [{**theirs, "data": "0xzz"}]}) is None
    for everything in (None, OPERATOR, Principal(carol, "bank-a", "admin", "bank"),
                       Principal(carol, "reg", "member", "regulator"),
                       Principal(carol, "bank-b", "auditor", "bank")):  # fmt: skip
        assert stream_filter(everything) is None


def test_event_parties_are_the_indexs_notion_bounded_and_safe_on_garbage() -> None:
    a, b = b"\x01" * 20, b"\x02" * 20
    data = msgspec.msgpack.encode([a, [b, a], {"deep": [[b"\x03" * 20]]}, b"\x04" * 19])
    assert event_parties(data) == [a, b]  # depth 2 only, distinct, in order, 20 bytes only
    many = msgspec.msgpack.encode([i.to_bytes(20, "big") for i in range(200)])
    assert len(event_parties(many)) == MAX_PARTIES
    assert event_parties(b"\xc1not msgpack") == []


# --- node.json ------------------------------------------------------------------------------


def test_edge_settings_have_generous_defaults_and_refuse_nonsense() -> None:
    config = from_plain(NodeConfig, {"name": "n", "validator_index": 0,
                                     "api_edge": {"reads": {"per_second": 5, "burst": 9}}})  # fmt: skip
    assert config.api_edge is not None and config.api_edge.reads == RateConfig(5, 9)
    assert config.api_edge.submissions.per_second >= 200 and not config.api_tls
    with pytest.raises(ConfigError, match="per_second"):
        from_plain(NodeConfig, {"name": "n", "validator_index": 0,
                                "api_edge": {"reads": {"per_second": 0, "burst": 9}}})  # fmt: skip
    with pytest.raises(ConfigError, match="streams_per_caller"):
        ApiEdgeConfig(streams_per_caller=0)
    with pytest.raises(ConfigError, match="CORS origin"):
        ApiEdgeConfig(cors_origins=["evil.example"])


# --- the two layers around a small app ----------------------------------------------------------


class FakeGate:
    """Stands where the authorisation gate stands: a request with ``x-who`` is that identity,
    one with ``x-who: bad`` is refused 401 (the gate's own decision is tested elsewhere)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        who = dict(scope.get("headers", [])).get(b"x-who")
        if who == b"bad":
            await JSONResponse({"code": "bad_signature"}, 401)(scope, receive, send)
            return
        if who:
            scope.setdefault("state", {})["principal"] = Principal(who.ljust(20, b"."), "o", "member", "bank")
        await self.app(scope, receive, send)


def _app(config: ApiEdgeConfig) -> tuple[Starlette, EdgeBudgets]:
    async def stream(request: Request) -> Response:
        while not await request.is_disconnected():
            await asyncio.sleep(0.01)
        return Response(b"")

    routes = [Route("/v1/status", lambda r: JSONResponse({"ok": True})),
              Route("/v1/events", stream),
              Route("/v1/txs", lambda r: JSONResponse({"accepted": 1}), methods=["POST"])]  # fmt: skip
    stack, budgets = edge_middleware(Middleware(FakeGate), routes, config)
    return Starlette(routes=routes, middleware=stack), budgets


def test_past_its_budget_a_caller_gets_429_with_retry_after_and_others_are_served() -> None:
    app, _ = _app(ApiEdgeConfig(reads=RateConfig(1, 3), submissions=RateConfig(1, 2)))
    with TestClient(app) as http:
        got = [http.get("/v1/status", headers={"x-who": "alice"}) for _ in range(4)]
        assert [r.status_code for r in got] == [200, 200, 200, 429]
        assert got[3].headers["retry-after"] == "1"
        assert got[3].json()["code"] == "rate_limited" and got[3].json()["details"]["budget"] == "reads"
        assert http.get("/v1/status", headers={"x-who": "bob"}).status_code == 200
        # submissions have their own budget; the anonymous source has its own bucket
        assert http.post("/v1/txs", headers={"x-who": "alice"}).status_code == 200
        assert [http.get("/v1/status").status_code for _ in range(4)] == [200, 200, 200, 429]


def test_refused_credentials_cost_their_source_until_it_is_refused_outright() -> None:
    app, _ = _app(ApiEdgeConfig(failed_auth=RateConfig(1, 3)))
    with TestClient(app) as http:
        assert [http.get("/v1/status", headers={"x-who": "bad"}).status_code for _ in range(3)] == [401] * 3
        refused = http.get("/v1/status", headers={"x-who": "alice"})
        assert refused.status_code == 429 and refused.json()["details"]["budget"] == "failed auth"
        assert int(refused.headers["retry-after"]) >= 1


def test_loopback_can_be_exempted_by_configuration() -> None:
    app, _ = _app(ApiEdgeConfig(reads=RateConfig(1, 1), exempt_loopback=True))
    with TestClient(app, client=("127.0.0.1", 4000)) as http:
        assert {http.get("/v1/status").status_code for _ in range(5)} == {200}


def test_cors_is_closed_unless_origins_are_configured() -> None:
    closed, _ = _app(ApiEdgeConfig())
    with TestClient(closed) as http:
        answer = http.get("/v1/status", headers={"origin": "https://evil.example"})
        assert answer.status_code == 200 and "access-control-allow-origin" not in answer.headers
        preflight = http.options("/v1/status", headers={"origin": "https://evil.example",
                                                        "access-control-request-method": "GET"})  # fmt: skip
        assert "access-control-allow-origin" not in preflight.headers
    opened, _ = _app(ApiEdgeConfig(cors_origins=["https://explorer.bank-a.example"]))
    with TestClient(opened) as http:
        ok = http.get("/v1/status", headers={"origin": "https://explorer.bank-a.example"})
        assert ok.headers["access-control-allow-origin"] == "https://explorer.bank-a.example"
        other = http.get("/v1/status", headers={"origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers


def test_a_stream_holds_a_slot_until_its_client_goes() -> None:
    app, budgets = _app(ApiEdgeConfig(streams_per_caller=1))

    async def scenario() -> None:
        disconnect = asyncio.Event()

        async def receive() -> dict[str, Any]:
            await disconnect.wait()
            return {"type": "http.disconnect"}

        sent: list[dict[str, Any]] = []

        async def send(message: Any) -> None:
            sent.append(message)

        def scope() -> dict[str, Any]:
            return {"type": "http", "method": "GET", "path": "/v1/events", "raw_path": b"/v1/events",
                    "query_string": b"", "headers": [(b"x-who", b"alice")], "client": ("10.0.0.1", 1),
                    "server": ("node", 80), "scheme": "http", "root_path": "",
                    "http_version": "1.1"}  # fmt: skip

        first = asyncio.create_task(app(scope(), receive, send))
        await asyncio.sleep(0.05)
        assert budgets.streams.held("id:" + b"alice".ljust(20, b".").hex()) == 1
        second: list[dict[str, Any]] = []

        async def send2(message: Any) -> None:
            second.append(message)

        await app(scope(), receive, send2)
        assert second[0]["status"] == 429 and b"too_many_streams" in second[1]["body"]
        disconnect.set()
        await asyncio.wait_for(first, 5)
        assert budgets.streams.held("id:" + b"alice".ljust(20, b".").hex()) == 0

    asyncio.run(scenario())


def test_no_route_reads_a_body_except_through_the_bounded_readers() -> None:
    """Bodies are bounded everywhere (decisions/0006): a route reads one only through
    ``api/bodies.read_body``/``read_json`` (a limit per route); the gate's own read for a
    signature's digest is bounded too."""
    import re
    from pathlib import Path

    import consortia.api as api
    from consortia.api.auth import gate

    unbounded = re.compile(r"await request\.(body|json|form)\(\)|request\.stream\(\)")
    root = Path(api.__file__).parent
    offenders = [str(p.relative_to(root)) for p in sorted(root.rglob("*.py"))
                 if p.name != "bodies.py" and unbounded.search(p.read_text())]  # fmt: skip
    assert offenders == []
    assert 0 < gate.AUTH_BODY_LIMIT <= 16 * 1024 * 1024


# --- --api-host, --api-tls, --ca: typed refusals ------------------------------------------------


def test_bad_api_host_ca_and_tls_settings_are_typed_refusals(tmp_path: Any, monkeypatch: Any) -> None:
    import msgspec as ms
    from tests.procs import free_port
    from tests.test_api_hostile_input import make_home
    from typer.testing import CliRunner

    from consortia.cli.main import app
    from consortia.client.client import Client
    from consortia.client.tls_trust import CA_ENV
    from consortia.errors import FileUnreadable
    from consortia.node.node import Node
    from consortia.node.runner import api_tls_files

    monkeypatch.setenv(CA_ENV, "")  # records its absence: the --ca callback sets it, undone after
    monkeypatch.delenv(CA_ENV)
    cli = CliRunner()
    empty = cli.invoke(app, ["node", "start", "--home", str(tmp_path / "none"), "--api-host", " ", "--json"])
    assert empty.exit_code != 0 and "invalid_argument" in empty.output and "Traceback" not in empty.output
    missing = cli.invoke(app, ["--ca", str(tmp_path / "no-ca.pem"), "status", "--node", "https://127.0.0.1:1",
                               "--json"])  # fmt: skip
    assert missing.exit_code != 0 and "file_unreadable" in missing.output
    (tmp_path / "junk.pem").write_text("not a certificate")
    with pytest.raises(FileUnreadable, match="no PEM certificates"):
        Client("https://127.0.0.1:1", ca=tmp_path / "junk.pem")
    home = tmp_path / "dev"
    make_home(home, free_port())
    node = Node(home, password="")
    try:
        assert api_tls_files(node) is None  # off by default: plain HTTP
        node.config = ms.structs.replace(node.config, api_tls=True)
        with pytest.raises(ConfigError, match="api_tls is on but"):
            api_tls_files(node)  # a development home has no certificate
        assert node.config.api_host == "127.0.0.1"  # loopback unless told otherwise
    finally:
        node.close()

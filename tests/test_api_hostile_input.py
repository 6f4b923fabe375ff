"""The REST API against hostile clients: unbounded bodies, edge-case parameters, slowloris.

Most checks drive the Starlette app in-process; those about streaming, chunked bodies and
connections use a real uvicorn server (the node's own configuration) on 127.0.0.1 and raw
sockets, since only a real server shows what happens before a request reaches the app.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import msgspec
import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error, response_schema_conformance
from starlette.applications import Starlette
from starlette.routing import Route
from tests.procs import free_port

from consortia.api import bodies, server
from consortia.api.app import MAX_WAIT_SECONDS, create_app
from consortia.api.bodies import JSON_BODY_LIMIT, MAX_JSON_DEPTH, decode_json, json_depth, tx_body_limit
from consortia.api.params import MAX_UINT, parse_seconds, parse_uint
from consortia.api.server import HeaderDeadlineProtocol, api_server_config
from consortia.client.tx_builder import sign_transfer
from consortia.crypto.keyfile import save_key_file
from consortia.crypto.keys import KeyPair
from consortia.errors import DecodeError
from consortia.node.config import GENESIS_FILE, VALIDATOR_KEY_FILE, NodeConfig, write_config
from consortia.node.genesis import genesis_to_json
from consortia.node.home_setup import make_genesis
from consortia.node.node import Node
from consortia.types.genesis import ChainParams

CHAIN_ID = "hostile-test"
PARAMS = ChainParams(max_batch_txs=4, max_tx_bytes=1024)
"""Small limits, so that a body just over a derived limit is a few kilobytes."""
STREAM_ROUTES = {"/v1/events", "/v1/reg/alerts/stream"}


# --- fixtures -------------------------------------------------------------------------------------


def make_home(home: Path, api_port: int) -> KeyPair:
    """A one-validator node home with :data:`PARAMS`; returns a funded account key."""
    validator, account = KeyPair.generate("ed25519"), KeyPair.generate("ed25519")
    home.mkdir(parents=True)
    save_key_file(home / VALIDATOR_KEY_FILE, validator, None)
    genesis = make_genesis(CHAIN_ID, "ed25519", [("v0", validator)], [(account.address, 10**9)], PARAMS)
    (home / GENESIS_FILE).write_text(genesis_to_json(genesis))
    write_config(home, NodeConfig(name="v0", validator_index=0, api_port=api_port))
    return account


@pytest.fixture(scope="module")
def node_and_key(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Node, KeyPair]]:
    home = tmp_path_factory.mktemp("hostile") / "node"
    key = make_home(home, free_port())
    node = Node(home, password="")
    yield node, key
    node.close()


@pytest.fixture(scope="module")
def app(node_and_key: tuple[Node, KeyPair]) -> Starlette:
    return create_app(node_and_key[0])


class AppClient:
    """A synchronous client of the app in-process (httpx over ASGI, on one private loop)."""

    def __init__(self, app: Starlette) -> None:
        self.loop = asyncio.new_event_loop()
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        self.http = httpx.AsyncClient(transport=transport, base_url="http://test")

    def request(self, method: str, url: str, **options: Any) -> httpx.Response:
        return self.loop.run_until_complete(self.http.request(method, url, **options))

    def get(self, url: str, **options: Any) -> httpx.Response:
        return self.request("GET", url, **options)

    def post(self, url: str, **options: Any) -> httpx.Response:
        return self.request("POST", url, **options)

    def close(self) -> None:
        self.loop.run_until_complete(self.http.aclose())
        self.loop.close()


@pytest.fixture(scope="module")
def client(app: Starlette) -> Iterator[AppClient]:
    c = AppClient(app)
    yield c
    c.close()


class ServerThread:
    """A real uvicorn server, configured as a node's, serving ``app`` from a thread."""

    def __init__(self, app: Any, **options: Any) -> None:
        self.port = free_port()
        self.server = uvicorn.Server(api_server_config(app, "127.0.0.1", self.port, **options))
        self.thread = threading.Thread(target=self.server.run, name="api-test", daemon=True)

    def __enter__(self) -> ServerThread:
        self.thread.start()
        for _ in range(500):
            if self.server.started:
                return self
            time.sleep(0.02)
        raise AssertionError("the API server did not start")

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)

    def connect(self) -> socket.socket:
        return socket.create_connection(("127.0.0.1", self.port), timeout=30)


@pytest.fixture(scope="module")
def real_server(app: Starlette) -> Iterator[ServerThread]:
    with ServerThread(app) as srv:
        yield srv


def read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """One HTTP/1.1 response with a Content-Length body."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed before a response; got {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
    size = int(headers.get("content-length", "0"))
    while len(body) < size:
        chunk = sock.recv(65536)
        assert chunk, "connection closed inside a response body"
        body += chunk
    return status, headers, body[:size]


def closed_by_server(sock: socket.socket) -> bool:
    """True once the server has closed: EOF or reset (waits up to the socket's timeout)."""
    try:
        while sock.recv(65536):
            pass
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False
    return True


def asgi_post(
    app: Any, path: str, headers: list[tuple[bytes, bytes]], receive: Any
) -> tuple[int, dict[str, str], bytes]:
    """Drive ``app`` with a hand-made ASGI ``receive``; returns status, headers and body."""
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
        "root_path": "", "headers": [(b"host", b"test"), *headers], "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }  # fmt: skip
    with contextlib.suppress(Exception):  # the app re-raises after answering an internal error
        asyncio.run(app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], {k.decode(): v.decode() for k, v in start["headers"]}, body


class HugeBody:
    """An ASGI ``receive`` streaming ``total`` bytes in chunks, counting the bytes the app
    pulled; an app that buffers whole bodies pulls all of them."""

    def __init__(self, total: int = 2**30, chunk: int = 4096) -> None:
        self.chunk = b"\x00" * chunk
        self.total = total
        self.pulled = 0

    async def __call__(self) -> dict[str, Any]:
        self.pulled += len(self.chunk)
        return {"type": "http.request", "body": self.chunk, "more_body": self.pulled < self.total}


BODY_ROUTES = [
    ("/v1/txs", b"application/msgpack", tx_body_limit(PARAMS, batch=True, json=False)),
    ("/v1/txs", b"application/json", tx_body_limit(PARAMS, batch=True, json=True)),
    ("/v1/tx", b"application/octet-stream", tx_body_limit(PARAMS, batch=False, json=False)),
    ("/v1/tx", b"application/json", tx_body_limit(PARAMS, batch=False, json=True)),
    ("/v1/contracts/token/view/balance", b"application/json", JSON_BODY_LIMIT),
]


# --- finding 1: bodies are streamed and bounded -----------------------------------------------------


def test_limits_come_from_the_chain_parameters() -> None:
    assert tx_body_limit(PARAMS, batch=True, json=False) == 4 * (1024 + 16) + 1024
    assert tx_body_limit(PARAMS, batch=True, json=True) == 4 * (2048 + 16) + 1024
    default = ChainParams()
    assert tx_body_limit(default, batch=True, json=False) >= default.max_batch_txs * default.max_tx_bytes


@pytest.mark.parametrize(("path", "ctype", "limit"), BODY_ROUTES)
def test_huge_chunked_body_stops_at_the_limit(app: Starlette, path: str, ctype: bytes, limit: int) -> None:
    body = HugeBody(total=8 * max(limit, 2**20))  # large enough to show buffering, quick to stream
    status, headers, raw = asgi_post(app, path, [(b"content-type", ctype)], body)
    assert status == 413, raw
    assert json.loads(raw)["code"] == "body_too_large"
    assert headers["connection"] == "close"
    assert body.pulled <= limit + len(body.chunk)  # stopped at the first chunk over the limit


@pytest.mark.parametrize(("path", "ctype", "limit"), BODY_ROUTES)
def test_declared_length_over_the_limit_is_refused_unread(
    app: Starlette, path: str, ctype: bytes, limit: int
) -> None:
    body = HugeBody()
    declared = [(b"content-type", ctype), (b"content-length", str(limit + 1).encode())]
    status, _, raw = asgi_post(app, path, declared, body)
    assert status == 413 and json.loads(raw)["code"] == "body_too_large"
    assert body.pulled == 0


@pytest.mark.parametrize(("path", "ctype", "limit"), BODY_ROUTES)
def test_body_at_the_limit_is_read(client: AppClient, path: str, ctype: bytes, limit: int) -> None:
    content = b" " * limit if b"json" in ctype else b"\x00" * limit
    r = client.post(path, content=content, headers={"content-type": ctype.decode()})
    assert r.status_code < 500 and r.json()["code"] != "body_too_large", r.text


def test_slow_body_times_out(app: Starlette, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bodies, "BODY_TIMEOUT", 0.05)

    async def stalled() -> dict[str, Any]:
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")

    status, headers, raw = asgi_post(app, "/v1/contracts/token/view/balance", [], stalled)
    assert status == 408 and json.loads(raw)["code"] == "body_timeout"
    assert headers["connection"] == "close"


def test_client_gone_mid_body_is_not_an_internal_error(app: Starlette) -> None:
    async def disconnect() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    status, _, raw = asgi_post(app, "/v1/txs", [], disconnect)
    assert status == 400 and json.loads(raw)["code"] == "client_disconnected"


def test_bad_content_length_is_a_400(app: Starlette) -> None:
    for bad in (b"-1", b"\xc2\xb2", b"9" * 50, b"1e9"):
        status, _, raw = asgi_post(app, "/v1/tx", [(b"content-length", bad)], HugeBody())
        assert status == 400, (bad, raw)


def test_real_server_answers_413_before_a_chunked_body_ends(real_server: ServerThread) -> None:
    """A chunked batch that never ends: refused once over the limit, connection closed."""
    limit = tx_body_limit(PARAMS, batch=True, json=False)
    with real_server.connect() as sock:
        chunk = b"\x00" * 1024
        chunks = b"%x\r\n%s\r\n" % (len(chunk), chunk) * (limit // len(chunk) + 2)
        # over the limit, and the body never ends (no last chunk); one write, so that the server
        # has read everything when it closes (unread bytes would make it reset the connection)
        sock.sendall(b"POST /v1/txs HTTP/1.1\r\nhost: t\r\ntransfer-encoding: chunked\r\n"
                     b"content-type: application/msgpack\r\n\r\n" + chunks)
        status, headers, body = read_response(sock)
        assert status == 413 and json.loads(body)["code"] == "body_too_large"
        assert headers["connection"] == "close"
        assert closed_by_server(sock)


def test_real_server_refuses_a_huge_declared_body_at_once(real_server: ServerThread) -> None:
    with real_server.connect() as sock:
        sock.sendall(b"POST /v1/contracts/token/view/balance HTTP/1.1\r\nhost: t\r\n"
                     b"content-type: application/json\r\ncontent-length: 1073741824\r\n\r\n{")
        status, _, body = read_response(sock)
        assert status == 413 and json.loads(body)["code"] == "body_too_large"
        assert closed_by_server(sock)


# --- finding 2: edge-case parameters and JSON are typed 4xx ----------------------------------------


EDGE_GETS = [
    ("/v1/blocks/99999999999999999999", 400),
    ("/v1/blocks/%C2%B2", 400),  # superscript two: str.isdigit() is True
    ("/v1/blocks/%D9%A1%D9%A2", 400),  # Arabic-Indic digits: int() accepts them
    ("/v1/blocks/%EF%BC%91", 400),  # fullwidth digit one
    ("/v1/blocks/" + "9" * 5000, 400),  # past int()'s digit limit
    ("/v1/blocks/1_000", 400),
    ("/v1/blocks/-1", 400),
    (f"/v1/blocks/{MAX_UINT}", 404),
    (f"/v1/blocks/{MAX_UINT + 1}", 400),
    ("/v1/blocks/0x" + "zz" * 32, 400),
    ("/v1/blocks?limit=%C2%B2", 400),
    ("/v1/blocks?before=" + "9" * 5000, 400),
    ("/v1/blocks?before=0", 200),
    (f"/v1/blocks?limit={MAX_UINT}", 200),
    ("/v1/tx/" + "0" * 5000, 400),
    ("/v1/state/0x", 400),
    ("/v1/state/zz", 400),
    ("/v1/state/" + "00" * 5000, 400),
    ("/v1/accounts/%C2%B2", 400),
    ("/v1/reg/limits/70000", 400),
    ("/v1/reg/limits/256", 400),
    ("/v1/reg/limits/%D9%A1", 400),
    ("/v1/reg/limits/1", 200),
    ("/v1/gov/proposals/99999999999999999999", 400),
    (f"/v1/gov/proposals/{MAX_UINT}", 404),
    ("/v1/gov/proposals?since=99999999999999999999999", 400),
    ("/v1/gov/proposals?limit=%C2%B2", 400),
    ("/v1/reg/alerts?since=" + "9" * 5000, 400),
    ("/v1/reg/alerts/stream?since=%C2%B2", 400),
    ("/v1/contracts/token/source?version=%C2%B2", 404),  # no such contract: looked up first
]


@pytest.mark.parametrize(("path", "status"), EDGE_GETS)
def test_edge_parameters_are_typed_4xx(client: AppClient, path: str, status: int) -> None:
    r = client.get(path)
    assert r.status_code == status, r.text
    if status >= 400:
        assert r.json()["code"] in ("malformed", "not_found", "bad_address")
        assert len(r.json()["message"]) < 300  # a 5,000-digit id is not echoed back whole


def test_parse_uint_is_strict() -> None:
    assert parse_uint("0", "n") == 0 and parse_uint(str(MAX_UINT), "n") == MAX_UINT
    for bad in ("", "²", "١", "１", " 1", "1 ", "+1", "1_0", "9" * 20, "9" * 5000, "0x10"):
        with pytest.raises(DecodeError):
            parse_uint(bad, "n")
    with pytest.raises(DecodeError):
        parse_uint("256", "tier", maximum=255)


DEEP_BODIES = [
    # depth 100k fits the 1 MiB limit of a view body; transaction bodies are kept small here
    *(("/v1/contracts/token/view/balance", d) for d in (MAX_JSON_DEPTH + 1, 5000, 100_000)),
    *((route, d) for route in ("/v1/txs", "/v1/tx") for d in (MAX_JSON_DEPTH + 1, 1000)),
]


@pytest.mark.parametrize(("route", "depth"), DEEP_BODIES)
def test_deep_json_is_a_400_not_a_recursion_error(client: AppClient, route: str, depth: int) -> None:
    nested = b"[" * depth + b"]" * depth
    body = b'{"args": ' + nested + b"}" if "contracts" in route else nested
    r = client.post(route, content=body, headers={"content-type": "application/json"})
    assert r.status_code == 400, r.text
    assert "nested deeper" in r.json()["message"]


def test_json_depth_bound() -> None:
    ok = b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH
    assert json_depth(decode_json(ok)) == MAX_JSON_DEPTH
    assert json_depth({"a": [1, {"b": []}]}) == 4 and json_depth(5) == 0
    for depth in (MAX_JSON_DEPTH + 1, 100_000):
        with pytest.raises(DecodeError, match="nested deeper"):
            decode_json(b"[" * depth + b"]" * depth)
    with pytest.raises(DecodeError, match="not JSON"):
        decode_json(b"[1,")


# --- finding 3: the wait timeout cannot escape its cap -------------------------------------------


@pytest.fixture(scope="module")
def pending_hash(client: AppClient, node_and_key: tuple[Node, KeyPair]) -> str:
    """A transaction admitted to the mempool (no consensus runs here, so it stays pending)."""
    key = node_and_key[1]
    raw = sign_transfer(key, CHAIN_ID, 0, 10_000, key.address, 1)
    r = client.post("/v1/tx", content=raw, headers={"content-type": "application/octet-stream"})
    assert r.status_code == 202, r.text
    return str(r.json()["tx_hash"])


BAD_TIMEOUTS = ["nan", "NaN", "inf", "-inf", "Infinity", "1e999", "-1", "-0", "%D9%A1", "", "0x10", "1_0"]


@pytest.mark.parametrize("bad", BAD_TIMEOUTS)
def test_wait_timeout_must_be_finite(client: AppClient, pending_hash: str, bad: str) -> None:
    r = client.get(f"/v1/tx/{pending_hash}/wait?timeout={bad}")
    assert r.status_code == 400, r.text
    assert r.json()["code"] == "malformed" and "seconds" in r.json()["message"]


def test_wait_timeout_is_capped() -> None:
    assert parse_seconds("2.5", "timeout", maximum=MAX_WAIT_SECONDS) == 2.5
    assert parse_seconds("999999999", "timeout", maximum=MAX_WAIT_SECONDS) == MAX_WAIT_SECONDS
    assert parse_seconds("1e+20", "timeout", maximum=MAX_WAIT_SECONDS) == MAX_WAIT_SECONDS
    for written in (0.1 + 0.2, 1e-05, 12.345678901234567):  # as clients' str(float) writes them
        assert parse_seconds(str(written), "timeout", maximum=MAX_WAIT_SECONDS) == written
    assert parse_seconds("0", "timeout", maximum=MAX_WAIT_SECONDS) == 0


# --- finding 4: slowloris --------------------------------------------------------------------------


def trickle_until_closed(sock: socket.socket, data: bytes, pause: float = 0.05) -> bytes:
    """Send ``data`` a byte at a time; return what the server sent if it closed first."""
    sock.settimeout(pause)
    received = b""
    for i in range(len(data)):
        try:
            sock.sendall(data[i : i + 1])
        except (BrokenPipeError, ConnectionResetError):
            return received or b"<closed>"
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            continue
        except ConnectionResetError:
            return received or b"<closed>"
        if not chunk:
            return received or b"<closed>"
        received += chunk
    raise AssertionError("the server kept a connection whose headers never completed")


SLOW_HEAD = b"GET /v1/status HTTP/1.1\r\nhost: t\r\nx-pad: " + b"a" * 400  # never completes


def test_slowloris_headers_are_cut_off(app: Starlette) -> None:
    with ServerThread(app, header_timeout=0.5) as srv, srv.connect() as sock:
        got = trickle_until_closed(sock, SLOW_HEAD)
    assert got == b"<closed>" or got.startswith(b"HTTP/1.1 408"), got


def test_silent_connection_is_cut_off(app: Starlette) -> None:
    with ServerThread(app, header_timeout=0.3) as srv, srv.connect() as sock:
        assert closed_by_server(sock)


def test_slowloris_on_a_kept_alive_connection_is_cut_off(app: Starlette) -> None:
    with ServerThread(app, header_timeout=0.5) as srv, srv.connect() as sock:
        sock.sendall(b"GET /v1/status HTTP/1.1\r\nhost: t\r\n\r\n")
        assert read_response(sock)[0] == 200
        got = trickle_until_closed(sock, SLOW_HEAD)
    assert got == b"<closed>" or got.startswith(b"HTTP/1.1 408"), got


def test_header_deadline_ends_with_the_headers(app: Starlette) -> None:
    """A body sent after the header deadline is fine: the deadline is for headers only."""
    with ServerThread(app, header_timeout=0.3) as srv, srv.connect() as sock:
        sock.sendall(b"POST /v1/contracts/token/view/balance HTTP/1.1\r\nhost: t\r\n"
                     b"content-type: application/json\r\ncontent-length: 2\r\n\r\n")
        time.sleep(0.6)
        sock.sendall(b"{}")
        status, _, body = read_response(sock)
    assert status == 400 and json.loads(body)["code"] == "no_such_contract"  # read and answered


def test_connection_cap_answers_503(app: Starlette) -> None:
    with ServerThread(app, max_connections=3) as srv:
        held = [srv.connect() for _ in range(2)]
        try:
            for sock in held:  # complete requests: both connections are open and counted
                sock.sendall(b"GET /v1/status HTTP/1.1\r\nhost: t\r\n\r\n")
                assert read_response(sock)[0] == 200
            with srv.connect() as third:
                third.sendall(b"GET /v1/status HTTP/1.1\r\nhost: t\r\n\r\n")
                assert read_response(third)[0] == 503
        finally:
            for sock in held:
                sock.close()


def test_oversized_request_head_is_refused(real_server: ServerThread) -> None:
    with real_server.connect() as sock:
        sock.sendall(b"GET /v1/status HTTP/1.1\r\nhost: t\r\nx-pad: " + b"a" * (32 * 1024))
        status, _, _ = read_response(sock)
        assert status == 400
        assert closed_by_server(sock)


def test_node_server_config() -> None:
    config = api_server_config(Starlette(), "127.0.0.1", 1)
    assert config.http is HeaderDeadlineProtocol
    assert HeaderDeadlineProtocol.header_timeout == server.HEADER_TIMEOUT == 10.0
    assert config.limit_concurrency == server.MAX_CONNECTIONS
    assert config.h11_max_incomplete_event_size == server.MAX_HEADER_BYTES
    assert config.timeout_keep_alive == server.KEEP_ALIVE_TIMEOUT


def test_node_serve_cuts_off_slowloris(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The node's own ``serve`` (runner) runs the API with the header deadline."""
    from consortia.node.runner import serve

    monkeypatch.setattr(HeaderDeadlineProtocol, "header_timeout", 0.5)
    port = free_port()
    make_home(tmp_path / "node", port)
    node = Node(tmp_path / "node", password="")
    ready = threading.Event()
    loop = asyncio.new_event_loop()
    stop: list[asyncio.Event] = []

    async def main() -> None:
        stop.append(asyncio.Event())
        await serve(node, stop[0], ready.set)

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()
    try:
        assert ready.wait(30)
        with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
            got = trickle_until_closed(sock, SLOW_HEAD)
        assert got == b"<closed>" or got.startswith(b"HTTP/1.1 408"), got
    finally:
        loop.call_soon_threadsafe(stop[0].set)
        thread.join(15)
        node.close()


# --- finding 5: every 405 carries Allow -------------------------------------------------------------


def route_cases(app: Starlette) -> list[tuple[str, set[str]]]:
    out = []
    for route in app.routes:
        assert isinstance(route, Route)
        path = route.path.replace("{", "").replace("}", "")  # any value; the method is wrong
        out.append((path, set(route.methods or ())))
    return out


def test_every_405_carries_allow(client: AppClient, app: Starlette) -> None:
    cases = route_cases(app)
    assert len(cases) >= 26
    for path, methods in cases:
        wrong = "DELETE" if "DELETE" not in methods else "PATCH"
        r = client.request(wrong, path)
        assert r.status_code == 405, (path, r.status_code)
        allow = {m.strip() for m in r.headers["allow"].split(",")}
        assert allow == methods, (path, allow)
        assert r.json()["code"] == "http_error"


# --- no 5xx from any GET route, whatever the path segments ---------------------------------------


def get_templates(app: Starlette) -> list[str]:
    return [r.path for r in app.routes
            if isinstance(r, Route) and "GET" in (r.methods or ()) and r.path not in STREAM_ROUTES]


SEGMENTS = st.one_of(
    st.text(st.characters(exclude_categories=("Cs",)), max_size=80),
    st.from_regex(r"[0-9]{1,40}", fullmatch=True),
    st.text(st.characters(categories=("Nd", "No")), min_size=1, max_size=8),
    st.sampled_from(["latest", "0x", "-1", "nan", "inf", "9" * 5000, "0x" + "00" * 32,
                     "0x" + "ff" * 20, "ab" * 600, "%", "..", "²"]),
)
QUERY_NAMES = ["limit", "before", "since", "version", "timeout"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_get_routes_never_answer_5xx(client: AppClient, app: Starlette, data: st.DataObject) -> None:
    template = data.draw(st.sampled_from(get_templates(app)))
    path = template
    while "{" in path:
        name = path[path.index("{") + 1 : path.index("}")]
        path = path.replace("{" + name + "}", quote(data.draw(SEGMENTS), safe=""), 1)
    query = data.draw(st.dictionaries(st.sampled_from(QUERY_NAMES), SEGMENTS, max_size=2))
    if template == "/v1/tx/{tx_hash}/wait":
        query["timeout"] = data.draw(st.sampled_from(["0", "nan", "inf", "-1", "0.01"]))
    url = path + ("?" + "&".join(f"{k}={quote(v, safe='')}" for k, v in query.items()) if query else "")
    r = client.get(url)
    assert r.status_code < 500, (url[:200], r.status_code, r.text[:300])
    if r.status_code >= 400:
        assert "code" in msgspec.json.decode(r.content)


# --- the documented operations under schemathesis ------------------------------------------------


def test_documented_operations_never_answer_5xx_nor_break_their_schemas(real_server: ServerThread) -> None:
    """Every operation in the live node's /openapi.json, with inputs schemathesis derives from its
    schema, over HTTP: no 5xx, and every answer (2xx and errors) valid against its typed schema."""
    schema = schemathesis.openapi.from_url(f"http://127.0.0.1:{real_server.port}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    checks = [not_a_server_error, response_schema_conformance]
    for operation in operations:
        if operation.path in STREAM_ROUTES:
            continue

        @settings(max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def conforms(case: Any) -> None:
            response = case.call()
            assert response.status_code < 500, (case.method, case.formatted_path, response.text[:300])
            case.validate_response(response, checks=checks)

        conforms()

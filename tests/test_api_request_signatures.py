"""Authenticating API requests (issue 14): RFC 9421 signatures made with a chain key, checked
for coverage, age, chain and replay, and resolved to an enrolled, active identity."""

from __future__ import annotations

import datetime
from dataclasses import replace

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from consortia.api.auth.authenticator import Authenticator, IncomingRequest, incoming
from consortia.api.auth.errors import (
    BadRequestSignature,
    ReplayedRequest,
    RevokedIdentity,
    StaleRequest,
    Unauthenticated,
    UnknownIdentity,
)
from consortia.api.auth.principal import principal_of
from consortia.api.auth.replay import NonceCache, TooManySignedRequests
from consortia.api.auth.request_signatures import MAX_AGE_S, sign_request, verify_request
from consortia.api.auth.sessions import SESSION_S, BadSessionToken, SessionExpired, Sessions, bearer
from consortia.client.request_signing import SignedRequests
from consortia.contracts.permissioned.harness import consortium, seeded_key
from consortia.contracts.permissioned.identity import encode_revoke_args
from consortia.crypto.keys import KeyPair
from consortia.errors import ConsortiaError

CHAIN = "chain-a"
URL = "http://127.0.0.1:8545/v1/accounts/0xab?limit=5"


def _signed(key: KeyPair, body: bytes = b"", method: str = "GET", url: str = URL,
            now: datetime.datetime | None = None) -> IncomingRequest:  # fmt: skip
    request = httpx.Request(method, url, content=body)
    sign_request(request, key, CHAIN, body, now)
    return IncomingRequest(request.method, str(request.url), dict(request.headers))


@pytest.mark.parametrize("suite", ["ed25519", "sm2"])
@pytest.mark.parametrize("body", [b"", b'{"amount": 5}'])
def test_a_signed_request_names_its_signer_in_either_suite(suite: str, body: bytes) -> None:
    key = KeyPair.generate(suite)
    message = _signed(key, body, "POST" if body else "GET")
    signed = verify_request(message, body, CHAIN, suite)
    assert signed.address == key.address and signed.public_key == key.public_key


@pytest.mark.parametrize("change", ["method", "path", "query", "host", "body"])
def test_each_covered_part_is_bound_by_the_signature(change: str) -> None:
    key = KeyPair.generate()
    body = b'{"amount": 5}'
    message = _signed(key, body, "POST")
    if change == "body":
        with pytest.raises(BadRequestSignature):
            verify_request(message, b'{"amount": 500}', CHAIN, "ed25519")
        return
    url = {"path": message.url.replace("0xab", "0xcd"), "query": message.url.replace("limit=5", "limit=9"),
           "host": message.url.replace("127.0.0.1", "127.0.0.2")}.get(change, message.url)  # fmt: skip
    headers = {**message.headers, "host": "127.0.0.2:8545"} if change == "host" else message.headers
    tampered = replace(message, method="PUT" if change == "method" else message.method, url=url,
                       headers=headers)  # fmt: skip
    with pytest.raises(BadRequestSignature):
        verify_request(tampered, body, CHAIN, "ed25519")


def test_refusals_are_typed_and_say_what_to_do() -> None:
    key = KeyPair.generate()
    with pytest.raises(Unauthenticated, match="signed"):
        verify_request(IncomingRequest("GET", URL, {}), b"", CHAIN, "ed25519")
    with pytest.raises(BadRequestSignature, match="chain-a"):
        verify_request(_signed(key), b"", "chain-b", "ed25519")
    with pytest.raises(BadRequestSignature, match="sm2"):
        verify_request(_signed(key), b"", CHAIN, "sm2")
    past = datetime.datetime.now(datetime.UTC) - datetime.timedelta(seconds=MAX_AGE_S + 2)
    with pytest.raises(StaleRequest, match="clock"):
        verify_request(_signed(key, now=past), b"", CHAIN, "ed25519")
    future = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=30)
    with pytest.raises(StaleRequest):
        verify_request(_signed(key, now=future), b"", CHAIN, "ed25519")
    bad_key = _signed(key)
    bad_key.headers["signature-input"] = bad_key.headers["signature-input"].replace("ed25519:", "ed25519:00")
    with pytest.raises(BadRequestSignature, match="keyid"):
        verify_request(bad_key, b"", CHAIN, "ed25519")


@settings(max_examples=150, deadline=None)
@given(signature=st.text(max_size=200), signature_input=st.text(max_size=300))
def test_hostile_signature_headers_get_only_a_typed_401(signature: str, signature_input: str) -> None:
    message = IncomingRequest("GET", URL, {"signature": signature, "signature-input": signature_input})
    with pytest.raises(ConsortiaError) as caught:
        verify_request(message, b"", CHAIN, "ed25519")
    assert caught.value.http_status == 401


def test_a_request_is_served_once() -> None:
    clock = [1_000_000.0]
    cache = NonceCache(clock=lambda: clock[0], limit=3)
    key = b"k" * 32
    cache.check_and_remember(key, "nonce-1", int(clock[0]))
    with pytest.raises(ReplayedRequest):
        cache.check_and_remember(key, "nonce-1", int(clock[0]))
    cache.check_and_remember(b"x" * 32, "nonce-1", int(clock[0]))  # another key's nonce
    cache.check_and_remember(key, "nonce-2", int(clock[0]))
    with pytest.raises(TooManySignedRequests):  # full of live nonces: refuse, never forget early
        cache.check_and_remember(key, "nonce-3", int(clock[0]))
    clock[0] += MAX_AGE_S + 10  # every remembered signature is now too old to be accepted
    cache.check_and_remember(key, "nonce-3", int(clock[0]))
    assert len(cache) == 1


def test_a_key_is_someone_only_while_enrolled_and_active() -> None:
    net = consortium()
    h = net.harness
    with pytest.raises(UnknownIdentity, match="enrol"):
        principal_of(h.get, seeded_key("stranger").address)
    alice = net.member("bank-a", "alice")
    who = principal_of(h.get, alice.address)
    assert (who.org, who.role, who.org_role, who.oversees, who.org_admin) == ("bank-a", "member", "bank",
                                                                              False, False)  # fmt: skip
    regulator = principal_of(h.get, net.admins["reg"].address)
    assert regulator.oversees and regulator.org_admin
    auditor = net.member("bank-b", "aud", role="auditor")
    assert principal_of(h.get, auditor.address).oversees
    h.next_block()
    assert h.call(net.admins["bank-a"].address, "identity", "revoke", encode_revoke_args(alice.address)).ok
    with pytest.raises(RevokedIdentity):
        principal_of(h.get, alice.address)


def test_through_a_real_asgi_app_with_the_sdk_signer() -> None:
    """The client's httpx auth signs; the server rebuilds the request from the raw path and
    query it received (percent-encoding kept) and authenticates; a replay is refused."""
    net = consortium()
    alice = net.member("bank-a", "alice")
    authenticator = Authenticator(CHAIN, "ed25519", Sessions(lambda: b"s" * 32))

    async def whoami(request: Request) -> JSONResponse:
        try:
            body = await request.body()
            who, _claims = authenticator.authenticate(incoming(request), body, net.harness.get)
        except ConsortiaError as exc:
            return JSONResponse({"code": exc.code}, status_code=exc.http_status)
        return JSONResponse({"org": who.org, "role": who.role})

    app = Starlette(routes=[Route("/v1/who/{rest:path}", whoami, methods=["GET", "POST"])])
    with TestClient(app, base_url="http://127.0.0.1:8545") as client:
        signer = SignedRequests(alice, CHAIN)
        ok = client.post("/v1/who/a%2Fb?q=a%20b&z=1", content=b'{"x":1}', auth=signer)
        assert ok.status_code == 200 and ok.json() == {"org": "bank-a", "role": "member"}
        assert client.get("/v1/who/x").json()["code"] == "unauthenticated"
        stranger = client.get("/v1/who/x", auth=SignedRequests(seeded_key("nobody"), CHAIN))
        assert stranger.status_code == 401 and stranger.json()["code"] == "unknown_identity"
        first = client.build_request("GET", "/v1/who/replay")
        sign_request(first, alice, CHAIN, b"")
        assert client.send(first).status_code == 200
        again = client.send(first)
        assert again.status_code == 401 and again.json()["code"] == "replayed_request"


def test_session_tokens_are_this_nodes_own_for_a_while_and_sign_in_links_serve_once() -> None:
    clock = [1_000_000.0]
    sessions = Sessions(lambda: b"a" * 32, clock=lambda: clock[0])
    alice = KeyPair.generate()
    token, expires = sessions.session(alice.address)
    assert expires == 1_000_000 + SESSION_S
    claims = sessions.check(token)
    assert (claims.address, claims.kind) == (alice.address, "session")
    assert bearer({"authorization": f"Bearer {token}"}, {}) == token
    assert bearer({}, {"access_token": token}) == token
    other_node = Sessions(lambda: b"b" * 32, clock=lambda: clock[0])
    with pytest.raises(BadSessionToken, match="not issued by this node"):
        other_node.check(token)
    head, payload, mac = token.split(".")
    with pytest.raises(BadSessionToken):
        sessions.check(f"{head}.{payload[:-2]}AA.{mac}")
    for junk in ("", "x", "a.b.c", "cs1.!!.??", "cs1." + "A" * 600):
        with pytest.raises(BadSessionToken):
            sessions.check(junk)
    clock[0] += SESSION_S + 1
    with pytest.raises(SessionExpired):
        sessions.check(token)

    link = sessions.sign_in()
    first = sessions.check(link)
    assert first.address is None and first.kind == "sign-in"
    sessions.spend(first)
    with pytest.raises(BadSessionToken, match="already used"):
        sessions.spend(sessions.check(link))
    restarted = Sessions(lambda: b"a" * 32, clock=lambda: clock[0])  # same secret, new run
    with pytest.raises(BadSessionToken, match="earlier run"):
        restarted.spend(restarted.check(link))
    with pytest.raises(BadSessionToken):  # a session is not a sign-in link
        sessions.spend(sessions.check(sessions.session(None)[0]))

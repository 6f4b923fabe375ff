"""The API's authorisation, enforced in one place: an ASGI middleware in front of every route.

For each request it finds the route (its path template), reads that route's rule in
:data:`~consortia.api.auth.route_policy.ROUTES`, authenticates the caller when the rule needs it
(:class:`~consortia.api.auth.authenticator.Authenticator`) and decides:

* before the handler, for rules that the caller's identity alone decides (member, staff,
  oversight, account, organisation), and for sub-resources whose parent object decides (the
  parent is read through the same application, as the caller);
* after the handler, for objects that decide by their content (CONCERNS): the answer is held
  back and released only if it names the caller — or, for an organisation's admin, one of its
  organisation's identities; lists keep only the items that do.

A refusal is a typed 401 (who are you) or 403 (not yours), never the data. Only chains with
organisations authenticate, and only when the node is configured to (``api_auth`` in its
``node.json``); a development chain's API stays open and says so in its status.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, MutableMapping
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qsl, urlencode

import msgspec
from starlette.requests import Request
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from consortia.api.auth.authenticator import Authenticator, incoming
from consortia.api.auth.principal import Principal
from consortia.api.auth.read_audit import AuditedResponse, OrgLookup, ReadAudit, audited
from consortia.api.auth.route_policy import READ_METHODS, ROUTES, SESSION_ROUTE, WHO, Access, Rule
from consortia.api.auth.sessions import BadSessionToken, Sessions
from consortia.contracts.permissioned.directory import identity
from consortia.contracts.permissioned.monetary import reserve_address
from consortia.contracts.permissioned.records import ADMIN
from consortia.contracts.permissioned.store import StateGet
from consortia.crypto.address import parse_address
from consortia.errors import ConsortiaError

AUTH_BODY_LIMIT = 8 * 1024 * 1024
"""Bytes of a signed request's body read to check its digest (each route's own, smaller limit
applies after)."""
MAX_PARTIES_LOOKED_UP = 256
"""Addresses of an answer whose organisation is looked up for an admin's CONCERNS check."""
VALIDATOR = "validator"
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")


class Forbidden(ConsortiaError):
    code = "forbidden"
    http_status = 403


class NoPolicy(ConsortiaError):
    code = "no_policy"
    http_status = 403


class AuthBodyTooLarge(ConsortiaError):
    code = "body_too_large"
    http_status = 413


def staff(who: Principal) -> bool:
    return who.oversees or who.role in (ADMIN, VALIDATOR)


def addresses_in(value: Any, found: set[bytes] | None = None) -> set[bytes]:
    """Every account address written in an answer (``0x`` and 40 hex digits), at any depth."""
    out = set() if found is None else found
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _ADDRESS.match(item):
                out.add(bytes.fromhex(item[2:].lower()))
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return out


class Decider:
    """The rules applied to one caller, on the committed state."""

    def __init__(self, who: Principal, state_get: StateGet) -> None:
        self.who = who
        self.get = state_get

    def belongs_to_my_org(self, address: bytes) -> bool:
        if self.who.role != ADMIN:
            return False
        if address == reserve_address(self.who.org):
            return True
        record = identity(self.get, address)
        return record is not None and record.org == self.who.org

    def account(self, address: bytes) -> bool:
        return self.who.oversees or address == self.who.address or self.belongs_to_my_org(address)

    def concerns(self, answer: Any) -> bool:
        if self.who.oversees:
            return True
        named = addresses_in(answer)
        if self.who.address in named:
            return True
        return any(self.belongs_to_my_org(a) for a in list(named)[:MAX_PARTIES_LOOKED_UP])

    def before(self, access: Access, params: dict[str, Any]) -> bool | None:
        """True/False when the rule decides on the caller and the route alone; None when the
        answer (CONCERNS) decides."""
        rule = access.rule
        if rule is Rule.MEMBER:
            return True
        if rule is Rule.STAFF:
            return staff(self.who)
        if rule is Rule.OVERSIGHT:
            return self.who.oversees
        if rule is Rule.ACCOUNT:
            try:
                named = [parse_address(str(params.get(p, ""))) for p in access.param.split(",")]
            except ConsortiaError:
                return True  # a malformed address: the handler answers its typed 400
            return any(self.account(a) for a in named)
        if rule is Rule.ORG:
            return self.who.oversees or (staff(self.who) and params.get(access.param) == self.who.org)
        return None


class AuthGate:
    """ASGI middleware; ``routes``: the application's routes (to find each request's template)."""

    def __init__(self, app: ASGIApp, routes: Iterable[BaseRoute], chain_id: str, suite_name: str,
                 sessions: Sessions, state_get: Callable[[], Any],
                 enabled: Callable[[], bool], read_audit: ReadAudit | None = None) -> None:  # fmt: skip
        """``state_get()`` opens a snapshot of committed state (a context manager whose value
        has ``get``); ``enabled()`` says whether this chain's API authenticates now;
        ``read_audit``: where overseers' reads of other organisations' data are logged."""
        self.app = app
        self.read_audit = read_audit
        self.routes = list(routes)
        self.authenticator = Authenticator(chain_id, suite_name, sessions)
        self.snapshot = state_get
        self.enabled = enabled

    def route_of(self, scope: Scope) -> tuple[str, dict[str, Any]] | None:
        partial: tuple[str, dict[str, Any]] | None = None
        for route in self.routes:
            match, child = route.matches(scope)
            path = getattr(route, "path", None)
            if path is None:
                continue
            if match is Match.FULL:
                return path, dict(child.get("path_params", {}))
            if match is Match.PARTIAL and partial is None:
                partial = (path, dict(child.get("path_params", {})))
        return partial

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.read_audit is not None and self.read_audit.on_request is not None:
            self.read_audit.on_request()
        if scope["type"] != "http" or not self.enabled():
            await self.app(scope, receive, send)
            return
        found = self.route_of(scope)
        if found is None:
            await self.app(scope, receive, send)  # the router's 404
            return
        template, params = found
        access = ROUTES.get(template)
        try:
            if access is None:
                raise NoPolicy(f"no access rule is written for {template}; refused to everyone")
            access = access.for_method(scope["method"])
            if access.rule in (Rule.PUBLIC, Rule.SUBMIT, Rule.SIGNED_BODY):
                await self.app(scope, receive, send)
                return
            body = await _read_body(receive)
            replay = _replaying(body, receive)
            request = Request(scope)
            with self.snapshot() as snap:
                who, claims = self.authenticator.authenticate(incoming(request), body, snap.get,
                                                              dict(request.query_params))  # fmt: skip
                decider = Decider(who, snap.get)
                verdict = decider.before(access, params)
            if claims is not None and claims.kind == "sign-in" and template != SESSION_ROUTE:
                raise BadSessionToken(
                    f"a sign-in link is exchanged for a session first (POST {SESSION_ROUTE})")
            state = scope.setdefault("state", {})
            state["principal"], state["claims"] = who, claims
            if verdict is False:
                raise Forbidden(_refusal(access))
            if verdict is None and not access.object_path and scope["method"] not in READ_METHODS:
                # decided by its answer, a write would have acted before a refusal: never run it
                raise NoPolicy(f"no rule decides a {scope['method']} of {template} before it runs")
            if self.read_audit is not None and audited(who, access, template, scope["method"]):
                await self._audited(scope, replay, send, access, template, params, verdict, who)
                return
            if verdict is True:
                await self.app(scope, replay, send)
                return
            if access.object_path:
                await self._by_parent(scope, replay, send, access, params, who)
                return
            await self._by_answer(scope, replay, send, access, who)
        except ConsortiaError as exc:
            await _send_error(send, exc)

    async def _audited(self, scope: Scope, receive: Receive, send: Send, access: Access, template: str,
                       params: dict[str, Any], verdict: bool | None, who: Principal) -> None:  # fmt: skip
        """An overseer's read: answered as any other, through a ``send`` that logs it first
        (:mod:`~consortia.api.auth.read_audit`); refused (503) if the log cannot be written."""
        assert self.read_audit is not None
        request = Request(scope)
        query = urlencode([(k, v) for k, v in parse_qsl(request.url.query, keep_blank_values=True)
                           if k != "access_token"])  # a session token is a credential, never logged
        @contextmanager
        def lookup() -> Iterator[OrgLookup]:
            with self.snapshot() as snap:
                yield OrgLookup(snap.get)

        audited_send = AuditedResponse(send, self.read_audit, who, access, template, params,
                                       scope["method"], request.url.path, query, lookup)  # fmt: skip
        if verdict is True:
            await self.app(scope, receive, audited_send)
        elif access.object_path:
            await self._by_parent(scope, receive, audited_send, access, params, who, audited_send)
        else:
            await self._by_answer(scope, receive, audited_send, access, who)
        if audited_send.failed is not None and not audited_send.started:
            await _send_error(send, audited_send.failed)

    async def _by_parent(self, scope: Scope, receive: Receive, send: Send, access: Access,
                         params: dict[str, Any], who: Principal,
                         audit: AuditedResponse | None = None) -> None:  # fmt: skip
        path = access.object_path.format(**{k: str(v) for k, v in params.items()})
        parent = {**scope, "method": "GET", "path": path, "raw_path": path.encode(), "query_string": b""}
        status, _headers, body = await _capture(self.app, parent, _replaying(b""))
        if audit is not None and 200 <= status < 300:
            audit.parent_answers.append(_json_or_none(body))
        if 200 <= status < 300:
            with self.snapshot() as snap:
                if not Decider(who, snap.get).concerns(_json_or_none(body)):
                    raise Forbidden(_refusal(access))
        await self.app(scope, receive, send)  # a missing parent: the route's own answer (404)

    async def _by_answer(self, scope: Scope, receive: Receive, send: Send, access: Access,
                         who: Principal) -> None:  # fmt: skip
        status, headers, body = await _capture(self.app, scope, receive)
        if 200 <= status < 300:
            answer = _json_or_none(body)
            with self.snapshot() as snap:
                decider = Decider(who, snap.get)
                if access.listing and isinstance(answer, dict):
                    kept = {k: [i for i in v if decider.concerns(i)] if _objects(v) else v
                            for k, v in answer.items()}  # fmt: skip
                    body = msgspec.json.encode(kept)
                    headers = [(k, v) for k, v in headers if k.lower() != b"content-length"]
                    headers.append((b"content-length", str(len(body)).encode()))
                elif not decider.concerns(answer):
                    raise Forbidden(_refusal(access))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _refusal(access: Access) -> str:
    return f"this route is for {WHO[access.rule]} ({access.rule.value})"


def _objects(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(i, dict) for i in value)


def _json_or_none(body: bytes) -> Any:
    try:
        return msgspec.json.decode(body)
    except msgspec.DecodeError:
        return None


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > AUTH_BODY_LIMIT:
            raise AuthBodyTooLarge(f"a signed request's body may be at most {AUTH_BODY_LIMIT} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replaying(body: bytes, then: Receive | None = None) -> Receive:
    """The body already read, once; then the client's own messages (``then``: a stream learns
    that its client went away), or at once a disconnect (a request the gate makes itself)."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return await then() if then is not None else {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


async def _capture(app: ASGIApp, scope: Scope, receive: Receive) -> tuple[int, list[Any], bytes]:
    status = 500
    headers: list[Any] = []
    parts: list[bytes] = []

    async def send(message: MutableMapping[str, Any]) -> None:
        nonlocal status, headers
        if message["type"] == "http.response.start":
            status = int(message["status"])
            headers = list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            parts.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, headers, b"".join(parts)


async def _send_error(send: Send, exc: ConsortiaError) -> None:
    body = msgspec.json.encode(exc.to_dict())
    await send({"type": "http.response.start", "status": exc.http_status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})  # fmt: skip
    await send({"type": "http.response.body", "body": body})


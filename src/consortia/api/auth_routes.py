"""``POST /v1/auth/session``: a session token for what cannot sign each request (the explorer,
event streams), given for a signed request or the operator's one-time sign-in link
(:mod:`consortia.api.auth.sessions`)."""

from __future__ import annotations

from typing import TypedDict

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from consortia.api.app_views import json_response
from consortia.api.auth.principal import Principal
from consortia.api.auth.route_policy import SESSION_ROUTE
from consortia.api.auth.sessions import Claims, Sessions
from consortia.crypto.address import format_address
from consortia.errors import NotFound


class SessionView(TypedDict):
    """A session on this node: the bearer token, its expiry (unix seconds) and who it is for."""

    token: str
    expires: int
    operator: bool
    address: str | None
    org: str | None
    role: str


def auth_routes(sessions: Sessions) -> list[Route]:
    def session(request: Request) -> Response:
        who: Principal | None = getattr(request.state, "principal", None)
        claims: Claims | None = getattr(request.state, "claims", None)
        if who is None:
            raise NotFound("this node's API is open (a chain without organisations, or api_auth "
                           "off): no session is needed")  # fmt: skip
        if claims is not None and claims.kind == "sign-in":
            sessions.spend(claims)
        token, expires = sessions.session(who.address or None)
        view: SessionView = {
            "token": token, "expires": expires, "operator": not who.address,
            "address": format_address(who.address) if who.address else None,
            "org": who.org or None, "role": who.role,
        }  # fmt: skip
        return json_response(view)

    return [Route(SESSION_ROUTE, session, methods=["POST"])]

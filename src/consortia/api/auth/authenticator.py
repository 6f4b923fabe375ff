"""Authenticating one API request on a node: signature, freshness, replay, identity."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from consortia.api.auth.principal import OPERATOR, Principal, principal_of
from consortia.api.auth.replay import NonceCache
from consortia.api.auth.request_signatures import verify_request
from consortia.api.auth.sessions import Claims, Sessions, bearer
from consortia.contracts.permissioned.store import StateGet


@dataclass(frozen=True)
class IncomingRequest:
    """The parts of a request a signature covers, as the client sent them (the raw path and
    query, not Starlette's decoded ones)."""

    method: str
    url: str
    headers: dict[str, str]


def incoming(request: Request) -> IncomingRequest:
    scope: dict[str, Any] = request.scope
    raw_path = scope.get("raw_path") or scope["path"].encode()
    query = scope.get("query_string", b"")
    host = request.headers.get("host") or "localhost"
    url = f"{scope.get('scheme', 'http')}://{host}{raw_path.decode('latin-1')}"
    if query:
        url += "?" + query.decode("latin-1")
    return IncomingRequest(request.method, url, {k.lower(): v for k, v in request.headers.items()})


class Authenticator:
    def __init__(self, chain_id: str, suite_name: str, sessions: Sessions,
                 nonces: NonceCache | None = None) -> None:  # fmt: skip
        self.chain_id = chain_id
        self.suite_name = suite_name
        self.sessions = sessions
        self.nonces = nonces or NonceCache()

    def authenticate(self, message: IncomingRequest, body: bytes, state_get: StateGet,
                     query: dict[str, str] | None = None) -> tuple[Principal, Claims | None]:  # fmt: skip
        """The enrolled, active identity that signed this request (or whose session token it
        carries; the operator's for an operator session) — or a typed 401. The second value:
        the session token's claims, None for a signed request."""
        token = bearer(message.headers, query or {})
        if token is not None:
            claims = self.sessions.check(token)
            if claims.address is None:
                return OPERATOR, claims
            return principal_of(state_get, claims.address), claims
        signed = verify_request(message, body, self.chain_id, self.suite_name)
        principal = principal_of(state_get, signed.address)
        self.nonces.check_and_remember(signed.public_key, signed.nonce, signed.created)
        return principal, None

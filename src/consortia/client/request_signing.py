"""Signing every API request with the caller's key (httpx authentication), so a node of a chain
with organisations knows who reads: see ``consortia.api.auth.request_signatures``."""

from __future__ import annotations

from collections.abc import Generator

import httpx

from consortia.api.auth.request_signatures import sign_request
from consortia.crypto.keys import KeyPair


class SignedRequests(httpx.Auth):
    """``httpx.Client(auth=SignedRequests(key, chain_id))``: each request signed afresh (a new
    nonce per sending, retries included)."""

    requires_request_body = True

    def __init__(self, key: KeyPair, chain_id: str) -> None:
        self.key = key
        self.chain_id = chain_id

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        sign_request(request, self.key, self.chain_id, request.content)
        yield request

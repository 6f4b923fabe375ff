"""REST routes of sealed content (issue 14, apps/privacy, decisions/0024).

* ``GET /v1/confidential``: this node's organisation, how many objects it keeps and has erased.
* ``POST /v1/confidential``: a party uploads a sealed object (``application/octet-stream``, the
  canonical encoding of ``[kind, object id, [ciphertext, [[recipient, sealed key], ...]]]``);
  kept only if the chain's object carries its ref, the envelopes are the parties' and the
  supervisor's, and this node's organisation is concerned. The answer names the other
  concerned organisations' stores (``replicate_to``) the uploader sends the same bytes to.
* ``GET /v1/confidential/{hash}``: the ciphertext and the caller's own envelope (a caller the
  API does not know — a development chain — gets every envelope: they open only with their
  recipients' keys); the object's parties are read from the chain and decide who may read
  (the route policy's CONCERNS). 410 ``erased`` once the regulator erased it.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from consortia.api.app_views import json_response
from consortia.api.bodies import read_body
from consortia.api.params import parse_hash
from consortia.api.views_privacy import ConfidentialContent, ConfidentialKept, ConfidentialStoreView
from consortia.apps.privacy.service import MAX_UPLOAD_BYTES, SealedContentService
from consortia.node.node import Node


def _caller(request: Request) -> bytes | None:
    principal = request.scope.get("state", {}).get("principal")
    return None if principal is None else bytes(principal.address)


def privacy_routes(node: Node) -> list[Route]:
    service = SealedContentService(node)
    service.sweep()
    node.chain.listeners.append(service.on_commit)

    async def confidential(request: Request) -> Response:
        if request.method == "POST":
            body = await read_body(request, MAX_UPLOAD_BYTES)
            kept: ConfidentialKept = await run_in_threadpool(service.upload, body, _caller(request))
            return json_response(kept)
        store: ConfidentialStoreView = await run_in_threadpool(service.info)
        return json_response(store)

    async def content(request: Request) -> Response:
        ref = parse_hash(request.path_params["hash"], "content")
        found: ConfidentialContent = await run_in_threadpool(service.read, ref, _caller(request))
        return json_response(found)

    return [Route("/v1/confidential", confidential, methods=["GET", "POST"]),
            Route("/v1/confidential/{hash}", content, methods=["GET"])]

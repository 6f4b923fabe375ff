"""REST routes of notarisation (issue 12, apps/notary, decisions/0012).

* ``POST /v1/notary/stamp?wait=S``: the node's stamping service. Document hashes in (JSON
  ``{"hashes": ["0x…"]}``, or raw 32-byte hashes back to back as ``application/octet-stream``);
  answered once anchored with the request's level and the anchoring's receipt proof.
* ``GET /v1/notary/service``: the service's stamper address, pending work, limits and counts.
* ``POST /v1/notary/batches``: register a committed one-level batch ``{"tx_hash", "hashes"}`` in
  this node's index (checked against the transaction first).
* ``GET /v1/notary/documents/{sha256}``: the earliest stamp of a document this node knows, with
  its full receipt.
* ``GET /v1/notary/roots/{root}``: a root's first anchoring, from the chain (every node answers
  the same).
* ``GET /v1/notary/stampers/{address}?start=N&limit=M``: the roots an address anchored first.

Every refusal is typed and changes nothing: too many hashes (413 ``too_many_documents``), a
busy service (429 ``notary_busy``), bad hashes (400), no service on this node (404
``notary_service_off``), a batch that is not what its transaction anchored (422).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import msgspec
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from consortia.api.bodies import JSON_BODY_LIMIT, decode_json, read_body
from consortia.api.params import parse_hash, parse_seconds, parse_uint
from consortia.api.views_notary import BatchRegistered, NotaryServiceView
from consortia.apps.notary.errors import (
    BadDocumentHash,
    NoDocuments,
    NotaryOff,
    TooManyDocuments,
    UnknownDocument,
)
from consortia.apps.notary.index import DocumentIndex
from consortia.apps.notary.lookup import checked_batch, document_receipt, first_stamp_json
from consortia.apps.notary.receipts import LEAF_BYTES, NOTARY
from consortia.apps.notary.service import StampService, load_service_key
from consortia.contracts.python.errors import NoSuchContract
from consortia.contracts.python.json_data import to_json
from consortia.crypto.address import format_address, parse_address
from consortia.errors import DecodeError, NotFound
from consortia.execution.context import BlockContext
from consortia.node.node import Node

MAX_REGISTER_HASHES = 100_000
"""Hashes one registration may carry (a ``consortia notary stamp`` batch)."""
MAX_WAIT_S = 60.0
DEFAULT_WAIT_S = 30.0
MAX_STAMPER_LIST = 100
PARSE_IN_THREAD = 64 * 1024
JSON_PER_HASH = 70
"""Bytes of one hash in a JSON body: quotes, ``0x``, 64 hex digits, comma, a space."""
_json = msgspec.json.Encoder()


def _response(data: Any, status: int = 200) -> Response:
    return Response(_json.encode(data), status_code=status, media_type="application/json")


def parse_hashes(body: bytes, content_type: str, what: str = "hashes") -> list[bytes]:
    """Document hashes from a body: raw 32-byte hashes back to back, or JSON ``{"hashes": [...]}``
    of 64 hex digits each (``0x`` optional)."""
    if "json" not in content_type:
        if len(body) % LEAF_BYTES:
            raise BadDocumentHash(f"a raw body is 32-byte hashes back to back; {len(body)} bytes is not a "
                                  "multiple of 32")
        return [body[i:i + LEAF_BYTES] for i in range(0, len(body), LEAF_BYTES)]
    data = decode_json(body)
    items = data.get(what) if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise DecodeError(f'expected a JSON body like {{"{what}": ["0x<64 hex digits>", ...]}}')
    out = []
    for i, text in enumerate(items):
        raw = None
        if isinstance(text, str) and len(text) in (64, 66):
            try:
                raw = bytes.fromhex(text[2:] if text[:2] in ("0x", "0X") else text)
            except ValueError:
                raw = None
        if raw is None or len(raw) != LEAF_BYTES:
            raise BadDocumentHash(f"{what}[{i}] is not a SHA-256 (64 hex digits, 0x optional): "
                                  f"{str(text)[:80]!r}", index=i)
        out.append(raw)
    return out


class NotaryApi:
    """The notarisation side of one node's API: its index (opened on first use) and service."""

    def __init__(self, node: Node) -> None:
        self.node = node
        self._index: DocumentIndex | None = None
        self.service: StampService | None = None
        config = node.config.notary
        if config is not None:  # a configured service must start, or the node says why
            self.service = StampService(node, load_service_key(node.home, config), config, self.index)

    @property
    def index(self) -> DocumentIndex:
        if self._index is None:
            self._index = DocumentIndex(self.node.home)
        return self._index

    def require_service(self) -> StampService:
        if self.service is None:
            raise NotaryOff(f"node {self.node.config.name} runs no stamping service: set notary.key_file "
                            "in its node.json (consortia notary enable), or stamp with your own key "
                            "(consortia notary stamp --key)")
        return self.service


def notary_routes(node: Node) -> list[Route]:
    api = NotaryApi(node)
    chain = node.chain

    def head_block() -> BlockContext:
        header = chain.head_header
        return BlockContext(chain.chain_id, header.height, header.timestamp_ms, header.proposer)

    def view(method: str, *args: Any) -> Any:
        block = head_block()
        with chain.store.snapshot() as state:
            try:
                return chain.contract_host.run_view(state, block, NOTARY, method, list(args))
            except NoSuchContract:
                raise NotFound("the notary application is not deployed on this chain") from None

    async def stamp(request: Request) -> Response:
        service = api.require_service()
        wait = parse_seconds(request.query_params.get("wait", str(DEFAULT_WAIT_S)), "wait",
                             maximum=MAX_WAIT_S)
        content_type = request.headers.get("content-type", "")
        limit = service.config.max_request_hashes
        per_hash = JSON_PER_HASH if "json" in content_type else LEAF_BYTES
        body = await read_body(request, limit * per_hash + 1024)
        service.check_request(1)  # a busy service refuses before parsing anything
        if len(body) > PARSE_IN_THREAD:
            leaves = await asyncio.to_thread(parse_hashes, body, content_type)
        else:
            leaves = parse_hashes(body, content_type)
        return _response(await service.stamp(leaves, wait))

    def service_status(request: Request) -> Response:
        body: NotaryServiceView = {"height": chain.head.height, **api.require_service().status()}
        return _response(body)

    async def register(request: Request) -> Response:
        content_type = request.headers.get("content-type", "")
        if "json" not in content_type:
            raise DecodeError('register a batch with a JSON body '
                              '{"tx_hash": "0x…", "hashes": ["0x…", ...]}')
        body = await read_body(request, MAX_REGISTER_HASHES * JSON_PER_HASH + JSON_BODY_LIMIT // 16)
        data = decode_json(body)
        tx_text = data.get("tx_hash") if isinstance(data, dict) else None
        if not isinstance(tx_text, str):
            raise DecodeError('expected "tx_hash": "0x<64 hex digits>" in the body')
        tx_hash = parse_hash(tx_text, "tx_hash")
        leaves = parse_hashes(body, content_type)
        if not leaves:
            raise NoDocuments("register at least one document hash")
        if len(leaves) > MAX_REGISTER_HASHES:
            raise TooManyDocuments(f"a registration carries at most {MAX_REGISTER_HASHES} hashes, got "
                                   f"{len(leaves)}", count=len(leaves), limit=MAX_REGISTER_HASHES)
        batch = await run_in_threadpool(checked_batch, chain, tx_hash, leaves)
        known = await run_in_threadpool(api.index.has_tx, tx_hash)
        if not known:
            await run_in_threadpool(api.index.add, [batch])
        registered: BatchRegistered = {
            "tx_hash": "0x" + tx_hash.hex(), "root": "0x" + batch.root.hex(), "height": batch.height,
            "documents": len(leaves), "indexed": True, "already_indexed": known}
        return _response(registered)

    async def document(request: Request) -> Response:
        doc = parse_hash(request.path_params["document"], "document SHA-256")
        first = await run_in_threadpool(api.index.first, doc)
        if first is None:
            raise UnknownDocument(
                f"node {node.config.name} knows no stamp of document 0x{doc.hex()}: the chain holds batch "
                "roots only; a node knows the documents it stamped or that were registered with it",
                document="0x" + doc.hex())
        receipt = await run_in_threadpool(document_receipt, chain, first)
        return _response(first_stamp_json(first, receipt))

    async def root(request: Request) -> Response:
        value = parse_hash(request.path_params["root"], "root")
        record = await run_in_threadpool(view, "get", value)
        if record is None:
            raise UnknownDocument(f"root 0x{value.hex()} was never anchored on this chain",
                                  root="0x" + value.hex())
        return _response({"height": chain.head.height, "anchored": to_json(record)})

    async def stamper(request: Request) -> Response:
        address = parse_address(request.path_params["address"])
        start = parse_uint(request.query_params.get("start", "1"), "start", minimum=1)
        limit = parse_uint(request.query_params.get("limit", "20"), "limit", minimum=1,
                           maximum=MAX_STAMPER_LIST)

        def read() -> tuple[int, list[Any]]:
            count = int(view("stamper_count", address))
            last = min(count, start + limit - 1)
            roots = [view("stamper_root", address, n) for n in range(start, last + 1)]
            return count, [to_json(view("get", r)) for r in roots]

        count, records = await run_in_threadpool(read)
        return _response({"stamper": format_address(address), "count": count, "start": start,
                          "roots": records})

    handlers: list[tuple[str, Callable[..., Any], list[str]]] = [
        ("/v1/notary/stamp", stamp, ["POST"]),
        ("/v1/notary/service", service_status, ["GET"]),
        ("/v1/notary/batches", register, ["POST"]),
        ("/v1/notary/documents/{document}", document, ["GET"]),
        ("/v1/notary/roots/{root}", root, ["GET"]),
        ("/v1/notary/stampers/{address}", stamper, ["GET"]),
    ]
    return [Route(path, handler, methods=methods) for path, handler, methods in handlers]


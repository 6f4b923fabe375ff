"""The REST API of a node (Starlette): transactions, blocks, accounts, proofs, live events.

Every error is JSON ``{"code": ..., "message": ..., "details": {...}}`` with an HTTP status
that fits it; ``code`` is the stable machine-readable reason the SDK and CLI act on.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import msgspec
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sse_starlette.sse import EventSourceResponse
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from consortia import __version__
from consortia.api.audit_routes import audit_routes, read_audit_for
from consortia.api.auth.gate import AuthGate
from consortia.api.auth.sessions import Sessions, load_secret
from consortia.api.auth_routes import auth_routes
from consortia.api.bills_routes import bills_routes
from consortia.api.bodies import decode_json, read_body, tx_body_limit
from consortia.api.cbdc_routes import cbdc_routes
from consortia.api.contract_routes import contract_routes
from consortia.api.docs_routes import docs_routes
from consortia.api.edge import edge_middleware
from consortia.api.energy_routes import energy_routes
from consortia.api.errors import RequestRefused
from consortia.api.explorer_routes import explorer_routes
from consortia.api.health_routes import health_routes
from consortia.api.index_routes import index_routes
from consortia.api.notary_routes import notary_routes
from consortia.api.openapi import openapi_spec
from consortia.api.params import parse_hash, parse_hex, parse_seconds, parse_uint, query_uint
from consortia.api.perm_routes import perm_routes
from consortia.api.privacy_routes import privacy_routes
from consortia.api.scf_routes import scf_routes
from consortia.api.stream_filter import stream_filter
from consortia.api.trace_routes import trace_routes
from consortia.api.tx_view import receipt_view, tx_view
from consortia.api.views import AdmittedView, BlockTxView, BlockView, TxCommittedView, TxDroppedView
from consortia.codec import decode, decode_any
from consortia.codec.plain import to_plain
from consortia.crypto.address import format_address, parse_address
from consortia.errors import ConsortiaError, DecodeError, NotFound, Timeout
from consortia.execution.accounts import account_key
from consortia.mempool.pool import Admitted
from consortia.node import queries
from consortia.node.evidence_book import EVIDENCE_PREFIX, EvidenceRecord, decode_evidence
from consortia.node.genesis import genesis_hash
from consortia.node.node import Node
from consortia.types.genesis import ChainParams

MAX_WAIT_SECONDS = 60.0
MAX_STATE_KEY_BYTES = 2048
MAX_BLOCK_LIST = 100
_json = msgspec.json.Encoder()


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        _json.encode(data), status_code=status, media_type="application/json", headers=headers
    )


def error_response(exc: ConsortiaError) -> Response:
    closing = isinstance(exc, RequestRefused) and exc.close_connection
    return json_response(exc.to_dict(), exc.http_status, {"connection": "close"} if closing else None)


def admitted_json(result: Admitted) -> AdmittedView:
    out: AdmittedView = {
        "tx_hash": "0x" + result.tx_hash.hex() if result.tx_hash else None,
        "accepted": result.error is None,
    }
    if result.error is not None:
        out["error"] = result.error.to_dict()
    return out


async def read_txs(request: Request, params: ChainParams, batch: bool) -> list[bytes]:
    """Transactions from a request: raw MessagePack, or JSON with 0x-hex wire bytes."""
    is_json = "json" in request.headers.get("content-type", "")
    body = await read_body(request, tx_body_limit(params, batch=batch, json=is_json))
    if is_json:
        data = decode_json(body)
        items = data.get("txs") if batch and isinstance(data, dict) else None
        if not batch and isinstance(data, dict):
            items = [data.get("tx")]
        if not isinstance(items, list) or not all(isinstance(t, str) for t in items):
            field = '{"txs": ["0x..."]}' if batch else '{"tx": "0x..."}'
            raise DecodeError(f"expected a JSON body like {field}")
        return [parse_hex(t, "a transaction", max_bytes=len(body)) for t in items]
    if batch:
        return list(decode_any(body, list[bytes]))
    return [body]


def consensus_status(node: Node) -> dict[str, Any]:
    if node.consensus is None:
        return {}
    return {
        **node.consensus.status(),
        "peers": node.peers.connected_peers() if node.peers is not None else [],
    }


def create_app(node: Node) -> Starlette:
    chain = node.chain

    def status(request: Request) -> Response:
        head = chain.head
        header = chain.head_header
        return json_response(
            {
                "chain_id": chain.chain_id,
                "suite": chain.suite.name,
                "genesis_hash": "0x" + genesis_hash(node.genesis).hex(),
                "node": node.config.name,
                "validator_index": node.config.validator_index,
                "validators": len(node.genesis.validators),
                "height": head.height,
                "block_id": "0x" + head.block_id.hex(),
                "state_root": "0x" + head.state_root.hex(),
                "round": header.round,
                "timestamp_ms": header.timestamp_ms,
                "mempool": len(chain.mempool),
                "max_block_txs": chain.params.max_block_txs,
                "version": __version__,
                "warnings": node.warnings,
                "api_access": "signed" if api_authenticates(node) else "open",
                **consensus_status(node),
            }
        )

    def genesis(request: Request) -> Response:
        return json_response(to_plain(node.genesis))

    async def submit_one(request: Request) -> Response:
        raws = await read_txs(request, chain.params, batch=False)
        result = (await node.submit(raws))[0]
        if result.error is not None:
            return error_response(result.error)
        return json_response(admitted_json(result), 202)

    async def submit_batch(request: Request) -> Response:
        raws = await read_txs(request, chain.params, batch=True)
        results = await node.submit(raws)
        accepted = sum(1 for r in results if r.error is None)
        return json_response(
            {"accepted": accepted, "rejected": len(results) - accepted,
             "results": [admitted_json(r) for r in results]},
            202,
        )

    def tx_json(tx_hash: bytes) -> TxCommittedView:
        committed, index, receipt = queries.committed_tx(chain, tx_hash)
        return {
            "tx_hash": "0x" + tx_hash.hex(),
            "status": "committed",
            "height": committed.block.header.height,
            "index": index,
            "block_id": "0x" + committed.qc.block_id.hex(),
            "receipt": receipt_view(receipt),
            "tx": "0x" + committed.block.txs[index].hex(),
            "decoded": tx_view(committed.block.txs[index], chain.suite),
        }

    def dropped_json(tx_hash: bytes) -> TxDroppedView | None:
        """An accepted transaction that left the pool uncommitted, with the reason (or None)."""
        reason = chain.mempool.dropped_reason(tx_hash)
        if reason is None or chain.store.has_tx(tx_hash):
            return None
        return {"tx_hash": "0x" + tx_hash.hex(), "status": "dropped", "reason": reason}

    def get_tx(request: Request) -> Response:
        tx_hash = parse_hash(request.path_params["tx_hash"], "transaction hash")
        if tx_hash in chain.mempool:
            return json_response({"tx_hash": "0x" + tx_hash.hex(), "status": "pending"})
        dropped = dropped_json(tx_hash)
        if dropped is not None:
            return json_response(dropped)
        return json_response(tx_json(tx_hash))

    async def wait_tx(request: Request) -> Response:
        tx_hash = parse_hash(request.path_params["tx_hash"], "transaction hash")
        timeout = parse_seconds(
            request.query_params.get("timeout", "30"), "timeout", maximum=MAX_WAIT_SECONDS
        )
        if chain.store.has_tx(tx_hash):
            return json_response(tx_json(tx_hash))
        dropped = dropped_json(tx_hash)
        if dropped is not None:
            return json_response(dropped)
        if tx_hash not in chain.mempool:
            raise NotFound(f"transaction 0x{tx_hash.hex()} is neither pending nor committed")
        fut = node.events.waiter(tx_hash)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        try:
            while not fut.done():  # wake now and then: the pool may drop it meanwhile
                left = deadline - loop.time()
                if left <= 0:
                    pending = tx_hash in chain.mempool
                    raise Timeout(
                        f"transaction 0x{tx_hash.hex()} did not commit within {timeout:g} s; "
                        + ("it is still pending and may yet commit (consortia tx 0x"
                           f"{tx_hash.hex()} tells)" if pending else "it is no longer pending"),
                        pending=pending,
                    )
                await asyncio.wait({fut}, timeout=min(left, 0.5))
                dropped = dropped_json(tx_hash)
                if dropped is not None and not fut.done():
                    return json_response(dropped)
        finally:
            node.events.drop_waiter(tx_hash, fut)
        return json_response(tx_json(tx_hash))

    def tx_proof(request: Request) -> Response:
        tx_hash = parse_hash(request.path_params["tx_hash"], "transaction hash")
        return json_response(to_plain(queries.receipt_proof(chain, tx_hash)))

    def block_json(height: int) -> BlockView:
        committed = chain.store.block(height)
        return {
            "id": "0x" + committed.qc.block_id.hex(),
            "header": to_plain(committed.block.header),
            "qc": to_plain(committed.qc),
            "txs": ["0x" + chain.hash(raw).hex() for raw in committed.block.txs],
            "transactions": block_transactions(height, committed.block.txs),
        }

    def block_transactions(height: int, txs: list[bytes]) -> list[BlockTxView]:
        """Each transaction of a block decoded, with its receipt's status and decoded events."""
        receipts = chain.store.receipts(height) if txs else []
        out = []
        for i, raw in enumerate(txs):
            view = tx_view(raw, chain.suite)
            if i < len(receipts):
                view["receipt"] = receipt_view(receipts[i])
            out.append(view)
        return out

    def get_block(request: Request) -> Response:
        ref = request.path_params["ref"]
        if ref == "latest":
            return json_response(block_json(chain.head.height))
        if ref.startswith("0x") or len(ref) == 64:
            return json_response(
                block_json(chain.store.height_of_block(parse_hash(ref, "block id")))
            )
        return json_response(block_json(parse_uint(ref, "block height")))

    def list_blocks(request: Request) -> Response:
        limit = min(query_uint(request, "limit", 20), MAX_BLOCK_LIST)
        top = min(chain.head.height, query_uint(request, "before", chain.head.height + 1) - 1)
        out = []
        for height in range(top, max(top - limit, -1), -1):
            committed = chain.store.block(height)
            h = committed.block.header
            out.append({
                "height": h.height, "id": "0x" + committed.qc.block_id.hex(),
                "timestamp_ms": h.timestamp_ms, "tx_count": h.tx_count,
                "proposer": h.proposer, "round": h.round,
            })
        return json_response({"blocks": out})

    def get_account(request: Request) -> Response:
        address = parse_address(request.path_params["address"])
        account = queries.account(chain, address)
        pending = chain.mempool.pending_count(address)
        return json_response({
            "address": format_address(address),
            "exists": account is not None,
            "balance": account.balance if account else 0,
            "nonce": account.nonce if account else 0,
            "next_nonce": (account.nonce if account else 0) + pending,
            "pending": pending,
            "height": chain.head.height,
        })

    def get_state(request: Request) -> Response:
        key = parse_hex(
            request.path_params["key"], "state key", min_bytes=1, max_bytes=MAX_STATE_KEY_BYTES
        )
        return json_response(to_plain(queries.state_value_proof(chain, key)))

    def account_proof(request: Request) -> Response:
        address = parse_address(request.path_params["address"])
        return json_response(to_plain(queries.state_value_proof(chain, account_key(address))))

    def evidence(request: Request) -> Response:
        out = []
        for key, raw in chain.store.state_scan(EVIDENCE_PREFIX):
            record = decode(raw, EvidenceRecord)
            ev = decode_evidence(record.evidence)
            out.append({"key": "0x" + key.hex(), "height": record.height,
                        "kind": type(ev).__name__, "offender": ev.offender, "round": ev.round,
                        "evidence": to_plain(ev)})
        return json_response({"evidence": out})

    async def events(request: Request) -> Response:
        try:
            queue = node.events.subscribe()
        except OverflowError as exc:
            return json_response({"code": "too_many_subscribers", "message": str(exc)}, 503)
        keep = stream_filter(getattr(request.state, "principal", None))  # a member: its own events

        async def stream() -> AsyncIterator[dict[str, str]]:
            try:
                while True:
                    message = await queue.get()
                    if message is None:
                        yield {"event": "error", "data": '{"code":"too_slow"}'}
                        return
                    if keep is not None and (message := keep(message)) is None:
                        continue
                    yield {"event": "block", "data": _json.encode(message).decode()}
            finally:
                node.events.unsubscribe(queue)

        return EventSourceResponse(stream(), ping=15)

    def metrics(request: Request) -> Response:
        return Response(generate_latest(node.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    def spec(request: Request) -> Response:
        return json_response(openapi_spec(str(request.base_url).rstrip("/") or "/"))

    async def on_error(request: Request, exc: Exception) -> Response:
        if isinstance(exc, ConsortiaError):
            return error_response(exc)
        if isinstance(exc, HTTPException):  # keeps its headers: Allow on every 405
            return json_response(
                {"code": "http_error", "message": exc.detail}, exc.status_code, exc.headers
            )
        return json_response({"code": "internal", "message": "internal error"}, 500)

    routes = [
        Route("/v1/status", status),
        Route("/v1/genesis", genesis),
        Route("/v1/txs", submit_batch, methods=["POST"]),
        Route("/v1/tx", submit_one, methods=["POST"]),
        Route("/v1/tx/{tx_hash}", get_tx),
        Route("/v1/tx/{tx_hash}/wait", wait_tx),
        Route("/v1/tx/{tx_hash}/proof", tx_proof),
        Route("/v1/blocks", list_blocks),
        Route("/v1/blocks/{ref}", get_block),
        Route("/v1/accounts/{address}", get_account),
        Route("/v1/accounts/{address}/proof", account_proof),
        Route("/v1/state/{key}", get_state),
        Route("/v1/events", events),
        Route("/v1/evidence", evidence),
        Route("/metrics", metrics),
        Route("/openapi.json", spec),
        *docs_routes(),
    ]
    routes += contract_routes(node) + perm_routes(node) + cbdc_routes(node) + index_routes(node)
    routes += notary_routes(node) + bills_routes(node)
    routes += health_routes(node)
    routes += privacy_routes(node)
    routes += energy_routes(node)
    routes += scf_routes(node)
    routes += trace_routes(node)
    routes += explorer_routes(node)
    handlers: dict[Any, Any] = {ConsortiaError: on_error, HTTPException: on_error}
    with contextlib.suppress(Exception):
        handlers[Exception] = on_error
    sessions = Sessions(lambda: load_secret(node.home))
    routes += auth_routes(sessions)
    read_audit = read_audit_for(node)
    routes += audit_routes(read_audit)
    gate = Middleware(AuthGate, routes=routes, chain_id=chain.chain_id, suite_name=chain.suite.name,
                      sessions=sessions, state_get=chain.store.snapshot,
                      enabled=lambda: api_authenticates(node),
                      read_audit=read_audit[0] if read_audit else None)  # fmt: skip
    middleware, budgets = edge_middleware(gate, routes, node.config.api_edge, node.metrics.registry)
    app = Starlette(routes=routes, exception_handlers=handlers, middleware=middleware)
    app.state.edge = budgets
    app.state.sessions = sessions
    return app


def api_authenticates(node: Node) -> bool:
    """Whether this node's API asks who is calling: on a chain with organisations whose node is
    configured to (``api_auth`` in node.json); a development chain's API stays open."""
    return node.config.api_auth and bool(node.genesis.orgs)

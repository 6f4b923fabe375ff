"""REST routes of healthcare records with consent (issue 12, apps/health).

Node side (only on a node whose node.json sets ``health.key_file``; else 404 ``health_store_off``):

* ``GET /v1/health/node``: this node's custodian address and X25519 sealing key (a hospital
  names them in ``health.put``), limits and counts.
* ``PUT /v1/health/records/{record}``: the ciphertext (``application/octet-stream``); kept only if
  its SHA-256 is ``record`` and the chain holds that record with this node as custodian.
* ``POST /v1/health/fetch``: a reader's signed fetch request (JSON ``{record, public_key,
  timestamp_ms, nonce, signature}``); answered with the ciphertext and the reader's sealed data
  key once the access is logged on chain; refused (403 ``no_access``) without a live grant or
  emergency opening.

Chain reads (every node answers the same):

* ``GET /v1/health/records/{record}``: hash, patient, hospital, custodian, sealed keys, and
  whether this node holds the ciphertext.
* ``GET /v1/health/records/{record}/log?start=N&limit=M``: the record's access log.
* ``GET /v1/health/records/{record}/grants/{address}``: a grant and whether access is live.
* ``GET /v1/health/patients/{address}``: a patient's records and emergency alerts.
* ``GET /v1/health/keys/{address}``: an identity's registered sealing key.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from consortia.api.bodies import JSON_BODY_LIMIT, read_body
from consortia.api.params import parse_hash, parse_uint
from consortia.api.views_health import HealthNodeView, RecordFetched, RecordStored
from consortia.apps.health.errors import BadRecordUpload, HealthOff
from consortia.apps.health.records import MAX_RECORD_BYTES, record_id
from consortia.apps.health.sdk import MAX_LOG_PAGE
from consortia.apps.health.service import HealthService, health_view, load_custodian_key, parse_fetch_request
from consortia.contracts.python.json_data import to_json
from consortia.crypto.address import format_address, parse_address
from consortia.node.node import Node

MAX_PATIENT_LIST = 100
_json = msgspec.json.Encoder()


def _response(data: Any, status: int = 200) -> Response:
    return Response(_json.encode(data), status_code=status, media_type="application/json")


def health_routes(node: Node) -> list[Route]:
    chain = node.chain
    config = node.config.health
    service = None if config is None else HealthService(node, load_custodian_key(node.home, config), config)

    def require_service() -> HealthService:
        if service is None:
            raise HealthOff(f"node {node.config.name} keeps no health records: set health.key_file in its "
                            "node.json (consortia health enable)")
        return service

    def view(method: str, *args: Any) -> Any:
        return health_view(chain, method, *args)

    def node_info(request: Request) -> Response:
        body: HealthNodeView = {"height": chain.head.height, **require_service().info()}
        return _response(body)

    async def upload(request: Request) -> Response:
        store = require_service()
        record = parse_hash(request.path_params["record"], "record")
        body = await read_body(request, min(store.config.max_record_bytes, MAX_RECORD_BYTES) + 1)
        if record_id(body) != record:
            raise BadRecordUpload(f"the body's SHA-256 is 0x{record_id(body).hex()}, not the record "
                                  f"0x{record.hex()} named in the path: nothing was stored")
        stored: RecordStored = await run_in_threadpool(store.upload, body)
        return _response(stored)

    async def fetch(request: Request) -> Response:
        store = require_service()
        body = await read_body(request, JSON_BODY_LIMIT)
        fetched: RecordFetched = await store.fetch(parse_fetch_request(body))
        return _response(fetched)

    async def record(request: Request) -> Response:
        value = parse_hash(request.path_params["record"], "record")
        entry = await run_in_threadpool(view, "record", value)
        held = service is not None and await run_in_threadpool(service.store.has, value)
        return _response({"height": chain.head.height, "record": to_json(entry), "stored_here": held})

    async def record_or_upload(request: Request) -> Response:
        return await (upload(request) if request.method == "PUT" else record(request))

    async def record_log(request: Request) -> Response:
        value = parse_hash(request.path_params["record"], "record")
        start = parse_uint(request.query_params.get("start", "1"), "start", minimum=1)
        limit = parse_uint(request.query_params.get("limit", str(MAX_LOG_PAGE)), "limit", minimum=1,
                           maximum=MAX_LOG_PAGE)

        def read() -> tuple[int, Any]:
            return view("log_count", value), view("log", value, start, limit)

        count, entries = await run_in_threadpool(read)
        return _response({"record": "0x" + value.hex(), "count": count, "start": start,
                          "log": to_json(entries)})

    async def grant(request: Request) -> Response:
        value = parse_hash(request.path_params["record"], "record")
        address = parse_address(request.path_params["address"])

        def read() -> tuple[Any, str]:
            return view("grant_of", value, address), view("access", value, address)

        given, access = await run_in_threadpool(read)
        return _response({"record": "0x" + value.hex(), "grantee": format_address(address),
                          "grant": to_json(given), "access": access})

    async def patient(request: Request) -> Response:
        address = parse_address(request.path_params["address"])

        def read() -> dict[str, Any]:
            count = int(view("patient_count", address))
            alerts = int(view("alert_count", address))
            return {"patient": format_address(address), "records": count, "alerts": alerts,
                    "record_ids": ["0x" + view("patient_record", address, n).hex()
                                   for n in range(1, min(count, MAX_PATIENT_LIST) + 1)],
                    "alert_list": [to_json(view("alert", address, n))
                                   for n in range(1, min(alerts, MAX_PATIENT_LIST) + 1)]}

        return _response(await run_in_threadpool(read))

    async def key(request: Request) -> Response:
        address = parse_address(request.path_params["address"])
        found = await run_in_threadpool(view, "key_of", address)
        return _response({"address": format_address(address),
                          "sealing_key": None if found is None else "0x" + found.hex()})

    handlers: list[tuple[str, Callable[..., Any], list[str]]] = [
        ("/v1/health/node", node_info, ["GET"]),
        ("/v1/health/fetch", fetch, ["POST"]),
        ("/v1/health/records/{record}", record_or_upload, ["GET", "PUT"]),
        ("/v1/health/records/{record}/log", record_log, ["GET"]),
        ("/v1/health/records/{record}/grants/{address}", grant, ["GET"]),
        ("/v1/health/patients/{address}", patient, ["GET"]),
        ("/v1/health/keys/{address}", key, ["GET"]),
    ]
    return [Route(path, handler, methods=methods) for path, handler, methods in handlers]

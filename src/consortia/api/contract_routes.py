"""REST routes for deployed Python contracts: info, source and read-only views.

| method | path | what |
|---|---|---|
| GET | `/v1/contracts/{name}` | version, code hash, owner, every version's code hash, methods |
| GET | `/v1/contracts/{name}/source?version=N` | the source of the current (or N-th) version |
| POST | `/v1/contracts/{name}/view/{method}` | run a `@view` on committed state: `{"args": [...]}` |

Arguments and results use the JSON view of plain data in
:mod:`consortia.contracts.python.json_data` (bytes as ``"0x…"``). Everything is read from
committed state, one consistent snapshot per request; errors are ``{code, message}``.
"""

from __future__ import annotations

from typing import Any

import msgspec
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from consortia.api.bodies import JSON_BODY_LIMIT, read_json
from consortia.api.params import query_uint
from consortia.api.views import ContractInfoView, ContractSourceView, ContractViewResult, MethodSpec
from consortia.contracts.python.host import PythonContractHost
from consortia.contracts.python.json_data import args_from_json, to_json
from consortia.contracts.python.layout import valid_name
from consortia.contracts.python.registry import ContractInfo, contract_info, read_source
from consortia.contracts.python.shapes import SCALARS, shape_json
from consortia.crypto.address import format_address
from consortia.errors import DecodeError, NotFound
from consortia.execution.context import BlockContext
from consortia.execution.state_view import StateReader
from consortia.node.node import Node

MAX_VIEW_BODY = JSON_BODY_LIMIT
_json = msgspec.json.Encoder()


def json_response(data: Any, status: int = 200) -> Response:
    return Response(_json.encode(data), status_code=status, media_type="application/json")


def info_json(info: ContractInfo, methods: dict[str, MethodSpec]) -> ContractInfoView:
    return {
        "name": info.name,
        "version": info.version,
        "code_hash": "0x" + info.code_hash.hex(),
        "owner": format_address(info.owner),
        "height": info.height,
        "versions": [{"version": i + 1, "code_hash": "0x" + h.hex()} for i, h in enumerate(info.versions)],
        "methods": methods,
    }


def methods_json(host: PythonContractHost, state: StateReader, name: str) -> dict[str, MethodSpec]:
    with host.lock:  # loading may compile, which borrows the shared meter
        loaded = host.loaded(state, name)
    return {
        m: {"kind": spec.kind, "params": list(spec.params),
            "types": [None if t is None else SCALARS[t] for t in spec.types],
            "returns": shape_json(spec.returns)}
        for m, spec in sorted(loaded.methods.items())
    }


def require_info(state: StateReader, name: str) -> ContractInfo:
    info = contract_info(state, name) if valid_name(name) else None
    if info is None:
        raise NotFound(f"no contract named {name!r}")
    return info


async def read_args(request: Request) -> list[Any]:
    data = await read_json(request, MAX_VIEW_BODY)
    if data is None:
        return []
    if not isinstance(data, dict) or set(data) - {"args"}:
        raise DecodeError('expected a JSON body like {"args": [...]}')
    return args_from_json(data.get("args", []))


def contract_routes(node: Node) -> list[Route]:
    chain = node.chain
    host = chain.contract_host

    def head_block() -> BlockContext:
        header = chain.head_header
        return BlockContext(chain.chain_id, header.height, header.timestamp_ms, header.proposer)

    def get_info(request: Request) -> Response:
        name = request.path_params["name"]
        with chain.store.snapshot() as state:
            info = require_info(state, name)
            return json_response(info_json(info, methods_json(host, state, name)))

    def get_source(request: Request) -> Response:
        name = request.path_params["name"]
        with chain.store.snapshot() as state:
            info = require_info(state, name)
            version = query_uint(request, "version", info.version)
            if not 1 <= version <= info.version:
                raise NotFound(f"{name!r} has versions 1 to {info.version}, not {version}")
            code_hash = info.versions[version - 1]
            source = read_source(state, code_hash)
        if source is None:
            raise NotFound(f"the code of {name!r} version {version} is missing from state")
        return json_response(ContractSourceView(name=name, version=version,
                                                code_hash="0x" + code_hash.hex(), source=source))

    def view_on_snapshot(block: BlockContext, name: str, method: str, args: list[Any]) -> Any:
        with chain.store.snapshot() as state:
            return host.run_view(state, block, name, method, args)

    async def run_view(request: Request) -> Response:
        name, method = request.path_params["name"], request.path_params["method"]
        args = await read_args(request)
        block = head_block()
        result = await run_in_threadpool(view_on_snapshot, block, name, method, args)
        return json_response(ContractViewResult(contract=name, method=method, height=block.height,
                                                result=to_json(result)))

    return [
        Route("/v1/contracts/{name}", get_info),
        Route("/v1/contracts/{name}/source", get_source),
        Route("/v1/contracts/{name}/view/{method}", run_view, methods=["POST"]),
    ]

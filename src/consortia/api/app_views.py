"""Read-only views of a genesis-deployed application on the committed head: what the REST
modules of the applications (bills, energy, scf, ...) share.

A view runs on a storage snapshot in a worker thread; an application not deployed on this chain
is a 404, and so is each of the application's own "no such object" refusal codes.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import msgspec
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from consortia.apps.cbdc.sdk import ViewCall
from consortia.contracts.python.errors import NoSuchContract, NoSuchMethod
from consortia.errors import ConsortiaError, NotFound
from consortia.execution.context import BlockContext
from consortia.node.node import Node

_json = msgspec.json.Encoder()


def json_response(data: Any) -> Response:
    return Response(_json.encode(data), media_type="application/json")


class AppViews:
    def __init__(self, node: Node, app: str, not_found_codes: Collection[str] = ()) -> None:
        self.chain = node.chain
        self.app = app
        self.not_found_codes = frozenset(not_found_codes)

    def head_block(self) -> BlockContext:
        header = self.chain.head_header
        return BlockContext(self.chain.chain_id, header.height, header.timestamp_ms, header.proposer)

    def run(self, block: BlockContext, call: ViewCall) -> Any:
        """The view's result on the committed state (blocking: call it from a worker thread)."""
        chain = self.chain
        with chain.store.snapshot() as state:
            try:
                return chain.contract_host.run_view(state, block, call.contract, call.method, call.args)
            except (NoSuchContract, NoSuchMethod):
                raise NotFound(f"the {self.app} application is not deployed on this chain") from None
            except ConsortiaError as exc:
                if exc.code in self.not_found_codes:
                    raise NotFound(exc.message) from None
                raise

    async def result(self, block: BlockContext, call: ViewCall) -> Any:
        return await run_in_threadpool(self.run, block, call)

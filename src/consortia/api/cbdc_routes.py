"""REST routes of the two-tier digital currency (issue 9, decision 0011).

| path | what |
|---|---|
| `GET /v1/cbdc/supply` | issued, redeemed, in circulation: of the chain and per organisation |
| `GET /v1/wallets/{address}` | a wallet's identity, tier, balance, tier limits and what it paid today |
| `GET /v1/reserves/{org}` | an organisation's reserve account: address, balance, freeze, supply |
| `GET /v1/escrows/{id}` | an escrow of the ``escrow`` application (its ``get`` view) |
| `GET /v1/earmarks/{id}` | earmarked funds of the ``earmark`` application |
| `GET /v1/resolve/{id}` | an identity-resolution request; the answer stays ciphertext (hex) |

Everything is read from committed state, one consistent snapshot per request; an unknown wallet,
organisation or record is a typed 404 (``not_found``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import msgspec
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from consortia.api.params import parse_uint
from consortia.codec.plain import to_plain
from consortia.contracts.native_currency import balance_of
from consortia.contracts.permissioned import identity_record, is_frozen, limits, monetary, org
from consortia.contracts.permissioned.limits import DAY_MS, MAX_NAME
from consortia.contracts.permissioned.policy import daily_total
from consortia.contracts.permissioned.records import SupplyTotals
from consortia.contracts.permissioned.store import StateGet
from consortia.contracts.python.errors import NoSuchContract, NoSuchMethod
from consortia.contracts.python.json_data import to_json
from consortia.crypto.address import format_address, parse_address
from consortia.errors import ConsortiaError, DecodeError, NotFound
from consortia.execution.context import BlockContext
from consortia.node.node import Node

ESCROW, EARMARK, RESOLVE = "escrow", "earmark", "resolve"
GET = "get"
MAX_RECORD_ID = 2**63 - 1
_json = msgspec.json.Encoder()
T = TypeVar("T")


def _response(data: Any, status: int = 200) -> Response:
    return Response(_json.encode(data), status_code=status, media_type="application/json")


# --- JSON views ---------------------------------------------------------------------------------


def totals_json(totals: SupplyTotals) -> dict[str, int]:
    return {"issued": totals.issued, "redeemed": totals.redeemed,
            "in_circulation": totals.issued - totals.redeemed}


def supply_json(state_get: StateGet) -> dict[str, Any]:
    found = monetary.supply(state_get)
    return {"issued": found.issued, "redeemed": found.redeemed, "in_circulation": found.in_circulation,
            "by_org": {name: totals_json(t) for name, t in sorted(found.by_org.items())}}


def wallet_json(state_get: StateGet, address: bytes, timestamp_ms: int) -> dict[str, Any]:
    """Identity, tier, balance, the tier's limits and today's payments of ``address`` (404 if it
    has no identity). ``today`` is the UTC day of ``timestamp_ms`` (the head block's time)."""
    record = identity_record(state_get, address)
    if record is None:
        raise NotFound(f"{format_address(address)} is no wallet (it has no identity)",
                       address=format_address(address))
    tier_limits = limits(state_get, record.kyc_tier)
    spent = daily_total(state_get, address, timestamp_ms)
    balance = balance_of(state_get, address)
    remaining_today = None if tier_limits.daily is None else max(0, tier_limits.daily - spent)
    room = None if tier_limits.balance is None else max(0, tier_limits.balance - balance)
    return {
        "address": format_address(address), "org": record.org, "role": record.role,
        "wallet": record.role == "wallet", "tier": record.kyc_tier, "status": record.status,
        "commitment": "0x" + record.pii_hash.hex(), "opened_height": record.enrolled_height,
        "opened_by": format_address(record.enrolled_by) if record.enrolled_by else None,
        "closed_height": record.revoked_height, "frozen": is_frozen(state_get, address),
        "balance": balance, "limits": to_plain(tier_limits),
        "day": timestamp_ms // DAY_MS, "spent_today": spent,
        "remaining_today": remaining_today, "balance_room": room,
    }  # fmt: skip


def reserve_json(state_get: StateGet, name: str) -> dict[str, Any]:
    record = org(state_get, name)
    if record is None:
        raise NotFound(f"no organisation {name!r}", org=name)
    address = monetary.reserve_address(name)
    mine = next((t for n, t in monetary.supply(state_get).by_org.items() if n == name), SupplyTotals())
    return {"org": name, "role": record.role, "status": record.status,
            "address": format_address(address), "balance": balance_of(state_get, address),
            "frozen": is_frozen(state_get, address), "supply": totals_json(mine)}


def _org_name(text: str) -> str:
    if not 1 <= len(text) <= MAX_NAME:
        raise DecodeError(f"an organisation name is 1 to {MAX_NAME} characters, got {len(text)}")
    return text


# --- routes -------------------------------------------------------------------------------------


def cbdc_routes(node: Node) -> list[Route]:
    chain = node.chain
    store = chain.store

    def with_state(build: Callable[[StateGet], T]) -> T:
        with store.snapshot() as snap:
            return build(snap.get)

    def head_block() -> BlockContext:
        header = chain.head_header
        return BlockContext(chain.chain_id, header.height, header.timestamp_ms, header.proposer)

    def get_supply(request: Request) -> Response:
        height = chain.head.height
        return _response({"height": height, **with_state(supply_json)})

    def get_wallet(request: Request) -> Response:
        address = parse_address(request.path_params["address"])
        block = head_block()
        data = with_state(lambda sg: wallet_json(sg, address, block.timestamp_ms))
        return _response({"height": block.height, **data})

    def get_reserve(request: Request) -> Response:
        name = _org_name(request.path_params["org"])
        return _response({"height": chain.head.height, **with_state(lambda sg: reserve_json(sg, name))})

    def app_view(contract: str, what: str) -> Callable[[Request], Any]:
        def run(block: BlockContext, record_id: int) -> Any:
            with store.snapshot() as state:
                try:
                    return chain.contract_host.run_view(state, block, contract, GET, [record_id])
                except (NoSuchContract, NoSuchMethod):
                    raise NotFound(f"the {contract!r} application is not deployed on this chain") from None
                except ConsortiaError as exc:
                    if exc.code.startswith(("unknown_", "no_such_")) or "not_found" in exc.code:
                        raise NotFound(exc.message, id=record_id) from None
                    raise

        async def handler(request: Request) -> Response:
            record_id = parse_uint(request.path_params["record_id"], f"{what} id", maximum=MAX_RECORD_ID)
            block = head_block()
            result = await run_in_threadpool(run, block, record_id)
            if result is None:
                raise NotFound(f"no {what} with id {record_id}", id=record_id)
            return _response({"id": record_id, "height": block.height, what: to_json(result)})

        return handler

    return [
        Route("/v1/cbdc/supply", get_supply),
        Route("/v1/wallets/{address}", get_wallet),
        Route("/v1/reserves/{org}", get_reserve),
        Route("/v1/escrows/{record_id}", app_view(ESCROW, "escrow")),
        Route("/v1/earmarks/{record_id}", app_view(EARMARK, "earmark")),
        Route("/v1/resolve/{record_id}", app_view(RESOLVE, "request")),
    ]

"""REST routes of supply-chain finance and credit records (issue 11, decisions/0017). Read-only:
every action is a signed transaction calling the ``scf`` or ``credit`` contract (``POST /v1/tx``).

| path | what |
|---|---|
| `GET /v1/scf/payables?start=N&limit=N` | every payable from id `start` (the regulator's view) |
| `GET /v1/scf/payables/{id}` | one payable and every part of it |
| `GET /v1/scf/parts?holder=0x…&start=N&limit=N` | the unpaid parts a holder holds now |
| `GET /v1/scf/parts/{id}` | one part: holder, amount, previous holders, offer, financing, claim |
| `GET /v1/scf/parts/{id}/quote?amount=N&rate_bps=R&at_ms=T` | financing terms (ACT/360) |
| `GET /v1/scf/lines/{core}` | a core enterprise's credit line: bank, limit, used, available |
| `GET /v1/scf/invoices/{hash}` | an invoice as registered: parties, amount, status, locked |
| `GET /v1/scf/credit/loans/{id}` | one loan record (commitment, amount, dates, status now) |
| `GET /v1/scf/credit/log/{borrower}?start=N&limit=N` | every credit query of a borrower |
| `GET /v1/scf/credit/consents/{borrower}/{lender}` | the borrower's consent for a lender |

A borrower's totals across lenders are not here: they are answered only to a consented lender
(or the regulator) by the logged ``credit.query`` transaction. Everything is read from committed
state, one snapshot per request, addresses and hashes as ``0x`` text; an unknown payable, part,
invoice or loan is a typed 404 (``not_found``).
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from consortia.api.app_views import AppViews, json_response
from consortia.api.params import parse_uint, query_uint
from consortia.apps.scf import sdk as apps
from consortia.contracts.python.json_data import to_json
from consortia.crypto.address import parse_address
from consortia.errors import DecodeError, NotFound
from consortia.node.node import Node

MAX_ID = 2**63 - 1
MAX_MS = 2**63 - 1
MAX_AMOUNT = 2**64 - 1
NOT_FOUND = ("payable_not_found", "part_not_found", "invoice_not_found", "loan_not_found")


def parse_hash(text: str, what: str) -> bytes:
    """A 32-byte hash written as ``0x`` + 64 hex digits."""
    body = text[2:] if text.startswith("0x") else ""
    if len(body) != 2 * apps.HASH_BYTES or any(c not in "0123456789abcdefABCDEF" for c in body):
        raise DecodeError(f"{what} is 0x + 64 hex digits, got {text[:80]!r}")
    return bytes.fromhex(body)


def scf_routes(node: Node) -> list[Route]:
    views = AppViews(node, "scf", NOT_FOUND)
    head_block, run = views.head_block, views.run

    async def answer(calls: dict[str, apps.ViewCall], **extra: Any) -> Response:
        block = head_block()
        out: dict[str, Any] = {"height": block.height, **extra}
        for key, call in calls.items():
            out[key] = to_json(await run_in_threadpool(run, block, call))
        return json_response(out)

    def path_id(request: Request, what: str) -> int:
        return parse_uint(request.path_params["id"], what, minimum=1, maximum=MAX_ID)

    def required_uint(request: Request, name: str, maximum: int) -> int:
        text = request.query_params.get(name)
        if text is None:
            raise DecodeError(f"give ?{name}= (an integer from 1 to {maximum})")
        return parse_uint(text, name, minimum=1, maximum=maximum)

    def page(request: Request, first: int) -> tuple[int, int]:
        start = query_uint(request, "start", first, maximum=MAX_ID)
        return start, query_uint(request, "limit", apps.MAX_LIST, minimum=1, maximum=apps.MAX_LIST)

    async def list_payables(request: Request) -> Response:
        start, limit = page(request, 1)
        return await answer({"payables": apps.payables_list(max(start, 1), limit)})

    async def get_payable(request: Request) -> Response:
        found = path_id(request, "payable id")
        return await answer({"payable": apps.payable(found), "parts": apps.parts_of(found)}, id=found)

    async def list_parts(request: Request) -> Response:
        holder = request.query_params.get("holder")
        if holder is None:
            raise DecodeError("give ?holder=0x… (every payable, with its parts, is under /v1/scf/payables)")
        address = parse_address(holder)
        start, limit = page(request, 0)
        return await answer({"parts": apps.held_by(address, start, limit)}, holder=holder)

    async def get_part(request: Request) -> Response:
        found = path_id(request, "part id")
        return await answer({"part": apps.part(found)}, id=found)

    async def get_quote(request: Request) -> Response:
        found = path_id(request, "part id")
        amount = required_uint(request, "amount", MAX_AMOUNT)
        rate = required_uint(request, "rate_bps", apps.MAX_RATE_BPS)
        at_ms = query_uint(request, "at_ms", 0, maximum=MAX_MS)
        block = head_block()
        result = await run_in_threadpool(run, block, apps.quote(found, amount, rate, at_ms))
        return json_response({"height": block.height, "id": found, "amount": amount, "rate_bps": rate,
                          **to_json(result)})  # fmt: skip

    async def get_line(request: Request) -> Response:
        core = parse_address(request.path_params["core"])
        block = head_block()
        line = await run_in_threadpool(run, block, apps.line(core))
        if not line:
            raise NotFound(f"{request.path_params['core']} has no credit line")
        return json_response({"height": block.height, "line": to_json(line)})

    async def get_invoice(request: Request) -> Response:
        digest = parse_hash(request.path_params["hash"], "an invoice hash")
        return await answer({"invoice": apps.invoice(digest)})

    async def get_loan(request: Request) -> Response:
        found = path_id(request, "loan id")
        return await answer({"loan": apps.loan(found)}, id=found)

    async def get_log(request: Request) -> Response:
        borrower = parse_address(request.path_params["borrower"])
        start, limit = page(request, 0)
        return await answer({"log": apps.query_log(borrower, start, limit)},
                            borrower=request.path_params["borrower"])  # fmt: skip

    async def get_consent(request: Request) -> Response:
        borrower = parse_address(request.path_params["borrower"])
        lender = parse_address(request.path_params["lender"])
        block = head_block()
        grant = await run_in_threadpool(run, block, apps.consent_of(borrower, lender))
        return json_response({"height": block.height, "consent": to_json(grant) if grant else None})

    return [
        Route("/v1/scf/payables", list_payables),
        Route("/v1/scf/payables/{id}", get_payable),
        Route("/v1/scf/parts", list_parts),
        Route("/v1/scf/parts/{id}", get_part),
        Route("/v1/scf/parts/{id}/quote", get_quote),
        Route("/v1/scf/lines/{core}", get_line),
        Route("/v1/scf/invoices/{hash}", get_invoice),
        Route("/v1/scf/credit/loans/{id}", get_loan),
        Route("/v1/scf/credit/log/{borrower}", get_log),
        Route("/v1/scf/credit/consents/{borrower}/{lender}", get_consent),
    ]

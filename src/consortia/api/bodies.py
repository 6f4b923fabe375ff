"""Reading request bodies: streamed, bounded in size and time, and JSON bounded in depth.

Every route that reads a body goes through :func:`read_body` (or :func:`read_json`). The body is
read chunk by chunk and refused with a typed 413 (:class:`~consortia.api.errors.BodyTooLarge`)
as soon as it crosses the route's limit, whether or not a ``Content-Length`` was sent; the rest
is never read and the connection is closed. Limits (see docs/decisions/0006-api-input-limits.md):

- transaction routes: derived from the chain parameters in force, :func:`tx_body_limit`;
- JSON bodies of other routes (contract views, permission routes): :data:`JSON_BODY_LIMIT`.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import msgspec
from starlette.requests import ClientDisconnect, Request

from consortia.api.errors import BodyTimeout, BodyTooLarge, ClientGone
from consortia.api.params import parse_uint
from consortia.errors import DecodeError
from consortia.types.genesis import ChainParams

JSON_BODY_LIMIT = 1024 * 1024
"""Bytes of a JSON request body that is not a transaction batch (contract views and calls)."""
MAX_JSON_DEPTH = 64
"""Nesting of arrays and objects in any JSON body; deeper is a 400, never a RecursionError."""
BODY_TIMEOUT = 60.0
"""Seconds for a whole request body to arrive once its headers are in (slow senders: 408)."""
TX_OVERHEAD = 16
"""Bytes per transaction beyond its wire bytes: MessagePack bin header, or JSON quotes, ``0x``,
comma and indentation."""
ENVELOPE = 1024
"""Bytes of a batch's framing: the MessagePack array header, or ``{"txs": [ ... ]}``."""


def tx_body_limit(params: ChainParams, *, batch: bool, json: bool) -> int:
    """The largest body a transaction route reads, from the chain's parameters.

    A batch holds at most ``max_batch_txs`` transactions of at most ``max_tx_bytes`` each; in
    JSON each is hex, twice as long. Anything larger could only be refused after reading it.
    """
    count = params.max_batch_txs if batch else 1
    per_tx = (2 if json else 1) * params.max_tx_bytes + TX_OVERHEAD
    return count * per_tx + ENVELOPE


def declared_length(request: Request) -> int | None:
    text = request.headers.get("content-length")
    return None if text is None else parse_uint(text.strip(), "Content-Length header")


async def read_body(request: Request, limit: int, timeout: float | None = None) -> bytes:
    """The request body, refused as soon as it is known to exceed ``limit`` bytes.

    A declared ``Content-Length`` over the limit is refused before reading anything; a chunked
    (or lying) body is refused at the first chunk that crosses it. The whole body must arrive
    within ``timeout`` seconds (default :data:`BODY_TIMEOUT`).
    """
    declared = declared_length(request)
    if declared is not None and declared > limit:
        raise BodyTooLarge(
            f"request body is {declared} bytes; this route takes at most {limit}", limit=limit
        )
    seconds = BODY_TIMEOUT if timeout is None else timeout
    buf = bytearray()
    try:
        async with asyncio.timeout(seconds):
            async with contextlib.aclosing(request.stream()) as stream:
                async for chunk in stream:
                    if len(buf) + len(chunk) > limit:
                        raise BodyTooLarge(
                            f"request body is over this route's limit of {limit} bytes", limit=limit
                        )
                    buf += chunk
    except TimeoutError:
        raise BodyTimeout(f"request body did not arrive within {seconds:g} s") from None
    except ClientDisconnect:
        raise ClientGone("the client disconnected before sending its whole body") from None
    return bytes(buf)


def decode_json(body: bytes, what: str = "request body") -> Any:
    """JSON ``body`` as plain Python values, nested at most :data:`MAX_JSON_DEPTH` deep."""
    too_deep = DecodeError(f"{what} is nested deeper than {MAX_JSON_DEPTH} levels")
    try:
        data = msgspec.json.decode(body)
    except RecursionError:  # msgspec's C decoder stops at the interpreter's recursion limit
        raise too_deep from None
    except msgspec.DecodeError as exc:
        raise DecodeError(f"{what} is not JSON: {exc}") from None
    if json_depth(data) > MAX_JSON_DEPTH:
        raise too_deep
    return data


def json_depth(value: Any) -> int:
    """How deeply arrays and objects nest in ``value`` (0 for a scalar); iterative."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)] if isinstance(value, dict | list) else []
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        children = item.values() if isinstance(item, dict) else item
        stack.extend((c, depth + 1) for c in children if isinstance(c, dict | list))
    return deepest


async def read_json(request: Request, limit: int = JSON_BODY_LIMIT) -> Any:
    """The request body as bounded JSON; ``None`` for an empty (or all-blank) body."""
    body = await read_body(request, limit)
    if not body.strip():
        return None
    return decode_json(body)

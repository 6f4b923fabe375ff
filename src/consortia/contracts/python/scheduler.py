"""Scheduled calls: a contract asks for one of its methods to run at a later block height.

``self.schedule(height, method, *args)`` records the call; after the transactions of block
``height`` the executor's end-of-block hook runs the calls due, in the order they were
scheduled, each as the contract itself (``caller`` = its own address) with its own step
budget and its own receipt (appended after the block's transaction receipts, so the block's
``receipts_root`` covers it). A failing call changes nothing but its receipt. At most
``MAX_SCHEDULED_PER_BLOCK`` run per block; the rest run in the next blocks, still in order.

State: ``c/sched/cursor`` = the next ``[height, seq]`` to run; ``c/sched/n/<height>`` = calls
scheduled at that height; ``c/sched/<height>/<seq>`` = ``[contract, method, args]`` (deleted
once run).
"""

from __future__ import annotations

import hashlib
import struct
from typing import TYPE_CHECKING, Any

from consortia.codec import decode_any, encode
from consortia.contracts.python.errors import BadArguments, ResourceLimit
from consortia.contracts.python.limits import (
    MAX_SCHEDULE_AHEAD,
    MAX_SCHEDULE_SCAN,
    MAX_SCHEDULED_PER_BLOCK,
    MAX_SCHEDULED_PER_HEIGHT,
    MAX_STORED_VALUE_BYTES,
)
from consortia.contracts.python.plain_data import encode_plain
from consortia.errors import ConsortiaError
from consortia.execution.context import BlockContext, CallContext, TxState
from consortia.execution.state_view import StateReader
from consortia.types.receipt import Receipt

if TYPE_CHECKING:
    from consortia.contracts.python.frame import Frame
    from consortia.contracts.python.host import PythonContractHost

CURSOR_KEY = b"c/sched/cursor"
SCHEDULED_DOMAIN = b"consortia/scheduled\x00"
_HEIGHT = struct.Struct(">Q")
_SEQ = struct.Struct(">I")


def count_key(height: int) -> bytes:
    return b"c/sched/n/" + _HEIGHT.pack(height)


def entry_key(height: int, seq: int) -> bytes:
    return b"c/sched/e/" + _HEIGHT.pack(height) + _SEQ.pack(seq)


def scheduled_hash(chain_id: str, height: int, seq: int) -> bytes:
    """The id of a scheduled call's receipt (it has no transaction)."""
    tail = _HEIGHT.pack(height) + _SEQ.pack(seq)
    return hashlib.sha256(SCHEDULED_DOMAIN + chain_id.encode() + tail).digest()


def _int(state: StateReader | TxState, key: bytes) -> int:
    raw = state.get(key)
    return 0 if raw is None else int(decode_any(raw, int))


def schedule(frame: Frame, height: Any, method: Any, args: list[Any]) -> int:
    """Record ``method(*args)`` of the frame's contract to run at ``height``; its id."""
    frame.check_writable("schedule calls")
    now = frame.block.height
    valid = isinstance(height, int) and not isinstance(height, bool)
    if not valid or not now < height <= now + MAX_SCHEDULE_AHEAD:
        raise BadArguments(
            f"schedule() takes a height after the current block {now} and at most "
            f"{MAX_SCHEDULE_AHEAD} blocks ahead; got {height!r}"
        )
    if not isinstance(method, str) or not method:
        raise BadArguments("schedule() takes a method name")
    state = frame.state
    seq = _int(state, count_key(height))
    if seq >= MAX_SCHEDULED_PER_HEIGHT:
        raise ResourceLimit(f"height {height} already has {MAX_SCHEDULED_PER_HEIGHT} scheduled calls")
    payload = encode_plain([frame.contract, method, list(args)], "scheduled call", MAX_STORED_VALUE_BYTES)
    state.set(entry_key(height, seq), payload)
    state.set(count_key(height), encode(seq + 1))
    cursor = state.get(CURSOR_KEY)
    if cursor is None:
        state.set(CURSOR_KEY, encode([now + 1, 0]))
    return (height << 32) | seq


def run_due(
    host: PythonContractHost, view: StateReader, writes: dict[bytes, bytes | None], block: BlockContext
) -> list[Receipt]:
    """Run the calls due at or before ``block.height`` (bounded); their receipts. ``writes`` is
    the block's write set under ``view`` and receives every successful call's writes."""
    raw = view.get(CURSOR_KEY)
    if raw is None:
        return []
    height, seq = decode_any(raw, tuple[int, int])
    start = (height, seq)
    receipts: list[Receipt] = []
    scanned = 0
    while height <= block.height and len(receipts) < MAX_SCHEDULED_PER_BLOCK and scanned < MAX_SCHEDULE_SCAN:
        count = _int(view, count_key(height))
        if seq < count:
            receipts.append(_run_one(host, view, writes, block, height, seq))
            writes[entry_key(height, seq)] = None
            seq += 1
            continue
        if count:
            writes[count_key(height)] = None
        height, seq, scanned = height + 1, 0, scanned + 1
    if (height, seq) != start:
        writes[CURSOR_KEY] = encode([height, seq])
    return receipts


def _run_one(
    host: PythonContractHost,
    view: StateReader,
    writes: dict[bytes, bytes | None],
    block: BlockContext,
    height: int,
    seq: int,
) -> Receipt:
    tx_hash = scheduled_hash(block.chain_id, height, seq)
    raw = view.get(entry_key(height, seq))
    if raw is None:  # cannot happen: entries are deleted only after they run
        return Receipt(tx_hash, "missing_scheduled_call", "scheduled call record missing", 0, [])
    contract, method, args = decode_any(raw, tuple[str, str, list[Any]])
    ctx = CallContext(
        sender=host.address_of(contract), tx_hash=tx_hash, block=block, state=TxState(view)
    )
    try:
        host.call_scheduled(ctx, contract, method, args)
    except ConsortiaError as exc:
        return Receipt(tx_hash, exc.code, exc.message, ctx.steps, [])
    writes.update(ctx.state.writes)
    return Receipt(tx_hash, "ok", "", ctx.steps, ctx.events)

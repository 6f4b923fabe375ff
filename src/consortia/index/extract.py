"""From one committed block and its receipts to the rows the index holds for it (pure).

Nothing is re-executed: every row comes from the block's transactions and what their receipts
say happened. Money movements come from the events every balance change emits:

* ``currency.Transfer [from, to, amount]`` — emitted by ``native_currency.move``, the one way
  balances move between accounts (native transfers, funding from a reserve, attached values,
  contract payouts, wallet sweeps). Its *kind* says which, from the call that caused it:
  ``transfer`` (``currency.transfer``), ``fund`` (``currency.fund``), ``sweep``
  (``identity.close_wallet``), ``value`` (the sender's attached value into the called
  contract), ``payout`` (a contract paying out, scheduled calls included);
* ``currency.Issued [bank, amount, by]`` — money created into the bank's reserve (``issue``);
* ``currency.Redeemed [bank, amount, by]`` — money destroyed from the bank's reserve (``redeem``);
* genesis allocations, at height 0 (``genesis``).

Each movement gives an ``out`` row in the payer's history and an ``in`` row in the payee's,
each naming the other as counterparty; each transaction gives its sender a ``call`` row with
the contract, method and status (failed transactions included). Application objects: alerts,
governance proposals and votes, wallets; any event (Python contract applications included) is
kept with its decoded fields, and every 20-byte address in its fields is a *party* of it, so
the objects of applications built later are found by holder or party with no change here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import msgspec

from consortia.api.event_parties import ADDRESS_BYTES, event_parties
from consortia.api.tx_view import args_view, event_fields
from consortia.codec import decode
from consortia.contracts.permissioned.monetary import reserve_address
from consortia.contracts.permissioned.records import Alert
from consortia.contracts.python.api import address_of
from consortia.crypto.address import address_from_public_key
from consortia.crypto.suites import Suite
from consortia.index.trace_extract import TRACE, trace_rows
from consortia.types.block import CommittedBlock
from consortia.types.genesis import Genesis
from consortia.types.receipt import Event, Receipt
from consortia.types.transaction import SignedTx, TxBody

GENESIS_TX_IDX = -1

_ANY = msgspec.msgpack.Decoder()
_JSON = msgspec.json.Encoder(order="sorted")

Row = dict[str, Any]


@dataclass(frozen=True, slots=True)
class ObjectChange:
    """An insert-or-update of one object row: ``key`` names it, ``values`` are set."""

    table: str
    key: Row
    values: Row


@dataclass(slots=True)
class BlockRows:
    """Everything the index adds for one block, by table name (see :mod:`.schema`)."""

    height: int
    block_id: bytes
    rows: dict[str, list[Row]] = field(default_factory=dict)
    objects: list[ObjectChange] = field(default_factory=list)

    def add(self, table: str, row: Row) -> None:
        self.rows.setdefault(table, []).append(row)


@dataclass(frozen=True, slots=True)
class _Call:
    """What a receipt's transaction asked for (``None`` fields for a scheduled call)."""

    sender: bytes | None
    contract: str | None
    method: str | None
    value: int


def to_json(value: Any) -> str:
    """Canonical JSON text (sorted keys) of plain data."""
    return _JSON.encode(value).decode()


def block_rows(
    committed: CommittedBlock, receipts: list[Receipt], suite: Suite, genesis: Genesis | None = None
) -> BlockRows:
    """The rows of one block. ``genesis`` (needed at height 0 only) gives the allocations."""
    header = committed.block.header
    out = BlockRows(header.height, committed.qc.block_id)
    out.add("blocks", {
        "height": header.height, "block_id": committed.qc.block_id,
        "timestamp_ms": header.timestamp_ms, "round": header.round, "proposer": header.proposer,
        "tx_count": header.tx_count, "receipt_count": len(receipts), "state_root": header.state_root,
    })  # fmt: skip
    if header.height == 0 and genesis is not None:
        for seq, alloc in enumerate(genesis.allocations):
            _movement(out, GENESIS_TX_IDX, seq, None, "genesis", None, alloc.address, alloc.balance,
                      _Call(None, None, None, 0), "ok")  # fmt: skip
    txs = committed.block.txs
    for idx, receipt in enumerate(receipts):
        raw = txs[idx] if idx < len(txs) else None
        _receipt_rows(out, idx, raw, receipt, suite, header.timestamp_ms)
    return out


def receipt_rows(
    out: BlockRows, idx: int, raw: bytes | None, receipt: Receipt, suite: Suite, timestamp_ms: int
) -> None:
    """Add the rows of one receipt (its transaction's ``raw`` bytes, ``None`` for a scheduled
    call) at position ``idx`` of the block ``out`` is for: what :func:`block_rows` does per receipt."""
    _receipt_rows(out, idx, raw, receipt, suite, timestamp_ms)


def _decode_tx(raw: bytes, suite: Suite) -> tuple[TxBody | None, bytes | None]:
    try:
        body = decode(decode(raw, SignedTx).body, TxBody)
    except Exception:  # a committed transaction always decodes; never fail the indexer on it
        return None, None
    try:
        return body, address_from_public_key(suite, body.public_key)
    except Exception:  # a key of the wrong shape has no address
        return body, None


def _receipt_rows(
    out: BlockRows, idx: int, raw: bytes | None, receipt: Receipt, suite: Suite, timestamp_ms: int
) -> None:
    height = out.height
    body, sender = _decode_tx(raw, suite) if raw is not None else (None, None)
    call = body.call if body is not None else None
    the_call = _Call(sender, call.contract if call else None, call.method if call else None,
                     call.value if call else 0)  # fmt: skip
    args = None
    if call is not None:
        args = to_json(args_view(call.contract, call.method, call.args)[0])
    out.add("txs", {
        "height": height, "idx": idx, "tx_hash": receipt.tx_hash, "scheduled": raw is None,
        "sender": sender, "nonce": body.nonce if body else None, "contract": the_call.contract,
        "method": the_call.method, "value": the_call.value, "args": args, "status": receipt.status,
        "error": receipt.error, "steps": receipt.steps, "event_count": len(receipt.events),
    })  # fmt: skip
    if sender is not None:
        out.add("account_history", {
            "address": sender, "height": height, "tx_idx": idx, "seq": 0, "role": "call",
            "kind": None, "counterparty": None, "amount": None, "tx_hash": receipt.tx_hash,
            "contract": the_call.contract, "method": the_call.method, "status": receipt.status,
        })  # fmt: skip
    seq = 0
    value_seen = False
    for ev_idx, event in enumerate(receipt.events):
        fields = event_fields(event.contract, event.name, event.data)
        out.add("events", {
            "height": height, "tx_idx": idx, "ev_idx": ev_idx, "tx_hash": receipt.tx_hash,
            "contract": event.contract, "name": event.name, "data": event.data,
            "fields": to_json(fields),
        })  # fmt: skip
        for party in event_parties(event.data):
            out.add("event_parties", {"address": party, "height": height, "tx_idx": idx,
                                      "ev_idx": ev_idx, "contract": event.contract})
        moved = _money(event, the_call, value_seen)
        if moved is not None:
            kind, frm, to, amount = moved
            value_seen = value_seen or kind == "value"
            _movement(out, idx, seq, receipt.tx_hash, kind, frm, to, amount, the_call, receipt.status)
            seq += 1
        _objects(out, idx, ev_idx, event, receipt.tx_hash, timestamp_ms)


def _money(event: Event, call: _Call, value_seen: bool) -> tuple[str, bytes | None, bytes | None, int] | None:
    """``(kind, from, to, amount)`` of a currency event that moves, creates or destroys money."""
    if event.contract != "currency":
        return None
    try:
        value = _ANY.decode(event.data)
    except Exception:  # not MessagePack: not a movement this index knows
        return None
    if not isinstance(value, list) or len(value) != 3:
        return None
    if event.name == "Transfer" and _is_address(value[0]) and _is_address(value[1]) and _is_amount(value[2]):
        frm, to, amount = bytes(value[0]), bytes(value[1]), int(value[2])
        return _transfer_kind(call, frm, to, amount, value_seen), frm, to, amount
    if event.name == "Issued" and isinstance(value[0], str) and _is_amount(value[1]):
        return "issue", None, reserve_address(value[0]), int(value[1])
    if event.name == "Redeemed" and isinstance(value[0], str) and _is_amount(value[1]):
        return "redeem", reserve_address(value[0]), None, int(value[1])
    return None


def _transfer_kind(call: _Call, frm: bytes, to: bytes, amount: int, value_seen: bool) -> str:
    if call.contract == "currency" and call.method == "transfer":
        return "transfer"
    if call.contract == "currency" and call.method == "fund":
        return "fund"
    if call.contract == "identity" and call.method == "close_wallet":
        return "sweep"
    if (not value_seen and call.value and call.contract is not None and frm == call.sender
            and amount == call.value and to == address_of(call.contract)):
        return "value"
    return "payout"


def _movement(
    out: BlockRows, idx: int, seq: int, tx_hash: bytes | None, kind: str,
    frm: bytes | None, to: bytes | None, amount: int, call: _Call, status: str,
) -> None:  # fmt: skip
    out.add("movements", {"height": out.height, "tx_idx": idx, "seq": seq, "tx_hash": tx_hash,
                          "kind": kind, "from_addr": frm, "to_addr": to, "amount": amount})
    common = {"height": out.height, "tx_idx": idx, "kind": kind, "amount": amount,
              "tx_hash": tx_hash, "contract": call.contract, "method": call.method, "status": status}
    if frm is not None:
        out.add("account_history", {"address": frm, "seq": 2 * seq + 1, "role": "out",
                                    "counterparty": to, **common})
    if to is not None:
        out.add("account_history", {"address": to, "seq": 2 * seq + 2, "role": "in",
                                    "counterparty": frm, **common})


def _objects(out: BlockRows, idx: int, ev_idx: int, event: Event, tx_hash: bytes, timestamp_ms: int) -> None:
    """Alerts, proposals and votes, wallets, traced items: the built-in applications' objects."""
    height = out.height
    key = (event.contract, event.name)
    try:
        value = _ANY.decode(event.data)
    except Exception:  # not MessagePack: kept in ``events`` only
        return
    if event.contract == TRACE:
        found = trace_rows(height, timestamp_ms, idx, ev_idx, event.name, value)
        for table, row in found.rows:
            out.add(table, row)
        out.objects.extend(ObjectChange("trace_items", {"item": item}, values)
                           for item, values in found.items)
        return
    if key == ("regulator", "Alert"):
        try:
            alert = decode(event.data, Alert)
        except Exception:  # an alert of another shape stays an event
            return
        out.add("alerts", {"id": alert.id, "height": height, "tx_idx": idx, "address": alert.address,
                           "rule": alert.rule, "amount": alert.amount, "timestamp_ms": alert.timestamp_ms,
                           "tx_hash": alert.tx_hash, "detail": alert.detail})  # fmt: skip
        return
    if not isinstance(value, list):
        return
    if key == ("governance", "Proposed") and _shape(value, int, str, bytes, str, int):
        pid, kind, proposer, org, deadline = value
        out.objects.append(ObjectChange("proposals", {"id": pid}, {
            "kind": kind, "proposer": proposer, "org": org, "deadline_height": deadline,
            "created_height": height, "status": "open", "outcome": "", "closed_height": None}))
        out.add("votes", {"height": height, "tx_idx": idx, "ev_idx": ev_idx, "proposal_id": pid,
                          "org": org, "voter": proposer, "approve": True})
    elif key == ("governance", "Voted") and _shape(value, int, str, bytes, bool):
        pid, org, voter, approve = value
        out.add("votes", {"height": height, "tx_idx": idx, "ev_idx": ev_idx, "proposal_id": pid,
                          "org": org, "voter": voter, "approve": approve})
    elif key == ("governance", "Closed") and _shape(value, int, str, str, str):
        pid, _kind, status, outcome = value
        out.objects.append(ObjectChange("proposals", {"id": pid},
                                        {"status": status, "outcome": outcome, "closed_height": height}))
    elif key == ("identity", "WalletOpened") and _shape(value, bytes, str, int):
        address, org, tier = value
        out.objects.append(ObjectChange("wallets", {"address": address}, {
            "org": org, "tier": tier, "status": "open", "opened_height": height,
            "updated_height": height, "swept": None}))
    elif key == ("identity", "TierChanged") and _shape(value, bytes, str, int, int):
        address, _org, _old, tier = value
        out.objects.append(ObjectChange("wallets", {"address": address},
                                        {"tier": tier, "updated_height": height}))
    elif key == ("identity", "WalletClosed") and _shape(value, bytes, str, int):
        address, _org, swept = value
        out.objects.append(ObjectChange("wallets", {"address": address},
                                        {"status": "closed", "updated_height": height, "swept": swept}))


def _shape(value: list[Any], *types: type) -> bool:
    if len(value) != len(types):
        return False
    for v, t in zip(value, types, strict=True):
        if t is int and (isinstance(v, bool) or not isinstance(v, int)):
            return False
        if not isinstance(v, t):
            return False
    return True


def _is_address(value: Any) -> bool:
    return isinstance(value, bytes) and len(value) == ADDRESS_BYTES


def _is_amount(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**64

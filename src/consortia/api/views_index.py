"""Typed bodies of the SQL index's routes (api/index_routes.py, issue 16, decisions/0023).

Each item is a row of an index table (``consortia.index.schema``) as ``queries._plain_row``
writes it: every column, byte strings as ``0x`` hex, JSON columns decoded. An amount is an
integer, or exact decimal text for the rare one above the signed 64-bit range (SQLite).
"""

from __future__ import annotations

from typing import Any, TypedDict

Amount = int | str


class HistoryItem(TypedDict):
    """One entry of an account's history: a call it made (``role`` call) or a payment it made
    (``out``) or received (``in``), with counterparty, amount and kind."""

    height: int
    tx_idx: int
    seq: int
    role: str
    kind: str | None
    counterparty: str | None
    amount: Amount | None
    tx_hash: str | None
    contract: str | None
    method: str | None
    status: str


class IndexedTx(TypedDict):
    """An indexed transaction (or scheduled call: ``scheduled``, no sender) and its outcome."""

    height: int
    idx: int
    tx_hash: str
    scheduled: bool
    sender: str | None
    nonce: int | None
    contract: str | None
    method: str | None
    value: Amount
    args: Any
    status: str
    error: str
    steps: int
    event_count: int


class IndexedEvent(TypedDict):
    """An event: its place, contract and name, raw ``data`` and decoded ``fields``."""

    height: int
    tx_idx: int
    ev_idx: int
    tx_hash: str
    contract: str
    name: str
    data: str
    fields: Any


class IndexedAlert(TypedDict):
    id: int
    height: int
    tx_idx: int
    address: str
    rule: str
    amount: Amount
    timestamp_ms: int
    tx_hash: str
    detail: str


class IndexedVote(TypedDict):
    org: str
    voter: str
    approve: bool
    height: int


class IndexedProposal(TypedDict):
    id: int
    kind: str
    proposer: str
    org: str
    deadline_height: int
    created_height: int
    status: str
    outcome: str
    closed_height: int | None
    votes: list[IndexedVote]


class IndexedWallet(TypedDict):
    address: str
    org: str
    tier: int
    status: str
    opened_height: int
    updated_height: int
    swept: Amount | None


class HistoryPage(TypedDict):
    """A page of an account's history; ``next_cursor`` asks for the next one (null: the last)."""

    items: list[HistoryItem]
    next_cursor: str | None
    indexed_height: int


class TxPage(TypedDict):
    items: list[IndexedTx]
    next_cursor: str | None
    indexed_height: int


class EventPage(TypedDict):
    items: list[IndexedEvent]
    next_cursor: str | None
    indexed_height: int


class AlertPage(TypedDict):
    items: list[IndexedAlert]
    next_cursor: str | None
    indexed_height: int


class ProposalPage(TypedDict):
    items: list[IndexedProposal]
    next_cursor: str | None
    indexed_height: int


class WalletPage(TypedDict):
    items: list[IndexedWallet]
    next_cursor: str | None
    indexed_height: int


class IndexCheckView(TypedDict):
    """The index compared with the chain over a height range: ``ok`` when nothing differs;
    the first differences as text, and how many more."""

    ok: bool
    from_height: int
    to_height: int
    indexed_height: int
    chain_height: int
    blocks_checked: int
    rows_checked: int
    objects_checked: bool
    differences: list[str]
    more_differences: int


INDEX_TYPES: dict[tuple[str, str], tuple[Any, ...]] = {
    ("get", "/v1/history/{address}"): (HistoryPage,),
    ("get", "/v1/index/txs"): (TxPage,),
    ("get", "/v1/index/txs/{tx_hash}"): (IndexedTx,),
    ("get", "/v1/index/events"): (EventPage,),
    ("get", "/v1/index/alerts"): (AlertPage,),
    ("get", "/v1/index/proposals"): (ProposalPage,),
    ("get", "/v1/index/wallets"): (WalletPage,),
    ("get", "/v1/index/check"): (IndexCheckView,),
}
"""The index routes' 2xx bodies, for ``api/openapi.RESPONSE_TYPES``."""

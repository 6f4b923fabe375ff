"""Reads of the index: paged with cursors, bounded, the same SQL on SQLite and PostgreSQL.

Every list is ordered by its key (height, position in the block, position in the receipt),
newest first unless ``order="asc"``, and returns at most ``limit`` (≤ :data:`MAX_LIMIT`) items
with ``next_cursor``: pass it back as ``cursor`` for the next page (``None``: no more). Pages use
keyset pagination (``key < cursor``), so a page costs the same however deep it is and stays
right while new blocks are indexed. Bytes are ``0x`` hex; decoded arguments and fields are JSON.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import msgspec
from sqlalchemy import Column, Connection, Select, select, tuple_

from consortia.errors import ConsortiaError
from consortia.index import schema

MAX_LIMIT = 1000
DEFAULT_LIMIT = 100
ORDERS = ("desc", "asc")
_CURSOR = re.compile(r"-?[0-9]{1,19}(?::-?[0-9]{1,19}){0,3}")
_JSON = msgspec.json.Decoder()


class InvalidQuery(ConsortiaError):
    """A query parameter the index cannot answer (bad cursor, order, limit or range)."""

    code = "invalid_query"


@dataclass(frozen=True, slots=True)
class Page:
    items: list[dict[str, Any]]
    next_cursor: str | None

    def to_json(self) -> dict[str, Any]:
        return {"items": self.items, "next_cursor": self.next_cursor}


def check_limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidQuery(f"limit must be from 1 to {MAX_LIMIT}, got {limit}")
    return limit


def check_order(order: str) -> str:
    if order not in ORDERS:
        raise InvalidQuery(f"order must be 'desc' (newest first) or 'asc', got {order[:20]!r}")
    return order


def parse_cursor(text: str | None, parts: int) -> tuple[int, ...] | None:
    """A cursor as this query writes it (``parts`` integers joined by ``:``), or InvalidQuery."""
    if text is None or text == "":
        return None
    if _CURSOR.fullmatch(text) is None or text.count(":") != parts - 1:
        raise InvalidQuery(f"cursor {text[:60]!r} is not one this query returned "
                           f"(expected {parts} integers joined by ':')")
    return tuple(int(p) for p in text.split(":"))


def _page(
    conn: Connection, query: Select[Any], key: Sequence[Column[Any]], cursor: str | None,
    limit: int, order: str, lead: Sequence[Column[Any]] = (),
) -> tuple[list[Any], str | None]:  # fmt: skip
    """``lead``: columns the query fixes by equality that start the index it should use; they
    head the ORDER BY (same order, no cost) so that the planner walks that index (PostgreSQL
    otherwise may scan a height index and filter, 20 times slower on a 100k-entry history)."""
    check_limit(limit)
    check_order(order)
    after = parse_cursor(cursor, len(key))
    if after is not None:
        probe = tuple_(*key)
        query = query.where(probe < tuple_(*after) if order == "desc" else probe > tuple_(*after))
    ordering = [*lead, *key]
    query = query.order_by(*[(c.desc() if order == "desc" else c.asc()) for c in ordering]).limit(limit + 1)
    rows = list(conn.execute(query))
    more = len(rows) > limit
    rows = rows[:limit]
    nxt = ":".join(str(getattr(rows[-1], c.name)) for c in key) if more and rows else None
    return rows, nxt


def _height_range(query: Select[Any], column: Column[Any], low: int | None, high: int | None) -> Select[Any]:
    if low is not None and high is not None and low > high:
        raise InvalidQuery(f"from_height {low} is above to_height {high}")
    if low is not None:
        query = query.where(column >= low)
    if high is not None:
        query = query.where(column <= high)
    return query


def hexed(value: Any) -> Any:
    if isinstance(value, bytes | bytearray | memoryview):
        return "0x" + bytes(value).hex()
    return value


def _plain_row(row: Any, json_fields: tuple[str, ...] = ()) -> dict[str, Any]:
    out = {k: hexed(v) for k, v in row._mapping.items()}
    for name in json_fields:
        if out.get(name) is not None:
            out[name] = _JSON.decode(out[name])
    return out


# --- account history ----------------------------------------------------------------------------


ROLES = ("call", "out", "in")


def account_history(
    conn: Connection, address: bytes, *, cursor: str | None = None, limit: int = DEFAULT_LIMIT,
    order: str = "desc", role: str | None = None,
) -> Page:  # fmt: skip
    """An account's history: its calls (contract, method, status, failed ones included) and
    every payment it made (``out``) or received (``in``), with counterparty, amount and kind."""
    h = schema.account_history
    query = select(h).where(h.c.address == address)
    if role is not None:
        if role not in ROLES:
            raise InvalidQuery(f"role must be one of {', '.join(ROLES)}, got {role[:20]!r}")
        query = query.where(h.c.role == role)
    rows, nxt = _page(conn, query, (h.c.height, h.c.tx_idx, h.c.seq), cursor, limit, order,
                      lead=(h.c.address,))
    items = []
    for row in rows:
        item = _plain_row(row)
        del item["address"]
        items.append(item)
    return Page(items, nxt)


# --- transactions -------------------------------------------------------------------------------


def transactions(
    conn: Connection, *, contract: str | None = None, method: str | None = None,
    status: str | None = None, sender: bytes | None = None, from_height: int | None = None,
    to_height: int | None = None, cursor: str | None = None, limit: int = DEFAULT_LIMIT,
    order: str = "desc",
) -> Page:  # fmt: skip
    """Transactions (and scheduled calls) by contract, method, status, sender, height range."""
    t = schema.txs
    query = select(t)
    if method is not None and contract is None:
        raise InvalidQuery("a method filter needs a contract (methods are named per contract)")
    for column, value in ((t.c.contract, contract), (t.c.method, method), (t.c.status, status),
                          (t.c.sender, sender)):  # fmt: skip
        if value is not None:
            query = query.where(column == value)
    query = _height_range(query, t.c.height, from_height, to_height)
    lead: tuple[Column[Any], ...] = ()
    if sender is not None and contract is None and status is None:
        lead = (t.c.sender,)
    elif contract is not None and method is not None and status is None and sender is None:
        lead = (t.c.contract, t.c.method)
    elif status is not None and contract is None and sender is None:
        lead = (t.c.status,)
    rows, nxt = _page(conn, query, (t.c.height, t.c.idx), cursor, limit, order, lead)
    return Page([_plain_row(r, ("args",)) for r in rows], nxt)


def transaction(conn: Connection, tx_hash: bytes) -> dict[str, Any] | None:
    row = conn.execute(select(schema.txs).where(schema.txs.c.tx_hash == tx_hash)).first()
    return None if row is None else _plain_row(row, ("args",))


# --- events and application objects ------------------------------------------------------------


def events(
    conn: Connection, *, contract: str | None = None, name: str | None = None,
    party: bytes | None = None, from_height: int | None = None, to_height: int | None = None,
    cursor: str | None = None, limit: int = DEFAULT_LIMIT, order: str = "desc",
) -> Page:  # fmt: skip
    """Events by contract and name, and/or by a party (an address among the event's fields —
    the holder, payer, payee… of any application's object)."""
    e = schema.events
    if name is not None and contract is None:
        raise InvalidQuery("an event name filter needs a contract (names are per contract)")
    if party is not None:
        p = schema.event_parties
        query = select(e).join(p, (p.c.height == e.c.height) & (p.c.tx_idx == e.c.tx_idx)
                               & (p.c.ev_idx == e.c.ev_idx)).where(p.c.address == party)  # fmt: skip
        key: tuple[Column[Any], ...] = (p.c.height, p.c.tx_idx, p.c.ev_idx)
        lead: tuple[Column[Any], ...] = (p.c.address,)
        if contract is not None:
            query = query.where(p.c.contract == contract)
    else:
        query = select(e)
        key = (e.c.height, e.c.tx_idx, e.c.ev_idx)
        lead = ()
        if contract is not None:
            query = query.where(e.c.contract == contract)
            if name is not None:
                lead = (e.c.contract, e.c.name)
    if name is not None:
        query = query.where(e.c.name == name)
    query = _height_range(query, key[0], from_height, to_height)
    rows, nxt = _page(conn, query, key, cursor, limit, order, lead)
    items = []
    for row in rows:
        item = _plain_row(row, ("fields",))
        items.append(item)
    return Page(items, nxt)


def alerts(
    conn: Connection, *, address: bytes | None = None, cursor: str | None = None,
    limit: int = DEFAULT_LIMIT, order: str = "desc",
) -> Page:  # fmt: skip
    a = schema.alerts
    query = select(a)
    if address is not None:
        query = query.where(a.c.address == address)
    rows, nxt = _page(conn, query, (a.c.id,), cursor, limit, order)
    return Page([_plain_row(r) for r in rows], nxt)


def proposals(
    conn: Connection, *, status: str | None = None, cursor: str | None = None,
    limit: int = DEFAULT_LIMIT, order: str = "desc",
) -> Page:  # fmt: skip
    """Governance proposals with their votes."""
    p, v = schema.proposals, schema.votes
    query = select(p)
    if status is not None:
        query = query.where(p.c.status == status)
    rows, nxt = _page(conn, query, (p.c.id,), cursor, limit, order)
    items = [_plain_row(r) for r in rows]
    if items:
        ids = [i["id"] for i in items]
        ballots: dict[int, list[dict[str, Any]]] = {}
        vq = select(v).where(v.c.proposal_id.in_(ids)).order_by(v.c.height, v.c.tx_idx, v.c.ev_idx)
        for r in conn.execute(vq):
            ballots.setdefault(r.proposal_id, []).append(
                {"org": r.org, "voter": hexed(r.voter), "approve": r.approve, "height": r.height})
        for item in items:
            item["votes"] = ballots.get(item["id"], [])
    return Page(items, nxt)


def wallets(
    conn: Connection, *, org: str | None = None, cursor: str | None = None,
    limit: int = DEFAULT_LIMIT, order: str = "desc",
) -> Page:  # fmt: skip
    """Wallets (opened, tier, closed), by operator bank, in address order."""
    w = schema.wallets
    query = select(w)
    if org is not None:
        query = query.where(w.c.org == org)
    rows, nxt = _wallet_page(conn, query, cursor, limit, order)
    return Page([_plain_row(r) for r in rows], nxt)


def _wallet_page(
    conn: Connection, query: Select[Any], cursor: str | None, limit: int, order: str
) -> tuple[list[Any], str | None]:
    """Wallets are keyed by address (bytes): the cursor is its hex."""
    w = schema.wallets
    check_limit(limit)
    check_order(order)
    if cursor:
        try:
            after = bytes.fromhex(cursor.removeprefix("0x"))
        except ValueError:
            raise InvalidQuery(f"cursor {cursor[:60]!r} is not one this query returned") from None
        query = query.where(w.c.address < after if order == "desc" else w.c.address > after)
    col = w.c.address.desc() if order == "desc" else w.c.address.asc()
    rows = list(conn.execute(query.order_by(col).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, ("0x" + bytes(rows[-1].address).hex() if more and rows else None)

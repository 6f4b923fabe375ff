"""Queries of ``apps/trace`` on the SQL index: provenance (everything upstream, with its
inspections), where-used (everything downstream), an item's status, the public verification
view and the events of a set of items (for EPCIS export). The same SQL on SQLite and
PostgreSQL: the graph is walked by a recursive common table expression over ``trace_edges``
(``UNION``, not ``UNION ALL``: each item once, so a diamond — two inputs from one batch —
costs no more than a chain).

Items are canonical ids (``apps/trace/identifiers``); addresses come back as ``0x`` text.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import msgspec
from sqlalchemy import Connection, Text, and_, literal, select

from consortia.errors import NotFound
from consortia.index import schema
from consortia.index.queries import InvalidQuery, hexed

MAX_GRAPH = 10_000
"""Items one provenance or where-used answer lists at most (``truncated`` says when there were more)."""
MAX_EVENTS = 10_000
"""Events one export reads at most."""
UP = "up"
DOWN = "down"
_JSON = msgspec.json.Decoder()
_ITEM_FIELDS = ("item", "kind", "product", "producer", "holder", "status", "container", "pending_to",
                "recall_reason", "recall_by", "recall_height", "registered_height", "registered_ms",
                "updated_height")  # fmt: skip


def _item_json(row: Any) -> dict[str, Any]:
    out = {name: hexed(getattr(row, name)) for name in _ITEM_FIELDS}
    out["public"] = _JSON.decode(row.public)
    out["affected"] = _JSON.decode(row.affected)
    return out


def item_row(conn: Connection, item: str) -> Any:
    row = conn.execute(select(schema.trace_items).where(schema.trace_items.c.item == item)).first()
    if row is None:
        raise NotFound(f"no item {item[:80]!r} in the index (unknown, or not indexed yet)")
    return row


def closure(conn: Connection, item: str, direction: str, limit: int = MAX_GRAPH) -> list[str]:
    """``item`` and every item upstream (``up``: what it was made or packed from) or
    downstream (``down``: what it went into), each once, by a recursive CTE; at most
    ``limit + 1`` (the caller knows it was cut)."""
    if direction not in (UP, DOWN):
        raise InvalidQuery(f"direction is {UP!r} or {DOWN!r}")
    edges = schema.trace_edges
    near, far = (edges.c.dst, edges.c.src) if direction == UP else (edges.c.src, edges.c.dst)
    seed = select(literal(item, Text).label("item")).cte("walk", recursive=True)
    walk = seed.union(select(far.label("item")).join(seed, near == seed.c.item))
    rows = conn.execute(select(walk.c.item).limit(limit + 1))
    return [r.item for r in rows]


def _graph(conn: Connection, item: str, direction: str) -> dict[str, Any]:
    item_row(conn, item)
    found = closure(conn, item, direction)
    truncated = len(found) > MAX_GRAPH
    found = found[:MAX_GRAPH]
    members = set(found)
    rows = _chunked(conn, schema.trace_items, schema.trace_items.c.item, found)
    items = {r.item: _item_json(r) for r in rows}
    edges_t = schema.trace_edges
    column = edges_t.c.dst if direction == UP else edges_t.c.src
    edges = []
    for row in _chunked(conn, edges_t, column, found):
        if row.src in members and row.dst in members:
            edges.append({"src": row.src, "dst": row.dst, "kind": row.kind, "height": row.height})
    edges.sort(key=lambda e: (e["height"], e["src"], e["dst"]))
    return {"item": item, "items": [items[i] for i in sorted(items)], "edges": edges, "truncated": truncated}


def _chunked(conn: Connection, table: Any, column: Any, values: list[str], size: int = 500) -> Iterable[Any]:
    """Rows whose ``column`` is among ``values`` (``IN`` lists of at most ``size``)."""
    for start in range(0, len(values), size):
        yield from conn.execute(select(table).where(column.in_(values[start:start + size])))


def provenance(conn: Connection, item: str) -> dict[str, Any]:
    """Everything ``item`` comes from (itself included), the edges among them, and every
    inspection of any of them."""
    out = _graph(conn, item, UP)
    out["inspections"] = events_of(conn, [i["item"] for i in out["items"]], names=("Certified",))
    return out


def where_used(conn: Connection, item: str) -> dict[str, Any]:
    """Everything made from ``item`` or packed around it (itself included), and the edges."""
    return _graph(conn, item, DOWN)


def events_of(conn: Connection, items: list[str], names: Iterable[str] | None = None,
              limit: int = MAX_EVENTS) -> list[dict[str, Any]]:  # fmt: skip
    """The trace events concerning any of ``items`` (each event once), in chain order, with
    its fields, the account that signed its transaction, the transaction and the block time."""
    links, events, txs, blocks = schema.trace_links, schema.events, schema.txs, schema.blocks
    wanted = tuple(names) if names is not None else None
    found: dict[tuple[int, int, int], dict[str, Any]] = {}
    for start in range(0, len(items), 500):
        query = (select(events.c.height, events.c.tx_idx, events.c.ev_idx, events.c.name, events.c.fields,
                        events.c.tx_hash, txs.c.sender, blocks.c.timestamp_ms)
                 .select_from(links)
                 .join(events, and_(events.c.height == links.c.height, events.c.tx_idx == links.c.tx_idx,
                                    events.c.ev_idx == links.c.ev_idx))
                 .join(txs, and_(txs.c.height == events.c.height, txs.c.idx == events.c.tx_idx))
                 .join(blocks, blocks.c.height == events.c.height)
                 .where(links.c.item.in_(items[start:start + 500])))
        if wanted is not None:
            query = query.where(links.c.name.in_(wanted))
        for r in conn.execute(query):
            key = (r.height, r.tx_idx, r.ev_idx)
            if key not in found:
                found[key] = {"height": r.height, "tx_idx": r.tx_idx, "ev_idx": r.ev_idx, "name": r.name,
                              "fields": _JSON.decode(r.fields), "tx_hash": hexed(r.tx_hash),
                              "signer": hexed(r.sender), "timestamp_ms": r.timestamp_ms}
    return [found[k] for k in sorted(found)[:limit]]


def status(conn: Connection, item: str) -> dict[str, Any]:
    """Who holds ``item``, a pending handover, its own recall, the recalls it is affected by,
    the last handover and the number of inspections."""
    row = item_row(conn, item)
    out = _item_json(row)
    recalls = [{"item": r, "reason": item_row(conn, r).recall_reason} for r in out["affected"]]
    out["affected_by"] = recalls
    out["recalled"] = row.recall_reason is not None or bool(recalls)
    links = schema.trace_links
    counts = conn.execute(select(links.c.name).where(links.c.item == item,
                                                    links.c.name.in_(("Certified", "Received")))).all()
    out["inspections"] = sum(1 for c in counts if c.name == "Certified")
    out["handovers"] = sum(1 for c in counts if c.name == "Received")
    return out


def public_view(conn: Connection, item: str) -> dict[str, Any]:
    """What a consumer scanning the item's code sees: the fields its producer marked public,
    and always whether it is recalled (or made from something recalled)."""
    row = item_row(conn, item)
    shown = set(_JSON.decode(row.public))
    affected = _JSON.decode(row.affected)
    out: dict[str, Any] = {"item": item, "kind": row.kind,
                           "recalled": row.recall_reason is not None or bool(affected),
                           "recall_reason": row.recall_reason or (
                               item_row(conn, affected[0]).recall_reason if affected else None)}
    if "product" in shown:
        out["product"] = row.product
    if "producer" in shown:
        out["producer"] = hexed(row.producer)
    if "registered" in shown:
        out["registered_ms"] = row.registered_ms
    if "holder" in shown:
        out["holder"] = hexed(row.holder)
    if "inspections" in shown:
        out["inspections"] = [{"result": e["fields"]["result"], "org": e["fields"].get("org"),
                               "report": e["fields"]["report"], "timestamp_ms": e["timestamp_ms"]}
                              for e in events_of(conn, [item], names=("Certified",))]
    if "observations" in shown:
        out["observations"] = [{"where": e["fields"]["where"], "timestamp_ms": e["timestamp_ms"]}
                               for e in events_of(conn, [item], names=("Observed",))]
    if "provenance" in shown:
        graph = _graph(conn, item, UP)
        out["provenance"] = [
            {"item": i["item"], **({"product": i["product"]} if "product" in i["public"] else {})}
            for i in graph["items"] if i["item"] != item
        ]
    return out

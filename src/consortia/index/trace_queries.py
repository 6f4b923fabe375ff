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
_ITEM_COLUMNS = tuple(c.name for c in schema.trace_items.columns)
_ADDRESSES = ("producer", "holder", "pending_to", "recall_by")


def _item_json(row: Any) -> dict[str, Any]:
    """A ``trace_items`` row as JSON: addresses as 0x text, the JSON lists decoded (written for
    speed: a provenance answer turns hundreds of rows)."""
    out = dict(zip(_ITEM_COLUMNS, row, strict=True))
    for name in _ADDRESSES:
        value = out[name]
        if value is not None:
            out[name] = "0x" + bytes(value).hex()
    out["public"] = _JSON.decode(out["public"])
    out["affected"] = _JSON.decode(out["affected"])
    return out


def item_row(conn: Connection, item: str) -> Any:
    row = conn.execute(select(schema.trace_items).where(schema.trace_items.c.item == item)).first()
    if row is None:
        raise NotFound(f"no item {item[:80]!r} in the index (unknown, or not indexed yet)")
    return row


def _walk(item: str, direction: str) -> Any:
    """The recursive CTE of ``item`` and every item upstream (``up``: what it was made or
    packed from) or downstream (``down``: what it went into), each once."""
    if direction not in (UP, DOWN):
        raise InvalidQuery(f"direction is {UP!r} or {DOWN!r}")
    edges = schema.trace_edges
    near, far = (edges.c.dst, edges.c.src) if direction == UP else (edges.c.src, edges.c.dst)
    seed = select(literal(item, Text).label("item")).cte("walk", recursive=True)
    return seed.union(select(far.label("item")).join(seed, near == seed.c.item))


def closure(conn: Connection, item: str, direction: str, limit: int = MAX_GRAPH) -> list[str]:
    """``item`` and every item up- or downstream of it (at most ``limit + 1``: the caller
    knows it was cut)."""
    walk = _walk(item, direction)
    return [r.item for r in conn.execute(select(walk.c.item).limit(limit + 1))]


def _graph(conn: Connection, item: str, direction: str) -> dict[str, Any]:
    """The items of the walk and the edges among them: two queries, each joining the CTE
    (no list of ids goes back to the database)."""
    walk = _walk(item, direction)
    items_t, edges_t = schema.trace_items, schema.trace_edges
    rows = conn.execute(select(items_t).join(walk, items_t.c.item == walk.c.item).limit(MAX_GRAPH + 1)).all()
    if not any(r.item == item for r in rows):
        item_row(conn, item)  # unknown: NotFound (or cut off by the bound: then it is known)
    truncated = len(rows) > MAX_GRAPH
    items = sorted((_item_json(r) for r in rows[:MAX_GRAPH]), key=lambda i: i["item"])
    members = {i["item"] for i in items}
    # every edge into an upstream item (out of a downstream one) joins two members of the walk
    column = edges_t.c.dst if direction == UP else edges_t.c.src
    query = select(edges_t.c.src, edges_t.c.dst, edges_t.c.kind, edges_t.c.height)
    query = query.join(walk, column == walk.c.item)
    edges = [{"src": src, "dst": dst, "kind": kind, "height": height}
             for src, dst, kind, height in conn.execute(query)
             if not truncated or (src in members and dst in members)]  # fmt: skip
    edges.sort(key=lambda e: (e["height"], e["src"], e["dst"]))
    return {"item": item, "items": items, "edges": edges, "truncated": truncated}


def provenance(conn: Connection, item: str) -> dict[str, Any]:
    """Everything ``item`` comes from (itself included), the edges among them, and every
    inspection of any of them."""
    out = _graph(conn, item, UP)
    members = {i["item"] for i in out["items"]}
    found = _events(conn, _walk(item, UP), ("Certified",))
    out["inspections"] = [e for e in found if not out["truncated"] or e["fields"].get("item") in members]
    return out


def events_upstream(conn: Connection, item: str, limit: int = MAX_EVENTS) -> list[dict[str, Any]]:
    """Every trace event of ``item`` and of everything upstream of it (what an EPCIS export
    of its provenance holds), in chain order."""
    return _events(conn, _walk(item, UP), None, limit)


def where_used(conn: Connection, item: str) -> dict[str, Any]:
    """Everything made from ``item`` or packed around it (itself included), and the edges."""
    return _graph(conn, item, DOWN)


def events_of(conn: Connection, items: list[str], names: Iterable[str] | None = None,
              limit: int = MAX_EVENTS) -> list[dict[str, Any]]:  # fmt: skip
    """The trace events concerning any of ``items`` (each event once), in chain order, with
    its fields, the account that signed its transaction, the transaction and the block time."""
    out: dict[tuple[int, int, int], dict[str, Any]] = {}
    for start in range(0, len(items), 500):
        among = schema.trace_links.c.item.in_(items[start:start + 500])
        for event in _events(conn, None, names, limit, among):
            out[(event["height"], event["tx_idx"], event["ev_idx"])] = event
    return [out[k] for k in sorted(out)[:limit]]


def _events(conn: Connection, items: Any, names: Iterable[str] | None, limit: int = MAX_EVENTS,
            where: Any = None) -> list[dict[str, Any]]:  # fmt: skip
    """The events linked to the items of the selectable ``items`` (a column ``item``), or to
    those ``where`` picks among the links."""
    links, events, txs, blocks = schema.trace_links, schema.events, schema.txs, schema.blocks
    query = (select(events.c.height, events.c.tx_idx, events.c.ev_idx, events.c.name, events.c.fields,
                    events.c.tx_hash, txs.c.sender, blocks.c.timestamp_ms)
             .select_from(links if items is None else links.join(items, links.c.item == items.c.item))
             .join(events, and_(events.c.height == links.c.height, events.c.tx_idx == links.c.tx_idx,
                                events.c.ev_idx == links.c.ev_idx))
             .join(txs, and_(txs.c.height == events.c.height, txs.c.idx == events.c.tx_idx))
             .join(blocks, blocks.c.height == events.c.height))  # fmt: skip
    if names is not None:
        query = query.where(links.c.name.in_(tuple(names)))
    if where is not None:
        query = query.where(where)
    found: dict[tuple[int, int, int], dict[str, Any]] = {}
    for height, tx_idx, ev_idx, name, fields, tx_hash, sender, timestamp_ms in conn.execute(query):
        key = (height, tx_idx, ev_idx)
        if key not in found:
            found[key] = {"height": height, "tx_idx": tx_idx, "ev_idx": ev_idx, "name": name,
                          "fields": _JSON.decode(fields), "tx_hash": hexed(tx_hash), "signer": hexed(sender),
                          "timestamp_ms": timestamp_ms}  # fmt: skip
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

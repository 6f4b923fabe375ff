"""The rows of ``apps/trace`` events for the index (pure): which events concern which item
(``trace_links``), the provenance graph's edges (``trace_edges``: a transformation's every
input to every output, an aggregation's children to their container) and each item's current
state (``trace_items``, folded from the events). Events of another shape are kept in ``events``
only (a later contract version may emit more; nothing here fails on them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import msgspec

TRACE = "trace"
_JSON = msgspec.json.Encoder(order="sorted")

Row = dict[str, Any]


@dataclass(slots=True)
class TraceRows:
    """The rows of one event: ``rows`` (table, row) to insert, ``items`` (item id, values) to set."""

    height: int
    timestamp_ms: int
    rows: list[tuple[str, Row]] = field(default_factory=list)
    items: list[tuple[str, Row]] = field(default_factory=list)

    def add(self, table: str, row: Row) -> None:
        self.rows.append((table, row))


def to_json(value: Any) -> str:
    return _JSON.encode(value).decode()


def trace_rows(height: int, timestamp_ms: int, idx: int, ev_idx: int, name: str, value: Any) -> TraceRows:
    """The rows of one ``trace`` event (its decoded MessagePack map ``value``); none for an
    event of another shape."""
    out = TraceRows(height, timestamp_ms)
    if not isinstance(value, dict):
        return out
    try:
        _rows(out, idx, ev_idx, name, value)
    except (KeyError, TypeError, ValueError):  # a field of another shape: the event stays in ``events``
        return TraceRows(height, timestamp_ms)
    return out


def _link(out: TraceRows, idx: int, ev_idx: int, name: str, items: list[str], role: str,
          seen: set[str]) -> None:  # fmt: skip
    for item in items:
        if isinstance(item, str) and item not in seen:
            seen.add(item)
            out.add("trace_links", {"item": item, "height": out.height, "tx_idx": idx, "ev_idx": ev_idx,
                                    "name": name, "role": role})


def _item(out: TraceRows, item: str, **values: Any) -> None:
    out.items.append((item, {**values, "updated_height": out.height}))


def _texts(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TypeError("a list of item ids")
    return list(value)


def _rows(out: TraceRows, idx: int, ev_idx: int, name: str, v: dict[str, Any]) -> None:
    seen: set[str] = set()
    link = lambda items, role: _link(out, idx, ev_idx, name, items, role, seen)  # noqa: E731
    if name in ("Aggregated", "Disaggregated"):
        parent, children = str(v["parent"]), _texts(v["children"])
        link([parent], "parent")
        link(children, "child")
        for child in children:
            _item(out, child, container=parent if name == "Aggregated" else None)
        if name == "Aggregated":
            for seq, child in enumerate(children):
                out.add("trace_edges", {"height": out.height, "tx_idx": idx, "ev_idx": ev_idx, "seq": seq,
                                        "src": child, "dst": parent, "kind": "aggregate"})
        return
    if name == "Transformed":
        inputs, outputs = _texts(v["inputs"]), _texts(v["outputs"])
        link(inputs, "input")
        link(outputs, "output")
        for item in inputs:
            _item(out, item, status="consumed")
        seq = 0
        for src in inputs:
            for dst in outputs:
                out.add("trace_edges", {"height": out.height, "tx_idx": idx, "ev_idx": ev_idx, "seq": seq,
                                        "src": src, "dst": dst, "kind": "transform"})
                seq += 1
        return
    if name == "HolderAlerted":
        link(_texts(v["items"]), "alerted")
        return
    item = v["item"]
    if not isinstance(item, str):
        return
    link([item], "subject")
    if name == "Registered":
        _item(out, item, kind=str(v["kind"]), product=str(v["product"]), producer=bytes(v["producer"]),
              holder=bytes(v["producer"]), public=to_json(_texts(v["public"])), status="active",
              container=None, pending_to=None, recall_reason=None, recall_by=None, recall_height=None,
              affected="[]", registered_height=out.height, registered_ms=out.timestamp_ms)
    elif name == "HandoverOffered":
        _item(out, item, pending_to=bytes(v["receiver"]))
    elif name == "HandoverCancelled":
        _item(out, item, pending_to=None)
    elif name == "Received":
        moved = _texts(v["items"])
        link(moved, "moved")
        _item(out, item, pending_to=None)
        for each in moved:
            _item(out, each, holder=bytes(v["receiver"]))
    elif name == "Recalled":
        _item(out, item, recall_reason=str(v["reason"]), recall_by=bytes(v["by"]), recall_height=out.height)
    elif name == "RecallLifted":
        _item(out, item, recall_reason=None, recall_by=None, recall_height=None)
    elif name in ("Affected", "Cleared"):
        _item(out, item, affected=to_json(_texts(v["affected"])))

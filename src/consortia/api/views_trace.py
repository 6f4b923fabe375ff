"""Typed bodies of industrial traceability's index routes (api/trace_routes.py, the explorer's
``/v1/explorer/trace/events``; issue 16, decisions/0023): rows of ``trace_items`` and
``trace_edges`` as ``index/trace_queries`` writes them (addresses as 0x text, JSON lists decoded),
the events linked to items, an EPCIS export and an EPCIS document's calls."""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict


class TraceItemRow(TypedDict):
    """An item as the index holds it: producer, holder, status, container, pending handover,
    its own recall, the recalled items it comes from (``affected``)."""

    item: str
    kind: str
    product: str
    producer: str
    holder: str
    public: list[str]
    status: str
    container: str | None
    pending_to: str | None
    recall_reason: str | None
    recall_by: str | None
    recall_height: int | None
    affected: list[str]
    registered_height: int
    registered_ms: int
    updated_height: int


class TraceEdge(TypedDict):
    """``src`` went into ``dst`` (``kind``: transform or aggregate) at ``height``."""

    src: str
    dst: str
    kind: str
    height: int


class TraceEvent(TypedDict):
    """A trace event linked to an item: its place, name, decoded fields, signer and block time."""

    height: int
    tx_idx: int
    ev_idx: int
    name: str
    fields: Any
    tx_hash: str
    signer: str | None
    timestamp_ms: int


class TraceGraphView(TypedDict):
    """An item and everything down- (where-used) or upstream of it, the edges among them
    (``truncated``: more items than one answer lists)."""

    item: str
    items: list[TraceItemRow]
    edges: list[TraceEdge]
    truncated: bool
    indexed_height: int


class TraceProvenanceView(TraceGraphView):
    """The upstream graph and every inspection (``Certified`` event) of any item in it."""

    inspections: list[TraceEvent]


class TraceRecall(TypedDict):
    item: str
    reason: str | None


class TraceStatusView(TraceItemRow):
    """The item's row, the recalls it is affected by, and its inspection and handover counts."""

    affected_by: list[TraceRecall]
    recalled: bool
    inspections: int
    handovers: int
    indexed_height: int


class PublicInspection(TypedDict):
    result: Any
    org: Any
    report: Any
    timestamp_ms: int


class PublicObservation(TypedDict):
    where: Any
    timestamp_ms: int


class PublicUpstream(TypedDict):
    item: str
    product: NotRequired[str]


class TracePublicView(TypedDict):
    """What a consumer scanning the item sees: always whether it is recalled; the rest only as
    far as its producer made it public."""

    item: str
    kind: str
    recalled: bool
    recall_reason: str | None
    product: NotRequired[str]
    producer: NotRequired[str]
    registered_ms: NotRequired[int]
    holder: NotRequired[str]
    inspections: NotRequired[list[PublicInspection]]
    observations: NotRequired[list[PublicObservation]]
    provenance: NotRequired[list[PublicUpstream]]
    indexed_height: int


class TraceExportView(TypedDict):
    """An EPCIS 2.0 JSON-LD document (GS1's schema) of the item's events and everything upstream."""

    item: str
    document: dict[str, Any]
    indexed_height: int


class EpcisCall(TypedDict):
    """One contract call an EPCIS event maps to (addresses and hashes as 0x text)."""

    action: str
    item: str
    items: list[str]
    outputs: list[str]
    product: str
    public: list[str]
    where: str
    reading: str
    party: str
    result: str
    report: str
    anchor: str
    reason: str
    signer: str
    time_ms: int


class EpcisChecked(TypedDict):
    """A valid EPCIS document and the calls it would make, in its order."""

    valid: bool
    calls: list[EpcisCall]


class ItemEventsView(TypedDict):
    """An item's own events in chain order (the explorer's trace page)."""

    item: str
    events: list[TraceEvent]
    indexed_height: int


TRACE_TYPES: dict[tuple[str, str], tuple[Any, ...]] = {
    ("get", "/v1/trace/status"): (TraceStatusView,),
    ("get", "/v1/trace/provenance"): (TraceProvenanceView,),
    ("get", "/v1/trace/where-used"): (TraceGraphView,),
    ("get", "/v1/trace/public"): (TracePublicView,),
    ("get", "/v1/trace/export"): (TraceExportView,),
    ("post", "/v1/trace/epcis"): (EpcisChecked,),
    ("get", "/v1/explorer/trace/events"): (ItemEventsView,),
}
"""Those routes' 2xx bodies, for ``api/openapi.RESPONSE_TYPES``."""

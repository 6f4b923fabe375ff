"""Typed bodies of a node's operational reads (issue 16, decisions/0023): the SQL index's
status (api/index_routes.py) and the read audit's pages (api/audit_routes.py)."""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict


class IndexStatusView(TypedDict):
    """The SQL index: backend, indexed height against the chain's head, lag, the error it is
    retrying (null: none); ``process``/``restarts`` when it runs in a process of its own."""

    backend: str | None
    database: str | None
    indexed_height: int
    head_height: int
    lag_blocks: int
    lag_seconds: float
    blocks_indexed: int
    recent_lag_p50_s: float | None
    recent_lag_p99_s: float | None
    recent_lag_max_s: float | None
    recent_lag_samples: int
    error: str | None
    process: NotRequired[int | None]
    restarts: NotRequired[int]


class ReadAuditEntry(TypedDict):
    """One logged read: who read what (``subjects``: whose data the answer held, ``*``: anyone's),
    chained to the previous entry by ``prev``/``hash``."""

    seq: int
    time_ms: int
    kind: str
    reader: str
    reader_org: str
    reader_role: str
    method: str
    path: str
    query: str
    subjects: list[str]
    status: int
    note: str
    prev: str
    hash: str


class ReadAuditPage(TypedDict):
    """A page of the read audit, oldest first; ``next_after`` is the ``after`` of the next page,
    ``head`` the log's last hash (null when the audit is off: ``audit`` says so)."""

    entries: list[ReadAuditEntry]
    next_after: int
    head_seq: int
    head: str | None
    anchored_seq: int
    audit: str


OPS_TYPES: dict[tuple[str, str], tuple[Any, ...]] = {
    ("get", "/v1/index/status"): (IndexStatusView,),
    ("get", "/v1/audit/reads"): (ReadAuditPage,),
}
"""Those routes' 2xx bodies, for ``api/openapi.RESPONSE_TYPES``."""

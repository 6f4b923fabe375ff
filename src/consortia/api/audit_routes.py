"""REST route of the read audit (issue 14, decisions/0026).

``GET /v1/audit/reads?after=&limit=&org=``: a page of the node's read log, oldest first. The
regulator and auditors (overseers) read every entry (``org`` keeps those about one
organisation); an organisation's staff (admins, validators) read the reads of their own
organisation's data (entries whose subjects name it, or ``*``: everyone's). The route's access
row (STAFF) keeps everyone else out. Each page says the log's head and the last anchored entry.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from consortia.api.app_views import json_response
from consortia.api.auth.principal import Principal
from consortia.api.auth.read_anchor import HeadAnchorer, anchor_key, check_config
from consortia.api.auth.read_audit import AUDIT_ROUTE, EVERYONE, ReadAudit
from consortia.api.auth.read_log import READ, ReadAuditUnavailable, ReadEntry
from consortia.api.params import parse_uint
from consortia.api.views_ops import ReadAuditEntry, ReadAuditPage
from consortia.errors import ConsortiaError
from consortia.node.config import ReadAuditConfig
from consortia.node.node import Node

MAX_PAGE = 500
DEFAULT_PAGE = 100


class NotYourOrganisation(ConsortiaError):
    code = "forbidden"
    http_status = 403


def read_audit_for(node: Node) -> tuple[ReadAudit, HeadAnchorer | None] | None:
    """The node's read audit and its anchorer; None on a chain without organisations (no one
    oversees there)."""
    if not node.genesis.orgs:
        return None
    config = check_config(node.config.read_audit or ReadAuditConfig())
    audit = ReadAudit.open(node.home, config.segment_bytes)
    if audit.log is None:
        return audit, None
    key = anchor_key(node, config.anchor_key_file) if config.anchor_key_file else None
    anchorer = HeadAnchorer(node, audit.log, key, config.anchor_interval_s)
    audit.on_request = anchorer.poke
    audit.on_append = anchorer.appended
    return audit, anchorer


def entry_json(entry: ReadEntry) -> ReadAuditEntry:
    return {"seq": entry.seq, "time_ms": entry.time_ms, "kind": entry.kind, "reader": entry.reader,
            "reader_org": entry.reader_org, "reader_role": entry.reader_role, "method": entry.method,
            "path": entry.path, "query": entry.query, "subjects": entry.subjects, "status": entry.status,
            "note": entry.note, "prev": "0x" + entry.prev, "hash": "0x" + entry.hash}  # fmt: skip


def audit_routes(found: tuple[ReadAudit, HeadAnchorer | None] | None) -> list[Route]:
    audit, anchorer = found if found is not None else (None, None)

    async def reads(request: Request) -> Response:
        query = request.query_params
        after = parse_uint(query.get("after", "0"), "after")
        limit = parse_uint(query.get("limit", str(DEFAULT_PAGE)), "limit", minimum=1, maximum=MAX_PAGE)
        org = query.get("org", "")
        who: Principal | None = request.scope.get("state", {}).get("principal")
        if who is not None and not who.oversees:
            if org and org != who.org:
                raise NotYourOrganisation(f"an organisation's staff read the reads of their own "
                                          f"organisation's data ({who.org!r}), not {org!r}")  # fmt: skip
            org = who.org
        if audit is None:
            off: ReadAuditPage = {"entries": [], "next_after": after, "head_seq": 0, "head": None,
                                  "anchored_seq": 0, "audit": "off (no organisations)"}  # fmt: skip
            return json_response(off)
        if audit.log is None:
            raise ReadAuditUnavailable(audit.problem)
        log = audit.log

        def keep(entry: ReadEntry) -> bool:
            if not org:
                return True
            return entry.kind == READ and (org in entry.subjects or EVERYONE in entry.subjects)

        entries, reached = await run_in_threadpool(log.page, after, limit, keep)
        page: ReadAuditPage = {
            "entries": [entry_json(e) for e in entries], "next_after": reached,
            "head_seq": log.head_seq, "head": "0x" + log.head,
            "anchored_seq": anchorer.anchored_seq if anchorer is not None else 0, "audit": "on",
        }  # fmt: skip
        return json_response(page)

    return [Route(AUDIT_ROUTE, reads)]

"""REST routes of the permission layer: organisations, identities, proposals, alerts, audit.

| path | what |
|---|---|
| `GET /v1/orgs` | organisations (`permissioned: false` on an open chain) |
| `GET /v1/identities/{address}` | an enrolled identity, with its freeze |
| `GET /v1/gov/proposals?since=ID&limit=N`, `/v1/gov/proposals/{id}` | proposals, votes, outcome |
| `GET /v1/reg/alerts?since=ID&limit=N` | alerts with id > since, in order |
| `GET /v1/reg/alerts/stream?since=ID` | SSE: stored alerts after `since`, then each new alert |
| `GET /v1/reg/audit/{address}` | the regulator's view of one account (with its history from the SQL index) |
| `GET /v1/reg/rules`, `/v1/reg/limits/{tier}` | alert rules and KYC tier limits in force |

Everything is read from committed state, in one consistent snapshot per request.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

import msgspec
from sse_starlette.sse import EventSourceResponse
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from consortia.api.index_routes import audit_history
from consortia.api.params import parse_uint, query_uint
from consortia.api.views_perm import IdentityView, OrgListView, OrgView, ProposalListView, ProposalView
from consortia.api.views_reg import RegAlert, RegAlertList, TierLimitsView
from consortia.codec import decode
from consortia.codec.plain import to_plain
from consortia.contracts.permissioned import (
    alerts,
    audit,
    identity_record,
    is_frozen,
    limits,
    orgs,
    permissioned,
    proposal,
    proposal_status,
    proposals,
)
from consortia.contracts.permissioned import keys as perm_keys
from consortia.contracts.permissioned.activity import read_activity
from consortia.contracts.permissioned.alerting import CONTRACT as ALERT_CONTRACT
from consortia.contracts.permissioned.alerting import EVENT as ALERT_EVENT
from consortia.contracts.permissioned.gov_actions import (
    ADD_ORG,
    ADD_VALIDATOR,
    DEPLOY_CONTRACT,
    JOIN_ORG,
    REMOVE_ORG,
    REMOVE_VALIDATOR,
    ROTATE_CA,
    ROTATE_VALIDATOR,
    SET_PARAM,
    UPGRADE_CONTRACT,
    KeyChange,
)
from consortia.contracts.permissioned.limits import MAX_KYC_TIER
from consortia.contracts.permissioned.records import (
    Alert,
    Bucket,
    ContractCode,
    Identity,
    Org,
    OrgSpec,
    ParamChange,
    Proposal,
)
from consortia.contracts.permissioned.rules import read_rules
from consortia.contracts.permissioned.store import StateGet, read_int
from consortia.crypto.address import format_address, parse_address
from consortia.errors import DecodeError, NotFound
from consortia.node.node import Node
from consortia.types.ca_rotation import CaRotationRequest
from consortia.types.genesis import ValidatorInfo
from consortia.types.org_bundle import OrgBundle

MAX_LIMIT = 1000
AUDIT_ALERT_SCAN = 1000
_json = msgspec.json.Encoder()
T = TypeVar("T")

_PAYLOAD_TYPES: dict[str, type[Any]] = {
    ADD_ORG: OrgSpec,
    REMOVE_ORG: str,
    ADD_VALIDATOR: ValidatorInfo,
    REMOVE_VALIDATOR: bytes,
    SET_PARAM: ParamChange,
    DEPLOY_CONTRACT: ContractCode,
    UPGRADE_CONTRACT: ContractCode,
    JOIN_ORG: OrgBundle,
    ROTATE_VALIDATOR: KeyChange,
    ROTATE_CA: CaRotationRequest,
}


def _sse_alert(record: Alert) -> dict[str, str]:
    return {"event": "alert", "id": str(record.id), "data": _json.encode(alert_json(record)).decode()}


def _response(data: Any, status: int = 200) -> Response:
    return Response(_json.encode(data), status_code=status, media_type="application/json")


def _addr(raw: bytes) -> str | None:
    return format_address(raw) if raw else None


# --- JSON views ---------------------------------------------------------------------------------


def org_json(record: Org) -> OrgView:
    return {
        "name": record.name, "role": record.role, "status": record.status,
        "admins": [format_address(a) for a in record.admins],
        "ca_pem": record.ca_pem.decode("ascii", "replace"), "has_ca": bool(record.ca_pem),
        "added_height": record.added_height, "removed_height": record.removed_height,
    }  # fmt: skip


def identity_json(record: Identity, state_get: StateGet) -> IdentityView:
    return {
        "address": format_address(record.address), "org": record.org, "role": record.role,
        "kyc_tier": record.kyc_tier, "pii_hash": "0x" + record.pii_hash.hex(),
        "cert_hash": "0x" + record.cert_hash.hex() if record.cert_hash else None,
        "status": record.status, "enrolled_height": record.enrolled_height,
        "enrolled_by": _addr(record.enrolled_by), "revoked_height": record.revoked_height,
        "revoked_by": _addr(record.revoked_by), "frozen": is_frozen(state_get, record.address),
    }  # fmt: skip


def payload_json(kind: str, payload: bytes) -> Any:
    """A proposal payload as plain JSON (addresses formatted); hex if it cannot be read."""
    typ = _PAYLOAD_TYPES.get(kind)
    try:
        value = decode(payload, typ) if typ is not None else None
    except DecodeError:
        value = None
    if value is None:
        return {"raw": "0x" + payload.hex()}
    if isinstance(value, OrgSpec):
        return {"name": value.name, "role": value.role, "admins": [format_address(a) for a in value.admins],
                "has_ca": bool(value.ca_pem)}
    if isinstance(value, bytes):
        return {"public_key": "0x" + value.hex()}
    if isinstance(value, str):
        return {"name": value}
    return to_plain(value)


def proposal_json(record: Proposal, height: int) -> ProposalView:
    approvals = sum(1 for v in record.votes if v.approve)
    return {
        "id": record.id, "kind": record.kind, "payload": payload_json(record.kind, record.payload),
        "proposer": format_address(record.proposer), "proposer_org": record.proposer_org,
        "created_height": record.created_height, "deadline_height": record.deadline_height,
        "electorate": record.electorate, "required": record.required,
        "approvals": approvals, "rejections": len(record.votes) - approvals,
        "votes": [{"org": v.org, "voter": format_address(v.voter), "approve": v.approve,
                   "height": v.height} for v in record.votes],
        "status": proposal_status(record, height), "outcome": record.outcome,
        "closed_height": record.closed_height,
    }  # fmt: skip


def alert_json(record: Alert) -> RegAlert:
    return {
        "id": record.id, "rule": record.rule, "address": format_address(record.address),
        "amount": record.amount, "height": record.height, "timestamp_ms": record.timestamp_ms,
        "tx_hash": "0x" + record.tx_hash.hex(), "detail": record.detail,
    }  # fmt: skip


def _window_json(buckets: list[Bucket]) -> list[dict[str, int]] | None:
    return [to_plain(b) for b in buckets] or None


def recent_alerts(state_get: StateGet, address: bytes, scan: int = AUDIT_ALERT_SCAN) -> list[RegAlert]:
    """Alerts about ``address`` among the latest ``scan`` alerts, newest last."""
    last = read_int(state_get, perm_keys.ALERT_NEXT, 1) - 1
    found = alerts(state_get, since_id=max(0, last - scan), limit=scan)
    return [alert_json(a) for a in found if a.address == address]


def audit_json(state_get: StateGet, address: bytes) -> dict[str, Any]:
    view = audit(state_get, address)
    act = read_activity(state_get, address)
    return {
        "address": format_address(address),
        "identity": identity_json(view.identity, state_get) if view.identity else None,
        "org": org_json(view.org) if view.org else None,
        "balance": view.balance, "nonce": view.nonce,
        "frozen": view.frozen is not None,
        "frozen_by": format_address(view.frozen.by) if view.frozen else None,
        "frozen_height": view.frozen.height if view.frozen else None,
        "limits": to_plain(view.limits) if view.limits else None,
        "daily": to_plain(view.daily) if view.daily else None,
        "structuring_window": _window_json(act.structuring),
        "velocity_window": _window_json(act.velocity),
        "alerts": recent_alerts(state_get, address),
    }  # fmt: skip


def alert_from_event(event: dict[str, Any]) -> Alert | None:
    """The alert an SSE block message's event carries (plain JSON form), or None."""
    if event.get("contract") != ALERT_CONTRACT or event.get("name") != ALERT_EVENT:
        return None
    try:
        return decode(bytes.fromhex(str(event["data"]).removeprefix("0x")), Alert)
    except (ValueError, KeyError, DecodeError):
        return None


# --- routes -------------------------------------------------------------------------------------


def perm_routes(node: Node) -> list[Route]:
    store = node.chain.store

    def with_state(build: Callable[[StateGet], T]) -> T:
        with store.snapshot() as snap:
            return build(snap.get)

    def list_orgs(request: Request) -> Response:
        def build(sg: StateGet) -> OrgListView:
            return {"permissioned": permissioned(sg), "orgs": [org_json(o) for o in orgs(sg)]}

        return _response(with_state(build))

    def get_identity(request: Request) -> Response:
        address = parse_address(request.path_params["address"])

        def build(sg: StateGet) -> IdentityView:
            record = identity_record(sg, address)
            if record is None:
                raise NotFound(f"{format_address(address)} has no enrolled identity")
            return identity_json(record, sg)

        return _response(with_state(build))

    def list_proposals(request: Request) -> Response:
        since = query_uint(request, "since", 0)
        limit = min(query_uint(request, "limit", 100), MAX_LIMIT)
        height = node.chain.head.height

        def build(sg: StateGet) -> ProposalListView:
            found = proposals(sg, since_id=since, limit=limit)
            return {"height": height, "proposals": [proposal_json(p, height) for p in found]}

        return _response(with_state(build))

    def get_proposal(request: Request) -> Response:
        proposal_id = parse_uint(request.path_params["proposal_id"], "proposal id")
        height = node.chain.head.height

        def build(sg: StateGet) -> ProposalView:
            record = proposal(sg, proposal_id)
            if record is None:
                raise NotFound(f"no proposal with id {proposal_id}")
            return proposal_json(record, height)

        return _response(with_state(build))

    def list_alerts(request: Request) -> Response:
        since = query_uint(request, "since", 0)
        limit = min(query_uint(request, "limit", 100), MAX_LIMIT)
        found = with_state(lambda sg: alerts(sg, since_id=since, limit=limit))
        body: RegAlertList = {"alerts": [alert_json(a) for a in found],
                              "last_id": found[-1].id if found else since}
        return _response(body)

    async def alert_stream(request: Request) -> Response:
        since = query_uint(request, "since", 0)
        try:
            queue = node.events.subscribe()
        except OverflowError as exc:
            return _response({"code": "too_many_subscribers", "message": str(exc)}, 503)
        stored = with_state(lambda sg: alerts(sg, since_id=since, limit=MAX_LIMIT)) if since else []

        async def stream() -> AsyncIterator[dict[str, str]]:
            last = stored[-1].id if stored else since
            try:
                for record in stored:
                    yield _sse_alert(record)
                while True:
                    message = await queue.get()
                    if message is None:
                        yield {"event": "error", "data": '{"code":"too_slow"}'}
                        return
                    for event in message.get("events", []):
                        record = alert_from_event(event)
                        if record is None or record.id <= last:
                            continue
                        last = record.id
                        yield _sse_alert(record)
            finally:
                node.events.unsubscribe(queue)

        return EventSourceResponse(stream(), ping=15)

    def get_audit(request: Request) -> Response:
        address = parse_address(request.path_params["address"])
        data = with_state(lambda sg: audit_json(sg, address))
        data["history"] = audit_history(node, address)  # the SQL index: its payments and calls
        return _response(data)

    def get_rules(request: Request) -> Response:
        return _response(with_state(lambda sg: to_plain(read_rules(sg))))

    def get_limits(request: Request) -> Response:
        tier = parse_uint(request.path_params["tier"], "tier", maximum=MAX_KYC_TIER)
        record = with_state(lambda sg: limits(sg, tier))
        body: TierLimitsView = {"tier": tier, **to_plain(record)}
        return _response(body)

    return [
        Route("/v1/orgs", list_orgs),
        Route("/v1/identities/{address}", get_identity),
        Route("/v1/gov/proposals", list_proposals),
        Route("/v1/gov/proposals/{proposal_id}", get_proposal),
        Route("/v1/reg/alerts", list_alerts),
        Route("/v1/reg/alerts/stream", alert_stream),
        Route("/v1/reg/audit/{address}", get_audit),
        Route("/v1/reg/rules", get_rules),
        Route("/v1/reg/limits/{tier}", get_limits),
    ]

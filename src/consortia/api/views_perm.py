"""Typed bodies of the permissioning routes (api/perm_routes.py: organisations, identities,
governance proposals; issue 16, decisions/0023)."""

from __future__ import annotations

from typing import Any, TypedDict


class OrgView(TypedDict):
    """An organisation: role, status, administrators, CA certificate (PEM text; empty: none)."""

    name: str
    role: str
    status: str
    admins: list[str]
    ca_pem: str
    has_ca: bool
    added_height: int
    removed_height: int


class OrgListView(TypedDict):
    """Whether the chain is permissioned, and its organisations."""

    permissioned: bool
    orgs: list[OrgView]


class IdentityView(TypedDict):
    """An enrolled identity: organisation, role, KYC tier, status, who enrolled or revoked it."""

    address: str
    org: str
    role: str
    kyc_tier: int
    pii_hash: str
    cert_hash: str | None
    status: str
    enrolled_height: int
    enrolled_by: str | None
    revoked_height: int
    revoked_by: str | None
    frozen: bool


class ProposalVoteView(TypedDict):
    org: str
    voter: str
    approve: bool
    height: int


class ProposalView(TypedDict):
    """A governance proposal: its payload as plain JSON (``raw`` hex when unreadable), votes and
    status at the head (``expired``: open past its deadline)."""

    id: int
    kind: str
    payload: Any
    proposer: str
    proposer_org: str
    created_height: int
    deadline_height: int
    electorate: int
    required: int
    approvals: int
    rejections: int
    votes: list[ProposalVoteView]
    status: str
    outcome: str
    closed_height: int


class ProposalListView(TypedDict):
    height: int
    proposals: list[ProposalView]


PERM_TYPES: dict[tuple[str, str], tuple[Any, ...]] = {
    ("get", "/v1/orgs"): (OrgListView,),
    ("get", "/v1/identities/{address}"): (IdentityView,),
    ("get", "/v1/gov/proposals"): (ProposalListView,),
    ("get", "/v1/gov/proposals/{id}"): (ProposalView,),
}
"""Those routes' 2xx bodies, for ``api/openapi.RESPONSE_TYPES``."""

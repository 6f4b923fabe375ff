"""Who a verified key is on this chain: its identity record and its organisation's role.

Read from committed state at each request, so a revocation (or an organisation's removal)
takes effect at the next block, with no session to expire."""

from __future__ import annotations

from dataclasses import dataclass

from consortia.api.auth.errors import RevokedIdentity, UnknownIdentity
from consortia.contracts.permissioned.directory import identity, org
from consortia.contracts.permissioned.records import ACTIVE, ADMIN, REGULATOR
from consortia.contracts.permissioned.store import StateGet
from consortia.crypto.address import format_address

AUDITOR = "auditor"


@dataclass(frozen=True)
class Principal:
    address: bytes
    org: str
    role: str
    """The identity's role: admin, validator, member, auditor or wallet."""
    org_role: str
    """Its organisation's role: central-bank, bank, regulator, ..."""

    @property
    def oversees(self) -> bool:
        """The regulator's identities and auditors read everything (their reads are audited)."""
        return self.org_role == REGULATOR or self.role == AUDITOR

    @property
    def org_admin(self) -> bool:
        return self.role == ADMIN


def principal_of(state_get: StateGet, address: bytes) -> Principal:
    record = identity(state_get, address)
    if record is None:
        raise UnknownIdentity(f"{format_address(address)} is no enrolled identity of this chain "
                              "(enrol it through its organisation first)")  # fmt: skip
    if record.status != ACTIVE:
        raise RevokedIdentity(f"the identity {format_address(address)} is {record.status}")
    home = org(state_get, record.org)
    if home is None or home.status != ACTIVE:
        raise RevokedIdentity(f"the organisation {record.org!r} of {format_address(address)} is not active")
    return Principal(address, record.org, record.role, home.role)


OPERATOR = Principal(b"", "", "validator", "operator")
"""The node's operator, signed in with the one-time link the node printed: staff of this node
(what the organisation's node holds anyway), no identity on chain."""

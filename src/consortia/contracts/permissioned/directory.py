"""Read-only queries over organisations and identities, shared by the contracts and the policy."""

from __future__ import annotations

from consortia.contracts.permissioned import keys
from consortia.contracts.permissioned.errors import (
    IdentityRevoked,
    NotOrgAdmin,
    OrganisationRemoved,
    UnknownIdentity,
)
from consortia.contracts.permissioned.records import (
    ACTIVE,
    ADMIN,
    AUDITOR,
    REGULATOR,
    GovParams,
    Identity,
    Org,
    OrgIndex,
    PermConfig,
)
from consortia.contracts.permissioned.store import StateGet, read
from consortia.errors import ConfigError


def config(state_get: StateGet) -> PermConfig:
    cfg = read(state_get, keys.CONFIG, PermConfig)
    if cfg is None:
        raise ConfigError("the permission layer is not initialised: genesis has no perm/cfg record")
    return cfg


def default_gov(state_get: StateGet) -> GovParams:
    return config(state_get).gov


def org(state_get: StateGet, name: str) -> Org | None:
    return read(state_get, keys.org(name), Org)


def org_names(state_get: StateGet) -> list[str]:
    index = read(state_get, keys.ORG_INDEX, OrgIndex)
    return [] if index is None else list(index.names)


def orgs(state_get: StateGet, *, active_only: bool = False) -> list[Org]:
    """All organisations in name order (removed ones too unless ``active_only``)."""
    out: list[Org] = []
    for name in org_names(state_get):
        record = org(state_get, name)
        if record is not None and (record.status == ACTIVE or not active_only):
            out.append(record)
    return out


def identity(state_get: StateGet, address: bytes) -> Identity | None:
    return read(state_get, keys.identity(address), Identity)


def active_identity(state_get: StateGet, address: bytes, who: str = "sender") -> tuple[Identity, Org]:
    """The identity at ``address`` and its organisation, both active; typed errors otherwise."""
    ident = identity(state_get, address)
    return check_active(ident, org(state_get, ident.org) if ident is not None else None, address, who)


def check_active(ident: Identity | None, owner: Org | None, address: bytes, who: str) -> tuple[Identity, Org]:
    """:func:`active_identity` on records already read (``owner``: the identity's organisation)."""
    if ident is None:
        raise UnknownIdentity(
            f"{who} 0x{address.hex()} has no enrolled identity; an organisation admin must enrol it",
            address=address,
        )
    if ident.status != ACTIVE:
        raise IdentityRevoked(
            f"{who} 0x{address.hex()} was revoked at height {ident.revoked_height}",
            address=address,
            revoked_height=ident.revoked_height,
        )
    if owner is None or owner.status != ACTIVE:
        raise OrganisationRemoved(
            f"{who} 0x{address.hex()} belongs to organisation {ident.org!r}, which was removed",
            address=address,
            org=ident.org,
        )
    return ident, owner


def require_admin(state_get: StateGet, address: bytes) -> tuple[Identity, Org]:
    """The caller as an active admin of an active organisation, or NotOrgAdmin."""
    ident, owner = active_identity(state_get, address, "caller")
    if ident.role != ADMIN:
        raise NotOrgAdmin(
            f"caller 0x{address.hex()} is a {ident.role} of {owner.name!r}, not an admin",
            role=ident.role,
            org=owner.name,
        )
    return ident, owner


def is_regulator_staff(state_get: StateGet, address: bytes) -> bool:
    """True for an active admin or auditor of an active ``regulator`` organisation."""
    ident = identity(state_get, address)
    if ident is None or ident.status != ACTIVE or ident.role not in (ADMIN, AUDITOR):
        return False
    owner = org(state_get, ident.org)
    return owner is not None and owner.status == ACTIVE and owner.role == REGULATOR


def in_regulator_org(state_get: StateGet, address: bytes) -> bool:
    """True for any identity (whatever its role or status) of a ``regulator`` organisation."""
    ident = identity(state_get, address)
    if ident is None:
        return False
    owner = org(state_get, ident.org)
    return owner is not None and owner.role == REGULATOR

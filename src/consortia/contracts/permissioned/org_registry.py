"""Writing organisations: shared by genesis and the governance ``add-org`` / ``remove-org`` kinds."""

from __future__ import annotations

import re

from msgspec.structs import replace

from consortia.codec import encode
from consortia.contracts.permissioned import keys, monetary
from consortia.contracts.permissioned.certs import check_ca_pem
from consortia.contracts.permissioned.directory import identity, org, org_names
from consortia.contracts.permissioned.errors import CertificateRejected, InvalidProposal
from consortia.contracts.permissioned.limits import MAX_ADMINS
from consortia.contracts.permissioned.records import (
    ACTIVE,
    ADMIN,
    ADMIN_KYC_TIER,
    ORG_ROLES,
    REGULATOR,
    REMOVED,
    Identity,
    Org,
    OrgIndex,
    OrgSpec,
)
from consortia.contracts.permissioned.store import StateGet, write
from consortia.execution.accounts import Account, account_key
from consortia.execution.context import TxState

NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")


def validate_org_spec(state_get: StateGet, spec: OrgSpec) -> None:
    """Raise InvalidProposal unless ``spec`` names a new, well-formed organisation."""
    if not NAME_PATTERN.fullmatch(spec.name):
        raise InvalidProposal(
            f"organisation name {spec.name!r} must be 1-64 of a-z, 0-9, '.', '_', '-' (starting alphanumeric)"
        )
    if spec.role not in ORG_ROLES:
        raise InvalidProposal(f"organisation role {spec.role!r} is not one of {list(ORG_ROLES)}")
    if org(state_get, spec.name) is not None:
        raise InvalidProposal(f"organisation {spec.name!r} already exists (names are never reused)")
    if not 1 <= len(spec.admins) <= MAX_ADMINS:
        raise InvalidProposal(f"an organisation needs 1 to {MAX_ADMINS} admin addresses")
    if len(set(spec.admins)) != len(spec.admins):
        raise InvalidProposal("organisation admin addresses must be distinct")
    for admin in spec.admins:
        if len(admin) != 20:
            raise InvalidProposal(f"admin address must be 20 bytes, got {len(admin)}")
        if identity(state_get, admin) is not None:
            raise InvalidProposal(f"admin 0x{admin.hex()} already has an identity")
    if spec.ca_pem:
        try:
            check_ca_pem(spec.ca_pem)
        except CertificateRejected as exc:
            raise InvalidProposal(f"organisation {spec.name!r}: {exc.message}") from None


def ensure_account(state: TxState, address: bytes) -> None:
    """Give ``address`` an empty account record (a nonce) if it has none, so it can transact."""
    if state.get(account_key(address)) is None:
        state.set(account_key(address), encode(Account(0, 0)))


def add_org(state: TxState, spec: OrgSpec, height: int, by: bytes, *, accounts: bool) -> Org:
    """Write a validated organisation, its index entry, its admins' identities and its reserve
    (the reverse record ``perm/reserve/<address>``; with ``accounts`` also the account records
    of the admins and of the reserve — at genesis :func:`~.genesis.required_accounts` lists them)."""
    record = Org(spec.name, spec.role, list(spec.admins), spec.ca_pem, ACTIVE, height)
    write(state, keys.org(spec.name), record)
    write(state, keys.ORG_INDEX, OrgIndex(sorted([*org_names(state.get), spec.name])))
    reserve = monetary.open_reserve(state, spec.name)
    if accounts:
        ensure_account(state, reserve)
    for admin in spec.admins:
        write(
            state,
            keys.identity(admin),
            Identity(admin, spec.name, ADMIN, ADMIN_KYC_TIER, b"", b"", ACTIVE, height, by),
        )
        if accounts:
            ensure_account(state, admin)
    return record


def check_removable(state_get: StateGet, name: str) -> Org:
    """The active organisation ``name``, unless removing it would leave no regulator."""
    record = org(state_get, name)
    if record is None or record.status != ACTIVE:
        raise InvalidProposal(f"no active organisation named {name!r}")
    if record.role == REGULATOR:
        others = [
            o
            for o in (org(state_get, n) for n in org_names(state_get))
            if o is not None and o.status == ACTIVE and o.role == REGULATOR and o.name != name
        ]
        if not others:
            raise InvalidProposal("cannot remove the last regulator organisation")
    return record


def remove_org(state: TxState, name: str, height: int) -> Org:
    record = check_removable(state.get, name)
    updated = replace(record, status=REMOVED, removed_height=height)
    write(state, keys.org(name), updated)
    return updated

"""Genesis records of the permission layer, written by the same code the contracts use.

The lead adds to :class:`~consortia.types.genesis.Genesis`::

    orgs: list[OrgSpec] = []
    identities: list[IdentitySpec] = []
    gov: GovParams = GovParams()
    tier_limits: list[TierLimitSpec] = []

and merges :func:`genesis_records` into the genesis writes (all keys start with ``perm/``, so they
never collide with account records). Every address that must transact (each org admin, each
genesis identity) also needs an account record for its nonce: give each address of
:func:`required_accounts` an allocation (balance 0 is fine) if it has none.
"""

from __future__ import annotations

from collections.abc import Sequence

from consortia.contracts.permissioned import keys, monetary, org_registry
from consortia.contracts.permissioned.directory import identity, org
from consortia.contracts.permissioned.errors import InvalidProposal, SupplyOverflow
from consortia.contracts.permissioned.limits import MAX_KYC_TIER, MIN_VALIDATOR_DELAY
from consortia.contracts.permissioned.records import (
    ACTIVE,
    IDENTITY_ROLES,
    GovParams,
    Identity,
    IdentitySpec,
    OrgSpec,
    PermConfig,
    SupplyTotals,
    TierLimits,
    ValidatorEpoch,
)
from consortia.contracts.permissioned.store import write
from consortia.crypto.suites import get_suite
from consortia.errors import ConfigError
from consortia.execution.accounts import MAX_AMOUNT
from consortia.execution.context import TxState
from consortia.execution.state_view import EmptyState
from consortia.types.genesis import Allocation, ValidatorInfo
from consortia.types.org_specs import TierLimitSpec


def _identity(state: TxState, spec: IdentitySpec) -> None:
    record = org(state.get, spec.org)
    if record is None:
        raise ConfigError(f"genesis identity 0x{spec.address.hex()}: no organisation {spec.org!r}")
    problems = [
        (len(spec.address) != 20, "address must be 20 bytes"),
        (spec.role not in IDENTITY_ROLES, f"role must be one of {list(IDENTITY_ROLES)}"),
        (not 0 <= spec.kyc_tier <= MAX_KYC_TIER, f"kyc_tier must be 0..{MAX_KYC_TIER}"),
        (len(spec.pii_hash) not in (0, 32), "pii_hash must be empty or 32 bytes"),
        (identity(state.get, spec.address) is not None, "address enrolled twice"),
    ]
    for bad, message in problems:
        if bad:
            raise ConfigError(f"genesis identity 0x{spec.address.hex()}: {message}")
    write(
        state,
        keys.identity(spec.address),
        Identity(spec.address, spec.org, spec.role, spec.kyc_tier, spec.pii_hash, b"", ACTIVE, 0, b""),
    )


def _tier_limits(state: TxState, specs: Sequence[TierLimitSpec]) -> None:
    seen: set[int] = set()
    for spec in specs:
        if not 0 <= spec.tier <= MAX_KYC_TIER or spec.tier in seen:
            raise ConfigError(
                f"genesis tier_limits: tier {spec.tier} must be 0..{MAX_KYC_TIER} and listed once"
            )
        seen.add(spec.tier)
        record = TierLimits(spec.per_payment, spec.daily, spec.balance)
        for value in (record.per_payment, record.daily, record.balance):
            if value is not None and not 0 <= value <= MAX_AMOUNT:
                raise ConfigError(
                    f"genesis tier_limits: tier {spec.tier} limit {value} is not nil or 0..{MAX_AMOUNT}"
                )
        if record != TierLimits():  # no record is no limit (as the regulator's set_limits)
            write(state, keys.limits(spec.tier), record)


def _genesis_supply(state: TxState, allocations: Sequence[Allocation]) -> None:
    """Genesis allocations count as issuance, attributed to the organisation of the identity
    (or reserve) holding them, else to ``"genesis"``."""
    write(state, keys.SUPPLY, SupplyTotals())
    for alloc in allocations:
        if alloc.balance <= 0:
            continue
        holder = identity(state.get, alloc.address)
        owner = holder.org if holder is not None else monetary.reserve_owner(state.get, alloc.address)
        try:
            monetary.record_supply(state, owner or monetary.GENESIS, issued=alloc.balance)
        except SupplyOverflow as exc:
            raise ConfigError(f"genesis allocations: {exc.message}") from None


def genesis_records(
    org_specs: Sequence[OrgSpec],
    *,
    suite: str,
    validators: Sequence[ValidatorInfo],
    identities: Sequence[IdentitySpec] = (),
    gov: GovParams = GovParams(),
    allocations: Sequence[Allocation] = (),
    tier_limits: Sequence[TierLimitSpec] = (),
) -> dict[bytes, bytes]:
    """The ``perm/`` state of a new chain: config, organisations with their admins and reserves,
    extra identities, tier limits, validator epoch 0 (the genesis set) and the supply records
    (``allocations`` count as issuance). Raises ConfigError on a bad spec."""
    get_suite(suite)
    if not org_specs:
        raise ConfigError("genesis needs at least one organisation")
    if not validators:
        raise ConfigError("genesis needs at least one validator")
    if not gov.threshold_den < 2 * gov.threshold_num <= 2 * gov.threshold_den:
        raise ConfigError("the governance threshold must be a fraction in (1/2, 1]")
    if gov.validator_delay < MIN_VALIDATOR_DELAY or gov.max_voting_blocks < 1:
        raise ConfigError(f"gov.validator_delay must be >= {MIN_VALIDATOR_DELAY}, max_voting_blocks >= 1")
    state = TxState(EmptyState())
    write(state, keys.CONFIG, PermConfig(suite, gov))
    for spec in org_specs:
        try:
            org_registry.validate_org_spec(state.get, spec)
        except InvalidProposal as exc:
            raise ConfigError(f"genesis organisation {spec.name!r}: {exc.message}") from None
        org_registry.add_org(state, spec, 0, b"", accounts=False)
    for ident in identities:
        _identity(state, ident)
    _tier_limits(state, tier_limits)
    _genesis_supply(state, allocations)
    write(state, keys.validator_epoch(0), ValidatorEpoch(0, list(validators), 0, 0))
    write(state, keys.VSET_COUNT, 1)
    return {key: value for key, value in sorted(state.writes.items()) if value is not None}


def required_accounts(org_specs: Sequence[OrgSpec], identities: Sequence[IdentitySpec] = ()) -> list[bytes]:
    """Addresses that need an account record (an allocation) at genesis, sorted: the admins,
    the genesis identities and every organisation's reserve."""
    addresses = {a for spec in org_specs for a in spec.admins} | {i.address for i in identities}
    addresses |= {monetary.reserve_address(spec.name) for spec in org_specs}
    return sorted(addresses)

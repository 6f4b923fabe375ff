"""Identity, governance and the regulator: who may do what, decided and overseen on chain.

Integration API (see each module for details; ``state_get`` is any ``key -> bytes | None``):

* system contracts: :func:`system_contracts` → ``identity``, ``governance``, ``regulator``;
  :func:`permissioned_contracts` adds the guarded ``currency``;
* genesis: :class:`OrgSpec`, :class:`IdentitySpec`, :class:`GovParams`, :func:`genesis_records`,
  :func:`required_accounts`;
* policy hooks: :func:`permissioned`, :func:`check_sender_identity`, :func:`check_call`,
  :func:`check_transfer`, :func:`observe_transfer`;
* consensus: :func:`validator_set_at`, :func:`pending_changes`;
* parameters and code: :func:`read_params`, :func:`read_gov`, :func:`is_approved_code`;
* queries: :func:`org`, :func:`orgs`, :func:`identity_record`, :func:`proposal`, :func:`proposals`,
  :func:`proposal_status`, :func:`alerts`, :func:`is_frozen`, :func:`limits`, :func:`audit`;
* monetary base (:mod:`.monetary`): :func:`reserve_address`, :func:`reserve_owner`,
  :func:`is_reserve`, :func:`supply` (:class:`Supply`).
"""

from __future__ import annotations

from consortia.contracts.permissioned.alerting import alerts
from consortia.contracts.permissioned.audit_view import AuditView, audit
from consortia.contracts.permissioned.currency import GuardedCurrency
from consortia.contracts.permissioned.directory import identity as identity_record
from consortia.contracts.permissioned.directory import org, orgs
from consortia.contracts.permissioned.genesis import genesis_records, required_accounts
from consortia.contracts.permissioned.governance import (
    GovernanceContract,
    proposal,
    proposal_status,
    proposals,
)
from consortia.contracts.permissioned.identity import IdentityContract, pii_commitment
from consortia.contracts.permissioned.monetary import (
    Supply,
    is_reserve,
    reserve_address,
    reserve_owner,
    supply,
)
from consortia.contracts.permissioned.params import is_approved_code, param_records, read_gov, read_params
from consortia.contracts.permissioned.policy import (
    SENDER_REFUSING_EVENTS,
    check_call,
    check_sender_and_call,
    check_sender_identity,
    check_transfer,
    observe_transfer,
    permissioned,
)
from consortia.contracts.permissioned.records import GovParams, IdentitySpec, OrgSpec
from consortia.contracts.permissioned.regulator import RegulatorContract, is_asset_frozen, is_frozen, limits
from consortia.contracts.permissioned.validators import pending_changes, validator_set_at

SystemContract = IdentityContract | GovernanceContract | RegulatorContract


def system_contracts() -> dict[str, SystemContract]:
    """The permission layer's system contracts by name, to merge into the executor's map."""
    contracts: list[SystemContract] = [IdentityContract(), GovernanceContract(), RegulatorContract()]
    return {c.name: c for c in contracts}


def permissioned_contracts() -> dict[str, SystemContract | GuardedCurrency]:
    """The executor's system contracts on a permissioned chain: :func:`system_contracts` and
    the currency with the policy wired in (the contract registry, which needs a contract host,
    is added by the node)."""
    return {**system_contracts(), "currency": GuardedCurrency()}


__all__ = [
    "SENDER_REFUSING_EVENTS",
    "AuditView",
    "GovParams",
    "GovernanceContract",
    "GuardedCurrency",
    "IdentityContract",
    "IdentitySpec",
    "OrgSpec",
    "RegulatorContract",
    "Supply",
    "alerts",
    "audit",
    "check_call",
    "check_sender_and_call",
    "check_sender_identity",
    "check_transfer",
    "genesis_records",
    "identity_record",
    "is_approved_code",
    "is_asset_frozen",
    "is_frozen",
    "is_reserve",
    "limits",
    "observe_transfer",
    "org",
    "orgs",
    "param_records",
    "pending_changes",
    "permissioned",
    "permissioned_contracts",
    "pii_commitment",
    "proposal",
    "proposal_status",
    "proposals",
    "read_gov",
    "read_params",
    "required_accounts",
    "reserve_address",
    "reserve_owner",
    "supply",
    "system_contracts",
    "validator_set_at",
]

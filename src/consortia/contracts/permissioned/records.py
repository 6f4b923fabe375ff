"""Every record the permission layer writes to state: canonical, array-like msgspec Structs."""

from __future__ import annotations

import msgspec

from consortia.types.org_specs import GovParams, IdentitySpec, OrgSpec  # noqa: F401 (re-exported)
from consortia.types.validator_epoch import ValidatorEpoch  # noqa: F401 (re-exported)

# --- vocabularies -------------------------------------------------------------------------------

ORG_ROLES = ("central-bank", "bank", "enterprise", "hospital", "grid", "regulator", "inspector")
REGULATOR = "regulator"
IDENTITY_ROLES = ("admin", "validator", "member", "auditor", "wallet")
ADMIN = "admin"
WALLET = "wallet"
"""A bank customer's wallet: opened by ``identity.open_wallet``, no certificate, no name."""
CENTRAL_BANK = "central-bank"
BANK = "bank"
AUDITOR = "auditor"
ACTIVE = "active"
REVOKED = "revoked"
REMOVED = "removed"
ADMIN_KYC_TIER = 100
"""KYC tier given to organisation admins enrolled at genesis or by an ``add-org`` proposal."""


# --- genesis specs (the lead adds these to Genesis) ---------------------------------------------


class PermConfig(msgspec.Struct, array_like=True, frozen=True):
    suite: str
    gov: GovParams


# --- organisations and identities ---------------------------------------------------------------


class Org(msgspec.Struct, array_like=True, frozen=True):
    name: str
    role: str
    admins: list[bytes]
    ca_pem: bytes
    status: str
    added_height: int
    removed_height: int = 0


class OrgIndex(msgspec.Struct, array_like=True, frozen=True):
    names: list[str]


class Identity(msgspec.Struct, array_like=True, frozen=True):
    address: bytes
    org: str
    role: str
    kyc_tier: int
    pii_hash: bytes
    cert_hash: bytes
    status: str
    enrolled_height: int
    enrolled_by: bytes
    revoked_height: int = 0
    revoked_by: bytes = b""


# --- governance ---------------------------------------------------------------------------------


class Vote(msgspec.Struct, array_like=True, frozen=True):
    org: str
    voter: bytes
    approve: bool
    height: int


class Proposal(msgspec.Struct, array_like=True, frozen=True):
    id: int
    kind: str
    payload: bytes
    proposer: bytes
    proposer_org: str
    created_height: int
    deadline_height: int
    electorate: int
    required: int
    votes: list[Vote]
    status: str
    outcome: str = ""
    closed_height: int = 0


class ContractCode(msgspec.Struct, array_like=True, frozen=True):
    """Payload of ``deploy-contract`` / ``upgrade-contract``."""

    name: str
    code_hash: bytes


class CodeApproval(msgspec.Struct, array_like=True, frozen=True):
    name: str
    code_hash: bytes
    version: int
    proposal_id: int
    height: int


class ParamChange(msgspec.Struct, array_like=True, frozen=True):
    """Payload of ``set-param``."""

    name: str
    value: int


# --- regulator ----------------------------------------------------------------------------------


class Freeze(msgspec.Struct, array_like=True, frozen=True):
    by: bytes
    height: int


class TierLimits(msgspec.Struct, array_like=True, frozen=True):
    """Per KYC tier; ``None`` is no limit. Per payment and per day apply to the sender's tier,
    balance to the recipient's."""

    per_payment: int | None = None
    daily: int | None = None
    balance: int | None = None


class LargeAmountRule(msgspec.Struct, array_like=True, frozen=True):
    threshold: int


class StructuringRule(msgspec.Struct, array_like=True, frozen=True):
    """``min_count`` payments in ``[threshold * (1 - margin_bps/10000), threshold)`` by one
    sender within ``window_blocks`` blocks."""

    threshold: int
    margin_bps: int
    min_count: int
    window_blocks: int


class VelocityRule(msgspec.Struct, array_like=True, frozen=True):
    """More than ``max_count`` payments, or more than ``max_value`` in total, by one sender
    within ``window_blocks`` blocks (0 disables that half)."""

    max_count: int
    max_value: int
    window_blocks: int


class AlertRules(msgspec.Struct, array_like=True, frozen=True):
    large_amount: LargeAmountRule | None = None
    structuring: StructuringRule | None = None
    velocity: VelocityRule | None = None


class DailyTotal(msgspec.Struct, array_like=True, frozen=True):
    day: int
    total: int
    count: int


class Bucket(msgspec.Struct, array_like=True, frozen=True):
    height: int
    count: int
    value: int


class Window(msgspec.Struct, array_like=True, frozen=True):
    """Per-block buckets of one sender's recent payments, oldest first."""

    buckets: list[Bucket]


class Activity(msgspec.Struct, array_like=True, frozen=True):
    """One account's recent payments in one record (one read and one write per payment): the
    UTC day's total and count for the tier limits, and the per-block buckets of the
    structuring and velocity rules' windows, oldest first."""

    day: int = 0
    total: int = 0
    count: int = 0
    structuring: list[Bucket] = msgspec.field(default_factory=list)
    velocity: list[Bucket] = msgspec.field(default_factory=list)


class Alert(msgspec.Struct, array_like=True, frozen=True):
    id: int
    rule: str
    address: bytes
    amount: int
    height: int
    timestamp_ms: int
    tx_hash: bytes
    detail: str


# --- monetary base ------------------------------------------------------------------------------


class SupplyTotals(msgspec.Struct, array_like=True, frozen=True):
    """Cumulative issuance and redemption: of the whole chain (``perm/supply``) or of one
    organisation (``perm/supply/<org>``). In circulation = issued - redeemed."""

    issued: int = 0
    redeemed: int = 0

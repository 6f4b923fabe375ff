"""Genesis specifications of the permission layer: organisations, identities, governance, tiers.

Plain data (canonical msgspec Structs) so that the genesis type can hold them; the rules that
interpret them live in :mod:`consortia.contracts.permissioned`.
"""

from __future__ import annotations

import msgspec


class OrgSpec(msgspec.Struct, array_like=True, frozen=True):
    """An organisation as genesis (or an ``add-org`` proposal) names it.

    ``ca_pem`` is the organisation's CA certificate (PEM); empty means public-key mode.
    """

    name: str
    role: str
    admins: list[bytes]
    ca_pem: bytes = b""


class IdentitySpec(msgspec.Struct, array_like=True, frozen=True):
    """An identity enrolled at genesis (e.g. the dev accounts), besides the org admins."""

    address: bytes
    org: str
    role: str
    kyc_tier: int
    pii_hash: bytes = b""


class GovParams(msgspec.Struct, array_like=True, frozen=True):
    """Governance defaults; each can be overridden later by ``set-param`` (names ``gov.*``)."""

    threshold_num: int = 2
    threshold_den: int = 3
    max_voting_blocks: int = 1_000_000
    validator_delay: int = 2


class TierLimitSpec(msgspec.Struct, array_like=True, frozen=True):
    """A KYC tier's limits at genesis (``None``: no limit), written to ``perm/limits/<tier>``;
    later changed by the regulator's ``set_limits``. Per payment and per day apply to a sender
    of that tier, balance to a recipient of that tier."""

    tier: int
    per_payment: int | None = None
    daily: int | None = None
    balance: int | None = None


FEN_PER_CNY = 100
"""Amounts are in fen (0.01 CNY) under :data:`ECNY_TIER_LIMITS`."""

ECNY_TIER_LIMITS: tuple[TierLimitSpec, ...] = (
    TierLimitSpec(1),  # full KYC (in person): unlimited
    TierLimitSpec(2, 50_000 * FEN_PER_CNY, 100_000 * FEN_PER_CNY, 500_000 * FEN_PER_CNY),
    TierLimitSpec(3, 5_000 * FEN_PER_CNY, 10_000 * FEN_PER_CNY, 20_000 * FEN_PER_CNY),
    TierLimitSpec(4, 2_000 * FEN_PER_CNY, 5_000 * FEN_PER_CNY, 10_000 * FEN_PER_CNY),  # phone number only
)
"""The published e-CNY wallet limits per tier (per payment, daily, balance), in fen: what
``consortia network init --orgs`` puts in the genesis. Tier 1 is unlimited (the dev members)."""

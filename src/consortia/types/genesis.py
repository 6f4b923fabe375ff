"""Genesis: the chain's identity, crypto suite, first validators, allocations and parameters."""

from __future__ import annotations

import msgspec

from consortia.limits import DEFAULT_MAX_BLOCK_BYTES, FRAME_BYTES, MAX_BLOCK_BYTES_CEILING
from consortia.types.org_specs import GovParams, IdentitySpec, OrgSpec, TierLimitSpec


class ChainParams(msgspec.Struct, array_like=True, frozen=True):
    """Limits every node enforces identically; changed later only by governance."""

    max_block_txs: int = 5000
    max_tx_bytes: int = 16 * 1024
    max_batch_txs: int = 10_000
    mempool_max_txs: int = 200_000
    block_interval_ms: int = 100
    empty_block_interval_ms: int = 1000
    max_expiry_window: int = 1_000_000
    snapshot_gap: int = 1000
    """A validator this many blocks behind installs a state snapshot instead of replaying."""
    max_block_bytes: int = DEFAULT_MAX_BLOCK_BYTES
    """Transaction and evidence bytes in one block; at most ``limits.MAX_BLOCK_BYTES_CEILING``
    so that every proposal and catch-up answer fits a p2p frame."""
    mempool_max_per_sender: int = 1000
    """Transactions one sender may have waiting in a node's pool."""
    mempool_org_share_percent: int = 50
    """On a permissioned chain, the share of the pool one organisation's members may fill."""

    def problems(self) -> list[str]:
        """What makes these parameters unusable together (empty: they are consistent)."""
        out: list[str] = []
        if not 1 <= self.max_block_bytes <= MAX_BLOCK_BYTES_CEILING:
            out.append(
                f"max_block_bytes must be in [1, {MAX_BLOCK_BYTES_CEILING}] (a p2p frame of "
                f"{FRAME_BYTES} bytes minus the proposal's envelope), got {self.max_block_bytes}"
            )
        if self.max_tx_bytes > self.max_block_bytes:
            out.append(
                f"max_tx_bytes ({self.max_tx_bytes}) exceeds max_block_bytes ({self.max_block_bytes}): "
                "such a transaction could never be in a block"
            )
        if self.mempool_max_per_sender < 1 or self.mempool_max_txs < 1:
            out.append("mempool limits must be at least 1")
        if not 1 <= self.mempool_org_share_percent <= 100:
            out.append(f"mempool_org_share_percent must be in [1, 100], got {self.mempool_org_share_percent}")
        if self.max_block_txs < 1 or self.max_batch_txs < 1:
            out.append("max_block_txs and max_batch_txs must be at least 1")
        return out


class ValidatorInfo(msgspec.Struct, array_like=True, frozen=True):
    name: str
    public_key: bytes


class Allocation(msgspec.Struct, array_like=True, frozen=True):
    address: bytes
    balance: int


class Genesis(msgspec.Struct, array_like=True, frozen=True):
    chain_id: str
    suite: str
    timestamp_ms: int
    validators: list[ValidatorInfo]
    allocations: list[Allocation]
    params: ChainParams = ChainParams()
    orgs: list[OrgSpec] = msgspec.field(default_factory=list)
    """Organisations with their CAs and admins; none = an open chain (no identity checks)."""
    identities: list[IdentitySpec] = msgspec.field(default_factory=list)
    gov: GovParams = GovParams()
    tier_limits: list[TierLimitSpec] = msgspec.field(default_factory=list)
    """KYC tier limits (``perm/limits/<tier>``) of a permissioned chain; none: no limits."""

"""Genesis: the chain's identity, crypto suite, first validators, allocations and parameters."""

from __future__ import annotations

import msgspec

from consortia.types.org_specs import GovParams, IdentitySpec, OrgSpec


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

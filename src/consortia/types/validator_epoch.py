"""A validator-set epoch as recorded on chain by governance (plain data, canonically encoded).

Stored under ``EPOCH_KEY_PREFIX + <epoch number, 4 bytes big-endian>``; offline proofs follow
these records from the genesis set to the set that certified a header.
"""

from __future__ import annotations

import msgspec

from consortia.types.genesis import ValidatorInfo

EPOCH_KEY_PREFIX = b"perm/vset/"


def signing_chain_id(chain_id: str, number: int) -> str:
    """The domain validators of epoch ``number`` sign in (the plain chain id for epoch 0)."""
    return chain_id if number == 0 else f"{chain_id}/epoch-{number}"


class ValidatorEpoch(msgspec.Struct, array_like=True, frozen=True):
    """The full validator set from ``effective_height`` on (until a later epoch starts)."""

    effective_height: int
    validators: list[ValidatorInfo]
    proposal_id: int
    decided_height: int

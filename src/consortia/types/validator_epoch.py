"""A validator-set epoch as recorded on chain by governance (plain data, canonically encoded).

Stored under ``EPOCH_KEY_PREFIX + <epoch number, 4 bytes big-endian>``; offline proofs follow
these records from the genesis set to the set that certified a header.
"""

from __future__ import annotations

import msgspec

from consortia.types.genesis import ValidatorInfo

EPOCH_KEY_PREFIX = b"perm/vset/"


class ValidatorEpoch(msgspec.Struct, array_like=True, frozen=True):
    """The full validator set from ``effective_height`` on (until a later epoch starts)."""

    effective_height: int
    validators: list[ValidatorInfo]
    proposal_id: int
    decided_height: int

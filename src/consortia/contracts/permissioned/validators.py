"""Validator-set epochs decided by governance.

Epoch 0 (written by :func:`~.genesis.genesis_records`) is the genesis set. An ``add-validator`` or
``remove-validator`` proposal executed at height ``h`` appends an epoch holding the *whole* new
set, effective at ``h + gov.validator_delay`` (default and minimum 2; never earlier than the previous epoch).
The set for height ``H`` is therefore fixed by the state committed at height ``H - 2``.
Blocks at heights ``>= effective_height`` are decided by the new set; consensus asks
:func:`validator_set_at` for every height it works on.
"""

from __future__ import annotations

from collections.abc import Sequence

from consortia.contracts.permissioned import keys
from consortia.contracts.permissioned.limits import MIN_VALIDATOR_DELAY
from consortia.contracts.permissioned.records import ValidatorEpoch
from consortia.contracts.permissioned.store import StateGet, read, read_int, write
from consortia.execution.context import TxState
from consortia.invariant import InvariantViolation
from consortia.types.genesis import ValidatorInfo


def epoch_count(state_get: StateGet) -> int:
    return read_int(state_get, keys.VSET_COUNT)


def epoch(state_get: StateGet, index: int) -> ValidatorEpoch | None:
    return read(state_get, keys.validator_epoch(index), ValidatorEpoch)


def epochs(state_get: StateGet) -> list[ValidatorEpoch]:
    """Every epoch, oldest first."""
    out: list[ValidatorEpoch] = []
    for index in range(epoch_count(state_get)):
        record = epoch(state_get, index)
        if record is None:
            raise InvariantViolation(f"validator epoch {index} of {epoch_count(state_get)} is missing")
        out.append(record)
    return out


def validator_set_at(
    state_get: StateGet, height: int, genesis_validators: Sequence[ValidatorInfo] = ()
) -> list[ValidatorInfo]:
    """The validator set deciding block ``height`` (the genesis set if no epoch applies)."""
    for index in range(epoch_count(state_get) - 1, -1, -1):
        record = epoch(state_get, index)
        if record is not None and record.effective_height <= height:
            return list(record.validators)
    return list(genesis_validators)


def latest_set(state_get: StateGet, genesis_validators: Sequence[ValidatorInfo] = ()) -> list[ValidatorInfo]:
    """The set after every decided change, pending ones included."""
    count = epoch_count(state_get)
    last = epoch(state_get, count - 1) if count else None
    return list(last.validators) if last is not None else list(genesis_validators)


def latest_epoch_start(state_get: StateGet) -> int:
    """The first height of the latest epoch (0: only the genesis set)."""
    count = epoch_count(state_get)
    last = epoch(state_get, count - 1) if count else None
    return last.effective_height if last is not None else 0


def pending_changes(state_get: StateGet, height: int) -> list[ValidatorEpoch]:
    """Epochs decided but not yet in force at ``height``, oldest first."""
    out: list[ValidatorEpoch] = []
    for index in range(epoch_count(state_get) - 1, -1, -1):
        record = epoch(state_get, index)
        if record is None or record.effective_height <= height:
            break
        out.append(record)
    return out[::-1]


def schedule(
    state: TxState, validators: list[ValidatorInfo], height: int, delay: int, proposal_id: int
) -> ValidatorEpoch:
    """Append an epoch with the full new set, effective ``delay`` blocks after ``height``."""
    count = epoch_count(state.get)
    last = epoch(state.get, count - 1) if count else None
    effective = height + max(MIN_VALIDATOR_DELAY, delay)
    if last is not None:
        effective = max(effective, last.effective_height)
    record = ValidatorEpoch(effective, validators, proposal_id, height)
    write(state, keys.validator_epoch(count), record)
    write(state, keys.VSET_COUNT, count + 1)
    return record

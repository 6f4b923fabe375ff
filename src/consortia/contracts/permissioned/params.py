"""Chain and governance parameters as overridden by ``set-param``, and approved contract code."""

from __future__ import annotations

from msgspec.structs import replace

from consortia.codec import encode
from consortia.contracts.permissioned import keys
from consortia.contracts.permissioned.directory import default_gov
from consortia.contracts.permissioned.errors import InvalidProposal
from consortia.contracts.permissioned.limits import MAX_PARAM, MIN_VALIDATOR_DELAY
from consortia.contracts.permissioned.records import CodeApproval, GovParams
from consortia.contracts.permissioned.store import StateGet, read, read_int
from consortia.types.genesis import ChainParams

GOV_PREFIX = "gov."
CHAIN_PARAM_NAMES: tuple[str, ...] = ChainParams.__struct_fields__
GOV_PARAM_NAMES: tuple[str, ...] = tuple(GOV_PREFIX + f for f in GovParams.__struct_fields__)
PARAM_NAMES: tuple[str, ...] = CHAIN_PARAM_NAMES + GOV_PARAM_NAMES
PARAM_FLOORS: dict[str, int] = {
    "max_tx_bytes": 4096,
    "max_block_txs": 1,
    "max_batch_txs": 1,
    "mempool_max_txs": 100,
    "max_expiry_window": 10,
    "max_block_bytes": 64 * 1024,
    GOV_PREFIX + "validator_delay": MIN_VALIDATOR_DELAY,
    GOV_PREFIX + "max_voting_blocks": 1,
}
"""Lowest values governance may set: below them the chain could not carry the proposal that
would undo the change (e.g. a ``max_tx_bytes`` too small for a governance transaction)."""


def _overrides(state_get: StateGet, names: tuple[str, ...], strip: str = "") -> dict[str, int]:
    out: dict[str, int] = {}
    for name in names:
        raw = state_get(keys.param(name))
        if raw is not None:
            out[name.removeprefix(strip)] = read_int(state_get, keys.param(name))
    return out


def param_records(params: ChainParams) -> dict[bytes, bytes]:
    """The genesis chain parameters as state records, so that state is their one owner: every
    component (and :func:`check_param`) reads them from there, overridden or not."""
    return {keys.param(name): encode(getattr(params, name)) for name in CHAIN_PARAM_NAMES}


def read_params(state_get: StateGet, defaults: ChainParams) -> ChainParams:
    """``defaults`` (the genesis ChainParams) with every governance override applied."""
    return replace(defaults, **_overrides(state_get, CHAIN_PARAM_NAMES))


def read_gov(state_get: StateGet) -> GovParams:
    """The governance parameters in force: genesis defaults plus ``gov.*`` overrides."""
    return replace(default_gov(state_get), **_overrides(state_get, GOV_PARAM_NAMES, GOV_PREFIX))


def check_param(state_get: StateGet, name: str, value: int) -> None:
    """Raise InvalidProposal unless setting ``name`` to ``value`` leaves consistent parameters."""
    if name not in PARAM_NAMES:
        raise InvalidProposal(f"unknown parameter {name!r}; known: {list(PARAM_NAMES)}")
    floor = PARAM_FLOORS.get(name, 1)
    if not floor <= value <= MAX_PARAM:
        raise InvalidProposal(f"parameter {name!r} must be an integer in [{floor}, 2**63), got {value}")
    if name in CHAIN_PARAM_NAMES:
        params = replace(read_params(state_get, ChainParams()), **{name: value})
        problems = params.problems()
        if problems:
            raise InvalidProposal(f"setting {name!r} to {value} is refused: " + "; ".join(problems))
    if name in (GOV_PREFIX + "threshold_num", GOV_PREFIX + "threshold_den"):
        gov = replace(read_gov(state_get), **{name.removeprefix(GOV_PREFIX): value})
        if not gov.threshold_den < 2 * gov.threshold_num <= 2 * gov.threshold_den:
            raise InvalidProposal(
                f"the voting threshold must be a fraction in (1/2, 1]; "
                f"{gov.threshold_num}/{gov.threshold_den} is not"
            )


def required_votes(electorate: int, gov: GovParams) -> int:
    """Organisations needed to pass: ceil(electorate * num / den), at least 1."""
    return max(1, -(-electorate * gov.threshold_num // gov.threshold_den))


def code_approval(state_get: StateGet, name: str) -> CodeApproval | None:
    return read(state_get, keys.code(name), CodeApproval)


def is_approved_code(state_get: StateGet, name: str, code_hash: bytes) -> bool:
    """True iff governance's latest approval for contract ``name`` is exactly ``code_hash``."""
    approval = code_approval(state_get, name)
    return approval is not None and approval.code_hash == code_hash

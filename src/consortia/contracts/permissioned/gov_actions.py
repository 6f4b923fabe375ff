"""What each governance proposal kind does: validate the payload, then apply it.

``prepare`` runs twice: when the proposal is made (so a malformed one is refused at once) and
again when it passes (state may have changed meanwhile; if it no longer applies the proposal is
closed as ``failed`` with the reason, and nothing else is written).

=====================  =================================================  ========================
kind                   payload (canonical MessagePack)                    effect when passed
=====================  =================================================  ========================
``add-org``            :class:`~.records.OrgSpec`                         org + admin identities
``remove-org``         ``str`` (organisation name)                        org status ``removed``
``add-validator``      :class:`~consortia.types.genesis.ValidatorInfo`    new validator epoch
``remove-validator``   ``bytes`` (the validator's public key)             new validator epoch
``set-param``          :class:`~.records.ParamChange`                     ``perm/param/<name>``
``deploy-contract``    :class:`~.records.ContractCode`                    ``perm/code/<name>`` v1
``upgrade-contract``   :class:`~.records.ContractCode`                    ``perm/code/<name>`` v+1
=====================  =================================================  ========================
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from consortia.codec import decode, encode
from consortia.contracts.permissioned import keys, org_registry, params, validators
from consortia.contracts.permissioned.directory import config
from consortia.contracts.permissioned.errors import InvalidProposal
from consortia.contracts.permissioned.limits import MAX_NAME
from consortia.contracts.permissioned.records import CodeApproval, ContractCode, OrgSpec, ParamChange
from consortia.contracts.permissioned.store import StateGet, write
from consortia.crypto.suites import get_suite
from consortia.errors import CryptoError, DecodeError
from consortia.execution.context import TxState
from consortia.types.genesis import ValidatorInfo

ADD_ORG = "add-org"
REMOVE_ORG = "remove-org"
ADD_VALIDATOR = "add-validator"
REMOVE_VALIDATOR = "remove-validator"
SET_PARAM = "set-param"
DEPLOY_CONTRACT = "deploy-contract"
UPGRADE_CONTRACT = "upgrade-contract"
KINDS = (ADD_ORG, REMOVE_ORG, ADD_VALIDATOR, REMOVE_VALIDATOR, SET_PARAM, DEPLOY_CONTRACT, UPGRADE_CONTRACT)

Apply = Callable[[TxState, int, int], str]
"""(state, height, proposal_id) -> outcome message. Never fails once prepared."""
T = TypeVar("T")


def _payload(kind: str, payload: bytes, typ: type[T]) -> T:
    try:
        return decode(payload, typ)
    except DecodeError as exc:
        raise InvalidProposal(f"{kind} payload must be a canonical {typ.__name__}: {exc.message}") from None


def _add_org(state_get: StateGet, payload: bytes) -> Apply:
    spec = _payload(ADD_ORG, payload, OrgSpec)
    org_registry.validate_org_spec(state_get, spec)

    def apply(state: TxState, height: int, _pid: int) -> str:
        org_registry.add_org(state, spec, height, b"", accounts=True)
        return f"organisation {spec.name!r} added with {len(spec.admins)} admin(s)"

    return apply


def _remove_org(state_get: StateGet, payload: bytes) -> Apply:
    name = _payload(REMOVE_ORG, payload, str)
    org_registry.check_removable(state_get, name)

    def apply(state: TxState, height: int, _pid: int) -> str:
        org_registry.remove_org(state, name, height)
        return f"organisation {name!r} removed"

    return apply


def _schedule(new_set: list[ValidatorInfo], what: str) -> Apply:
    def apply(state: TxState, height: int, proposal_id: int) -> str:
        delay = params.read_gov(state.get).validator_delay
        epoch = validators.schedule(state, new_set, height, delay, proposal_id)
        return f"{what}; {len(new_set)} validators from height {epoch.effective_height}"

    return apply


def _add_validator(state_get: StateGet, payload: bytes) -> Apply:
    info = _payload(ADD_VALIDATOR, payload, ValidatorInfo)
    if not 1 <= len(info.name) <= MAX_NAME:
        raise InvalidProposal(f"validator name must be 1-{MAX_NAME} characters")
    try:
        get_suite(config(state_get).suite).check_public_key(info.public_key)
    except CryptoError as exc:
        raise InvalidProposal(f"validator public key: {exc.message}") from None
    current = validators.latest_set(state_get)
    if any(v.public_key == info.public_key or v.name == info.name for v in current):
        raise InvalidProposal(f"validator {info.name!r} (or its key) is already in the set")
    return _schedule([*current, info], f"validator {info.name!r} added")


def _remove_validator(state_get: StateGet, payload: bytes) -> Apply:
    public_key = _payload(REMOVE_VALIDATOR, payload, bytes)
    current = validators.latest_set(state_get)
    remaining = [v for v in current if v.public_key != public_key]
    if len(remaining) == len(current):
        raise InvalidProposal(f"no validator with public key 0x{public_key.hex()} in the set")
    if not remaining:
        raise InvalidProposal("cannot remove the last validator")
    return _schedule(remaining, "validator removed")


def _set_param(state_get: StateGet, payload: bytes) -> Apply:
    change = _payload(SET_PARAM, payload, ParamChange)
    params.check_param(state_get, change.name, change.value)

    def apply(state: TxState, _height: int, _pid: int) -> str:
        state.set(keys.param(change.name), encode(change.value))
        return f"parameter {change.name} = {change.value}"

    return apply


def _code(kind: str, state_get: StateGet, payload: bytes) -> Apply:
    code = _payload(kind, payload, ContractCode)
    if not 1 <= len(code.name) <= MAX_NAME or len(code.code_hash) != 32:
        raise InvalidProposal("contract code needs a 1-64 character name and a 32-byte code hash")
    current = params.code_approval(state_get, code.name)
    if kind == DEPLOY_CONTRACT and current is not None:
        raise InvalidProposal(f"contract {code.name!r} is already deployed; propose upgrade-contract")
    if kind == UPGRADE_CONTRACT and current is None:
        raise InvalidProposal(f"contract {code.name!r} is not deployed; propose deploy-contract")
    version = 1 if current is None else current.version + 1

    def apply(state: TxState, height: int, proposal_id: int) -> str:
        write(
            state, keys.code(code.name), CodeApproval(code.name, code.code_hash, version, proposal_id, height)
        )
        return f"contract {code.name!r} version {version} approved"

    return apply


_PREPARE: dict[str, Callable[[StateGet, bytes], Apply]] = {
    ADD_ORG: _add_org,
    REMOVE_ORG: _remove_org,
    ADD_VALIDATOR: _add_validator,
    REMOVE_VALIDATOR: _remove_validator,
    SET_PARAM: _set_param,
    DEPLOY_CONTRACT: lambda sg, p: _code(DEPLOY_CONTRACT, sg, p),
    UPGRADE_CONTRACT: lambda sg, p: _code(UPGRADE_CONTRACT, sg, p),
}


def prepare(state_get: StateGet, kind: str, payload: bytes) -> Apply:
    """Validate a proposal of ``kind``; the function that applies it. InvalidProposal if not."""
    builder = _PREPARE.get(kind)
    if builder is None:
        raise InvalidProposal(f"unknown proposal kind {kind!r}; kinds: {list(KINDS)}")
    return builder(state_get, payload)

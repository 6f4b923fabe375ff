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
``join-org``           :class:`~consortia.types.org_bundle.OrgBundle`      org + admin, new validator
                                                                          epoch, node directory entry
``rotate-validator``   :class:`KeyChange` (old and new public key)        new validator epoch, rotation
``rotate-ca``          :class:`~consortia.types.ca_rotation.               org's CA replaced, CA change
                       CaRotationRequest` (signed by the org's admin)     (:mod:`.ca_rotation`)
=====================  =================================================  ========================

``join-org`` and ``rotate-validator`` are described in :mod:`.node_directory` (decisions/0015).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import msgspec

from consortia.codec import decode, encode
from consortia.contracts.permissioned import (
    ca_rotation,
    keys,
    node_directory,
    org_registry,
    params,
    validators,
)
from consortia.contracts.permissioned.certs import check_ca_pem
from consortia.contracts.permissioned.directory import config
from consortia.contracts.permissioned.errors import CertificateRejected, InvalidProposal
from consortia.contracts.permissioned.limits import MAX_HOST, MAX_NAME, MAX_PORT
from consortia.contracts.permissioned.records import CodeApproval, ContractCode, OrgSpec, ParamChange
from consortia.contracts.permissioned.store import StateGet, write
from consortia.crypto.address import address_from_public_key
from consortia.crypto.suites import get_suite
from consortia.errors import CryptoError, DecodeError
from consortia.execution.context import BlockContext, TxState
from consortia.types.ca_rotation import CaRotationRequest
from consortia.types.genesis import ValidatorInfo
from consortia.types.org_bundle import BUNDLE_FORMAT, OrgBundle, bundle_signing_bytes

ADD_ORG = "add-org"
REMOVE_ORG = "remove-org"
ADD_VALIDATOR = "add-validator"
REMOVE_VALIDATOR = "remove-validator"
SET_PARAM = "set-param"
DEPLOY_CONTRACT = "deploy-contract"
UPGRADE_CONTRACT = "upgrade-contract"
JOIN_ORG = "join-org"
ROTATE_VALIDATOR = "rotate-validator"
ROTATE_CA = "rotate-ca"
KINDS = (
    ADD_ORG, REMOVE_ORG, ADD_VALIDATOR, REMOVE_VALIDATOR, SET_PARAM, DEPLOY_CONTRACT, UPGRADE_CONTRACT,
    JOIN_ORG, ROTATE_VALIDATOR, ROTATE_CA,
)  # fmt: skip


class KeyChange(msgspec.Struct, array_like=True, frozen=True):
    """A ``rotate-validator`` payload: the validator's current and its new consensus key."""

    old_public_key: bytes
    new_public_key: bytes

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


def _check_new_validator_key(state_get: StateGet, public_key: bytes, what: str) -> list[ValidatorInfo]:
    """The latest validator set, after checking ``public_key`` is a valid key not yet in it."""
    try:
        get_suite(config(state_get).suite).check_public_key(public_key)
    except CryptoError as exc:
        raise InvalidProposal(f"{what}: {exc.message}") from None
    current = validators.latest_set(state_get)
    if any(v.public_key == public_key for v in current):
        raise InvalidProposal(f"{what} 0x{public_key.hex()} is already in the validator set")
    return current


def _check_bundle(state_get: StateGet, bundle: OrgBundle) -> None:
    """The checks of ``node/org_home.verify_bundle`` that need no file system: format, suite,
    endpoint, TLS digest, admin signature."""
    body, suite = bundle.body, config(state_get).suite
    who = f"the bundle of {body.name!r}"
    if body.format != BUNDLE_FORMAT:
        raise InvalidProposal(f"{who} has format {body.format!r}, expected {BUNDLE_FORMAT!r}")
    if body.suite != suite:
        raise InvalidProposal(f"{who} uses suite {body.suite!r}; this chain uses {suite!r}")
    if not body.host or len(body.host) > MAX_HOST or any(c.isspace() for c in body.host):
        raise InvalidProposal(f"{who}: host must be 1-{MAX_HOST} characters without spaces")
    if not (1 <= body.p2p_port <= MAX_PORT and 1 <= body.api_port <= MAX_PORT):
        raise InvalidProposal(f"{who}: ports must be from 1 to {MAX_PORT}")
    if len(body.tls_spki_sha256) != 32:
        raise InvalidProposal(f"{who}: its TLS key digest must be 32 bytes")
    try:
        valid = get_suite(suite).verify(body.admin_public_key, bundle_signing_bytes(body), bundle.signature)
    except CryptoError:
        valid = False
    if not valid:
        raise InvalidProposal(f"{who} has a bad signature: it was changed after its admin signed it")


def _join_org(state_get: StateGet, payload: bytes) -> Apply:
    bundle = _payload(JOIN_ORG, payload, OrgBundle)
    _check_bundle(state_get, bundle)
    body = bundle.body
    suite = config(state_get).suite
    try:
        admin = address_from_public_key(get_suite(suite), body.admin_public_key)
    except CryptoError as exc:
        raise InvalidProposal(f"the bundle of {body.name!r}: admin public key: {exc.message}") from None
    ca_pem = body.ca_pem if suite == "ed25519" else b""  # as genesis: public-key mode on sm2
    spec = OrgSpec(body.name, body.role, [admin], ca_pem)
    org_registry.validate_org_spec(state_get, spec)
    if body.ca_pem and not ca_pem:
        try:
            check_ca_pem(body.ca_pem)
        except CertificateRejected as exc:
            raise InvalidProposal(f"organisation {body.name!r}: {exc.message}") from None
    current = _check_new_validator_key(state_get, body.validator_public_key, "validator public key")
    info = ValidatorInfo(f"{body.name}-validator", body.validator_public_key)
    if any(v.name == info.name for v in current):
        raise InvalidProposal(f"validator {info.name!r} is already in the set")
    schedule = _schedule([*current, info], f"organisation {body.name!r} joined")

    def apply(state: TxState, height: int, proposal_id: int) -> str:
        org_registry.add_org(state, spec, height, b"", accounts=True)
        entry = node_directory.add_node(state, bundle, proposal_id, height)
        done = schedule(state, height, proposal_id)
        return f"{done}; its node is transport index {entry.index} at {body.host}:{body.p2p_port}"

    return apply


def _rotate_validator(state_get: StateGet, payload: bytes) -> Apply:
    change = _payload(ROTATE_VALIDATOR, payload, KeyChange)
    current = _check_new_validator_key(state_get, change.new_public_key, "new validator key")
    position = next((i for i, v in enumerate(current) if v.public_key == change.old_public_key), None)
    if position is None:
        raise InvalidProposal(f"no validator with public key 0x{change.old_public_key.hex()} in the set")
    name = current[position].name
    new_set = list(current)
    new_set[position] = ValidatorInfo(name, change.new_public_key)
    schedule = _schedule(new_set, f"validator {name!r} rotated to a new key")

    def apply(state: TxState, height: int, proposal_id: int) -> str:
        done = schedule(state, height, proposal_id)
        effective = validators.latest_epoch_start(state.get)
        rotation = node_directory.KeyRotation(
            change.old_public_key, change.new_public_key, proposal_id, height, effective
        )
        node_directory.add_rotation(state, rotation)
        return done

    return apply


def _rotate_ca(state_get: StateGet, payload: bytes, block: BlockContext | None) -> Apply:
    request = _payload(ROTATE_CA, payload, CaRotationRequest)
    if block is None:
        raise InvalidProposal("a rotate-ca proposal is checked at a block's height and time")
    record = ca_rotation.check_request(state_get, request, block.height, block.timestamp_ms)

    def apply(state: TxState, height: int, proposal_id: int) -> str:
        delay = params.read_gov(state.get).validator_delay
        change = ca_rotation.apply(state, record, request, height, proposal_id, delay)
        return (
            f"the CA of organisation {record.name!r} is replaced: its node presents a certificate of "
            f"the new CA from height {change.effective_height}; the old CA is accepted until height "
            f"{change.retire_height}"
        )

    return apply


_PREPARE: dict[str, Callable[[StateGet, bytes], Apply]] = {
    ADD_ORG: _add_org,
    REMOVE_ORG: _remove_org,
    ADD_VALIDATOR: _add_validator,
    REMOVE_VALIDATOR: _remove_validator,
    SET_PARAM: _set_param,
    DEPLOY_CONTRACT: lambda sg, p: _code(DEPLOY_CONTRACT, sg, p),
    UPGRADE_CONTRACT: lambda sg, p: _code(UPGRADE_CONTRACT, sg, p),
    JOIN_ORG: _join_org,
    ROTATE_VALIDATOR: _rotate_validator,
}


def prepare(state_get: StateGet, kind: str, payload: bytes, block: BlockContext | None = None) -> Apply:
    """Validate a proposal of ``kind`` (at ``block``: ``rotate-ca`` needs its height and time);
    the function that applies it. InvalidProposal if not."""
    if kind == ROTATE_CA:
        return _rotate_ca(state_get, payload, block)
    builder = _PREPARE.get(kind)
    if builder is None:
        raise InvalidProposal(f"unknown proposal kind {kind!r}; kinds: {list(KINDS)}")
    return builder(state_get, payload)

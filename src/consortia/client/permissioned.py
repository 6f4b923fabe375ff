"""The permission layer from Python: identities, governance and the regulator.

    with Client("http://127.0.0.1:8600") as client:
        admin = PermWallet(Wallet(load_key_file(Path("net/orgs/bank-a/admin.key")), client))
        new = prepare_identity("Erin Example", client.genesis().suite, ca_cert_pem, ca_key_pem)
        admin.enroll(new.key.address, kyc_tier=1, pii_hash=new.pii_hash, certificate=new.certificate)
        pid = admin.propose(SET_PARAM, set_param_payload("max_block_txs", 4000))
        PermQueries(client).proposal(pid)["status"]

Every action is one transaction that waits for finality; a refused or failed one raises the typed
error (``LimitExceeded``, ``NotRegulator``, ``ProposalExpired``, ...). Queries read the node's
committed state through ``/v1/orgs``, ``/v1/identities``, ``/v1/gov``, ``/v1/reg``.
"""

from __future__ import annotations

import datetime
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import consortia.contracts.permissioned.errors  # noqa: F401 (error_from_dict learns the codes)
from consortia.client.arguments import InvalidArgument, check_value, is_int
from consortia.client.client import Client
from consortia.client.tx_builder import transfer_call
from consortia.client.wallet import TxResult, Wallet
from consortia.codec import decode, encode
from consortia.contracts.permissioned import governance, identity, regulator
from consortia.contracts.permissioned.certs import issue_identity_cert
from consortia.contracts.permissioned.gov_actions import (
    ADD_ORG,
    ADD_VALIDATOR,
    DEPLOY_CONTRACT,
    KINDS,
    REMOVE_ORG,
    REMOVE_VALIDATOR,
    SET_PARAM,
    UPGRADE_CONTRACT,
)
from consortia.contracts.permissioned.records import ContractCode, OrgSpec, ParamChange
from consortia.crypto.address import format_address
from consortia.crypto.keyfile import save_key_file
from consortia.crypto.keys import KeyPair
from consortia.errors import DecodeError, error_from_dict
from consortia.types.genesis import ValidatorInfo
from consortia.types.transaction import Call

__all__ = [
    "ADD_ORG",
    "ADD_VALIDATOR",
    "DEPLOY_CONTRACT",
    "KINDS",
    "REMOVE_ORG",
    "REMOVE_VALIDATOR",
    "SET_PARAM",
    "UPGRADE_CONTRACT",
    "NewIdentity",
    "PermQueries",
    "PermWallet",
    "add_org_payload",
    "add_validator_payload",
    "code_payload",
    "prepare_identity",
    "raise_for_result",
    "remove_org_payload",
    "remove_validator_payload",
    "set_param_payload",
]

DEFAULT_VOTING_BLOCKS = 1000
CERT_VALID_DAYS = 365
SALT_BYTES = 32
MAX_KYC_TIER = 255
"""KYC tiers are one byte on chain (0 the strictest)."""


def raise_for_result(result: TxResult) -> TxResult:
    """``result`` if it succeeded; otherwise the typed error its receipt names."""
    if result.status != "ok":
        err = error_from_dict({"code": result.status, "message": result.error or result.status})
        err.details.setdefault("tx_hash", "0x" + result.tx_hash.hex())
        err.details.setdefault("height", result.height)
        raise err
    return result


# --- proposal payloads ----------------------------------------------------------------------


def add_org_payload(name: str, role: str, admins: list[bytes], ca_pem: bytes = b"") -> bytes:
    return encode(OrgSpec(name, role, admins, ca_pem))


def remove_org_payload(name: str) -> bytes:
    return encode(name)


def add_validator_payload(name: str, public_key: bytes) -> bytes:
    return encode(ValidatorInfo(name, public_key))


def remove_validator_payload(public_key: bytes) -> bytes:
    return encode(public_key)


def set_param_payload(name: str, value: int) -> bytes:
    return encode(ParamChange(name, value))


def code_payload(name: str, code_hash: bytes) -> bytes:
    """Payload of ``deploy-contract`` / ``upgrade-contract``."""
    return encode(ContractCode(name, code_hash))


# --- a new identity (off chain) ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NewIdentity:
    """A fresh key with its PII commitment; ``name`` and ``salt`` never go on chain."""

    key: KeyPair
    name: str
    salt: bytes
    pii_hash: bytes
    certificate: bytes

    def save(self, out: Path, password: str | None, **extra: Any) -> Path:
        """Write the key file ``out`` and, next to it, ``<stem>.pii.json`` (name, salt; mode 0600)."""
        save_key_file(out, self.key, password)
        record = {"address": format_address(self.key.address), "name": self.name,
                  "salt": "0x" + self.salt.hex(), "pii_hash": "0x" + self.pii_hash.hex(), **extra}
        pii_file = out.with_name(out.stem + ".pii.json")
        fd = os.open(pii_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(json.dumps(record, indent=2) + "\n")
        return pii_file


def prepare_identity(
    name: str,
    suite: str,
    ca_cert_pem: bytes | None = None,
    ca_key_pem: bytes | None = None,
    valid_days: int = CERT_VALID_DAYS,
) -> NewIdentity:
    """A new key, ``pii_commitment(fresh salt, name)`` and, given the org's CA, its certificate."""
    key = KeyPair.generate(suite)
    salt = os.urandom(SALT_BYTES)
    pii_hash = identity.pii_commitment(salt, name.encode(), suite)
    certificate = b""
    if ca_cert_pem is not None and ca_key_pem is not None:
        now = datetime.datetime.now(datetime.UTC)
        certificate = issue_identity_cert(
            ca_cert_pem, ca_key_pem, key.public_key, name,
            now - datetime.timedelta(minutes=10), now + datetime.timedelta(days=valid_days),
        )  # fmt: skip
    return NewIdentity(key, name, salt, pii_hash, certificate)


# --- actions ------------------------------------------------------------------------------------


class PermWallet:
    """A wallet's permissioned actions; each waits for finality and raises on refusal."""

    def __init__(self, wallet: Wallet, timeout: float = 30.0) -> None:
        self.wallet = wallet
        self.client = wallet.client
        self.timeout = timeout

    @property
    def address(self) -> bytes:
        return self.wallet.address

    def call(self, contract: str, method: str, args: bytes) -> TxResult:
        result = self.wallet.send(Call(contract, method, args), wait=True, timeout=self.timeout)
        assert isinstance(result, TxResult)
        return raise_for_result(result)

    def transfer(self, to: bytes, amount: int) -> TxResult:
        return self.call(*_call_parts(transfer_call(to, amount)))

    # identity
    def enroll(
        self, address: bytes, kyc_tier: int, pii_hash: bytes, certificate: bytes = b"", role: str = "member"
    ) -> TxResult:
        args = identity.encode_enroll_args(address, role, kyc_tier, pii_hash, certificate)
        return self.call(identity.NAME, identity.ENROLL, args)

    def revoke(self, address: bytes) -> TxResult:
        return self.call(identity.NAME, identity.REVOKE, identity.encode_revoke_args(address))

    # governance
    def propose(
        self, kind: str, payload: bytes, deadline_height: int | None = None,
        voting_blocks: int = DEFAULT_VOTING_BLOCKS,
    ) -> int:  # fmt: skip
        """Make a proposal (the proposer's organisation approves it); its id."""
        if deadline_height is None:
            deadline_height = self.client.height() + voting_blocks
        args = governance.encode_propose_args(kind, payload, deadline_height)
        result = self.call(governance.NAME, governance.PROPOSE, args)
        for event in self.client.tx(result.tx_hash)["receipt"]["events"]:
            if event["contract"] == governance.NAME and event["name"] == "Proposed":
                return int(decode(bytes.fromhex(event["data"][2:]), list[Any])[0])
        raise DecodeError(f"proposal transaction 0x{result.tx_hash.hex()} emitted no Proposed event")

    def vote(self, proposal_id: int, approve: bool) -> TxResult:
        args = governance.encode_vote_args(proposal_id, approve)
        return self.call(governance.NAME, governance.VOTE, args)

    # regulator
    def freeze(self, address: bytes) -> TxResult:
        return self.call(regulator.NAME, regulator.FREEZE, regulator.encode_address_args(address))

    def unfreeze(self, address: bytes) -> TxResult:
        return self.call(regulator.NAME, regulator.UNFREEZE, regulator.encode_address_args(address))

    def freeze_asset(self, asset: str, freeze: bool = True) -> TxResult:
        method = regulator.FREEZE_ASSET if freeze else regulator.UNFREEZE_ASSET
        return self.call(regulator.NAME, method, regulator.encode_asset_args(asset))

    def set_limits(
        self, tier: int, per_payment: int | None = None, daily: int | None = None, balance: int | None = None
    ) -> TxResult:
        """Checked before signing: a tier 0..255 and each limit None (no limit) or 0..2**64-1."""
        if not is_int(tier) or not 0 <= tier <= MAX_KYC_TIER:  # type: ignore[operator]
            raise InvalidArgument(f"a KYC tier is from 0 to {MAX_KYC_TIER}, got {tier!r:.60}")
        for what, limit in (("per-payment limit", per_payment), ("daily limit", daily),
                            ("balance limit", balance)):
            if limit is not None:
                check_value(limit, what)
        args = regulator.encode_limits_args(tier, per_payment, daily, balance)
        return self.call(regulator.NAME, regulator.SET_LIMITS, args)

    def set_rule(self, rule: str, params: list[int]) -> TxResult:
        """``large_amount [threshold]``, ``structuring [threshold, margin_bps, min_count,
        window_blocks]``, ``velocity [max_count, max_value, window_blocks]``; ``[]`` disables."""
        return self.call(regulator.NAME, regulator.SET_RULE, regulator.encode_rule_args(rule, params))


def _call_parts(call: Call) -> tuple[str, str, bytes]:
    return call.contract, call.method, call.args


# --- queries ------------------------------------------------------------------------------------


class PermQueries:
    """Read-only views of the committed permission state, through the node's REST API."""

    def __init__(self, client: Client) -> None:
        self.client = client

    def orgs(self) -> list[dict[str, Any]]:
        return list(self.client.get("/v1/orgs")["orgs"])

    def org(self, name: str) -> dict[str, Any]:
        for record in self.orgs():
            if record["name"] == name:
                return record
        raise error_from_dict({"code": "not_found", "message": f"no organisation {name!r}"})

    def identity(self, address: bytes) -> dict[str, Any]:
        return self.client.get(f"/v1/identities/{format_address(address)}")  # type: ignore[no-any-return]

    def proposals(self, since: int = 0, limit: int = 100) -> list[dict[str, Any]]:
        return list(self.client.get("/v1/gov/proposals", since=since, limit=limit)["proposals"])

    def proposal(self, proposal_id: int) -> dict[str, Any]:
        return self.client.get(f"/v1/gov/proposals/{proposal_id}")  # type: ignore[no-any-return]

    def alerts(self, since: int = 0, limit: int = 100) -> list[dict[str, Any]]:
        return list(self.client.get("/v1/reg/alerts", since=since, limit=limit)["alerts"])

    def audit(self, address: bytes) -> dict[str, Any]:
        return self.client.get(f"/v1/reg/audit/{format_address(address)}")  # type: ignore[no-any-return]

    def rules(self) -> dict[str, Any]:
        return self.client.get("/v1/reg/rules")  # type: ignore[no-any-return]

    def limits(self, tier: int) -> dict[str, Any]:
        return self.client.get(f"/v1/reg/limits/{tier}")  # type: ignore[no-any-return]


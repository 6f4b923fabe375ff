"""An in-memory driver for the permission layer: a dict state, blocks, and transactions run the
way the executor is meant to run them once wired (see the package docs).

For tests and for contract authors; no storage, no signatures, no consensus. Each call:

1. ``check_sender`` and ``check_call`` (what admission and execution both enforce) — a refusal
   returns an :class:`Outcome` with its code and changes nothing;
2. the contract runs on a :class:`TxState`; an error drops its writes, success applies them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field

from consortia.codec import encode
from consortia.contracts.native_currency import encode_transfer_args
from consortia.contracts.permissioned import system_contracts
from consortia.contracts.permissioned.currency import GuardedCurrency
from consortia.contracts.permissioned.genesis import genesis_records, required_accounts
from consortia.contracts.permissioned.identity import encode_enroll_args, pii_commitment
from consortia.contracts.permissioned.policy import check_call, check_sender
from consortia.contracts.permissioned.records import GovParams, OrgSpec
from consortia.crypto.keys import KeyPair
from consortia.errors import ConsortiaError, InvalidCall
from consortia.execution.accounts import Account, account_key, decode_account, encode_account
from consortia.execution.context import BlockContext, CallContext, TxState
from consortia.execution.executor import NativeContract
from consortia.invariant import invariant
from consortia.types.genesis import ValidatorInfo
from consortia.types.receipt import Event

DAY_MS = 86_400_000


@dataclass(slots=True)
class DictState:
    data: dict[bytes, bytes] = field(default_factory=dict)

    def get(self, key: bytes) -> bytes | None:
        return self.data.get(key)


@dataclass(slots=True)
class Outcome:
    code: str
    message: str
    writes: dict[bytes, bytes | None]
    events: list[Event]

    @property
    def ok(self) -> bool:
        return self.code == "ok"

    def event_names(self) -> list[str]:
        return [e.name for e in self.events]


class Harness:
    def __init__(
        self,
        genesis: Mapping[bytes, bytes],
        *,
        chain_id: str = "perm-test",
        timestamp_ms: int = 1_700_000_000_000,
        block_ms: int = 1000,
    ) -> None:
        self.state = DictState(dict(genesis))
        self.chain_id = chain_id
        self.height = 1
        self.timestamp_ms = timestamp_ms
        self.block_ms = block_ms
        self.tx_count = 0
        self.contracts: dict[str, NativeContract] = {**system_contracts(), "currency": GuardedCurrency()}

    def get(self, key: bytes) -> bytes | None:
        return self.state.get(key)

    def next_block(self, blocks: int = 1, ms: int | None = None) -> None:
        """Move ``blocks`` blocks ahead; time moves ``ms`` (default ``block_ms`` per block)."""
        self.height += blocks
        self.timestamp_ms += self.block_ms * blocks if ms is None else ms

    def block(self) -> BlockContext:
        return BlockContext(self.chain_id, self.height, self.timestamp_ms, 0)

    def call(self, sender: bytes, contract: str, method: str, args: bytes) -> Outcome:
        self.tx_count += 1
        tx_hash = hashlib.sha256(encode([self.chain_id, self.tx_count])).digest()
        ctx = CallContext(sender, tx_hash, self.block(), TxState(self.state))
        try:
            check_sender(self.state.get, sender, self.height)
            check_call(self.state.get, sender, contract, method)
            target = self.contracts.get(contract)
            if target is None:
                raise InvalidCall(f"no contract named {contract!r}")
            target.call(ctx, method, args)
        except ConsortiaError as exc:
            return Outcome(exc.code, exc.message, {}, [])
        for key, value in ctx.state.writes.items():
            if value is None:
                self.state.data.pop(key, None)
            else:
                self.state.data[key] = value
        return Outcome("ok", "", dict(ctx.state.writes), list(ctx.events))

    def transfer(self, sender: bytes, to: bytes, amount: int) -> Outcome:
        return self.call(sender, "currency", "transfer", encode_transfer_args(to, amount))


def seeded_key(label: str) -> KeyPair:
    """A deterministic ed25519 key for tests (never for real use)."""
    return KeyPair.from_private_key("ed25519", hashlib.sha256(b"perm-test/" + label.encode()).digest())


DEFAULT_ORGS: tuple[tuple[str, str], ...] = (
    ("cb", "central-bank"),
    ("bank-a", "bank"),
    ("bank-b", "bank"),
    ("reg", "regulator"),
)


@dataclass
class Consortium:
    """A harness over a genesis of organisations, one admin key each, and validators."""

    harness: Harness
    admins: dict[str, KeyPair]
    validators: list[ValidatorInfo]

    def enroll(
        self, org: str, label: str, *, role: str = "member", tier: int = 1, cert: bytes = b""
    ) -> tuple[KeyPair, Outcome]:
        key = seeded_key(label)
        pii = pii_commitment(b"salt-" + label.encode().ljust(16, b"."), f"name:{label}".encode())
        args = encode_enroll_args(key.address, role, tier, pii, cert)
        return key, self.harness.call(self.admins[org].address, "identity", "enroll", args)

    def member(self, org: str, label: str, *, role: str = "member", tier: int = 1) -> KeyPair:
        key, out = self.enroll(org, label, role=role, tier=tier)
        invariant(out.ok, f"enrolment of {label} failed: {out.code} {out.message}")
        return key

    def fund(self, address: bytes, amount: int) -> None:
        """Test-only: set a balance directly (keeps the nonce)."""
        raw = self.harness.state.get(account_key(address))
        nonce = decode_account(raw).nonce if raw is not None else 0
        self.harness.state.data[account_key(address)] = encode_account(Account(nonce, amount))

    def balance(self, address: bytes) -> int:
        raw = self.harness.state.get(account_key(address))
        return decode_account(raw).balance if raw is not None else 0


def consortium(
    orgs: tuple[tuple[str, str], ...] = DEFAULT_ORGS,
    *,
    ca_pems: Mapping[str, bytes] | None = None,
    validators: int = 4,
    gov: GovParams = GovParams(),
) -> Consortium:
    admins = {name: seeded_key(f"admin:{name}") for name, _ in orgs}
    specs = [
        OrgSpec(name, role, [admins[name].address], (ca_pems or {}).get(name, b"")) for name, role in orgs
    ]
    vals = [ValidatorInfo(f"v{i}", seeded_key(f"validator:{i}").public_key) for i in range(validators)]
    writes = genesis_records(specs, suite="ed25519", validators=vals, gov=gov)
    for address in required_accounts(specs):
        writes[account_key(address)] = encode_account(Account(0, 0))
    return Consortium(Harness(writes), admins, vals)

"""An in-memory driver for the permission layer: a dict state and the node's real executor.

For tests and for contract authors; no storage, no signatures, no consensus. Each :meth:`Harness.call`
is one transaction (from ``sender``, at its account's next nonce, expiring at the current height)
alone in a block at the harness's height, run by :class:`~consortia.execution.executor.Executor`
with the permissioned system contracts, :class:`GuardedCurrency` and :class:`TxPolicy` — the map
``node.chain.Chain`` builds for a permissioned chain (its contract registry excepted: add one to
:attr:`Harness.contracts` to deploy code). So the nonce bump, the policy and the rollback are the
node's own:

1. the leader's :meth:`Executor.propose` leaves the transaction out if it could not be in any
   block (no account, or a sender the policy refuses): an :class:`Outcome` with that code and
   no change to state. (A node's admission refuses such a transaction earlier, checking the
   policy before the account: a sender with neither gets ``unknown_identity`` from a node and
   ``unknown_sender`` here.)
2. otherwise the validators' :meth:`Executor.execute` runs the same block (and must agree with
   the leader); its writes are applied: the nonce bump always, the contract's writes only when
   the receipt is ``ok``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field

from consortia.codec import encode
from consortia.contracts.native_currency import encode_transfer_args
from consortia.contracts.permissioned import permissioned_contracts
from consortia.contracts.permissioned.bridge import PermissionedBridge
from consortia.contracts.permissioned.genesis import genesis_records, required_accounts
from consortia.contracts.permissioned.identity import encode_enroll_args, pii_commitment
from consortia.contracts.permissioned.records import GovParams, OrgSpec
from consortia.contracts.python.host import PythonContractHost
from consortia.contracts.python.registry import ContractRegistry
from consortia.crypto.keys import KeyPair
from consortia.execution.accounts import Account, account_key, decode_account, encode_account
from consortia.execution.context import BlockContext
from consortia.execution.executor import Executor, NativeContract
from consortia.execution.tx_decode import CheckedTx
from consortia.execution.tx_policy import TxPolicy
from consortia.invariant import invariant
from consortia.types.genesis import ValidatorInfo
from consortia.types.receipt import Event, Receipt
from consortia.types.transaction import Call, TxBody


@dataclass(slots=True)
class DictState:
    data: dict[bytes, bytes] = field(default_factory=dict)

    def get(self, key: bytes) -> bytes | None:
        return self.data.get(key)


@dataclass(slots=True)
class Outcome:
    """What one transaction did. ``writes``: everything its block wrote to state (the sender's
    nonce bump included; empty when the transaction was left out of the block)."""

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
        self.scheduled: list[Receipt] = []
        self.executor = Executor(permissioned_contracts(), policy=TxPolicy())

    @property
    def contracts(self) -> dict[str, NativeContract]:
        """The executor's contracts by name (add one to make it callable)."""
        return self.executor.contracts

    def get(self, key: bytes) -> bytes | None:
        return self.state.get(key)

    def next_block(self, blocks: int = 1, ms: int | None = None) -> None:
        """Move ``blocks`` blocks ahead; time moves ``ms`` (default ``block_ms`` per block).
        Each block passed is closed as an empty block would be (its scheduled calls run;
        their receipts in :attr:`scheduled`)."""
        step = self.block_ms if ms is None else ms // blocks
        for _ in range(blocks):
            if self.executor.end_block is not None:
                outcome = self.executor.execute(self.state, self.block(), [])
                self._apply(outcome.writes)
                self.scheduled.extend(outcome.receipts)
            self.height += 1
            self.timestamp_ms += step

    def _apply(self, writes: Mapping[bytes, bytes | None]) -> None:
        for key, value in writes.items():
            if value is None:
                self.state.data.pop(key, None)
            else:
                self.state.data[key] = value

    def block(self) -> BlockContext:
        return BlockContext(self.chain_id, self.height, self.timestamp_ms, 0)

    def nonce(self, sender: bytes) -> int:
        """The next nonce of ``sender``'s account (0 without one)."""
        raw = self.state.get(account_key(sender))
        return decode_account(raw).nonce if raw is not None else 0

    def enable_contracts(self) -> PythonContractHost:
        """Let this harness deploy and run Python contracts (anyone may deploy, as in a test),
        with the permission layer's contract bridge and scheduled calls — the node's wiring."""
        host = PythonContractHost(bridge=PermissionedBridge("ed25519"))
        self.executor.contracts["contracts"] = ContractRegistry(host)
        self.executor.fallback = host
        self.executor.end_block = host.end_block
        return host

    def deploy(self, sender: bytes, name: str, source: str, *init_args: object) -> Outcome:
        return self.call(sender, "contracts", "deploy", encode([name, source, list(init_args)]))

    def transaction(
        self, sender: bytes, contract: str, method: str, args: bytes, value: int = 0
    ) -> CheckedTx:
        """An unsigned stand-in for a checked transaction: the executor reads only the sender,
        the hash and the body's nonce, expiry and call."""
        self.tx_count += 1
        call = Call(contract, method, args, value)
        body = TxBody(self.chain_id, b"", self.nonce(sender), self.height, call)
        tx_hash = hashlib.sha256(encode([self.chain_id, self.tx_count])).digest()
        return CheckedTx(raw=b"", hash=tx_hash, body=body, sender=sender, signed_message=b"", signature=b"")

    def call(self, sender: bytes, contract: str, method: str, args: bytes, value: int = 0) -> Outcome:
        tx = self.transaction(sender, contract, method, args, value)
        block = self.block()
        proposed = self.executor.propose(self.state, block, [tx])
        if proposed.excluded:
            error = proposed.excluded[0].error
            return Outcome(error.code, error.message, {}, [])
        outcome = self.executor.execute(self.state, block, [tx])
        invariant(outcome == proposed.outcome, "the validators' execution differs from the leader's")
        self._apply(outcome.writes)
        self.scheduled.extend(outcome.receipts[1:])
        receipt = outcome.receipts[0]
        return Outcome(receipt.status, receipt.error, dict(outcome.writes), list(receipt.events))

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

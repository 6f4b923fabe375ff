"""The two-tier digital currency from Python (issue 9, decisions/0011).

    with Client("http://127.0.0.1:8600") as client:
        cb = CbdcWallet(Wallet(load_key_file(Path("net/orgs/cb/admin.key")), client))
        cb.issue("bank-a", 1_000_000)                         # central bank -> bank-a's reserve
        bank = CbdcWallet(Wallet(load_key_file(Path("net/orgs/bank-a/admin.key")), client))
        opened = bank.open_wallet(tier=4, phone="+86 138 0000 0000")
        opened.save(Path("w.key"), password=None)            # key file + w.key.pii.json (bank's)
        bank.fund(opened.key.address, 50_000)                 # reserve -> wallet
        w = CbdcWallet(Wallet(opened.key, client))
        w.pay(shop, 1_000)
        escrow_id = w.escrow_create(shop, releaser, deadline_height=500, amount=2_000).id
        CbdcQueries(client).wallet(opened.key.address)        # tier, balance, limits, spent today

Every argument is checked before anything is signed (amounts are integers 1 .. 2**64-1,
addresses 20 bytes or ``"0x…"`` text, wallet tiers 1..4), raising :class:`InvalidAmount`,
:class:`~consortia.crypto.address.BadAddress`, :class:`InvalidTier` or :class:`InvalidArgument`.
Every action is one transaction that waits for finality; a refusal raises the typed error its
receipt names (``limit_exceeded``, ``not_issuer``, ``insufficient_balance``, ...); an
application's own refusal (``escrow_not_releasable``, ``payee_not_allowed``, ...) raises
:class:`ContractRefused` whose ``code`` is the receipt's status.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import consortia.contracts.permissioned.errors  # noqa: F401 (error_from_dict learns the codes)
from consortia.apps.cbdc import sdk as apps
from consortia.client import contracts as sdk
from consortia.client.arguments import (  # re-exported: the checks shared with the wallet and CLI
    MAX_AMOUNT,
    MAX_HEIGHT,
    InvalidAmount,
    InvalidArgument,
    check_address_arg,
    check_amount,
    check_height,
    check_id,
    check_instance,
    check_text,
)
from consortia.client.arguments import is_int as _is_int
from consortia.client.client import Client
from consortia.client.permissioned import PermWallet
from consortia.client.tx_builder import transfer_call
from consortia.client.wallet import TxResult
from consortia.contracts.permissioned import identity, monetary
from consortia.contracts.permissioned.limits import MAX_NAME, MAX_WALLET_TIER, MIN_WALLET_TIER
from consortia.contracts.python.json_data import from_json, to_json
from consortia.crypto import sealed
from consortia.crypto.address import BadAddress, format_address, parse_address
from consortia.crypto.keyfile import save_key_file
from consortia.crypto.keys import KeyPair
from consortia.errors import ConfigError, ConsortiaError, KeyFileError, RemoteError
from consortia.types.transaction import Call

__all__ = [
    "MAX_AMOUNT",
    "CbdcQueries",
    "CbdcWallet",
    "ContractRefused",
    "Created",
    "InvalidAmount",
    "InvalidArgument",
    "InvalidTier",
    "NewWallet",
    "NotAnswered",
    "RecordMismatch",
    "WalletRecord",
    "check_address_arg",
    "check_amount",
    "check_height",
    "check_id",
    "check_tier",
    "personal_data_bytes",
    "prepare_wallet",
]

MAX_REASON = apps.MAX_REASON
MAX_PAYEES = apps.MAX_PAYEES
MAX_PERSONAL_FIELD = 256
SALT_BYTES = 32
PII_SUFFIX = ".pii.json"
ESCROW, EARMARK, PAYMENTS, RESOLVE = apps.ESCROW, apps.EARMARK, apps.PAYMENTS, apps.RESOLVE


# --- typed errors ---------------------------------------------------------------------------------


class InvalidTier(ConsortiaError):
    """A wallet tier outside 1..4 (refused before signing)."""

    code = "invalid_tier"


class RecordMismatch(ConsortiaError):
    """A bank's saved wallet record that does not belong to the wallet a request is about."""

    code = "record_mismatch"


class NotAnswered(ConsortiaError):
    """A resolution request whose bank has not answered yet."""

    code = "resolve_not_answered"


class ContractRefused(ConsortiaError):
    """An application's own refusal: ``code`` is the receipt's status (``escrow_not_found``,
    ``payee_not_allowed``, ...), the message is the contract's."""

    code = "contract_refused"

    def __init__(self, message: str, code: str, **details: Any) -> None:
        super().__init__(message, **details)
        self.code = code  # type: ignore[misc]  # the instance carries the application's code


# --- argument checks (before anything is signed) --------------------------------------------------


def check_tier(value: object) -> int:
    """A wallet tier: 1 (full KYC) .. 4 (anonymous), or :class:`InvalidTier`."""
    if not _is_int(value) or not MIN_WALLET_TIER <= value <= MAX_WALLET_TIER:  # type: ignore[operator]
        raise InvalidTier(f"a wallet tier is from {MIN_WALLET_TIER} (full KYC) to {MAX_WALLET_TIER} "
                          f"(anonymous), got {value!r:.60}", tier=str(value)[:60])
    assert isinstance(value, int)
    return value


def check_org(value: object) -> str:
    if not isinstance(value, str) or not 1 <= len(value) <= MAX_NAME:
        raise InvalidArgument(f"an organisation name is 1 to {MAX_NAME} characters, got {value!r:.80}")
    return value


# --- a wallet's personal data, kept by its bank (never on chain) -----------------------------------


def personal_data_bytes(fields: dict[str, str]) -> bytes:
    """The exact bytes a wallet's commitment covers: the personal data as canonical JSON
    (sorted keys, no spaces, UTF-8)."""
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def personal_fields(tier: int, name: str | None, phone: str | None) -> dict[str, str]:
    """``{"name": …, "phone": …}`` (the given ones): tier 4 is anonymous but needs a phone
    number; tiers 1-3 need a name."""
    for key, given in (("name", name), ("phone", phone)):
        if given is not None and not isinstance(given, str):
            raise InvalidArgument(f"{key} must be text, got {type(given).__name__}")
    fields = {k: v.strip() for k, v in (("name", name), ("phone", phone)) if v is not None and v.strip()}
    for key, value in fields.items():
        if len(value) > MAX_PERSONAL_FIELD:
            raise InvalidArgument(f"{key} is at most {MAX_PERSONAL_FIELD} characters, got {len(value)}")
    if tier == MAX_WALLET_TIER and "phone" not in fields:
        raise InvalidArgument(f"a tier {MAX_WALLET_TIER} (anonymous) wallet is opened with a phone number")
    if tier < MAX_WALLET_TIER and "name" not in fields:
        raise InvalidArgument(f"a tier {tier} wallet is opened with the holder's name (KYC)")
    return fields


@dataclass(frozen=True, slots=True)
class WalletRecord:
    """What a bank keeps about a wallet it opened: the salt and personal data behind the
    on-chain commitment (``commitment = H(salt || personal_data_bytes(personal_data))``)."""

    address: bytes
    org: str
    tier: int
    salt: bytes
    personal_data: dict[str, str]
    commitment: bytes
    suite: str

    @property
    def data(self) -> bytes:
        return personal_data_bytes(self.personal_data)

    def to_json(self) -> dict[str, Any]:
        return {"address": format_address(self.address), "org": self.org, "tier": self.tier,
                "salt": "0x" + self.salt.hex(), "personal_data": self.personal_data,
                "commitment": "0x" + self.commitment.hex(), "suite": self.suite}

    @classmethod
    def from_json(cls, data: object) -> WalletRecord:
        try:
            assert isinstance(data, dict)
            personal = data["personal_data"]
            assert isinstance(personal, dict) and all(isinstance(v, str) for v in personal.values())
            return cls(parse_address(data["address"]), str(data["org"]), int(data["tier"]),
                       bytes.fromhex(str(data["salt"]).removeprefix("0x")), dict(personal),
                       bytes.fromhex(str(data["commitment"]).removeprefix("0x")), str(data["suite"]))
        except (AssertionError, KeyError, ValueError, TypeError, BadAddress):
            raise ConfigError("not a wallet record (address, org, tier, salt, personal_data, "
                              "commitment, suite)") from None

    def save(self, path: Path) -> Path:
        """Write the record to ``path`` (mode 0600, refusing to overwrite)."""
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except OSError as exc:
            raise ConfigError(f"cannot write the wallet record {path}: {exc.strerror}") from None
        with os.fdopen(fd, "w") as handle:
            handle.write(json.dumps(self.to_json(), indent=2, ensure_ascii=False) + "\n")
        return path

    @classmethod
    def load(cls, path: Path) -> WalletRecord:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read the wallet record {path}: {exc.strerror}") from None
        try:
            data = json.loads(text)
        except ValueError:
            raise ConfigError(f"{path} is not JSON (expected a wallet record)") from None
        try:
            return cls.from_json(data)
        except ConfigError as exc:
            raise ConfigError(f"{path}: {exc.message}") from None


@dataclass(frozen=True, slots=True)
class NewWallet:
    """A fresh wallet key with the bank's record of it (nothing here is on chain yet)."""

    key: KeyPair
    record: WalletRecord

    def save(self, out: Path, password: str | None) -> Path:
        """Write the key file ``out`` (for the holder) and ``<out>.pii.json`` (for the bank)."""
        if out.exists():
            raise KeyFileError(f"{out} already exists; choose another file")
        pii = record_path(out)
        if pii.exists():
            raise KeyFileError(f"{pii} already exists; choose another file")
        save_key_file(out, self.key, password)
        return self.record.save(pii)


def record_path(key_file: Path) -> Path:
    """Where the bank's record of a wallet is kept next to its key file: ``<file>.pii.json``."""
    return key_file.with_name(key_file.name + PII_SUFFIX)


def prepare_wallet(org: str, tier: int, suite: str, name: str | None = None,
                   phone: str | None = None) -> NewWallet:  # fmt: skip
    """A new key, a fresh salt and the commitment to the holder's personal data."""
    tier = check_tier(tier)
    fields = personal_fields(tier, name, phone)
    key = KeyPair.generate(suite)
    salt = os.urandom(SALT_BYTES)
    commitment = identity.pii_commitment(salt, personal_data_bytes(fields), suite)
    return NewWallet(key, WalletRecord(key.address, org, tier, salt, fields, commitment, suite))


# --- actions ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Created:
    """A record an application created: its id and the receipt of the call."""

    id: int
    receipt: sdk.ContractReceipt
    fields: dict[str, Any] = field(default_factory=dict)
    """The creation event's fields (plain data)."""


@dataclass(frozen=True, slots=True)
class OpenedWallet:
    wallet: NewWallet
    result: TxResult


def app_refusal(receipt: sdk.ContractReceipt) -> ConsortiaError:
    """The typed error of a failed application call; an application's own code (no class of
    its own) becomes :class:`ContractRefused` with that code."""
    err = sdk.receipt_error(receipt)
    if isinstance(err, RemoteError):
        details = {"tx_hash": "0x" + receipt.tx_hash.hex(), "height": receipt.height}
        err = ContractRefused(receipt.error or receipt.status, receipt.status, **details)
        err.receipt = receipt  # type: ignore[attr-defined]
    return err


class CbdcWallet(PermWallet):
    """A key's currency actions (central bank, operator bank, wallet holder or regulator), on
    top of the permission layer's (:class:`PermWallet`); each waits for finality and raises the
    typed refusal."""

    def _system(self, call: Call) -> TxResult:
        return self.call(call.contract, call.method, call.args)

    def _app(self, call: apps.AppCall) -> sdk.ContractReceipt:
        receipt = sdk.send(self.wallet, call.contract, call.method, call.args, timeout=self.timeout,
                           check=False, value=call.value)
        if not receipt.ok:
            raise app_refusal(receipt)
        return receipt

    def _create(self, call: apps.AppCall) -> Created:
        """Send a create/request call; the new id from its creation event."""
        receipt = self._app(call)
        event = apps.CREATED_EVENTS[call.contract]
        for e in receipt.events:
            if e.contract == call.contract and e.name == event and _is_int(e.fields.get("id")):
                return Created(int(e.fields["id"]), receipt, e.fields)
        raise ConfigError(f"{call.contract} call 0x{receipt.tx_hash.hex()} emitted no {event} event "
                          "(is the application deployed?)")

    # the monetary base
    def issue(self, bank: str, amount: int) -> TxResult:
        """Central-bank admin: credit ``amount`` to the reserve of organisation ``bank``."""
        args = monetary.encode_issue_args(check_org(bank), check_amount(amount))
        return self._system(Call(monetary.NAME, monetary.ISSUE, args))

    def redeem(self, amount: int) -> TxResult:
        """Bank admin: burn ``amount`` from the own organisation's reserve."""
        args = monetary.encode_redeem_args(check_amount(amount))
        return self._system(Call(monetary.NAME, monetary.REDEEM, args))

    def fund(self, address: bytes | str, amount: int) -> TxResult:
        """Bank admin: move ``amount`` from the own reserve to a wallet."""
        args = monetary.encode_fund_args(check_address_arg(address), check_amount(amount))
        return self._system(Call(monetary.NAME, monetary.FUND, args))

    def pay(self, to: bytes | str, amount: int) -> TxResult:
        """Pay ``amount`` from this key's balance (the tier limits apply)."""
        return self._system(transfer_call(check_address_arg(to, "recipient"), check_amount(amount)))

    # wallets (bank admins)
    def prepare_wallet(self, tier: int, name: str | None = None, phone: str | None = None) -> NewWallet:
        """A wallet key, salt and commitment for this admin's bank, in the chain's suite (nothing
        is sent: open it with :meth:`open_prepared`)."""
        tier = check_tier(tier)
        personal_fields(tier, name, phone)
        org = CbdcQueries(self.client).org_of(self.address)
        return prepare_wallet(org, tier, self.client.genesis().suite, name, phone)

    def open_prepared(self, new: NewWallet) -> TxResult:
        """Open the prepared wallet on chain (only its address, tier and commitment go there)."""
        new = check_instance(new, NewWallet, "the prepared wallet")
        args = identity.encode_open_wallet_args(new.key.address, check_tier(new.record.tier),
                                                new.record.commitment)
        return self._system(Call(identity.NAME, identity.OPEN_WALLET, args))

    def open_wallet(self, tier: int, name: str | None = None, phone: str | None = None) -> OpenedWallet:
        """Generate a wallet key, salt and commitment and open the wallet in this admin's bank.
        The returned :class:`NewWallet` (key, salt, personal data) is not on chain: save it."""
        new = self.prepare_wallet(tier, name, phone)
        return OpenedWallet(new, self.open_prepared(new))

    def upgrade(self, address: bytes | str, tier: int) -> TxResult:
        """Change a wallet's tier (up or down; refused when its balance is over the new cap)."""
        args = identity.encode_set_tier_args(check_address_arg(address), check_tier(tier))
        return self._system(Call(identity.NAME, identity.SET_TIER, args))

    def close_wallet(self, address: bytes | str) -> TxResult:
        """Sweep a wallet's balance back to the bank's reserve and close it for good."""
        args = identity.encode_close_wallet_args(check_address_arg(address))
        return self._system(Call(identity.NAME, identity.CLOSE_WALLET, args))

    # escrow
    def escrow_create(self, payee: bytes | str, releaser: bytes | str, deadline_height: int,
                      amount: int) -> Created:  # fmt: skip
        """Lock ``amount`` for ``payee``; ``releaser`` releases it up to ``deadline_height``,
        after which it returns to this key."""
        return self._create(apps.escrow_create(
            check_address_arg(payee, "payee"), check_address_arg(releaser, "releaser"),
            check_height(deadline_height, "deadline height"), check_amount(amount)))

    def escrow_release(self, escrow_id: int) -> sdk.ContractReceipt:
        return self._app(apps.escrow_release(check_id(escrow_id, "escrow id")))

    def escrow_refund(self, escrow_id: int) -> sdk.ContractReceipt:
        return self._app(apps.escrow_refund(check_id(escrow_id, "escrow id")))

    # earmarked funds
    def earmark_create(self, recipient: bytes | str, payees: list[bytes] | list[str], expires_height: int,
                       amount: int) -> Created:  # fmt: skip
        """Lock ``amount`` for ``recipient``, spendable only at ``payees`` before ``expires_height``."""
        return self._create(apps.earmark_create(
            check_address_arg(recipient, "recipient"), check_payees(payees),
            check_height(expires_height, "expiry height"), check_amount(amount)))

    def earmark_spend(self, earmark_id: int, payee: bytes | str, amount: int) -> sdk.ContractReceipt:
        return self._app(apps.earmark_spend(
            check_id(earmark_id, "earmark id"), check_address_arg(payee, "payee"), check_amount(amount)))

    # scheduled payments
    def schedule_payments(self, payee: bytes | str, amount: int, first_height: int, count: int = 1,
                          interval: int = 0) -> Created:  # fmt: skip
        """Lock ``amount * count``; the chain pays ``amount`` at ``first_height``, then every
        ``interval`` blocks, ``count`` times."""
        amount = check_amount(amount)
        if not _is_int(count) or not 1 <= count <= apps.MAX_INSTALMENTS:
            raise InvalidArgument(f"count must be 1 to {apps.MAX_INSTALMENTS} instalments, got {count!r:.40}")
        if not _is_int(interval) or not 0 <= interval <= MAX_HEIGHT or (count > 1 and interval == 0):
            raise InvalidArgument(
                f"interval must be at least 1 block between instalments, got {interval!r:.40}")
        check_amount(amount * count, "amount x count")
        to, first = check_address_arg(payee, "payee"), check_height(first_height, "first height")
        return self._create(apps.payment_create(to, amount, first, count, interval))

    def cancel_payments(self, payment_id: int) -> sdk.ContractReceipt:
        return self._app(apps.payment_cancel(check_id(payment_id, "payment id")))

    # identity resolution
    def resolve_request(self, wallet: bytes | str, reason: str,
                        regulator_key: KeyPair | None = None) -> Created:  # fmt: skip
        """Regulator staff: ask the wallet's bank who holds it; the answer is sealed to the X25519
        key derived from ``regulator_key`` (default: this wallet's own signing key)."""
        key = self.wallet.key if regulator_key is None else check_instance(regulator_key, KeyPair,
                                                                           "the regulator key")
        return self._create(apps.resolve_request(
            check_address_arg(wallet, "wallet"), check_text(reason, "the reason", MAX_REASON),
            sealed.resolve_public_key(key)))

    def resolve_answer(self, request_id: int, record: WalletRecord) -> sdk.ContractReceipt:
        """Bank admin: seal the saved record's salt and personal data to the key the request
        names, after checking the record is the requested wallet's."""
        request_id = check_id(request_id, "request id")
        record = check_instance(record, WalletRecord, "the wallet record")
        request = CbdcQueries(self.client).resolve_request(request_id)
        if request["wallet"] != format_address(record.address):
            raise RecordMismatch(f"request {request_id} is about wallet {request['wallet']}; the record "
                                 f"is of {format_address(record.address)}")
        regulator_key = bytes.fromhex(str(request["regulator_key"]).removeprefix("0x"))
        return self._app(apps.resolve_answer_sealed(request_id, regulator_key, record.salt, record.data))


def check_payees(payees: object) -> list[bytes]:
    if not isinstance(payees, list | tuple) or not 1 <= len(payees) <= MAX_PAYEES:
        raise InvalidArgument(f"list 1 to {MAX_PAYEES} payees, got {payees!r:.80}")
    return [check_address_arg(p, "each payee") for p in payees]


# --- queries ------------------------------------------------------------------------------------


class CbdcQueries:
    """Read-only views through a node's REST API (``/v1/cbdc``, ``/v1/wallets``, ...)."""

    def __init__(self, client: Client) -> None:
        self.client = client

    def supply(self) -> dict[str, Any]:
        """Issued, redeemed and in circulation, of the chain and per organisation."""
        return self.client.get("/v1/cbdc/supply")  # type: ignore[no-any-return]

    def wallet(self, address: bytes | str) -> dict[str, Any]:
        """Identity, tier, balance, tier limits and today's payments of a wallet."""
        return self.client.get(f"/v1/wallets/{format_address(check_address_arg(address))}")  # type: ignore[no-any-return]

    def reserve(self, org: str) -> dict[str, Any]:
        return self.client.get(f"/v1/reserves/{check_org(org)}")  # type: ignore[no-any-return]

    def org_of(self, address: bytes) -> str:
        return str(self.client.get(f"/v1/identities/{format_address(address)}")["org"])

    def escrow(self, escrow_id: int) -> dict[str, Any]:
        return dict(self.client.get(f"/v1/escrows/{check_id(escrow_id, 'escrow id')}")["escrow"])

    def earmark(self, earmark_id: int) -> dict[str, Any]:
        return dict(self.client.get(f"/v1/earmarks/{check_id(earmark_id, 'earmark id')}")["earmark"])

    def payment(self, payment_id: int) -> dict[str, Any]:
        return dict(to_json(sdk.view(self.client, PAYMENTS, "get", check_id(payment_id, "payment id"))))

    def resolve_request(self, request_id: int) -> dict[str, Any]:
        """A resolution request as the chain holds it (the answer as ciphertext hex)."""
        return dict(self.client.get(f"/v1/resolve/{check_id(request_id, 'request id')}")["request"])

    def resolution(self, request_id: int, regulator_key: KeyPair) -> dict[str, Any]:
        """Open the answer to a request with the regulator's key (locally; the key never leaves)
        and check it against the wallet's on-chain commitment."""
        request = self.resolve_request(request_id)
        if request["status"] != "answered":
            raise NotAnswered(f"request {request_id} is {request['status']}: the bank of {request['wallet']} "
                              f"({request['org']}) has not answered yet", status=request["status"])
        ciphertext = from_json(request["ciphertext"])
        salt, data = sealed.open_identity(sealed.resolve_keypair(regulator_key), ciphertext)
        wallet = self.client.get(f"/v1/identities/{request['wallet']}")
        commitment = bytes.fromhex(str(wallet["pii_hash"]).removeprefix("0x"))
        matches = sealed.matches_commitment(commitment, salt, data, self.client.genesis().suite)
        try:
            personal: Any = json.loads(data.decode())
        except (UnicodeDecodeError, ValueError):
            personal = {"raw": "0x" + data.hex()}
        return {"id": request_id, "wallet": request["wallet"], "org": request["org"],
                "reason": request["reason"], "personal_data": personal, "salt": "0x" + salt.hex(),
                "commitment": "0x" + commitment.hex(), "matches_commitment": matches,
                "answered_height": request["answered"]}

"""The ``identity`` system contract: organisation admins enrol and revoke identities.

Methods (arguments are one canonical MessagePack list):

* ``enroll [address: bytes20, role: str, kyc_tier: int, pii_hash: bytes32, certificate_pem: bytes]``
  — the caller must be an active admin; the identity joins the *caller's* organisation. If that
  organisation has a CA, ``certificate_pem`` must be issued by it to the Ed25519 key of
  ``address`` (valid at the block timestamp); in public-key mode it must be empty. ``pii_hash``
  is ``H(salt || personal data)`` (see :func:`pii_commitment`); the data stays with the org.
  Creates an empty account record for ``address`` if it has none (so it has a nonce). Role
  ``wallet`` is refused here (wallets are opened with ``open_wallet``), as is a reserve address.
* ``revoke [address: bytes20]`` — by an admin of the identity's organisation or by regulator
  staff. Permanent: the key can never be enrolled again.

Wallets (a bank's customers; no certificate, no name, no identity hash on chain):

* ``open_wallet [address: bytes20, tier: int 1..4, commitment: bytes32]`` — an active admin of
  an active ``bank`` organisation; an identity of role ``wallet`` in the caller's organisation,
  KYC tier ``tier``, ``pii_hash`` = the bank's salted commitment ``H(salt || personal data)``,
  and an account record. Event ``WalletOpened [address, org, tier]``.
* ``set_tier [address, tier: int 1..4]`` — an active admin of the wallet's organisation; refused
  when the wallet's balance is above the new tier's balance limit. Event ``TierChanged
  [address, org, old_tier, tier]``.
* ``close_wallet [address]`` — an active admin of the wallet's organisation; moves the whole
  balance to the organisation's reserve and revokes the wallet (refused while the wallet is
  frozen, or, with a balance to sweep, while the reserve or the ``native`` asset is). Events
  ``currency.Transfer`` (when there is a balance), ``Revoked [address, org, by]``,
  ``WalletClosed [address, org, swept]``.
"""

from __future__ import annotations

from msgspec.structs import replace

from consortia.codec import encode
from consortia.contracts.native_currency import balance_of, move
from consortia.contracts.permissioned import keys, monetary
from consortia.contracts.permissioned.certs import verify_identity_cert
from consortia.contracts.permissioned.directory import (
    active_identity,
    config,
    identity,
    is_regulator_staff,
    require_admin,
)
from consortia.contracts.permissioned.errors import (
    AccountFrozen,
    AlreadyEnrolled,
    AlreadyRevoked,
    AssetFrozen,
    CertificateRejected,
    LimitExceeded,
    NotAWallet,
    NotOperatorBank,
    NotOrgAdmin,
    UnknownIdentity,
    WalletNotOpen,
)
from consortia.contracts.permissioned.limits import (
    MAX_KYC_TIER,
    MAX_WALLET_TIER,
    MIN_WALLET_TIER,
    PII_SALT_MIN,
)
from consortia.contracts.permissioned.org_registry import ensure_account
from consortia.contracts.permissioned.policy import NATIVE
from consortia.contracts.permissioned.records import (
    ACTIVE,
    ADMIN,
    BANK,
    IDENTITY_ROLES,
    REVOKED,
    WALLET,
    Identity,
)
from consortia.contracts.permissioned.regulator import is_asset_frozen, is_frozen, limits
from consortia.contracts.permissioned.store import StateGet, decode_args, write
from consortia.crypto.hashing import hash_for_suite
from consortia.errors import InvalidCall
from consortia.execution.context import CallContext

NAME = "identity"
ENROLL = "enroll"
REVOKE = "revoke"
OPEN_WALLET = "open_wallet"
SET_TIER = "set_tier"
CLOSE_WALLET = "close_wallet"
METHODS = (ENROLL, REVOKE, OPEN_WALLET, SET_TIER, CLOSE_WALLET)


def pii_commitment(salt: bytes, personal_data: bytes, suite: str = "ed25519") -> bytes:
    """``H(salt || data)`` with the chain suite's hash: what ``enroll`` records as ``pii_hash``."""
    if len(salt) < PII_SALT_MIN:
        raise InvalidCall(f"the PII salt must be at least {PII_SALT_MIN} random bytes")
    return hash_for_suite(suite)(salt + personal_data)


def encode_enroll_args(
    address: bytes, role: str, kyc_tier: int, pii_hash: bytes, certificate_pem: bytes = b""
) -> bytes:
    return encode([address, role, kyc_tier, pii_hash, certificate_pem])


def encode_revoke_args(address: bytes) -> bytes:
    return encode([address])


def encode_open_wallet_args(address: bytes, tier: int, commitment: bytes) -> bytes:
    return encode([address, tier, commitment])


def encode_set_tier_args(address: bytes, tier: int) -> bytes:
    return encode([address, tier])


def encode_close_wallet_args(address: bytes) -> bytes:
    return encode([address])


class IdentityContract:
    name = NAME

    def call(self, ctx: CallContext, method: str, args: bytes) -> None:
        if method == ENROLL:
            address, role, tier, pii_hash, cert = decode_args(
                args,
                tuple[bytes, str, int, bytes, bytes],
                "[address, role, kyc_tier, pii_hash, certificate_pem]",
            )
            enroll(ctx, address, role, tier, pii_hash, cert)
        elif method == REVOKE:
            (address,) = decode_args(args, tuple[bytes], "[address]")
            revoke(ctx, address)
        elif method == OPEN_WALLET:
            address, tier, commitment = decode_args(
                args, tuple[bytes, int, bytes], "[address: bytes20, tier: int, commitment: bytes32]"
            )
            open_wallet(ctx, address, tier, commitment)
        elif method == SET_TIER:
            address, tier = decode_args(args, tuple[bytes, int], "[address: bytes20, tier: int]")
            set_tier(ctx, address, tier)
        elif method == CLOSE_WALLET:
            (address,) = decode_args(args, tuple[bytes], "[address: bytes20]")
            close_wallet(ctx, address)
        else:
            raise InvalidCall(f"contract {NAME!r} has no method {method!r}; methods: {list(METHODS)}")


def _check_enroll_fields(address: bytes, role: str, tier: int, pii_hash: bytes) -> None:
    if len(address) != 20:
        raise InvalidCall(f"address must be 20 bytes, got {len(address)}")
    if role not in IDENTITY_ROLES:
        raise InvalidCall(f"role {role!r} is not one of {list(IDENTITY_ROLES)}")
    if role == WALLET:
        raise InvalidCall("wallets are opened by a bank with open_wallet, not enrolled")
    if not 0 <= tier <= MAX_KYC_TIER:
        raise InvalidCall(f"kyc_tier must be between 0 and {MAX_KYC_TIER}, got {tier}")
    if len(pii_hash) != 32:
        raise InvalidCall(f"pii_hash must be a 32-byte hash of salt || personal data, got {len(pii_hash)}")


def _check_new(state_get: StateGet, address: bytes) -> None:
    existing = identity(state_get, address)
    if existing is not None:
        raise AlreadyEnrolled(
            f"0x{address.hex()} is already enrolled ({existing.status}, org {existing.org!r}); "
            "a revoked key cannot be enrolled again — generate a new key",
            address=address,
        )
    reserve_of = monetary.reserve_owner(state_get, address)
    if reserve_of is not None:
        raise InvalidCall(f"0x{address.hex()} is the reserve account of {reserve_of!r}, not a key's address")


def enroll(ctx: CallContext, address: bytes, role: str, tier: int, pii_hash: bytes, cert: bytes) -> None:
    _check_enroll_fields(address, role, tier, pii_hash)
    state = ctx.state
    _, owner = require_admin(state.get, ctx.sender)
    _check_new(state.get, address)
    cert_hash = b""
    if owner.ca_pem:
        if not cert:
            raise CertificateRejected(f"organisation {owner.name!r} has a CA: enrolment needs a certificate")
        suite = config(state.get).suite
        cert_hash = verify_identity_cert(owner.ca_pem, cert, address, suite, ctx.block.timestamp_ms)
    elif cert:
        raise CertificateRejected(
            f"organisation {owner.name!r} is in public-key mode: enrol with an empty certificate"
        )
    record = Identity(
        address, owner.name, role, tier, pii_hash, cert_hash, ACTIVE, ctx.block.height, ctx.sender
    )
    write(state, keys.identity(address), record)
    ensure_account(state, address)
    ctx.emit(NAME, "Enrolled", encode([address, owner.name, role, tier, ctx.sender]))


def revoke(ctx: CallContext, address: bytes) -> None:
    state = ctx.state
    caller, _ = active_identity(state.get, ctx.sender, "caller")
    target = identity(state.get, address)
    if target is None:
        raise UnknownIdentity(f"0x{address.hex()} has no enrolled identity", address=address)
    if target.status != ACTIVE:
        raise AlreadyRevoked(f"0x{address.hex()} was already revoked at height {target.revoked_height}")
    same_org_admin = caller.role == ADMIN and caller.org == target.org
    if not (same_org_admin or is_regulator_staff(state.get, ctx.sender)):
        raise NotOrgAdmin(
            f"only an admin of {target.org!r} or the regulator may revoke 0x{address.hex()}",
            org=target.org,
        )
    revoked = replace(target, status=REVOKED, revoked_height=ctx.block.height, revoked_by=ctx.sender)
    write(state, keys.identity(address), revoked)
    ctx.emit(NAME, "Revoked", encode([address, target.org, ctx.sender]))


# --- wallets --------------------------------------------------------------------------------------


def _check_wallet_tier(tier: int) -> None:
    if not MIN_WALLET_TIER <= tier <= MAX_WALLET_TIER:
        raise InvalidCall(f"wallet tier must be between {MIN_WALLET_TIER} and {MAX_WALLET_TIER}, got {tier}")


def open_wallet(ctx: CallContext, address: bytes, tier: int, commitment: bytes) -> None:
    if len(address) != 20:
        raise InvalidCall(f"address must be 20 bytes, got {len(address)}")
    _check_wallet_tier(tier)
    if len(commitment) != 32:
        raise InvalidCall(
            f"commitment must be the 32-byte hash of salt || personal data, got {len(commitment)} bytes"
        )
    state = ctx.state
    _, owner = require_admin(state.get, ctx.sender)
    if owner.role != BANK:
        raise NotOperatorBank(
            f"open_wallet: caller 0x{ctx.sender.hex()} is an admin of {owner.name!r} (role "
            f"{owner.role!r}); only admins of a {BANK!r} organisation open wallets",
            org=owner.name,
            role=owner.role,
        )
    _check_new(state.get, address)
    height = ctx.block.height
    record = Identity(address, owner.name, WALLET, tier, commitment, b"", ACTIVE, height, ctx.sender)
    write(state, keys.identity(address), record)
    ensure_account(state, address)
    ctx.emit(NAME, "WalletOpened", encode([address, owner.name, tier]))


def _own_wallet(ctx: CallContext, address: bytes, method: str) -> Identity:
    """The active wallet at ``address`` whose organisation the caller is an active admin of."""
    if len(address) != 20:
        raise InvalidCall(f"address must be 20 bytes, got {len(address)}")
    state_get = ctx.state.get
    _, owner = require_admin(state_get, ctx.sender)
    wallet = identity(state_get, address)
    if wallet is None:
        raise UnknownIdentity(f"{method}: 0x{address.hex()} has no identity", address=address)
    if wallet.org != owner.name:
        raise NotOrgAdmin(
            f"{method}: 0x{address.hex()} belongs to {wallet.org!r}; caller 0x{ctx.sender.hex()} "
            f"is an admin of {owner.name!r}",
            org=wallet.org,
        )
    if wallet.role != WALLET:
        raise NotAWallet(
            f"{method}: 0x{address.hex()} is a {wallet.role} of {wallet.org!r}, not a wallet", address=address
        )
    if wallet.status != ACTIVE:
        raise WalletNotOpen(
            f"{method}: wallet 0x{address.hex()} was closed at height {wallet.revoked_height}",
            address=address,
        )
    return wallet


def set_tier(ctx: CallContext, address: bytes, tier: int) -> None:
    _check_wallet_tier(tier)
    wallet = _own_wallet(ctx, address, SET_TIER)
    cap = limits(ctx.state.get, tier).balance
    held = balance_of(ctx.state.get, address)
    if cap is not None and held > cap:
        raise LimitExceeded(
            f"set_tier: wallet 0x{address.hex()} holds {held}, above the tier {tier} balance limit {cap}",
            limit="balance",
            tier=tier,
            cap=cap,
        )
    write(ctx.state, keys.identity(address), replace(wallet, kyc_tier=tier))
    ctx.emit(NAME, "TierChanged", encode([address, wallet.org, wallet.kyc_tier, tier]))


def close_wallet(ctx: CallContext, address: bytes) -> None:
    wallet = _own_wallet(ctx, address, CLOSE_WALLET)
    state_get = ctx.state.get
    if is_frozen(state_get, address):
        raise AccountFrozen(
            f"close_wallet: wallet 0x{address.hex()} is frozen by the regulator", address=address
        )
    swept = balance_of(state_get, address)
    if swept > 0:
        reserve = monetary.reserve_address(wallet.org)
        if is_frozen(state_get, reserve):
            raise AccountFrozen(
                f"close_wallet: the reserve of {wallet.org!r} (0x{reserve.hex()}) is frozen by the "
                f"regulator and cannot receive the wallet's {swept}",
                address=reserve,
            )
        if is_asset_frozen(state_get, NATIVE):
            raise AssetFrozen(f"asset {NATIVE!r} is frozen by the regulator", asset=NATIVE)
        move(ctx, address, reserve, swept)
    closed = replace(wallet, status=REVOKED, revoked_height=ctx.block.height, revoked_by=ctx.sender)
    write(ctx.state, keys.identity(address), closed)
    ctx.emit(NAME, "Revoked", encode([address, wallet.org, ctx.sender]))
    ctx.emit(NAME, "WalletClosed", encode([address, wallet.org, swept]))

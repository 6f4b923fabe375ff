"""The ``identity`` system contract: organisation admins enrol and revoke identities.

Methods (arguments are one canonical MessagePack list):

* ``enroll [address: bytes20, role: str, kyc_tier: int, pii_hash: bytes32, certificate_pem: bytes]``
  — the caller must be an active admin; the identity joins the *caller's* organisation. If that
  organisation has a CA, ``certificate_pem`` must be issued by it to the Ed25519 key of
  ``address`` (valid at the block timestamp); in public-key mode it must be empty. ``pii_hash``
  is ``H(salt || personal data)`` (see :func:`pii_commitment`); the data stays with the org.
  Creates an empty account record for ``address`` if it has none (so it has a nonce).
* ``revoke [address: bytes20]`` — by an admin of the identity's organisation or by regulator
  staff. Permanent: the key can never be enrolled again.
"""

from __future__ import annotations

from msgspec.structs import replace

from consortia.codec import encode
from consortia.contracts.permissioned import keys
from consortia.contracts.permissioned.certs import verify_identity_cert
from consortia.contracts.permissioned.directory import (
    active_identity,
    config,
    identity,
    is_regulator_staff,
    require_admin,
)
from consortia.contracts.permissioned.errors import (
    AlreadyEnrolled,
    AlreadyRevoked,
    CertificateRejected,
    NotOrgAdmin,
    UnknownIdentity,
)
from consortia.contracts.permissioned.limits import MAX_KYC_TIER, PII_SALT_MIN
from consortia.contracts.permissioned.org_registry import ensure_account
from consortia.contracts.permissioned.records import (
    ACTIVE,
    ADMIN,
    IDENTITY_ROLES,
    REVOKED,
    Identity,
)
from consortia.contracts.permissioned.store import decode_args, write
from consortia.crypto.hashing import hash_for_suite
from consortia.errors import InvalidCall
from consortia.execution.context import CallContext

NAME = "identity"
ENROLL = "enroll"
REVOKE = "revoke"


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
        else:
            raise InvalidCall(f"contract {NAME!r} has no method {method!r}; methods: {[ENROLL, REVOKE]}")


def _check_enroll_fields(address: bytes, role: str, tier: int, pii_hash: bytes) -> None:
    if len(address) != 20:
        raise InvalidCall(f"address must be 20 bytes, got {len(address)}")
    if role not in IDENTITY_ROLES:
        raise InvalidCall(f"role {role!r} is not one of {list(IDENTITY_ROLES)}")
    if not 0 <= tier <= MAX_KYC_TIER:
        raise InvalidCall(f"kyc_tier must be between 0 and {MAX_KYC_TIER}, got {tier}")
    if len(pii_hash) != 32:
        raise InvalidCall(f"pii_hash must be a 32-byte hash of salt || personal data, got {len(pii_hash)}")


def enroll(ctx: CallContext, address: bytes, role: str, tier: int, pii_hash: bytes, cert: bytes) -> None:
    _check_enroll_fields(address, role, tier, pii_hash)
    state = ctx.state
    _, owner = require_admin(state.get, ctx.sender)
    existing = identity(state.get, address)
    if existing is not None:
        raise AlreadyEnrolled(
            f"0x{address.hex()} is already enrolled ({existing.status}, org {existing.org!r}); "
            "a revoked key cannot be enrolled again — generate a new key",
            address=address,
        )
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

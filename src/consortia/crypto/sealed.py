"""Sealed answers for identity resolution (apps/cbdc ``resolve``, decisions/0011).

A wallet's bank answers the regulator's resolution request with the salt and personal data
behind the wallet's on-chain commitment ``H(salt || personal data)``, sealed to an X25519 key
the regulator named (libsodium's sealed box: an ephemeral sender key, so only the holder of the
private key opens it, and the chain learns nothing but the size). The regulator's X25519 key is
derived from its signing key, so the key file it signs with is the one it decrypts with later:

    private = resolve_keypair(regulator_signing_key)
    public = bytes(private.public_key)            # what `resolve.request` names
    sealed = seal_identity(public, salt, data)    # the bank's `resolve.answer`
    salt, data = open_identity(private, sealed)   # the regulator
    matches_commitment(wallet_commitment, salt, data, suite)
"""

from __future__ import annotations

import hashlib
import hmac

import nacl.exceptions
import nacl.public

from consortia.codec import decode, encode
from consortia.contracts.permissioned.identity import pii_commitment
from consortia.crypto.keys import KeyPair
from consortia.errors import ConsortiaError, CryptoError, DecodeError

RESOLVE_KEY_DOMAIN = b"consortia/resolve-x25519\x00"
PUBLIC_KEY_BYTES = 32
SEAL_OVERHEAD = 48
"""Bytes a sealed box adds: the ephemeral public key (32) and the MAC (16)."""


class CannotDecrypt(CryptoError):
    """Sealed data that this key cannot open: sealed to someone else's key, or altered."""

    code = "cannot_decrypt"


def resolve_keypair(key: KeyPair) -> nacl.public.PrivateKey:
    """The X25519 key for resolution answers, derived deterministically from a signing key:
    seed = SHA-256("consortia/resolve-x25519\\0" || signing private key)."""
    seed = hashlib.sha256(RESOLVE_KEY_DOMAIN + key.private_key).digest()
    return nacl.public.PrivateKey.from_seed(seed)


def resolve_public_key(key: KeyPair) -> bytes:
    """The 32-byte X25519 public key to name in ``resolve.request``."""
    return bytes(resolve_keypair(key).public_key)


def seal_identity(regulator_public: bytes, salt: bytes, personal_data: bytes) -> bytes:
    """``[salt, personal_data]`` (canonical MessagePack) sealed to ``regulator_public``."""
    if not isinstance(regulator_public, bytes) or len(regulator_public) != PUBLIC_KEY_BYTES:
        key = regulator_public
        got = f"{len(key)} bytes" if isinstance(key, bytes) else type(key).__name__
        raise CryptoError(f"the regulator key is a {PUBLIC_KEY_BYTES}-byte X25519 public key, got {got}")
    box = nacl.public.SealedBox(nacl.public.PublicKey(regulator_public))
    return bytes(box.encrypt(encode([bytes(salt), bytes(personal_data)])))


def open_identity(private: nacl.public.PrivateKey, ciphertext: bytes) -> tuple[bytes, bytes]:
    """``(salt, personal_data)`` from a sealed answer; :class:`CannotDecrypt` if ``private`` is
    not the key it was sealed to, or the ciphertext was altered or is not an answer."""
    try:
        plain = nacl.public.SealedBox(private).decrypt(bytes(ciphertext))
    except (nacl.exceptions.CryptoError, ValueError, TypeError):
        raise CannotDecrypt(
            f"this key cannot open the sealed answer ({len(ciphertext)} bytes): it was sealed to "
            "another key or altered"
        ) from None
    try:
        salt, data = decode(plain, tuple[bytes, bytes])
    except (DecodeError, ConsortiaError):
        raise CannotDecrypt("the sealed answer opened but is not [salt, personal data]") from None
    return salt, data


def matches_commitment(commitment: bytes, salt: bytes, personal_data: bytes, suite: str) -> bool:
    """Whether ``H(salt || personal_data)`` (the identity contract's commitment, in the chain's
    ``suite``) is ``commitment``."""
    try:
        expected = pii_commitment(salt, personal_data, suite)
    except ConsortiaError:
        return False
    return hmac.compare_digest(expected, commitment)

"""Sealed resolution answers (consortia.crypto.sealed): only the named regulator key opens them,
the key comes back from the signing key file, and the opened data checks against the wallet's
commitment."""

from __future__ import annotations

import pytest

from consortia.codec import encode
from consortia.contracts.permissioned.identity import pii_commitment
from consortia.crypto.keys import KeyPair
from consortia.crypto.sealed import (
    SEAL_OVERHEAD,
    CannotDecrypt,
    matches_commitment,
    open_identity,
    resolve_keypair,
    resolve_public_key,
    seal_identity,
)
from consortia.errors import ConsortiaError, CryptoError

SALT = b"0123456789abcdef"
DATA = "姓名=张三;id=110101199001011234".encode()


def test_the_resolve_key_is_derived_from_the_signing_key() -> None:
    key = KeyPair.from_private_key("ed25519", bytes(range(32)))
    again = KeyPair.from_private_key("ed25519", bytes(range(32)))
    assert bytes(resolve_keypair(key)) == bytes(resolve_keypair(again))
    assert resolve_public_key(key) == bytes(resolve_keypair(key).public_key)
    assert len(resolve_public_key(key)) == 32
    other = KeyPair.from_private_key("ed25519", bytes(range(1, 33)))
    assert resolve_public_key(other) != resolve_public_key(key)
    sm2 = KeyPair.generate("sm2")
    assert len(resolve_public_key(sm2)) == 32  # any suite's key file works


def test_seal_and_open() -> None:
    regulator = KeyPair.generate("ed25519")
    sealed = seal_identity(resolve_public_key(regulator), SALT, DATA)
    assert len(sealed) == SEAL_OVERHEAD + len(encode([SALT, DATA]))
    assert SALT not in sealed and DATA not in sealed
    assert seal_identity(resolve_public_key(regulator), SALT, DATA) != sealed  # ephemeral sender key
    assert open_identity(resolve_keypair(regulator), sealed) == (SALT, DATA)


def test_another_key_or_tampering_cannot_open() -> None:
    regulator, bank = KeyPair.generate("ed25519"), KeyPair.generate("ed25519")
    sealed = seal_identity(resolve_public_key(regulator), SALT, DATA)
    with pytest.raises(CannotDecrypt) as info:
        open_identity(resolve_keypair(bank), sealed)
    assert info.value.code == "cannot_decrypt" and isinstance(info.value, ConsortiaError)
    tampered = sealed[:-1] + bytes([sealed[-1] ^ 1])
    for bad in (tampered, sealed[:40], b""):
        with pytest.raises(CannotDecrypt):
            open_identity(resolve_keypair(regulator), bad)


def test_a_sealed_box_of_something_else_is_not_an_answer() -> None:
    import nacl.public

    regulator = KeyPair.generate("ed25519")
    box = nacl.public.SealedBox(nacl.public.PublicKey(resolve_public_key(regulator)))
    with pytest.raises(CannotDecrypt, match="not \\[salt, personal data\\]"):
        open_identity(resolve_keypair(regulator), bytes(box.encrypt(b"hello")))


def test_a_bad_regulator_key_is_refused() -> None:
    with pytest.raises(CryptoError, match="32-byte"):
        seal_identity(b"\x01" * 31, SALT, DATA)


@pytest.mark.parametrize("suite", ["ed25519", "sm2"])
def test_the_opened_answer_matches_the_commitment(suite: str) -> None:
    commitment = pii_commitment(SALT, DATA, suite)
    assert matches_commitment(commitment, SALT, DATA, suite)
    assert not matches_commitment(commitment, SALT, DATA + b"!", suite)
    assert not matches_commitment(commitment, SALT[::-1], DATA, suite)
    assert not matches_commitment(commitment, b"short", DATA, suite)  # below the salt minimum

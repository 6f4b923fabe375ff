"""Envelopes: application data that validators need not read, readable by its parties and the
regulator only (issue 14, decisions/0024).

One object's content is encrypted once, under a fresh 32-byte data key (AES-256-GCM, a random
12-byte nonce, the object's *context* as associated data so a ciphertext cannot be passed off as
another object's); the data key is sealed (libsodium sealed box, 80 bytes) to the X25519 sealing
key of each party and of the regulator's supervisor — one *envelope* per recipient:

    keys = {seller: pub_s, buyer: pub_b, supervisor: pub_r}          # address -> X25519 public
    sealed = seal(b"...", keys, context=b"scf.invoice\\0" + invoice_hash)
    sealed.ref                                                       # SHA-256 of the ciphertext
    plaintext = open_sealed(sealed, buyer_signing_key, context)       # any recipient
    open_sealed(sealed, someone_else_key, context)                    # NotARecipient

A sealing key derives from the identity's signing key
(``SHA-256("consortia/envelope-x25519\\0" || signing private key)``), so the key file it signs
with is the one it opens envelopes with; the public half is published on chain
(``privacy.register_key``). Everything here is pure.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping

import msgspec
import nacl.exceptions
import nacl.public
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from consortia.codec import decode, encode
from consortia.crypto.keys import KeyPair
from consortia.errors import ConsortiaError, CryptoError, DecodeError

SEALING_DOMAIN = b"consortia/envelope-x25519\x00"
CONTENT_AAD = b"consortia/envelope/v1\x00"
DATA_KEY_BYTES = 32
GCM_NONCE_BYTES = 12
GCM_TAG_BYTES = 16
SEALING_KEY_BYTES = 32
SEALED_KEY_BYTES = 80
"""A sealed data key: the ephemeral X25519 key (32), the data key (32) and the MAC (16)."""
ADDRESS_BYTES = 20
MAX_RECIPIENTS = 16
MAX_CONTENT_BYTES = 1024 * 1024
"""The largest plaintext an envelope carries (1 MiB): invoices, memos, small attachments."""
MAX_CONTEXT_BYTES = 256


class CannotOpen(CryptoError):
    """The content does not open: a wrong data key, another object's context, or altered bytes."""

    code = "cannot_open"


class NotARecipient(CryptoError):
    """The key is not one the content's data key was sealed to."""

    code = "not_a_recipient"
    http_status = 403


class BadEnvelope(CryptoError):
    """A sealed object that is not well formed (sizes, recipients, encoding)."""

    code = "bad_envelope"


class Sealed(msgspec.Struct, array_like=True, frozen=True):
    """A sealed object: the ciphertext (``nonce || AES-256-GCM``) and its envelopes, sorted by
    recipient address. Its canonical encoding is what nodes store."""

    ciphertext: bytes
    envelopes: list[tuple[bytes, bytes]]

    @property
    def ref(self) -> bytes:
        return content_ref(self.ciphertext)

    @property
    def recipients(self) -> list[bytes]:
        return [address for address, _ in self.envelopes]

    def envelope_for(self, address: bytes) -> bytes | None:
        return next((sealed for who, sealed in self.envelopes if who == address), None)

    def only_for(self, address: bytes) -> Sealed:
        """The ciphertext with only ``address``'s envelope (none if it has none)."""
        return Sealed(self.ciphertext, [(a, s) for a, s in self.envelopes if a == address])


def content_ref(ciphertext: bytes) -> bytes:
    """The on-chain name of sealed content: SHA-256 of its ciphertext (never of the plaintext,
    whose hash a guesser could confirm)."""
    return hashlib.sha256(ciphertext).digest()


def derive_sealing_key(key: KeyPair, domain: bytes) -> nacl.public.PrivateKey:
    """An X25519 key derived from a signing key in ``domain``: ``SHA-256(domain || private key)``
    as the seed (each application its own domain, so one key's uses stay apart)."""
    return nacl.public.PrivateKey.from_seed(hashlib.sha256(domain + key.private_key).digest())


def sealing_private_key(key: KeyPair) -> nacl.public.PrivateKey:
    """The X25519 key an identity opens envelopes with, derived from its signing key."""
    return derive_sealing_key(key, SEALING_DOMAIN)


def sealing_public_key(key: KeyPair) -> bytes:
    """The 32-byte X25519 public key an identity publishes (``privacy.register_key``)."""
    return bytes(sealing_private_key(key).public_key)


def _aad(context: bytes) -> bytes:
    if not isinstance(context, bytes) or not 1 <= len(context) <= MAX_CONTEXT_BYTES:
        raise BadEnvelope(f"an envelope's context is 1 to {MAX_CONTEXT_BYTES} bytes naming its object")
    return CONTENT_AAD + context


def encrypt(plaintext: bytes, context: bytes) -> tuple[bytes, bytes]:
    """``(data_key, ciphertext)``: ``plaintext`` under a fresh AES-256-GCM key and nonce."""
    if len(plaintext) > MAX_CONTENT_BYTES:
        raise BadEnvelope(f"sealed content is at most {MAX_CONTENT_BYTES} bytes, got {len(plaintext)}")
    return encrypt_with_aad(plaintext, _aad(context))


def decrypt(data_key: bytes, ciphertext: bytes, context: bytes) -> bytes:
    """The plaintext of ``ciphertext``; :class:`CannotOpen` for a wrong key, context or bytes."""
    return decrypt_with_aad(data_key, ciphertext, _aad(context))


def encrypt_with_aad(plaintext: bytes, aad: bytes) -> tuple[bytes, bytes]:
    """``(data_key, nonce || AES-256-GCM(data_key, nonce, plaintext, aad))`` under a fresh key
    and nonce (no size limit here: callers bound their content)."""
    data_key = AESGCM.generate_key(bit_length=256)
    nonce = os.urandom(GCM_NONCE_BYTES)
    return data_key, nonce + AESGCM(data_key).encrypt(nonce, plaintext, aad)


def decrypt_with_aad(data_key: bytes, ciphertext: bytes, aad: bytes) -> bytes:
    """The plaintext of :func:`encrypt_with_aad`'s ciphertext; :class:`CannotOpen` otherwise."""
    if len(data_key) != DATA_KEY_BYTES or len(ciphertext) < GCM_NONCE_BYTES + GCM_TAG_BYTES:
        raise CannotOpen(f"sealed content is at least {GCM_NONCE_BYTES + GCM_TAG_BYTES} bytes and its "
                         f"data key {DATA_KEY_BYTES}; got {len(ciphertext)} and {len(data_key)}")
    try:
        return AESGCM(data_key).decrypt(ciphertext[:GCM_NONCE_BYTES], ciphertext[GCM_NONCE_BYTES:], aad)
    except InvalidTag:
        raise CannotOpen("the content does not open with this data key: not its key, another object's "
                         "content, or altered") from None


def seal_key(public_key: bytes, data_key: bytes) -> bytes:
    """``data_key`` sealed to an X25519 public key: one envelope (80 bytes)."""
    if len(public_key) != SEALING_KEY_BYTES or len(data_key) != DATA_KEY_BYTES:
        raise BadEnvelope(f"sealing takes a {SEALING_KEY_BYTES}-byte X25519 key and a {DATA_KEY_BYTES}-byte "
                          f"data key, got {len(public_key)} and {len(data_key)}")
    return bytes(nacl.public.SealedBox(nacl.public.PublicKey(public_key)).encrypt(data_key))


def open_key(key: KeyPair, envelope: bytes) -> bytes:
    """The data key in ``envelope``, opened with ``key``'s sealing key."""
    return open_key_with(sealing_private_key(key), envelope)


def open_key_with(private: nacl.public.PrivateKey, envelope: bytes) -> bytes:
    """The data key in ``envelope``, opened with an X25519 private key."""
    try:
        data_key = nacl.public.SealedBox(private).decrypt(bytes(envelope))
    except (nacl.exceptions.CryptoError, ValueError, TypeError):
        raise CannotOpen(f"this key cannot open the envelope ({len(envelope)} bytes): sealed to another "
                         "key, or altered") from None
    if len(data_key) != DATA_KEY_BYTES:
        raise CannotOpen(f"the envelope holds {len(data_key)} bytes, not a {DATA_KEY_BYTES}-byte data key")
    return data_key


def check_recipients(keys: Mapping[bytes, bytes]) -> None:
    if not 1 <= len(keys) <= MAX_RECIPIENTS:
        raise BadEnvelope(f"content is sealed to 1 to {MAX_RECIPIENTS} recipients, got {len(keys)}")
    for address, public in keys.items():
        if not isinstance(address, bytes) or len(address) != ADDRESS_BYTES:
            raise BadEnvelope(f"a recipient is a {ADDRESS_BYTES}-byte address, got {address!r:.60}")
        if not isinstance(public, bytes) or len(public) != SEALING_KEY_BYTES:
            raise BadEnvelope(f"recipient 0x{address.hex()}'s sealing key is {SEALING_KEY_BYTES} bytes")


def seal(plaintext: bytes, keys: Mapping[bytes, bytes], context: bytes) -> Sealed:
    """``plaintext`` encrypted once under a fresh data key, sealed to every ``address ->
    X25519 public key`` of ``keys`` (the parties and the supervisor)."""
    check_recipients(keys)
    data_key, ciphertext = encrypt(plaintext, context)
    return Sealed(ciphertext, sorted((a, seal_key(p, data_key)) for a, p in keys.items()))


def open_sealed(sealed: Sealed, key: KeyPair, context: bytes) -> bytes:
    """The plaintext, for a recipient's signing key; :class:`NotARecipient` for anyone else."""
    envelope = sealed.envelope_for(key.address)
    if envelope is None:
        raise NotARecipient(f"0x{key.address.hex()} is not among the recipients of content "
                            f"0x{sealed.ref.hex()}; only its parties and the supervisor read it")
    return decrypt(open_key(key, envelope), sealed.ciphertext, context)


def to_bytes(sealed: Sealed) -> bytes:
    return encode(sealed)


def from_bytes(raw: bytes) -> Sealed:
    """A sealed object from its canonical encoding, its sizes checked (:class:`BadEnvelope`)."""
    try:
        sealed = decode(raw, Sealed)
    except (DecodeError, ConsortiaError) as exc:
        raise BadEnvelope(f"not a sealed object (ciphertext and envelopes): {exc}") from None
    if len(sealed.ciphertext) < GCM_NONCE_BYTES + GCM_TAG_BYTES:
        raise BadEnvelope("the ciphertext is shorter than a nonce and a tag")
    if len(sealed.ciphertext) > MAX_CONTENT_BYTES + GCM_NONCE_BYTES + GCM_TAG_BYTES:
        raise BadEnvelope(f"sealed content is at most {MAX_CONTENT_BYTES} bytes")
    addresses = sealed.recipients
    if not 1 <= len(addresses) <= MAX_RECIPIENTS or addresses != sorted(set(addresses)):
        raise BadEnvelope(f"1 to {MAX_RECIPIENTS} envelopes, one per recipient, sorted by address")
    for address, envelope in sealed.envelopes:
        if len(address) != ADDRESS_BYTES or len(envelope) != SEALED_KEY_BYTES:
            raise BadEnvelope(f"an envelope is a {ADDRESS_BYTES}-byte address and a {SEALED_KEY_BYTES}-byte "
                              "sealed data key")
    return sealed

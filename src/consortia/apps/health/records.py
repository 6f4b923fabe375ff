"""The cryptography of ``apps/health``, pure: a record encrypted under a fresh data key, data keys
sealed to X25519 keys derived from signing keys, and signed fetch requests.

* A record is ``nonce (12 bytes) || AES-256-GCM(data key, nonce, plaintext, aad)``; it is named
  on chain by the SHA-256 of those bytes (never of the plaintext: a short plaintext's hash could be
  guessed by trying candidates).
* A data key (32 random bytes, one per record) is sealed to the X25519 key of the patient, of the
  hospital node that serves the record (the custodian, for emergencies) and of each grantee: a
  libsodium sealed box of 80 bytes. Each identity's X25519 key derives from its signing key
  (``SHA-256("consortia/health-x25519\\0" || private key)``), so the key file it signs with is the
  one it decrypts with; it publishes the public half once (``health.register_key``).
* A fetch request names the record, the reader's public key, a time and a 16-byte random nonce,
  signed by the reader over :func:`fetch_message` (the same bytes the contract checks).
"""

from __future__ import annotations

import hashlib
import os
import time

import msgspec
import nacl.public

from consortia.apps.health.errors import (
    BadFetchRequest,
    BadFetchSignature,
    CannotOpenRecord,
    StaleFetchRequest,
)
from consortia.crypto import envelope as env
from consortia.crypto.address import address_from_public_key
from consortia.crypto.keys import KeyPair
from consortia.crypto.suites import get_suite

DATA_KEY_BYTES = 32
GCM_NONCE_BYTES = 12
RECORD_AAD = b"consortia/health-record/v1"
RECORD_ID_BYTES = 32
SEALING_DOMAIN = b"consortia/health-x25519\x00"
SEALING_KEY_BYTES = 32
SEALED_KEY_BYTES = 80
FETCH_DOMAIN = b"consortia/health-fetch\x00"
FETCH_NONCE_BYTES = 16
MAX_RECORD_BYTES = 16 * 1024 * 1024
"""The largest ciphertext a node stores (16 MiB)."""


def record_id(blob: bytes) -> bytes:
    """The on-chain name of a stored record: SHA-256 of its ciphertext."""
    return hashlib.sha256(blob).digest()


def encrypt_record(plaintext: bytes) -> tuple[bytes, bytes]:
    """``(data_key, blob)``: ``plaintext`` under a fresh AES-256-GCM key and nonce."""
    return env.encrypt_with_aad(plaintext, RECORD_AAD)


def decrypt_record(data_key: bytes, blob: bytes) -> bytes:
    """The plaintext of ``blob``; :class:`CannotOpenRecord` for a wrong key or altered bytes."""
    try:
        return env.decrypt_with_aad(data_key, blob, RECORD_AAD)
    except env.CannotOpen as exc:
        raise CannotOpenRecord(f"the record does not open with this data key: {exc.message}") from None


def sealing_private_key(key: KeyPair) -> nacl.public.PrivateKey:
    """The X25519 key an identity opens sealed data keys with, derived from its signing key."""
    return env.derive_sealing_key(key, SEALING_DOMAIN)


def sealing_public_key(key: KeyPair) -> bytes:
    """The 32-byte X25519 public key to publish with ``health.register_key``."""
    return bytes(sealing_private_key(key).public_key)


def seal_data_key(public_key: bytes, data_key: bytes) -> bytes:
    """``data_key`` sealed to an X25519 public key (80 bytes)."""
    try:
        return env.seal_key(public_key, data_key)
    except env.BadEnvelope as exc:
        raise CannotOpenRecord(exc.message) from None


def open_data_key(key: KeyPair, sealed: bytes) -> bytes:
    """The data key in ``sealed``, opened with ``key``'s sealing key."""
    try:
        return env.open_key_with(sealing_private_key(key), sealed)
    except env.CannotOpen as exc:
        raise CannotOpenRecord(exc.message) from None


def fetch_message(chain_id: str, record: bytes, reader: bytes, timestamp_ms: int, nonce: bytes) -> bytes:
    """The bytes a fetch request is signed over (the contract builds exactly these)."""
    return (FETCH_DOMAIN + chain_id.encode() + b"\x00" + record + reader + timestamp_ms.to_bytes(8, "big")
            + nonce)


class FetchRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A reader's signed request for a record's ciphertext (JSON with 0x-hex bytes on the wire)."""

    record: str
    public_key: str
    timestamp_ms: int
    nonce: str
    signature: str


def _hex(value: str, what: str, length: int | None = None) -> bytes:
    text = value[2:] if value[:2] in ("0x", "0X") else value
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raise BadFetchRequest(f"{what} is not hex: {value[:80]!r}") from None
    if length is not None and len(raw) != length:
        raise BadFetchRequest(f"{what} is {length} bytes, got {len(raw)}")
    return raw


class CheckedFetch(msgspec.Struct, frozen=True):
    record: bytes
    public_key: bytes
    reader: bytes
    timestamp_ms: int
    nonce: bytes
    signature: bytes


def sign_fetch(key: KeyPair, chain_id: str, record: bytes, now_ms: int | None = None) -> FetchRequest:
    """A fresh signed request for ``record`` by ``key``."""
    now = int(time.time() * 1000) if now_ms is None else now_ms
    nonce = os.urandom(FETCH_NONCE_BYTES)
    signature = key.sign(fetch_message(chain_id, record, key.address, now, nonce))
    return FetchRequest("0x" + record.hex(), "0x" + key.public_key.hex(), now, "0x" + nonce.hex(),
                        "0x" + signature.hex())


def check_fetch(request: FetchRequest, suite_name: str, chain_id: str, now_ms: int,
                window_ms: int) -> CheckedFetch:  # fmt: skip
    """A request's fields decoded and its signature and time checked (the node's first look;
    the contract checks the same again when the access is logged)."""
    suite = get_suite(suite_name)
    record = _hex(request.record, "record", RECORD_ID_BYTES)
    public_key = _hex(request.public_key, "public_key", suite.public_key_size)
    nonce = _hex(request.nonce, "nonce", FETCH_NONCE_BYTES)
    signature = _hex(request.signature, "signature")
    if abs(now_ms - request.timestamp_ms) > window_ms:
        raise StaleFetchRequest(f"the request was signed at {request.timestamp_ms} ms and it is now "
                                f"{now_ms} ms; a request is good for {window_ms} ms: sign a new one")
    reader = address_from_public_key(suite, public_key)
    message = fetch_message(chain_id, record, reader, request.timestamp_ms, nonce)
    if not suite.verify(public_key, message, signature):
        raise BadFetchSignature("the fetch request's signature does not verify with its public key")
    return CheckedFetch(record, public_key, reader, request.timestamp_ms, nonce, signature)

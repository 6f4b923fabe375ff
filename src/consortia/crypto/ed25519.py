"""Ed25519 suite: PyNaCl signing, libsodium ``crypto_sign_open`` verification via cffi.

Acceptance rule: libsodium's (canonical S, no small-order keys or R), identical on every node.
Private keys are 32-byte seeds; public keys 32 bytes; signatures 64 bytes.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from nacl import bindings
from nacl._sodium import ffi, lib

from consortia.crypto.hashing import sha256
from consortia.crypto.suites import Suite, VerifyItem
from consortia.errors import CryptoError

_PK = 32
_SIG = 64
_SEED = 32
_MIN_BUF = 4096

_open = lib.crypto_sign_open
_tls = threading.local()


def _buffers(size: int) -> tuple[Any, Any]:
    """This thread's output buffer (at least ``size`` bytes) and length pointer."""
    buf = getattr(_tls, "buf", None)
    if buf is None or _tls.size < size:
        _tls.size = max(size, _MIN_BUF, 2 * getattr(_tls, "size", 0))
        buf = _tls.buf = ffi.new("unsigned char[]", _tls.size)
        _tls.mlen = ffi.new("unsigned long long *")
    return buf, _tls.mlen


@lru_cache(maxsize=64)
def _expanded_secret(seed: bytes) -> bytes:
    return bindings.crypto_sign_seed_keypair(seed)[1]


def _check_seed(private_key: bytes) -> bytes:
    if not isinstance(private_key, bytes | bytearray) or len(private_key) != _SEED:
        raise CryptoError("ed25519 private keys are 32-byte seeds")
    return bytes(private_key)


class Ed25519Suite(Suite):
    """Ed25519 with SHA-256 as the chain hash."""

    name = "ed25519"
    hash = staticmethod(sha256)
    public_key_size = _PK
    signature_size = _SIG

    def generate_private_key(self) -> bytes:
        return os.urandom(_SEED)

    def public_key(self, private_key: bytes) -> bytes:
        return _expanded_secret(_check_seed(private_key))[_SEED:]

    def sign(self, private_key: bytes, message: bytes) -> bytes:
        return bindings.crypto_sign(bytes(message), _expanded_secret(_check_seed(private_key)))[:_SIG]

    def verify(self, public_key: bytes, message: bytes, signature: bytes) -> bool:
        try:
            if len(public_key) != _PK or len(signature) != _SIG:
                return False
            sm = bytes(signature) + message
            n = len(sm)
            buf, mlen = _buffers(n)
            return _open(buf, mlen, sm, n, bytes(public_key)) == 0
        except Exception:
            return False

    def verify_many(self, items: Sequence[VerifyItem]) -> list[bool]:
        out: list[bool] = []
        append = out.append
        buf, mlen = _buffers(_MIN_BUF)
        size = _tls.size
        for item in items:
            try:
                pk, msg, sig = item
                if len(pk) != _PK or len(sig) != _SIG:
                    append(False)
                    continue
                sm = sig + msg
                n = len(sm)
                if n > size:
                    buf, mlen = _buffers(n)
                    size = _tls.size
                append(_open(buf, mlen, sm, n, pk) == 0)
            except Exception:
                append(self._verify_item(item))
        return out

    def _verify_item(self, item: Any) -> bool:
        try:
            pk, msg, sig = item
        except Exception:
            return False
        return self.verify(pk, msg, sig)

    def check_public_key(self, public_key: bytes) -> None:
        if not isinstance(public_key, bytes | bytearray) or len(public_key) != _PK:
            raise CryptoError(
                "ed25519 public keys are 32 bytes",
                length=len(public_key) if isinstance(public_key, bytes | bytearray) else None,
            )
        if lib.crypto_core_ed25519_is_valid_point(bytes(public_key)) != 1:
            raise CryptoError(
                "ed25519 public key is not a valid curve point (or has small order)",
                public_key=bytes(public_key),
            )

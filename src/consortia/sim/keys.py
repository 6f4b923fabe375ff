"""Deterministic stand-in signatures for the simulator: keyed BLAKE2b, one key per validator.

Cheap and unforgeable enough for a simulation: a core can only produce a validator's signature
through that validator's ``sign`` function. Twins share a validator index and so a key.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable


def _secret(validator: int) -> bytes:
    return hashlib.sha256(b"consortia/sim/key/" + validator.to_bytes(4, "big")).digest()


class SimKeys:
    def __init__(self, validators: int) -> None:
        self._secrets = [_secret(v) for v in range(validators)]

    def signer(self, validator: int) -> Callable[[bytes], bytes]:
        secret = self._secrets[validator]

        def sign(message: bytes) -> bytes:
            return hashlib.blake2b(message, key=secret, digest_size=32).digest()

        return sign

    def verify(self, validator: int, message: bytes, signature: bytes) -> bool:
        if not 0 <= validator < len(self._secrets):
            return False
        expected = hashlib.blake2b(message, key=self._secrets[validator], digest_size=32).digest()
        return expected == signature

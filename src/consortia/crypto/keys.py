"""Key pairs bound to a signature suite."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from consortia.crypto.address import address_from_public_key, format_address
from consortia.crypto.suites import Suite, get_suite
from consortia.errors import CryptoError


@dataclass(frozen=True, repr=False)
class KeyPair:
    """A private key, its public key and suite. The repr never shows the private key."""

    suite_name: str
    private_key: bytes = field(repr=False)
    public_key: bytes

    @property
    def suite(self) -> Suite:
        return get_suite(self.suite_name)

    @cached_property
    def address(self) -> bytes:
        return address_from_public_key(self.suite, self.public_key)

    def sign(self, message: bytes) -> bytes:
        return self.suite.sign(self.private_key, message)

    @classmethod
    def generate(cls, suite_name: str = "ed25519") -> KeyPair:
        suite = get_suite(suite_name)
        sk = suite.generate_private_key()
        return cls(suite_name, sk, suite.public_key(sk))

    @classmethod
    def from_private_key(cls, suite_name: str, private_key: bytes) -> KeyPair:
        suite = get_suite(suite_name)
        if not isinstance(private_key, bytes | bytearray):
            raise CryptoError("a private key must be bytes")
        sk = bytes(private_key)
        return cls(suite_name, sk, suite.public_key(sk))

    def __repr__(self) -> str:
        return f"KeyPair(suite_name={self.suite_name!r}, address={format_address(self.address)})"

    __str__ = __repr__

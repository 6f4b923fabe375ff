"""20-byte account addresses derived from public keys, and their text form."""

from __future__ import annotations

from consortia.crypto.suites import Suite
from consortia.errors import ConsortiaError

ADDRESS_SIZE = 20
ADDRESS_DOMAIN = b"consortia/address/v1"
_HEX = frozenset("0123456789abcdefABCDEF")


class BadAddress(ConsortiaError):
    code = "bad_address"


_CACHE_LIMIT = 100_000
_cache: dict[tuple[str, bytes], bytes] = {}


def address_from_public_key(suite: Suite, public_key: bytes) -> bytes:
    """Last 20 bytes of ``suite.hash(domain || suite name || ":" || public key)``.

    Remembered for recently seen keys: the same senders sign transaction after transaction.
    """
    key = (suite.name, bytes(public_key))
    address = _cache.get(key)
    if address is None:
        address = suite.hash(ADDRESS_DOMAIN + suite.name.encode() + b":" + key[1])[-ADDRESS_SIZE:]
        if len(_cache) >= _CACHE_LIMIT:
            _cache.clear()
        _cache[key] = address
    return address


def format_address(addr: bytes) -> str:
    """``0x`` followed by 40 lowercase hex digits."""
    if len(addr) != ADDRESS_SIZE:
        raise BadAddress(f"an address is {ADDRESS_SIZE} bytes, got {len(addr)}", length=len(addr))
    return "0x" + bytes(addr).hex()


def parse_address(text: str) -> bytes:
    """Parse 40 hex digits, with or without ``0x``, any case."""
    if not isinstance(text, str):
        raise BadAddress(f"an address must be text, got {type(text).__name__}")
    body = text
    if body[:2] in ("0x", "0X"):
        body = body[2:]
    if len(body) != 2 * ADDRESS_SIZE:
        raise BadAddress(
            f"an address is {2 * ADDRESS_SIZE} hex digits (optional 0x prefix), got {len(body)}: {text!r}",
            address=text,
        )
    if not all(c in _HEX for c in body):
        raise BadAddress(f"an address must be hexadecimal (0-9, a-f), got {text!r}", address=text)
    return bytes.fromhex(body)

"""Where the contract registry keeps code and metadata in the world state, canonically encoded."""

from __future__ import annotations

import re

import msgspec

from consortia.codec import encode
from consortia.contracts.python.limits import MAX_NAME_LEN
from consortia.execution.state_view import StateReader

META_PREFIX = b"c/meta/"
CODE_PREFIX = b"c/code/"
VERSION_PREFIX = b"c/ver/"
NAME_PATTERN = re.compile(r"[a-z][a-z0-9_]*")


class ContractMeta(msgspec.Struct, array_like=True, frozen=True):
    """What ``c/meta/<name>`` holds: the current code, its version, the owner (deployer)."""

    code_hash: bytes
    version: int
    owner: bytes
    height: int


_META = msgspec.msgpack.Decoder(ContractMeta)


def meta_key(name: str) -> bytes:
    return META_PREFIX + name.encode()


def code_key(code_hash: bytes) -> bytes:
    return CODE_PREFIX + code_hash


def version_key(name: str, version: int) -> bytes:
    return VERSION_PREFIX + name.encode() + b"/" + version.to_bytes(8, "big")


def encode_meta(meta: ContractMeta) -> bytes:
    return encode(meta)


def decode_meta(raw: bytes) -> ContractMeta:
    return _META.decode(raw)


def valid_name(name: object) -> bool:
    return isinstance(name, str) and len(name) <= MAX_NAME_LEN and NAME_PATTERN.fullmatch(name) is not None


ADDRESS_PREFIX = b"c/addr/"


def address_key(address: bytes) -> bytes:
    """``c/addr/<address>`` → the name of the contract whose account that address is."""
    return ADDRESS_PREFIX + address


def contract_at(state: StateReader, address: bytes) -> str | None:
    """The name of the deployed contract at ``address``, or None."""
    raw = state.get(address_key(address))
    return None if raw is None else raw.decode("utf-8")

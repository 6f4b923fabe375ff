"""Joining and key rotation through governance (decisions/0015): proposal payloads and the
node-side key file a rotation switches to."""

from __future__ import annotations

from pathlib import Path

from consortia.codec import encode
from consortia.contracts.permissioned.gov_actions import JOIN_ORG, ROTATE_CA, ROTATE_VALIDATOR, KeyChange
from consortia.crypto.keyfile import load_key_file, password_from_env, save_key_file
from consortia.crypto.keys import KeyPair
from consortia.errors import ConfigError
from consortia.node.config import NEXT_VALIDATOR_KEY_FILE, VALIDATOR_KEY_FILE
from consortia.types.ca_rotation import CaRotationRequest
from consortia.types.org_bundle import OrgBundle

__all__ = ["JOIN_ORG", "ROTATE_CA", "ROTATE_VALIDATOR", "home_key_change", "join_org_payload",
           "make_next_validator_key", "parse_public_key", "rotate_ca_payload", "rotate_validator_payload"]


def join_org_payload(bundle: OrgBundle) -> bytes:
    return encode(bundle)


def rotate_ca_payload(request: CaRotationRequest) -> bytes:
    return encode(request)


def rotate_validator_payload(old_public_key: bytes, new_public_key: bytes) -> bytes:
    return encode(KeyChange(old_public_key, new_public_key))


def parse_public_key(text: str, what: str) -> bytes:
    try:
        raw = bytes.fromhex(text.removeprefix("0x"))
    except ValueError:
        raw = b""
    if not raw:
        raise ConfigError(f"{what} must be a public key in hex, got {text[:80]!r}")
    return raw


def make_next_validator_key(home: Path) -> KeyPair:
    """A fresh key of the node's suite in ``home/validator.next.key`` (refused if one exists)."""
    current = home / VALIDATOR_KEY_FILE
    target = home / NEXT_VALIDATOR_KEY_FILE
    if not current.exists():
        raise ConfigError(f"{home} is not a node home (no {VALIDATOR_KEY_FILE})")
    if target.exists():
        raise ConfigError(f"{target} exists: a rotation is already prepared (propose it, or remove the file)")
    key = KeyPair.generate(load_key_file(current, password_from_env()).suite_name)
    save_key_file(target, key, password_from_env())
    return key


def home_key_change(home: Path) -> tuple[bytes, bytes]:
    """The node's current and next public keys (``node new-key`` made the next)."""
    target = home / NEXT_VALIDATOR_KEY_FILE
    if not target.exists():
        raise ConfigError(f"no {target}: run `consortia node new-key --home {home}` first")
    password = password_from_env()
    return (load_key_file(home / VALIDATOR_KEY_FILE, password).public_key,
            load_key_file(target, password).public_key)

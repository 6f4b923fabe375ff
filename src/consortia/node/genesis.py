"""Genesis: building the file, loading it, and the block at height 0 it defines."""

from __future__ import annotations

import json
from pathlib import Path

from consortia.codec import encode
from consortia.codec.plain import from_plain, to_plain
from consortia.crypto.suites import get_suite
from consortia.errors import ConfigError, DecodeError
from consortia.types.consensus import QuorumCert
from consortia.types.genesis import Genesis


def genesis_hash(genesis: Genesis) -> bytes:
    return get_suite(genesis.suite).hash(b"consortia/genesis/v1" + encode(genesis))


NULL_QC = QuorumCert(block_id=b"", round=0, height=0, signers=[], signatures=[])


def genesis_to_json(genesis: Genesis) -> str:
    """Human-readable genesis file: named fields, byte strings as 0x-hex."""
    return json.dumps(to_plain(genesis), indent=2) + "\n"


def genesis_from_json(text: str | bytes) -> Genesis:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"genesis file is not valid JSON: {exc}") from None
    try:
        genesis = from_plain(Genesis, data)
    except DecodeError as exc:
        raise ConfigError(f"genesis file is invalid: {exc.message}") from None
    problems = genesis.params.problems()
    if problems:
        raise ConfigError("genesis parameters are inconsistent: " + "; ".join(problems))
    return genesis


def load_genesis(path: Path) -> Genesis:
    try:
        return genesis_from_json(path.read_text())
    except OSError as exc:
        raise ConfigError(f"cannot read genesis file {path}: {exc}") from None

"""Creating node homes: keys, genesis and configuration for a dev chain or a local network."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from consortia.crypto.keyfile import save_key_file
from consortia.crypto.keys import KeyPair
from consortia.errors import ConfigError
from consortia.node.config import (
    GENESIS_FILE,
    VALIDATOR_KEY_FILE,
    NodeConfig,
    write_config,
    write_text_atomic,
)
from consortia.node.genesis import genesis_to_json
from consortia.types.genesis import Allocation, ChainParams, Genesis, ValidatorInfo

DEV_CHAIN_ID = "consortia-dev"
DEV_ACCOUNTS = ("alice", "bob", "carol", "dave")
DEV_BALANCE = 1_000_000_000_000


@dataclass(frozen=True, slots=True)
class AccountKey:
    name: str
    address: bytes
    path: Path


def make_genesis(
    chain_id: str,
    suite: str,
    validators: list[tuple[str, KeyPair]],
    allocations: list[tuple[bytes, int]],
    params: ChainParams | None = None,
) -> Genesis:
    return Genesis(
        chain_id=chain_id,
        suite=suite,
        timestamp_ms=time.time_ns() // 1_000_000,
        validators=[ValidatorInfo(name, key.public_key) for name, key in validators],
        allocations=[Allocation(addr, amount) for addr, amount in allocations],
        params=params or ChainParams(),
    )


def write_account_keys(
    keys_dir: Path, names: tuple[str, ...], suite: str, password: str | None
) -> list[tuple[AccountKey, KeyPair]]:
    keys_dir.mkdir(parents=True, exist_ok=True)
    out = []
    for name in names:
        key = KeyPair.generate(suite)
        path = keys_dir / f"{name}.key"
        save_key_file(path, key, password)
        out.append((AccountKey(name, key.address, path), key))
    return out


def init_dev_home(
    home: Path, api_port: int = 8545, suite: str = "ed25519", password: str | None = None
) -> list[AccountKey]:
    """A one-validator chain in ``home`` with prefunded accounts in ``home/keys``."""
    if (home / GENESIS_FILE).exists():
        raise ConfigError(f"{home} already holds a chain")
    home.mkdir(parents=True, exist_ok=True)
    validator = KeyPair.generate(suite)
    save_key_file(home / VALIDATOR_KEY_FILE, validator, password)
    accounts = write_account_keys(home / "keys", DEV_ACCOUNTS, suite, password)
    genesis = make_genesis(
        DEV_CHAIN_ID,
        suite,
        [("validator-0", validator)],
        [(acct.address, DEV_BALANCE) for acct, _ in accounts],
    )
    write_text_atomic(home / GENESIS_FILE, genesis_to_json(genesis))
    write_config(home, NodeConfig(name="validator-0", validator_index=0, api_port=api_port))
    return [acct for acct, _ in accounts]


def list_account_keys(home: Path) -> list[Path]:
    return sorted((home / "keys").glob("*.key"))

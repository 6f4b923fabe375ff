"""Node homes for a simulated network: the same files a real network has, made deterministic.

Keys come from fixed seeds (so one simulation seed always signs the same bytes), the genesis
time is a fixed instant of virtual time, and there is no TLS: the simulated network
authenticates senders by construction. The chain parameters are small so that a seed is cheap
and limits (block bytes, per-sender pool share, expiry window) are reached by a short workload.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from consortia.crypto.keyfile import save_key_file
from consortia.crypto.keys import KeyPair
from consortia.node.config import (
    GENESIS_FILE,
    VALIDATOR_KEY_FILE,
    NodeConfig,
    PeerConfig,
    write_config,
)
from consortia.node.genesis import genesis_to_json
from consortia.types.genesis import Allocation, ChainParams, Genesis, ValidatorInfo

SIM_CHAIN_ID = "consortia-sim"
GENESIS_TIME_MS = 1_700_000_000_000
"""Virtual time 0 on every simulated clock (before its skew)."""
ACCOUNTS = 8
BALANCE = 10**15
SUITE = "ed25519"

SIM_PARAMS = ChainParams(
    max_block_txs=48,
    max_tx_bytes=2048,
    max_batch_txs=64,
    mempool_max_txs=400,
    block_interval_ms=100,
    empty_block_interval_ms=500,
    max_expiry_window=20_000,
    snapshot_gap=1000,
    max_block_bytes=12_288,
    mempool_max_per_sender=16,
)


@cache
def _key(kind: str, index: int) -> KeyPair:
    secret = hashlib.sha256(f"consortia/sim/{kind}/{index}".encode()).digest()
    return KeyPair.from_private_key(SUITE, secret)


def validator_key(index: int) -> KeyPair:
    return _key("validator", index)


def account_key(index: int) -> KeyPair:
    return _key("account", index)


@dataclass(frozen=True, slots=True)
class SimHomes:
    genesis: Genesis
    homes: list[Path]


def make_homes(root: Path, validators: int, params: ChainParams) -> SimHomes:
    genesis = Genesis(
        chain_id=SIM_CHAIN_ID,
        suite=SUITE,
        timestamp_ms=GENESIS_TIME_MS,
        validators=[ValidatorInfo(f"validator-{i}", validator_key(i).public_key)
                    for i in range(validators)],
        allocations=[Allocation(account_key(i).address, BALANCE) for i in range(ACCOUNTS)],
        params=params,
    )
    text = genesis_to_json(genesis)
    homes: list[Path] = []
    for i in range(validators):
        home = root / f"node{i}"
        home.mkdir(parents=True)
        (home / GENESIS_FILE).write_text(text)
        save_key_file(home / VALIDATOR_KEY_FILE, validator_key(i), None)
        peers = [PeerConfig(j, "sim", j, validator_key(j).public_key)
                 for j in range(validators) if j != i]
        write_config(home, NodeConfig(name=f"node{i}", validator_index=i, peers=peers))
        homes.append(home)
    return SimHomes(genesis, homes)

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from consortia.client.tx_builder import sign_transfer
from consortia.crypto.keys import KeyPair
from consortia.ledger.chain_store import ChainStore
from consortia.node.chain import Chain
from consortia.node.home_setup import make_genesis
from consortia.node.solo import produce_block
from consortia.types.genesis import ChainParams

CHAIN_ID = "test-chain"


@dataclass
class ChainFixture:
    path: Path
    chain: Chain
    validator: KeyPair
    accounts: list[KeyPair]
    genesis: object

    def transfer(self, sender: int, to: bytes, amount: int, nonce: int, expiry: int = 1000) -> bytes:
        return sign_transfer(self.accounts[sender], CHAIN_ID, nonce, expiry, to, amount)

    def submit(self, raws: list[bytes]) -> list:
        mp = self.chain.mempool
        return mp.admit(mp.prepare(raws), self.chain.head.height + 1)

    def produce(self):
        return produce_block(self.chain, self.validator, time.time_ns() // 1_000_000)

    def reopen(self) -> None:
        self.chain.store.close()
        self.chain = Chain(ChainStore(self.path), self.genesis)


def make_chain(path: Path, suite: str = "ed25519", accounts: int = 3, balance: int = 1000,
               params: ChainParams | None = None) -> ChainFixture:
    validator = KeyPair.generate(suite)
    keys = [KeyPair.generate(suite) for _ in range(accounts)]
    genesis = make_genesis(
        CHAIN_ID, suite, [("v0", validator)], [(k.address, balance) for k in keys], params
    )
    chain = Chain(ChainStore(path), genesis)
    return ChainFixture(path, chain, validator, keys, genesis)


@pytest.fixture
def test_chain(tmp_path: Path) -> ChainFixture:
    tc = make_chain(tmp_path / "data")
    yield tc
    tc.chain.store.close()


class Refusals(logging.Handler):
    """Records each warning the peer network logs, with the exception being handled (if any)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []
        self.errors: list[BaseException | None] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())
        self.errors.append(sys.exc_info()[1])


@pytest.fixture
def refusals() -> Iterator[Refusals]:
    """What the peer network refused (logger ``consortia.network``) during the test."""
    handler = Refusals()
    logger = logging.getLogger("consortia.network")
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)

"""Which validator set decides a height: epochs of the consensus (see decisions/0005).

Epoch 0 is the genesis set. Governance appends an epoch record effective at a height E (decided
at E - 2 or earlier); blocks from E on are decided by that set. Each epoch signs with its own
domain (``<chain>/epoch-<k>`` for k > 0), so messages of two epochs never conflict.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from consortia.contracts.permissioned.validators import epoch, epoch_count
from consortia.crypto.suites import Suite
from consortia.ledger.proofs import verify_qc
from consortia.types.block import Header
from consortia.types.consensus import QuorumCert
from consortia.types.genesis import Genesis
from consortia.types.validator_epoch import signing_chain_id

StateGet = Callable[[bytes], bytes | None]


@dataclass(frozen=True, slots=True)
class Epoch:
    number: int
    start_height: int
    keys: tuple[bytes, ...]
    signing_chain_id: str

    def index_of(self, public_key: bytes) -> int | None:
        try:
            return self.keys.index(public_key)
        except ValueError:
            return None


def epoch_at(state_get: StateGet, height: int, genesis: Genesis) -> Epoch:
    """The epoch deciding block ``height`` (needs state committed at ``height - 2`` or later)."""
    for index in range(epoch_count(state_get) - 1, 0, -1):
        record = epoch(state_get, index)
        if record is not None and record.effective_height <= height:
            keys = tuple(v.public_key for v in record.validators)
            return Epoch(index, record.effective_height, keys, signing_chain_id(genesis.chain_id, index))
    return Epoch(0, 0, tuple(v.public_key for v in genesis.validators), genesis.chain_id)


def next_epoch_start(state_get: StateGet, height: int) -> int | None:
    """The first height of an epoch decided but not yet in force at ``height``."""
    for index in range(1, epoch_count(state_get)):
        candidate = epoch(state_get, index)
        if candidate is not None and candidate.effective_height > height:
            return candidate.effective_height
    return None


def verify_qc_in_epoch(suite: Suite, header: Header, qc: QuorumCert, ep: Epoch, chain_id: str) -> bytes:
    """Check that a quorum of ``ep``'s validators signed ``header``; return its block id."""
    return verify_qc(suite, header, qc, chain_id, list(ep.keys), ep.signing_chain_id)

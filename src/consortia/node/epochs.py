"""Which validator set decides a height: epochs of the consensus (see decisions/0005).

Epoch 0 is the genesis set. Governance appends an epoch record effective at a height E (decided
at E - 2 or earlier); blocks from E on are decided by that set. Each epoch signs with its own
domain (``<chain>/epoch-<k>`` for k > 0), so messages of two epochs never conflict.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise

from consortia.contracts.permissioned.validators import epoch, epoch_count
from consortia.crypto.suites import Suite
from consortia.errors import ProofError
from consortia.types.block import Header
from consortia.types.consensus import QuorumCert, vote_bytes
from consortia.types.genesis import Genesis
from consortia.types.validators import quorum_size

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


def signing_chain_id(chain_id: str, number: int) -> str:
    return chain_id if number == 0 else f"{chain_id}/epoch-{number}"


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


def verify_qc_in_epoch(suite: Suite, header: Header, qc: QuorumCert, ep: Epoch, block_id: bytes) -> None:
    """Check that a quorum of ``ep``'s validators signed ``header`` (whose id is ``block_id``)."""
    if qc.block_id != block_id or qc.round != header.round or qc.height != header.height:
        raise ProofError("the certificate is for another block")
    n = len(ep.keys)
    signers = qc.signers
    if len(signers) != len(qc.signatures) or len(signers) < quorum_size(n):
        raise ProofError("the certificate does not hold a quorum of signatures")
    if any(b <= a for a, b in pairwise(signers)) or (
        signers and (signers[0] < 0 or signers[-1] >= n)
    ):
        raise ProofError("the certificate's signers are not valid indices of the epoch's set")
    message = vote_bytes(ep.signing_chain_id, qc.block_id, qc.round, qc.height)
    items = [(ep.keys[i], message, s) for i, s in zip(signers, qc.signatures, strict=True)]
    if not all(suite.verify_batch(items)):
        raise ProofError("a validator signature in the certificate does not verify")

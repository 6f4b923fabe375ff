"""Blocks and headers.

The block id is the hash of the canonical header. The header commits to the transactions
(``tx_root``), their receipts (``receipts_root``), the world state after executing them
(``state_root``) and the misbehaviour evidence it records (``evidence_root``), so a
certified header lets anyone verify a receipt or a state value offline.
"""

from __future__ import annotations

from collections.abc import Callable

import msgspec

from consortia.codec import encode
from consortia.types.consensus import QuorumCert, TimeoutCert

BLOCK_DOMAIN = b"consortia/block/v1"


class Header(msgspec.Struct, array_like=True, frozen=True):
    chain_id: str
    height: int
    round: int
    timestamp_ms: int
    parent_id: bytes
    proposer: int
    tx_count: int
    tx_root: bytes
    receipts_root: bytes
    state_root: bytes
    evidence_root: bytes
    justify: QuorumCert
    timeout_cert: TimeoutCert | None = None


class Block(msgspec.Struct, array_like=True, frozen=True):
    """A header, the wire bytes of its transactions in execution order, and evidence of
    validator misbehaviour (canonically encoded consensus ``Evidence``) it records on chain."""

    header: Header
    txs: list[bytes]
    evidence: list[bytes] = msgspec.field(default_factory=list)


class CommittedBlock(msgspec.Struct, array_like=True, frozen=True):
    """A block as stored once final, with the certificate of 2f+1 validators on its id."""

    block: Block
    qc: QuorumCert


def block_id(hash_fn: Callable[[bytes], bytes], header: Header) -> bytes:
    """A block's id: the chain's hash of the domain tag and the canonical header."""
    return hash_fn(BLOCK_DOMAIN + encode(header))

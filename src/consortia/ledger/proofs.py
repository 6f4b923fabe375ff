"""Self-contained proofs that verify offline, against nothing but the genesis file.

A :class:`ReceiptProof` carries a transaction, its receipt, the block header that holds both,
the quorum certificate of the validators on that header, and two Merkle inclusion proofs. A
:class:`StateValueProof` carries a key, its value (or its absence), a certified header and the
path through the state tree to the header's state root. Any change to any byte of either is
detected by :func:`verify_receipt_proof` / :func:`verify_state_value_proof`.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

import msgspec

from consortia.codec import encode
from consortia.crypto.suites import Suite, get_suite
from consortia.errors import ConsortiaError, ProofError
from consortia.execution.tx_decode import decode_tx
from consortia.ledger.merkle import InclusionProof, verify_inclusion
from consortia.state.merkle_tree import StateProof, verify_state_proof
from consortia.types.block import Header
from consortia.types.consensus import QuorumCert, vote_bytes
from consortia.types.genesis import Genesis
from consortia.types.receipt import Receipt
from consortia.types.validators import quorum_size

BLOCK_DOMAIN = b"consortia/block/v1"


class ReceiptProof(msgspec.Struct, array_like=True, frozen=True):
    tx: bytes
    receipt: Receipt
    header: Header
    qc: QuorumCert
    tx_proof: InclusionProof
    receipt_proof: InclusionProof


class StateValueProof(msgspec.Struct, array_like=True, frozen=True):
    key: bytes
    value: bytes | None
    header: Header
    qc: QuorumCert
    proof: StateProof


@dataclass(frozen=True, slots=True)
class VerifiedReceipt:
    tx_hash: bytes
    sender: bytes
    height: int
    status: str
    block_id: bytes


def verify_certified_header(header: Header, qc: QuorumCert, genesis: Genesis) -> bytes:
    """Check that 2f+1 genesis validators signed ``header``; return its block id."""
    suite = get_suite(genesis.suite)
    if header.chain_id != genesis.chain_id:
        raise ProofError(f"header is from chain {header.chain_id!r}, not {genesis.chain_id!r}")
    block_id = suite.hash(BLOCK_DOMAIN + encode(header))
    if qc.block_id != block_id:
        raise ProofError("the certificate is for a different block than this header")
    if qc.round != header.round or qc.height != header.height:
        raise ProofError("the certificate's round or height does not match the header")
    _check_signatures(suite, qc, genesis)
    return block_id


def _check_signatures(suite: Suite, qc: QuorumCert, genesis: Genesis) -> None:
    validators = genesis.validators
    n = len(validators)
    signers = qc.signers
    if len(signers) != len(qc.signatures):
        raise ProofError("the certificate has a different number of signers and signatures")
    if any(b <= a for a, b in pairwise(signers)):
        raise ProofError("the certificate's signers are not strictly ascending")
    if signers and (signers[0] < 0 or signers[-1] >= n):
        raise ProofError("the certificate names a validator outside the set")
    need = quorum_size(n)
    if len(signers) < need:
        raise ProofError(f"the certificate has {len(signers)} signatures; {need} are needed")
    message = vote_bytes(genesis.chain_id, qc.block_id, qc.round, qc.height)
    items = [(validators[i].public_key, message, s) for i, s in zip(signers, qc.signatures, strict=True)]
    if not all(suite.verify_batch(items)):
        raise ProofError("a validator signature in the certificate does not verify")


def verify_receipt_proof(proof: ReceiptProof, genesis: Genesis) -> VerifiedReceipt:
    """Verify everything in ``proof``; raises :class:`ProofError` saying what failed."""
    suite = get_suite(genesis.suite)
    header = proof.header
    block_id = verify_certified_header(header, proof.qc, genesis)
    try:
        tx = decode_tx(proof.tx, genesis.chain_id, suite, max(len(proof.tx), 1))
    except ConsortiaError as exc:
        raise ProofError(f"the transaction does not decode: {exc.message}") from None
    if not suite.verify(tx.body.public_key, tx.signed_message, tx.signature):
        raise ProofError("the transaction's signature does not verify")
    if proof.receipt.tx_hash != tx.hash:
        raise ProofError("the receipt is for a different transaction")
    if proof.tx_proof.index != proof.receipt_proof.index:
        raise ProofError("the transaction and receipt proofs are for different positions")
    if proof.tx_proof.size != header.tx_count:
        raise ProofError("the inclusion proof's block size does not match the header")
    if not verify_inclusion(header.tx_root, tx.hash, proof.tx_proof, suite.hash):
        raise ProofError("the transaction is not in the block (inclusion proof fails)")
    if not verify_inclusion(
        header.receipts_root, encode(proof.receipt), proof.receipt_proof, suite.hash
    ):
        raise ProofError("the receipt is not the block's receipt (inclusion proof fails)")
    return VerifiedReceipt(tx.hash, tx.sender, header.height, proof.receipt.status, block_id)


def verify_state_value_proof(proof: StateValueProof, genesis: Genesis) -> bytes:
    """Verify a state value (or its absence) at a certified header; return the block id."""
    suite = get_suite(genesis.suite)
    block_id = verify_certified_header(proof.header, proof.qc, genesis)
    if not verify_state_proof(
        proof.header.state_root, proof.key, proof.value, proof.proof, suite.hash
    ):
        raise ProofError("the state proof does not match the header's state root")
    return block_id

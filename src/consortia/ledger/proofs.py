"""Self-contained proofs that verify offline, against nothing but the genesis file.

A :class:`ReceiptProof` carries a transaction, its receipt, the block header that holds both,
the quorum certificate of the validators on that header, and two Merkle inclusion proofs. A
:class:`StateValueProof` carries a key, its value (or its absence), a certified header and the
path through the state tree to the header's state root. Any change to any byte of either is
detected by :func:`verify_receipt_proof` / :func:`verify_state_value_proof`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

import msgspec

from consortia.codec import decode, encode
from consortia.crypto.suites import Suite, get_suite
from consortia.errors import ConsortiaError, ProofError
from consortia.execution.tx_decode import decode_tx
from consortia.ledger.merkle import InclusionProof, verify_inclusion
from consortia.state.merkle_tree import StateProof, verify_state_proof
from consortia.types import validators as validator_set
from consortia.types.block import Header
from consortia.types.block import block_id as block_id_of
from consortia.types.consensus import QuorumCert, vote_bytes
from consortia.types.genesis import Genesis
from consortia.types.receipt import Receipt
from consortia.types.validator_epoch import EPOCH_KEY_PREFIX, ValidatorEpoch, signing_chain_id


class EpochLink(msgspec.Struct, array_like=True, frozen=True):
    """How the validator set changed: the last block decided by the old set (certified by it)
    and, proven against that block's state root, the record of the new set (epoch ``number``),
    which decides every block from ``header.height + 1`` on."""

    header: Header
    qc: QuorumCert
    number: int
    record: bytes
    proof: StateProof


class ReceiptProof(msgspec.Struct, array_like=True, frozen=True):
    tx: bytes
    receipt: Receipt
    header: Header
    qc: QuorumCert
    tx_proof: InclusionProof
    receipt_proof: InclusionProof
    epochs: list[EpochLink] = msgspec.field(default_factory=list)


class StateValueProof(msgspec.Struct, array_like=True, frozen=True):
    key: bytes
    value: bytes | None
    header: Header
    qc: QuorumCert
    proof: StateProof
    epochs: list[EpochLink] = msgspec.field(default_factory=list)


@dataclass(frozen=True, slots=True)
class VerifiedReceipt:
    tx_hash: bytes
    sender: bytes
    height: int
    status: str
    block_id: bytes


def verify_certified_header(
    header: Header, qc: QuorumCert, genesis: Genesis, epochs: Sequence[EpochLink] = ()
) -> bytes:
    """Check that a quorum of the validators deciding ``header`` signed it; return its id.

    The set starts as the genesis set and follows ``epochs``, each link checked in turn.
    """
    suite = get_suite(genesis.suite)
    keys, signing_id = _set_for(suite, header.height, genesis, epochs)
    return verify_qc(suite, header, qc, genesis.chain_id, keys, signing_id)


def verify_qc(
    suite: Suite, header: Header, qc: QuorumCert, chain_id: str, keys: list[bytes], signing_id: str
) -> bytes:
    """Check that a quorum of ``keys`` signed ``header`` in domain ``signing_id``; its id."""
    if header.chain_id != chain_id:
        raise ProofError(f"header is from chain {header.chain_id!r}, not {chain_id!r}")
    block_id = block_id_of(suite.hash, header)
    if qc.block_id != block_id:
        raise ProofError("the certificate is for a different block than this header")
    if qc.round != header.round or qc.height != header.height:
        raise ProofError("the certificate's round or height does not match the header")
    _check_signatures(suite, qc, keys, signing_id)
    return block_id


def _set_for(
    suite: Suite, height: int, genesis: Genesis, epochs: Sequence[EpochLink]
) -> tuple[list[bytes], str]:
    """The keys (and signing domain) of the set deciding ``height``, following ``epochs``."""
    keys = [v.public_key for v in genesis.validators]
    signing_id = genesis.chain_id
    for expected, link in enumerate(epochs, start=1):
        if link.number != expected:
            raise ProofError("validator-set changes must be listed in order, from the first")
        if link.header.height + 1 > height:
            raise ProofError("a validator-set change in the proof starts after the block itself")
        verify_qc(suite, link.header, link.qc, genesis.chain_id, keys, signing_id)
        key = EPOCH_KEY_PREFIX + link.number.to_bytes(4, "big")
        if not verify_state_proof(link.header.state_root, key, link.record, link.proof, suite.hash):
            raise ProofError("the validator-set record does not match the certified state")
        try:
            record = decode(link.record, ValidatorEpoch)
        except ConsortiaError:
            raise ProofError("the validator-set record does not decode") from None
        if record.effective_height != link.header.height + 1:
            raise ProofError("the validator-set change does not start right after its link block")
        keys = [v.public_key for v in record.validators]
        signing_id = signing_chain_id(genesis.chain_id, link.number)
    return keys, signing_id


def _check_signatures(suite: Suite, qc: QuorumCert, keys: list[bytes], signing_id: str) -> None:
    n = len(keys)
    signers = qc.signers
    if len(signers) != len(qc.signatures):
        raise ProofError("the certificate has a different number of signers and signatures")
    if any(b <= a for a, b in pairwise(signers)):
        raise ProofError("the certificate's signers are not strictly ascending")
    if signers and (signers[0] < 0 or signers[-1] >= n):
        raise ProofError("the certificate names a validator outside the set")
    need = validator_set.quorum_size(n)
    if len(signers) < need:
        raise ProofError(f"the certificate has {len(signers)} signatures; {need} are needed")
    message = vote_bytes(signing_id, qc.block_id, qc.round, qc.height)
    items = [(keys[i], message, s) for i, s in zip(signers, qc.signatures, strict=True)]
    valid = suite.verify_batch(items)
    if not any(valid):
        raise ProofError(
            "none of the certificate's signatures is by these validators: the proof is from "
            "another chain (with the same chain id) or this is not its genesis file"
        )
    if not all(valid):
        raise ProofError("a validator signature in the certificate does not verify")


def verify_receipt_proof(proof: ReceiptProof, genesis: Genesis) -> VerifiedReceipt:
    """Verify everything in ``proof``; raises :class:`ProofError` saying what failed."""
    suite = get_suite(genesis.suite)
    header = proof.header
    block_id = verify_certified_header(header, proof.qc, genesis, proof.epochs)
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
    block_id = verify_certified_header(proof.header, proof.qc, genesis, proof.epochs)
    if not verify_state_proof(
        proof.header.state_root, proof.key, proof.value, proof.proof, suite.hash
    ):
        raise ProofError("the state proof does not match the header's state root")
    return block_id

"""Notarisation receipts: what proves, offline, that a document existed at a block's time.

A document's *leaf* is the SHA-256 of its bytes. Leaves are batched into RFC 6962 trees
(:mod:`consortia.ledger.merkle`, SHA-256 whatever the chain's suite: the tree is part of the
document's proof, not of the chain's own hashing). A batch may itself be an item of a larger
tree: the stamping service puts each client request's tree under one tree per transaction. The
item that stands for a sub-batch is ``size (8 bytes, big-endian) || root``, so every level's size
is committed by the level above, and the top level's size by the anchoring transaction
``notary.anchor(root, size, documents)``.

A :class:`DocumentReceipt` holds the leaf, one :class:`Level` per tree from the leaf up (its
audit path, the tree's size and root), and the anchoring transaction's :class:`ReceiptProof`
(transaction, receipt, inclusion proofs, certified header, epoch links). Its file form is one
canonical JSON document: :func:`receipt_from_file_bytes` refuses any file that is not byte for
byte what :func:`receipt_file_bytes` writes, so no byte of a receipt file can change unnoticed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import msgspec

from consortia.codec import decode, decode_any
from consortia.codec.plain import from_plain, to_plain
from consortia.errors import ConsortiaError, DecodeError, ProofError
from consortia.ledger.merkle import InclusionProof, inclusion_proofs, merkle_root, verify_inclusion
from consortia.ledger.proofs import ReceiptProof, verify_receipt_proof
from consortia.types.genesis import Genesis
from consortia.types.transaction import SignedTx, TxBody

NOTARY = "notary"
ANCHOR = "anchor"
RECEIPT_VERSION = 1
LEAF_BYTES = 32
SIZE_BYTES = 8
MAX_LEVELS = 8
READ_CHUNK = 1 << 20


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def document_hash(data: bytes) -> bytes:
    """A document's leaf: the SHA-256 of its bytes."""
    return sha256(data)


def file_hash(path: Path) -> bytes:
    """The SHA-256 of a file, read in 1 MiB chunks; ``ConfigError``-free: ``OSError`` propagates."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(READ_CHUNK):
            digest.update(chunk)
    return digest.digest()


def sub_batch_item(size: int, root: bytes) -> bytes:
    """The item that stands for a sub-batch of ``size`` leaves with ``root`` in the tree above."""
    return size.to_bytes(SIZE_BYTES, "big") + root


def batch_root(leaves: Sequence[bytes]) -> bytes:
    """The RFC 6962 root (SHA-256) of a non-empty batch."""
    if not leaves:
        raise ValueError("a batch holds at least one document")
    return merkle_root(leaves, sha256)


class Level(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One tree on the way up: the item's position and audit path, the tree's size and root."""

    index: int
    size: int
    path: list[bytes]
    root: bytes

    def proof(self) -> InclusionProof:
        return InclusionProof(self.index, self.size, self.path)


class DocumentReceipt(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    version: int
    document: bytes
    """The leaf: SHA-256 of the document."""
    levels: list[Level]
    """From the document's batch up to the anchored root."""
    anchor: ReceiptProof
    """The transaction ``notary.anchor(root, size, documents)`` and its proof."""


def batch_levels(leaves: Sequence[bytes]) -> tuple[bytes, list[Level]]:
    """The root of a batch and each leaf's :class:`Level` in it."""
    root, proofs = inclusion_proofs(leaves, sha256)
    return root, [Level(p.index, p.size, p.path, root) for p in proofs]


def build_receipts(leaves: Sequence[bytes], upper: Sequence[Level],
                   anchor: ReceiptProof) -> list[DocumentReceipt]:  # fmt: skip
    """Every leaf's receipt: its level in the batch, then ``upper`` (the batch's way up)."""
    _, own = batch_levels(leaves)
    return [DocumentReceipt(RECEIPT_VERSION, leaf, [level, *upper], anchor)
            for leaf, level in zip(leaves, own, strict=True)]


# --- the file form ----------------------------------------------------------------------------


def receipt_file_bytes(receipt: DocumentReceipt) -> bytes:
    """The one file form of a receipt: indented JSON, fields in order, lowercase hex."""
    return (json.dumps(to_plain(receipt), indent=1) + "\n").encode()


def receipt_from_file_bytes(data: bytes) -> DocumentReceipt:
    """A receipt from its file; ``ProofError`` if it is not one, or not in its one form."""
    try:
        plain = msgspec.json.decode(data)
        receipt = from_plain(DocumentReceipt, plain)
    except (msgspec.DecodeError, DecodeError, ValueError, TypeError, RecursionError) as exc:
        raise ProofError(f"not a notary receipt: {str(exc)[:300]}") from None
    try:
        canonical = receipt_file_bytes(receipt)
    except (ValueError, TypeError, OverflowError) as exc:
        raise ProofError(f"not a notary receipt: {str(exc)[:300]}") from None
    if canonical != data:
        raise ProofError("the receipt file was changed: it is not byte for byte the form a receipt is "
                         "written in (whitespace, letter case, number or field order differ)")
    return receipt


# --- verification -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VerifiedStamp:
    document: bytes
    root: bytes
    documents: int
    """Documents the anchoring transaction declares under its root."""
    height: int
    timestamp_ms: int
    stamper: bytes
    tx_hash: bytes
    block_id: bytes


def anchored_args(raw_tx: bytes) -> tuple[bytes, int, int]:
    """``(root, size, documents)`` of a ``notary.anchor`` transaction, or ``ProofError``."""
    try:
        body = decode(decode(raw_tx, SignedTx).body, TxBody)
    except ConsortiaError:
        raise ProofError("the anchoring transaction does not decode") from None
    call = body.call
    if (call.contract, call.method) != (NOTARY, ANCHOR):
        raise ProofError(f"the transaction calls {call.contract}.{call.method}, not {NOTARY}.{ANCHOR}")
    try:
        args = decode_any(call.args, tuple[bytes, int, int])
    except ConsortiaError:
        raise ProofError(f"the {NOTARY}.{ANCHOR} arguments are not (root, size, documents)") from None
    return args  # type: ignore[no-any-return]


def verify_receipt(receipt: DocumentReceipt, genesis: Genesis,
                   document: bytes | None = None) -> VerifiedStamp:  # fmt: skip
    """Check everything a receipt claims against the genesis file alone; ``ProofError`` says what
    failed. With ``document`` (the SHA-256 of the file at hand), also that it is this document's."""
    if receipt.version != RECEIPT_VERSION:
        raise ProofError(f"receipt version {receipt.version} is not {RECEIPT_VERSION}")
    if document is not None and document != receipt.document:
        raise ProofError(f"the file's SHA-256 0x{document.hex()} is not the receipt's document "
                         f"0x{receipt.document.hex()}: the file was changed or is another file")
    if len(receipt.document) != LEAF_BYTES:
        raise ProofError(f"the receipt's document hash is {len(receipt.document)} bytes, not {LEAF_BYTES}")
    if not 1 <= len(receipt.levels) <= MAX_LEVELS:
        raise ProofError(f"a receipt has 1 to {MAX_LEVELS} levels, got {len(receipt.levels)}")
    item = receipt.document
    for depth, level in enumerate(receipt.levels):
        if not verify_inclusion(level.root, item, level.proof(), sha256):
            raise ProofError(f"the Merkle path at level {depth} does not lead to its root "
                             f"0x{level.root.hex()}")
        item = sub_batch_item(level.size, level.root)
    top = receipt.levels[-1]
    checked = verify_receipt_proof(receipt.anchor, genesis)
    if checked.status != "ok":
        raise ProofError(f"the anchoring transaction failed on chain ({checked.status})")
    root, size, documents = anchored_args(receipt.anchor.tx)
    if root != top.root:
        raise ProofError(f"the transaction anchors 0x{root.hex()}, not the receipt's root 0x{top.root.hex()}")
    if size != top.size:
        raise ProofError(f"the transaction anchors a tree of {size} items, the receipt's has {top.size}")
    header = receipt.anchor.header
    return VerifiedStamp(receipt.document, root, documents, checked.height, header.timestamp_ms,
                         checked.sender, checked.tx_hash, checked.block_id)

"""What a node answers about notarised documents, from its chain and its document index.

* :func:`checked_batch`: a client's claim "transaction T anchored these documents", checked
  against the committed transaction (status ok, ``notary.anchor`` of exactly the root and size
  of these hashes) before the index records anything;
* :func:`document_receipt`: a document's full receipt rebuilt from the index and the chain;
* :func:`first_stamp_json`: the earliest known stamp of a document, as the API shows it.
"""

from __future__ import annotations

from typing import Any

from consortia.apps.notary.errors import BatchMismatch
from consortia.apps.notary.index import FirstStamp, IndexedBatch
from consortia.apps.notary.receipts import (
    RECEIPT_VERSION,
    DocumentReceipt,
    Level,
    anchored_args,
    batch_root,
    sha256,
)
from consortia.codec.plain import to_plain
from consortia.errors import ProofError
from consortia.execution.tx_decode import decode_tx
from consortia.ledger.merkle import inclusion_proof
from consortia.node import queries
from consortia.node.chain import Chain


def checked_batch(chain: Chain, tx_hash: bytes, leaves: list[bytes]) -> IndexedBatch:
    """The one-level batch ``leaves`` as anchored by committed transaction ``tx_hash``, or
    :class:`BatchMismatch` saying what differs (``NotFound`` if the transaction is not committed)."""
    committed, position, receipt = queries.committed_tx(chain, tx_hash)
    raw = committed.block.txs[position]
    try:
        root, size, documents = anchored_args(raw)
    except ProofError as exc:
        raise BatchMismatch(f"transaction 0x{tx_hash.hex()} is no notary anchoring: {exc.message}") \
            from None
    if receipt.status != "ok":
        raise BatchMismatch(f"transaction 0x{tx_hash.hex()} failed on chain ({receipt.status}): it anchored "
                            "nothing", status=receipt.status)
    if size != len(leaves) or documents != len(leaves):
        raise BatchMismatch(f"transaction 0x{tx_hash.hex()} anchors a tree of {size} items over {documents} "
                            f"documents; {len(leaves)} hashes were given (only one-level batches register)",
                            size=size, documents=documents, given=len(leaves))
    if batch_root(leaves) != root:
        raise BatchMismatch(f"these {len(leaves)} hashes, in this order, do not make the anchored root "
                            f"0x{root.hex()}", root="0x" + root.hex())
    sender = decode_tx(raw, chain.chain_id, chain.suite, len(raw)).sender
    header = committed.block.header
    return IndexedBatch(root, root, tx_hash, header.height, header.timestamp_ms, sender, [], leaves)


def document_receipt(chain: Chain, first: FirstStamp) -> DocumentReceipt:
    """The full receipt of the document of ``first``, from its batch's leaves and the chain."""
    batch = first.batch
    proof = inclusion_proof(batch.leaves, first.position, sha256)
    own = Level(proof.index, proof.size, proof.path, batch.root)
    anchor = queries.receipt_proof(chain, batch.tx_hash)
    return DocumentReceipt(RECEIPT_VERSION, first.document, [own, *batch.upper], anchor)


def first_stamp_json(first: FirstStamp, receipt: DocumentReceipt | None) -> dict[str, Any]:
    batch = first.batch
    out: dict[str, Any] = {
        "document": "0x" + first.document.hex(), "height": batch.height, "timestamp_ms": batch.timestamp_ms,
        "stamper": "0x" + batch.stamper.hex(), "tx_hash": "0x" + batch.tx_hash.hex(),
        "root": "0x" + batch.anchor_root.hex(), "batch_root": "0x" + batch.root.hex(),
        "batch_documents": len(batch.leaves), "stamps_seen": first.stamps,
    }
    if receipt is not None:
        out["receipt"] = to_plain(receipt)
    return out

"""Typed bodies of notarisation's routes (api/notary_routes.py, apps/notary; issue 16,
decisions/0023): the stamping service's answer and status, a batch's registration, a document's
first stamp."""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict

from consortia.apps.notary.receipts import DocumentReceipt, Level
from consortia.ledger.proofs import ReceiptProof


class StampAnswer(TypedDict):
    """A stamping request's answer once its anchoring is final: the request's own Merkle tree
    (``root``, ``level`` up to ``anchor_root``) and the anchoring transaction's receipt proof."""

    root: str
    documents: int
    level: Level
    anchor_root: str
    tx_hash: str
    height: int
    timestamp_ms: int
    stamper: str
    anchor: ReceiptProof


class NotaryLimits(TypedDict):
    max_request_hashes: int
    max_pending_documents: int
    max_pending_requests: int


class NotaryServiceView(TypedDict):
    """The stamping service: its stamper, pending work, counters since start, index and limits."""

    height: int
    stamper: str
    pending_documents: int
    pending_requests: int
    anchors: int
    documents: int
    requests: int
    failed_anchors: int
    mean_anchor_final_ms: int
    mean_index_ms: int
    indexed_batches: int
    indexed_documents: int
    limits: NotaryLimits


class BatchRegistered(TypedDict):
    """A committed one-level batch recorded in this node's document index."""

    tx_hash: str
    root: str
    height: int
    documents: int
    indexed: bool
    already_indexed: bool


class FirstStampView(TypedDict):
    """A document's earliest known stamp, and its receipt when the node can build it."""

    document: str
    height: int
    timestamp_ms: int
    stamper: str
    tx_hash: str
    root: str
    batch_root: str
    batch_documents: int
    stamps_seen: int
    receipt: NotRequired[DocumentReceipt]


NOTARY_TYPES: dict[tuple[str, str], tuple[Any, ...]] = {
    ("post", "/v1/notary/stamp"): (StampAnswer,),
    ("get", "/v1/notary/service"): (NotaryServiceView,),
    ("post", "/v1/notary/batches"): (BatchRegistered,),
    ("get", "/v1/notary/documents/{document}"): (FirstStampView,),
}
"""Notarisation's 2xx bodies, for ``api/openapi.RESPONSE_TYPES``."""

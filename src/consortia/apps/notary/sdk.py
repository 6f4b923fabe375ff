"""Building the calls of ``apps/notary`` and naming its views: plain functions the service, the
client SDK (:mod:`consortia.client.notary`) and the REST layer share."""

from __future__ import annotations

from consortia.apps.notary.receipts import ANCHOR, LEAF_BYTES, NOTARY
from consortia.codec import encode
from consortia.types.transaction import Call

ERROR_CODES: tuple[str, ...] = ("bad_root", "bad_size")
"""The receipt statuses the contract refuses with."""
ANCHORED_EVENT = "NotaryAnchored"
RESTAMPED_EVENT = "NotaryRestamped"


def anchor_call(root: bytes, size: int, documents: int) -> Call:
    """``notary.anchor(root, size, documents)``: anchor a tree of ``size`` items over ``documents``
    documents (``size == documents`` for a one-level batch)."""
    if len(root) != LEAF_BYTES or not 1 <= size <= documents:
        raise ValueError(f"an anchoring needs a 32-byte root and 1 <= size <= documents, got "
                         f"{len(root)} bytes, size {size}, documents {documents}")
    return Call(NOTARY, ANCHOR, encode([root, size, documents]))

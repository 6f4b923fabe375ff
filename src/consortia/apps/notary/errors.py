"""Typed refusals of the notarisation application (service, index and client side)."""

from __future__ import annotations

from consortia.errors import ConsortiaError


class NoDocuments(ConsortiaError):
    """A stamp or registration with no document hash in it."""

    code = "no_documents"


class BadDocumentHash(ConsortiaError):
    """A document hash that is not 32 bytes (64 hex digits)."""

    code = "bad_document_hash"


class TooManyDocuments(ConsortiaError):
    """More document hashes in one request than the service takes."""

    code = "too_many_documents"
    http_status = 413


class NotaryBusy(ConsortiaError):
    """The stamping service holds as many pending documents or requests as it may; retry later."""

    code = "notary_busy"
    http_status = 429


class NotaryOff(ConsortiaError):
    """This node runs no stamping service (``notary`` is not set in its node.json)."""

    code = "notary_service_off"
    http_status = 404


class AnchorFailed(ConsortiaError):
    """The service's anchoring transaction was refused or failed; nothing was notarised."""

    code = "anchor_failed"
    http_status = 502


class BatchMismatch(ConsortiaError):
    """A registered batch that is not what its transaction anchored (root, size or status)."""

    code = "batch_mismatch"
    http_status = 422


class UnknownDocument(ConsortiaError):
    """A document (or root) this node knows no stamp of."""

    code = "unknown_document"
    http_status = 404

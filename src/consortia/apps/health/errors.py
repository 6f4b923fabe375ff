"""Typed refusals of the healthcare application (node record store, fetches, client side)."""

from __future__ import annotations

from consortia.errors import ConsortiaError


class CannotOpenRecord(ConsortiaError):
    """A record or sealed data key that this key cannot open (another key's, or altered bytes)."""

    code = "cannot_open_record"


class BadFetchRequest(ConsortiaError):
    """A fetch request whose fields are malformed."""

    code = "bad_fetch_request"


class StaleFetchRequest(BadFetchRequest):
    """A fetch request signed too long ago (or in the future): sign a new one."""

    code = "stale_request"


class BadFetchSignature(BadFetchRequest):
    """A fetch request not signed by the key it names."""

    code = "bad_signature"
    http_status = 401


class ReplayedFetchRequest(BadFetchRequest):
    """A fetch request that was already served once (its nonce is on chain): sign a new one."""

    code = "replayed_request"
    http_status = 409


class AccessRefused(ConsortiaError):
    """The reader holds no live grant or emergency opening on the record (or it was revoked)."""

    code = "no_access"
    http_status = 403


class AccessNotLogged(ConsortiaError):
    """The node's access-log transaction was refused or failed: nothing was served."""

    code = "access_not_logged"
    http_status = 403


class RecordNotStored(ConsortiaError):
    """This node holds no ciphertext under that record hash, or the chain knows no such record."""

    code = "record_not_found"
    http_status = 404


class BadRecordUpload(ConsortiaError):
    """An upload this node does not take (too large, not by its hospital's staff, hash mismatch)."""

    code = "bad_record_upload"


class HealthOff(ConsortiaError):
    """This node keeps no record store (``health`` is not set in its node.json)."""

    code = "health_store_off"
    http_status = 404

"""The typed refusals of API authentication: each a 401 that says what to do."""

from __future__ import annotations

from consortia.errors import ConsortiaError


class Unauthenticated(ConsortiaError):
    """The route needs a signed request and this one carries no signature."""

    code = "unauthenticated"
    http_status = 401


class BadRequestSignature(ConsortiaError):
    """The request's signature is malformed, covers too little, or does not verify."""

    code = "bad_request_signature"
    http_status = 401


class StaleRequest(ConsortiaError):
    """The signature was made too long ago (or in the future, beyond the clock skew allowed)."""

    code = "stale_request"
    http_status = 401


class ReplayedRequest(ConsortiaError):
    """A signed request this node has already served (same key and nonce)."""

    code = "replayed_request"
    http_status = 401


class UnknownIdentity(ConsortiaError):
    """The signing key is no enrolled identity of this chain."""

    code = "unknown_identity"
    http_status = 401


class RevokedIdentity(ConsortiaError):
    """The signing key's identity was revoked (or its organisation removed)."""

    code = "revoked_identity"
    http_status = 401

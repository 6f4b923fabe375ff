"""Typed bodies of the sealed-content store's routes (``/v1/confidential`` in
api/privacy_routes.py, apps/privacy; issue 16, decisions/0023)."""

from __future__ import annotations

from typing import Any, TypedDict


class ConfidentialStoreView(TypedDict):
    """This node's store of sealed content: its organisation (null: none), objects kept and
    erased here, the largest upload it takes."""

    org: str | None
    kept: int
    erased_here: int
    max_upload_bytes: int


class ConfidentialKept(TypedDict):
    """An upload kept: the content's SHA-256 (``ref``), and the other concerned organisations'
    stores to send it to (``replicate_to``: name → URL; ``no_store``: those that name none)."""

    ref: str
    kept: bool
    org: str | None
    replicate_to: dict[str, str]
    no_store: list[str]


class Envelope(TypedDict):
    """The content's data key sealed to one recipient (X25519)."""

    recipient: str
    sealed_key: str


class ConfidentialContent(TypedDict):
    """Sealed content: the object it belongs to, its parties, the ciphertext and the envelopes
    the caller may have (its own; none for a party's organisation admin)."""

    ref: str
    kind: str
    object: str
    parties: list[str]
    ciphertext: str
    envelopes: list[Envelope]


PRIVACY_TYPES: dict[tuple[str, str], tuple[Any, ...]] = {
    ("get", "/v1/confidential"): (ConfidentialStoreView,),
    ("post", "/v1/confidential"): (ConfidentialKept,),
    ("get", "/v1/confidential/{hash}"): (ConfidentialContent,),
}
"""Those routes' 2xx bodies, for ``api/openapi.RESPONSE_TYPES``."""

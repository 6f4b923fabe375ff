"""Typed bodies of the healthcare record store's routes (api/health_routes.py, apps/health;
issue 16, decisions/0023): the node's store, an upload, a served fetch."""

from __future__ import annotations

from typing import Any, TypedDict


class HealthNodeView(TypedDict):
    """This node's record store: its custodian address, X25519 sealing key (and whether the chain
    holds it), the size limit and its counters."""

    height: int
    custodian: str
    sealing_key: str
    sealing_key_registered: bool
    max_record_bytes: int
    stored: int
    served: int
    refused: int


class RecordStored(TypedDict):
    """A record's ciphertext kept: its hash (the record id) and size."""

    record: str
    size: int
    stored: bool


class RecordFetched(TypedDict):
    """A served fetch: the ciphertext and its data key sealed to the reader, the ``basis`` of
    access the chain logged (consent, patient, emergency...) and that log's transaction."""

    record: str
    reader: str
    basis: str
    sealed_key: str
    ciphertext: str
    log_tx: str
    height: int


HEALTH_TYPES: dict[tuple[str, str], tuple[Any, ...]] = {
    ("get", "/v1/health/node"): (HealthNodeView,),
    ("put", "/v1/health/records/{record}"): (RecordStored,),
    ("post", "/v1/health/fetch"): (RecordFetched,),
}
"""Those routes' 2xx bodies, for ``api/openapi.RESPONSE_TYPES``."""

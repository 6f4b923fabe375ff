"""Contract code is identified by the SHA-256 of its UTF-8 source."""

from __future__ import annotations

import hashlib


def code_hash_of(source: str) -> bytes:
    return hashlib.sha256(source.encode("utf-8")).digest()

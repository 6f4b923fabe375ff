"""A hospital node's record store: ciphertexts under ``HOME/health/records/<sha256 hex>``.

Only ciphertext is kept (the node never sees a plaintext or a patient's name), and only the
exact bytes whose SHA-256 is a record on chain: a file is written to a temporary name, synced
and renamed, so a crash leaves either the whole record or none. Not consensus state: a node
that loses its store loses the copies it served (the hospital keeps its own back-up), never the
chain's log of who was granted and who read what.
"""

from __future__ import annotations

import os
from pathlib import Path

from consortia.apps.health.records import record_id

STORE_DIR = ("health", "records")


class RecordStore:
    def __init__(self, home: Path) -> None:
        self.root = home.joinpath(*STORE_DIR)
        self.root.mkdir(parents=True, exist_ok=True)

    def path(self, record: bytes) -> Path:
        return self.root / record.hex()

    def has(self, record: bytes) -> bool:
        return self.path(record).is_file()

    def get(self, record: bytes) -> bytes | None:
        try:
            return self.path(record).read_bytes()
        except FileNotFoundError:
            return None

    def put(self, blob: bytes) -> bytes:
        """Keep ``blob`` under its SHA-256 (the record id, returned); idempotent."""
        record = record_id(blob)
        target = self.path(record)
        if target.is_file():
            return record
        temporary = target.with_suffix(f".{os.getpid()}.tmp")
        with open(temporary, "wb") as out:
            out.write(blob)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, target)
        return record

    def count(self) -> int:
        return sum(1 for p in self.root.iterdir() if p.is_file() and "." not in p.name)

"""A node's index of notarised documents: which batch holds a document, first stamp first.

The chain holds roots only (decisions/0012). A node learns the documents under a root from its
own stamping service and from clients that register a committed batch (the node checks the
batch against the anchoring transaction before it records anything). Per document the index
keeps the **earliest** anchoring it knows: a later stamp never replaces an earlier one, and an
earlier stamp registered late does.

SQLite (standard library) in ``HOME/notary/index.sqlite``; one connection, used from one worker
thread at a time (a lock guards it). A batch row keeps its leaves, so a document's full receipt
can be rebuilt from the index and the chain at any time.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import msgspec

from consortia.apps.notary.receipts import LEAF_BYTES, Level
from consortia.errors import StorageError

INDEX_DIR = "notary"
INDEX_FILE = "index.sqlite"
CACHE_KIB = 64 * 1024
"""SQLite page cache of the index (random keys: a large cache keeps inserts fast)."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS batches (
    id INTEGER PRIMARY KEY,
    root BLOB NOT NULL,
    anchor_root BLOB NOT NULL,
    tx_hash BLOB NOT NULL,
    height INTEGER NOT NULL,
    timestamp_ms INTEGER NOT NULL,
    stamper BLOB NOT NULL,
    upper BLOB NOT NULL,
    leaves BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS batches_by_tx ON batches (tx_hash);
CREATE TABLE IF NOT EXISTS documents (
    hash BLOB PRIMARY KEY,
    batch INTEGER NOT NULL,
    position INTEGER NOT NULL,
    height INTEGER NOT NULL,
    stamps INTEGER NOT NULL
) WITHOUT ROWID;
"""
_UPSERT = """
INSERT INTO documents (hash, batch, position, height, stamps) VALUES (?, ?, ?, ?, 1)
ON CONFLICT (hash) DO UPDATE SET
    batch = CASE WHEN excluded.height < documents.height THEN excluded.batch ELSE documents.batch END,
    position = CASE WHEN excluded.height < documents.height THEN excluded.position
                    ELSE documents.position END,
    height = MIN(excluded.height, documents.height),
    stamps = documents.stamps + 1
"""
_levels = msgspec.msgpack.Encoder()
_levels_decoder = msgspec.msgpack.Decoder(list[Level])


@dataclass(frozen=True, slots=True)
class IndexedBatch:
    """A batch as anchored: its own root, the way up (``upper``), the transaction and its block."""

    root: bytes
    anchor_root: bytes
    tx_hash: bytes
    height: int
    timestamp_ms: int
    stamper: bytes
    upper: list[Level]
    leaves: list[bytes]


@dataclass(frozen=True, slots=True)
class FirstStamp:
    """The earliest anchoring of a document this node knows, and how often it saw it stamped."""

    document: bytes
    batch: IndexedBatch
    position: int
    stamps: int


class DocumentIndex:
    def __init__(self, home: Path) -> None:
        directory = home / INDEX_DIR
        try:
            directory.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(directory / INDEX_FILE, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
            self._db.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise StorageError(f"cannot open the notary index in {directory}: {exc}") from None
        self._lock = threading.Lock()

    def add(self, batches: Sequence[IndexedBatch]) -> None:
        """Record anchored batches (one SQLite transaction), keeping each document's first stamp."""
        try:
            with self._lock:
                self._db.execute("BEGIN")
                try:
                    rows: list[tuple[bytes, int, int, int]] = []
                    for b in batches:
                        cursor = self._db.execute(
                            "INSERT INTO batches (root, anchor_root, tx_hash, height, timestamp_ms, stamper, "
                            "upper, leaves) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                            (b.root, b.anchor_root, b.tx_hash, b.height, b.timestamp_ms, b.stamper,
                             _levels.encode(b.upper), b"".join(b.leaves)))
                        batch_id = int(cursor.lastrowid or 0)
                        rows += [(leaf, batch_id, i, b.height) for i, leaf in enumerate(b.leaves)]
                    rows.sort()  # in key order the B-tree takes them about twice as fast
                    self._db.executemany(_UPSERT, rows)
                    self._db.execute("COMMIT")
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
        except sqlite3.Error as exc:
            raise StorageError(f"cannot write the notary index: {exc}") from None

    def has_tx(self, tx_hash: bytes) -> bool:
        with self._lock:
            row = self._db.execute("SELECT 1 FROM batches WHERE tx_hash = ? LIMIT 1", (tx_hash,)).fetchone()
        return row is not None

    def first(self, document: bytes) -> FirstStamp | None:
        """The earliest known anchoring of ``document`` (its SHA-256), or None."""
        try:
            with self._lock:
                row = self._db.execute(
                    "SELECT d.position, d.stamps, b.root, b.anchor_root, b.tx_hash, b.height, "
                    "b.timestamp_ms, b.stamper, b.upper, b.leaves "
                    "FROM documents d JOIN batches b ON b.id = d.batch WHERE d.hash = ?",
                    (document,)).fetchone()
        except sqlite3.Error as exc:
            raise StorageError(f"cannot read the notary index: {exc}") from None
        if row is None:
            return None
        position, stamps, root, anchor_root, tx_hash, height, timestamp_ms, stamper, upper, leaves = row
        batch = IndexedBatch(root, anchor_root, tx_hash, height, timestamp_ms, stamper,
                             _levels_decoder.decode(upper), split_leaves(leaves))
        return FirstStamp(document, batch, position, stamps)

    def counts(self) -> tuple[int, int]:
        """(batches, distinct documents) recorded."""
        with self._lock:
            batches = self._db.execute("SELECT COUNT(*) FROM batches").fetchone()[0]
            documents = self._db.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
        return int(batches), int(documents)

    def close(self) -> None:
        with self._lock:
            self._db.close()


def split_leaves(joined: bytes) -> list[bytes]:
    return [joined[i:i + LEAF_BYTES] for i in range(0, len(joined), LEAF_BYTES)]

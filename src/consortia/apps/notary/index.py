"""A node's index of notarised documents: which batch holds a document, first stamp first.

The chain holds roots only (decisions/0012). A node learns the documents under a root from its
own stamping service and from clients that register a committed batch (the node checks the
batch against the anchoring transaction before it records anything). Per document the index
keeps the **earliest** anchoring it knows: a later stamp never replaces an earlier one, and an
earlier stamp registered late does.

LMDB (as the chain store) in ``HOME/notary/index/``: ``batches`` (id -> the batch: roots, way
up, transaction, block, stamper, leaves), ``documents`` (SHA-256 -> batch id, position, height,
stamps seen), ``txs`` (anchoring transaction -> 1). A batch keeps its leaves, so a document's
full receipt can be rebuilt from the index and the chain at any time. Documents go in key order
with ``putmulti`` (no overwrite); only a document already known is read and merged.
"""

from __future__ import annotations

import struct
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import lmdb
import msgspec

from consortia.apps.notary.receipts import LEAF_BYTES, Level
from consortia.errors import StorageError

INDEX_DIR = "notary"
INDEX_NAME = "index"
MAP_SIZE = 64 * 2**30
"""Address space, not disk: the files grow as needed."""
_DOC = struct.Struct(">QIQI")  # batch id, position, height, stamps seen
_ID = struct.Struct(">Q")
_NEXT_ID = b"next_batch_id"


class _Batch(msgspec.Struct, array_like=True, frozen=True):
    root: bytes
    anchor_root: bytes
    tx_hash: bytes
    height: int
    timestamp_ms: int
    stamper: bytes
    upper: list[Level]
    leaves: bytes


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


_encode = msgspec.msgpack.Encoder()
_decode = msgspec.msgpack.Decoder(_Batch)


class DocumentIndex:
    def __init__(self, home: Path) -> None:
        path = home / INDEX_DIR / INDEX_NAME
        try:
            path.mkdir(parents=True, exist_ok=True)
            self._env = lmdb.open(str(path), map_size=MAP_SIZE, max_dbs=4, sync=True, readahead=False)
            self._batches = self._env.open_db(b"batches")
            self._documents = self._env.open_db(b"documents")
            self._txs = self._env.open_db(b"txs")
            self._meta = self._env.open_db(b"meta")
        except (OSError, lmdb.Error) as exc:
            raise StorageError(f"cannot open the notary index in {path}: {exc}") from None
        self._write = threading.Lock()

    def add(self, batches: Sequence[IndexedBatch]) -> None:
        """Record anchored batches (one LMDB transaction), keeping each document's first stamp."""
        try:
            with self._write, self._env.begin(write=True) as txn:
                raw_next = txn.get(_NEXT_ID, db=self._meta)
                next_id = _ID.unpack(raw_next)[0] if raw_next else 1
                rows: list[tuple[bytes, bytes]] = []
                for b in batches:
                    batch_id, next_id = next_id, next_id + 1
                    record = _Batch(b.root, b.anchor_root, b.tx_hash, b.height, b.timestamp_ms, b.stamper,
                                    b.upper, b"".join(b.leaves))
                    txn.put(_ID.pack(batch_id), _encode.encode(record), db=self._batches)
                    txn.put(b.tx_hash, b"\x01", db=self._txs)
                    rows += [(leaf, _DOC.pack(batch_id, i, b.height, 1)) for i, leaf in enumerate(b.leaves)]
                txn.put(_NEXT_ID, _ID.pack(next_id), db=self._meta)
                rows.sort()
                with txn.cursor(self._documents) as cursor:
                    _, added = cursor.putmulti(rows, overwrite=False)
                if added < len(rows):
                    self._merge_known(txn, rows)
        except lmdb.Error as exc:
            raise StorageError(f"cannot write the notary index: {exc}") from None

    def _merge_known(self, txn: lmdb.Transaction, rows: list[tuple[bytes, bytes]]) -> None:
        """Documents that were already indexed: count the stamp, keep the earlier one."""
        for key, value in rows:
            held = txn.get(key, db=self._documents)
            if held is None or held == value:
                continue
            batch_id, position, height, stamps = _DOC.unpack(held)
            new_batch, new_position, new_height, _ = _DOC.unpack(value)
            if new_height < height:
                batch_id, position, height = new_batch, new_position, new_height
            txn.put(key, _DOC.pack(batch_id, position, height, stamps + 1), db=self._documents)

    def has_tx(self, tx_hash: bytes) -> bool:
        with self._env.begin() as txn:
            return txn.get(tx_hash, db=self._txs) is not None

    def first(self, document: bytes) -> FirstStamp | None:
        """The earliest known anchoring of ``document`` (its SHA-256), or None."""
        try:
            with self._env.begin() as txn:
                held = txn.get(document, db=self._documents)
                if held is None:
                    return None
                batch_id, position, _, stamps = _DOC.unpack(held)
                raw = txn.get(_ID.pack(batch_id), db=self._batches)
        except lmdb.Error as exc:
            raise StorageError(f"cannot read the notary index: {exc}") from None
        if raw is None:
            raise StorageError(f"the notary index names batch {batch_id}, which it does not hold")
        b = _decode.decode(raw)
        batch = IndexedBatch(b.root, b.anchor_root, b.tx_hash, b.height, b.timestamp_ms, b.stamper, b.upper,
                             split_leaves(b.leaves))
        return FirstStamp(document, batch, position, stamps)

    def counts(self) -> tuple[int, int]:
        """(batches, distinct documents) recorded."""
        with self._env.begin() as txn:
            return (int(txn.stat(self._batches)["entries"]), int(txn.stat(self._documents)["entries"]))

    def close(self) -> None:
        self._env.close()


def split_leaves(joined: bytes) -> list[bytes]:
    return [joined[i:i + LEAF_BYTES] for i in range(0, len(joined), LEAF_BYTES)]

"""Embedded, durable storage of the chain: blocks, indexes, receipts, state and tree nodes.

One LMDB environment (nothing to install, crash-safe by design). Committing a block is ONE write
transaction: the block with its certificate, its transaction and receipt indexes, the world
state writes, the new state-tree nodes, the new head, and the removal of its transactions from
the persisted mempool. LMDB fsyncs on commit, so after ``commit_block`` returns the block
survives ``kill -9`` and power loss; before it returns, none of it is visible.
"""

from __future__ import annotations

import contextlib
import struct
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path

import lmdb

from consortia.codec import decode, decode_any, encode
from consortia.errors import NotFound, StorageError
from consortia.invariant import invariant
from consortia.types.block import CommittedBlock
from consortia.types.genesis import Genesis
from consortia.types.receipt import Receipt

_U64 = struct.Struct(">Q")
_LOC = struct.Struct(">QI")
DEFAULT_MAP_SIZE = 64 * 2**30  # address space, not disk: LMDB files grow as needed


class Head(tuple[int, bytes, bytes]):
    """(height, block id, state root) of the last committed block."""

    @property
    def height(self) -> int:
        return self[0]

    @property
    def block_id(self) -> bytes:
        return self[1]

    @property
    def state_root(self) -> bytes:
        return self[2]


class StateSnapshot:
    """A consistent read-only view of committed state (one LMDB read transaction)."""

    __slots__ = ("_db", "_tx_db", "_txn")

    def __init__(self, env: lmdb.Environment, db: lmdb._Database, tx_db: lmdb._Database) -> None:
        self._txn = env.begin(db=db, buffers=False)
        self._db = db
        self._tx_db = tx_db

    def get(self, key: bytes) -> bytes | None:
        return self._txn.get(key)

    def has_tx(self, tx_hash: bytes) -> bool:
        """Whether a committed block holds this transaction, in the same consistent view."""
        return self._txn.get(tx_hash, db=self._tx_db) is not None

    def close(self) -> None:
        self._txn.abort()

    def __enter__(self) -> StateSnapshot:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class ChainStore:
    def __init__(self, path: Path, map_size: int = DEFAULT_MAP_SIZE) -> None:
        path.mkdir(parents=True, exist_ok=True)
        try:
            self.env = lmdb.open(
                str(path), map_size=map_size, max_dbs=16, sync=True, metasync=True, readahead=False
            )
        except lmdb.Error as exc:
            raise StorageError(f"cannot open chain data at {path}: {exc}") from None
        self._meta = self.env.open_db(b"meta")
        self._blocks = self.env.open_db(b"blocks")
        self._block_index = self.env.open_db(b"block_index")
        self._tx_index = self.env.open_db(b"tx_index")
        self._receipts = self.env.open_db(b"receipts")
        self._state = self.env.open_db(b"state")
        self._nodes = self.env.open_db(b"nodes")
        self._pool = self.env.open_db(b"pool")
        self._pending = self.env.open_db(b"pending")

    def close(self) -> None:
        self.env.close()

    # --- genesis and head ---------------------------------------------------------------

    def genesis(self) -> Genesis | None:
        with self.env.begin(db=self._meta) as txn:
            raw = txn.get(b"genesis")
        return decode(raw, Genesis) if raw is not None else None

    def head(self) -> Head | None:
        with self.env.begin(db=self._meta) as txn:
            raw = txn.get(b"head")
        if raw is None:
            return None
        height, block_id, root = decode_any(raw, tuple[int, bytes, bytes])
        return Head((height, block_id, root))

    def get_meta(self, key: bytes) -> bytes | None:
        with self.env.begin(db=self._meta) as txn:
            return txn.get(key)

    def put_meta(self, key: bytes, value: bytes) -> None:
        """Durably store a small record (e.g. consensus safety data) before returning."""
        with _storage("store a node record"), self.env.begin(write=True, db=self._meta) as txn:
            txn.put(key, value)

    # --- committing ---------------------------------------------------------------------

    def commit_block(
        self,
        committed: CommittedBlock,
        tx_hashes: Sequence[bytes],
        receipts: Sequence[Receipt],
        writes: Mapping[bytes, bytes | None],
        new_nodes: Mapping[bytes, bytes],
        genesis: Genesis | None = None,
    ) -> None:
        header = committed.block.header
        height = header.height
        block_id = committed.qc.block_id
        invariant(len(tx_hashes) == header.tx_count <= len(receipts), "block parts disagree")
        head = self.head()
        expected = 0 if head is None else head.height + 1
        invariant(height == expected, f"commit of height {height} but next is {expected}")
        key = _U64.pack(height)
        try:
            with self.env.begin(write=True) as txn:
                if genesis is not None:
                    txn.put(b"genesis", encode(genesis), db=self._meta)
                txn.put(key, encode(committed), db=self._blocks)
                txn.put(block_id, key, db=self._block_index)
                if tx_hashes:
                    cur = txn.cursor(db=self._tx_index)
                    cur.putmulti([(h, _LOC.pack(height, i)) for i, h in enumerate(tx_hashes)])
                    pool = txn.cursor(db=self._pool)
                    for h in tx_hashes:
                        if pool.set_key(h):
                            pool.delete()
                txn.put(key, encode(list(receipts)), db=self._receipts)
                puts = [(k, v) for k, v in writes.items() if v is not None]
                if puts:
                    txn.cursor(db=self._state).putmulti(sorted(puts))
                for k, v in writes.items():
                    if v is None:
                        txn.delete(k, db=self._state)
                if new_nodes:
                    txn.cursor(db=self._nodes).putmulti(sorted(new_nodes.items()))
                txn.put(b"head", encode([height, block_id, header.state_root]), db=self._meta)
                pending = txn.cursor(db=self._pending)
                while pending.first() and _U64.unpack(pending.key()[:8])[0] <= height:
                    pending.delete()
        except lmdb.Error as exc:
            raise StorageError(f"cannot commit block {height}: {exc}") from None

    def install_snapshot(
        self,
        committed: CommittedBlock,
        items: Sequence[tuple[bytes, bytes]],
        nodes: Mapping[bytes, bytes],
    ) -> None:
        """Replace the world state with a verified snapshot at ``committed``'s height.

        One write transaction: the state is swapped whole, the block becomes the head, and the
        heights between the old head and it stay empty (this node never saw those blocks).
        """
        header = committed.block.header
        key = _U64.pack(header.height)
        try:
            with self.env.begin(write=True) as txn:
                txn.drop(self._state, delete=False)
                txn.cursor(db=self._state).putmulti(sorted(items))
                txn.cursor(db=self._nodes).putmulti(sorted(nodes.items()))
                txn.put(key, encode(committed), db=self._blocks)
                txn.put(committed.qc.block_id, key, db=self._block_index)
                txn.put(key, encode([]), db=self._receipts)
                txn.drop(self._pending, delete=False)
                txn.put(
                    b"head", encode([header.height, committed.qc.block_id, header.state_root]),
                    db=self._meta,
                )
                txn.put(b"snapshot_base", key, db=self._meta)
        except lmdb.Error as exc:
            raise StorageError(f"cannot install the snapshot at {header.height}: {exc}") from None

    def state_items(self) -> tuple[list[tuple[bytes, bytes]], Head | None]:
        """Every committed state entry and the head they belong to, read consistently."""
        with self.env.begin() as txn:
            raw = txn.get(b"head", db=self._meta)
            items = [(bytes(k), bytes(v)) for k, v in txn.cursor(db=self._state)]
        if raw is None:
            return items, None
        height, block_id, root = decode_any(raw, tuple[int, bytes, bytes])
        return items, Head((height, block_id, root))

    # --- reading ------------------------------------------------------------------------

    def snapshot(self) -> StateSnapshot:
        return StateSnapshot(self.env, self._state, self._tx_index)

    def state_get(self, key: bytes) -> bytes | None:
        with self.env.begin(db=self._state) as txn:
            return txn.get(key)

    def state_scan(self, prefix: bytes, limit: int = 1000) -> list[tuple[bytes, bytes]]:
        """Up to ``limit`` committed state entries whose key starts with ``prefix``, in key order."""
        out: list[tuple[bytes, bytes]] = []
        with self.env.begin(db=self._state) as txn:
            cursor = txn.cursor()
            if not cursor.set_range(prefix):
                return out
            for key, value in cursor:
                if not key.startswith(prefix) or len(out) >= limit:
                    break
                out.append((bytes(key), bytes(value)))
        return out

    def node_get(self, node_hash: bytes) -> bytes | None:
        with self.env.begin(db=self._nodes) as txn:
            return txn.get(node_hash)

    def block(self, height: int) -> CommittedBlock:
        with self.env.begin(db=self._blocks) as txn:
            raw = txn.get(_U64.pack(height))
        if raw is None:
            raise NotFound(f"no committed block at height {height}")
        return decode(raw, CommittedBlock)

    def height_of_block(self, block_id: bytes) -> int:
        with self.env.begin(db=self._block_index) as txn:
            raw = txn.get(block_id)
        if raw is None:
            raise NotFound(f"no committed block with id 0x{block_id.hex()}")
        return int(_U64.unpack(raw)[0])

    def receipts(self, height: int) -> list[Receipt]:
        with self.env.begin(db=self._receipts) as txn:
            raw = txn.get(_U64.pack(height))
        if raw is None:
            raise NotFound(f"no receipts at height {height}")
        return decode_any(raw, list[Receipt])

    def tx_location(self, tx_hash: bytes) -> tuple[int, int] | None:
        with self.env.begin(db=self._tx_index) as txn:
            raw = txn.get(tx_hash)
        if raw is None:
            return None
        height, index = _LOC.unpack(raw)
        return int(height), int(index)

    def has_tx(self, tx_hash: bytes) -> bool:
        with self.env.begin(db=self._tx_index) as txn:
            return txn.get(tx_hash) is not None

    # --- executed blocks not yet final (so a restarted validator can resume its rounds) ---

    def put_pending(self, height: int, block_id: bytes, raw_block: bytes) -> None:
        """Durably keep a block this validator built or validated, until it is committed."""
        with _storage(f"keep the block at height {height}"), self.env.begin(
            write=True, db=self._pending
        ) as txn:
            txn.put(_U64.pack(height) + block_id, raw_block)

    def clear_pending(self) -> None:
        """Forget every kept block (an epoch ended: the old set's uncommitted blocks are void)."""
        with _storage("forget kept blocks"), self.env.begin(write=True) as txn:
            txn.drop(self._pending, delete=False)

    def pending_blocks(self) -> list[bytes]:
        """Kept blocks above the head, in height order."""
        with self.env.begin(db=self._pending) as txn:
            return [bytes(v) for _, v in txn.cursor()]

    # --- persisted mempool --------------------------------------------------------------

    def pool_add(self, txs: Iterable[tuple[bytes, bytes]]) -> None:
        """Durably record accepted transactions (hash, wire bytes) before acknowledging them."""
        items = list(txs)
        if not items:
            return
        try:
            with self.env.begin(write=True, db=self._pool) as txn:
                txn.cursor().putmulti(items)
        except lmdb.Error as exc:
            raise StorageError(f"cannot persist accepted transactions: {exc}") from None

    def pool_remove(self, tx_hashes: Iterable[bytes]) -> None:
        with _storage("remove transactions from the saved pool"), self.env.begin(
            write=True, db=self._pool
        ) as txn:
            for h in tx_hashes:
                txn.delete(h)

    def pool_items(self) -> Iterator[tuple[bytes, bytes]]:
        with self.env.begin(db=self._pool) as txn:
            yield from list(txn.cursor())


@contextlib.contextmanager
def _storage(what: str) -> Iterator[None]:
    """Turn LMDB's failures (disk full, I/O error) into a typed StorageError naming the step."""
    try:
        yield
    except lmdb.Error as exc:
        raise StorageError(f"cannot {what}: {exc}") from None

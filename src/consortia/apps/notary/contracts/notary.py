"""Notary: anchors the Merkle root of a batch of document hashes; the first anchoring of a root is
the one kept (its stamper, height and time never change).

This file is contract source (deployed as text at genesis), not a module of the consortia package.

    anchor(root, size, documents) -> dict   the root's record         NotaryAnchored / NotaryRestamped
    get(root) -> dict or None               stamper, height, timestamp_ms, size, documents, tx_hash,
                                            stamps (how often anchored), last_height
    count() -> int                          roots anchored
    documents() -> int                      documents under them (as declared by their stampers)
    stamper_count(address) -> int           roots first anchored by ``address``
    stamper_root(address, n) -> bytes       the n-th of them (1-based)

``root`` is a 32-byte RFC 6962 root (SHA-256); ``size`` is how many items its tree has (the root
alone does not commit to it), ``documents`` how many documents are under those items (equal to
``size`` for a one-level batch, larger when the items are roots of sub-batches).

Refusal codes: bad_root, bad_size.
"""

from consortia_contract import Contract, Map, Record, Value, public, require, view

ROOT_BYTES = 32
MAX_SIZE = 1_099_511_627_776  # 2**40 items or documents in one anchoring


class Anchor(Record):
    """A notarised Merkle root: who anchored it first, when, how many documents, restamps."""
    root: bytes
    stamper: bytes
    height: int
    timestamp_ms: int
    size: int
    documents: int
    tx_hash: bytes
    stamps: int
    last_height: int


class Notary(Contract):
    roots = Map(bytes, dict)
    anchored = Value(int)
    total_documents = Value(int)
    by_stamper = Map(bytes, int)
    stamper_roots = Map(bytes, Map(int, bytes))

    @public
    def anchor(self, root: bytes, size: int, documents: int) -> Anchor:
        require(isinstance(root, bytes) and len(root) == ROOT_BYTES,
                f"a root is {ROOT_BYTES} bytes, got {len(root) if isinstance(root, bytes) else root!r}",
                "bad_root")
        require(isinstance(size, int) and isinstance(documents, int) and 1 <= size <= documents <= MAX_SIZE,
                f"size {size!r} and documents {documents!r} must satisfy "
                f"1 <= size <= documents <= {MAX_SIZE}",
                "bad_size")
        now = self.block.height
        record = self.roots.get(root)
        if record is not None:
            record["stamps"] = record["stamps"] + 1
            record["last_height"] = now
            self.roots[root] = record
            self.emit("NotaryRestamped", root=root, stamper=self.caller, first_height=record["height"],
                      first_stamper=record["stamper"])
            return record
        record = {
            "root": root, "stamper": self.caller, "height": now, "timestamp_ms": self.block.timestamp_ms,
            "size": size, "documents": documents, "tx_hash": self.tx_hash, "stamps": 1, "last_height": now,
        }
        self.roots[root] = record
        self.anchored += 1
        self.total_documents += documents
        n = self.by_stamper[self.caller] + 1
        self.by_stamper[self.caller] = n
        self.stamper_roots[self.caller][n] = root
        self.emit("NotaryAnchored", root=root, stamper=self.caller, size=size, documents=documents)
        return record

    @view
    def get(self, root: bytes) -> Anchor | None:
        require(isinstance(root, bytes) and len(root) == ROOT_BYTES, "a root is 32 bytes", "bad_root")
        return self.roots.get(root)

    @view
    def count(self) -> int:
        return self.anchored

    @view
    def documents(self) -> int:
        return self.total_documents

    @view
    def stamper_count(self, stamper: bytes) -> int:
        return self.by_stamper[stamper]

    @view
    def stamper_root(self, stamper: bytes, n: int) -> bytes:
        require(isinstance(n, int) and 1 <= n <= self.by_stamper[stamper],
                f"the stamper has anchored {self.by_stamper[stamper]} roots; no number {n!r}", "bad_size")
        return self.stamper_roots[stamper][n]

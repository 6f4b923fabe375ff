"""The authenticated world state: a 16-ary Merkle radix tree over hashed keys.

Shape (in the spirit of Diem/Aptos' Jellyfish Merkle Tree, with our own encoding):

* a key's *path* is ``h(key)``: 32 bytes, 64 nibbles (high nibble of each byte first);
* a **leaf** is ``(path, h(value))``; its hash is ``h(0x00 || path || value_hash)`` — it does not
  depend on the depth the leaf sits at;
* an **internal** node has up to 16 children indexed by the next nibble; its hash is
  ``h(0x01 || bitmap || child hashes in nibble order)``, ``bitmap`` being 2 bytes big endian
  with bit ``i`` set iff child ``i`` is present;
* a subtree holding no key is empty, one holding a single key *is* that key's leaf (compaction),
  one holding two or more keys is an internal node (possibly with a single internal child when
  the keys share the next nibble). The tree is thus a function of the key/value set alone,
  whatever the history of inserts and deletes; the empty tree's root is 32 zero bytes.

Nodes are content-addressed: the stored bytes of a node are exactly its hash pre-image
(65 bytes ``0x00 || path || value_hash`` for a leaf, ``0x01 || bitmap || children`` for an
internal node), so ``hash == h(node_bytes)``. Values are not in the tree; the caller keeps
``key -> value`` and the tree keeps value hashes.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Mapping, Sequence
from typing import TypeAlias

import msgspec

from consortia.errors import StorageError

HashFn = Callable[[bytes], bytes]
GetNode = Callable[[bytes], bytes | None]

EMPTY_ROOT = b"\x00" * 32
"""Root of the tree holding no key."""

_LEAF_TAG = 0
_INTERNAL_TAG = 1
_LEAF = b"\x00"
_INTERNAL = b"\x01"
_LEAF_LEN = 65
_DEPTH = 64
_BYTE = [bytes((i,)) for i in range(256)]
_BYTES_LIKE = (bytes, bytearray, memoryview)

# A decoded node: a leaf is its 65 stored bytes; an internal node is (bitmap, 16 child slots).
# Only tuples of bytes/None/int, so that the garbage collector stops tracking cached nodes.
Internal: TypeAlias = tuple[int, tuple[bytes | None, ...]]
Node: TypeAlias = bytes | Internal
Keep: TypeAlias = tuple[bytes, bytes, bytes] | None


class StateProof(msgspec.Struct, array_like=True, frozen=True):
    """Path from the root towards a key's slot, and what sits at its end.

    ``bitmaps[d]`` / ``siblings[d]`` describe the internal node at depth ``d``: its child bitmap
    and the hashes of its present children other than the one on the key's path, in nibble
    order. The terminal is the leaf found at the end of the path (``leaf_path`` and
    ``leaf_value_hash``; a different key's leaf proves absence), or an empty slot (both None).
    """

    bitmaps: list[int]
    siblings: list[list[bytes]]
    leaf_path: bytes | None
    leaf_value_hash: bytes | None


class InMemoryNodeStore:
    """Node hash -> node bytes, in a dict (tests, the simulator)."""

    def __init__(self) -> None:
        self.nodes: dict[bytes, bytes] = {}

    def get(self, node_hash: bytes) -> bytes | None:
        return self.nodes.get(node_hash)

    def put_many(self, nodes: Mapping[bytes, bytes]) -> None:
        self.nodes.update(nodes)

    def __len__(self) -> int:
        return len(self.nodes)


def _decode(node_hash: bytes, data: bytes | None) -> Node:
    if data is None:
        raise StorageError(f"state tree node 0x{node_hash.hex()} is missing from the store")
    n = len(data)
    if n == _LEAF_LEN and data[0] == _LEAF_TAG:
        return bytes(data)
    if n >= 35 and data[0] == _INTERNAL_TAG:
        bm = (data[1] << 8) | data[2]
        if bm and n == 3 + 32 * bm.bit_count():
            children: list[bytes | None] = [None] * 16
            off = 3
            for nib in range(16):
                if bm >> nib & 1:
                    children[nib] = data[off : off + 32]
                    off += 32
            return (bm, tuple(children))
    raise StorageError(f"state tree node 0x{node_hash.hex()} is malformed")


class MerkleTree:
    """Batch updates, reads and proofs over state trees whose nodes live in a node store.

    ``get_node`` reads a node's bytes by hash (None if absent). Decoded nodes are kept in a
    bounded two-generation cache (about ``cache_size`` nodes), so the upper levels, which every
    block touches, are neither fetched nor parsed again.
    """

    def __init__(self, get_node: GetNode, h: HashFn, cache_size: int = 200_000) -> None:
        self._get_node = get_node
        self._h = h
        self._half = max(1, cache_size // 2)
        self._young: dict[bytes, Node] = {}
        self._old: dict[bytes, Node] = {}

    # --- node cache ---------------------------------------------------------------------

    def _rotate(self) -> None:
        if len(self._young) >= self._half:
            self._old = self._young
            self._young = {}

    def _miss(self, node_hash: bytes) -> Node:
        """A node not in the young generation: promote it from the old one or the store."""
        node = self._old.get(node_hash)
        if node is None:
            node = _decode(node_hash, self._get_node(node_hash))
        self._young[node_hash] = node
        return node

    def _load(self, node_hash: bytes) -> Node:
        node = self._young.get(node_hash)
        if node is None:
            node = self._miss(node_hash)
            self._rotate()
        return node

    # --- reads --------------------------------------------------------------------------

    def value_hash(self, root: bytes, key: bytes) -> bytes | None:
        """``h(value)`` of ``key`` under ``root``, or None if the key is absent."""
        proof = self.get_proof(root, key)
        if proof.leaf_path is not None and proof.leaf_path == self._h(key):
            return proof.leaf_value_hash
        return None

    def get_proof(self, root: bytes, key: bytes) -> StateProof:
        """Proof of ``key``'s value, or of its absence, under ``root``."""
        path = self._h(key)
        bitmaps: list[int] = []
        siblings: list[list[bytes]] = []
        if root == EMPTY_ROOT:
            return StateProof(bitmaps, siblings, None, None)
        load = self._load
        node_hash = root
        depth = 0
        while True:
            node = load(node_hash)
            if type(node) is bytes:
                return StateProof(bitmaps, siblings, node[1:33], node[33:])
            bm, children = node  # type: ignore[misc]
            b = path[depth >> 1]
            nib = b & 15 if depth & 1 else b >> 4
            bitmaps.append(bm)
            siblings.append([c for i, c in enumerate(children) if c is not None and i != nib])
            child = children[nib]
            if child is None:
                return StateProof(bitmaps, siblings, None, None)
            node_hash = child
            depth += 1

    # --- batch update -------------------------------------------------------------------

    def update(
        self, root: bytes, changes: Sequence[tuple[bytes, bytes | None]]
    ) -> tuple[bytes, dict[bytes, bytes]]:
        """Apply ``(key, value or None to delete)`` changes to the tree at ``root``.

        A key repeated in ``changes`` takes its last value; the result does not depend on the
        order of distinct keys. Returns the new root and the nodes created (hash -> bytes),
        which the caller persists before reading the new tree through ``get_node``.
        """
        h = self._h
        latest: dict[bytes, bytes | None] = {}
        for key, value in changes:
            latest[key] = value
        by_path = {h(k): (None if v is None else h(v)) for k, v in latest.items()}
        paths = sorted(by_path)
        vhs = [by_path[p] for p in paths]
        out: dict[bytes, bytes] = {}
        young = self._young  # the cache rotates only after the update
        yget = young.get
        miss = self._miss
        byte = _BYTE

        def mkleaf(path: bytes, vh: bytes) -> bytes:
            body = _LEAF + path + vh
            node_hash = h(body)
            out[node_hash] = body
            young[node_hash] = body
            return node_hash

        def mknode(bm: int, children: list[bytes | None]) -> bytes:
            body = b"".join([_INTERNAL, byte[bm >> 8], byte[bm & 255], *filter(None, children)])
            node_hash = h(body)
            out[node_hash] = body
            young[node_hash] = (bm, tuple(children))
            return node_hash

        def split(ps: list[bytes], depth: int, i: int, hi: int) -> tuple[int, int]:
            """Nibble at ``depth`` of ``ps[i]`` and the end of its run in sorted ``ps[i:hi]``."""
            bi = depth >> 1
            b = ps[i][bi]
            if depth & 1:
                nib = b & 15
                if i + 1 == hi or nib == 15 or ps[hi - 1][bi] & 15 == nib:
                    return nib, hi
                bound = ps[i][:bi] + byte[(b & 0xF0) | (nib + 1)]
            else:
                nib = b >> 4
                if i + 1 == hi or nib == 15 or ps[hi - 1][bi] >> 4 == nib:
                    return nib, hi
                bound = ps[i][:bi] + byte[(nib + 1) << 4]
            return nib, bisect_left(ps, bound, i + 1, hi)

        def build(
            depth: int, ps: list[bytes], vs: list[bytes], lo: int, hi: int, keep: Keep
        ) -> bytes:
            """A fresh subtree over ``ps[lo:hi]`` (>= 2 keys, all present).

            ``keep`` is an existing leaf (path, value hash, node hash), reused without
            rehashing if it ends up alone in a slot.
            """
            children: list[bytes | None] = [None] * 16
            bm = 0
            i = lo
            while i < hi:
                nib, j = split(ps, depth, i, hi)
                if j - i == 1:
                    p, v = ps[i], vs[i]
                    if keep is not None and p == keep[0] and v == keep[1]:
                        children[nib] = keep[2]
                    else:
                        children[nib] = mkleaf(p, v)
                else:
                    children[nib] = build(depth + 1, ps, vs, i, j, keep)
                bm |= 1 << nib
                i = j
            return mknode(bm, children)

        def insert_range(depth: int, lo: int, hi: int) -> bytes | None:
            """A fresh subtree over the changes ``lo:hi`` into an empty slot."""
            if hi - lo == 1:
                v = vhs[lo]
                return None if v is None else mkleaf(paths[lo], v)
            ps = paths[lo:hi]
            vs = vhs[lo:hi]
            if None in vs:
                kept = [(p, v) for p, v in zip(ps, vs, strict=True) if v is not None]
                ps = [p for p, _ in kept]
                vs = [v for _, v in kept]
                if len(ps) < 2:
                    return mkleaf(ps[0], vs[0]) if ps else None
            return build(depth, ps, vs, 0, len(ps), None)  # type: ignore[arg-type]

        def update_leaf(leaf_hash: bytes, leaf: bytes, depth: int, lo: int, hi: int) -> bytes | None:
            lp = leaf[1:33]
            lvh = leaf[33:]
            if hi - lo == 1:
                p, v = paths[lo], vhs[lo]
                if p == lp:
                    if v is None:
                        return None
                    return leaf_hash if v == lvh else mkleaf(p, v)
                if v is None:
                    return leaf_hash
                if p < lp:
                    return build(depth, [p, lp], [v, lvh], 0, 2, (lp, lvh, leaf_hash))
                return build(depth, [lp, p], [lvh, v], 0, 2, (lp, lvh, leaf_hash))
            ps: list[bytes] = []
            vs: list[bytes] = []
            placed = False
            for k in range(lo, hi):
                p = paths[k]
                if not placed and lp <= p:
                    placed = True
                    if lp != p:
                        ps.append(lp)
                        vs.append(lvh)
                v = vhs[k]
                if v is not None:
                    ps.append(p)
                    vs.append(v)
            if not placed:
                ps.append(lp)
                vs.append(lvh)
            if len(ps) > 1:
                return build(depth, ps, vs, 0, len(ps), (lp, lvh, leaf_hash))
            if not ps:
                return None
            if ps[0] == lp and vs[0] == lvh:
                return leaf_hash
            return mkleaf(ps[0], vs[0])

        def is_leaf(node_hash: bytes) -> bool:
            body = out.get(node_hash)
            if body is not None:
                return body[0] == _LEAF_TAG
            return type(yget(node_hash) or miss(node_hash)) is bytes

        def update_node(node_hash: bytes, node: Internal, depth: int, lo: int, hi: int) -> bytes | None:
            if depth >= _DEPTH:
                raise StorageError("state tree is deeper than a key path")
            bm, children = node
            new_bm = bm
            new_children: list[bytes | None] | None = None
            i = lo
            bi = depth >> 1
            odd = depth & 1
            while i < hi:
                b = paths[i][bi]
                nib = b & 15 if odd else b >> 4
                if i + 1 == hi:
                    j = hi
                else:
                    b = paths[i + 1][bi]
                    same = (b & 15 if odd else b >> 4) == nib  # else a run of one: no search
                    j = split(paths, depth, i, hi)[1] if same else i + 1
                child = children[nib]
                if child is None:
                    if j - i == 1:
                        v = vhs[i]
                        result = None if v is None else mkleaf(paths[i], v)
                    else:
                        result = insert_range(depth + 1, i, j)
                else:
                    cnode = yget(child) or miss(child)
                    if type(cnode) is not bytes:
                        result = update_node(child, cnode, depth + 1, i, j)  # type: ignore[arg-type]
                    elif j - i == 1 and cnode.startswith(paths[i], 1):
                        v = vhs[i]  # the common case: a new value for an existing key
                        if v is None:
                            result = None
                        elif cnode.endswith(v):
                            result = child
                        else:
                            result = mkleaf(paths[i], v)
                    else:
                        result = update_leaf(child, cnode, depth + 1, i, j)
                if result != child:
                    if new_children is None:
                        new_children = list(children)
                    new_children[nib] = result
                    if result is None:
                        new_bm &= ~(1 << nib)
                    else:
                        new_bm |= 1 << nib
                i = j
            if new_children is None:
                return node_hash
            count = new_bm.bit_count()
            if count == 0:
                return None
            if count == 1:
                only = new_children[new_bm.bit_length() - 1]
                if only is not None and is_leaf(only):
                    return only
            return mknode(new_bm, new_children)

        if not paths:
            return root, out
        if root == EMPTY_ROOT:
            new_root = insert_range(0, 0, len(paths))
        else:
            node = yget(root) or miss(root)
            if type(node) is bytes:
                new_root = update_leaf(root, node, 0, 0, len(paths))
            else:
                new_root = update_node(root, node, 0, 0, len(paths))  # type: ignore[arg-type]
        self._rotate()
        return (EMPTY_ROOT if new_root is None else new_root), out


def _prefix_ok(path: bytes, other: bytes, depth: int) -> bool:
    """Do ``path`` and ``other`` agree on their first ``depth`` nibbles?"""
    half = depth >> 1
    if path[:half] != other[:half]:
        return False
    return not depth & 1 or path[half] >> 4 == other[half] >> 4


def verify_state_proof(
    root: bytes, key: bytes, value: bytes | None, proof: StateProof, h: HashFn
) -> bool:
    """True iff ``proof`` shows that under ``root`` the key maps to ``value`` (None: absent).

    Never raises: anything malformed is simply False.
    """
    try:
        return _verify(root, key, value, proof, h)
    except Exception:
        return False


def _verify(root: bytes, key: bytes, value: bytes | None, proof: StateProof, h: HashFn) -> bool:
    if not isinstance(proof, StateProof) or not isinstance(root, bytes):
        return False
    if not isinstance(key, _BYTES_LIKE) or not (value is None or isinstance(value, _BYTES_LIKE)):
        return False
    bitmaps, siblings = proof.bitmaps, proof.siblings
    leaf_path, leaf_vh = proof.leaf_path, proof.leaf_value_hash
    if type(bitmaps) is not list or type(siblings) is not list:
        return False
    depth = len(bitmaps)
    if depth != len(siblings) or depth > _DEPTH:
        return False
    path = h(bytes(key))
    current: bytes | None
    if leaf_path is None and leaf_vh is None:
        if value is not None:
            return False
        if depth == 0:
            return root == EMPTY_ROOT
        current = None
    elif type(leaf_path) is bytes and type(leaf_vh) is bytes:
        if len(leaf_path) != 32 or len(leaf_vh) != 32 or not _prefix_ok(path, leaf_path, depth):
            return False
        if value is None:
            if leaf_path == path:
                return False
        elif leaf_path != path or leaf_vh != h(bytes(value)):
            return False
        current = h(_LEAF + leaf_path + leaf_vh)
    else:
        return False
    for d in range(depth - 1, -1, -1):
        bm, sibs = bitmaps[d], siblings[d]
        if type(bm) is not int or not 0 < bm <= 0xFFFF or type(sibs) is not list:
            return False
        for s in sibs:
            if type(s) is not bytes or len(s) != 32:
                return False
        b = path[d >> 1]
        nib = b & 15 if d & 1 else b >> 4
        bit = 1 << nib
        if current is None:
            if bm & bit or len(sibs) != bm.bit_count():
                return False
            children = sibs
        else:
            if not bm & bit or len(sibs) != bm.bit_count() - 1:
                return False
            at = (bm & (bit - 1)).bit_count()
            children = [*sibs[:at], current, *sibs[at:]]
        current = h(b"".join([_INTERNAL, bm.to_bytes(2, "big"), *children]))
    return current == root

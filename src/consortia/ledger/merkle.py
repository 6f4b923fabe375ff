"""Binary Merkle tree over the ordered items of a block (transactions, receipts).

The shape is RFC 6962 / RFC 9162: ``leaf = H(0x00 || item)``, ``node = H(0x01 || left || right)``,
a list of ``n > 1`` items splits at the largest power of two smaller than ``n``, and the root of
the empty list is ``H(b"")``. The same tree is built here level by level (pair neighbours, carry
an odd last node up unchanged), which is iterative and allocation-light.

An RFC 6962 root does not commit to the number of items: for some ``(index, size)`` pairs a
different ``size`` yields the very same audit path (``index 0`` of 3 and of 4 items, say). The
verifier therefore checks the path against ``proof.size``, and the caller must hold an
authenticated size to compare with (the block header's ``tx_count``), as
:func:`consortia.ledger.proofs.verify_receipt_proof` does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import msgspec

HashFn = Callable[[bytes], bytes]

_LEAF = b"\x00"
_NODE = b"\x01"
_MAX_PATH = 64


class InclusionProof(msgspec.Struct, array_like=True, frozen=True):
    """Audit path of ``index`` in a tree of ``size`` items, sibling hashes from the leaf up."""

    index: int
    size: int
    path: list[bytes]


def _leaves(items: Sequence[bytes], h: HashFn) -> list[bytes]:
    return [h(_LEAF + item) for item in items]


def _up(level: list[bytes], h: HashFn) -> list[bytes]:
    nxt = [h(_NODE + a + b) for a, b in zip(level[::2], level[1::2], strict=False)]
    if len(level) & 1:
        nxt.append(level[-1])
    return nxt


def merkle_root(items: Sequence[bytes], h: HashFn) -> bytes:
    """Root of the RFC 6962 tree over ``items`` (``h(b"")`` when there are none)."""
    if not items:
        return h(b"")
    level = _leaves(items, h)
    while len(level) > 1:
        level = _up(level, h)
    return level[0]


def inclusion_proof(items: Sequence[bytes], index: int, h: HashFn) -> InclusionProof:
    """Audit path proving that ``items[index]`` is in ``merkle_root(items, h)``."""
    size = len(items)
    if type(index) is not int or not 0 <= index < size:
        raise IndexError(f"index {index!r} is out of range for {size} items")
    level = _leaves(items, h)
    path: list[bytes] = []
    i = index
    while len(level) > 1:
        sibling = i ^ 1
        if sibling < len(level):
            path.append(level[sibling])
        level = _up(level, h)
        i >>= 1
    return InclusionProof(index, size, path)


def merkle_levels(items: Sequence[bytes], h: HashFn) -> list[list[bytes]]:
    """Every level of the tree over ``items`` (non-empty), leaves first, the root level last."""
    if not items:
        raise ValueError("a tree needs at least one item")
    levels = [_leaves(items, h)]
    while len(levels[-1]) > 1:
        levels.append(_up(levels[-1], h))
    return levels


def inclusion_proofs(items: Sequence[bytes], h: HashFn) -> tuple[bytes, list[InclusionProof]]:
    """The root and the audit path of every item at once: O(n log n), where calling
    :func:`inclusion_proof` per item would be O(n^2). Same proofs, item for item."""
    levels = merkle_levels(items, h)
    size = len(items)
    proofs = []
    for index in range(size):
        path: list[bytes] = []
        i = index
        for level in levels[:-1]:
            sibling = i ^ 1
            if sibling < len(level):
                path.append(level[sibling])
            i >>= 1
        proofs.append(InclusionProof(index, size, path))
    return levels[-1][0], proofs


def verify_inclusion(root: bytes, item: bytes, proof: InclusionProof, h: HashFn) -> bool:
    """True iff ``proof`` shows ``item`` at ``proof.index`` of a ``proof.size``-item tree ``root``.

    Never raises: a malformed proof (wrong types, out-of-range index, a path of the wrong length
    or with elements of the wrong size) is simply False.
    """
    try:
        return _verify(root, item, proof, h)
    except Exception:
        return False


def _verify(root: bytes, item: bytes, proof: InclusionProof, h: HashFn) -> bool:
    if not isinstance(proof, InclusionProof):
        return False
    index, size, path = proof.index, proof.size, proof.path
    if type(index) is not int or type(size) is not int or not 0 <= index < size:
        return False
    if type(path) is not list or len(path) > _MAX_PATH:
        return False
    if not isinstance(root, bytes) or not isinstance(item, bytes | bytearray | memoryview):
        return False
    r = h(_LEAF + bytes(item))
    width = len(r)
    fn, sn = index, size - 1
    for p in path:
        if sn == 0 or type(p) is not bytes or len(p) != width:
            return False
        if fn & 1 or fn == sn:
            r = h(_NODE + p + r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = h(_NODE + r + p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root

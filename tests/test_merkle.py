"""The block Merkle tree (RFC 6962 shape): roots, inclusion proofs, tamper detection."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consortia.codec import decode, encode
from consortia.errors import DecodeError
from consortia.ledger.merkle import (
    InclusionProof,
    inclusion_proof,
    merkle_root,
    verify_inclusion,
)

HashFn = Callable[[bytes], bytes]


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


# --- reference: RFC 6962 section 2.1, written recursively as in the RFC ---------------------


def _split(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def ref_root(items: Sequence[bytes], h: HashFn = sha256) -> bytes:
    if not items:
        return h(b"")
    if len(items) == 1:
        return h(b"\x00" + items[0])
    k = _split(len(items))
    return h(b"\x01" + ref_root(items[:k], h) + ref_root(items[k:], h))


def ref_path(m: int, items: Sequence[bytes], h: HashFn = sha256) -> list[bytes]:
    if len(items) == 1:
        return []
    k = _split(len(items))
    if m < k:
        return [*ref_path(m, items[:k], h), ref_root(items[k:], h)]
    return [*ref_path(m - k, items[k:], h), ref_root(items[:k], h)]


def directions(index: int, size: int) -> list[bool]:
    """For each path element, whether it is hashed on the left (the verifier's view)."""
    out = []
    fn, sn = index, size - 1
    while sn:
        if fn & 1 or fn == sn:
            out.append(True)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            out.append(False)
        fn >>= 1
        sn >>= 1
    return out


def items_of(n: int, seed: int = 0) -> list[bytes]:
    return [hashlib.sha256(b"%d/%d" % (seed, i)).digest()[: 1 + (i * 7 + seed) % 40] for i in range(n)]


# --- roots ----------------------------------------------------------------------------------


def test_empty_root() -> None:
    assert merkle_root([], sha256) == sha256(b"")


def test_single_item() -> None:
    assert merkle_root([b"tx"], sha256) == sha256(b"\x00tx")


@pytest.mark.parametrize("n", range(0, 71))
def test_root_matches_reference(n: int) -> None:
    items = items_of(n, seed=n)
    assert merkle_root(items, sha256) == ref_root(items)


@given(st.lists(st.binary(max_size=64), max_size=300))
def test_root_matches_reference_random(items: list[bytes]) -> None:
    assert merkle_root(items, sha256) == ref_root(items)


def test_root_depends_on_order_and_content() -> None:
    items = items_of(10)
    root = merkle_root(items, sha256)
    assert merkle_root(items[::-1], sha256) != root
    assert merkle_root([*items[:9], b"other"], sha256) != root
    assert merkle_root(items[:9], sha256) != root


# --- inclusion proofs -----------------------------------------------------------------------


def test_all_proofs_verify_sizes_1_to_70() -> None:
    for n in range(1, 71):
        items = items_of(n, seed=n)
        root = merkle_root(items, sha256)
        for i in range(n):
            proof = inclusion_proof(items, i, sha256)
            assert proof.index == i and proof.size == n
            assert proof.path == ref_path(i, items)
            assert verify_inclusion(root, items[i], proof, sha256)


@pytest.mark.parametrize("bad", [-1, 5, 6, 100, True])
def test_bad_index(bad: int) -> None:
    with pytest.raises(IndexError):
        inclusion_proof(items_of(5), bad, sha256)


def test_no_proof_in_empty_tree() -> None:
    with pytest.raises(IndexError):
        inclusion_proof([], 0, sha256)


def test_encode_decode_round_trip() -> None:
    items = items_of(37)
    for i in (0, 17, 36):
        proof = inclusion_proof(items, i, sha256)
        assert decode(encode(proof), InclusionProof) == proof
    with pytest.raises(DecodeError):
        decode(encode(proof) + b"\x00", InclusionProof)
    with pytest.raises(DecodeError):
        decode(b"\x93\xa1x\x01\x90", InclusionProof)


sizes_and_index = st.integers(1, 70).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n - 1)))


def _setup(n: int, i: int) -> tuple[list[bytes], bytes, InclusionProof]:
    items = items_of(n, seed=n * 31 + i)
    return items, merkle_root(items, sha256), inclusion_proof(items, i, sha256)


@settings(max_examples=300)
@given(sizes_and_index, st.data())
def test_flipped_bit_in_path_detected(ni: tuple[int, int], data: st.DataObject) -> None:
    n, i = ni
    items, root, proof = _setup(n, i)
    if not proof.path:
        return
    j = data.draw(st.integers(0, len(proof.path) - 1))
    bit = data.draw(st.integers(0, 8 * len(proof.path[j]) - 1))
    elem = bytearray(proof.path[j])
    elem[bit // 8] ^= 1 << (bit % 8)
    path = list(proof.path)
    path[j] = bytes(elem)
    assert not verify_inclusion(root, items[i], InclusionProof(i, n, path), sha256)


@settings(max_examples=300)
@given(sizes_and_index, st.integers(-3, 80))
def test_changed_index_detected(ni: tuple[int, int], other: int) -> None:
    n, i = ni
    if other == i:
        return
    items, root, proof = _setup(n, i)
    assert not verify_inclusion(root, items[i], InclusionProof(other, n, proof.path), sha256)


@settings(max_examples=300)
@given(sizes_and_index, st.integers(-3, 140))
def test_changed_size_detected(ni: tuple[int, int], other: int) -> None:
    """A changed size fails, except where it yields the very same audit path.

    An RFC 6962 root does not commit to its size: leaf ``i`` of ``n`` and of ``other`` items
    can have paths of identical shape (same length, same left/right sequence), and then no
    verifier of the root alone can tell them apart. That case is caught by comparing the size
    with the authenticated count in the block header (``verify_receipt_proof`` does).
    """
    n, i = ni
    if other == n:
        return
    items, root, proof = _setup(n, i)
    ok = verify_inclusion(root, items[i], InclusionProof(i, other, proof.path), sha256)
    if ok:
        assert 0 <= i < other and directions(i, other) == directions(i, n)


def test_size_not_committed_by_the_root() -> None:
    items = items_of(3)
    proof = inclusion_proof(items, 0, sha256)
    forged = InclusionProof(0, 4, proof.path)
    root = merkle_root(items, sha256)
    assert verify_inclusion(root, items[0], forged, sha256)  # indistinguishable from the root
    assert forged.size != len(items)  # ... hence the caller's check against the header


@settings(max_examples=300)
@given(sizes_and_index, st.data())
def test_dropped_or_appended_element_detected(ni: tuple[int, int], data: st.DataObject) -> None:
    n, i = ni
    items, root, proof = _setup(n, i)
    path = list(proof.path)
    if path and data.draw(st.booleans()):
        del path[data.draw(st.integers(0, len(path) - 1))]
    else:
        extra = data.draw(st.sampled_from([*path, sha256(b"x"), root]))
        path.insert(data.draw(st.integers(0, len(path))), extra)
    assert not verify_inclusion(root, items[i], InclusionProof(i, n, path), sha256)


@settings(max_examples=300)
@given(sizes_and_index, st.binary(max_size=50), st.integers(0, 255))
def test_changed_item_or_root_detected(ni: tuple[int, int], other: bytes, bit: int) -> None:
    n, i = ni
    items, root, proof = _setup(n, i)
    if other != items[i]:
        assert not verify_inclusion(root, other, proof, sha256)
    bad_root = bytearray(root)
    bad_root[bit // 8] ^= 1 << (bit % 8)
    assert not verify_inclusion(bytes(bad_root), items[i], proof, sha256)


def test_an_inner_node_is_not_an_item() -> None:
    """Second pre-image: presenting an inner node's children as an item never verifies."""
    items = items_of(4)
    root = merkle_root(items, sha256)
    left = ref_root(items[:2])
    right = ref_root(items[2:])
    assert not verify_inclusion(root, left + right, InclusionProof(0, 1, []), sha256)
    leaves = [sha256(b"\x00" + x) for x in items]
    assert not verify_inclusion(root, leaves[0] + leaves[1], InclusionProof(0, 2, [right]), sha256)


@pytest.mark.parametrize(
    "proof",
    [
        InclusionProof("0", 3, []),  # type: ignore[arg-type]
        InclusionProof(True, 3, []),  # type: ignore[arg-type]
        InclusionProof(0, None, []),  # type: ignore[arg-type]
        InclusionProof(0, 3, None),  # type: ignore[arg-type]
        InclusionProof(0, 3, [b"short", b"x" * 32]),
        InclusionProof(0, 3, ["text" * 8, b"x" * 32]),  # type: ignore[list-item]
        InclusionProof(0, 2**80, [b"x" * 32] * 80),
        InclusionProof(0, 0, []),
        InclusionProof(-1, 3, []),
    ],
)
def test_garbage_is_false_not_an_exception(proof: InclusionProof) -> None:
    items = items_of(3)
    assert not verify_inclusion(merkle_root(items, sha256), items[0], proof, sha256)


def test_garbage_arguments() -> None:
    items = items_of(3)
    root = merkle_root(items, sha256)
    proof = inclusion_proof(items, 0, sha256)
    assert not verify_inclusion(root, None, proof, sha256)  # type: ignore[arg-type]
    assert not verify_inclusion(None, items[0], proof, sha256)  # type: ignore[arg-type]
    assert not verify_inclusion(root, items[0], "proof", sha256)  # type: ignore[arg-type]

"""The state tree: roots against a naive reference, history independence, proofs, tampering."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consortia.codec import decode, encode
from consortia.errors import DecodeError, StorageError
from consortia.state.merkle_tree import (
    EMPTY_ROOT,
    InMemoryNodeStore,
    MerkleTree,
    StateProof,
    verify_state_proof,
)

HashFn = Callable[[bytes], bytes]


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def shallow(data: bytes) -> bytes:
    """sha256, except that keys (b"k...") get paths sharing their first 56 nibbles.

    Trees then have long chains of single-child internal nodes and leaves at depth ~57-63,
    which exercises the compaction and the depth handling that random paths almost never do.
    """
    digest = hashlib.sha256(data).digest()
    return bytes(28) + digest[28:] if data[:1] == b"k" else digest


# --- reference: the tree defined directly from the key/value set -----------------------------


def _nib(path: bytes, depth: int) -> int:
    b = path[depth // 2]
    return b & 15 if depth % 2 else b >> 4


def ref_root(kv: dict[bytes, bytes], h: HashFn) -> bytes:
    def sub(leaves: list[tuple[bytes, bytes]], depth: int) -> bytes:
        if len(leaves) == 1:
            path, vh = leaves[0]
            return h(b"\x00" + path + vh)
        groups: dict[int, list[tuple[bytes, bytes]]] = {}
        for leaf in leaves:
            groups.setdefault(_nib(leaf[0], depth), []).append(leaf)
        bitmap = sum(1 << n for n in groups)
        children = b"".join(sub(groups[n], depth + 1) for n in sorted(groups))
        return h(b"\x01" + bitmap.to_bytes(2, "big") + children)

    if not kv:
        return EMPTY_ROOT
    return sub(sorted((h(k), h(v)) for k, v in kv.items()), 0)


def new_tree(h: HashFn = sha256, cache_size: int = 200_000) -> tuple[InMemoryNodeStore, MerkleTree]:
    store = InMemoryNodeStore()
    return store, MerkleTree(store.get, h, cache_size)


def apply(
    store: InMemoryNodeStore, tree: MerkleTree, root: bytes, changes: list[tuple[bytes, bytes | None]]
) -> bytes:
    new_root, nodes = tree.update(root, changes)
    for node_hash, node in nodes.items():
        assert tree._h(node) == node_hash  # content-addressed: the bytes are the pre-image
    store.put_many(nodes)
    return new_root


def build(kv: dict[bytes, bytes], h: HashFn = sha256) -> tuple[InMemoryNodeStore, MerkleTree, bytes]:
    store, tree = new_tree(h)
    return store, tree, apply(store, tree, EMPTY_ROOT, list(kv.items()))


def random_kv(n: int, seed: int = 0, prefix: bytes = b"k") -> dict[bytes, bytes]:
    rng = random.Random(seed)
    return {prefix + rng.randbytes(8): b"v" + rng.randbytes(rng.randrange(0, 30)) for _ in range(n)}


# --- roots ----------------------------------------------------------------------------------


def test_empty_tree() -> None:
    store, tree = new_tree()
    assert tree.update(EMPTY_ROOT, []) == (EMPTY_ROOT, {})
    assert tree.update(EMPTY_ROOT, [(b"k", None)]) == (EMPTY_ROOT, {})
    proof = tree.get_proof(EMPTY_ROOT, b"k")
    assert proof == StateProof([], [], None, None)
    assert verify_state_proof(EMPTY_ROOT, b"k", None, proof, sha256)
    assert not verify_state_proof(EMPTY_ROOT, b"k", b"v", proof, sha256)
    assert not verify_state_proof(sha256(b"x"), b"k", None, proof, sha256)
    assert tree.value_hash(EMPTY_ROOT, b"k") is None
    assert len(store) == 0


def test_single_key_root_is_its_leaf() -> None:
    _, tree, root = build({b"k": b"v"})
    assert root == sha256(b"\x00" + sha256(b"k") + sha256(b"v"))
    assert tree.value_hash(root, b"k") == sha256(b"v")


@pytest.mark.parametrize("h", [sha256, shallow])
@pytest.mark.parametrize("n", [1, 2, 3, 17, 100, 1000])
def test_root_matches_reference(h: HashFn, n: int) -> None:
    kv = random_kv(n, seed=n)
    assert build(kv, h)[2] == ref_root(kv, h)


def test_no_change_keeps_root_and_creates_nothing() -> None:
    kv = random_kv(200)
    _, tree, root = build(kv)
    same = [(k, kv[k]) for k in list(kv)[:20]] + [(b"kabsent", None)]
    assert tree.update(root, same) == (root, {})


def test_last_write_wins() -> None:
    _, tree, root = build({b"ka": b"1"})
    root2, _ = tree.update(root, [(b"kb", b"2"), (b"ka", b"3"), (b"kb", None), (b"ka", b"4")])
    assert root2 == ref_root({b"ka": b"4"}, sha256)


def test_delete_everything_returns_to_empty() -> None:
    kv = random_kv(300, seed=3)
    store, tree, root = build(kv)
    keys = list(kv)
    for i in range(0, 300, 70):
        root = apply(store, tree, root, [(k, None) for k in keys[i : i + 70]])
        assert root == ref_root({k: kv[k] for k in keys[i + 70 :]}, sha256)
    assert root == EMPTY_ROOT


def test_nodes_are_persisted() -> None:
    """A tree with a cold cache, reading only the store, sees every node of the new root."""
    kv = random_kv(500, seed=5)
    store, _, root = build(kv)
    cold = MerkleTree(store.get, sha256, cache_size=10)
    for k, v in kv.items():
        assert cold.value_hash(root, k) == sha256(v)
    root2, nodes = cold.update(root, [(k, b"w") for k in list(kv)[:100]])
    store.put_many(nodes)
    assert MerkleTree(store.get, sha256).value_hash(root2, next(iter(kv))) == sha256(b"w")


def test_missing_node_is_a_storage_error() -> None:
    kv = random_kv(50)
    _, _, root = build(kv)
    empty = MerkleTree(InMemoryNodeStore().get, sha256)
    with pytest.raises(StorageError):
        empty.get_proof(root, b"kx")
    with pytest.raises(StorageError):
        empty.update(root, [(b"kx", b"v")])


def test_malformed_node_is_a_storage_error() -> None:
    tree = MerkleTree({b"r" * 32: b"\x01\x00\x03" + b"x" * 32}.get, sha256)
    with pytest.raises(StorageError):
        tree.get_proof(b"r" * 32, b"k")


keys_st = st.sampled_from([b"k%d" % i for i in range(40)])
values_st = st.one_of(st.none(), st.binary(max_size=6))
ops_st = st.lists(st.tuples(keys_st, values_st), max_size=120)


@settings(max_examples=300, deadline=None)
@given(ops_st, st.integers(1, 40), st.randoms(use_true_random=False), st.sampled_from([sha256, shallow]))
def test_root_is_history_independent(
    ops: list[tuple[bytes, bytes | None]], batch: int, rnd: random.Random, h: HashFn
) -> None:
    """Whatever the batching and order of inserts/deletes, the root is that of the final set."""
    final: dict[bytes, bytes] = {}
    for k, v in ops:
        if v is None:
            final.pop(k, None)
        else:
            final[k] = v
    expected = ref_root(final, h)

    store, tree = new_tree(h, cache_size=64)  # small: the cache rotates during the test
    root = EMPTY_ROOT
    for i in range(0, len(ops), batch):
        root = apply(store, tree, root, ops[i : i + batch])
    assert root == expected

    fresh_store, fresh = new_tree(h)
    assert apply(fresh_store, fresh, EMPTY_ROOT, list(final.items())) == expected
    shuffled = list(final.items())
    rnd.shuffle(shuffled)
    assert fresh.update(EMPTY_ROOT, shuffled)[0] == expected

    # deleting keys that were added on top, in another order, comes back to the same root
    extra = [(b"k-extra%d" % i, b"x") for i in range(rnd.randrange(0, 30))]
    root2 = apply(store, tree, root, extra)
    rnd.shuffle(extra)
    assert apply(store, tree, root2, [(k, None) for k, _ in extra]) == expected


# --- proofs ---------------------------------------------------------------------------------


@pytest.mark.parametrize("h", [sha256, shallow])
@pytest.mark.parametrize("n", [1, 2, 5, 300])
def test_proofs_of_present_and_absent_keys(h: HashFn, n: int) -> None:
    kv = random_kv(n, seed=n)
    _, tree, root = build(kv, h)
    for k, v in kv.items():
        proof = tree.get_proof(root, k)
        assert proof.leaf_path == h(k)
        assert verify_state_proof(root, k, v, proof, h)
        assert not verify_state_proof(root, k, v + b"!", proof, h)
        assert not verify_state_proof(root, k, None, proof, h)
        assert decode(encode(proof), StateProof) == proof
    absent = list(random_kv(50, seed=n + 1000))
    terminals = set()
    for k in absent:
        proof = tree.get_proof(root, k)
        terminals.add(proof.leaf_path is None)
        assert verify_state_proof(root, k, None, proof, h)
        assert not verify_state_proof(root, k, b"v", proof, h)
        assert decode(encode(proof), StateProof) == proof
        # the proof of absence of one key is not a proof about another
        present = next(iter(kv))
        assert not verify_state_proof(root, present, None, proof, h)
    if n >= 5:
        assert terminals == {True, False}  # both kinds of absence: empty slot, other leaf


def test_value_under_another_root_fails() -> None:
    kv = random_kv(100)
    store, tree, root = build(kv)
    k = next(iter(kv))
    proof = tree.get_proof(root, k)
    root2 = apply(store, tree, root, [(b"kother", b"v")])
    assert not verify_state_proof(root2, k, kv[k], proof, sha256)
    assert verify_state_proof(root2, k, kv[k], tree.get_proof(root2, k), sha256)


def test_decode_rejects_non_canonical_proof() -> None:
    _, tree, root = build(random_kv(100))
    data = encode(tree.get_proof(root, b"kzz"))
    with pytest.raises(DecodeError):
        decode(data + b"\xc0", StateProof)
    with pytest.raises(DecodeError):
        decode(data[:-1], StateProof)


@pytest.fixture(scope="module")
def proofs() -> tuple[bytes, list[tuple[bytes, bytes | None, StateProof]]]:
    kv = random_kv(400, seed=11)
    _, tree, root = build(kv)
    cases: list[tuple[bytes, bytes | None, StateProof]] = []
    for k in list(kv)[:20]:
        cases.append((k, kv[k], tree.get_proof(root, k)))
    for k in list(random_kv(40, seed=12)):
        cases.append((k, None, tree.get_proof(root, k)))
    return root, cases


def _flip(b: bytes, bit: int) -> bytes:
    out = bytearray(b)
    out[(bit // 8) % len(out)] ^= 1 << (bit % 8)
    return bytes(out)


def _tamper(proof: StateProof, kind: int, a: int, b: int) -> StateProof | None:
    bitmaps = list(proof.bitmaps)
    siblings = [list(s) for s in proof.siblings]
    lp, lvh = proof.leaf_path, proof.leaf_value_hash
    depth = len(bitmaps)
    if kind == 0:  # flip a bit of a sibling hash
        levels = [d for d in range(depth) if siblings[d]]
        if not levels:
            return None
        d = levels[a % len(levels)]
        j = b % len(siblings[d])
        siblings[d][j] = _flip(siblings[d][j], a * 7 + b)
    elif kind == 1:  # change a bitmap
        if not depth:
            return None
        d = a % depth
        bitmaps[d] ^= 1 << (b % 16) or 1
    elif kind == 2:  # change the terminal leaf's path or value hash
        if lp is None or lvh is None:
            return None
        if a % 2:
            lp = _flip(lp, b)
        else:
            lvh = _flip(lvh, b)
    elif kind == 3:  # turn the terminal into an empty slot / a made-up leaf
        if lp is None:
            lp, lvh = bytes(32), bytes(32)
        else:
            lp = lvh = None
    elif kind == 4:  # drop a level
        if not depth:
            return None
        d = a % depth
        del bitmaps[d], siblings[d]
    elif kind == 5:  # add a level
        d = a % (depth + 1)
        bitmaps.insert(d, 1 << (b % 16) | 1 << ((b + 1) % 16))
        siblings.insert(d, [sha256(b"%d" % b)])
    elif kind == 6:  # drop or add a sibling hash
        if not depth:
            return None
        d = a % depth
        if siblings[d] and b % 2:
            del siblings[d][b % len(siblings[d])]
        else:
            siblings[d].insert(b % (len(siblings[d]) + 1), sha256(b"extra"))
    elif kind == 7:  # swap two siblings
        levels = [d for d in range(depth) if len(siblings[d]) > 1]
        if not levels:
            return None
        d = levels[a % len(levels)]
        s = siblings[d]
        i, j = b % len(s), (b + 1) % len(s)
        s[i], s[j] = s[j], s[i]
    return StateProof(bitmaps, siblings, lp, lvh)


@settings(max_examples=1000, deadline=None)
@given(st.integers(0, 59), st.integers(0, 7), st.integers(0, 10_000), st.integers(0, 10_000))
def test_tampered_proof_fails(
    proofs: tuple[bytes, list[tuple[bytes, bytes | None, StateProof]]],
    case: int,
    kind: int,
    a: int,
    b: int,
) -> None:
    root, cases = proofs
    key, value, proof = cases[case]
    assert verify_state_proof(root, key, value, proof, sha256)
    bad = _tamper(proof, kind, a, b)
    if bad is not None and bad != proof:
        assert not verify_state_proof(root, key, value, bad, sha256)
    assert not verify_state_proof(_flip(root, a), key, value, proof, sha256)
    assert not verify_state_proof(root, key + b"x", value, proof, sha256) or value is None


@pytest.mark.parametrize(
    "proof",
    [
        StateProof([1], [], None, None),
        StateProof([True], [[]], None, None),  # type: ignore[list-item]
        StateProof([-1], [[]], None, None),
        StateProof([1 << 16], [[]], None, None),
        StateProof(["x"], [[]], None, None),  # type: ignore[list-item]
        StateProof([3], [[b"short"]], None, None),
        StateProof([3], ["not a list"], None, None),  # type: ignore[list-item]
        StateProof([], [], b"x" * 32, None),
        StateProof([], [], b"x" * 31, b"y" * 32),
        StateProof([], [], "x" * 32, b"y" * 32),  # type: ignore[arg-type]
        StateProof([0xFFFF] * 65, [[b"x" * 32] * 15] * 65, None, None),
        StateProof(None, None, None, None),  # type: ignore[arg-type]
    ],
)
def test_garbage_is_false_not_an_exception(proof: StateProof) -> None:
    root = sha256(b"root")
    assert not verify_state_proof(root, b"k", None, proof, sha256)
    assert not verify_state_proof(root, b"k", b"v", proof, sha256)
    assert not verify_state_proof(root, None, None, proof, sha256)  # type: ignore[arg-type]
    assert not verify_state_proof(None, b"k", None, proof, sha256)  # type: ignore[arg-type]
    assert not verify_state_proof(root, b"k", None, "proof", sha256)  # type: ignore[arg-type]

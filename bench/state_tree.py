"""Benchmark of the state tree: initial load, per-block batch updates, proofs.

Run: ``python bench/state_tree.py [--keys 100000] [--batch 4000] [--blocks 10]``.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import statistics
import time

from consortia.ledger.merkle import inclusion_proof, merkle_root, verify_inclusion
from consortia.state.merkle_tree import (
    EMPTY_ROOT,
    InMemoryNodeStore,
    MerkleTree,
    verify_state_proof,
)


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--keys", type=int, default=100_000)
    ap.add_argument("--batch", type=int, default=4_000)
    ap.add_argument("--load-batch", type=int, default=5_000)
    ap.add_argument("--blocks", type=int, default=10)
    ap.add_argument("--proofs", type=int, default=2_000)
    args = ap.parse_args()
    rng = random.Random(7)

    store = InMemoryNodeStore()
    tree = MerkleTree(store.get, sha256)
    keys = [b"acct/" + rng.randbytes(20) for _ in range(args.keys)]
    values = {k: rng.randbytes(40) for k in keys}

    root = EMPTY_ROOT
    t0 = time.perf_counter()
    for i in range(0, len(keys), args.load_batch):
        root, nodes = tree.update(root, [(k, values[k]) for k in keys[i : i + args.load_batch]])
        store.put_many(nodes)
    load_s = time.perf_counter() - t0
    print(
        f"initial load: {args.keys} keys in batches of {args.load_batch}: {load_s * 1e3:.0f} ms "
        f"({load_s / args.keys * 1e6:.1f} us/key), {len(store)} nodes stored"
    )

    times = []
    new_nodes = []
    for _ in range(args.blocks):
        n_updates = args.batch * 3 // 4
        changes = [(k, rng.randbytes(40)) for k in rng.sample(keys, n_updates)]
        inserts = [b"acct/" + rng.randbytes(20) for _ in range(args.batch - n_updates)]
        changes += [(k, rng.randbytes(40)) for k in inserts]
        t0 = time.perf_counter()
        root, nodes = tree.update(root, changes)
        times.append(time.perf_counter() - t0)
        store.put_many(nodes)
        new_nodes.append(len(nodes))
        keys += inserts
        values.update(changes)
    med = statistics.median(times)
    print(
        f"block update: {args.batch} keys (75% updates, 25% inserts) into ~{args.keys} keys: "
        f"median {med * 1e3:.1f} ms, min {min(times) * 1e3:.1f} ms, "
        f"max {max(times) * 1e3:.1f} ms ({med / args.batch * 1e6:.1f} us/key), "
        f"~{statistics.median(new_nodes):.0f} new nodes/block"
    )

    cold = MerkleTree(store.get, sha256)
    changes = [(k, rng.randbytes(40)) for k in rng.sample(keys, args.batch)]
    t0 = time.perf_counter()
    cold.update(root, changes)
    cold_s = time.perf_counter() - t0
    print(f"block update with a cold node cache: {cold_s * 1e3:.1f} ms")

    sample = rng.sample(keys, args.proofs)
    t0 = time.perf_counter()
    proofs = [tree.get_proof(root, k) for k in sample]
    gen_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    ok = all(verify_state_proof(root, k, values[k], p, sha256) for k, p in zip(sample, proofs, strict=True))
    ver_s = time.perf_counter() - t0
    assert ok
    absent = [b"nope/" + rng.randbytes(20) for _ in range(args.proofs)]
    t0 = time.perf_counter()
    aproofs = [tree.get_proof(root, k) for k in absent]
    agen_s = time.perf_counter() - t0
    assert all(verify_state_proof(root, k, None, p, sha256) for k, p in zip(absent, aproofs, strict=True))
    depth = statistics.mean(len(p.bitmaps) for p in proofs)
    print(
        f"state proof: generate {gen_s / args.proofs * 1e6:.1f} us, verify "
        f"{ver_s / args.proofs * 1e6:.1f} us (mean depth {depth:.2f}); "
        f"absence proof generate {agen_s / args.proofs * 1e6:.1f} us"
    )

    items = [rng.randbytes(32) for _ in range(5_000)]
    reps = 20
    t0 = time.perf_counter()
    for _ in range(reps):
        txr = merkle_root(items, sha256)
    root_s = (time.perf_counter() - t0) / reps
    t0 = time.perf_counter()
    for i in range(reps):
        ip = inclusion_proof(items, i * 97, sha256)
    proof_s = (time.perf_counter() - t0) / reps
    t0 = time.perf_counter()
    for _ in range(1000):
        assert verify_inclusion(txr, items[19 * 97], ip, sha256)
    iver_s = (time.perf_counter() - t0) / 1000
    print(
        f"block Merkle tree, 5000 items: root {root_s * 1e3:.2f} ms, "
        f"inclusion proof {proof_s * 1e3:.2f} ms, verify {iver_s * 1e6:.1f} us"
    )


if __name__ == "__main__":
    main()

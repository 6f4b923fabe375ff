"""What sealing application content costs (issue 14, crypto/envelope.py, apps/privacy/store.py).

For content of ``--sizes`` bytes sealed to ``--recipients`` (the parties and the supervisor):
sealing (one AES-256-GCM encryption and one X25519 sealed box per recipient), opening by one
recipient (its envelope, then the content), and a node store's put and erasure (overwrite,
fsync, unlink) in a temporary directory. Medians over ``--rounds`` runs, one JSON line each.

    python bench/envelope.py [--sizes 2048,65536,1048576] [--recipients 3] [--rounds 200]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from consortia.apps.privacy import sdk
from consortia.apps.privacy.store import SealedStore
from consortia.crypto import envelope as env
from consortia.crypto.keys import KeyPair


def _median_us(rounds: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="2048,65536,1048576")
    parser.add_argument("--recipients", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    keys = [KeyPair.generate() for _ in range(args.recipients)]
    public = {k.address: env.sealing_public_key(k) for k in keys}
    context = sdk.context(sdk.SCF_INVOICE, bytes(32))
    with tempfile.TemporaryDirectory() as tmp:
        store = SealedStore(Path(tmp))
        for size in (int(s) for s in args.sizes.split(",")):
            content = os.urandom(size)
            sealed = env.seal(content, public, context)
            assert env.open_sealed(sealed, keys[0], context) == content
            seal_us = _median_us(args.rounds, lambda c=content: env.seal(c, public, context))
            open_us = _median_us(args.rounds, lambda s=sealed: env.open_sealed(s, keys[0], context))

            def put_and_erase(s: env.Sealed = sealed) -> None:
                store.erase(store.put(sdk.SCF_INVOICE, bytes(32), s))

            store_us = _median_us(max(1, args.rounds // 4), put_and_erase)
            print(json.dumps({"bytes": size, "recipients": args.recipients, "seal_us": round(seal_us, 1),
                              "open_us": round(open_us, 1), "store_put_and_erase_us": round(store_us, 1),
                              "ciphertext_overhead_bytes": len(sealed.ciphertext) - size,
                              "envelope_bytes": env.SEALED_KEY_BYTES * args.recipients}))


if __name__ == "__main__":
    main()

"""Raw signature-verification rates, importable by benchmarks."""

from __future__ import annotations

import time
from collections.abc import Callable

from consortia.crypto.suites import VerifyItem, get_suite


def _items(suite_name: str, n: int, distinct: int = 512) -> list[VerifyItem]:
    """``n`` valid (pk, msg, sig) items; ``distinct`` signatures reused cyclically."""
    suite = get_suite(suite_name)
    sk = suite.generate_private_key()
    pk = suite.public_key(sk)
    base = []
    for i in range(min(n, distinct)):
        msg = i.to_bytes(8, "big") * 16
        base.append((pk, msg, suite.sign(sk, msg)))
    return [base[i % len(base)] for i in range(n)]


def _rate(fn: Callable[[list[VerifyItem]], list[bool]], items: list[VerifyItem]) -> float:
    start = time.perf_counter()
    ok = fn(items)
    elapsed = time.perf_counter() - start
    if not all(ok):
        raise AssertionError("benchmark signatures failed to verify")
    return len(items) / elapsed


def raw_ed25519_verify_rate(n: int = 5000) -> float:
    """Ed25519 verifications/s on one thread (tight libsodium loop)."""
    return _rate(get_suite("ed25519").verify_many, _items("ed25519", n))


def raw_ed25519_verify_rate_parallel(n: int = 10000) -> float:
    """Ed25519 verifications/s through ``verify_batch`` (all cores)."""
    suite = get_suite("ed25519")
    suite.verify_batch(_items("ed25519", 128))  # start the pool threads
    return _rate(suite.verify_batch, _items("ed25519", n))


def sm2_verify_rate(n: int = 1000, library: str = "tongsuo") -> float:
    """SM2 verifications/s on one thread with ``library`` ("tongsuo" or "gmalglib")."""
    from consortia.crypto import sm2

    verify = sm2.verify_tongsuo if library == "tongsuo" else sm2.verify_gmalglib
    return _rate(lambda items: [verify(pk, m, s) for pk, m, s in items], _items("sm2", n))


def sm2_verify_rate_parallel(n: int = 2000) -> float:
    """SM2 verifications/s through ``verify_batch`` (all cores)."""
    suite = get_suite("sm2")
    suite.verify_batch(_items("sm2", 128, distinct=8))
    return _rate(suite.verify_batch, _items("sm2", n))

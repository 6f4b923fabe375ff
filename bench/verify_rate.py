"""Print signature verifications per second for both suites (runs in well under 30 s)."""

from __future__ import annotations

import os

from consortia.crypto.ratebench import (
    raw_ed25519_verify_rate,
    raw_ed25519_verify_rate_parallel,
    sm2_verify_rate,
    sm2_verify_rate_parallel,
)


def main() -> None:
    print(f"cores: {os.cpu_count()}")
    rows = [
        ("ed25519 single thread (libsodium)", raw_ed25519_verify_rate(20000)),
        ("ed25519 verify_batch (all cores)", raw_ed25519_verify_rate_parallel(40000)),
        ("sm2 single thread (tongsuopy)", sm2_verify_rate(2000, "tongsuo")),
        ("sm2 single thread (gmalglib)", sm2_verify_rate(2000, "gmalglib")),
        ("sm2 verify_batch (all cores)", sm2_verify_rate_parallel(4000)),
    ]
    for name, rate in rows:
        print(f"{name:40s} {rate:10,.0f} verifications/s")


if __name__ == "__main__":
    main()

"""Validator-set arithmetic shared by consensus and offline verification."""

from __future__ import annotations


def max_faulty(n: int) -> int:
    """f: the most Byzantine validators a set of ``n`` tolerates (n >= 3f + 1)."""
    return (n - 1) // 3


def quorum_size(n: int) -> int:
    """Votes needed for a certificate: 2f + 1 when n = 3f + 1 (and n - f in general)."""
    return n - max_faulty(n)

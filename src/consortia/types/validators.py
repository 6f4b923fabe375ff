"""Validator-set arithmetic shared by consensus and offline verification.

The one definition: ``consensus.config.CoreConfig`` (the consensus core) and
``ledger.proofs`` (offline proofs) both call these functions.
"""

from __future__ import annotations


def max_faulty(n: int) -> int:
    """f: the most Byzantine validators a set of ``n`` tolerates (n >= 3f + 1)."""
    return (n - 1) // 3


def quorum_size(n: int) -> int:
    """Votes needed for a certificate: 2f + 1 when n = 3f + 1 (and n - f in general).

    ``n - f`` is the smallest count whose any two sets share an honest validator; for
    ``n = 1`` it is 1.
    """
    return n - max_faulty(n)

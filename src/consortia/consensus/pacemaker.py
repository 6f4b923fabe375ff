"""Round timeouts: exponential backoff while rounds fail, reset by progress."""

from __future__ import annotations

_MAX_DOUBLINGS = 40


def round_timeout_ms(base_ms: int, max_ms: int, failed_rounds: int) -> int:
    """``base_ms * 2**failed_rounds``, capped at ``max_ms``.

    ``failed_rounds`` counts the rounds since the last QC (the current round is entered through
    a QC for the previous one when it is 0).
    """
    doublings = min(max(failed_rounds, 0), _MAX_DOUBLINGS)
    return min(base_ms << doublings, max_ms)

"""Always-on assertions: unlike ``assert``, these survive ``python -O``."""

from __future__ import annotations


class InvariantViolation(AssertionError):
    """A condition the code relies on does not hold: a bug, never bad user input."""


def invariant(condition: object, message: str = "invariant violated") -> None:
    """Raise :class:`InvariantViolation` when ``condition`` is false."""
    if not condition:
        raise InvariantViolation(message)

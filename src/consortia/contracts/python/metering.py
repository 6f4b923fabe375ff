"""The step meter: one per host, reset at the start of each top-level call.

Instrumented contract code (see :mod:`.instrument`) decrements ``left`` inline at every function
entry, loop iteration and comprehension item, and calls :meth:`Meter.out` when it goes negative.
The runtime guards charge size-proportional costs through :meth:`Meter.charge`.
"""

from __future__ import annotations

from consortia.contracts.python.errors import CallTooDeep, OutOfSteps
from consortia.contracts.python.limits import MAX_CALL_DEPTH


class Meter:
    __slots__ = ("budget", "depth", "left", "max_depth")

    def __init__(self) -> None:
        self.budget = 0
        self.left = 0
        self.depth = 0
        self.max_depth = MAX_CALL_DEPTH

    def reset(self, budget: int) -> None:
        self.budget = budget
        self.left = budget
        self.depth = 0

    @property
    def used(self) -> int:
        return min(self.budget, self.budget - self.left)

    def out(self) -> None:
        self.left = -1
        raise OutOfSteps(f"out of steps: the call used its whole budget of {self.budget} steps",
                         budget=self.budget)

    def charge(self, steps: int) -> None:
        self.left -= steps
        if self.left < 0:
            self.out()

    def enter(self, steps: int) -> None:
        """A contract function starts: charge its straight-line statements, one level deeper."""
        self.left -= steps
        if self.left < 0:
            self.out()
        self.depth += 1
        if self.depth > self.max_depth:
            raise CallTooDeep(f"call depth exceeds {self.max_depth} nested calls", limit=self.max_depth)

"""Running whole-node seeds."""

from __future__ import annotations

from collections.abc import Iterable

from consortia.sim.whole_node.world import WholeOptions, WholeResult, World


def run_whole_seed(seed: int, validators: int = 4, options: WholeOptions | None = None) -> WholeResult:
    """One seed, start to end; the same seed and options always give the same result."""
    return World(seed, validators, options or WholeOptions()).run()


def run_whole_many(seeds: Iterable[int], validators: int = 4,
                   options: WholeOptions | None = None) -> list[WholeResult]:
    return [run_whole_seed(seed, validators, options) for seed in seeds]

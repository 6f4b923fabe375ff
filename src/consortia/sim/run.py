"""Running one seed or many: the entry points for tests, benchmarks and the CLI."""

from __future__ import annotations

from collections.abc import Iterable

from consortia.sim.simulator import SimOptions, SimResult, Simulation


def run_seed(seed: int, validators: int = 4, options: SimOptions | None = None) -> SimResult:
    """Simulate one seed; the same arguments always give the same result."""
    return Simulation(seed, validators, options).run()


def run_many(
    seeds: Iterable[int],
    validators: int = 4,
    options: SimOptions | None = None,
    stop_at_first_failure: bool = False,
) -> list[SimResult]:
    """Simulate each seed in turn; optionally stop at the first seed with a violation."""
    results: list[SimResult] = []
    for seed in seeds:
        result = run_seed(seed, validators, options)
        results.append(result)
        if stop_at_first_failure and result.violations:
            break
    return results

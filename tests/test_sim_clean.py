"""The default simulation: many seeds under seeded faults, and not one violation."""

from __future__ import annotations

import pytest

from consortia.sim import SimOptions, run_many, run_seed


@pytest.mark.parametrize("validators", [4, 7])
def test_default_simulation_is_clean_for_many_seeds(validators: int) -> None:
    results = run_many(range(300), validators)
    failed = [(r.seed, r.violations[:2]) for r in results if r.violations]
    assert failed == []
    modes = {r.byzantine for r in results}
    assert modes == {"none", "twins", "forking"}  # every Byzantine mode was exercised
    assert all(r.commits > 0 for r in results)


def test_dev_mode_single_validator_with_crashes_is_clean() -> None:
    results = run_many(range(30), 1)
    assert [r.seed for r in results if r.violations] == []
    assert all(r.commits >= 3 for r in results)


def test_liveness_after_gst_with_a_twin_and_the_forking_leader() -> None:
    for mode in ("twins", "forking"):
        result = run_seed(7, 4, SimOptions(byzantine=mode))
        assert result.violations == []
        assert result.byzantine == mode

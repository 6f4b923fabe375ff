"""The simulator must be able to fail: each planted bug is caught within a bounded number of seeds.

The bugs live only here, as subclasses / factories of the real core.
"""

from __future__ import annotations

from typing import Any

from consortia.consensus import BlockMeta, ConsensusCore, SafetyData, SafetyRules
from consortia.consensus.core import Sign
from consortia.sim import SimOptions, SimResult, run_seed

MAX_SEEDS = 200


class _NoLockRules(SafetyRules):
    def vote_allowed(self, block: BlockMeta) -> bool:
        return True  # planted bug: skips the lock / TC check of the voting rule


class SkipLockCheckCore(ConsensusCore):
    def make_safety_rules(self, chain_id: str, me: int, sign: Sign, data: SafetyData) -> SafetyRules:
        return _NoLockRules(chain_id, me, sign, data)


class QuorumOneShortCore(ConsensusCore):
    def quorum_size(self) -> int:
        return self.config.quorum - 1  # planted bug: 2f votes make a certificate


def forget_safety_data(**core_args: Any) -> ConsensusCore:
    core_args["safety"] = SafetyData()  # planted bug: restart ignores what was persisted
    return ConsensusCore(**core_args)


def first_failure(options: SimOptions, validators: int = 4) -> SimResult | None:
    for seed in range(MAX_SEEDS):
        result = run_seed(seed, validators, options)
        if result.violations:
            return result
    return None


def _assert_replays(found: SimResult, options: SimOptions) -> None:
    again = run_seed(found.seed, found.validators, options)
    assert (again.violations, again.steps, again.digest) == (found.violations, found.steps,
                                                              found.digest)


def test_skipping_the_lock_check_is_caught_as_a_fork() -> None:
    # Votes go to every validator, so a QC is known wherever its votes arrive: the lock matters
    # when one-way link failures leave only some validators holding the QC and a Byzantine
    # leader proposes over an older one. Short one-way phases and a forking leader provoke it.
    options = SimOptions(core_factory=SkipLockCheckCore, byzantine="forking",
                         partition_kinds=("one_way",), phase_ms=(50, 500))
    found = first_failure(options)
    assert found is not None, f"not caught within {MAX_SEEDS} seeds"
    assert any("FORK" in v for v in found.violations)
    _assert_replays(found, options)


def test_quorum_one_vote_short_is_caught() -> None:
    options = SimOptions(core_factory=QuorumOneShortCore)
    found = first_failure(options)
    assert found is not None, f"not caught within {MAX_SEEDS} seeds"
    _assert_replays(found, options)


def test_quorum_one_vote_short_forks_under_long_partitions() -> None:
    # Without the light-client check of commit proofs, the fork itself must show up.
    options = SimOptions(core_factory=QuorumOneShortCore, check_commit_proofs=False,
                         byzantine="twins", partition_kinds=("split",), phase_ms=(5_000, 10_000),
                         gst_ms=20_000)
    found = first_failure(options, validators=7)
    assert found is not None, f"not caught within {MAX_SEEDS} seeds"
    assert any("FORK" in v or "LIVENESS" in v for v in found.violations)


def test_forgetting_safety_data_on_restart_is_caught() -> None:
    options = SimOptions(core_factory=forget_safety_data)
    found = first_failure(options)
    assert found is not None, f"not caught within {MAX_SEEDS} seeds"
    assert any("honest validator" in v for v in found.violations)
    _assert_replays(found, options)


def test_the_same_bugs_pass_unnoticed_without_faults() -> None:
    # Sanity check of the harness: in a calm network the planted bugs do no visible harm, so
    # it is the injected faults that find them.
    calm = {"partitions": False, "crashes": False, "byzantine": "none"}
    for factory in (SkipLockCheckCore, QuorumOneShortCore, forget_safety_data):
        result = run_seed(0, 4, SimOptions(core_factory=factory, check_commit_proofs=False, **calm))
        assert result.violations == []

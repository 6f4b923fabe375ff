"""``consortia sim --whole-node``: run whole-node seeds and summarise them."""

from __future__ import annotations

from consortia.sim.cli_entry import run_and_report
from consortia.sim.whole_node.run import run_whole_many
from consortia.sim.whole_node.world import WholeOptions, WholeResult


def whole_node_command(validators: int, seeds: int, seed: int | None, as_json: bool,
                       verbose: bool = False) -> int:
    """Exit code 0 when every seed is clean, 1 when one violated an invariant."""
    options = WholeOptions(verbose=verbose and not as_json)
    chosen = range(seeds) if seed is None else (seed,)
    return run_and_report(lambda: run_whole_many(chosen, validators, options), validators, as_json,
                          _summary, _print_text)


def _summary(results: list[WholeResult], failed: list[WholeResult], validators: int,
             elapsed: float) -> dict[str, object]:
    return {
        "mode": "whole-node",
        "validators": validators,
        "seeds_run": len(results),
        "steps": sum(r.steps for r in results),
        "commits": sum(r.commits for r in results),
        "acknowledged_txs": sum(r.acked for r in results),
        "restarts": sum(r.restarts for r in results),
        "halts": sum(r.halts for r in results),
        "virtual_s": round(sum(r.virtual_ms for r in results) / 1000, 1),
        "violations": sum(len(r.violations) for r in results),
        "failed_seeds": [r.seed for r in failed],
        "failures": [r.to_dict() for r in failed],
        "node_events": _events(results),
        "traces": [r.digest for r in results],
        "elapsed_s": round(elapsed, 3),
        "seconds_per_seed": round(elapsed / len(results), 3) if results else 0.0,
    }


def _events(results: list[WholeResult]) -> dict[str, int]:
    total: dict[str, int] = {}
    for result in results:
        for what, count in result.events.items():
            total[what] = total.get(what, 0) + count
    return dict(sorted(total.items(), key=lambda kv: -kv[1]))


def _print_text(summary: dict[str, object], failed: list[WholeResult],
                results: list[WholeResult]) -> None:
    print(
        f"whole-node validators={summary['validators']} seeds={summary['seeds_run']} "
        f"commits={summary['commits']} acked_txs={summary['acknowledged_txs']} "
        f"restarts={summary['restarts']} halts={summary['halts']} "
        f"virtual={summary['virtual_s']}s violations={summary['violations']} "
        f"({summary['elapsed_s']}s, {summary['seconds_per_seed']}s/seed)"
    )
    if len(results) == 1 and not failed:
        for fault in results[0].faults:
            print(f"  fault: {fault}")
        print(f"  trace {results[0].digest}")
    for result in failed[:1]:
        print(f"FAILED seed {result.seed}; replay with: consortia sim --whole-node "
              f"--validators {result.validators} --seed {result.seed} [--verbose]")
        for fault in result.faults:
            print(f"  fault: {fault}")
        for violation in result.violations[:8]:
            print(f"  violation: {violation}")
        print(f"  trace {result.digest}")
    if len(failed) > 1:
        print(f"also failed: seeds {[r.seed for r in failed[1:]]}")
    if not failed:
        print("all seeds clean")

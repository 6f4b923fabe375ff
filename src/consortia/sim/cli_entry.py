"""``consortia sim``: run the deterministic simulator and summarise, for the CLI to call.

Wire it as ``consortia sim [--whole-node] --validators N --seeds K [--seed S] [--json]``:
``raise typer.Exit(sim_command(validators, seeds, seed, as_json, whole_node=...))``. Without
``--whole-node`` it drives the consensus core alone; with it, N complete node stacks
(:mod:`consortia.sim.whole_node`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from typing import Protocol, TypeVar

from consortia.sim.run import run_many
from consortia.sim.simulator import SimResult


class _SeedResult(Protocol):
    @property
    def violations(self) -> list[str]: ...


R = TypeVar("R", bound=_SeedResult)


def sim_command(validators: int, seeds: int, seed: int | None, as_json: bool, *,
                whole_node: bool = False, verbose: bool = False) -> int:
    """Run ``seeds`` seeds (0..seeds-1), or only ``seed`` to replay one; return the exit code.

    Exit code 0 when every seed is clean, 1 when any seed violated an invariant (its number is
    printed so that ``--seed`` replays it exactly), 2 on bad arguments. ``verbose`` (whole
    node only): print the nodes' log with virtual time, to study one replayed seed.
    """
    if validators < 1 or (seed is None and seeds < 1):
        print("error: --validators and --seeds must be at least 1")
        return 2
    if whole_node:
        from consortia.sim.whole_node.report import whole_node_command

        return whole_node_command(validators, seeds, seed, as_json, verbose)
    chosen = range(seeds) if seed is None else (seed,)
    return run_and_report(lambda: run_many(chosen, validators), validators, as_json, _summary,
                          lambda summary, failed, _: _print_text(summary, failed))


def run_and_report(
    run: Callable[[], Sequence[R]],
    validators: int,
    as_json: bool,
    summarise: Callable[[list[R], list[R], int, float], dict[str, object]],
    print_text: Callable[[dict[str, object], list[R], list[R]], None],
) -> int:
    """Run the seeds, time them, print one summary (JSON or text); exit code 1 if any failed.
    Shared by the consensus and the whole-node simulators."""
    started = time.perf_counter()
    results = list(run())
    elapsed = time.perf_counter() - started
    failed = [r for r in results if r.violations]
    summary = summarise(results, failed, validators, elapsed)
    if as_json:
        print(json.dumps(summary, sort_keys=True))
    else:
        print_text(summary, failed, results)
    return 1 if failed else 0


def _summary(results: list[SimResult], failed: list[SimResult], validators: int,
             elapsed: float) -> dict[str, object]:
    steps = sum(r.steps for r in results)
    return {
        "validators": validators,
        "seeds_run": len(results),
        "steps": steps,
        "commits": sum(r.commits for r in results),
        "violations": sum(len(r.violations) for r in results),
        "failed_seeds": [r.seed for r in failed],
        "failures": [r.to_dict() for r in failed],
        "elapsed_s": round(elapsed, 3),
        "steps_per_s": int(steps / elapsed) if elapsed > 0 else 0,
    }


def _print_text(summary: dict[str, object], failed: list[SimResult]) -> None:
    print(
        f"validators={summary['validators']} seeds={summary['seeds_run']} "
        f"steps={summary['steps']} commits={summary['commits']} "
        f"violations={summary['violations']} ({summary['elapsed_s']}s, "
        f"{summary['steps_per_s']} steps/s)"
    )
    for result in failed:
        print(f"FAILED seed {result.seed} ({result.byzantine}); replay with "
              f"--validators {result.validators} --seed {result.seed}")
        for fault in result.faults:
            print(f"  fault: {fault}")
        for violation in result.violations[:5]:
            print(f"  violation: {violation}")
    if not failed:
        print("all seeds clean")

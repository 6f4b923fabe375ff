"""The CLI-free entry point the lead wires into ``consortia sim``."""

from __future__ import annotations

import json

import pytest

from consortia.sim.cli_entry import sim_command


def test_text_summary(capsys: pytest.CaptureFixture[str]) -> None:
    assert sim_command(validators=4, seeds=5, seed=None, as_json=False) == 0
    out = capsys.readouterr().out
    assert "seeds=5" in out and "violations=0" in out and "all seeds clean" in out


def test_json_summary_and_single_seed_replay(capsys: pytest.CaptureFixture[str]) -> None:
    assert sim_command(validators=7, seeds=1, seed=42, as_json=True) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["seeds_run"] == 1 and summary["violations"] == 0
    assert summary["failed_seeds"] == [] and summary["steps"] > 0


def test_bad_arguments() -> None:
    assert sim_command(validators=0, seeds=1, seed=None, as_json=False) == 2

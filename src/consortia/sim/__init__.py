"""Deterministic simulator that drives the real consensus core under seeded faults."""

from consortia.sim.run import run_many, run_seed
from consortia.sim.simulator import SimOptions, SimResult, Simulation

__all__ = ["SimOptions", "SimResult", "Simulation", "run_many", "run_seed"]

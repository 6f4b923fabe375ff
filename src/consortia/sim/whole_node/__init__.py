"""The whole node under the deterministic simulator: N real node stacks on virtual time."""

from consortia.sim.whole_node.run import run_whole_many, run_whole_seed
from consortia.sim.whole_node.world import WholeOptions, WholeResult

__all__ = ["WholeOptions", "WholeResult", "run_whole_many", "run_whole_seed"]

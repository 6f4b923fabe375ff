"""A lab of namespaced hosts on one machine: network faults for multi-host tests and benchmarks."""

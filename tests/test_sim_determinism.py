"""A seed replays exactly: same steps, same commits, same digest, whatever the hash seed."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from consortia.sim import run_seed

_SCRIPT = (
    "import json; from consortia.sim import run_seed; "
    "r = run_seed(11, 4); print(json.dumps([r.steps, r.digest, r.commits]))"
)


def test_same_seed_same_run() -> None:
    a, b = run_seed(11, 4), run_seed(11, 4)
    assert (a.steps, a.digest, a.commits, a.violations) == (b.steps, b.digest, b.commits,
                                                             b.violations)
    assert run_seed(12, 4).digest != a.digest


def test_replay_does_not_depend_on_python_hash_randomisation() -> None:
    outputs = []
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        done = subprocess.run([sys.executable, "-c", _SCRIPT], env=env, capture_output=True,
                              text=True, check=True, timeout=60)
        outputs.append(json.loads(done.stdout))
    local = run_seed(11, 4)
    assert outputs[0] == outputs[1] == [local.steps, local.digest, local.commits]

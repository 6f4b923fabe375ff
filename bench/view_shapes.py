"""What checking a view's declared result shape costs: the bills contract's ``instruments`` view
(``-> list[Bill]``, up to 200 records of 32 fields each) run on a world with ``--bills``
instruments, timed with its check and with the check skipped, in the same run. Prints the time
of one view call each way, the check's share, and the check alone.

    python bench/view_shapes.py [--bills 100] [--repeat 50]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.bills_world import make_world

from consortia.apps.bills import sdk
from consortia.contracts.python import host as host_module
from consortia.contracts.python.shapes import mismatch


def timed(run: object, repeat: int) -> float:
    assert callable(run)
    start = time.perf_counter()
    for _ in range(repeat):
        run()
    return (time.perf_counter() - start) / repeat


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bills", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=50)
    options = parser.parse_args()
    w = make_world()
    for _ in range(options.bills):
        call = sdk.issue(sdk.CHEQUE, "", w["beta"], w["bank-a"], 1_000)
        w.ok("acme", call)
    view = sdk.instruments(1, sdk.MAX_LIST)
    assert len(w.view(view)) == min(options.bills, sdk.MAX_LIST)
    checked = timed(lambda: w.view(view), options.repeat)
    host_module.mismatch = lambda shape, value, where="result": None  # type: ignore[assignment]
    try:
        unchecked = timed(lambda: w.view(view), options.repeat)
    finally:
        host_module.mismatch = mismatch
    result = w.view(view)
    shape = w.host.loaded(w.h.state, "bills").methods["instruments"].returns
    assert shape is not None and mismatch(shape, result) is None
    check_alone = timed(lambda: mismatch(shape, result), options.repeat)
    print(json.dumps({
        "records": min(options.bills, sdk.MAX_LIST), "view_ms_checked": round(checked * 1000, 2),
        "view_ms_unchecked": round(unchecked * 1000, 2),
        "check_share": round((checked - unchecked) / checked, 3),
        "check_alone_ms": round(check_alone * 1000, 3),
    }))


if __name__ == "__main__":
    main()

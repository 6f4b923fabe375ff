"""``consortia contract test PATH``: pytest on a contract's folder, with the shipped fixtures.

Pytest runs in its own process (the tests import whatever they like; the CLI stays clean), with
``-p consortia.contracts.python.pytest_plugin`` unless an installed ``pytest11`` entry point
already loads that plugin. With ``capture`` the report is kept and counted (for ``--json``).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from importlib import metadata
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from consortia.errors import ConfigError

PLUGIN = "consortia.contracts.python.pytest_plugin"
MAX_OUTPUT_CHARS = 20_000


def plugin_auto_loaded() -> bool:
    return any(ep.value.split(":")[0] == PLUGIN for ep in metadata.entry_points(group="pytest11"))


def pytest_command(path: Path, extra: list[str], junit: Path | None) -> list[str]:
    command = [sys.executable, "-m", "pytest", str(path), "-p", "no:cacheprovider"]
    if not plugin_auto_loaded():
        command += ["-p", PLUGIN]
    if junit is not None:
        command += [f"--junitxml={junit}", "-q"]
    return command + extra


def counts(junit: Path) -> dict[str, int]:
    try:
        root = ET.parse(junit).getroot()
    except (OSError, ET.ParseError):
        return {}
    suite = root if root.tag == "testsuite" else root.find("testsuite")
    if suite is None:
        return {}
    total = int(suite.get("tests", 0))
    failed = int(suite.get("failures", 0)) + int(suite.get("errors", 0))
    skipped = int(suite.get("skipped", 0))
    return {"passed": total - failed - skipped, "failed": failed, "skipped": skipped}


def run_contract_tests(path: Path, extra: list[str], capture: bool) -> dict[str, Any]:
    """Run the tests; returns ``{"ok", "exit_code", "path"}`` (+ counts and output if captured)."""
    if find_spec("pytest") is None:
        raise ConfigError("contract tests need pytest: pip install 'consortia[test]' (or pytest)")
    if not capture:
        code = subprocess.run(pytest_command(path, extra, None), stdin=subprocess.DEVNULL).returncode
        return {"ok": code == 0, "exit_code": code, "path": str(path)}
    with tempfile.TemporaryDirectory() as tmp:
        junit = Path(tmp) / "report.xml"
        proc = subprocess.run(pytest_command(path, extra, junit), capture_output=True, text=True,
                              stdin=subprocess.DEVNULL)
        found = counts(junit)
    output = (proc.stdout + proc.stderr)[-MAX_OUTPUT_CHARS:]
    # exit code 5: no tests collected, which is not a pass
    return {"ok": proc.returncode == 0, "exit_code": proc.returncode, "path": str(path), **found,
            "output": output}

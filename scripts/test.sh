#!/usr/bin/env bash
# Install (first run only) and run the linters and the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh test
.venv/bin/ruff check src tests bench
.venv/bin/python -m pytest -p no:cacheprovider --timeout=600 "$@"

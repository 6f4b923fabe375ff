#!/usr/bin/env bash
# Install (first run only) and run the linters and the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh test
.venv/bin/ruff check src tests bench
# Three workers (the machine has two cores, but most multi-node tests spend their time waiting; four
# were no faster on 2026-12-01: 14 min 51 s against 14 min 35 s), each
# test module on one worker so a module's network fixture starts once; CONSORTIA_TEST_WORKERS=0
# runs everything in this process.
.venv/bin/python -m pytest -p no:cacheprovider --timeout=600 \
  -n "${CONSORTIA_TEST_WORKERS:-3}" --dist loadfile "$@"

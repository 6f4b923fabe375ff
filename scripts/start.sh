#!/usr/bin/env bash
# Install (first run only) and start a local Consortia chain with its API and explorer.
# Extra arguments go to `consortia dev`, e.g. --api-port 8600 or --suite sm2.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh run
exec .venv/bin/consortia dev --home "${CONSORTIA_HOME:-.consortia-dev}" "$@"

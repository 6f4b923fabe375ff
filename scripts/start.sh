#!/usr/bin/env bash
# Install (first run only) and start a local Consortia network: four validator processes with
# mutual-TLS links, each serving its REST API and explorer (node i on port 8600+i).
# Extra arguments go to `consortia up`, e.g. --validators 7 or --suite sm2 (first start only).
# For a single-validator dev chain instead: .venv/bin/consortia dev
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh run
exec .venv/bin/consortia up --home "${CONSORTIA_HOME:-.consortia}" "$@"

#!/usr/bin/env bash
# Create .venv with Python 3.11+ and install Consortia into it (idempotent).
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
if ! "$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)'; then
  echo "Consortia needs Python 3.11 or newer (found $("$PY" --version 2>&1))" >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.installed-$(cat pyproject.toml | sha256sum | cut -c1-16)-${1:-run}
if [ ! -f "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
  if [ "${1:-run}" = "test" ]; then
    .venv/bin/python -m pip install --quiet -e '.[test]' 2>&1 | grep -v "^WARNING: Location" || true
  else
    .venv/bin/python -m pip install --quiet -e . 2>&1 | grep -v "^WARNING: Location" || true
  fi
  .venv/bin/python -c 'import consortia, nacl, lmdb, msgspec, gmalglib, tongsuopy, sqlalchemy, alembic, psycopg' 
  touch "$stamp"
fi
# The SQL index's tests run against a real PostgreSQL server (a throwaway cluster each run):
# Debian's postgresql provides initdb and pg_ctl.
if [ "${1:-run}" = "test" ] && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  elif command -v sudo >/dev/null 2>&1; then
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  else
    echo "PostgreSQL is not installed and this user cannot install it: apt-get install postgresql" >&2
  fi
fi
# The explorer's browser tests drive Debian's chromium through Playwright (Playwright's own
# browser download is never used).
if [ "${1:-run}" = "test" ] && [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = "0" ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  elif command -v sudo >/dev/null 2>&1; then
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "Chromium is not installed and this user cannot install it: apt-get install chromium" >&2
  fi
fi

#!/usr/bin/env bash
# Run the whole test suite: installs what it needs (Python packages, Debian's chromium,
# jQuery from npm), then runs pytest on SQLite and, when PostgreSQL and Redis answer,
# once more against them.  Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/python.sh
prepare_venv requirements-dev.txt

if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing Debian's chromium for the browser tests"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
  else
    echo "chromium is not installed: the browser tests will be skipped (apt-get install chromium)" >&2
  fi
fi
if [ ! -f node_modules/jquery/package.json ] || ! cmp -s package-lock.json node_modules/.package-lock.json 2>/dev/null; then
  if command -v npm >/dev/null 2>&1; then
    npm ci --silent --no-audit --no-fund
  else
    echo "npm is not installed: the browser tests that use jQuery will be skipped" >&2
  fi
fi

"$PY" -m pytest "$@"

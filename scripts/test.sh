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
# npm's record of what node_modules holds (.package-lock.json) lists the lock's packages
# without the root entry: compare those, so that an installed tree is not installed again.
node_modules_current() {
  "$PY" - <<'PYLOCK' 2>/dev/null
import json, sys
locked = json.load(open("package-lock.json"))["packages"]
locked.pop("", None)
sys.exit(locked != json.load(open("node_modules/.package-lock.json"))["packages"])
PYLOCK
}
if [ ! -f node_modules/jquery/package.json ] || ! node_modules_current; then
  if command -v npm >/dev/null 2>&1; then
    npm ci --silent --no-audit --no-fund
  else
    echo "npm is not installed: the browser tests that use jQuery will be skipped" >&2
  fi
fi

# Two passes: the embedded default (SQLite, in-process cache), then PostgreSQL + Redis
# when they answer (DATABASE_URL / REDIS_URL, or TEST_DATABASE_URL / TEST_REDIS_URL; the
# test database is test_<name>). TEST_WORKERS sets pytest-xdist's processes (0: none).
PG_URL="${TEST_DATABASE_URL:-${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/clicktocall}}"
# The tests' own Redis database (13) is emptied before the pass, so the keys that the
# tests delete one prefix at a time are found among a few; a given URL is never emptied.
OWN_REDIS=redis://127.0.0.1:6379/13
REDIS="${TEST_REDIS_URL:-${REDIS_URL:-$OWN_REDIS}}"
WORKERS="${TEST_WORKERS:-2}"
XDIST=()
if [ "$WORKERS" != 0 ]; then XDIST=(-n "$WORKERS"); fi

services="$("$PY" - "$PG_URL" "$REDIS" "$OWN_REDIS" <<'PYCHECK' 2>&1 || true
import sys
problems = []
try:
    import dj_database_url, psycopg
    db = dj_database_url.parse(sys.argv[1])
    if db["ENGINE"] != "django.db.backends.postgresql":
        raise ValueError(f"{sys.argv[1]} is not a PostgreSQL URL")
    server = dict(host=db["HOST"] or "localhost", port=db["PORT"] or 5432, user=db["USER"] or None,
                  password=db["PASSWORD"] or None, connect_timeout=3)
    try:  # the named database need not exist (the tests create test_<name>)
        psycopg.connect(dbname="postgres", **server).close()
    except psycopg.Error:
        psycopg.connect(dbname=db["NAME"], **server).close()
except Exception as exc:
    problems.append(f"PostgreSQL does not answer ({exc.__class__.__name__}: {str(exc).strip()[:200]})")
try:
    import redis
    redis.Redis.from_url(sys.argv[2], socket_connect_timeout=3).ping()
except Exception as exc:
    problems.append(f"Redis does not answer ({exc.__class__.__name__}: {str(exc).strip()[:200]})")
if not problems and sys.argv[2] == sys.argv[3]:
    redis.Redis.from_url(sys.argv[2], socket_connect_timeout=3).flushdb()
print("; ".join(problems) or "ok")
PYCHECK
)"
if [ "$services" = ok ]; then
  echo "Two passes: SQLite + in-process cache, then PostgreSQL ($PG_URL) + Redis ($REDIS)."
else
  echo "Skipping the PostgreSQL + Redis pass: $services." >&2
  echo "Start them, or point TEST_DATABASE_URL / TEST_REDIS_URL at them, to run it too." >&2
fi

summaries="$(mktemp)"
trap 'rm -f "$summaries"' EXIT
failed=0
run_pass() {
  # $1: the pass's name; the rest: VAR=value settings for it
  local name="$1" out status
  shift
  echo "== $name =="
  out="$(mktemp)"
  set +e
  env -u DATABASE_URL -u REDIS_URL "$@" "$PY" -m pytest "${XDIST[@]}" "${ARGS[@]}" 2>&1 | tee "$out"
  status=${PIPESTATUS[0]}
  set -e
  last_failed=0
  if [ "$status" != 0 ] && [ "$status" != 5 ]; then
    failed=1
    last_failed=1
    tail -n 1 "$out" >>"$summaries"
  fi
  rm -f "$out"
}
ARGS=("$@")
run_pass "SQLite"
if [ "$services" = ok ]; then
  run_pass "PostgreSQL + Redis" DATABASE_URL="$PG_URL" REDIS_URL="$REDIS"
fi
if [ "$failed" != 0 ]; then
  # End with the summary of a failing pass, so that a CI reading the last line sees it.
  if [ "$last_failed" = 0 ]; then tail -n 1 "$summaries"; fi
  exit 1
fi

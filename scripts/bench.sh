#!/usr/bin/env bash
# Benchmarks (not tests): HTTP load on gunicorn, the admin and the CSV export at 10,000
# and 1,000,000 attempts, what a flood of refused requests stores, and a burst placed at
# the provider's pace. Loopback only; bounded requests and durations. Exits non-zero
# when a benchmark saw an unexpected answer.
#   ./scripts/bench.sh                    load, growth, refusals and burst
#   ./scripts/bench.sh load [options]     python -m benchmarks.load --help
#   ./scripts/bench.sh growth [options]   python -m benchmarks.growth --help
#   ./scripts/bench.sh limits [options]   python -m benchmarks.limits --help
#   ./scripts/bench.sh refusals [options] python -m benchmarks.refusals --help
#   ./scripts/bench.sh congress [options] python -m benchmarks.congress --help
#   ./scripts/bench.sh burst [options]    python -m benchmarks.burst --help
# BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/clicktocall_bench, created
# when missing; its attempts are replaced) and BENCH_REDIS_URL (default redis://127.0.0.1:6379/0).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/python.sh
prepare_venv requirements.txt
what="${1:-all}"
shift || true
case "$what" in
  load) exec "$PY" -m benchmarks.load "$@" ;;
  growth) exec "$PY" -m benchmarks.growth "$@" ;;
  congress) exec "$PY" -m benchmarks.congress "$@" ;;
  burst) exec "$PY" -m benchmarks.burst "$@" ;;
  limits) exec "$PY" -m benchmarks.limits "$@" ;;
  refusals) exec "$PY" -m benchmarks.refusals "$@" ;;
  all)
    "$PY" -m benchmarks.load
    echo
    "$PY" -m benchmarks.growth
    echo
    "$PY" -m benchmarks.refusals
    echo
    "$PY" -m benchmarks.burst
    ;;
  *)
    echo "usage: $0 [load|growth|limits|refusals|congress|burst|all] [options]" >&2
    exit 2
    ;;
esac

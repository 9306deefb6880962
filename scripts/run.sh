#!/usr/bin/env bash
# Run Click-to-Call on its embedded defaults: SQLite, console telephony, demo data.
#   ./scripts/run.sh            serves http://127.0.0.1:8000/
#   PORT=9000 ./scripts/run.sh  another port
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/python.sh
prepare_venv requirements.txt
"$PY" manage.py migrate --noinput
"$PY" manage.py clicktocall_demo
PORT="${PORT:-8000}"
export CLICKTOCALL_PUBLIC_URL="${CLICKTOCALL_PUBLIC_URL:-http://127.0.0.1:$PORT}"
echo "Open http://127.0.0.1:$PORT/ for the demo form and http://127.0.0.1:$PORT/admin/ for the admin."
exec "$PY" manage.py runserver "127.0.0.1:$PORT"

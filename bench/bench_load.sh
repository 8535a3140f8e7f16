#!/bin/sh
# Load on read endpoints: gunicorn on the generated programme, wrk with 50 connections for 30 s rotating over
# read URLs (API with a bearer token, then pages with a logged-in session); prints requests/s, latency
# percentiles and the answers that were not 2xx. Goal (issue 7): >= 200 requests/s on the API reads, no error.
#
#   bench/bench_load.sh                                   # SQLite: var-bench/programme.sqlite3
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/h_perf bench/bench_load.sh
#   WORKERS=4 THREADS=2 DURATION=30s CONNECTIONS=50 bench/bench_load.sh
#
# The database is generated first when it holds no patient (bench_pages.py does it). Needs wrk (Debian).
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PY=${PYTHON:-$ROOT/.venv/bin/python}
[ -x "$PY" ] || PY=python3
BIN=$(dirname "$PY")
WORKERS=${WORKERS:-4}
THREADS=${THREADS:-2}
DURATION=${DURATION:-30s}
CONNECTIONS=${CONNECTIONS:-50}
PORT=${PORT:-8765}
SQLITE=${SQLITE:-$ROOT/var-bench/programme.sqlite3}
export PYTHONPATH="$ROOT/src:$ROOT/bench${PYTHONPATH:+:$PYTHONPATH}"
export DJANGO_SETTINGS_MODULE=bench_settings
if [ -z "${DATABASE_URL:-}" ]; then
  export MIBG_DATA_DIR=$(dirname "$SQLITE") MIBG_SQLITE_NAME=$(basename "$SQLITE")
  WHERE="SQLite $SQLITE"
  "$PY" "$ROOT/bench/bench_pages.py" --sqlite "$SQLITE" --prepare-only
else
  WHERE="PostgreSQL ${DATABASE_URL##*/}"
  "$PY" "$ROOT/bench/bench_pages.py" --database-url "$DATABASE_URL" --prepare-only
fi
WORK=$(mktemp -d)
trap 'kill "$GUNICORN" 2>/dev/null || true; rm -rf "$WORK"' EXIT INT TERM
"$PY" "$ROOT/bench/load_setup.py" "$WORK/api.lua" api
"$PY" "$ROOT/bench/load_setup.py" "$WORK/pages.lua" pages
"$BIN/gunicorn" mibg.web.wsgi:application --bind "127.0.0.1:$PORT" --workers "$WORKERS" --threads "$THREADS" \
  --worker-class gthread --keep-alive 30 --log-level warning --error-logfile "$WORK/gunicorn.log" &
GUNICORN=$!
for _ in $(seq 50); do
  curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
  sleep 0.2
done
echo "bench_load: $WHERE; gunicorn $WORKERS workers x $THREADS threads (gthread) on $(nproc) cores; wrk $CONNECTIONS connections, $DURATION"
for kind in api pages; do
  wrk -t2 -c"$CONNECTIONS" -d5s -s "$WORK/$kind.lua" "http://127.0.0.1:$PORT" >/dev/null  # warm-up
  echo "-- $kind reads:"
  wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --timeout 10s -s "$WORK/$kind.lua" "http://127.0.0.1:$PORT" \
    | sed -n '/^requests\/s/,$p'
done
if [ -s "$WORK/gunicorn.log" ]; then echo "-- gunicorn errors:"; cat "$WORK/gunicorn.log"; fi

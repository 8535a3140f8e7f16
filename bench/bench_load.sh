#!/bin/sh
# Load on read endpoints: gunicorn on the generated programme, wrk with 50 connections for 30 s rotating over
# read URLs (API with a bearer token, then pages with a logged-in session); prints requests/s, latency
# percentiles and the answers that were not 2xx. Goal (issue 7): >= 200 requests/s on the API reads, no error.
#
#   bench/bench_load.sh                                   # SQLite: var-bench/programme.sqlite3
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/h_perf bench/bench_load.sh
#   WORKERS=4 THREADS=2 DURATION=30s CONNECTIONS=50 bench/bench_load.sh
#   KINDS=api bench/bench_load.sh                         # the API reads only (KINDS="api pages" by default)
#   SRC=../other-checkout/src bench/bench_load.sh         # another version of the application, same driver
#
# "server CPU per request" is the CPU time (user + system, in clock ticks from /proc) that gunicorn's processes used
# during the timed run, divided by the requests: the figure that does not depend on what else the machine runs.
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
# A free port unless PORT is given: two engineers' runs on one machine must not measure each other's server.
PORT=${PORT:-$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
SQLITE=${SQLITE:-$ROOT/var-bench/programme.sqlite3}
KINDS=${KINDS:-api pages}
SRC=$(cd "${SRC:-$ROOT/src}" && pwd)
export PYTHONPATH="$SRC:$ROOT/bench${PYTHONPATH:+:$PYTHONPATH}"
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
for kind in $KINDS; do "$PY" "$ROOT/bench/load_setup.py" "$WORK/$kind.lua" "$kind"; done
"$BIN/gunicorn" mibg.web.wsgi:application --bind "127.0.0.1:$PORT" --workers "$WORKERS" --threads "$THREADS" \
  --worker-class gthread --keep-alive 30 --log-level warning --error-logfile "$WORK/gunicorn.log" &
GUNICORN=$!
server_cpu() {  # CPU seconds used so far by gunicorn and its workers (utime + stime, fields 14 and 15)
  for pid in "$GUNICORN" $(pgrep -P "$GUNICORN"); do cat "/proc/$pid/stat" 2>/dev/null; done |
    sed 's/^.*) //' | awk -v hz="$(getconf CLK_TCK)" '{s += $12 + $13} END {printf "%.2f\n", s / hz}'
}
for _ in $(seq 150); do
  kill -0 "$GUNICORN" 2>/dev/null || { echo "bench_load: gunicorn did not start:" >&2; cat "$WORK/gunicorn.log" >&2; exit 1; }
  curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
  sleep 0.2
done
echo "bench_load: $WHERE; $SRC; gunicorn $WORKERS workers x $THREADS threads (gthread) on $(nproc) cores; wrk $CONNECTIONS connections, $DURATION"
for kind in $KINDS; do
  # Warm-up: every URL twice, 4 at a time (the first view of a course draws its plots and fits its readings;
  # those are kept, see bench/RESULTS.md), then 5 s of load.
  started=$(date +%s)
  for _ in 1 2; do
    xargs -P 4 -I{} curl -s -o /dev/null -H @"$WORK/$kind.headers" "http://127.0.0.1:$PORT{}" < "$WORK/$kind.urls"
  done
  echo "-- $kind warm-up: $(wc -l < "$WORK/$kind.urls") URLs twice in $(( $(date +%s) - started )) s"
  wrk -t2 -c"$CONNECTIONS" -d5s -s "$WORK/$kind.lua" "http://127.0.0.1:$PORT" >/dev/null
  echo "-- $kind reads (load average before: $(cut -d' ' -f1-3 /proc/loadavg)):"
  before=$(server_cpu)
  wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --timeout 10s -s "$WORK/$kind.lua" "http://127.0.0.1:$PORT" \
    | sed -n '/^requests\/s/,$p' | tee "$WORK/$kind.out"
  after=$(server_cpu)
  # CPU the server spent per request: what the throughput would be on two cores given to it alone.
  awk -v b="$before" -v a="$after" '/^answers/ {split($6, n, ";"); total = n[1]}
    END {if (total > 0) printf "server CPU per request: %.1f ms (2 cores alone: at most %.0f requests/s)\n",
         (a - b) * 1000 / total, 2 * total / (a - b)}' "$WORK/$kind.out"
done
if [ -s "$WORK/gunicorn.log" ]; then echo "-- gunicorn errors:"; cat "$WORK/gunicorn.log"; fi

#!/bin/sh
# Issue 14's page goals in one command (about 3 minutes on a quiet 2-core machine, the first run included):
#   1. each main page's p95 against the bare page's (bench_pages.py: in process, 100 timed requests each), and
#   2. pages per second under load (bench_load.sh KINDS=pages: gunicorn, wrk 50 connections, 30 s), with the
#      server's CPU per page.
# The programme is generated once (1,000 patients, 2,000 courses, 200,000 labs, 40,000 readings: the course measured
# has 108 labs and 21 readings, as at 5,000 patients) into var-bench/ and reused.
#
#   bench/bench_issue14_pages.sh
#   SRC=../other-checkout/src bench/bench_issue14_pages.sh     # another version of the code, same driver and data
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PY=${PYTHON:-$ROOT/.venv/bin/python}
[ -x "$PY" ] || PY=python3
SQLITE=${SQLITE:-$ROOT/var-bench/programme1k.sqlite3}
SRC=$(cd "${SRC:-$ROOT/src}" && pwd)
mkdir -p "$(dirname "$SQLITE")"
if [ ! -s "$SQLITE" ]; then
  echo "bench_issue14_pages: generating the programme into $SQLITE (once)"
  MIBG_DATA_DIR=$(dirname "$SQLITE") MIBG_SQLITE_NAME=$(basename "$SQLITE") MIBG_DEBUG=1 PYTHONPATH="$SRC" \
    DJANGO_SETTINGS_MODULE=mibg.web.settings "$PY" -c \
    "import django; django.setup(); from django.core.management import call_command; call_command('migrate', interactive=False, verbosity=0)"
  MIBG_DATA_DIR=$(dirname "$SQLITE") MIBG_SQLITE_NAME=$(basename "$SQLITE") MIBG_DEBUG=1 PYTHONPATH="$SRC" \
    DJANGO_SETTINGS_MODULE=mibg.web.settings "$PY" -m mibg.cli generate-programme --patients 1000 --courses 2000 \
    --labs 200000 --readings 40000 --seed 1 --as-of 2026-12-03
fi
PYTHONPATH="$SRC" "$PY" "$ROOT/bench/bench_pages.py" --sqlite "$SQLITE" --requests 100 --warmup 10 \
  --only "patient list,patient page,course page,follow-up,radiation"
KINDS=pages SQLITE="$SQLITE" SRC="$SRC" PYTHON="$PY" "$ROOT/bench/bench_load.sh"

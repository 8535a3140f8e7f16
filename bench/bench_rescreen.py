"""Re-screening the programme (issue 14): the time of ``rescreen_programme`` on a generated programme.

A figure, not a test. Runs the screening service's re-screen (the one ``mibg rescreen`` and the page call) as a
physician, --runs times, and prints the median: once over the open courses (those not yet given activity, what the
command covers) and once over every course of the programme (a stress figure: every stored evaluation screened
again and compared). Under the installed protocol and, with --site-change, under a copy whose lab window is one day
(most verdicts change). Audit records are written as by the command (one per run, one per patient listed).

    python bench/bench_rescreen.py --sqlite var-bench/programme5k.sqlite3 [--runs 3] [--site-change]

The programme: mibg generate-programme --patients 5000 --courses 10000 --labs 0 --readings 0 --seed 1 (labs and
readings do not enter the screening's snapshot; they only make generating slow).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from decimal import Decimal
from pathlib import Path

BENCH = Path(__file__).resolve().parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--sqlite", default="var-bench/programme5k.sqlite3", help="SQLite file (default %(default)s)")
    where.add_argument("--database-url", help="PostgreSQL URL instead")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--site-change", action="store_true", help="screen under a one-day lab window")
    args = parser.parse_args()
    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url
    else:
        os.environ.pop("DATABASE_URL", None)
        path = Path(args.sqlite).resolve()
        os.environ["MIBG_DATA_DIR"] = str(path.parent)
        os.environ["MIBG_SQLITE_NAME"] = path.name
    sys.path.insert(0, str(BENCH))
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench_settings"
    import django

    django.setup()
    from django.contrib.auth.models import Group

    from mibg.core.course_state import CourseState
    from mibg.protocol import load_protocol
    from mibg.web.accounts.models import User
    from mibg.web.patients.models import Patient
    from mibg.web.permissions import PHYSICIAN
    from mibg.web.screening.services import RESCREENED_STATES, rescreen_programme

    user, made = User.objects.get_or_create(username="bench-physician", defaults={"printed_name": "Benchmark physician"})
    if made:
        user.set_unusable_password()
        user.save()
        user.groups.set(Group.objects.filter(name=PHYSICIAN))
    protocol = load_protocol()
    if args.site_change:
        protocol = protocol.with_site_parameter("lab_max_age_days", Decimal(1), "bench: a one-day lab window")
    print(f"programme: {Patient.objects.count():,} patients; protocol {protocol.label}")
    for name, states in (("open courses", RESCREENED_STATES), ("every course", tuple(CourseState))):
        times = []
        for _ in range(args.runs):
            report = rescreen_programme(user, protocol, states=states)
            times.append(report.seconds)
        changed = sum(len(c.changes) for c in report.changed)
        print(f"{name}: {report.screened:,} screened of {report.open_courses:,}, {len(report.changed):,} courses with "
              f"{changed:,} changed verdicts; median {statistics.median(times):.2f} s over {args.runs} runs "
              f"({report.screened / statistics.median(times):,.0f} courses/s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

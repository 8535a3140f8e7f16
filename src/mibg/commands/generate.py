"""`mibg generate-programme`: a large synthetic programme, for measuring pages and the API at scale.

Records are clearly synthetic (MRN prefix SYN-, names "Synthetic 00001", staff "synthetic-<role>" who cannot
log in) and the same for a seed and an --as-of date. The command refuses a database that holds any patient,
so synthetic records never sit beside real ones. It uses the configured database (DATABASE_URL for
PostgreSQL, else the SQLite file in MIBG_DATA_DIR/MIBG_SQLITE_NAME), migrating it first.

    mibg generate-programme --patients 5000 --courses 10000 --labs 1000000 --readings --seed 1
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from datetime import date

from mibg.cli import EXIT_BLOCKED, EXIT_OK, fail


def _count(name: str, low: int, high: int) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        try:
            value = int(raw)
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{raw}' is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} is outside {low}-{high} ({name})")
        return value

    return parse


def _day(raw: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{raw}' is not a date (YYYY-MM-DD)") from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--patients", type=_count("--patients", 1, 1_000_000), default=5000,
                        help="synthetic patients (default 5000)")
    parser.add_argument("--courses", type=_count("--courses", 1, 4_000_000), default=10000,
                        help="courses in all, 1 to 4 per patient (default 10000)")
    parser.add_argument("--labs", type=_count("--labs", 0, 100_000_000), default=1_000_000,
                        help="follow-up laboratory results in all (default 1000000)")
    parser.add_argument("--readings", type=_count("--readings", 0, 100_000_000), default=200_000,
                        help="exposure-rate readings in all, shared evenly over the courses from the in-patient "
                             "stay on, at least 2 each (default 200000; 0 for none)")
    parser.add_argument("--seed", type=_count("--seed", 0, 2**31), default=1, help="random seed (default 1)")
    parser.add_argument("--as-of", type=_day, default=None,
                        help="the day the programme is generated 'as of' (default today); with the seed it fixes every record")


def run(args: argparse.Namespace) -> int:
    if not args.patients <= args.courses <= 4 * args.patients:
        return fail(f"generate-programme: --courses {args.courses} must be between --patients ({args.patients}) "
                    f"and 4 x --patients ({4 * args.patients}): every patient has 1 to 4 courses")
    if args.readings > 60 * args.courses:
        # A stay is surveyed a few times a day; beyond 60 per course the readings would be minutes apart.
        return fail(f"generate-programme: --readings {args.readings} must be at most 60 x --courses "
                    f"({60 * args.courses})")
    os.environ.setdefault("MIBG_DEBUG", "1")
    from mibg.commands import serve

    error = serve.setup_django()
    if error:
        return fail(f"generate-programme: {error}")
    from django.db import DatabaseError
    from django.utils import timezone

    if args.as_of is not None and args.as_of > timezone.localdate():
        return fail(f"generate-programme: --as-of {args.as_of} is in the future: results cannot be dated after today")

    try:
        serve.migrate()
    except DatabaseError as db_error:
        return fail(f"generate-programme: the database is not reachable or not usable: {db_error}")
    from django.conf import settings

    from mibg.web.synthetic import GenerateRefused, generate

    database = settings.DATABASES["default"]
    print(f"mibg generate-programme: writing into {database['ENGINE'].rsplit('.', 1)[-1]} database {database['NAME']}",
          flush=True)
    try:
        counts = generate(patients=args.patients, courses=args.courses, labs=args.labs,
                          readings=args.readings, seed=args.seed, as_of=args.as_of,
                          say=lambda line: print(line, flush=True))
    except GenerateRefused as refused:
        print(f"mibg generate-programme: refused: {refused}", flush=True)
        return EXIT_BLOCKED
    states = ", ".join(f"{n} {s}" for s, n in sorted(counts.states.items(), key=lambda kv: -kv[1]))
    print(f"mibg generate-programme: made {counts.patients} patients, {counts.courses} courses ({states}), "
          f"{counts.evaluations} evaluations, {counts.directives} directives, {counts.administrations} administrations, "
          f"{counts.readings} readings, {counts.releases} releases, {counts.labs} laboratory results, "
          f"{counts.audit_events} audit events in {counts.seconds:.1f} s (seed {args.seed}).")
    return EXIT_OK

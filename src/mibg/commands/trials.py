"""`mibg trials similar NCT --json`: the imported related trials most like a record (issue 13 §5).

NCT is this protocol's record (NCT01370330) or any imported related record. Each trial is listed with its
``nct_id``, ``title``, ``score`` and ``reasons`` (shared conditions, interventions, eligibility terms and phase;
mibg.core.similarity). Reads the configured database (DATABASE_URL, or the SQLite file in MIBG_DATA_DIR). Exit 0,
2 for a bad NCT number or an unreachable or unmigrated database.
"""

from __future__ import annotations

import argparse
import json
import sys

from mibg.cli import EXIT_OK, fail


def _limit(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{raw}' is not a whole number") from None
    if not 1 <= value <= 100:
        raise argparse.ArgumentTypeError(f"{value} is not between 1 and 100")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="trials_command", metavar="ACTION", required=True)
    similar = sub.add_parser("similar", help="the most similar imported related trials, each with its reasons",
                             description="the most similar imported related trials, each with its reasons")
    similar.add_argument("nct_id", help="NCT01370330, or an imported related record")
    similar.add_argument("--limit", type=_limit, default=10, help="how many (1-100, default 10)")
    similar.add_argument("--json", action="store_true", help="print the list as JSON")


def run(args: argparse.Namespace) -> int:
    from mibg.commands.serve import setup_django

    error = setup_django()
    if error:
        return fail(f"trials: {error}")
    from django.db import DatabaseError

    from mibg.core.errors import InputError
    from mibg.web.trials.search import similar, target_facts

    try:
        target = target_facts(args.nct_id)
        found = similar(target, limit=args.limit)
    except InputError as bad:
        return fail(f"trials similar: {bad.field}: {bad.message}")
    except DatabaseError as db_error:
        first = str(db_error).strip().splitlines()[0] if str(db_error).strip() else type(db_error).__name__
        return fail(f"trials: the database is not reachable or not migrated ('mibg serve' migrates it): {first}")
    if args.json:
        print(json.dumps({"nct_id": target.nct_id, "similar": [s.as_dict() for s in found]}, indent=2,
                         ensure_ascii=False))
        return EXIT_OK
    out = sys.stdout
    out.write(f"Most similar to {target.nct_id} ({target.title}):\n")
    if not found:
        out.write("  none: import related records with 'mibg protocol import PATH'\n")
    for number, s in enumerate(found, start=1):
        out.write(f"{number:>2}. {s.nct_id}  score {s.score}  {s.title}\n")
        for reason in s.reasons:
            out.write(f"      {reason}\n")
    return EXIT_OK

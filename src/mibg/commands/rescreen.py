"""`mibg rescreen`: screen every open course again and list the verdicts that changed (issue 14).

After a protocol amendment or a site-parameter change: every course not yet given activity is screened again
through the screening service (``mibg.web.screening.services.rescreen_programme``), on the data of its latest
evaluation with the chair decisions recorded since, and each criterion whose verdict differs from the stored one is
listed (course, criterion, old -> new). Read-only: no evaluation is stored. Audited as the user named by ``--by``.
``--protocol FILE`` screens under another definition (an amendment before it is installed).

Exit 0 no verdict changed, 1 some changed, 2 bad input.
"""

from __future__ import annotations

import argparse
import json

from mibg.cli import EXIT_BLOCKED, EXIT_OK, fail


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--by", required=True, metavar="USERNAME",
                        help="the user who re-screens (physician, study chair or coordinator; audited)")
    parser.add_argument("--protocol", metavar="FILE", help="a protocol definition file (default: the one installed)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def run(args: argparse.Namespace) -> int:
    from mibg.commands import serve

    error = serve.setup_django()
    if error:
        return fail(f"rescreen: {error}")
    from django.db import DatabaseError

    try:
        serve.migrate()
    except DatabaseError as db_error:
        return fail(f"rescreen: the database is not reachable or not usable: {db_error}")
    return rescreen(args)


def rescreen(args: argparse.Namespace) -> int:
    from django.contrib.auth import get_user_model
    from django.core.exceptions import PermissionDenied

    from mibg.protocol import load_protocol
    from mibg.web.permissions import require
    from mibg.web.screening import services

    user = get_user_model().objects.filter(username=args.by, is_active=True).first()
    if user is None:
        return fail(f"rescreen: --by: no active user '{args.by}'")
    try:
        require(user, "programme.rescreen")
    except PermissionDenied:
        return fail(f"rescreen: --by: {args.by}'s role does not allow re-screening the programme")
    try:
        protocol = load_protocol(args.protocol) if args.protocol else None
    except (OSError, ValueError, KeyError, TypeError) as error:
        return fail(f"rescreen: --protocol: {args.protocol}: not a readable protocol definition ({error})")
    report = services.rescreen_programme(user, protocol)
    if args.json:
        print(json.dumps(report.to_json(), indent=2))
    else:
        print(f"mibg rescreen: {report.screened} of {report.open_courses} open courses screened under {report.protocol} "
              f"in {report.seconds:.1f} s ({report.not_screened} not screened yet); {len(report.changed)} with changed "
              "verdicts (read-only: nothing stored)")
        for row in report.changed:
            print(f"{row.mrn} course {row.course_number} ({row.state}): {row.old_overall} -> {row.new_overall}")
            for change in row.changes:
                print(f"  {change.criterion} {change.title}: {change.old} -> {change.new}")
    return EXIT_BLOCKED if report.changed else EXIT_OK

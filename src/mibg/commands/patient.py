"""`mibg patient add`: register a patient without the browser (a site loading its patients from another system).

    mibg patient add --by nora --mrn UCSF-0001 --family-name Brown --given-name Ada --birth-date 2018-03-04 --sex female

The same patient service as the patient form, ``POST /api/patients`` and the FHIR import (decisions.md A34: the
MRN trimmed, 1 to 40 characters, one patient per MRN whatever its spaces or case; names 1 to 100 characters; a
possible date of birth), audited as a change by the user named with ``--by``, who must have the right to create
patients. Uses the configured database (DATABASE_URL, or the local SQLite file). Exit 0 stored, 2 refused (one
line naming the field, nothing stored).
"""

from __future__ import annotations

import argparse

from mibg.cli import EXIT_OK, fail


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="patient_command", metavar="ACTION", required=True)
    add = sub.add_parser("add", allow_abbrev=False, help="register a patient (decisions.md A34)",
                         description="register a patient (decisions.md A34)")
    add.add_argument("--by", required=True, metavar="USERNAME", help="the user who registers the patient (audited)")
    add.add_argument("--mrn", required=True, help="medical record number, 1 to 40 characters")
    add.add_argument("--family-name", required=True, help="1 to 100 characters")
    add.add_argument("--given-name", required=True, help="1 to 100 characters")
    add.add_argument("--birth-date", required=True, help="YYYY-MM-DD")
    add.add_argument("--sex", required=True, help="female, male, other or unknown")


def run(args: argparse.Namespace) -> int:
    from mibg.commands import serve

    error = serve.setup_django()
    if error:
        return fail(f"patient: {error}")
    from django.db import DatabaseError

    try:
        serve.migrate()
    except DatabaseError as db_error:
        return fail(f"patient: the database is not reachable or not usable: {db_error}")
    return add(args)


def add(args: argparse.Namespace) -> int:
    """Store the patient through the patient service; one line naming the field when refused."""
    from django.contrib.auth import get_user_model
    from django.core.exceptions import PermissionDenied

    from mibg.core.errors import InputError
    from mibg.web.patients import services
    from mibg.web.permissions import require

    user = get_user_model().objects.filter(username=args.by, is_active=True).first()
    if user is None:
        return fail(f"patient add: --by: no active user '{args.by}'")
    try:
        require(user, "patient.create")
        patient = services.create_patient(user, {"mrn": args.mrn, "family_name": args.family_name,
                                                 "given_name": args.given_name, "birth_date": args.birth_date,
                                                 "sex": args.sex})
    except PermissionDenied:
        return fail(f"patient add: --by: {args.by}'s role does not allow registering a patient")
    except InputError as refused:
        flag = "--" + refused.field.replace("_", "-")
        return fail(f"patient add: {flag}: {refused.message}")
    print(f"mibg patient: added {patient} (id {patient.pk})")
    return EXIT_OK

"""`mibg eligibility PATIENT.json`: every criterion with its status and reason, and the overall result.

Exit 0 eligible, 1 not eligible, 3 incomplete or needs review, 2 bad input (one line naming the field).
The file format is the PatientSnapshot JSON Schema (`mibg schema`; docs/patient-snapshot.md).

The command cannot check who signed a chair decision in the file: such decisions are shown as recorded outside
the application, unverified, the verdict says it depends on them, and a result that would be eligible only
because of them exits 3, as "needs review" (decisions.md A27).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from mibg.cli import EXIT_BLOCKED, EXIT_INCOMPLETE, EXIT_OK, fail


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("patient", help="patient snapshot JSON file (see `mibg schema`), or - for standard input")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def run(args: argparse.Namespace) -> int:
    from datetime import datetime

    from pydantic import ValidationError

    from mibg.core.eligibility import evaluate_eligibility
    from mibg.core.results import Overall
    from mibg.core.snapshot import PatientSnapshot

    try:
        if args.patient == "-":
            text = sys.stdin.read()
        else:
            with open(args.patient, encoding="utf-8") as handle:
                text = handle.read()
    except OSError as error:
        return fail(f"{args.patient}: cannot read the file ({error.strerror})")
    except UnicodeDecodeError as error:
        return fail(f"{args.patient}: not UTF-8 text (byte {error.start}); save the snapshot as UTF-8 JSON")
    try:
        snapshot = PatientSnapshot.model_validate_json(text)
    except ValidationError as error:
        return fail(f"{args.patient}: {_first_error(error)}")
    # Decisions in a file are unverified (A27); today's date warns of a planned treatment date already past.
    result = evaluate_eligibility(snapshot, decisions_signed_in_application=False, today=datetime.now().astimezone().date())
    if args.json:
        json.dump(result.to_json(), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(format_checklist(result, snapshot.patient_id))
    if result.overall is Overall.ELIGIBLE:
        return EXIT_INCOMPLETE if result.unverified_decisions else EXIT_OK
    if result.overall is Overall.NOT_ELIGIBLE:
        return EXIT_BLOCKED
    return EXIT_INCOMPLETE


def _first_error(error: Any) -> str:
    """One line: the first problem with its field path, and how many more there are."""
    problems = error.errors()
    first = problems[0]
    location = ".".join(str(part) for part in first["loc"]) or "(file)"
    message = first["msg"].removeprefix("Value error, ")
    more = f" (and {len(problems) - 1} more problem{'s' if len(problems) > 2 else ''})" if len(problems) > 1 else ""
    if first["type"] == "json_invalid":
        return f"not valid JSON: {message}"
    return f"field {location}: {message}{more}"


_MARK = {"met": "MET", "not met": "NOT MET", "unknown": "UNKNOWN", "needs review": "REVIEW"}


def format_checklist(result: Any, patient_id: str) -> str:
    lines = [f"Eligibility for 131I-MIBG ({result.protocol_label}), patient {patient_id or '(no id)'}, "
             f"treatment date {result.treatment_date}", ""]
    for c in result.criteria:
        mark = _MARK[str(c.status)] if c.applies else "N/A"
        lines.append(f"  {c.id:<3} {mark:<8} {c.title}")
        lines.append(f"               {c.reason}")
        if c.missing:
            lines.append(f"               missing: {', '.join(c.missing)}")
    lines += [""] + [f"Warning: {w}" for w in result.warnings]
    depends = result.verdict.removeprefix(str(result.overall))
    lines += [f"Overall: {str(result.overall).upper()}{depends}", ""]
    if result.unverified_decisions:
        lines.insert(-1, "Only a decision signed in the application by a user with the study-chair role clears a criterion "
                         "there (decisions.md A27).")
    return "\n".join(lines)

"""`mibg eligibility PATIENT.json`: every criterion with its status and reason, and the overall result.

Exit 0 eligible, 1 not eligible, 3 incomplete or needs review, 2 bad input (one line naming the field).
The file format is the PatientSnapshot JSON Schema (`mibg schema`; docs/patient-snapshot.md).
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
    result = evaluate_eligibility(snapshot)
    if args.json:
        json.dump(result.as_dict(), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(format_checklist(result, snapshot.patient_id))
    if result.overall is Overall.ELIGIBLE:
        return EXIT_OK
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
    lines += ["", f"Overall: {str(result.overall).upper()}", ""]
    return "\n".join(lines)

"""`mibg ctcae`: grade one laboratory value with CTCAE v5.0 (clinical-reference §6.1; decisions.md A18).

Stable interface (issue 5): ``--term``, ``--value``, ``--unit``, ``--lln``, ``--uln``, ``--json``; exit 0 with
the grade, exit 2 with one line naming the bad flag. ``--lln`` and ``--uln`` are in the unit of ``--unit``.
Imports only the grading core: no Django, scipy, matplotlib or pydantic.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from mibg.cli import EXIT_OK, fail

TERMS = (
    "neutrophil-count-decreased",
    "platelet-count-decreased",
    "anemia",
    "alanine-aminotransferase-increased",
    "aspartate-aminotransferase-increased",
    "blood-bilirubin-increased",
    "creatinine-increased",
)

# Core field names as the command's flags, for error messages.
_FIELD_FLAGS = {"term": "--term", "test": "--term", "value": "--value", "unit": "--unit", "lln": "--lln", "uln": "--uln"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--term", required=True, metavar="TERM", help=f"CTCAE term: {', '.join(TERMS)}")
    parser.add_argument("--value", required=True, help="the laboratory value, in --unit")
    parser.add_argument(
        "--unit",
        required=True,
        help="unit of --value, --lln and --uln: counts 10^9/L, /uL or /mm3; haemoglobin g/dL or g/L; "
        "bilirubin and creatinine mg/dL or umol/L; ALT and AST U/L",
    )
    parser.add_argument("--lln", help="lower limit of normal reported with the value (decreased terms), in --unit")
    parser.add_argument("--uln", help="upper limit of normal reported with the value (increased terms), in --unit")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def run(args: argparse.Namespace) -> int:
    from mibg.core.ctcae import grade
    from mibg.core.errors import InputError

    try:
        result = grade(args.term, args.value, args.unit, lln=args.lln, uln=args.uln)
    except InputError as error:
        flag = _FIELD_FLAGS.get(error.field, "--" + error.field.replace("_", "-"))
        return fail(f"{flag}: {error.message}")
    if args.json:
        json.dump(result.to_json(), sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(format_result(result))
    return EXIT_OK


def format_result(result: Any) -> str:
    """The readable result: grade, value in canonical units, band, the comparison with numbers, notes."""
    entered = [f"entered {i.value} {i.unit}" for i in result.inputs if i.name == "value"]
    limits = [f"{i.name} {i.value} {i.unit}" for i in result.inputs if i.name in ("LLN", "ULN")]
    lines = [
        f"{result.term_name}: grade {result.grade} ({result.version})",
        f"  Value:       {result.value} {result.unit} ({'; '.join(entered + limits)})",
        f"  Band:        {result.band}",
        f"  Comparison:  {result.comparison}",
    ]
    if result.multiple_of_uln is not None:
        lines.append(f"  x ULN:       {result.multiple_of_uln} (to 0.01, half to even; display only)")
    if result.max_grade_from_value < 4:
        lines.append(f"  Highest grade a value alone can give: {result.max_grade_from_value}")
    lines.append("  Notes:")
    lines += [f"    - {note}" for note in result.notes]
    lines += [f"  Reference:   {result.reference}", ""]
    return "\n".join(lines)

"""`mibg dose`: plan a weight-based dose and check it against every protocol limit.

Stable interface (issue 2): flags, JSON keys and exit status are relied on by scripts. Imports only the
dose planner: no Django, scipy or matplotlib (start-up time is measured by bench/bench_cold_start.py).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from mibg.cli import EXIT_BLOCKED, EXIT_OK, fail
from mibg.core.dosing import DoseRequest, plan_dose
from mibg.core.errors import InputError

DIAGNOSES = ("neuroblastoma", "pheochromocytoma", "paraganglioma", "related_tumor")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from mibg.protocol import load_protocol

    parser.add_argument("--weight-kg", required=True, help="body weight measured for this course, kg")
    parser.add_argument("--mci-per-kg", required=True, help="chosen dose, mCi/kg (protocol range 8-18)")
    parser.add_argument("--diagnosis", choices=DIAGNOSES, default="neuroblastoma")
    parser.add_argument("--preparation", choices=tuple(load_protocol().preparations))  # protocol data
    parser.add_argument("--specific-activity-ci-per-mmol", help="DraxImage lot specific activity, Ci/mmol")
    parser.add_argument("--specific-activity-mci-per-mg", help="AZEDRA lot specific activity, mCi/mg (default 2500)")
    parser.add_argument("--stock-concentration-mci-per-ml",
                        help="the stock's activity concentration at its calibration time, mCi/mL (decisions.md A38)")
    parser.add_argument("--volume-ml", help="final infusion volume (drug plus normal saline), mL")
    parser.add_argument("--infusion-min", help="infusion duration, minutes")
    parser.add_argument("--cd34-per-kg", help="stored PBSC, CD34+ cells per kg of current weight")
    parser.add_argument("--marrow-mnc-per-kg", help="stored marrow, mononuclear cells per kg of current weight")
    parser.add_argument("--prior-mci-per-kg", default="0", help="sum of earlier courses' administered mCi/kg")
    parser.add_argument("--last-mibg-date", help="date of the last 131I-MIBG infusion, YYYY-MM-DD")
    parser.add_argument("--treatment-date", help="planned treatment date, YYYY-MM-DD")
    parser.add_argument("--calibration-time", help="product calibration time, ISO 8601 with UTC offset")
    parser.add_argument("--administration-time", help="planned administration time, ISO 8601 with UTC offset")
    parser.add_argument("--chair-cleared", action="append", default=[], metavar="RULE",
                        help="a rule (S2 at exactly 12 mCi/kg, R2) cleared by a recorded study-chair decision")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _parse(args: argparse.Namespace) -> dict[str, Any]:
    from mibg.core.units import parse_aware_datetime, parse_date, parse_decimal
    from mibg.core.vocabulary import DiagnosisKind

    def decimal_or_none(name: str) -> Decimal | None:
        raw = getattr(args, name)
        return None if raw is None else parse_decimal(_flag(name), raw)

    def optional(name: str, parser: Callable[[str, object], Any]) -> Any:
        raw = getattr(args, name)
        return None if raw is None else parser(_flag(name), raw)

    return {
        "weight_kg": parse_decimal("--weight-kg", args.weight_kg),
        "mci_per_kg": parse_decimal("--mci-per-kg", args.mci_per_kg),
        "diagnosis": DiagnosisKind(args.diagnosis),
        "preparation": args.preparation,
        "specific_activity_ci_per_mmol": decimal_or_none("specific_activity_ci_per_mmol"),
        "specific_activity_mci_per_mg": decimal_or_none("specific_activity_mci_per_mg"),
        "stock_concentration_mci_per_ml": decimal_or_none("stock_concentration_mci_per_ml"),
        "final_volume_ml": decimal_or_none("volume_ml"),
        "infusion_min": decimal_or_none("infusion_min"),
        "cd34_per_kg": decimal_or_none("cd34_per_kg"),
        "marrow_mnc_per_kg": decimal_or_none("marrow_mnc_per_kg"),
        "prior_mci_per_kg": parse_decimal("--prior-mci-per-kg", args.prior_mci_per_kg),
        "last_mibg_date": optional("last_mibg_date", parse_date),
        "treatment_date": optional("treatment_date", parse_date),
        "calibration_time": optional("calibration_time", parse_aware_datetime),
        "administration_time": optional("administration_time", parse_aware_datetime),
        "chair_clearances": _clearances(args.chair_cleared),
    }


def _clearances(rules: list[str]) -> frozenset[str]:
    """The rules named by --chair-cleared; a rule the chair cannot clear (or no rule at all) is bad input, never
    silently ignored: a typo would otherwise leave a block in place that the user believes cleared."""
    from mibg.protocol import load_protocol

    clearable = sorted(limit.id for limit in load_protocol().dose_limits if limit.chair_clearable)
    for rule in rules:
        if rule.upper() not in clearable:
            raise InputError("--chair-cleared", f"{rule!r} is not a rule the study chair can clear ({', '.join(clearable)})")
    return frozenset(rule.upper() for rule in rules)


# The planner's field names as the command's flags, for error messages.
_FIELD_FLAGS = {"final_volume_ml": "--volume-ml", "weight_kg": "--weight-kg", "mci_per_kg": "--mci-per-kg"}


def run(args: argparse.Namespace) -> int:
    try:
        plan = plan_dose(DoseRequest(**_parse(args)))
    except InputError as error:
        field = _FIELD_FLAGS.get(error.field, error.field if error.field.startswith("--") else _flag(error.field))
        return fail(f"{field}: {error.message}")
    if args.json:
        json.dump(plan.to_json(), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(format_sheet(plan))
    return EXIT_BLOCKED if plan.blocked else EXIT_OK


def format_sheet(plan: Any) -> str:
    """The readable dose sheet: result, formulas with their numbers, every finding."""
    from mibg.core.units import DISPLAY_RULE

    r = plan.request
    lines = [
        f"131I-MIBG dose plan ({plan.protocol_label})",
        "",
        f"  Status:            {plan.status.upper()}",
        f"  Patient:           {r.weight_kg} kg, {r.diagnosis}",
        f"  Dose:              {r.mci_per_kg} mCi/kg",
        f"  Activity:          {plan.activity.display()}",
    ]
    if plan.max_activity is not None:
        lines.append(f"  Largest allowed:   {plan.max_activity_reason}")
    lines.append(f"  Cumulative:        {plan.cumulative_mci_per_kg} mCi/kg")
    if plan.calibration is not None:
        lines.append(f"  Draw at calibration: {plan.calibration.activity_to.display()} at {r.calibration_time.isoformat()}")
    lines += ["", "Calculations:"]
    for calc in plan.calculations:
        lines.append(f"  {calc.name}: {calc.formula}")
    lines += ["", "Findings:"]
    for f in plan.findings:
        lines.append(f"  [{f.severity.value.upper():5}] {f.rule}: {f.message}")
    lines += ["", f"Rounding for display: {DISPLAY_RULE}.", ""]
    return "\n".join(lines)

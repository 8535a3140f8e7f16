"""`mibg dosimetry READINGS.csv --administered-mci A --weight-kg W`: whole-body dosimetry and release assessment
from exposure-rate readings at 1 m (clinical-reference §3, §4; decisions.md "Radiation safety and dosimetry").

READINGS.csv has a header with the columns ``hours`` (hours after the start of the infusion), ``mrem_per_h``
(at 1 m) and, optionally, ``background_mrem_per_h`` (an empty cell means 0). The first row is the reading after
the end of the infusion and before the first void.

Stable interface (issue 4): flags, JSON keys and exit status are relied on by scripts. Exit 0 on success, 2
with one line on stderr naming the flag or column for bad input. scipy is imported only when the fit runs.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from mibg.cli import EXIT_OK, fail

if TYPE_CHECKING:
    from mibg.core.dosimetry import Reading, RetentionFit, WholeBodyDose
    from mibg.core.release import ReleaseAssessment
    from mibg.protocol import ProtocolDefinition

REQUIRED_COLUMNS = ("hours", "mrem_per_h")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("readings", metavar="READINGS.csv",
                        help="CSV with a header: hours (after the start of the infusion), mrem_per_h (at 1 m), "
                        "optional background_mrem_per_h")
    parser.add_argument("--administered-mci", required=True, metavar="A", help="administered activity A0, mCi")
    parser.add_argument("--weight-kg", required=True, metavar="W", help="current body weight, kg")
    parser.add_argument("--infusion-start", metavar="ISO",
                        help="start of the infusion, ISO 8601 with UTC offset: predicted times are also shown as dates")
    parser.add_argument("--photon-absorbed-fraction", metavar="F",
                        help="phi, 0 to 1 (default: the site parameter, 0.25)")
    parser.add_argument("--site-limit-mrem-per-h", metavar="L",
                        help="site release limit at 1 m, mR/h (default: the site parameter, 2)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def run(args: argparse.Namespace) -> int:
    from mibg.core.errors import InputError

    try:
        report = _compute(args)
    except InputError as error:
        return fail(" ".join(str(error).split()))
    if args.json:
        json.dump(report.to_json(), sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(report.sheet())
    return EXIT_OK


class _Report:
    """The three results of one run, and how the command shows them."""

    def __init__(
        self,
        protocol: ProtocolDefinition,
        retention: RetentionFit,
        dose: WholeBodyDose,
        release: ReleaseAssessment,
        infusion_start: datetime | None,
    ) -> None:
        self.protocol = protocol
        self.retention = retention
        self.dose = dose
        self.release = release
        self.infusion_start = infusion_start

    def clock(self, hours: float | Decimal) -> str | None:
        from mibg.core.release import clock_time

        return None if self.infusion_start is None else clock_time(self.infusion_start, hours).isoformat()

    def to_json(self) -> dict[str, Any]:
        """A summary for reading, then the three results in their one exact shape (mibg.core.serial): exact
        values as text, fitted values as JSON numbers."""
        from mibg.core.serial import dec, num

        r, d, rel = self.retention, self.dose, self.release
        summary: dict[str, Any] = {
            "protocol": self.protocol.label,
            "administered_mci": dec(d.administered.mci),
            "administered_mbq": dec(d.administered.mbq),
            "weight_kg": dec(d.weight_kg),
            "model": r.model,
            "effective_half_life_h": num(r.effective_half_life_h),
            "effective_half_life_se_h": num(r.effective_half_life_se_h),
            "tiac_h": num(r.tiac_h),
            "tiac_se_h": num(r.tiac_se_h),
            "fit": {"model": r.model, "components": [c.to_json() for c in r.components],
                    "aicc": num(r.curve.aicc) if r.curve else None},
            "whole_body_dose_gy": num(d.dose_gy),
            "whole_body_dose_se_gy": num(d.dose_se_gy),
            "whole_body_dose_electron_only_gy": num(d.electron_only_gy),
            "photon_absorbed_fraction": dec(d.photon_absorbed_fraction),
            "dose_method": d.method,
            "as_of_h": dec(rel.as_of_h),
            "releasable_now": {"federal": rel.releasable_federal, "site": rel.releasable_site},
            "predicted_release_site_h": num(rel.predicted_release_site_h),
            "predicted_release_federal_h": num(rel.predicted_release_federal_h),
            "retained_mci": dec(rel.retained.mci),
            "retained_mbq": dec(rel.retained.mbq),
            "caregiver_dose_msv": dec(rel.dose_to_others.msv),
            "caregiver_dose_effective_half_life_msv": dec(rel.dose_to_others_effective.msv),
            "written_instructions_required": rel.instructions_issued,
            "release_record_required": rel.record_required,
        }
        if self.infusion_start is not None:
            summary["infusion_start"] = self.infusion_start.isoformat()
            summary["as_of_at"] = self.clock(rel.as_of_h)
            summary["predicted_release_site_at"] = self.clock(rel.predicted_release_site_h)
            summary["predicted_release_federal_at"] = self.clock(rel.predicted_release_federal_h)
        summary["findings"] = [f.to_json() for f in (*rel.findings,)]
        summary["retention"] = r.to_json()
        summary["whole_body_dose"] = d.to_json()
        summary["release"] = rel.to_json()
        return summary

    def sheet(self) -> str:
        return "\n".join([*self._heading(), *self._retention_lines(), *self._dose_lines(), *self._release_lines(),
                          *self._finding_lines(), ""])

    def _heading(self) -> list[str]:
        d = self.dose
        start = f", infusion started {self.infusion_start.isoformat()}" if self.infusion_start else ""
        return [
            f"131I-MIBG whole-body dosimetry and release ({self.protocol.label})",
            "",
            f"  Administered A0:   {d.administered.display()}",
            f"  Weight:            {d.weight_kg} kg{start}",
            "",
        ]

    def _retention_lines(self) -> list[str]:
        r = self.retention
        lines = ["Readings at 1 m (net = reading - background; r = net / first net):",
                 "     t (h)   net mR/h          r"]
        lines += [f"  {float(p.hours):8.2f}   {float(p.net_mrem_per_h):10.3f}   {float(p.retention):8.4f}" for p in r.points]
        lines += ["", f"Retention model: {r.model} ({r.method})"]
        for i, c in enumerate(r.components, start=1):
            lines.append(f"  component {i}: a = {c.amplitude:.4g} +/- {_se(c.amplitude_se)}, lambda = {c.decay_per_h:.5g} "
                         f"+/- {_se(c.decay_per_h_se)} /h, T = {c.half_life_h:.4g} +/- {_se(c.half_life_se_h)} h")
        lines.append(f"  Effective half-life:   {r.effective_half_life_h:.4g} +/- {_se(r.effective_half_life_se_h)} h")
        lines.append(f"  tau (0 to infinity):   {r.tiac_h:.4g} +/- {_se(r.tiac_se_h)} h")
        lines += [f"  note: {n}" for n in r.notes]
        lines += ["", "Calculations (retention):"] + [_calculation_line(c) for c in r.calculations]
        return [*lines, ""]

    def _dose_lines(self) -> list[str]:
        d = self.dose
        return [
            f"Whole-body dose ({d.method}):",
            f"  D = {d.dose_gy:.3g} +/- {_se(d.dose_se_gy)} Gy at phi = {d.photon_absorbed_fraction}; "
            f"electrons only (phi = 0, lower bound) {d.electron_only_gy:.3g} Gy",
            *[f"  note: {n}" for n in d.notes],
            "Inputs (dose):",
            *[f"  {i}" for i in d.calculations[-1].inputs],
            "Calculations (dose):",
            *[_calculation_line(c, with_inputs=False) for c in d.calculations],
            "",
        ]

    def _release_lines(self) -> list[str]:
        rel = self.release
        now = self.clock(rel.as_of_h)
        lines = [
            f"Release as of the last reading, {rel.as_of_h} h{f' ({now})' if now else ''}:",
            f"  Federal (10 CFR 35.75): {'RELEASABLE' if rel.releasable_federal else 'NOT releasable'}; "
            f"site ({rel.site_limit_mrem_per_h} mR/h): {'RELEASABLE' if rel.releasable_site else 'NOT releasable'}",
        ]
        for c in rel.criteria:
            at = self.clock(c.predicted_h)
            projection = "" if c.projected_from_last_two_h is None else (
                f"; last two readings project {c.projected_from_last_two_h:.1f} h")
            first = "" if c.first_met_h is None else f"; first met at the {c.first_met_h} h reading"
            lines.append(f"  [{'met' if c.met else 'not met':7}] {c.title} ({c.scope}): {c.value:.4g} {c.unit} vs "
                         f"{c.limit} {c.unit}{first}; predicted {c.predicted_h:.1f} h{f' ({at})' if at else ''}"
                         f"{projection}")
        site_at, federal_at = self.clock(rel.predicted_release_site_h), self.clock(rel.predicted_release_federal_h)
        lines += [
            f"  Predicted release: federal {rel.predicted_release_federal_h:.1f} h{f' ({federal_at})' if federal_at else ''}"
            f", site {rel.predicted_release_site_h:.1f} h{f' ({site_at})' if site_at else ''} (hours after the start of "
            "the infusion)",
            f"  Retained activity: {rel.retained.display()}",
            f"  Dose to others: {_calculation_line(rel.dose_to_others.calculation).strip()}",
            f"    with the effective half-life: {rel.dose_to_others_effective.calculation.formula} "
            f"({rel.dose_to_others_effective.basis})",
            f"    if released at the site limit: {rel.dose_to_others_at_site_limit.calculation.formula}",
            f"  Written instructions: issued (decisions.md); required by 10 CFR 35.75(b) (> 1 mSv): "
            f"{'yes' if rel.instructions_required_by_rule else 'no'}",
            f"  Release record (10 CFR 35.2075(a)): {'required' if rel.record_required else 'not required'}"
            + "".join(f"; {reason}" for reason in rel.record_reasons),
            "Calculations (release):",
            *[_calculation_line(c) for c in rel.calculations],
            "",
        ]
        return lines

    def _finding_lines(self) -> list[str]:
        findings = self.release.findings
        return ["Findings:", *[f"  [{f.severity.value.upper():5}] {f.rule}: {f.message}" for f in findings]]


def _se(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2g}"


def _calculation_line(calculation: Any, with_inputs: bool = True) -> str:
    inputs = "; ".join(str(i) for i in calculation.inputs) if with_inputs else ""
    return f"  {calculation.name} = {calculation.value} {calculation.unit}: {calculation.formula}" + (
        f" [inputs: {inputs}]" if inputs else "")


def _compute(args: argparse.Namespace) -> _Report:
    from mibg.core.dosimetry import retention_fit, whole_body_dose
    from mibg.core.release import release_assessment
    from mibg.core.units import (
        Activity,
        parse_activity_mci,
        parse_aware_datetime,
        parse_decimal,
        parse_weight_kg,
    )
    from mibg.protocol import load_protocol

    administered = Activity(parse_activity_mci(args.administered_mci, "--administered-mci"))
    weight = parse_weight_kg(args.weight_kg, "--weight-kg")
    phi = None if args.photon_absorbed_fraction is None else parse_decimal(
        "--photon-absorbed-fraction", args.photon_absorbed_fraction, minimum=Decimal(0), maximum=Decimal(1))
    site_limit = None if args.site_limit_mrem_per_h is None else parse_decimal(
        "--site-limit-mrem-per-h", args.site_limit_mrem_per_h, minimum=Decimal(0), allow_zero=False, unit="mR/h")
    start = None if args.infusion_start is None else parse_aware_datetime("--infusion-start", args.infusion_start)
    readings = read_readings(args.readings)
    protocol = load_protocol()
    retention = retention_fit(readings, protocol)
    dose = whole_body_dose(administered, weight, retention, protocol, phi)
    release = release_assessment(administered, retention, protocol, site_limit)
    return _Report(protocol, retention, dose, release, start)


def read_readings(path: str) -> list[Reading]:
    """The readings of a CSV file; :class:`InputError` naming the file and the column or line otherwise."""
    from mibg.core.errors import InputError

    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            text = handle.read()
    except OSError as error:
        raise InputError(path, f"cannot read the file ({error.strerror or error})") from None
    except UnicodeDecodeError:
        raise InputError(path, "is not UTF-8 text") from None
    try:
        return _parse_rows(path, csv.reader(io.StringIO(text, newline="")))
    except csv.Error as error:
        raise InputError(path, f"is not valid CSV ({error})") from None
    except InputError as error:
        raise InputError(f"{path}: {error.field}", error.message) from None


def _parse_rows(path: str, reader: Any) -> list[Reading]:
    from mibg.core.dosimetry import COLUMNS, reading_from_row
    from mibg.core.errors import InputError

    header = next((row for row in reader if any(cell.strip() for cell in row)), None)
    if header is None:
        raise InputError("header", f"the file is empty; expected the header {','.join(COLUMNS)}")
    names = [cell.strip() for cell in header]
    for name in names:
        if name not in COLUMNS:
            raise InputError("header", f"unknown column '{name}'; the columns are {', '.join(COLUMNS)}")
    if len(set(names)) != len(names):
        raise InputError("header", "a column appears twice")
    for name in REQUIRED_COLUMNS:
        if name not in names:
            raise InputError("header", f"the column '{name}' is missing; the columns are {', '.join(COLUMNS)}")
    readings = []
    for row in reader:
        if not any(cell.strip() for cell in row):
            continue
        label = f"line {reader.line_num}"
        if len(row) != len(names):
            raise InputError(label, f"has {len(row)} values; the header has {len(names)}")
        readings.append(reading_from_row(dict(zip(names, row, strict=True)), label))
    return readings

"""The written directive and order sheet (10 CFR 35.40) with its independent verification (10 CFR 35.41).

Shows the patient's identifiers, the weight and the day it was measured, mCi/kg, the activity in mCi with
MBq and GBq beside it, the preparation, lot and specific activity, the MIBG mass, volumes, duration, rate,
the activity to draw at the calibration time, every calculation written out with its numbers, the
planner's findings, the electronic signatures and the verification.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from reportlab.lib import colors
from reportlab.platypus import Flowable, KeepTogether, Spacer

from mibg.core.decay import DecayCorrection
from mibg.core.dosing import DosePlan
from mibg.reports.errors import ReportInputError
from mibg.reports.numbers import activity_text, as_entered, exact, show, when
from mibg.reports.pdf.common import (
    DocumentSpec,
    banner,
    fields,
    grid,
    heading,
    markup,
    p,
    para_text,
    render,
    rounding_note,
    signature_block,
)
from mibg.reports.prescription import prescribed_dose
from mibg.reports.record import CourseRecord, Directive

TITLE = "Written directive and order sheet"
SEVERITY_ORDER = {"block": 0, "warn": 1, "info": 2}


def directive_pdf(course: CourseRecord) -> bytes:
    """The written directive of ``course`` as PDF bytes."""
    directive = course.directive
    if directive is None:
        raise ReportInputError("course.directive", "no written directive is recorded for this course")
    spec = DocumentSpec(TITLE, course.patient, course.protocol_label, course.document_time,
                        course.course_number, course.site)
    return render(spec, directive_story(course, directive))


def directive_story(course: CourseRecord, directive: Directive) -> list[Flowable]:
    dose = prescribed_dose(directive)
    story: list[Flowable] = [p(f"{TITLE}: course {course.course_number}", "title"),
                             p("10 CFR 35.40 written directive for a therapeutic dosage of unsealed byproduct "
                               "material; independent verification per 10 CFR 35.41.", "small")]
    for text, colour in _warnings(directive, dose):
        story.append(banner(text, colour))
        story.append(Spacer(1, 3))
    story.append(heading("Patient"))
    patient = course.patient
    story.append(fields([
        ("Name", patient.display_name),
        ("MRN", patient.mrn),
        ("Date of birth; sex", f"{patient.birth_date.isoformat()}; {patient.sex_word}"),
        ("Diagnosis", course.diagnosis),
        ("Course", str(course.course_number)),
    ]))
    story.append(heading("Prescription"))
    story.append(fields(_prescription_rows(directive, dose)))
    story.append(heading("Calculations (formula with the numbers)"))
    story.append(_calculations(dose))
    story.append(heading("Findings of the dose planner"))
    story.append(_findings(dose))
    story.append(signature_block("Authorised user's signature", directive.signatures,
                                 blank_roles=() if directive.signatures else ("Authorised user (physician)",)))
    story.append(_verification(directive))
    if course.orders:
        story.append(heading("Supportive-care orders (the protocol's care plan)"))
        story.append(_orders(course))
    story.append(Spacer(1, 6))
    story.append(rounding_note())
    return story


def _warnings(directive: Directive, dose: DosePlan) -> list[tuple[str, str]]:
    warnings = []
    if dose.blocked:
        warnings.append(("BLOCKED: the plan fails a protocol limit (see findings). This is not a valid "
                         "directive.", "#b71c1c"))
    if not directive.signatures:
        warnings.append(("NOT SIGNED: not valid for administration until the authorised user signs.", "#8d6e00"))
    verification = directive.verification
    if verification is None:
        warnings.append(("Independent verification pending (10 CFR 35.41).", "#8d6e00"))
    elif not verification.accepted:
        warnings.append(("Independent verification did NOT match: do not administer.", "#b71c1c"))
    return warnings


def _prescription_rows(directive: Directive, dose: DosePlan) -> list[tuple[str, object]]:
    activity = markup(f"<font size=11><b>{para_text(activity_text(dose.activity.mci))}</b></font>", "cell")
    rows: list[tuple[str, object]] = [
        ("Radiopharmaceutical", "131I-MIBG (iobenguane I-131)"),
        ("Preparation", directive.preparation),
        ("Lot", directive.lot or "-"),
        ("Specific activity", f"{exact(directive.specific_activity)} {directive.specific_activity_unit}"
         if directive.specific_activity is not None else "-"),
        ("Body weight", f"{as_entered(directive.weight_kg)} kg (measured {directive.weight_measured_on.isoformat()})"),
        ("Dose per body weight", f"{exact(dose.request.mci_per_kg)} mCi/kg ({exact(dose.request.mci_per_kg * 37)} MBq/kg)"),
        ("Activity to administer", activity),
        ("Route", f"{directive.route}, via {directive.access}"),
        ("MIBG mass (free base)", f"{show(dose.mibg_mass_mg, 4)} mg" if dose.mibg_mass_mg is not None else "-"),
        ("Stock concentration at calibration", f"{exact(dose.request.stock_concentration_mci_per_ml)} mCi/mL"
         if dose.request.stock_concentration_mci_per_ml is not None else "-"),
        ("Volume to draw at calibration time", f"{show(dose.drug_volume_ml, 2)} mL"
         if dose.drug_volume_ml is not None else "-"),
        ("Diluent (0.9 % NaCl) to the final volume", f"{show(dose.diluent_volume_ml, 2)} mL"
         if dose.diluent_volume_ml is not None else "-"),
        ("Final infusion volume", f"{exact(dose.request.final_volume_ml)} mL" if dose.request.final_volume_ml is not None else "-"),
        ("Infusion duration", f"{exact(dose.request.infusion_min)} min" if dose.request.infusion_min is not None else "-"),
        ("Infusion rate", f"{show(dose.infusion_rate_ml_per_h, 2)} mL/h"
         if dose.infusion_rate_ml_per_h is not None else "-"),
        ("Planned administration time", when(dose.request.administration_time)),
        ("Calibration time", when(dose.request.calibration_time)),
        ("Activity to draw at calibration time",
         _drawn(dose.calibration) if dose.calibration is not None else "-"),
        ("Cumulative 131I-MIBG incl. this course", f"{show(dose.cumulative_mci_per_kg, 2)} mCi/kg"),
        ("Stored stem cells adequate", "yes" if dose.stem_cells_adequate else "no"),
        ("Largest activity the protocol allows", dose.max_activity_reason or "-"),
        ("Plan status; protocol", f"{dose.status}; {dose.protocol_label}"),
    ]
    return rows


def _drawn(calibration: DecayCorrection) -> str:
    """``428.6 mCi (...) (decay factor 1.082440417; calibration 22 h before administration; T1/2 8.0207 d)``."""
    # elapsed_hours runs from administration to calibration: negative when the lot is calibrated first.
    direction = "before" if calibration.elapsed_hours < 0 else "after"
    return (f"{activity_text(calibration.activity_to.mci)} (decay factor {calibration.factor}; calibration "
            f"{show(abs(calibration.elapsed_hours), 3)} h {direction} administration; "
            f"T1/2 {exact(calibration.half_life_days)} d)")


def _calculations(dose: DosePlan) -> Flowable:
    if not dose.calculations:
        return p("No calculations recorded.")
    return grid(["Quantity", "Formula with the numbers", "Result"],
                [[c.name, c.formula, f"{_short(c.value)} {c.unit}"] for c in dose.calculations],
                [0.2, 0.62, 0.18])


def _short(value: object) -> str:
    """Calculation values arrive as exact decimal text; long ones are shortened to 6 decimals for display."""
    try:
        return show(Decimal(str(value)), 6)
    except (InvalidOperation, ValueError):
        return str(value)


def _findings(dose: DosePlan) -> Flowable:
    if not dose.findings:
        return p("No findings.")
    ordered = sorted(dose.findings, key=lambda f: SEVERITY_ORDER.get(str(f.severity), 3))
    colours = {"block": "#f6d5d5", "warn": "#fff1c9"}
    return grid(["Rule", "Severity", "Finding"],
                [[f.rule, str(f.severity), f.message + (f" (cleared by {f.cleared_by})" if f.cleared_by else "")]
                 for f in ordered],
                [0.08, 0.1, 0.82],
                [colors.HexColor(colours[str(f.severity)]) if str(f.severity) in colours else None for f in ordered])


def _orders(course: CourseRecord) -> Flowable:
    """The order set placed from this directive (issue 13): each order with its dose, schedule and source."""
    rows = []
    for o in course.orders:
        dose = f"{o.dose} [{o.dose_status}]" if o.dose else ""
        end = f" to {when(o.end)}" if o.end is not None else ""
        rows.append([o.name, dose, f"{o.schedule} ({when(o.start)}{end})", f"{o.instructions} Source: {o.source}"])
    return grid(["Order", "Dose", "Schedule", "Instructions and source"], rows, [0.2, 0.2, 0.25, 0.35])


def _verification(directive: Directive) -> Flowable:
    parts: list[Flowable] = [heading("Independent verification (10 CFR 35.41)")]
    v = directive.verification
    if v is None:
        parts.append(p("Not yet verified.", "body"))
        parts.append(grid(["Role", "Printed name", "Signature", "Date and time"],
                          [["Verifier (physicist or pharmacist)", "", "", ""]], [0.26, 0.24, 0.28, 0.22]))
        return KeepTogether(parts)
    rows: list[tuple[str, object]] = [
        ("Result", "MATCHES the directive" if v.accepted else "DOES NOT MATCH the directive"),
        ("Detail", v.message),
    ]
    if v.second_weight_kg is not None:
        rows.append(("Weight entered by the verifier", f"{as_entered(v.second_weight_kg)} kg"))
    if v.second_mci_per_kg is not None:
        rows.append(("Dose entered by the verifier", f"{exact(v.second_mci_per_kg)} mCi/kg"))
    rows += [
        ("Verified by", f"{v.verifier.printed_name} ({v.verifier.role})"),
        ("Signed", when(v.verifier.signed_at)),
        ("Meaning", v.verifier.meaning),
    ]
    parts.append(fields(rows))
    return KeepTogether(parts)

"""The administration and release record: assay, infusion, residual, administered activity, deviations,
exposure-rate readings with their plot, and the basis of release.

Assay tolerance per 10 CFR 35.63; administered activity and possible medical event per decisions.md
"Administered activity" (10 CFR 35.3045); release per 10 CFR 35.75 and 35.2075 (clinical-reference §3).
"""

from __future__ import annotations

from decimal import Decimal

from reportlab.platypus import Flowable, KeepTogether, Spacer

from mibg.protocol import load_protocol
from mibg.reports.errors import ReportInputError
from mibg.reports.numbers import activity_text, as_entered, exact, show, when
from mibg.reports.pdf.common import (
    DocumentSpec,
    banner,
    fields,
    grid,
    heading,
    p,
    png,
    render,
    rounding_note,
    signature_block,
)
from mibg.reports.plots import readings_png
from mibg.reports.prescription import prescribed_dose
from mibg.reports.record import AssayMeasurement, CourseRecord

TITLE = "Administration and release record"


def administration_record_pdf(course: CourseRecord) -> bytes:
    """The administration and release record of ``course`` as PDF bytes."""
    if course.administration is None and course.assay is None:
        raise ReportInputError("course.administration", "neither an assay nor an administration is recorded")
    spec = DocumentSpec(TITLE, course.patient, course.protocol_label, course.document_time,
                        course.course_number, course.site)
    story: list[Flowable] = [p(f"{TITLE}: course {course.course_number}", "title")]
    story += administration_story(course)
    story.append(Spacer(1, 6))
    story.append(rounding_note())
    return render(spec, story)


def administration_story(course: CourseRecord) -> list[Flowable]:
    story: list[Flowable] = []
    administration = course.administration
    assay = course.assay
    if administration is not None and administration.possible_medical_event:
        threshold = load_protocol().site("medical_event_percent")  # 20 %, 10 CFR 35.3045: the definition's number
        story.append(banner("POSSIBLE MEDICAL EVENT (10 CFR 35.3045): the administered activity differs from the "
                            f"prescription by {threshold} % or more. Open until a physician reviews it.", "#b71c1c"))
        story.append(Spacer(1, 3))
    if assay is not None and assay.within_tolerance is False:
        story.append(banner("Assay outside the 10 CFR 35.63 tolerance: administration stopped unless the "
                            "authorised user directed otherwise (see the record).", "#b71c1c"))
        story.append(Spacer(1, 3))
    rows: list[tuple[str, object]] = [("Patient", course.patient.identifier_line)]
    if course.directive is not None:
        dose = prescribed_dose(course.directive)
        rows.append(("Prescribed activity", f"{activity_text(dose.activity.mci)} = {exact(dose.request.mci_per_kg)} mCi/kg "
                                            f"x {exact(dose.request.weight_kg)} kg"))
        rows.append(("Preparation; lot", f"{course.directive.preparation}; {course.directive.lot or '-'}"))
    story.append(fields(rows))
    if assay is not None:
        story.append(heading("Assay before administration (10 CFR 35.63)"))
        assay_rows: list[tuple[str, object]] = [
            ("Lot; lot calibration time", f"{assay.lot}; {when(assay.lot_calibration_time)}"),
            *_measurement_rows("Pre-administration assay", assay.pre),
            ("Within tolerance", {True: "yes", False: "NO", None: "-"}[assay.within_tolerance]),
        ]
        if assay.message:
            assay_rows.append(("Check", assay.message))
        story.append(fields(assay_rows))
        if assay.signature is not None:
            story.append(signature_block("Assayed by", (assay.signature,)))
    if administration is not None:
        story.append(heading("Administration"))
        minutes = (administration.end - administration.start).total_seconds() / 60
        admin_rows: list[tuple[str, object]] = [
            ("Start; end", f"{when(administration.start)}; {when(administration.end)} ({minutes:.0f} min)"),
            ("Route", f"{administration.route}, via {administration.access}"),
            ("Volume infused", f"{exact(administration.volume_ml)} mL" if administration.volume_ml is not None else "-"),
        ]
        if administration.residual is not None:
            admin_rows += _measurement_rows("Residual assay", administration.residual)
        admin_rows += [
            ("Administered activity", activity_text(administration.administered_mci)),
            ("Difference from prescription", f"{show(administration.deviation_percent, 2)} %"
             if administration.deviation_percent is not None else "-"),
            ("Possible medical event", "YES" if administration.possible_medical_event else "no"),
            ("Deviations", "; ".join(administration.deviations) if administration.deviations else "none recorded"),
        ]
        story.append(fields(admin_rows))
        if administration.signature is not None:
            story.append(signature_block("Administered by", (administration.signature,)))
    story += readings_story(course)
    story += release_story(course)
    return story


def _measurement_rows(label: str, m: AssayMeasurement) -> list[tuple[str, object]]:
    rows: list[tuple[str, object]] = [
        (label, f"{activity_text(m.activity_mci)} at {when(m.measured_at)}"),
        (f"{label}: dose calibrator", m.calibrator),
    ]
    if m.corrected_mci is not None:
        rows.append((f"{label}: decay-corrected to the start", activity_text(m.corrected_mci)))
    return rows


def readings_story(course: CourseRecord) -> list[Flowable]:
    if not course.readings:
        return []
    start = course.administration.start if course.administration else course.readings[0].measured_at
    story: list[Flowable] = [heading("Exposure-rate readings at 1 m")]
    story.append(grid(
        ["Time", "Hours from the start of the infusion", "Exposure rate at 1 m (mR/h)", "Note"],
        [[when(r.measured_at), f"{(r.measured_at - start).total_seconds() / 3600:.1f}", as_entered(r.mr_per_h_at_1m),
          r.note] for r in course.readings],
        [0.28, 0.2, 0.2, 0.32],
    ))
    image = course.plots.readings_png
    if image is None and len(course.readings) >= 2:
        image = readings_png(course.readings, start, _release_limits())
    if image is not None:
        story.append(Spacer(1, 4))
        story.append(KeepTogether([png(image)]))
    return story


def _release_limits() -> list[tuple[str, Decimal]]:
    protocol = load_protocol()
    limits: list[tuple[str, Decimal]] = []
    for name, label in (("site_release_limit_mrem_per_h", "site limit"),
                        ("federal_release_dose_rate_mrem_per_h", "federal limit")):
        value = protocol.site_or_none(name)
        if value is not None:
            limits.append((label, value))
    return limits


def release_story(course: CourseRecord) -> list[Flowable]:
    release = course.release
    if release is None:
        return []
    story: list[Flowable] = [heading("Release (10 CFR 35.75; record per 10 CFR 35.2075)")]
    story.append(fields([
        ("Released at", when(release.released_at)),
        ("Basis", release.basis),
        ("Criterion", release.criterion),
        ("Last reading at 1 m", f"{exact(release.last_reading_mr_per_h_at_1m)} mR/h"
         if release.last_reading_mr_per_h_at_1m is not None else "-"),
        ("Written instructions to the parent or guardian", "given" if release.instructions_given else "NOT given"),
    ]))
    if release.signature is not None:
        story.append(signature_block("Release authorised by", (release.signature,)))
    return story

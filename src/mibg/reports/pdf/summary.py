"""The course summary: eligibility, directive, administration and release, then whole-body dosimetry,
blood-count recovery, worst CTCAE grades, adverse events, stem-cell rescue and response.

Dosimetry per clinical-reference §4.3 and decisions.md "Whole-body dose" (phi and the electron-only lower
bound are always shown); grades per CTCAE v5.0 (decisions.md A18); response per INRC 2017 (§6.2).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from reportlab.platypus import CondPageBreak, Flowable, KeepTogether, Spacer

from mibg.core.clinical_rows import clinical_rows, is_clinical
from mibg.core.ctcae import term_definition, term_for_test, worst_value_key
from mibg.core.labs import LABS
from mibg.reports.numbers import activity_text, as_entered, exact, show, when
from mibg.reports.pdf.administration import administration_story
from mibg.reports.pdf.common import (
    PAGE,
    DocumentSpec,
    fields,
    grid,
    heading,
    p,
    png,
    render,
    rounding_note,
)
from mibg.reports.pdf.directive import directive_story
from mibg.reports.pdf.eligibility import eligibility_story
from mibg.reports.plots import recovery_png
from mibg.reports.record import CourseRecord, LabResult

TITLE = "Course summary"


def course_summary_pdf(course: CourseRecord) -> bytes:
    """Everything recorded about ``course`` as one PDF; sections not reached yet say so."""
    spec = DocumentSpec(TITLE, course.patient, course.protocol_label, course.document_time,
                        course.course_number, course.site)
    story: list[Flowable] = [p(f"{TITLE}: course {course.course_number}", "title")]
    story.append(fields(_overview(course)))
    story.append(Spacer(1, 10))  # the overview shares its page with part 1: no page of 8 rows alone
    story += _part("1. Eligibility", eligibility_story(course, course.eligibility) if course.eligibility else None)
    story += _part("2. Written directive", directive_story(course, course.directive) if course.directive else None)
    has_administration = course.administration is not None or course.assay is not None
    story += _part("3. Administration and release", administration_story(course) if has_administration else None,
                   page_break=False)
    story += _dosimetry(course)
    story += _labs(course)
    story += _clinical_rows(course)
    story += _adverse_events(course)
    story += _rescue_and_response(course)
    story.append(Spacer(1, 6))
    story.append(rounding_note())
    return render(spec, story)


def _overview(course: CourseRecord) -> list[tuple[str, object]]:
    rows: list[tuple[str, object]] = [
        ("Patient", course.patient.identifier_line),
        ("Diagnosis", course.diagnosis),
        ("Protocol", course.protocol_label),
        ("Course", str(course.course_number)),
    ]
    if course.eligibility:
        rows.append(("Eligibility", str(course.eligibility.result.overall)))
    if course.directive:
        from mibg.reports.prescription import prescribed_dose

        dose = prescribed_dose(course.directive)
        rows.append(("Prescribed", f"{activity_text(dose.activity.mci)} ({exact(dose.request.mci_per_kg)} mCi/kg x "
                                   f"{exact(dose.request.weight_kg)} kg)"))
    if course.administration:
        rows.append(("Administered", f"{activity_text(course.administration.administered_mci)} on "
                                     f"{when(course.administration.start)}"))
    if course.dosimetry:
        rows.append(("Whole-body dose", f"{show(course.dosimetry.whole_body_dose_gy, 2)} Gy"))
    if course.stem_cell_infusion:
        rows.append(("Stem-cell rescue", when(course.stem_cell_infusion.infused_at)))
    if course.response:
        rows.append(("Response", f"{course.response.category} ({course.response.criteria}, "
                                 f"{course.response.assessed_on.isoformat()})"))
    return rows


def _part(title: str, body: list[Flowable] | None, page_break: bool = True) -> list[Flowable]:
    """A numbered part; the part's own document title line becomes its heading."""
    out: list[Flowable] = [p(title, "title")]
    if body is None:
        out.append(p("Not recorded for this course."))
    else:
        out += body[1:] if body and _is_title(body[0]) else body
    if page_break:
        # A new page only when less than a third of a page is left: a part never starts at the foot of a page,
        # and no page is left mostly blank.
        out.append(CondPageBreak(PAGE[1] / 3))
    return out


def _is_title(flowable: Flowable) -> bool:
    style = getattr(flowable, "style", None)
    return getattr(style, "name", "") == "title"


def _dosimetry(course: CourseRecord) -> list[Flowable]:
    d = course.dosimetry
    out: list[Flowable] = [heading("4. Whole-body dosimetry")]
    if d is None:
        return [*out, p("Not recorded for this course.")]
    rows: list[tuple[str, object]] = [
        ("Method", d.method),
        ("Time-integrated activity coefficient (tau)", f"{show(d.tiac_h, 2)} h"),
        ("Effective half-life", "; ".join(f"{show(t, 1)} h" for t in d.effective_half_lives_h) or "-"),
        ("Whole-body absorbed dose", f"{show(d.whole_body_dose_gy, 2)} Gy"),
        ("Electron-only lower bound", f"{show(d.electron_only_dose_gy, 2)} Gy"
         if d.electron_only_dose_gy is not None else "-"),
        ("Photon absorbed fraction (phi)", exact(d.photon_absorbed_fraction)
         if d.photon_absorbed_fraction is not None else "-"),
        ("Body mass used", f"{as_entered(d.body_mass_kg)} kg" if d.body_mass_kg is not None else "-"),
    ]
    out.append(fields(rows))
    if d.constants:
        out.append(Spacer(1, 4))
        out.append(grid(["Constant", "Value", "Unit", "Source"],
                        [[c.name, as_entered(c.value), c.unit, c.source] for c in d.constants],
                        [0.3, 0.15, 0.15, 0.4]))
    return out


def worst_grades(labs: Sequence[LabResult], since: datetime | None = None) -> list[tuple[str, LabResult]]:
    """Per test, the worst value with its grade and date, in the order of mibg.core.labs (decisions.md A32):
    the highest CTCAE grade, and within it the nadir of a falling count or the peak of a rising value
    (earliest on ties). With ``since`` (the start of the infusion) only values collected from then on count:
    the pre-infusion value is the course's baseline, not its toxicity (decisions.md A33)."""
    worst: dict[str, LabResult] = {}
    for lab in sorted(labs, key=lambda x: x.collected_at):
        if lab.grade is None or (since is not None and lab.collected_at < since):
            continue
        best = worst.get(lab.test)
        if best is None or _worse_lab(lab, best):
            worst[lab.test] = lab
    return [(test, worst[test]) for test in LABS if test in worst]


def _worse_lab(lab: LabResult, best: LabResult) -> bool:
    if (lab.grade or 0) != (best.grade or 0):
        return (lab.grade or 0) > (best.grade or 0)
    direction = term_definition(term_for_test(lab.test)).direction

    def key(x: LabResult) -> Decimal:
        return worst_value_key(direction, x.value, x.value / x.uln if x.uln else None)

    return key(lab) > key(best)


def _clause(lab: LabResult) -> str:
    """The clause that graded the worst value where CTCAE v5.0 grades against a baseline (AST, ALT, bilirubin,
    creatinine: decisions.md A33): against the ULN or against which baseline; "-" for the other terms."""
    if term_definition(term_for_test(lab.test)).baseline is None:
        return "-"
    return lab.clause or "not stated by the record"


def _labs(course: CourseRecord) -> list[Flowable]:
    out: list[Flowable] = [heading("5. Blood counts and chemistry: worst CTCAE v5.0 grades")]
    if not course.labs:
        return [*out, p("No laboratory results recorded.")]
    rows = []
    since = course.administration.start if course.administration is not None else None
    for test, lab in worst_grades(course.labs, since):
        definition = LABS[test]
        rows.append([f"{definition.name} (LOINC {definition.loinc})", f"grade {lab.grade}",
                     f"{as_entered(lab.value)} {definition.display_unit}", when(lab.collected_at),
                     _clause(lab), str(sum(1 for x in course.labs if x.test == test))])
    if rows:
        out.append(grid(["Test", "Worst grade", "Value", "Collected", "CTCAE clause (baseline, decisions.md A33)",
                         "Results"], rows, [0.2, 0.08, 0.11, 0.25, 0.29, 0.07]))
    else:
        out.append(p("No graded results."))
    image = course.plots.recovery_png
    counts = [lab for lab in course.labs if lab.test in ("anc", "platelets")]
    if image is None and course.administration is not None and len(counts) >= 2:
        events = [("stem cells", course.stem_cell_infusion.infused_at)] if course.stem_cell_infusion else []
        image = recovery_png(counts, course.administration.start, events)
    if image is not None:
        out.append(Spacer(1, 4))
        out.append(KeepTogether([p("Blood-count recovery", "h2"), png(image)]))
    return out


def _clinical_rows(course: CourseRecord) -> list[Flowable]:
    """TSH, free T4 and blood pressure (issue 12): CTCAE v5.0 grades Hypothyroidism, Hyperthyroidism and Hypertension
    clinically, so each value is shown with its reading (the flag against the site's range, or the adult
    blood-pressure thresholds) and the grade is the physician's adverse event of the term (part 6)."""
    rows = [lab for lab in course.labs if is_clinical(lab.test)]
    if not rows:
        return []
    out: list[Flowable] = [heading("5a. Thyroid function and blood pressure (graded clinically, CTCAE v5.0)")]
    out.append(grid(["Test", "Value", "Reference range", "Collected", "Reading and grade"],
                    [[f"{LABS[lab.test].name} (LOINC {LABS[lab.test].loinc})",
                      f"{as_entered(lab.value)} {LABS[lab.test].display_unit}", _range(lab), when(lab.collected_at),
                      lab.reading or "-"] for lab in sorted(rows, key=lambda x: (x.collected_at, list(LABS).index(x.test)))],
                    [0.2, 0.12, 0.16, 0.2, 0.32]))
    terms = sorted({term for lab in rows for term in clinical_rows()[lab.test].terms})
    graded = [a for a in course.adverse_events if a.term in terms]
    text = "; ".join(f"{a.term} grade {a.grade} from {when(a.onset)}" for a in graded) or "none recorded"
    out.append(p(f"The physician's CTCAE v5.0 grades ({', '.join(terms)}), recorded as adverse events: {text}. "
                 "The grade definitions of these terms are not confirmed against the v5.0 text; the paediatric "
                 "hypertension rows need the blood-pressure percentile, which the application does not hold."))
    return out


def _range(lab: LabResult) -> str:
    if lab.lln is None and lab.uln is None:
        return "-"
    unit = LABS[lab.test].display_unit
    return f"{as_entered(lab.lln) if lab.lln is not None else '-'} - {as_entered(lab.uln) if lab.uln is not None else '-'} {unit}"


def _adverse_events(course: CourseRecord) -> list[Flowable]:
    out: list[Flowable] = [heading("6. Adverse events (CTCAE v5.0)")]
    if not course.adverse_events:
        return [*out, p("None recorded.")]
    out.append(grid(["Term", "Grade", "Onset", "Serious", "Attribution", "Outcome", "Description"],
                    [[a.term, str(a.grade), when(a.onset), "yes" if a.serious else "no", a.attribution, a.outcome,
                      a.description] for a in course.adverse_events],
                    [0.19, 0.06, 0.22, 0.07, 0.11, 0.11, 0.24]))
    return out


def _rescue_and_response(course: CourseRecord) -> list[Flowable]:
    out: list[Flowable] = [heading("7. Stem-cell rescue and response")]
    rows: list[tuple[str, object]] = []
    rescue = course.stem_cell_infusion
    if rescue is None:
        rows.append(("Stem-cell infusion", "none recorded"))
    else:
        cells = f"; {show(rescue.cd34_per_kg / 1_000_000, 2)} x 10^6 CD34+/kg" if rescue.cd34_per_kg is not None else ""
        rows.append(("Stem-cell infusion", f"{when(rescue.infused_at)}: {rescue.product}{cells}"))
        if rescue.reason:
            rows.append(("Reason", rescue.reason))
    response = course.response
    if response is None:
        rows.append(("Response", "not assessed yet"))
    else:
        rows.append(("Response", f"{response.category} by {response.criteria} on {response.assessed_on.isoformat()}"))
        if response.notes:
            rows.append(("Notes", response.notes))
    out.append(fields(rows))
    return out

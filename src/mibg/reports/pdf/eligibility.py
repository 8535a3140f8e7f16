"""The eligibility checklist: every criterion of the record, its status, inputs with dates, wording, decisions.

Statuses and the overall result are those of mibg.core.eligibility (decisions.md "Results"); criteria the
study chair may decide (H5, X1) show the recorded, signed decision (decisions.md "H5, X1 chair review").
"""

from __future__ import annotations

from collections.abc import Sequence

from reportlab.platypus import Flowable, KeepTogether, Spacer

from mibg.core.results import CriterionResult
from mibg.reports.errors import ReportInputError
from mibg.reports.numbers import when
from mibg.reports.pdf.common import (
    STATUS_COLOURS,
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
from mibg.reports.record import CourseRecord, EligibilityRecord

TITLE = "Eligibility checklist"
OVERALL_COLOURS = {"eligible": "#2e7d32", "not eligible": "#b71c1c", "incomplete": "#8d6e00",
                   "needs review": "#a05a00"}


def eligibility_checklist_pdf(course: CourseRecord) -> bytes:
    """The checklist for ``course.eligibility`` as PDF bytes."""
    record = course.eligibility
    if record is None:
        raise ReportInputError("course.eligibility", "no eligibility evaluation is recorded for this course")
    spec = DocumentSpec(TITLE, course.patient, course.protocol_label, course.document_time,
                        course.course_number, course.site)
    return render(spec, eligibility_story(course, record))


def eligibility_story(course: CourseRecord, record: EligibilityRecord) -> list[Flowable]:
    result = record.result
    overall = str(result.overall)
    story: list[Flowable] = [p(f"{TITLE}: course {course.course_number}", "title")]
    story.append(banner(f"Overall: {overall.upper()}", OVERALL_COLOURS.get(overall, "#455a64")))
    story.append(Spacer(1, 6))
    criteria = result.criteria
    counts = {status: sum(1 for c in criteria if c.status == status) for status in STATUS_COLOURS}
    story.append(fields([
        ("Patient", course.patient.identifier_line),
        ("Sex", course.patient.sex_word),
        ("Planned treatment date", result.treatment_date.isoformat()),
        ("Evaluated at", when(record.evaluated_at)),
        ("Protocol evaluated", result.protocol_label),
        ("Criteria", "; ".join(f"{n} {status}" for status, n in counts.items()) + f" (of {len(criteria)})"),
    ]))
    if result.protocol_label != course.protocol_label:
        story.append(Spacer(1, 4))
        story.append(banner(f"Evaluated under {result.protocol_label}, but the course runs under "
                            f"{course.protocol_label}: evaluate again before treatment.", "#b71c1c"))
    for kind, label in (("inclusion", "Inclusion criteria"), ("exclusion", "Exclusion criteria")):
        rows = [c for c in criteria if c.kind == kind]
        if rows:
            story.append(heading(label))
            story.append(_criteria_table(rows, record))
    story.append(_chair_section(record))
    story.append(signature_block("Signatures", record.signatures,
                                 blank_roles=() if record.signatures else ("Treating physician (investigator)",)))
    story.append(Spacer(1, 6))
    story.append(p("Statuses: met; not met; unknown (data missing or too old); needs review (a recorded "
                   "study-chair decision can clear it). Eligible only when every criterion is met "
                   "(decisions.md 'Results').", "small"))  # printed named: product decision “Results”
    story.append(rounding_note())
    return story


def _criteria_table(rows: Sequence[CriterionResult], record: EligibilityRecord) -> Flowable:
    body = []
    colours = []
    for c in rows:
        title = markup(f"<b>{para_text(c.title)}</b><br/><i>Protocol: \"{para_text(c.wording)}\"</i>", "cell")
        status = str(c.status)
        if not c.applies:
            status += " (does not apply)"
        if c.cleared_by:
            status += f"; cleared by {c.cleared_by}"
        detail = [para_text(c.reason)]
        if c.inputs:
            detail.append("<b>Inputs:</b> " + "; ".join(para_text(str(i)) for i in c.inputs))
        if c.missing:
            detail.append("<b>Missing:</b> " + para_text(", ".join(record.missing_label(m) for m in c.missing)))
        # The sources as the screens give them: the reference's section, then each product decision, named.
        notes = [c.reference] if c.reference else []
        notes += [f"decisions.md {d}" for d in c.decisions]
        if c.chair_clearable:
            notes.append("study chair may decide")
        if notes:
            detail.append(f"<font size=7>{para_text('; '.join(notes))}</font>")
        body.append([c.id, title, status, markup("<br/>".join(detail), "cell")])
        colours.append(STATUS_COLOURS.get(str(c.status)))
    return grid(["ID", "Criterion and protocol wording", "Status", "Reason, inputs (with dates), sources"],
                body, [0.05, 0.37, 0.11, 0.47], colours)


def _chair_section(record: EligibilityRecord) -> Flowable:
    parts: list[Flowable] = [heading("Study-chair decisions")]
    if not record.chair_decisions:
        parts.append(p("None recorded.", "body"))
        return KeepTogether(parts)
    parts.append(grid(
        ["Criterion", "Decision", "Reason", "Signed by (role), time, meaning"],
        [[d.criterion, "cleared" if d.cleared else "not cleared", d.reason,
          f"{d.signature.printed_name} ({d.signature.role}), {when(d.signature.signed_at)}: {d.signature.meaning}"]
         for d in record.chair_decisions],
        [0.1, 0.12, 0.38, 0.4],
    ))
    return KeepTogether(parts)

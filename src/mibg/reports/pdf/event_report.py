"""An event report as PDF: a possible medical event (10 CFR 35.3045) or a serious adverse event (21 CFR 312.32),
with its facts, its deadlines (each with its rule, its source, and UNVERIFIED where it was not checked against the
CFR text), what was done against each, and the signatures (issue 13 §3)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from reportlab.platypus import Flowable, Spacer

from mibg.reports.errors import ReportInputError
from mibg.reports.numbers import when
from mibg.reports.pdf.common import (
    DocumentSpec,
    banner,
    fields,
    grid,
    heading,
    p,
    render,
    signature_block,
)
from mibg.reports.record import PatientIdentity, Signature


@dataclass(frozen=True, slots=True)
class DeadlineLine:
    receiver: str
    action: str
    due_at: datetime
    rule: str
    source: str
    verified: bool
    done: str  # "" when open; else when and how it was done (or waived, and why)


@dataclass(frozen=True, slots=True)
class EventReportRecord:
    """Everything the PDF shows, as plain values (the web layer builds it from its models)."""

    number: int
    title: str  # the kind of report, e.g. "Possible medical event"
    reference: str
    status: str
    patient: PatientIdentity
    course_number: int
    protocol_label: str
    discovered_at: datetime
    facts: tuple[tuple[str, str], ...]
    deadlines: tuple[DeadlineLine, ...]
    not_applicable: tuple[tuple[str, str], ...]
    notes: tuple[str, ...]
    signatures: tuple[Signature, ...]
    document_time: datetime
    site: str = ""

    def __post_init__(self) -> None:
        for name in ("discovered_at", "document_time"):
            value = getattr(self, name)
            if value.tzinfo is None or value.utcoffset() is None:
                raise ReportInputError(f"report.{name}", "has no time zone: give the UTC offset")


def event_report_pdf(report: EventReportRecord) -> bytes:
    spec = DocumentSpec(f"Event report {report.number}: {report.title}", report.patient, report.protocol_label,
                        report.document_time, report.course_number, report.site)
    story: list[Flowable] = [p(f"Event report {report.number}: {report.title}", "title")]
    colour = {"draft": "#b45309", "submitted": "#1d4ed8", "acknowledged": "#15803d"}.get(report.status, "#444444")
    story.append(banner(f"Status: {report.status}", colour))
    story.append(Spacer(1, 6))
    story.append(fields((("Regulation and sources", report.reference), ("Discovered", when(report.discovered_at)),
                         *report.facts)))
    story.append(heading("Deadlines"))
    if report.deadlines:
        story.append(grid(
            ["Receiver", "What", "Due", "Rule and source", "Done"],
            [(d.receiver, d.action, when(d.due_at),
              f"{d.rule}. {d.source}{'' if d.verified else ' UNVERIFIED against the CFR text.'}", d.done or "OPEN")
             for d in report.deadlines],
            [0.17, 0.11, 0.16, 0.38, 0.18]))
    else:
        story.append(p("No deadline applies."))
    for rule, why in report.not_applicable:
        story.append(p(f"Not applicable: {rule} ({why}).", "small"))
    for note in report.notes:
        story.append(p(note, "small"))
    story.append(Spacer(1, 8))
    story.append(signature_block("Submission", report.signatures, () if report.signatures else ("Submitted by",)))
    return render(spec, story)

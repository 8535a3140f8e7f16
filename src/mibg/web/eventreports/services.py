"""Event reports: opened when a possible medical event or a serious adverse event is recorded, filled in, their
deadlines met one by one, submitted with a signature and acknowledged by the receiver (issue 13 §3).

Every door (the pages, the demo, the data migration of events recorded before reports existed) comes here. Each
change is one transaction with its audit records; a change that moves a deadline writes the new deadlines to the
audit trail. E-mail notifications go out after the transaction commits (mibg.web.eventreports.notify).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mibg.core.errors import InputError
from mibg.core.event_reports import MEDICAL_EVENT, SAE, Deadline, DeadlinePlan, deadline_plan, sae_facts
from mibg.core.times import site_time
from mibg.protocol import load_protocol
from mibg.web.audit.trail import field_values, log_changes, log_event
from mibg.web.errors import Refused
from mibg.web.eventreports import notify
from mibg.web.eventreports.models import EventReport, ReportStep
from mibg.web.safety import update_versioned

#: Clock tolerance for "not in the future" (decisions.md A29: 5 minutes).
CLOCK_TOLERANCE = timedelta(minutes=5)

#: What a report of each kind must hold before it is submitted: field -> how the page names it.
REQUIRED_TO_SUBMIT: dict[str, dict[str, str]] = {
    MEDICAL_EVENT: {"description": "what happened", "cause": "why the event occurred",
                    "effect_on_patient": "the effect on the patient",
                    "corrective_actions": "the actions taken to prevent a recurrence",
                    "referring_physician": "the referring physician"},
    SAE: {"description": "what happened", "expectedness": "expected or unexpected"},
}

EDITABLE = ("discovered_at", "description", "cause", "effect_on_patient", "corrective_actions", "referring_physician",
            "expectedness", "life_threatening")


@dataclass(frozen=True)
class DeadlineRow:
    """A deadline of a report and what was done against it."""

    deadline: Deadline
    step: ReportStep | None

    @property
    def done(self) -> bool:
        return self.step is not None

    def overdue(self, now: datetime) -> bool:
        return self.step is None and self.deadline.overdue(now)


def plan(report: EventReport) -> DeadlinePlan:
    """The deadlines of ``report`` under the current protocol definition (mibg.core.event_reports)."""
    protocol = load_protocol()
    facts = None
    if report.kind == SAE:
        event = report.adverse_event
        assert event is not None  # the check constraint: an SAE report has its adverse event
        unexpected = {"unexpected": True, "expected": False}.get(report.expectedness)
        facts = sae_facts(protocol, unexpected=unexpected, attribution=event.attribution, grade=event.grade,
                          life_threatening=report.life_threatening)
    return deadline_plan(report.kind, report.discovered_at, timezone.get_default_timezone(), protocol, facts)


def rows(report: EventReport, deadline_plan_: DeadlinePlan | None = None) -> list[DeadlineRow]:
    steps = {s.code: s for s in report.steps.all()}
    return [DeadlineRow(d, steps.get(d.code)) for d in (deadline_plan_ or plan(report)).deadlines]


def next_open(report: EventReport) -> DeadlineRow | None:
    """The earliest deadline not yet met (None when every one is)."""
    return next((r for r in rows(report) if not r.done), None)


def deadlines_text(deadline_plan_: DeadlinePlan) -> str:
    """The deadlines in one line, for the audit trail."""
    parts = [f"{d.receiver}: {d.action.lower()} by {d.due_at.isoformat()}{'' if d.verified else ' (UNVERIFIED)'}"
             for d in deadline_plan_.deadlines]
    return "deadlines: " + ("; ".join(parts) if parts else "none apply")


def _open(user: Any, course: Any, kind: str, discovered_at: datetime, description: str, **source: Any) -> EventReport:
    report = EventReport.objects.create(course=course, kind=kind, discovered_at=discovered_at, description=description,
                                        created_by=user, **source)
    the_plan = plan(report)
    log_changes(user, "create", report, course.patient, note=f"{the_plan.title} report opened; {deadlines_text(the_plan)}")
    notify.on_commit(report.pk, "opened", rows)
    return report


def open_for_administration(user: Any, administration: Any) -> EventReport | None:
    """A draft report for an administration flagged as a possible medical event (call inside its transaction).
    Discovery is when the administration was recorded: the moment the software flagged the deviation."""
    if not administration.possible_medical_event:
        return None
    existing = EventReport.objects.filter(administration=administration).first()
    if existing is not None:
        return existing
    return _open(user, administration.course, MEDICAL_EVENT, administration.recorded_at, administration.message,
                 administration=administration)


def open_for_adverse_event(user: Any, event: Any) -> EventReport | None:
    """A draft report for a serious adverse event (call inside its transaction); discovery is when it was recorded,
    or now for an event made serious by an edit."""
    if not event.serious or event.voided:
        return None
    existing = EventReport.objects.filter(adverse_event=event).first()
    if existing is not None:
        return existing
    discovered = event.recorded_at if event.version == 1 else timezone.now()
    description = f"{event.term}, CTCAE grade {event.grade}, from {event.started_on.isoformat()}. {event.description}".strip()
    return _open(user, event.course, SAE, discovered, description, adverse_event=event)


def _check_values(report: EventReport, values: dict[str, Any]) -> None:
    discovered = values.get("discovered_at")
    if discovered is None:
        raise InputError("discovered_at", _("is required: the moment the event was discovered starts every clock"))
    if discovered > timezone.now() + CLOCK_TOLERANCE:
        raise InputError("discovered_at", _("is in the future"))
    if report.kind == MEDICAL_EVENT and report.administration is not None and discovered < report.administration.started_at:
        raise InputError("discovered_at", _("is before the infusion started (%(at)s)")
                                          % {"at": site_time(report.administration.started_at)})
    if report.kind == SAE and report.adverse_event is not None and discovered.astimezone(
            timezone.get_default_timezone()).date() < report.adverse_event.started_on:
        raise InputError("discovered_at", _("is before the adverse event started (%(started_on)s)")
                                          % {"started_on": report.adverse_event.started_on})
    if values.get("expectedness", "") not in dict(EventReport.EXPECTEDNESS):
        raise InputError("expectedness", _("expected, unexpected, or not assessed yet"))
    if report.kind == MEDICAL_EVENT and (values.get("expectedness") or values.get("life_threatening") is not None):
        raise InputError("expectedness", _("expectedness and life-threatening belong to a serious adverse event "
                                           "report"))


def update(user: Any, report: EventReport, version: int, values: dict[str, Any]) -> EventReport:
    """Change a draft. A change of the discovery time or of the SAE facts moves the deadlines: the audit says so."""
    if report.status != EventReport.DRAFT:
        raise Refused(_("This report is %(status)s: a submitted report is not changed. Record follow-up information "
                        "as a new report.") % {"status": report.get_status_display()})
    _check_values(report, values)
    with transaction.atomic():
        before = field_values(report)
        old = deadlines_text(plan(report))
        update_versioned(report, version, {k: values[k] for k in EDITABLE if k in values}, "This report")
        new = deadlines_text(plan(report))
        note = f"deadlines moved: {new}" if new != old else ""
        log_changes(user, "update", report, report.course.patient, before, note=note)
    return report


def record_step(user: Any, report: EventReport, code: str, done_at: datetime | None, note: str, waived: bool) -> ReportStep:
    """A deadline met (or, where the rule allows it, not met for a documented reason)."""
    deadline = next((d for d in plan(report).deadlines if d.code == code), None)
    if deadline is None:
        raise Refused(_("This report has no such deadline."), "code")
    if waived and not deadline.waivable:
        raise Refused(_("'%(receiver)s' cannot be waived: it must be done.") % {"receiver": deadline.receiver}, "waived")
    if not note.strip():
        raise InputError("note", _("say how it was done (who was reached, by what means) or, if waived, why")
                         if deadline.waivable else _("say how it was done (who was reached, by what means)"))
    if done_at is None:
        raise InputError("done_at", _("is required"))
    if done_at > timezone.now() + CLOCK_TOLERANCE:
        raise InputError("done_at", _("is in the future"))
    if done_at < report.discovered_at.replace(second=0, microsecond=0):  # times are entered to the minute
        raise InputError("done_at", _("is before the event was discovered"))
    with transaction.atomic():
        if ReportStep.objects.filter(report=report, code=code).exists():
            raise Refused(_("'%(receiver)s' is already recorded for this report.")
                          % {"receiver": deadline.receiver})
        step = ReportStep.objects.create(report=report, code=code, done_at=done_at, waived=waived, note=note.strip(),
                                         recorded_by=user)
        late = done_at > deadline.due_at
        log_changes(user, "create", step, report.course.patient,
                    note=(f"{deadline.receiver}: {'waived' if waived else 'done'} at {done_at.isoformat()}, deadline "
                          f"{deadline.due_at.isoformat()}{' (LATE)' if late else ''}"))
    return step


def submit(user: Any, signed_name: str, report: EventReport, version: int) -> EventReport:
    """Sign and submit: every field the receivers need must be there (each missing one is named)."""
    if report.status != EventReport.DRAFT:
        raise Refused(_("This report is already %(status)s.") % {"status": report.get_status_display()})
    for name, label in REQUIRED_TO_SUBMIT[report.kind].items():
        if not str(getattr(report, name) or "").strip():
            raise InputError(name, _("%(label)s is needed before the report is submitted") % {"label": label})
    with transaction.atomic():
        before = field_values(report)
        update_versioned(report, version, {"status": EventReport.SUBMITTED, "submitted_by": user,
                                           "submitted_name": signed_name, "submitted_at": timezone.now()}, "This report")
        log_changes(user, "sign", report, report.course.patient, before,
                    note=f"submitted, signed with password re-entry; {deadlines_text(plan(report))}")
        notify.on_commit(report.pk, "submitted", rows)
    return report


def acknowledge(user: Any, report: EventReport, version: int, acknowledged_at: datetime | None, text: str) -> EventReport:
    """The receiver's acknowledgement (its reference number, who confirmed, when)."""
    if report.status != EventReport.SUBMITTED:
        raise Refused(_("Only a submitted report is acknowledged; this one is %(status)s.")
                      % {"status": report.get_status_display()})
    if not text.strip():
        raise InputError("acknowledgement", _("give the receiver's reference or who confirmed receipt"))
    if acknowledged_at is None:
        raise InputError("acknowledged_at", _("is required"))
    if acknowledged_at > timezone.now() + CLOCK_TOLERANCE:
        raise InputError("acknowledged_at", _("is in the future"))
    if report.submitted_at is not None and acknowledged_at < report.submitted_at - CLOCK_TOLERANCE:
        raise InputError("acknowledged_at", _("is before the report was submitted"))
    with transaction.atomic():
        before = field_values(report)
        update_versioned(report, version, {"status": EventReport.ACKNOWLEDGED, "acknowledged_by": user,
                                           "acknowledged_at": acknowledged_at, "acknowledgement": text.strip()},
                         "This report")
        log_changes(user, "update", report, report.course.patient, before, note="acknowledged by the receiver")
        notify.on_commit(report.pk, "acknowledged", rows)
    return report


def open_deadlines(reports: Any = None) -> list[tuple[EventReport, DeadlineRow]]:
    """Every deadline not yet met, of every report (or of ``reports``), soonest first."""
    queryset = reports if reports is not None else EventReport.objects.all()
    queryset = queryset.select_related("course__patient", "adverse_event", "administration").prefetch_related("steps")
    out = [(report, row) for report in queryset for row in rows(report) if not row.done]
    out.sort(key=lambda pair: pair[1].deadline.due_at)
    return out


def viewed(user: Any, report: EventReport) -> None:
    log_event(user, "view", report, report.course.patient, note=f"event report {report.pk} viewed")

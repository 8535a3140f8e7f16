"""Event report pages: every open deadline, one report with its deadlines, its draft, the steps done, the signed
submission, the receiver's acknowledgement, and its PDF (issue 13 §3)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from mibg.core.errors import InputError
from mibg.core.times import site_time
from mibg.reports.errors import ReportInputError
from mibg.reports.pdf.event_report import DeadlineLine, EventReportRecord, event_report_pdf
from mibg.reports.record import Signature
from mibg.web.audit.models import AuditEvent
from mibg.web.audit.trail import log_download
from mibg.web.documents.records import patient_identity
from mibg.web.documents.views import cannot_make, download, safe_name
from mibg.web.errors import STOPS, Refused
from mibg.web.eventreports import services
from mibg.web.eventreports.forms import AcknowledgeForm, StepForm, SubmitForm, report_form
from mibg.web.eventreports.models import EventReport
from mibg.web.permissions import action_required, allowed
from mibg.web.safety import Signature as Signing
from mibg.web.safety import form_token, save_once

#: A yes/no answer that may not be given (None).
YES_NO: dict[bool | None, str] = {True: "yes", False: "no"}


def _get(pk: int) -> EventReport:
    return get_object_or_404(EventReport.objects.select_related(
        "course__patient", "administration", "adverse_event", "submitted_by", "acknowledged_by", "created_by"), pk=pk)


def _to_report(report: EventReport) -> HttpResponse:
    return redirect("eventreports:detail", pk=report.pk)


@action_required(get="patient.view")
def open_list(request: HttpRequest) -> HttpResponse:
    """Every deadline not yet met, soonest first; overdue ones marked (until the worklists carry them)."""
    now = timezone.now()
    items = [{"report": r, "row": row, "overdue": row.overdue(now)} for r, row in services.open_deadlines()]
    recent = EventReport.objects.select_related("course__patient").order_by("-discovered_at", "-id")[:50]
    return render(request, "mibg/eventreports/list.html", {"items": items, "recent": recent, "now": now})


@action_required(get="patient.view")
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    report = _get(pk)
    the_plan = services.plan(report)
    now = timezone.now()
    rows = [{"row": r, "overdue": r.overdue(now)} for r in services.rows(report, the_plan)]
    services.viewed(request.user, report)
    can_record = allowed(request.user, "event_report.record")
    token = form_token(request) if can_record and report.status != EventReport.ACKNOWLEDGED else ""
    mails = AuditEvent.objects.filter(model=EventReport._meta.label, object_id=str(report.pk),
                                      action=AuditEvent.EXPORT, note__startswith="e-mail").order_by("at")
    return render(request, "mibg/eventreports/detail.html", {
        "report": report, "course": report.course, "patient": report.course.patient, "plan": the_plan,
        "rows": rows, "token": token, "mails": mails, "step_form": StepForm(initial={"done_at": now}),
        "required": services.REQUIRED_TO_SUBMIT[report.kind]})


@action_required(get="event_report.record", post="event_report.record")
def edit(request: HttpRequest, pk: int) -> HttpResponse:
    report = _get(pk)
    if report.status != EventReport.DRAFT:
        messages.error(request, _("This report is %(status)s: it is no longer changed.") % {"status": report.get_status_display()})
        return _to_report(report)
    initial: dict[str, Any] = {name: getattr(report, name) for name in services.EDITABLE}
    initial["life_threatening"] = YES_NO.get(report.life_threatening, "")
    initial.update(form_token=form_token(request), version=report.version)
    form = report_form(report, request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        values = {k: v for k, v in form.cleaned_data.items() if k in services.EDITABLE}
        done = save_once(request, form, lambda: services.update(request.user, report, form.cleaned_data["version"], values),
                         then=lambda: _to_report(report), said=lambda r: _("Report saved."),
                         field_errors=(InputError,), stop_errors=(*STOPS, Refused),
                         stop_notice=messages.error)
        if done is not None:
            return done
    return render(request, "mibg/eventreports/form.html", {
        "form": form, "report": report, "course": report.course, "patient": report.course.patient,
        "title": _("Event report %(pk)s: %(kind)s") % {"pk": report.pk, "kind": report.get_kind_display()}, "button": _("Save the draft")})


@action_required(post="event_report.record")
def record_step(request: HttpRequest, pk: int) -> HttpResponse:
    report = _get(pk)
    form = StepForm(request.POST)
    if not form.is_valid():
        for name, errors in form.errors.items():
            messages.error(request, f"{form.fields[name].label if name in form.fields else name}: {' '.join(str(e) for e in errors)}")
        return _to_report(report)
    d = form.cleaned_data
    back = _to_report(report)
    save_once(request, None, lambda: services.record_step(request.user, report, d["code"], d["done_at"], d["note"],
                                                          d["waived"]),
              then=lambda: back, said=lambda _saved: _("Recorded."))
    return back


@action_required(get="event_report.submit", post="event_report.submit")
def submit(request: HttpRequest, pk: int) -> HttpResponse:
    report = _get(pk)
    form = SubmitForm(request.POST or None, initial={"form_token": form_token(request), "version": report.version})
    if request.method == "POST" and form.is_valid():
        try:
            done = save_once(request, form, lambda name: services.submit(request.user, name, report,
                                                                         form.cleaned_data["version"]),
                             signature=Signing(form.cleaned_data["password"], report, report.course.patient,
                                                 "event report submission"),
                             then=lambda: _to_report(report), field_errors=(), stop_errors=(*STOPS, Refused),
                             said=lambda _saved: _("Report submitted and signed."))
        except InputError as error:  # the draft misses what a submission needs: said on the form
            form.add_error(None, _("%(field)s: %(message)s. Complete the draft first.")
                           % {"field": services.REQUIRED_TO_SUBMIT[report.kind].get(error.field, error.field),
                              "message": error.message})
        else:
            if done is not None:
                return done
    return render(request, "mibg/eventreports/form.html", {
        "form": form, "report": report, "course": report.course, "patient": report.course.patient,
        "title": _("Submit event report %(pk)s") % {"pk": report.pk}, "button": _("Sign and submit"), "signing": True})


@action_required(get="event_report.record", post="event_report.record")
def acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    report = _get(pk)
    form = AcknowledgeForm(request.POST or None, initial={"form_token": form_token(request), "version": report.version,
                                                          "acknowledged_at": timezone.now()})
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        done = save_once(request, form, lambda: services.acknowledge(request.user, report, d["version"],
                                                                     d["acknowledged_at"], d["acknowledgement"]),
                         then=lambda: _to_report(report), said=lambda r: _("Acknowledgement recorded."),
                         field_errors=(InputError,), stop_errors=(*STOPS, Refused),
                         stop_notice=messages.error)
        if done is not None:
            return done
    return render(request, "mibg/eventreports/form.html", {
        "form": form, "report": report, "course": report.course, "patient": report.course.patient,
        "title": _("Acknowledgement of event report %(pk)s") % {"pk": report.pk}, "button": _("Record the acknowledgement")})


def report_record(report: EventReport) -> EventReportRecord:
    the_plan = services.plan(report)
    facts: list[tuple[str, str]] = [("Kind", report.get_kind_display()), ("What happened", report.description or "-")]
    if report.kind == "medical_event" and report.administration is not None:
        a = report.administration
        facts += [("Administration", f"{a.administered.display()} administered "
                                     f"({a.deviation_percent.quantize(Decimal('0.01'))} % from the prescription); "
                                     f"{a.message}"),
                  ("Why it occurred", report.cause or "-"), ("Effect on the patient", report.effect_on_patient or "-"),
                  ("Actions to prevent a recurrence", report.corrective_actions or "-"),
                  ("Referring physician", report.referring_physician or "-")]
    if report.kind == "sae" and report.adverse_event is not None:
        e = report.adverse_event
        facts += [("Adverse event", f"{e.term}, CTCAE grade {e.grade}, attribution {e.attribution}, outcome "
                                    f"{e.get_outcome_display()}"),
                  ("Expectedness", report.get_expectedness_display()),
                  ("Life-threatening", YES_NO.get(report.life_threatening, "not stated (from the grade)"))]
    if report.acknowledged_at:
        facts.append(("Acknowledged", f"{site_time(report.acknowledged_at)}: {report.acknowledgement}"))
    lines = []
    for row in services.rows(report, the_plan):
        done = ""
        if row.step is not None:
            done = f"{'waived' if row.step.waived else 'done'} {site_time(row.step.done_at)}: {row.step.note}"
        d = row.deadline
        lines.append(DeadlineLine(d.receiver, d.action, d.due_at, d.rule, d.source, d.verified, done))
    signatures: tuple[Signature, ...] = ()
    if report.submitted_at is not None:
        signatures = (Signature(report.submitted_name, "submitted by", report.submitted_at,
                                "I submit this report; its content is accurate to the best of my knowledge."),)
    return EventReportRecord(
        number=report.pk, title=the_plan.title, reference=the_plan.reference, status=report.status,
        patient=patient_identity(report.course.patient), course_number=report.course.number,
        protocol_label=the_plan.protocol_label, discovered_at=report.discovered_at, facts=tuple(facts),
        deadlines=tuple(lines), not_applicable=tuple((f"{r.receiver} ({r.source})", why) for r, why in the_plan.not_applicable),
        notes=the_plan.notes, signatures=signatures,
        document_time=max([report.created_at, *(t for t in (report.submitted_at, report.acknowledged_at) if t),
                           *(s.recorded_at for s in report.steps.all())]))


@action_required(get="patient.view")
def pdf(request: HttpRequest, pk: int) -> HttpResponse:
    report = _get(pk)
    try:
        data = event_report_pdf(report_record(report))
    except ReportInputError as error:
        return cannot_make(request, "Event report", error, reverse("eventreports:detail", args=[report.pk]))
    log_download(request.user, report, report.course.patient, f"event report {report.pk} (PDF)", data)
    return download(data, "application/pdf", f"mibg-{safe_name(report.course.patient.mrn)}-event-report-{report.pk}.pdf")


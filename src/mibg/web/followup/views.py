"""Follow-up pages: the course's follow-up (labs with grades, transfusions, count recovery, adverse events,
response), the entry forms, the plots, and the programme view across all patients."""

from __future__ import annotations

import csv
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.db.models import Model
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from mibg.core.ae_terms import ae_terms, is_ctcae_term
from mibg.web import plotcache
from mibg.web.audit.trail import log_event, log_view
from mibg.web.authenticated import AuthenticatedHttpRequest
from mibg.web.courses.models import Course
from mibg.web.courses.views import get_course
from mibg.web.errors import Refused, refusals_shown
from mibg.web.followup import plots, programme, services
from mibg.web.followup.forms import (
    AdverseEventForm,
    AeSignForm,
    CurieForm,
    InrcForm,
    LabCorrectionForm,
    LabForm,
    LabsUploadForm,
    SaeReviewForm,
    TransfusionForm,
    VoidForm,
    unit_suggestions,
)
from mibg.web.followup.models import AdverseEvent, CurieAssessment, InrcAssessment, LabResult, Transfusion
from mibg.web.page_reads import for_page
from mibg.web.permissions import action_required
from mibg.web.safety import Signature, form_token, save_once


def _to_followup(course: Course, anchor: str = "") -> HttpResponse:
    return redirect(reverse("followup:course", kwargs={"pk": course.pk}) + (f"#{anchor}" if anchor else ""))


def _store_once(request: HttpRequest, form: Form, course: Course, anchor: str, save: Callable[[], Any],
                said: Callable[[Any], str], warn_if: Callable[[Any], bool] = lambda record: False) -> HttpResponse | None:
    """Save once (web/safety.py) and come back to the follow-up page at ``anchor``."""
    return save_once(request, form, save, then=lambda: _to_followup(course, anchor), said=said,
                     notice=lambda record: messages.warning if warn_if(record) else messages.success)


def _to_course(request: HttpRequest, pk: int) -> HttpResponse:
    return redirect("courses:detail", pk=pk)


#: A follow-up entry page of course ``pk``: a refused entry (the course is not open to follow-up) is said on
#: the course page.
entry_refusals = refusals_shown(_to_course)


# ---- the follow-up page of a course -------------------------------------------------------------------


@action_required(get="patient.view")
def course_followup(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    course = for_page(get_course(pk))  # one read of each record the page's parts share (mibg.web.page_reads)
    labs = services.live_labs(course)  # each with its stored grade (issue 11)
    transfusions = services.live_transfusions(course)
    infusion_at = services.infusion_start(course)
    recovery = services.recovery(course)  # as stored
    has_counts = recovery is not None and any(
        s.points for s in (recovery.anc, recovery.platelets, recovery.hemoglobin))
    events = list(course.adverse_events.select_related("recorded_by").prefetch_related("reviews"))
    curie = list(course.curie_assessments.live())
    for r in labs:
        r.day = services.day_after(infusion_at, r.collected_at) if infusion_at else None
    log_view(request.user, course.patient, f"follow-up of course {course.number}")
    return render(request, "mibg/followup/course.html", {
        "course": course, "patient": course.patient, "infusion_at": infusion_at,
        "recovery_series": [] if recovery is None else [
            {"label": plots.SERIES_LABELS[s.test].split(" (")[0], "summary": s}
            for s in (recovery.anc, recovery.platelets, recovery.hemoglobin)],
        "labs": labs, "worst": services.worst_by_term(labs, infusion_at),
        "voided_labs": list(course.lab_results.filter(voided_at__isnull=False).select_related("voided_by")),
        "transfusions": transfusions,
        "recovery": recovery,
        "recovery_svg": plotcache.drawn("recovery-inline-svg", recovery, lambda: plots.inline_svg(
            plots.recovery_figure(recovery), _("Count recovery: ANC, platelets and haemoglobin against days after the "
                                               "infusion"))) if recovery is not None and has_counts else "",
        "events": [e for e in events if not e.voided], "voided_events": [e for e in events if e.voided],
        "curie": curie, "relative": services.relative_scores(curie),
        "inrc": list(course.inrc_assessments.live()),
        "open": services.after_administration(course),
    })


# ---- plots of one course ------------------------------------------------------------------------------


def _recovery_figure(request: HttpRequest, pk: int) -> tuple[Course, Any]:
    course = get_course(pk)
    recovery = services.recovery(course)
    if recovery is None:
        from django.http import Http404

        raise Http404(_("The course has no infusion yet."))
    log_view(request.user, course.patient, f"recovery plot of course {course.number}")
    return course, plots.recovery_figure(recovery)


@action_required(get="patient.view")
def recovery_png(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    course, figure = _recovery_figure(request, pk)
    response = HttpResponse(plots.png(figure), content_type="image/png")
    response["Content-Disposition"] = f'inline; filename="recovery-{course.patient.mrn}-course-{course.number}.png"'
    return response


@action_required(get="patient.view")
def recovery_svg(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    course, figure = _recovery_figure(request, pk)
    response = HttpResponse(plots.svg(figure), content_type="image/svg+xml")
    response["Content-Disposition"] = f'attachment; filename="recovery-{course.patient.mrn}-course-{course.number}.svg"'
    return response


# ---- labs and transfusions ----------------------------------------------------------------------------


@action_required(get="lab.enter", post="lab.enter")
@entry_refusals
def lab_new(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    course = get_course(pk)
    services.check_open(course)  # Refused: said on the course page (entry_refusals)
    form = LabForm(request.POST or None, initial={"form_token": form_token(request)})
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        entry = services.LabEntry(d["test"], d["value"], d["unit"], d["lln"], d["uln"], d["collected_at"])
        done = save_once(request, form, lambda: services.add_lab(request.user, course, entry),
                         then=lambda: _to_followup(course, "labs"),
                         said=lambda record: _("Stored: %(test)s %(value)s %(unit)s — %(grade)s.")
                         % {"test": record.get_test_display(), "value": record.value, "unit": record.unit,
                            "grade": services.grade_said(record)},
                         done=lambda _: (redirect("followup:lab_new", pk=course.pk) if "another" in request.POST
                                         else _to_followup(course, "labs")))
        if done is not None:
            return done
    return render(request, "mibg/followup/lab_form.html", {
        "form": form, "course": course, "patient": course.patient, "units": unit_suggestions()})


@action_required(get="lab.enter", post="lab.enter")
def lab_correct(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """decisions.md A37: the corrected result supersedes the stored one, which stays visible, voided, with why."""
    lab = get_object_or_404(LabResult.objects.select_related("course__patient"), pk=pk)
    course = lab.course
    try:
        services.check_open(course)
    except Refused as error:  # said on the course page, as entry_refusals does for the pages of a course
        messages.error(request, error.message)
        return redirect("courses:detail", pk=course.pk)
    initial = {"form_token": form_token(request), **{k: getattr(lab, k) for k in ("test", "value", "unit", "lln", "uln",
                                                                                   "collected_at")}}
    form = LabCorrectionForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        entry = services.LabEntry(d["test"], d["value"], d["unit"], d["lln"], d["uln"], d["collected_at"])
        done = _store_once(request, form, course, "labs", lambda: services.correct_lab(request.user, lab, entry, d["reason"]),
                           lambda _r: _("Result corrected: the old entry stays, voided as superseded (decisions.md A37)."))
        if done is not None:
            return done
    return render(request, "mibg/followup/lab_form.html", {
        "form": form, "course": course, "patient": course.patient, "units": unit_suggestions(), "correcting": lab})


@action_required(get="lab.enter", post="lab.enter")
@entry_refusals
def lab_upload(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    course = get_course(pk)
    services.check_open(course)  # Refused: said on the course page (entry_refusals)
    form = LabsUploadForm(request.POST or None, request.FILES or None, initial={"form_token": form_token(request)})
    row_errors: tuple[Any, ...] = ()
    if request.method == "POST" and form.is_valid():
        upload = request.FILES.get("file")
        filename = (upload.name if upload is not None else None) or ""
        try:
            done = save_once(request, form,
                             lambda: services.import_labs_csv(request.user, course, form.cleaned_data["file"], filename),
                             then=lambda: _to_followup(course, "labs"),
                             said=lambda stored: ngettext("%(count)s result stored from %(file)s.",
                                                          "%(count)s results stored from %(file)s.", len(stored))
                             % {"count": len(stored), "file": filename})
        except services.CsvRefused as error:
            row_errors = error.errors
            form.add_error(None, error.message)
        else:
            if done is not None:
                return done
    return render(request, "mibg/followup/lab_upload.html", {
        "form": form, "course": course, "patient": course.patient, "row_errors": row_errors},
        status=422 if row_errors else 200)


@action_required(get="transfusion.record", post="transfusion.record")
@entry_refusals
def transfusion_new(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    course = get_course(pk)
    services.check_open(course)  # Refused: said on the course page (entry_refusals)
    form = TransfusionForm(request.POST or None, initial={"form_token": form_token(request)})
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        done = _store_once(request, form, course, "transfusions",
                           lambda: services.add_transfusion(request.user, course, d["product"], d["given_at"], d["note"]),
                           lambda record: _("Stored: %(record)s.") % {"record": record})
        if done is not None:
            return done
    return render(request, "mibg/followup/form.html", {
        "form": form, "course": course, "patient": course.patient, "title": _("Record a transfusion"),
        "button": _("Store the transfusion")})


def void_view(model: type[Model], action: str, anchor: str) -> Callable[[HttpRequest, int], HttpResponseBase]:
    """A page that voids one record (with a reason), guarded by the action that creates such records."""

    @action_required(get=action, post=action)
    def view(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
        record = get_object_or_404(model.objects.select_related("course__patient"), pk=pk)  # type: ignore[attr-defined]
        course = record.course
        form = VoidForm(request.POST or None, initial={"form_token": form_token(request)})
        if request.method == "POST" and form.is_valid():
            done = _store_once(request, form, course, anchor,
                               lambda: services.void(request.user, record, form.cleaned_data["reason"]),
                               lambda _r: _("Void: %(record)s. It stays in the record, marked void.") % {"record": record})
            if done is not None:
                return done
        return render(request, "mibg/followup/form.html", {
            "form": form, "course": course, "patient": course.patient, "title": _("Void: %(record)s")
                                                                                % {"record": record},
            "explain": _("A void record stays in the tables and the audit trail, marked void, and no longer counts "
                         "in grades, plots or the programme view."), "button": _("Void it"), "danger": True})

    view.__name__ = f"void_{model.__name__.lower()}"
    return view


lab_void = void_view(LabResult, "lab.enter", "labs")
transfusion_void = void_view(Transfusion, "transfusion.record", "transfusions")
ae_void = void_view(AdverseEvent, "adverse_event.record", "adverse-events")
curie_void = void_view(CurieAssessment, "response.record", "response")
inrc_void = void_view(InrcAssessment, "response.record", "response")


# ---- adverse events -----------------------------------------------------------------------------------


def _ae_values(form: AdverseEventForm) -> dict[str, Any]:
    return {k: form.cleaned_data[k] for k in services.AE_FIELDS}


def _offered(request: HttpRequest) -> dict[str, Any]:
    """The prefill a grade 3 or 4 lab result offers (term, grade, start date), each value checked by the form."""
    if request.method != "GET":
        return {}
    offered = {k: request.GET[k] for k in ("term", "grade", "started_on") if request.GET.get(k)}
    if offered.get("term") not in ae_terms():
        offered.pop("term", None)
    return offered


def _picked_term(form: AdverseEventForm, event: AdverseEvent | None) -> dict[str, Any]:
    """The term shown beside the pick: the one picked (or offered), else the stored one (perhaps free text)."""
    name = str(form["term"].value() or "")
    stored = event.term if event is not None else ""
    return {"term": ae_terms().get(name), "stored": stored, "stored_is_ctcae": is_ctcae_term(stored) if stored else True}


@action_required(get="patient.view")
def ctcae_terms(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The CTCAE v5.0 terms with MedDRA codes and grade definitions; with ``?term=`` and htmx, one term's card."""
    name = request.GET.get("term", "")
    if request.headers.get("HX-Request"):
        return render(request, "mibg/followup/_ae_term.html", {"term": ae_terms().get(name)})
    return render(request, "mibg/followup/ctcae_terms.html", {
        "terms": sorted(ae_terms().values(), key=lambda t: t.name), "picked": name})


@action_required(get="adverse_event.record", post="adverse_event.record")
@entry_refusals
def ae_new(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    course = get_course(pk)
    services.check_open(course)  # Refused: said on the course page (entry_refusals)
    form = AdverseEventForm(request.POST or None, initial={"form_token": form_token(request), **_offered(request)})
    if request.method == "POST" and form.is_valid():
        done = _store_once(request, form, course, "adverse-events",
                           lambda: services.record_adverse_event(request.user, course, _ae_values(form)),
                           lambda event: _("Stored: %(record)s.") % {"record": event}
                           + (" " + _("A physician must review this SAE.") if event.serious else ""),
                           warn_if=lambda event: event.serious)
        if done is not None:
            return done
    return render(request, "mibg/followup/ae_form.html", {
        "form": form, "course": course, "patient": course.patient, "term": _picked_term(form, None),
        "title": _("Record an adverse event")})


@action_required(get="adverse_event.record", post="adverse_event.record")
def ae_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    event = get_object_or_404(AdverseEvent.objects.select_related("course__patient"), pk=pk)
    course = event.course
    initial = {"form_token": form_token(request), "version": event.version,
               **{k: getattr(event, k) for k in services.AE_FIELDS}}
    initial["serious"] = "yes" if event.serious else "no"
    form = AdverseEventForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        done = _store_once(request, form, course, "adverse-events",
                           lambda: services.update_adverse_event(request.user, event, form.cleaned_data["version"] or 0,
                                                                 _ae_values(form)),
                           lambda _r: _("Saved: %(event)s (version %(version)s).") % {"event": event, "version": event.version}
                           + (" " + _("A physician must review this version of the SAE.") if event.serious else ""))
        if done is not None:
            return done
    return render(request, "mibg/followup/ae_form.html", {
        "form": form, "course": course, "patient": course.patient, "term": _picked_term(form, event),
        "title": _("Change the adverse event (%(term)s, version %(version)s)")
                 % {"term": event.term, "version": event.version}, "event": event})


@action_required(get="adverse_event.attribute", post="adverse_event.attribute")
def ae_sign(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The physician attributes a nurse's draft adverse event and signs it with password re-entry (issue 15)."""
    event = get_object_or_404(AdverseEvent.objects.select_related("course__patient", "recorded_by"), pk=pk)
    course = event.course
    form = AeSignForm(request.POST or None, initial={"form_token": form_token(request), "version": event.version})
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        done = save_once(request, form, lambda name: services.sign_adverse_event(request.user, name, event, d["version"],
                                                                                d["attribution"]),
                         signature=Signature(d["password"], event, course.patient, "adverse event attribution"),
                         then=lambda: _to_followup(course, "adverse-events"), stop_notice=messages.error,
                         said=lambda _r: _("Attributed and signed: %(term)s, grade %(grade)s.") % {"term": event.term, "grade": event.grade})
        if done is not None:
            return done
    return render(request, "mibg/followup/ae_sign.html", {
        "form": form, "course": course, "patient": course.patient, "event": event})


@action_required(get="sae.review", post="sae.review")
def sae_review(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    event = get_object_or_404(AdverseEvent.objects.select_related("course__patient", "recorded_by"), pk=pk)
    course = event.course
    form = SaeReviewForm(request.POST or None, initial={"form_token": form_token(request), "version": event.version})
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        done = save_once(request, form, lambda name: services.review_sae(request.user, name, event, d["version"], d["note"]),
                         signature=Signature(d["password"], event, course.patient, "serious adverse event review"),
                         then=lambda: _to_followup(course, "adverse-events"),
                         said=lambda _r: _("Review of the SAE '%(term)s' recorded and signed.") % {"term": event.term})
        if done is not None:
            return done
    return render(request, "mibg/followup/sae_review.html", {
        "form": form, "course": course, "patient": course.patient, "event": event})


# ---- response -----------------------------------------------------------------------------------------


@action_required(get="response.record", post="response.record")
@entry_refusals
def curie_new(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    course = get_course(pk)
    services.check_open(course)  # Refused: said on the course page (entry_refusals)
    form = CurieForm(request.POST or None, initial={"form_token": form_token(request)})
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        done = _store_once(request, form, course, "response",
                           lambda: services.record_curie(request.user, course, d["timepoint"], d["scan_date"], d),
                           lambda record: _("Stored: %(record)s.") % {"record": record})
        if done is not None:
            return done
    return render(request, "mibg/followup/curie_form.html", {"form": form, "course": course, "patient": course.patient})


@action_required(get="response.record", post="response.record")
@entry_refusals
def inrc_new(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    course = get_course(pk)
    services.check_open(course)  # Refused: said on the course page (entry_refusals)
    form = InrcForm(request.POST or None, initial={"form_token": form_token(request)})
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        done = _store_once(request, form, course, "response",
                           lambda: services.record_inrc(request.user, course, d["assessed_on"], d["primary"],
                                                        d["metastases"], d["marrow"], d["note"]),
                           lambda record: _("Stored: %(record)s. %(explanation)s") % {"record": record, "explanation": record.explanation},
                           warn_if=lambda record: record.needs_review)
        if done is not None:
            return done
    return render(request, "mibg/followup/form.html", {
        "form": form, "course": course, "patient": course.patient, "title": _("INRC 2017 response"),
        "explain": _("Enter each component's response; the overall response is derived from them (clinical-reference "
                     "§6.2; the INRC component tables are UNVERIFIED, §8 item 6)."),
        "button": _("Store the assessment")})


# ---- the programme ------------------------------------------------------------------------------------


@action_required(get="patient.view")
def programme_view(request: AuthenticatedHttpRequest) -> HttpResponse:
    rows = programme.rows()
    log_event(request.user, "view", request.user, None, note=f"programme view ({len(rows)} courses)")
    return render(request, "mibg/followup/programme.html", {
        "table": [{"course": r["course_obj"], "cells": programme.display_cells(r)} for r in rows],
        "columns": programme.COLUMNS,
        "figure": plots.inline_svg(programme.figure(rows), _("Administered mCi/kg against whole-body dose, "
                                                                       "platelet nadir and ANC nadir, one point per "
                                                                       "course")) if rows else "",
        "whole_body_source": programme.WHOLE_BODY_SOURCE})


@action_required(get="patient.view")
def programme_csv(request: AuthenticatedHttpRequest) -> HttpResponse:
    rows = programme.rows()
    log_event(request.user, "export", request.user, None, note=f"programme CSV ({len(rows)} courses)")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="mibg-programme-{timezone.localdate():%Y-%m-%d}.csv"'
    writer = csv.writer(response)
    writer.writerow([c.header for c in programme.COLUMNS])
    for row in rows:
        writer.writerow(programme.csv_cells(row))
    return response


@action_required(get="patient.view")
def programme_png(request: AuthenticatedHttpRequest) -> HttpResponse:
    rows = programme.rows()
    log_event(request.user, "view", request.user, None, note=f"programme plot ({len(rows)} courses)")
    return HttpResponse(plots.png(programme.figure(rows)), content_type="image/png")

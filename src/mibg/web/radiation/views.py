"""The radiation section of a course: readings (htmx refresh), the plot, the signed release and the written
instructions, and the stem-cell infusion."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from mibg.core import course_state
from mibg.core.course_state import CourseFacts, CourseState, TransitionRefused
from mibg.core.errors import InputError
from mibg.protocol import load_protocol
from mibg.reports.pdf.family_instructions import family_instructions_pdf
from mibg.reports.record import PatientIdentity
from mibg.web import plotcache
from mibg.web.audit.trail import log_view
from mibg.web.authenticated import AuthenticatedHttpRequest
from mibg.web.courses.models import Course
from mibg.web.courses.views import get_course
from mibg.web.errors import AlreadySubmitted, BadEntry, Refused
from mibg.web.page_reads import for_page
from mibg.web.permissions import action_required, allowed
from mibg.web.radiation import family_sheet, services
from mibg.web.radiation.forms import (
    CorrectionForm,
    ReadingForm,
    ReleaseForm,
    StemCellCorrectionForm,
    StemCellForm,
    VoidForm,
)
from mibg.web.radiation.models import ExposureReading, ReleaseRecord, StemCellInfusion
from mibg.web.radiation.plots import describe, readings_png, readings_svg
from mibg.web.safety import FIELD_ERRORS, Signature, field_error, form_token, once, save_once
from mibg.web.templatetags.mibg import when

#: The plot is patient data: never cached; opened on its own, the SVG may use its own inline styles.
PLOT_HEADERS = {"Cache-Control": "no-store", "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"}


def _now_minute() -> datetime:
    return timezone.localtime().replace(second=0, microsecond=0)


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _course_url(course: Course) -> str:
    return reverse("courses:detail", args=[course.pk]) + "#radiation"


def _reading_initial(request: AuthenticatedHttpRequest, course: Course) -> dict[str, Any]:
    """A new reading starts from the last one's meter, and is the pre-void reading when it is the first."""
    last = course.exposure_readings.filter(voided_at__isnull=True).order_by("-measured_at").first()
    initial: dict[str, Any] = {"form_token": form_token(request), "measured_at": _now_minute(),
                               "measured_by": request.user.signature_name(), "before_first_void": last is None}
    if last is not None:
        initial |= {"instrument_id": last.instrument_id, "instrument_calibration_due": last.instrument_calibration_due}
    return initial


def _plot_b64(d: services.Dosimetry) -> str:
    """The plot as an SVG data URI payload: drawn inside the page, and allowed by its Content-Security-Policy
    (img-src data:), which would refuse the SVG's own inline styles if it were inlined as markup."""
    return base64.b64encode(_readings_svg(d).encode()).decode()


def _readings_svg(d: services.Dosimetry) -> str:
    """The plot, drawn once per set of readings (mibg.web.plotcache): keyed by what dosimetry_from reads."""
    a = d.administration
    data = (d.course.number, d.protocol.label, plotcache.protocol_key(d.protocol),
            None if a is None else (a.started_at, a.administered_mci, a.directive.weight_kg),
            [(r.pk, r.version, r.measured_at, r.mr_per_h, r.background_mr_per_h, r.before_first_void) for r in d.readings])
    return plotcache.drawn("readings-svg", data, lambda: readings_svg(d))


def section_context(request: AuthenticatedHttpRequest, course: Course, *, form: ReadingForm | None = None,
                    notice: str = "") -> dict[str, Any]:
    """What the radiation section shows (the course page includes it; htmx refreshes it after each reading)."""
    # Every reading in one query: the active ones (in time order, as services.active_readings reads them) for the
    # dosimetry, the void ones listed below the table.
    every = list(course.exposure_readings.select_related("voided_by").order_by("measured_at", "id"))
    d = services.dosimetry_from(course, services.administration_of(course), [r for r in every if r.voided_at is None],
                                services.stored_products(course), load_protocol())
    entering = allowed(request.user, "reading.record") and course.state_enum in services.READING_STATES
    if entering and form is None:
        form = ReadingForm(initial=_reading_initial(request, course))
    return {
        "course": course, "d": d, "form": form if entering else None, "notice": notice,
        "plot_b64": _plot_b64(d) if d.administration else "", "plot_alt": describe(d),
        "record": services.release_record(course),
        "voided": [r for r in every if r.voided_at is not None],
        # decisions.md A37: superseded records stay visible, marked, beside their correction
        "infusions": list(StemCellInfusion.history.filter(course=course).select_related("recorded_by")),
        "anc_rescue": services.anc_rescue_of(course, d),
        "can_release": allowed(request.user, "course.release") and course.state_enum is CourseState.INPATIENT,
        "can_stem_cells": allowed(request.user, "stem_cells.record") and course.state_enum in services.STEM_CELL_STATES,
        "can_correct": entering,
    }


@action_required(get="patient.view")
def section(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The section alone, for an htmx refresh. Opened directly (a bookmark, a new tab) it is the whole page: every
    URL a person can open shows styles and navigation (issue 15)."""
    if not _is_htmx(request):
        return redirect("radiation:readings", pk)
    course = get_course(pk)
    return render(request, "mibg/radiation/section.html", section_context(request, course))


@action_required(get="patient.view", post="reading.record")
def readings(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """GET: the radiation section on a page of its own. POST: a new reading; with htmx the section comes back
    refreshed (plot, fit, predicted release), otherwise the course page."""
    course = get_course(pk)
    if request.method == "GET":
        for_page(course)  # a page that only reads: its parts share their reads (mibg.web.page_reads)
    form, notice = None, ""
    if request.method == "POST":
        form = ReadingForm(request.POST)
        if form.is_valid():
            entry = form.entry()
            try:
                reading = once(request, lambda: services.record_reading(request.user, course, entry))
            except FIELD_ERRORS as error:
                field_error(form, error)
            except AlreadySubmitted as error:
                form, notice = None, error.message
            else:
                notice = (f"Reading recorded: {reading.mr_per_h} mR/h at 1 m at {when(reading.measured_at)} "
                          f"by {reading.measured_by}.")
                form = None
                if not _is_htmx(request):
                    messages.success(request, notice)
                    return redirect(_course_url(course))
    context = section_context(request, course, form=form, notice=notice)
    if _is_htmx(request):
        return render(request, "mibg/radiation/section.html", context)
    log_view(request.user, course.patient, f"course {course.number}: radiation readings")
    return render(request, "mibg/radiation/readings.html", {**context, "patient": course.patient})


def _reading(pk: int) -> ExposureReading:
    return get_object_or_404(ExposureReading.objects.select_related("course__patient"), pk=pk)


@action_required(get="reading.record", post="reading.record")
def correct(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    reading = _reading(pk)
    course = reading.course
    initial = {"form_token": form_token(request), "version": reading.version,
               **{k: getattr(reading, k) for k in ("measured_at", "mr_per_h", "background_mr_per_h", "before_first_void",
                                                   "instrument_id", "instrument_calibration_due", "measured_by", "note")}}
    form = CorrectionForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        done = save_once(request, form, lambda: services.correct_reading(request.user, reading, form.cleaned_data["version"],
                                                                         form.entry(), form.cleaned_data["reason"]),
                         then=lambda: redirect(_course_url(course)),
                         said=lambda _saved: _("Reading corrected; the dosimetry is recomputed from the corrected reading."))
        if done is not None:
            return done
    return render(request, "mibg/radiation/reading_form.html", {
        "form": form, "course": course, "patient": course.patient, "reading": reading,
        "title": _("Correct a reading"), "button": _("Save the correction")})


@action_required(get="reading.record", post="reading.record")
def void(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    reading = _reading(pk)
    course = reading.course
    form = VoidForm(request.POST or None, initial={"form_token": form_token(request), "version": reading.version})
    if request.method == "POST" and form.is_valid():
        done = save_once(request, form, lambda: services.void_reading(request.user, reading, form.cleaned_data["version"],
                                                                      form.cleaned_data["reason"]),
                         then=lambda: redirect(_course_url(course)),
                         said=lambda _r: _("Reading of %(when)s is void: it no longer counts in the dosimetry.")
                         % {"when": when(reading.measured_at)},
                         notice=lambda _: messages.warning)
        if done is not None:
            return done
    return render(request, "mibg/radiation/reading_form.html", {
        "form": form, "course": course, "patient": course.patient, "reading": reading,
        "title": _("Void a reading"), "button": _("Void the reading"), "danger": True})


@action_required(get="patient.view")
def plot_svg(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    d = services.compute_dosimetry(get_course(pk))
    return HttpResponse(_readings_svg(d), content_type="image/svg+xml; charset=utf-8", headers=PLOT_HEADERS)


@action_required(get="patient.view")
def plot_png(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    d = services.compute_dosimetry(get_course(pk))
    return HttpResponse(readings_png(d), content_type="image/png", headers=PLOT_HEADERS)


def _transition_refusal(course: Course) -> str | None:
    try:
        course_state.apply("release", course.state, CourseFacts())
    except TransitionRefused as error:
        return error.message
    return None


@action_required(get="patient.view", post="course.release")
def release(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The release assessment and, when every criterion holds, the physicist's signature."""
    course = get_course(pk)
    record = ReleaseRecord.objects.filter(course=course).select_related("reading").first()
    d = services.compute_dosimetry(course)
    refusal = services.release_refusal(d)
    step_refusal = _transition_refusal(course) if record is None else None
    form = ReleaseForm(request.POST or None, initial={
        "form_token": form_token(request), "version": course.version, "basis": d.fingerprint,
        "released_at": _now_minute()})
    if request.method == "POST" and form.is_valid():
        entry = form.entry()
        try:
            done = save_once(
                request, form, lambda name: services.release(request.user, name, course, form.cleaned_data["version"], entry),
                signature=Signature(form.cleaned_data["password"], course, course.patient,
                                    "release from radiation isolation (10 CFR 35.75)"),
                then=lambda: redirect("radiation:release", pk=pk), field_errors=(InputError, BadEntry),
                said=lambda signed: _("Release signed by %(name)s. The course is now '%(state)s'. Print the written "
                                      "instructions for the family.")
                % {"name": signed.signed_name, "state": CourseState.RELEASED.label})
        except Refused as error:
            if error.field == "basis":  # the readings changed: show the new assessment, with a fresh form
                messages.error(request, error.message)
                return redirect("radiation:release", pk=pk)
            field_error(form, error)
        else:
            if done is not None:
                return done
    log_view(request.user, course.patient, f"course {course.number}: release")
    return render(request, "mibg/radiation/release.html", {
        "course": course, "patient": course.patient, "d": d, "record": record, "refusal": refusal,
        "step_refusal": step_refusal, "form": form,
        "can_sign": allowed(request.user, "course.release") and record is None and not refusal and not step_refusal,
        "preview": services.family_instructions(d, timezone.now()) if record is None and refusal is None else None,
        "plot_b64": _plot_b64(d) if d.administration else "", "plot_alt": describe(d),
    })


def _instructions_data(request: HttpRequest, course: Course) -> tuple[Any, dict[str, Any], bool] | None:
    """The signed instructions after release, a draft from the current readings before; None (with a message) if
    there is nothing to work them out from yet."""
    record = ReleaseRecord.objects.filter(course=course).first()
    if record is not None:
        return record, record.instructions, False
    d = services.compute_dosimetry(course)
    if d.release is not None:
        return None, services.family_instructions(d, timezone.now()), True
    messages.error(request, _("No instructions yet: %(problem)s") % {"problem": d.problem})
    return None


def _sheet_language(request: HttpRequest) -> str | None:
    try:
        return family_sheet.language_of(request.GET.get("lang"))
    except ValueError as error:
        messages.error(request, str(error))
        return None


@action_required(get="patient.view")
def instructions(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The written instructions for the parent or guardian, to print, in the family's language (``?lang=es``)."""
    course = get_course(pk)
    language = _sheet_language(request)
    found = _instructions_data(request, course) if language else None
    if language is None or found is None:
        return redirect(_course_url(course))
    record, data, draft = found
    sheet = family_sheet.family_sheet(course.patient, data, draft=draft, record=record, language=language)
    log_view(request.user, course.patient, f"course {course.number}: written instructions ({language})")
    return render(request, "mibg/radiation/instructions.html", {
        "course": course, "patient": course.patient, "record": record, "draft": draft, "sheet": sheet,
        "languages": family_sheet.LANGUAGES,
    })


@action_required(get="patient.view")
def instructions_pdf(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The same sheet as a PDF (the release sheet the family takes home), in the family's language."""
    course = get_course(pk)
    language = _sheet_language(request)
    found = _instructions_data(request, course) if language else None
    if language is None or found is None:
        return redirect(_course_url(course))
    record, data, draft = found
    sheet = family_sheet.family_sheet(course.patient, data, draft=draft, record=record, language=language)
    created = record.signed_at if record is not None else timezone.now()
    patient = course.patient
    identity = PatientIdentity(family=patient.family_name, given=patient.given_name, mrn=patient.mrn,
                               birth_date=patient.birth_date, sex=patient.sex)
    pdf = family_instructions_pdf(sheet, identity, load_protocol().label, created, course.number,
                                  getattr(settings, "MIBG_SITE_NAME", ""))
    log_view(request.user, course.patient, f"course {course.number}: written instructions PDF ({language})")
    response = HttpResponse(pdf, content_type="application/pdf")
    draft_part = "-DRAFT" if draft else ""
    response["Content-Disposition"] = (f'inline; filename="instructions-{course.patient.mrn}-course{course.number}'
                                       f'-{language}{draft_part}.pdf"')
    return response


@action_required(get="stem_cells.record", post="stem_cells.record")
def stem_cells(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    course = get_course(pk)
    d = services.compute_dosimetry(course)
    form = StemCellForm(request.POST or None, initial={"form_token": form_token(request), "infused_at": _now_minute()})
    if request.method == "POST" and form.is_valid():
        done = save_once(request, form, lambda: services.record_stem_cells(request.user, course, form.entry()),
                         then=lambda: redirect(_course_url(course)),
                         said=lambda infusion: _("Stem-cell infusion recorded: %(product)s, %(cells)s %(unit)s at %(when)s.")
                         % {"product": infusion.product, "cells": format(infusion.cells_per_kg, ".3E"),
                            "unit": infusion.unit, "when": when(infusion.infused_at)})
        if done is not None:
            return done
    return render(request, "mibg/radiation/stem_cells.html", {
        "form": form, "course": course, "patient": course.patient, "d": d})


@action_required(get="stem_cells.record", post="stem_cells.record")
def stem_cells_correct(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """decisions.md A37: a corrected stem-cell infusion supersedes the recorded one; the old one stays visible."""
    infusion = get_object_or_404(StemCellInfusion.history.select_related("course__patient"), pk=pk)
    course = infusion.course
    initial = {"form_token": form_token(request),
               **{k: getattr(infusion, k) for k in ("infused_at", "product_type", "product", "cells_per_kg", "given_by",
                                                   "note", "early_reason", "early_reason_by")}}
    form = StemCellCorrectionForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        done = save_once(request, form, lambda: services.correct_stem_cells(request.user, infusion, form.entry(),
                                                                            form.cleaned_data["reason"]),
                         then=lambda: redirect(_course_url(course)),
                         said=lambda _saved: _("Stem-cell infusion corrected; the record it replaces stays on the course, marked "
                                        "superseded."))
        if done is not None:
            return done
    return render(request, "mibg/radiation/stem_cells.html", {
        "form": form, "course": course, "patient": course.patient, "d": services.compute_dosimetry(course),
        "correcting": infusion})

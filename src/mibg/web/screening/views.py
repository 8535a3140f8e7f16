"""Screening: the snapshot form, the evaluation with every criterion, and the study chair's decisions."""

from __future__ import annotations

import json

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from mibg.core.course_state import BEFORE_ADMINISTRATION
from mibg.protocol import load_protocol
from mibg.web.audit.trail import log_view
from mibg.web.course_record import screening_form_data
from mibg.web.courses.models import Course
from mibg.web.courses.views import get_course
from mibg.web.errors import STOPS, NotEditable
from mibg.web.forms import set_choices
from mibg.web.permissions import action_required
from mibg.web.safety import Signature, form_token, save_once
from mibg.web.screening import services
from mibg.web.screening.forms import ScreeningForm, with_more_rows
from mibg.web.screening.models import Evaluation
from mibg.web.screening.spec import label_of


@action_required(get="screening.edit", post="screening.edit")
def screening_form(request: HttpRequest, pk: int) -> HttpResponse:
    course = get_course(pk)
    if course.state_enum not in services.EDITABLE_STATES:
        messages.info(request, NotEditable(course.state_enum).message)
        return redirect("courses:detail", pk=pk)
    if request.method == "POST":
        if "add_rows" in request.POST:  # "More rows": the form again with room for more; nothing is saved
            form = ScreeningForm(with_more_rows(request.POST))
        else:
            form = ScreeningForm(request.POST)
        if "add_rows" not in request.POST and form.is_valid():
            fixed = {**services.fixed_values(course), "chair_decisions": services.chair_decisions_data(course)}
            snapshot = form.to_snapshot(fixed)
            if snapshot is not None:
                done = save_once(request, form, lambda: services.save_and_evaluate(request.user, course,
                                                                                   form.cleaned_data["version"], snapshot),
                                 then=lambda: redirect("courses:detail", pk=pk), stop_errors=(*STOPS, NotEditable),
                                 said=lambda evaluation: f"Screening data saved and evaluated: {evaluation.overall}.",
                                 done=lambda evaluation: redirect("screening:evaluation", pk=evaluation.pk))
                if done is not None:
                    return done
    else:
        form = ScreeningForm(snapshot=screening_form_data(course),
                             initial={"form_token": form_token(request), "version": course.version})
        log_view(request.user, course.patient, f"screening form, course {course.number}")
    return render(request, "mibg/screening/form.html", {
        "form": form, "course": course, "patient": course.patient, "fixed": services.fixed_values(course)})


@action_required(get="patient.view")
def evaluation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    evaluation = get_object_or_404(Evaluation.objects.select_related("course__patient", "evaluated_by"), pk=pk)
    course = evaluation.course
    typed = evaluation.eligibility
    result = typed.to_json()  # the stored shape, as the page shows it (dates as ISO text)
    latest = services.latest_evaluation(course)
    log_view(request.user, course.patient, f"screening evaluation {evaluation.pk}")
    # Each missing datum named as the form names it, linked to its input (never the snapshot path; issue 15).
    criteria = [{**c.to_json(), "missing_named": [(m, label_of(m)) for m in c.missing]} for c in typed.criteria]
    return render(request, "mibg/screening/result.html", {
        "evaluation": evaluation, "course": course, "patient": course.patient, "result": result,
        "criteria": criteria, "is_latest": latest is not None and latest.pk == evaluation.pk,
        "counts": {s: sum(1 for c in criteria if c["status"] == s) for s in ("met", "not met", "unknown", "needs review")},
        "snapshot": json.dumps(json.loads(evaluation.snapshot_json), indent=2),
        "decisions": load_protocol().decisions,
    })


class ChairDecisionForm(forms.Form):
    form_token = forms.CharField(widget=forms.HiddenInput, required=False)
    criterion = forms.ChoiceField(label="Criterion or dose limit")
    cleared = forms.TypedChoiceField(label="Decision", choices=[("yes", "Cleared: the patient may proceed"),
                                                                 ("no", "Not cleared")],
                                     coerce=lambda v: v == "yes", widget=forms.RadioSelect)
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), label="Reason")
    password = forms.CharField(widget=forms.PasswordInput, label="Your password (signature)")


def _reviewable(course: Course) -> list[tuple[str, str]]:
    """'Needs review' criteria of the latest evaluation, and the dose limits a chair decision can clear."""
    choices: list[tuple[str, str]] = []
    latest = services.latest_evaluation(course)
    if latest is not None:
        # PD (the planned dose) is decided on the dose limit it names, S2 or R2, listed below (decisions.md A35).
        choices += [(c.id, f"{c.id} — {c.title} ({c.status})") for c in latest.eligibility.criteria
                    if (c.status == "needs review" or c.chair_clearable) and c.id != "PD"]
    choices += [(d.id, f"{d.id} — dose limit: {d.title}") for d in load_protocol().dose_limits if d.chair_clearable]
    return choices


@action_required(get="chair.decide", post="chair.decide")
def chair_decision(request: HttpRequest, pk: int) -> HttpResponse:
    course = get_course(pk)
    if course.state_enum not in BEFORE_ADMINISTRATION:
        messages.error(request, "Chair decisions are recorded before the administration.")
        return redirect("courses:detail", pk=pk)
    form = ChairDecisionForm(request.POST or None, initial={"form_token": form_token(request)})
    set_choices(form, "criterion", _reviewable(course))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        done = save_once(request, form, lambda name: services.record_chair_decision(
                             request.user, name, course, data["criterion"], data["cleared"], data["reason"]),
                         signature=Signature(data["password"], course, course.patient, "study chair decision"),
                         then=lambda: redirect("courses:detail", pk=pk), stop_errors=(*STOPS, NotEditable),
                         said=lambda _: f"Decision on {data['criterion']} recorded and signed; the course was evaluated again.")
        if done is not None:
            return done
    return render(request, "mibg/screening/chair.html", {"form": form, "course": course, "patient": course.patient,
                                                         "latest": services.latest_evaluation(course),
                                                         "planned": services.planned_dose(course)})


@action_required(get="programme.rescreen", post="programme.rescreen")
def rescreen(request: HttpRequest) -> HttpResponse:
    """Every open course screened again, the changed verdicts listed (read-only; services.rescreen_programme)."""
    report = services.rescreen_programme(request.user) if request.method == "POST" else None
    return render(request, "mibg/screening/rescreen.html", {"report": report, "protocol": load_protocol().label})

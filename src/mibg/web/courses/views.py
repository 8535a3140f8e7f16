"""The course page and the course steps that need no form of their own (eligibility, admission, release, ...)."""

from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from mibg.core import course_state
from mibg.core.course_state import ORDER, CourseState
from mibg.web.audit.trail import log_view
from mibg.web.course_record import numbers_hidden, take_step
from mibg.web.courses.models import Course
from mibg.web.courses.next_action import next_action
from mibg.web.forms import datetime_field
from mibg.web.page_reads import for_page, once
from mibg.web.permissions import STEP_ACTIONS, action_required, allowed
from mibg.web.safety import form_token, parse_version, save_once
from mibg.web.treatment.models import Administration, Assay


def get_course(pk: int) -> Course:
    return get_object_or_404(Course.objects.select_related("patient"), pk=pk)


class StepForm(forms.Form):
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}), label=gettext_lazy("Note"))
    occurred_at = datetime_field("When it happened")


@action_required(get="patient.view")
def course_detail(request: HttpRequest, pk: int) -> HttpResponse:
    # The sections share their reads (mibg.web.page_reads); the history table names who started the course.
    course = for_page(get_object_or_404(Course.objects.select_related("patient", "created_by"), pk=pk))
    directives = list(course.directives.select_related("signed_by").prefetch_related("verifications").order_by("-version"))
    current = next((d for d in directives if d.status == "signed"), None)
    once(course, "current_directive", lambda: current)  # the sections ask for it too (services.current_directive)
    state = course.state_enum
    steps = []
    for t in course_state.available(state):
        if t.event in STEP_ACTIONS and allowed(request.user, f"course.{t.event}"):
            steps.append(t)
    log_view(request.user, course.patient, f"course {course.number}")
    evaluation = course.evaluations.order_by("-evaluated_at", "-id").defer("result_json", "snapshot_json").first()
    once(course, "has_evaluation", lambda: evaluation is not None)  # the documents panel asks
    # decisions.md A37: superseded entries stay visible beside their corrections. The current ones (not superseded)
    # are what the sections read as the course's administration (mibg.web.courses.services.latest_administration:
    # the latest by its start, with its directive) and the documents panel as "has an administration".
    administrations = list(Administration.history.filter(course=course).select_related("recorded_by", "directive"))
    current_given = [a for a in administrations if a.superseded_at is None]
    once(course, "administration", lambda: max(current_given, key=lambda a: a.started_at, default=None))
    once(course, "has_administration", lambda: bool(current_given))
    return render(request, "mibg/courses/detail.html", {
        "course": course, "patient": course.patient, "state": state,
        "line": [(s, ORDER.index(s) < ORDER.index(state), s is state) for s in ORDER if s is not CourseState.CLOSED or state is s],
        # The page shows the verdict only: not the criteria (about 20 kB of JSON) nor the snapshot.
        "evaluation": evaluation,
        "next": next_action(request.user, course.pk, state, evaluation.overall if evaluation else None),
        "directives": directives, "current": current, "hide_numbers": numbers_hidden(request.user, course, current),
        # decisions.md A37: superseded entries stay visible beside their corrections
        "assays": list(Assay.history.filter(course=course).select_related("recorded_by")),
        "administrations": administrations,
        "history": list(course.steps.select_related("by").all()),
        "decisions": list(course.chair_decisions.all()),
        "steps": steps, "step_form": StepForm(), "token": form_token(request) if steps else "",
    })


def step_view(event: str) -> Callable[[HttpRequest, int], HttpResponseBase]:
    """One view per course step, each guarded by its own action ``course.<event>``."""

    @action_required(post=f"course.{event}")
    def view(request: HttpRequest, pk: int) -> HttpResponse:
        course = get_course(pk)
        form = StepForm(request.POST)
        if not form.is_valid():
            for field, errors in form.errors.items():
                messages.error(request, f"{field}: {' '.join(str(e) for e in errors)}")
            return redirect("courses:detail", pk=pk)
        back = redirect("courses:detail", pk=pk)
        save_once(request, None, lambda: take_step(request.user, course, event, parse_version(request.POST.get("version")),
                                                   note=form.cleaned_data["note"],
                                                   occurred_at=form.cleaned_data["occurred_at"]),
                  then=lambda: back, said=lambda _r: _("%(step)s: done. The course is now '%(state)s'.")
                  % {"step": course_state.transition(event).title, "state": course.state_enum.label})
        return back

    view.__name__ = f"step_{event}"
    return view

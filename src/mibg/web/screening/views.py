"""Screening: the snapshot form, the evaluation with every criterion, and the study chair's decisions."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

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
from mibg.web.screening.spec import GROUPS, SECTION_BY_KEY, SECTIONS, groups_of, label_of, section_of
from mibg.web.words import verdict


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def section_results(course: Any, evaluation: Evaluation | None) -> dict[str, dict[str, Any]]:
    """Per section of the form: its criteria's results in the latest evaluation, a one-line summary in the
    patient's words, and the data missing, each named as the form names it (never a snapshot path) with the
    section and anchor where it is entered."""
    out: dict[str, dict[str, Any]] = {s.key: {"criteria": [], "missing": [], "summary": ""} for s in SECTIONS}
    if evaluation is None:
        return out
    group_of = {c.id: c.group for c in load_protocol().criteria}
    home = {group: s.key for s in SECTIONS for group in s.criteria_groups}
    seen: set[str] = set()
    for c in evaluation.eligibility.criteria:
        part = out[home.get(group_of.get(c.id, ""), SECTIONS[-1].key)]
        part["criteria"].append(c)
        for path in c.missing:
            if path not in seen:
                seen.add(path)
                part["missing"].append({"label": label_of(path), "anchor": f"f-{path}", "section": section_of(path)})
    for part in out.values():
        applying = [c for c in part["criteria"] if c.applies]
        counts = Counter(verdict(str(c.status), c.kind) for c in applying)
        said = [f"{n} {word}" for word, n in counts.items()]
        if part["missing"]:
            said.append(f"{len(part['missing'])} data missing")
        part["summary"] = ", ".join(said) or "no criterion applies"
        part["state"] = ("not-met" if any(str(c.status) == "not met" for c in applying) else
                         "needs-review" if any(str(c.status) == "needs review" for c in applying) else
                         "unknown" if any(str(c.status) == "unknown" for c in applying) else "met")
    return out


def _open_section(request: HttpRequest, results: dict[str, dict[str, Any]], evaluated: bool) -> str:
    """The section shown open: the one asked for, else the first with something to do (data missing, a
    criterion not met or for the chair), else the first before any evaluation."""
    asked = request.GET.get("open", "")
    if asked in SECTION_BY_KEY:
        return asked
    if not evaluated:
        return SECTIONS[0].key
    return next((key for key, part in results.items() if part["missing"] or part.get("state") != "met"), "")


def _page(request: HttpRequest, course: Any, form: ScreeningForm, opened: str,
          section_form: ScreeningForm | None = None) -> HttpResponse:
    latest = services.latest_evaluation(course)
    results = section_results(course, latest)
    parts = form.parts()
    if section_form is not None:
        mine = section_form.parts()[0]
        parts = [mine if p["section"].key == mine["section"].key else p for p in parts]
    return render(request, "mibg/screening/form.html", {
        "form": form, "parts": parts, "section_form": section_form, "course": course, "patient": course.patient, "fixed": services.fixed_values(course),
        "results": results, "latest": latest, "opened": opened or _open_section(request, results, latest is not None)})


def _section_fragment(request: HttpRequest, course: Any, key: str, form: ScreeningForm | None, notice: str = "") -> HttpResponse:
    """One section again after its save (htmx): the section open with its criteria's results, and, out of band,
    the other sections' summaries, the form's new version and one-time token."""
    saved = form is None
    if form is None:  # saved: the section as stored now
        form = ScreeningForm(snapshot=screening_form_data(course), groups=groups_of(key))
    latest = services.latest_evaluation(course)
    return render(request, "mibg/screening/section_saved.html", {
        "form": form, "course": course, "patient": course.patient, "fixed": services.fixed_values(course),
        "part": next(p for p in form.parts() if p["section"].key == key), "results": section_results(course, latest),
        "latest": latest, "opened": key, "notice": notice, "token": form_token(request), "sections": SECTIONS,
        # after a save the stored version; after a refusal the one posted (never a newer one: that would overwrite)
        "version": course.version if saved else request.POST.get("version", "")})


@action_required(get="screening.edit", post="screening.edit")
def screening_form(request: HttpRequest, pk: int) -> HttpResponse:
    """The screening data in the protocol record's sections (spec.SECTIONS). Each section saves on its own (its
    button posts the form with ``section``: only that section's values are read and merged into the stored
    snapshot; with htmx the section comes back in place with its criteria's results); "Save every section" saves
    the whole form. Without JavaScript both are ordinary posts."""
    course = get_course(pk)
    if course.state_enum not in services.EDITABLE_STATES:
        messages.info(request, NotEditable(course.state_enum).message)
        return redirect("courses:detail", pk=pk)
    if request.method == "POST":
        key = request.POST.get("section", "")
        section = SECTION_BY_KEY.get(key)
        if "add_rows" in request.POST:  # "More rows": the form again with room for more; nothing is saved
            opened = section_of(request.POST.get("add_rows", ""))
            return _page(request, course, ScreeningForm(with_more_rows(request.POST)), opened)
        form = ScreeningForm(request.POST, groups=groups_of(key) if section else GROUPS)
        if form.is_valid():
            fixed = {**services.fixed_values(course), "chair_decisions": services.chair_decisions_data(course)}
            base = None
            if section is not None:
                base = {k: v for k, v in screening_form_data(course).items() if k not in fixed}
            snapshot = form.to_snapshot(fixed, base)
            if snapshot is not None:
                if section is not None:
                    page = reverse("courses:screening", args=[pk]) + f"?open={key}#s-{key}"
                    htmx = _is_htmx(request)

                    def again() -> HttpResponse:  # a stop (conflict, sent twice): the whole page, with the notice
                        return HttpResponse(status=204, headers={"HX-Redirect": page}) if htmx else redirect(page)

                    def saved(evaluation: Evaluation) -> HttpResponse:
                        if not htmx:
                            return redirect(page)
                        course.refresh_from_db()
                        return _section_fragment(request, course, key, None,
                                                 f"{section.title}: saved. Eligibility now: {evaluation.overall}.")

                    done = save_once(request, form, lambda: services.save_and_evaluate(
                                         request.user, course, form.cleaned_data["version"], snapshot),
                                     then=again, stop_errors=(*STOPS, NotEditable), done=saved,
                                     said=None if htmx else (lambda evaluation: _("%(section)s: saved. Eligibility now: %(overall)s.")
                                                                     % {"section": section.title, "overall": evaluation.overall}))
                else:
                    done = save_once(request, form, lambda: services.save_and_evaluate(
                                         request.user, course, form.cleaned_data["version"], snapshot),
                                     then=lambda: redirect("courses:detail", pk=pk), stop_errors=(*STOPS, NotEditable),
                                     said=lambda evaluation: _("Screening data saved and evaluated: %(overall)s.") % {"overall": evaluation.overall},
                                     done=lambda evaluation: redirect("screening:evaluation", pk=evaluation.pk))
                if done is not None:
                    return done
        if section is not None and _is_htmx(request):
            return _section_fragment(request, course, key, form)
        if section is not None:  # the page again: this section with its errors, the others as they were typed
            return _page(request, course, ScreeningForm(request.POST), key, section_form=form)
        return _page(request, course, form, _first_with_errors(form))
    form = ScreeningForm(snapshot=screening_form_data(course),
                         initial={"form_token": form_token(request), "version": course.version})
    log_view(request.user, course.patient, f"screening form, course {course.number}")
    return _page(request, course, form, "")


def _first_with_errors(form: ScreeningForm) -> str:
    for part in form.parts():
        for laid in part["groups"]:
            if any(f.errors for f in laid["fields"]) or any(f.errors for row in laid["rows"] for f in row["fields"]):
                return str(part["section"].key)
    return ""


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
    criterion = forms.ChoiceField(label=gettext_lazy("Criterion or dose limit"))
    cleared = forms.TypedChoiceField(label=gettext_lazy("Decision"), choices=[("yes", gettext_lazy("Cleared: the patient may proceed")),
                                                                 ("no", gettext_lazy("Not cleared"))],
                                     coerce=lambda v: v == "yes", widget=forms.RadioSelect)
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), label=gettext_lazy("Reason"))
    password = forms.CharField(widget=forms.PasswordInput, label=gettext_lazy("Your password (signature)"))


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
        messages.error(request, _("Chair decisions are recorded before the administration."))
        return redirect("courses:detail", pk=pk)
    form = ChairDecisionForm(request.POST or None, initial={"form_token": form_token(request)})
    set_choices(form, "criterion", _reviewable(course))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        done = save_once(request, form, lambda name: services.record_chair_decision(
                             request.user, name, course, data["criterion"], data["cleared"], data["reason"]),
                         signature=Signature(data["password"], course, course.patient, "study chair decision"),
                         then=lambda: redirect("courses:detail", pk=pk), stop_errors=(*STOPS, NotEditable),
                         said=lambda _r: _("Decision on %(criterion)s recorded and signed; the course was evaluated again.")
                         % {"criterion": data["criterion"]})
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

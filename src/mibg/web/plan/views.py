"""Pages of the course as a plan: the order set on the course page (and recording against it), the course
calendar as .ics, the role worklist with its count, the user's calendar feed, and the iodide table."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import forms
from django.contrib import messages
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from mibg.core.careplan import UNCONFIRMED
from mibg.core.times import site_time
from mibg.web.audit.trail import log_view
from mibg.web.authenticated import AuthenticatedHttpRequest
from mibg.web.course_record import numbers_hidden
from mibg.web.courses.models import Course
from mibg.web.courses.services import current_directive
from mibg.web.courses.views import get_course
from mibg.web.errors import STOPS, Refused
from mibg.web.forms import datetime_field
from mibg.web.permissions import action_required, allowed, roles_of
from mibg.web.plan import services
from mibg.web.plan.calendars import course_ics, ics_response, user_feed
from mibg.web.plan.models import IodideConfirmation
from mibg.web.plan.worklist import OVERDUE, TODAY, UPCOMING, entries_for
from mibg.web.safety import Signature as Signing
from mibg.web.safety import form_token, parse_version, save_once
from mibg.web.words import clinic_word


class RecordForm(forms.Form):
    code = forms.CharField(max_length=40, widget=forms.HiddenInput)
    due_at = forms.CharField(max_length=40, widget=forms.HiddenInput)
    done = forms.TypedChoiceField(label=gettext_lazy("Outcome"), choices=[("yes", gettext_lazy("done")), ("no", gettext_lazy("not done"))],
                                  coerce=lambda v: v == "yes", initial="yes")
    at = datetime_field("When", required=True)
    medications = forms.CharField(label=gettext_lazy("Current medications"), required=False, max_length=4000,
                                  widget=forms.Textarea(attrs={"rows": 2}))
    note = forms.CharField(label=gettext_lazy("Note (why, if not done)"), required=False, max_length=2000,
                           widget=forms.Textarea(attrs={"rows": 1}))


def section_context(request: HttpRequest, course: Course) -> dict[str, Any]:
    """What the course page shows of the plan: orders with their due times and statuses, the calendar."""
    plan = services.course_plan(course)
    if plan is None:
        return {"course": course, "plan": None}
    # 10 CFR 35.41: until the directive is verified, a possible verifier sees none of its numbers; the weight
    # shows through every weight-based dose (iodide band, hydration), so those are hidden too.
    hidden = numbers_hidden(request.user, course, current_directive(course))
    now = timezone.now()
    records = list(course.order_records.all())
    items = services.occurrences(plan, records, now)
    can_record = allowed(request.user, "care.record")
    roles = roles_of(request.user)
    orders = []
    for order in plan.orders:
        mine = [o for o in items if o.order.code == order.code]
        orders.append({"order": order, "status": services.order_status(items, order, now), "items": mine,
                       "open": any(i.status in ("due", "overdue") for i in mine),
                       "recordable": can_record and (order.role in roles or "physician" in roles)})
    # One line for the folded order set (issue 15): how many due times are overdue, due now and recorded; it is
    # open while anything is to be done, and on the course page before the release.
    to_do = sum(1 for i in items if i.status in ("due", "overdue"))
    today = timezone.localdate(now)
    upcoming = [e for e in plan.calendar
                if (timezone.localtime(e.start).date() if isinstance(e.start, datetime) else e.start) >= today]
    summary = {"overdue": sum(1 for i in items if i.status == "overdue"), "due": sum(1 for i in items if i.status == "due"),
               "recorded": sum(1 for i in items if i.record is not None), "total": len(items),
               "open": to_do > 0 or course.state not in ("released", "follow-up", "closed"),
               "calendar_next": upcoming[0] if upcoming else None,
               "done_orders": [row for row in orders if row["status"] == "done"]}
    names = {o.code: o.name for o in plan.orders}  # a record is shown by its order's name, never its code
    return {"course": course, "plan": plan, "orders": orders, "summary": summary,
            "unmatched": [(r, names.get(r.code, clinic_word(r.code))) for r in services.unmatched_records(plan, records)],
            "voided": [(r, names.get(r.code, clinic_word(r.code))) for r in services.voided_records(records)],
            "form": RecordForm(initial={"at": timezone.localtime(now).replace(second=0, microsecond=0)}),
            "token": form_token(request) if can_record else "", "unconfirmed": UNCONFIRMED,
            "calendar": plan.calendar, "hidden": hidden}


def order_name(course: Course, code: str) -> str:
    """The order's name in the course's plan ("Thyroid blockade: potassium iodide"), for a message about a record."""
    plan = services.course_plan(course)
    names = {o.code: o.name for o in plan.orders} if plan is not None else {}
    return names.get(code, clinic_word(code))


@action_required(post="care.record")
def record(request: HttpRequest, pk: int) -> HttpResponse:
    course = get_course(pk)
    form = RecordForm(request.POST)
    if not form.is_valid():
        for field, errors in form.errors.items():
            messages.error(request, f"{form.fields[field].label if field in form.fields else field}: {' '.join(str(e) for e in errors)}")
        return redirect(request.POST.get("next") or f"/courses/{pk}/#orders")
    data = form.cleaned_data
    target = request.POST.get("next", "")
    back = redirect(target if target.startswith("/worklist/") else f"/courses/{pk}/#orders")

    def said(entry: Any) -> str:
        flagged = f" Interfering medications on the list: {entry.interfering.replace(chr(10), '; ')}." if entry.interfering else ""
        return (f"Recorded: {order_name(course, entry.code)} due {site_time(entry.due_at)}, "
                f"{'done' if entry.done else 'not done'}.{flagged}")

    save_once(request, None, lambda: services.record(request.user, course, data["code"], services.parse_due(data["due_at"]),
                                                     done=data["done"], at=data["at"], note=data["note"],
                                                     medications=data["medications"]),
              then=lambda: back, said=said, stop_errors=(*STOPS, Refused))
    return back


@action_required(post="care.record")
def void(request: HttpRequest, pk: int) -> HttpResponse:
    """Void a record entered in error, with the reason (decisions.md A37); the due time opens again."""
    course = get_course(pk)
    back = redirect(f"/courses/{pk}/#orders")
    save_once(request, None, lambda: services.void(request.user, course, parse_version(request.POST.get("record", "")),
                                                   request.POST.get("reason", "")),
              then=lambda: back, stop_errors=(*STOPS, Refused),
              said=lambda entry: _("Voided: %(code)s due %(due)s. The due time can be recorded again.")
                                 % {"code": order_name(course, entry.code), "due": site_time(entry.due_at)})
    return back


@action_required(get="patient.view")
def calendar_ics(request: HttpRequest, pk: int) -> HttpResponse:
    course = get_course(pk)
    text = course_ics(course)
    if text is None:
        messages.error(request, _("This course has no calendar yet: it starts when the written directive is signed."))
        return redirect("courses:detail", pk=pk)
    log_view(request.user, course.patient, f"course {course.number} calendar (.ics)")
    return ics_response(text, f"course-{course.pk}.ics")


@action_required(get="patient.view")
def feed_ics(request: AuthenticatedHttpRequest) -> HttpResponse:
    return ics_response(user_feed(request.user), "mibg-my-calendar.ics")


@action_required(get="patient.view")
def worklist(request: HttpRequest) -> HttpResponse:
    entries = entries_for(request.user)
    overdue = [e for e in entries if e.bucket == OVERDUE]
    today = [e for e in entries if e.bucket == TODAY]
    upcoming = [e for e in entries if e.bucket == UPCOMING]
    return render(request, "mibg/plan/worklist.html", {
        "overdue": overdue[:SHOWN], "today": today[:SHOWN], "upcoming": upcoming[:SHOWN],
        "overdue_total": len(overdue), "today_total": len(today), "shown": SHOWN,
        "count": len(overdue) + len(today),
    })


#: The most entries of each section the worklist page lists (the oldest first); the heading says how many in all.
SHOWN = 200
#: How long the navigation's count is kept per user (seconds); recording or voiding anything renews it at once.
COUNT_SECONDS = 60


@action_required(get="patient.view")
def worklist_count(request: HttpRequest) -> HttpResponse:
    """The number beside "Worklist" in the navigation (loaded after the page, so no page waits for it). Kept for
    COUNT_SECONDS per user and renewed at once by anything recorded against an order set; other work (a lab
    entered, a directive signed) shows in the count within that time, and on the worklist page at once."""
    key = f"mibg-worklist-count:{request.user.pk}:{services.worklist_generation()}"
    counts = cache.get(key)
    if counts is None:
        entries = [e for e in entries_for(request.user) if e.bucket != UPCOMING]
        counts = (len(entries), sum(1 for e in entries if e.overdue))
        cache.set(key, counts, COUNT_SECONDS)
    return render(request, "mibg/plan/count.html", {"count": counts[0], "overdue": counts[1]})


class ConfirmForm(forms.Form):
    password = forms.CharField(label=gettext_lazy("Your password (to sign)"), widget=forms.PasswordInput, required=False)


@action_required(get="patient.view", post="iodide.confirm")
def iodide_table(request: HttpRequest) -> HttpResponse:
    definition = services.protocol()
    assert definition.care_plan is not None
    table = definition.care_plan.iodide_table
    if request.method == "POST":
        form = ConfirmForm(request.POST)
        form.is_valid()
        def confirm(name: str) -> Any:
            if services.iodide_confirmation(definition) is not None:
                raise Refused(_("This iodide table is confirmed already."))
            return services.confirm_iodide_table(request.user, name)

        back = redirect("plan:iodide_table")
        # A refused signature is recorded against the (unsaved) confirmation: no patient is involved.
        save_once(request, None, confirm,
                  signature=Signing(form.cleaned_data.get("password", ""), IodideConfirmation(), None,
                                    "iodide weight-band table"),
                  then=lambda: back, stop_errors=(*STOPS, Refused),
                  said=lambda _saved: _("The iodide weight-band table is confirmed with your signature."))
        return back
    return render(request, "mibg/plan/iodide.html", {
        "table": table, "confirmation": services.iodide_confirmation(definition), "unconfirmed": UNCONFIRMED,
        "form": ConfirmForm(), "token": form_token(request) if allowed(request.user, "iodide.confirm") else "",
        "protocol_label": definition.label,
    })


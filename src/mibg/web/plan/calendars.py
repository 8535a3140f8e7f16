"""The course calendars as iCalendar text, shared by the pages (mibg.web.plan.views) and the API
(mibg.web.plan.api): one course's calendar, the user's feed of every planned course, and the .ics answer."""

from __future__ import annotations

from django.http import HttpResponse
from django.utils import timezone

from mibg.core import careplan
from mibg.reports.ical import CourseCalendar, calendar_text
from mibg.web.accounts.models import User
from mibg.web.courses.models import Course
from mibg.web.permissions import roles_of
from mibg.web.plan import services
from mibg.web.plan.providers import PLANNED, _facts, _planned_courses


def _label(course: Course) -> str:
    return f"{course.patient.family_name.upper()}, {course.patient.given_name}, course {course.number}"


def ics_response(text: str, filename: str) -> HttpResponse:
    return HttpResponse(text.encode("utf-8"), content_type="text/calendar; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"})


def course_ics(course: Course) -> str | None:
    plan = services.course_plan(course)
    if plan is None:
        return None
    return calendar_text([CourseCalendar(f"course-{course.pk}", _label(course), plan.calendar, plan.protocol_label)],
                         f"Course {course.number} (NCT01370330)", timezone.now())


def user_feed(user: User) -> str:
    """The user's feed: the calendar of every course with a plan, each entry for one of the user's roles."""
    roles = roles_of(user)
    confirmation = services.iodide_confirmation()
    calendars = []
    for course in _planned_courses(PLANNED):
        facts = _facts(course, confirmation.signed_name if confirmation else None)
        if facts is None:
            continue
        plan = careplan.course_plan(services.protocol(), facts)
        entries = [e for e in plan.calendar if e.role in roles or "readonly" in roles]
        calendars.append(CourseCalendar(f"course-{course.pk}", _label(course), entries, plan.protocol_label))
    return calendar_text(calendars, f"mibg: {user.signature_name()}", timezone.now())

"""The demo's supportive care: what a clinic that gives the care plan records, so the demo's worklists show only
what is really due (issue 15: a finished course with nothing recorded showed dozens of overdue items)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone

from mibg.web.courses.models import Course
from mibg.web.permissions import roles_of
from mibg.web.plan import services
from mibg.web.plan.models import OrderRecord

#: What the demo's nurse records for the check of interfering medications (the list the family gave).
MEDICATIONS = "none (parents' list checked: paracetamol as needed only)"


def care_so_far(people: dict[str, Any], course: Course, now: datetime | None = None) -> int:
    """Record every due time of the course's orders that has passed its grace (what would show as overdue) as
    done at its due time, by the demo's person of the order's role; return how many were recorded. Due times
    still within their grace stay open: they are what the clinic has to do now."""
    plan = services.course_plan(course)
    if plan is None:
        return 0
    now = now or timezone.now()
    by_role = {role: user for user in people.values() for role in roles_of(user)}
    recorded = 0
    for occurrence in services.occurrences(plan, OrderRecord.objects.filter(course=course), now):
        if occurrence.status != "overdue":
            continue
        order = occurrence.order
        person = by_role.get(order.role) or by_role["physician"]
        services.record(person, course, order.code, occurrence.due_at, done=True, at=min(occurrence.due_at, now),
                        medications=MEDICATIONS if order.check == "interfering_medications" else "")
        recorded += 1
    return recorded

"""The event-report block of the course page: ``{% load eventreports %}{% event_reports_course_panel course %}``."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone

from mibg.web.eventreports import services

register = template.Library()


@register.inclusion_tag("mibg/eventreports/course_panel.html", takes_context=True)
def event_reports_course_panel(context: dict[str, Any], course: Any) -> dict[str, Any]:
    now = timezone.now()
    reports = []
    for report in course.event_reports.prefetch_related("steps").select_related("adverse_event", "administration"):
        row = services.next_open(report)
        reports.append({"report": report, "next": row, "overdue": row is not None and row.overdue(now)})
    return {"course": course, "reports": reports, "can": context.get("can", {})}

"""Pieces of the radiation work shown on other apps' pages: ``{% load radiation %}`` then

* ``{% radiation_section %}`` on the course page (needs ``course`` and ``request`` in the context);
* ``{% release_statuses page as statuses %}`` and ``{% release_badge statuses course %}`` in the patient list:
  released, ready, or the predicted release time;
* ``{% whole_body_doses courses %}`` on the patient page: each course's whole-body dose and the sum.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django import template
from django.template.loader import render_to_string
from django.utils.html import format_html
from django.utils.safestring import SafeString

from mibg.web.radiation import services

register = template.Library()


@register.simple_tag(takes_context=True)
def radiation_section(context: template.Context) -> SafeString:
    from mibg.web.radiation.views import section_context

    request = context["request"]
    return render_to_string("mibg/radiation/section.html", section_context(request, context["course"]), request=request)


@register.simple_tag
def reading_rows(rows: Any, can_correct: Any) -> SafeString:
    """``{% reading_rows rows can_correct %}``: the table of readings at 1 m (mibg.web.radiation.reading_rows)."""
    from mibg.web.radiation.reading_rows import reading_rows as written

    return written(rows, bool(can_correct))


@register.simple_tag
def release_statuses(patients: Any) -> dict[int, services.ReleaseStatus]:
    """The release status of each patient's latest course, for a whole page of patients at once (their courses
    prefetched): ``{% release_statuses page as statuses %}``."""
    lists = (p.course_list if hasattr(p, "course_list") else list(p.courses.all()) for p in patients)
    latest = [courses[-1] for courses in lists if courses]
    return services.release_statuses(latest)


@register.simple_tag
def release_badge(statuses: dict[int, services.ReleaseStatus], course: Any) -> SafeString | str:
    """``{% release_badge statuses course %}``: released, ready for release, or the predicted release time."""
    pk = getattr(course, "pk", None)
    status = statuses.get(pk) if isinstance(pk, int) else None
    if status is None:
        return ""
    badge = {"released": "ok", "ready": "met", "predicted": "info", "pending": "unknown"}[status.kind]
    return format_html('<span class="badge {} release-status">{}</span>', badge, status.text)


@register.filter
def to3(value: Any) -> str:
    """A criterion's value for display: at most 3 decimals, no trailing zeros (``33.300`` -> ``33.3``). The
    met / not met verdict beside it is the core's, on the exact value."""
    try:
        rounded = Decimal(str(value)).quantize(Decimal("0.001")).normalize()
    except (InvalidOperation, ValueError):
        return str(value)
    return format(rounded, "f")


@register.inclusion_tag("mibg/radiation/whole_body_doses.html")
def whole_body_doses(courses: Any) -> dict[str, Any]:
    return services.patient_whole_body_doses(list(courses))

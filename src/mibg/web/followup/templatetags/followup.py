"""Follow-up pieces for other pages: the course page's follow-up panel and the patient page's SAE alerts."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.safestring import SafeString

from mibg.web.followup import lab_table, services

register = template.Library()


@register.filter
def grade_css(grade: Any) -> str:
    return lab_table.grade_css(grade)


@register.simple_tag(takes_context=True)
def lab_rows(context: Any, labs: Any) -> SafeString:
    """``{% lab_rows labs %}``: the rows of the follow-up page's table of every value (mibg.web.followup.lab_table),
    with the page's ``course``, ``open`` and ``can``."""
    return lab_table.lab_rows(labs, context["course"], open_=bool(context.get("open")), can=context.get("can", {}))


@register.inclusion_tag("mibg/followup/course_panel.html", takes_context=True)
def followup_course_panel(context: dict[str, Any], course: Any) -> dict[str, Any]:
    """Unreviewed SAEs (highlighted), the worst grades so far and the way to the follow-up page."""
    started = services.infusion_start(course)
    labs = services.graded_labs(course) if started is not None else []
    return {"course": course, "can": context.get("can", {}), "open": services.after_administration(course),
            "saes": services.open_saes(courses=[course]), "worst": services.worst_by_term(labs, started),
            "lab_count": sum(1 for r in labs if r.collected_at >= started) if started else 0}


@register.inclusion_tag("mibg/followup/patient_panel.html", takes_context=True)
def followup_patient_panel(context: dict[str, Any], patient: Any) -> dict[str, Any]:
    """Serious adverse events of any of the patient's courses that no physician has reviewed yet."""
    return {"patient": patient, "can": context.get("can", {}), "saes": services.open_saes(patient=patient)}

"""The documents block of other apps' pages: ``{% load documents %}`` then

* ``{% documents_course_panel course %}`` on the course page: each document of the course, a link once the course
  has reached it (or what it still needs);
* ``{% documents_patient_panel patient courses %}`` on the patient page: the FHIR Bundle, its import and the
  courses' documents.
"""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.inclusion_tag("mibg/documents/course_panel.html", takes_context=True)
def documents_course_panel(context: dict[str, Any], course: Any) -> dict[str, Any]:
    from mibg.web.documents.views import availability

    return {"course": course, "can": context.get("can", {}), "documents": availability(course, context["request"])}


@register.inclusion_tag("mibg/documents/patient_panel.html", takes_context=True)
def documents_patient_panel(context: dict[str, Any], patient: Any, courses: Any) -> dict[str, Any]:
    return {"patient": patient, "courses": courses, "can": context.get("can", {})}

"""``{% load plan %}{% plan_section %}`` on the course page: the order set and the calendar (needs ``course`` and
``request`` in the context)."""

from __future__ import annotations

from django import template
from django.template.loader import render_to_string
from django.utils.safestring import SafeString

register = template.Library()


@register.simple_tag(takes_context=True)
def plan_section(context: template.Context) -> SafeString:
    from mibg.web.plan.views import section_context

    request = context["request"]
    return render_to_string("mibg/plan/section.html", section_context(request, context["course"]), request=request)

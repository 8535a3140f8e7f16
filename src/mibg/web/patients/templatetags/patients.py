"""``{% load patients %}{% patient_rows page statuses %}``: the rows of the patient list, written in Python (issue 14).

Fifty rows a page: as a template loop they were about half the list's server time (a URL, four filters, a
translated label and the release badge per row: bench/RESULTS.md). Each row here has the same cells, the same
words (the same translation messages) and the same escaping as the template row it replaces;
``tests/web/test_patient_list_rows.py`` renders both and compares them.
"""

from __future__ import annotations

import html
from typing import Any

from django import template
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

from mibg.web.radiation.templatetags.radiation import release_badge
from mibg.web.templatetags.mibg import css

register = template.Library()

#: A primary key no patient has: reversed once per page, then replaced by each row's key.
_SENTINEL = 2147483647


@register.simple_tag
def patient_rows(page: Any, statuses: Any) -> SafeString:
    """One ``<tr>`` per patient of ``page`` (courses prefetched as ``course_list``), as the list shows them."""
    esc = html.escape
    before, _, after = esc(reverse("patients:detail", args=[_SENTINEL])).partition(str(_SENTINEL))
    course_text = gettext("Course %(number)s:")
    none = gettext("none")
    out: list[str] = []
    for p in page:
        courses = p.course_list
        born = "" if p.birth_date is None else p.birth_date.strftime("%Y-%m-%d")
        c = courses[-1] if courses else None
        if c:
            current = (f'{course_text % {"number": c.number}} <span class="badge {esc(css(c.state))}">'
                       f"{esc(str(c.get_state_display()))}</span>")
        else:
            current = f'<span class="muted">{none}</span>'
        badge = release_badge(statuses, c if c else "")
        out.append(f'\n<tr>\n  <td><a href="{before}{p.pk}{after}">{esc(str(p.family_name).upper())}, '
                   f"{esc(str(p.given_name))}</a></td>\n  <td>{esc(str(p.mrn))}</td><td class=\"num\">{born}</td>\n"
                   f"  <td>{len(courses)}</td>\n  <td>{current}</td>\n  <td>{badge}</td>\n</tr>\n")
    return mark_safe("".join(out))

"""The rows of the follow-up page's table of every laboratory value, written in Python (issue 14).

A course has about a hundred results; as a template loop the table cost about 60 % of the page's server time
(some 30 variable look-ups, two time filters and a grade badge per row: bench/RESULTS.md). Here each row is one
``format_html`` over the same cells, the same words (the same translation messages) and the same escaping as the
template row it replaces: ``tests/web/test_lab_table_rows.py`` renders both and compares them. TSH, free T4 and
blood pressure rows (a few per course) keep their template, ``mibg/followup/_clinical_reading.html``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote

from django.template.loader import get_template
from django.urls import reverse
from django.utils import timezone
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

from mibg.web.followup.templatetags.followup import grade_css
from mibg.web.templatetags.mibg import num, when

__all__ = ["lab_rows"]

#: A primary key no row has: reversed once, then replaced by each row's key (one ``reverse`` per page, not two
#: per row). The URL patterns take ``<int:pk>``, so the key appears once in the path.
_SENTINEL = 2147483647


def _per_row(name: str) -> tuple[str, str]:
    url = reverse(name, kwargs={"pk": _SENTINEL})
    before, _, after = url.partition(str(_SENTINEL))
    return before, after


def _said(message: str, **values: Any) -> str:
    """A ``{% blocktranslate with ... %}`` message: the translation, each value escaped."""
    return message % {key: conditional_escape(value) for key, value in values.items()}


def lab_rows(labs: Iterable[Any], course: Any, *, open_: bool, can: Mapping[str, bool]) -> SafeString:
    """The ``<tr>`` of each result of ``labs`` (``day`` set by the page), as the follow-up page shows them."""
    grade_text = gettext("grade %(grade)s")
    loinc_text = gettext("LOINC %(loinc)s")
    offer_text = gettext("Record the adverse event (%(term_name)s, grade %(grade)s)")
    editing = bool(open_ and can.get("lab_enter"))
    offering = bool(open_ and can.get("adverse_event_record"))
    if editing:
        correct_url, void_url = _per_row("followup:lab_correct"), _per_row("followup:lab_void")
        edit_words = (gettext("correct"), gettext("void"))
    if offering:
        ae_new = reverse("followup:ae_new", kwargs={"pk": course.pk})
    clinical_template = None
    zone = timezone.get_current_timezone()
    out: list[str] = []
    for r in labs:
        lln, uln = r.lln, r.uln
        if lln or uln:
            parts = [format_html("LLN {}", lln) if lln else "", " · " if lln and uln else "",
                     format_html("ULN {}", uln) if uln else "", format_html(" {}", r.unit)]
            range_cell = "".join(parts)
        else:
            range_cell = "—"
        grade = r.grade
        if r.clinical:
            if clinical_template is None:
                clinical_template = get_template("mibg/followup/_clinical_reading.html")
            grade_cell = clinical_template.render({"reading": grade, "open": open_, "can": can, "course": course,
                                                   "r": r})
        else:
            grade_cell = format_html('<span class="badge {}" title="{}">{}</span><br><span class="muted formula">{}</span>',
                                     grade_css(grade.grade), grade.band, mark_safe(_said(grade_text, grade=grade.grade)),
                                     grade.comparison)
            if grade.baseline is not None:
                grade_cell += format_html('<br><span class="muted">{}</span>', grade.clause)
            if grade.grade >= 3 and offering:
                started_on = timezone.localtime(r.collected_at, zone).strftime("%Y-%m-%d")
                grade_cell += format_html(
                    '<br><a class="no-print ae-offer" href="{}?term={}&amp;grade={}&amp;started_on={}">{}</a>', ae_new,
                    quote(str(grade.term_name), safe="/"), grade.grade, started_on,
                    mark_safe(_said(offer_text, term_name=grade.term_name, grade=grade.grade)))
        source = r.get_source_display()
        entered = format_html("{} · {}", r.entered_by.signature_name(), source)
        if r.source_detail:
            entered += format_html(" ({})", r.source_detail)
        row = format_html(
            '<tr id="lab-{}">\n<td class="num">{}</td><td class="num">{}</td>\n'
            '<td>{}<br><span class="muted">{}</span></td>\n'
            '<td class="num"><strong>{}</strong> {}</td>\n'
            '<td class="num">{}</td>\n'
            '<td class="num">{} {}</td>\n'
            "<td>{}</td>\n"
            '<td class="muted">{}<br>{}</td>\n',
            r.pk, when(r.collected_at), "" if r.day is None else r.day,
            r.get_test_display(), mark_safe(_said(loinc_text, loinc=r.loinc)),
            r.value, r.unit,
            mark_safe(range_cell),
            num(r.value_canonical), r.ucum,
            mark_safe(grade_cell),
            mark_safe(entered), when(r.entered_at))
        out.append(row)
        if editing:
            out.append(format_html('<td class="no-print"><a href="{}{}{}">{}</a> · <a href="{}{}{}">{}</a></td>',
                                   correct_url[0], r.pk, correct_url[1], edit_words[0],
                                   void_url[0], r.pk, void_url[1], edit_words[1]))
        out.append("\n</tr>")
    return mark_safe("".join(out))

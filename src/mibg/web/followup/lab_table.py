"""The rows of the follow-up page's table of every laboratory value, written in Python (issue 14).

A course has about a hundred results; as a template loop the table cost about 60 % of the page's server time
(some 30 variable look-ups, two time filters and a grade badge per row: bench/RESULTS.md). Here each row is one
f-string over the same cells, the same words (the same translation messages) and the same escaping as the
template row it replaces: ``tests/web/test_lab_table_rows.py`` renders both and compares them. TSH, free T4 and
blood pressure rows (a few per course) keep their template, ``mibg/followup/_clinical_reading.html``.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import quote

from django.template.loader import get_template
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

from mibg.core.times import site_time
from mibg.web.sources import linked
from mibg.web.templatetags.mibg import num, when

#: CTCAE grade -> badge class of the application's stylesheet.
GRADE_CSS = {0: "ok", 1: "info", 2: "warn", 3: "not-met", 4: "not-met", 5: "not-met"}


def grade_css(grade: Any) -> str:
    """The badge class of a CTCAE grade (none for anything else)."""
    return GRADE_CSS.get(grade, "")


__all__ = ["GRADE_CSS", "grade_css", "lab_rows"]

#: A primary key no row has: reversed once, then replaced by each row's key (one ``reverse`` per page, not two
#: per row). The URL patterns take ``<int:pk>``, so the key appears once in the path.
_SENTINEL = 2147483647


def _per_row(name: str) -> tuple[str, str]:
    url = esc(reverse(name, kwargs={"pk": _SENTINEL}))
    before, _, after = url.partition(str(_SENTINEL))
    return before, after


def lab_rows(labs: Iterable[Any], course: Any, *, open_: bool, can: Mapping[str, bool]) -> SafeString:
    """The ``<tr>`` of each result of ``labs`` (``day`` set by the page), as the follow-up page shows them.

    Every value is escaped as the template escaped it (``html.escape``, which Django's ``escape`` is): the cells
    are f-strings over escaped text, about four times faster than ``format_html`` per cell."""
    grade_text = gettext("grade %(grade)s")
    loinc_text = gettext("LOINC %(loinc)s")
    offer_text = gettext("Record the adverse event (%(term_name)s, grade %(grade)s)")
    editing = bool(open_ and can.get("lab_enter"))
    offering = bool(open_ and can.get("adverse_event_record"))
    correct_url = void_url = ("", "")
    edit_words = ("", "")
    ae_new = ""
    if editing:
        correct_url, void_url = _per_row("followup:lab_correct"), _per_row("followup:lab_void")
        edit_words = (gettext("correct"), gettext("void"))
    if offering:
        ae_new = esc(reverse("followup:ae_new", kwargs={"pk": course.pk}))
    tests = _choices("test")
    sources = _choices("source")
    clinical_template = None
    zone = timezone.get_current_timezone()

    def at(moment: Any) -> str:
        return esc(site_time(moment, zone) if isinstance(moment, datetime) and timezone.is_aware(moment) else when(moment))

    out: list[str] = []
    for r in labs:
        lln, uln, unit = r.lln, r.uln, esc(r.unit)
        if lln or uln:
            range_cell = (f"{f'LLN {esc(lln)}' if lln else ''}{' · ' if lln and uln else ''}"
                          f"{f'ULN {esc(uln)}' if uln else ''} {unit}")
        else:
            range_cell = "—"
        grade = r.grade
        if r.clinical:
            if clinical_template is None:
                clinical_template = get_template("mibg/followup/_clinical_reading.html")
            grade_cell = clinical_template.render({"reading": grade, "open": open_, "can": can, "course": course,
                                                   "r": r})
        else:
            number = str(grade.grade)
            grade_cell = (f'<span class="badge {esc(grade_css(grade.grade))}" title="{esc(grade.band)}">'
                          f'{grade_text % {"grade": number}}</span><br><span class="muted formula">'
                          f"{esc(grade.comparison)}</span>")
            if grade.baseline is not None:
                grade_cell += f'<br><span class="muted">{linked(grade.clause)}</span>'  # its sources named
            if grade.grade >= 3 and offering:
                started_on = timezone.localtime(r.collected_at, zone).strftime("%Y-%m-%d")
                term = esc(grade.term_name)
                grade_cell += (f'<br><a class="no-print ae-offer" href="{ae_new}?term='
                               f'{esc(quote(str(grade.term_name), safe="/"))}&amp;grade={number}&amp;'
                               f'started_on={started_on}">{offer_text % {"term_name": term, "grade": number}}</a>')
        test = r.test
        source = r.source
        entered = (f"{esc(r.entered_by.signature_name())} · {esc(sources.get(source, source))}"
                   f"{f' ({esc(r.source_detail)})' if r.source_detail else ''}")
        day = "" if r.day is None else str(r.day)
        out.append(
            f'<tr id="lab-{r.pk}">\n<td class="num">{at(r.collected_at)}</td><td class="num">{day}</td>\n'
            f'<td>{esc(tests.get(test, test))}<br><span class="muted">{loinc_text % {"loinc": esc(r.loinc)}}</span></td>\n'
            f'<td class="num"><strong>{esc(r.value)}</strong> {unit}</td>\n'
            f'<td class="num">{range_cell}</td>\n'
            f'<td class="num">{esc(num(r.value_canonical))} {esc(r.ucum)}</td>\n'
            f"<td>{grade_cell}</td>\n"
            f'<td class="muted">{entered}<br>{at(r.entered_at)}</td>\n')
        if editing:
            out.append(f'<td class="no-print"><a href="{correct_url[0]}{r.pk}{correct_url[1]}">{edit_words[0]}</a> · '
                       f'<a href="{void_url[0]}{r.pk}{void_url[1]}">{edit_words[1]}</a></td>')
        out.append("\n</tr>")
    return mark_safe("".join(out))


def esc(value: Any) -> str:
    """Django's ``escape`` (``html.escape`` of the text), without marking the result safe."""
    return html.escape(str(value))


def _choices(field: str) -> dict[Any, str]:
    """A field's choices, as ``get_<field>_display`` reads them."""
    from mibg.web.followup.models import LabResult

    choices: Any = LabResult._meta.get_field(field)
    return {key: str(label) for key, label in choices.flatchoices}

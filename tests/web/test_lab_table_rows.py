"""The follow-up page's table of every laboratory value is written in Python (mibg.web.followup.lab_table, issue 14:
the template loop was most of the page's server time). The rows must be the very rows the template wrote: the
template row below is the one the page used before, kept here as the reference, and both are rendered for the same
results (a graded count with its range, a grade 4 nadir offering the adverse event, a liver value graded on the
course's baseline, a TSH read clinically, a CSV row with a file name to escape) for a nurse, a physician and a
monitor, in English and in Spanish, on an open course and on a closed one."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.template import engines
from django.utils import timezone, translation

from mibg.web.followup import services
from mibg.web.followup.lab_table import lab_rows
from mibg.web.followup.models import LabResult
from mibg.web.permissions import context_processor

#: The template row of the follow-up page before issue 14 (templates/mibg/followup/course.html), unchanged.
REFERENCE_ROW = """{% load i18n followup %}{% for r in labs %}<tr id="lab-{{ r.pk }}">
<td class="num">{{ r.collected_at|when }}</td><td class="num">{% if r.day is not None %}{{ r.day }}{% endif %}</td>
<td>{{ r.get_test_display }}<br><span class="muted">{% blocktranslate with loinc=r.loinc %}LOINC {{ loinc }}{% endblocktranslate %}</span></td>
<td class="num"><strong>{{ r.value }}</strong> {{ r.unit }}</td>
<td class="num">{% if r.lln %}LLN {{ r.lln }}{% endif %}{% if r.lln and r.uln %} · {% endif %}{% if r.uln %}ULN {{ r.uln }}{% endif %}{% if r.lln or r.uln %} {{ r.unit }}{% else %}—{% endif %}</td>
<td class="num">{{ r.value_canonical|num }} {{ r.ucum }}</td>
<td>{% if r.clinical %}{% include "mibg/followup/_clinical_reading.html" with reading=r.grade %}{% else %}<span class="badge {{ r.grade.grade|grade_css }}" title="{{ r.grade.band }}">{% blocktranslate with grade=r.grade.grade %}grade {{ grade }}{% endblocktranslate %}</span><br><span class="muted formula">{{ r.grade.comparison }}</span>{% if r.grade.baseline is not None %}<br><span class="muted">{{ r.grade.clause|sources }}</span>{% endif %}{% if r.grade.grade >= 3 and open and can.adverse_event_record %}<br><a class="no-print ae-offer" href="{% url 'followup:ae_new' course.pk %}?term={{ r.grade.term_name|urlencode }}&amp;grade={{ r.grade.grade }}&amp;started_on={{ r.collected_at|date:'Y-m-d' }}">{% blocktranslate with term_name=r.grade.term_name grade=r.grade.grade %}Record the adverse event ({{ term_name }}, grade {{ grade }}){% endblocktranslate %}</a>{% endif %}{% endif %}</td>
<td class="muted">{{ r.entered_by.signature_name }} · {{ r.get_source_display }}{% if r.source_detail %} ({{ r.source_detail }}){% endif %}<br>{{ r.entered_at|when }}</td>
{% if open and can.lab_enter %}<td class="no-print"><a href="{% url 'followup:lab_correct' r.pk %}">{% translate "correct" %}</a> · <a href="{% url 'followup:lab_void' r.pk %}">{% translate "void" %}</a></td>{% endif %}
</tr>{% endfor %}"""


@pytest.fixture
def course(make_course, people):
    """A course in follow-up, infused 20 days ago, with a result of each kind the table shows differently."""
    course = make_course(until="follow-up", days_ahead=-20)
    start = timezone.localtime(course.administrations.get().started_at)

    def add(test, value, unit, lln="", uln="", days=10):
        at = (start + timedelta(days=days)).replace(hour=8, minute=0)
        return services.add_lab(people["nora"], course, services.LabEntry(test, value, unit, lln, uln, at))

    add("ast", "30", "U/L", "", "40", days=-2)  # the baseline of the AST below (decisions.md A33)
    add("ast", "130", "U/L", "", "40")
    add("hemoglobin", "10.1", "g/dL", "11.5", "15.5")
    add("anc", "0.3", "10^9/L", "1.5")  # grade 4: the adverse event is offered
    add("platelets", "40", "10^9/L")  # neither LLN nor ULN (below 75 no limit is needed)
    add("tsh", "12.5", "mIU/L", "0.4", "4.0")  # read clinically, its own template
    csv = add("creatinine", "0.5", "mg/dL", "", "0.7", days=12)
    LabResult.objects.filter(pk=csv.pk).update(source=LabResult.CSV, source_detail='labs <"week 2">.csv, line 3')
    return course


def _page_labs(course):
    """The results as the follow-up page hands them to the table: day after the infusion set, each with its stored
    grade (graded with the course's baseline, decisions.md A33)."""
    labs = list(LabResult.objects.live().filter(course=course).select_related("entered_by", "course__patient"))
    infusion_at = services.infusion_start(course)
    for r in labs:
        r.day = services.day_after(infusion_at, r.collected_at)
    return labs


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize(("persona", "open_"), [("nora", True), ("patel", True), ("morgan", True), ("patel", False)])
def test_the_lab_rows_written_in_python_are_the_rows_the_template_wrote(course, people, persona, open_, language):
    can = context_processor(SimpleNamespace(user=people[persona]))["can"]
    labs = _page_labs(course)
    assert len(labs) == 7
    with translation.override(language):
        reference = engines["django"].from_string(REFERENCE_ROW).render(
            {"labs": labs, "course": course, "open": open_, "can": can})
        written = lab_rows(labs, course, open_=open_, can=can)
    assert written == reference
    # The cases the comparison is meant to cover are there (a comparison of two empty tables proves nothing).
    assert written.count("<tr ") == 7
    assert "&lt;&quot;week 2&quot;&gt;" in written
    assert ("ae-offer" in written) is (open_ and persona != "morgan")
    assert ('/correct/"' in written) is (open_ and persona != "morgan")
    assert 'class="clinical-reading"' in written


def test_the_follow_up_page_shows_every_row_of_the_course(login, course):
    page = login("patel").get(f"/followup/courses/{course.pk}/").content.decode()
    table = page[page.index('id="lab-table"'):]
    for lab in LabResult.objects.filter(course=course):
        assert f'<tr id="lab-{lab.pk}">' in table
    assert "No laboratory result yet." not in table

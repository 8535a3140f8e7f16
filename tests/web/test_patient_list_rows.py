"""The patient list's rows are written in Python (mibg.web.patients.templatetags.patients, issue 14: the template loop
was about half the list's server time). They must be the rows the template wrote: the template row below is the
list's before issue 14, kept as the reference, and both are rendered for the same page of patients (one without a
course, courses in screening, in-patient with readings and released, a name to escape) in English and Spanish."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.template import engines
from django.utils import timezone, translation

from mibg.web.courses.models import Course
from mibg.web.patients import services as patients
from mibg.web.patients.models import Patient
from mibg.web.patients.templatetags.patients import patient_rows
from mibg.web.radiation.templatetags.radiation import release_statuses

#: The loop of templates/mibg/patients/list.html before issue 14, unchanged.
REFERENCE_ROWS = """{% load i18n radiation %}{% for p in page %}
<tr>
  <td><a href="{% url 'patients:detail' p.pk %}">{{ p.family_name|upper }}, {{ p.given_name }}</a></td>
  <td>{{ p.mrn }}</td><td class="num">{{ p.birth_date|date:"Y-m-d" }}</td>
  <td>{{ p.course_list|length }}</td>
  <td>{% with c=p.course_list|last %}{% if c %}{% blocktranslate with number=c.number %}Course {{ number }}:{% endblocktranslate %} <span class="badge {{ c.state|css }}">{{ c.get_state_display }}</span>{% else %}<span class="muted">{% translate "none" %}</span>{% endif %}{% endwith %}</td>
  <td>{% with c=p.course_list|last %}{% release_badge statuses c %}{% endwith %}</td>
</tr>
{% endfor %}"""


@pytest.fixture
def page(make_course, people):
    make_course(until="screening")
    make_course(until="in-patient", days_ahead=-1)
    make_course(until="follow-up", days_ahead=-20)
    patients.create_patient(people["nora"], {
        "mrn": "T-<&>", "given_name": "Ann \"Jo\"", "family_name": "O'Brien <b>",
        "birth_date": timezone.localdate() - timedelta(days=9 * 365), "sex": "female"})
    courses = Course.objects.order_by("number").only("id", "patient_id", "number", "state")
    found = Patient.objects.prefetch_related(Prefetch("courses", queryset=courses, to_attr="course_list")).order_by("pk")
    return Paginator(found, 50).get_page(1)


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_patient_rows_written_in_python_are_the_rows_the_template_wrote(page, language):
    statuses = release_statuses(page)
    with translation.override(language):
        reference = engines["django"].from_string(REFERENCE_ROWS).render({"page": page, "statuses": statuses})
        written = patient_rows(page, statuses)
    assert written == reference
    assert written.count("<tr>") == 4
    assert "O&#x27;BRIEN &lt;B&gt;" in written  # escaped as the template escaped it
    assert '<span class="muted">' in written  # the patient without a course
    assert "release-status" in written  # a release badge


def test_the_list_says_when_no_patient_matches(login, page):
    assert "No patient matches “zzz”." in login("patel").get("/patients/?q=zzz").content.decode()

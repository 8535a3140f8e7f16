"""The radiation section's table of readings at 1 m is written in Python (mibg.web.radiation.reading_rows, issue 14).
Its rows must be the rows the template wrote: the template loop below is the section's before issue 14, kept as
the reference, and both are rendered for the same readings (the pre-void one, one with a background and a note to
escape, one without) for Sam, who may correct them, and for a monitor, in English and in Spanish (whose decimal
comma the template's floatformat writes)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.template import engines
from django.utils import timezone, translation

from mibg.web.radiation import services
from mibg.web.radiation.reading_rows import reading_rows

#: The loop of templates/mibg/radiation/section.html before issue 14, unchanged.
REFERENCE_ROWS = """{% load i18n %}{% for row in d.rows %}<tr>
  <td class="num">{{ row.reading.measured_at|when }}{% if row.reading.before_first_void %} <span class="badge info">{% translate "before first void" %}</span>{% endif %}</td>
  <td class="num">{{ row.hours|floatformat:2 }}</td><td class="num">{{ row.reading.mr_per_h|num }}</td>
  <td class="num">{{ row.reading.background_mr_per_h|num }}</td><td class="num">{{ row.net|num }}</td>
  <td class="num">{{ row.retention|floatformat:4|default:"—" }}</td>
  <td>{{ row.reading.instrument_id }} <span class="muted">({{ row.reading.instrument_calibration_due|date:"Y-m-d" }})</span></td>
  <td>{{ row.reading.measured_by }}{% if row.reading.note %}<br><span class="muted">{{ row.reading.note }}</span>{% endif %}</td>
  {% if can_correct %}<td class="no-print"><a href="{% url 'radiation:correct' row.reading.pk %}">{% translate "Correct" %}</a> · <a href="{% url 'radiation:void' row.reading.pk %}">{% translate "Void" %}</a></td>{% endif %}
</tr>{% endfor %}"""


@pytest.fixture
def dosimetry(make_course, people):
    course = make_course(until="in-patient", days_ahead=-2)
    start = course.administrations.get().started_at
    due = timezone.localdate() + timedelta(days=300)
    for hours, rate, background, note in [(2, "40.5", None, ""), (5, "31.25", "0.02", 'meter <"B"> & moved'),
                                          (24, "12", None, "")]:
        services.record_reading(people["sam"], course, services.ReadingInput(
            start + timedelta(hours=hours), Decimal(rate), None if background is None else Decimal(background),
            hours == 2, "RadEye-7", due, "Sam Okafor, PhD", note))
    return services.compute_dosimetry(course)


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize("can_correct", [True, False])
def test_the_reading_rows_written_in_python_are_the_rows_the_template_wrote(dosimetry, can_correct, language):
    with translation.override(language):
        reference = engines["django"].from_string(REFERENCE_ROWS).render({"d": dosimetry, "can_correct": can_correct})
        written = reading_rows(dosimetry.rows, can_correct)
    assert written == reference
    assert written.count("<tr>") == 3
    assert "&lt;&quot;B&quot;&gt; &amp; moved" in written
    assert ("/correct/" in written) is can_correct
    assert dosimetry.retention is not None  # the r column holds numbers, not only dashes

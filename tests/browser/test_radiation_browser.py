"""Sam the physicist, in a real browser: readings at 1 m on the course page (htmx refresh of the plot and the
fit), a bad reading refused with its field error, then the signed release and the family's printed instructions."""

from __future__ import annotations

import os
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from clinic_helpers import PASSWORD, wristband

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop in the test thread

pytestmark = [pytest.mark.browser]

#: clinical-reference §4.4: hours after the start of the infusion, mR/h at 1 m.
WORKED_EXAMPLE = [("0.5", "60.0"), ("24", "29.0"), ("48", "14.1"), ("72", "7.0"), ("96", "3.5")]


def _admitted_with_readings(people, make_course):
    from mibg.web.course_record import take_step
    from mibg.web.radiation import services
    from mibg.web.treatment import services as treatment

    course = make_course(until="assayed", days_ahead=-7)
    start = course.directives.get().administration_time
    treatment.record_administration(people["nora"], course, course.version, treatment.AdministrationInput(
        start, start + timedelta(minutes=25), "central_line", Decimal("50"), Decimal("0"), start + timedelta(minutes=30),
        *wristband(course.patient)))
    course.refresh_from_db()
    take_step(people["nora"], course, "admit", course.version, occurred_at=start + timedelta(minutes=30))
    for i, (hours, value) in enumerate(WORKED_EXAMPLE):
        services.record_reading(people["sam"], course, services.ReadingInput(
            start + timedelta(hours=float(hours)), Decimal(value), None, i == 0, "Ludlum 9-3 #4471",
            timezone.localdate() + timedelta(days=300), "Sam Okafor, PhD"))
    return course, start


def _local(moment):
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def test_sam_enters_readings_sees_the_plot_refresh_and_signs_the_release(transactional_db, people, make_course,
                                                                          as_person, shot):
    from mibg.web.courses.models import Course
    from mibg.web.radiation.models import ExposureReading, ReleaseRecord

    course, start = _admitted_with_readings(people, make_course)
    page = as_person("sam", PASSWORD)
    page.goto(f"/courses/{course.pk}/#radiation")
    section = page.locator("#radiation")
    assert "site limit not met" in section.locator("#release-now").inner_text()
    plot = page.locator("#radiation-plot")
    assert plot.evaluate("img => img.complete && img.naturalWidth > 0")  # the inline SVG is drawn (CSP allows it)
    first_plot = plot.get_attribute("src")
    shot(page, "radiation-1-course-at-96-hours")

    # A negative reading: the field error comes back in place, nothing stored.
    page.fill("#reading-form [name=measured_at]", _local(start + timedelta(hours=120)))
    page.fill("#reading-form [name=mr_per_h]", "-1.7")
    page.click("#reading-form button[type=submit]")
    page.wait_for_selector("#f-mr_per_h .errorlist")
    assert "cannot be negative" in page.locator("#f-mr_per_h .errorlist").inner_text()
    assert ExposureReading.objects.filter(course=course).count() == 5
    shot(page, "radiation-2-bad-reading")

    # The 120 h reading, 1.7 mR/h: the section is swapped in by htmx, with the new plot and the criteria met.
    page.fill("#reading-form [name=mr_per_h]", "1.7")
    page.click("#reading-form button[type=submit]")
    page.wait_for_selector("#radiation-notice")
    assert "Reading recorded: 1.7 mR/h" in page.locator("#radiation-notice").inner_text()
    assert page.locator("#readings tbody tr").count() == 6
    assert page.locator("#radiation-plot").get_attribute("src") != first_plot
    assert "site limit and federal criteria met" in page.locator("#release-now").inner_text()
    page.locator("#radiation").scroll_into_view_if_needed()
    shot(page, "radiation-3-reading-recorded")

    page.click("text=Release (sign)…")
    page.wait_for_selector("#release-allowed")
    page.fill("[name=instructions_given_to]", "Mrs Ada Brown, mother")
    page.check("[name=instructions_explained]")
    page.fill("[name=password]", PASSWORD)
    shot(page, "radiation-4-release-form")
    page.click("#release-form button[type=submit]")
    page.wait_for_selector("#release-record")
    assert "Signed electronically" in page.locator("#release-record").inner_text()
    assert Course.objects.get(pk=course.pk).state == "released"
    record = ReleaseRecord.objects.get(course=course)
    assert record.signed_name == "Sam Okafor, PhD"
    assert record.dose_rate_mr_per_h == Decimal("1.7")
    shot(page, "radiation-5-released")

    page.click(f"#release-record a[href='/courses/{course.pk}/release/instructions/']")
    page.wait_for_selector("#how-long")
    assert "Follow these steps for 2 days" in page.locator("#how-long").inner_text()
    page.emulate_media(media="print")
    assert page.locator("header.top").is_hidden()
    shot(page, "radiation-6-instructions-print")

"""The course as a plan in a real browser (issue 13 "Done when"): Nora the nurse sees a course's order set, its
calendar and her worklist (with the count in the navigation), and records every due item until her list is empty;
Sam the physicist does the same for the isolation room."""

from __future__ import annotations

import os
from pathlib import Path

import icalendar
import pytest

from clinic_helpers import PASSWORD

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop in the test thread

pytestmark = [pytest.mark.browser]


@pytest.fixture(autouse=True)
def _fresh_counts():
    """The navigation's count is kept per user id for a minute: ids come round again from test to test."""
    from django.core.cache import cache

    cache.clear()


def _record_every_due_item(page, course_pk):
    """Submit every record form of the order set, one after the other (each save reloads the course page)."""
    recorded = 0
    while True:
        page.goto(f"/courses/{course_pk}/#orders")
        _count(page)  # let the navigation's count (htmx) come back before the next request
        forms = page.locator("#orders form.record")
        if forms.count() == 0:
            return recorded
        form = forms.first
        code = form.locator("input[name=code]").get_attribute("value")
        if form.locator("textarea[name=medications]").count():
            form.locator("textarea[name=medications]").fill("ondansetron 4 mg; omeprazole 10 mg")
        name = page.locator(f"#order-{code} strong").first.inner_text()
        form.locator("button[type=submit]").click()
        page.wait_for_load_state()
        assert "Recorded: " + name in page.locator(".messages").inner_text()  # the order's name, not its code
        recorded += 1
        assert recorded < 60, "the forms never ran out"


def _count(page):
    count = page.locator("#worklist-count")
    count.wait_for()
    return int(count.inner_text())


def test_nora_walks_a_course_through_its_orders_calendar_and_worklist(transactional_db, people, make_course, as_person,
                                                                      shot):
    from mibg.web.plan.models import OrderRecord

    course = make_course(until="administered", days_ahead=-1)
    page = as_person("nora", PASSWORD)
    page.goto(f"/courses/{course.pk}/")
    orders = page.locator("#orders")
    assert "Thyroid blockade: potassium iodide" in orders.inner_text()
    assert "to be confirmed by the site" in orders.inner_text()
    assert page.locator("#orders tr[data-code=thyroid-blockade] .order-status").inner_text() == "overdue"
    page.click("#calendar-part > summary")  # the calendar is folded to its one line until opened
    calendar = page.locator("table.calendar").inner_text()
    for title in ("Iodide days", "131I-MIBG infusion", "Stem-cell infusion day", "Blood counts and chemistry",
                  "Response evaluation window", "Earliest next course", "Screening window: laboratory values"):
        assert title in calendar
    with page.expect_download() as download:
        page.click("#calendar-ics")
    cal = icalendar.Calendar.from_ical(Path(download.value.path()).read_bytes())
    assert len(cal.walk("VEVENT")) > 10
    shot(page, "plan-1-course-orders-and-calendar")

    before = _count(page)
    assert before > 0
    page.click("#nav-worklist")
    page.wait_for_url("**/worklist/")
    assert "Thyroid blockade" in page.locator("table.worklist").first.inner_text()
    shot(page, "plan-2-nora-worklist")
    page.locator("table.worklist a.button").first.click()
    page.wait_for_url(f"**/courses/{course.pk}/**")

    recorded = _record_every_due_item(page, course.pk)
    # the worklist shows a course's missed due times of one order as one line: at least as many forms as lines
    assert recorded >= before
    assert recorded == OrderRecord.objects.filter(course=course).count()
    page.goto("/worklist/")
    assert _count(page) == 0
    assert "Nothing." in page.locator("main").inner_text()
    shot(page, "plan-3-nora-worklist-empty")


def test_sam_records_the_isolation_room_items_from_his_worklist(transactional_db, people, make_course, as_person):
    from mibg.web.plan.models import OrderRecord

    course = make_course(until="administered", days_ahead=-1)
    page = as_person("sam", PASSWORD)
    page.goto("/worklist/")
    assert "Isolation room: posting and visitor limits" in page.locator("main").inner_text()
    recorded = _record_every_due_item(page, course.pk)
    assert recorded >= 1
    assert set(OrderRecord.objects.filter(course=course).values_list("code", flat=True)) <= {"room-posting", "room-survey"}
    page.goto("/worklist/")
    assert "Isolation room" not in page.locator("main").inner_text()
    _count(page)  # the navigation's count has come back: no request is still running when the test ends

"""Event reports and analytics in a real browser: Sam the physicist opens the report a possible medical event
opened, records the NRC call against its deadline; Dr Patel completes, signs and submits it; Morgan reads the
programme analytics."""

from __future__ import annotations

import pytest
from django.utils import timezone

from clinic_helpers import PASSWORD

pytestmark = [pytest.mark.browser]


def test_a_possible_medical_event_report_is_worked_through_in_the_browser(transactional_db, make_course, as_person, shot):
    course = make_course(until="administered", days_ahead=-2, residual="100")
    report = course.event_reports.get()

    sam = as_person("sam", PASSWORD)
    sam.goto(f"/courses/{course.pk}/")
    sam.click(f"text=Report {report.pk}: possible medical event")
    sam.wait_for_url(f"**/event-reports/{report.pk}/")
    row = sam.locator("#deadline-nrc_telephone")
    assert "NRC Operations Center" in row.inner_text()
    assert "UNVERIFIED" in row.inner_text()
    row.locator("input[name=done_at]").fill(timezone.localtime().strftime("%Y-%m-%dT%H:%M"))
    row.locator("textarea[name=note]").fill("Called the NRC Operations Center; event number 58123")
    row.locator("button:has-text('Record')").click()
    sam.wait_for_selector("text=Recorded.")
    assert "event number 58123" in sam.inner_text("#deadline-nrc_telephone")
    shot(sam, "event-report-nrc-call-recorded")

    patel = as_person("patel", PASSWORD)
    patel.goto(f"/event-reports/{report.pk}/edit/")
    patel.fill("#id_cause", "Activity left in the infusion line")
    patel.fill("#id_effect_on_patient", "None expected")
    patel.fill("#id_corrective_actions", "Line flush procedure revised")
    patel.fill("#id_referring_physician", "Dr Referring")
    patel.click("button:has-text('Save the draft')")
    patel.wait_for_selector("text=Report saved.")
    patel.click("text=Sign and submit")
    patel.fill("#id_password", PASSWORD)
    patel.click("button:has-text('Sign and submit')")
    patel.wait_for_selector("text=Report submitted and signed.")
    assert patel.inner_text("#report-status") == "submitted"
    shot(patel, "event-report-submitted")


def test_morgan_reads_the_programme_analytics(transactional_db, make_course, as_person, shot, people):
    from mibg.web.followup import demo as followup_demo

    course = make_course(until="follow-up", days_ahead=-20)
    followup_demo.counts_after(people["nora"], course)
    morgan = as_person("morgan", PASSWORD)
    morgan.goto("/analytics/")
    morgan.wait_for_selector("#rescue-by-band svg")
    assert morgan.locator("svg").count() == 4
    shot(morgan, "programme-analytics")

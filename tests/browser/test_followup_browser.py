"""Follow-up in a real browser: Nora the nurse enters blood counts by hand and by CSV and sees the recovery plot;
Dr Patel records a serious adverse event and reviews it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from clinic_helpers import PASSWORD

pytestmark = [pytest.mark.browser]


def test_nora_enters_blood_counts_and_sees_the_recovery_plot_with_the_grade_beside_each_value(
        transactional_db, make_course, as_person, shot):
    course = make_course(until="follow-up", days_ahead=-20)
    start = timezone.localtime(course.administrations.get().started_at)

    def local(day, hour=8):
        return (start + timedelta(days=day)).replace(hour=hour, minute=0)

    nora = as_person("nora", PASSWORD)
    refused = []
    nora.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    nora.goto(f"/courses/{course.pk}/")
    nora.click("text=Labs, count recovery, adverse events and response")
    nora.wait_for_url(f"**/followup/courses/{course.pk}/")
    nora.click("text=Enter a result")

    # Haemoglobin in mmol/L is refused on purpose (the factor is not exact): the unit is named, nothing stored.
    nora.select_option("#id_test", "hemoglobin")
    nora.fill("#id_value", "5.1")
    nora.fill("#id_unit", "mmol/L")
    nora.fill("#id_lln", "7.1")
    nora.fill("#id_collected_at", local(3).strftime("%Y-%m-%dT%H:%M"))
    nora.click("button:has-text('Store the result')")
    nora.wait_for_selector("#f-unit .errorlist")
    assert "is not an accepted unit for Haemoglobin" in nora.inner_text("#f-unit .errorlist")
    shot(nora, "followup-01-lab-bad-unit")

    # Then the counts, by hand, one after another.
    for test, value, unit, lln, day in (("anc", "1200", "/uL", "1500", 3), ("platelets", "95", "10^9/L", "150", 3),
                                        ("anc", "300", "/uL", "1500", 8)):
        nora.select_option("#id_test", test)
        nora.fill("#id_value", value)
        nora.fill("#id_unit", unit)
        nora.fill("#id_lln", lln)
        nora.fill("#id_uln", "")
        nora.fill("#id_collected_at", local(day).strftime("%Y-%m-%dT%H:%M"))
        nora.click("button:has-text('Store and enter another')")
        nora.wait_for_selector(".messages li.success")
        assert "CTCAE v5.0 grade" in nora.inner_text(".messages li.success")

    # The rest of the series from the laboratory's CSV export.
    rows = [(8, "platelets", "22"), (11, "anc", "0.1"), (11, "platelets", "9"), (15, "anc", "0.6"),
            (15, "platelets", "31"), (17, "anc", "1.1"), (17, "platelets", "48"), (18, "anc", "1.3"),
            (18, "platelets", "70")]
    text = "collected_at,test,value,unit,lln,uln\n" + "".join(
        f"{local(day).isoformat()},{test},{value},10^9/L,{'1.5' if test == 'anc' else '150'},\n" for day, test, value in rows)
    nora.goto(f"/followup/courses/{course.pk}/labs/upload/")
    nora.set_input_files("#id_file", files=[{"name": "counts.csv", "mimeType": "text/csv", "buffer": text.encode()}])
    nora.click("button:has-text('Check and store')")
    nora.wait_for_url(f"**/followup/courses/{course.pk}/#labs")
    assert "9 results stored from counts.csv" in nora.inner_text(".messages")

    # The recovery plot, its summary and the grades.
    plot = nora.locator("#recovery-plot svg")
    plot.scroll_into_view_if_needed()
    assert plot.is_visible()
    box = plot.bounding_box()
    assert box is not None
    assert box["width"] > 500
    assert box["height"] > 300
    assert "nadir 0.1 on day 11" in plot.text_content()
    assert "recovered" in nora.inner_text("#recovery-status")
    # Counts fell on day 8 (ANC 0.3); day 15 (ANC 0.6 > 0.5, platelets 31 > 20) and day 17 qualify: day 15.
    assert "on day 15" in nora.inner_text("#recovery-status")
    worst = nora.inner_text("#worst-grades")
    assert "Neutrophil count decreased\tgrade 4" in worst
    assert "Platelet count decreased\tgrade 4" in worst
    assert nora.locator("#lab-table tbody tr").count() == 12
    assert refused == [], refused  # the page and its inline SVG pass the Content-Security-Policy
    shot(nora, "followup-02-recovery-plot")
    plot.screenshot(path="test-output/followup-03-recovery-plot-only.png")


def test_dr_patel_records_a_serious_adverse_event_and_reviews_it_with_her_signature(
        transactional_db, make_course, as_person, shot):
    course = make_course(until="follow-up", days_ahead=-20)
    patel = as_person("patel", PASSWORD)
    patel.goto(f"/followup/courses/{course.pk}/adverse-events/new/")
    patel.select_option("#id_term", "Febrile neutropenia")  # a pick from the CTCAE v5.0 list (issue 15)
    grades = patel.locator("#ae-term")
    grades.locator("text=MedDRA 10016288").wait_for()  # htmx shows the code and grade definitions beside the pick
    assert "ANC <1000/mm3" in grades.inner_text()
    shot(patel, "followup-04a-adverse-event-term-with-grades")
    patel.select_option("#id_grade", "3")
    patel.fill("#id_started_on", (timezone.localdate() - timedelta(days=8)).isoformat())
    patel.select_option("#id_attribution", "probable")
    patel.select_option("#id_serious", "yes")
    patel.select_option("#id_outcome", "recovering")
    patel.select_option("#id_action_taken", "hospitalisation")
    patel.click("button:has-text('Store the adverse event')")
    patel.wait_for_url(f"**/followup/courses/{course.pk}/#adverse-events")
    patel.goto(f"/patients/{course.patient.pk}/")
    alert = patel.locator("#open-saes")
    assert "Febrile neutropenia, grade 3" in alert.inner_text()
    shot(patel, "followup-04-patient-page-sae-alert")
    alert.locator("text=review it").click()
    patel.fill("#id_note", "Expected haematological toxicity; reported to the IRB.")
    patel.fill("#id_password", PASSWORD)
    patel.click("button:has-text('Sign the review')")
    patel.wait_for_url(f"**/followup/courses/{course.pk}/#adverse-events")
    assert "reviewed" in patel.inner_text("#adverse-events")
    shot(patel, "followup-05-sae-reviewed")
    patel.goto(f"/patients/{course.patient.pk}/")
    assert patel.locator("#open-saes").count() == 0

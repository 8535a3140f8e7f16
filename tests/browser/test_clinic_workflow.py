"""The whole treatment of one child, clicked through in a real browser by each member of the team."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from clinic_helpers import PASSWORD, form_post_data

pytestmark = [pytest.mark.browser]


def minute(ahead: int = 0) -> str:
    """The clock now (plus ``ahead`` minutes), as a datetime-local field takes it."""
    return (timezone.localtime() + timedelta(minutes=ahead)).strftime("%Y-%m-%dT%H:%M")


def _fill(page, name, value):
    locator = page.locator(f'[name="{name}"]')
    # The screening form is in sections, one open at a time: open the one the input is in.
    locator.evaluate("e => { const d = e.closest('details'); if (d) d.open = true; }")
    tag = locator.evaluate("e => e.tagName.toLowerCase() + ':' + (e.type || '')")
    if tag.startswith("select"):
        locator.select_option(value)
    elif tag.endswith(":checkbox"):
        locator.check()
    else:
        locator.fill(value)


def test_the_team_screens_signs_verifies_assays_and_administers_a_dose(transactional_db, people, as_person, shot, live_server):
    from mibg.web.demo import snapshot_data
    from mibg.web.screening.forms import ScreeningForm

    day = timezone.localdate() + timedelta(days=2)

    # An anonymous visitor sees only the login page.
    nora = as_person("nora", PASSWORD)
    anonymous = nora.context.browser.new_page(base_url=live_server.url)
    anonymous.goto("/patients/")
    assert "/accounts/login/" in anonymous.url
    shot(anonymous, "01-login")
    anonymous.close()

    # Nora the nurse registers the patient and opens a course.
    nora.click("text=New patient")
    nora.fill("#id_mrn", "BR-2001")
    nora.fill("#id_family_name", "Rivera")
    nora.fill("#id_given_name", "Sofia")
    nora.fill("#id_birth_date", (timezone.localdate() - timedelta(days=7 * 365)).isoformat())
    nora.select_option("#id_sex", "female")
    nora.click("button:has-text('Save')")
    nora.wait_for_selector("text=RIVERA, Sofia")
    nora.click("button:has-text('Start a new course')")
    nora.wait_for_url("**/screening/")

    # Bad input first: the field is named, nothing is saved.
    _fill(nora, "weight_kg", "22,5 kg")
    nora.click("button:has-text('Save and evaluate') >> nth=0")
    nora.wait_for_selector("#f-weight_kg .errorlist")
    shot(nora, "02-screening-bad-input")

    # Then the screening data, as the clinic has it.
    expected = form_post_data(ScreeningForm(snapshot=snapshot_data(day)))
    for name, value in expected.items():
        if name.endswith(".rows") or name in ("form_token", "version"):
            continue
        _fill(nora, name, value)
    nora.click("button:has-text('Save and evaluate') >> nth=0")
    nora.wait_for_selector("#overall")
    shot(nora, "03-eligibility-result")
    assert nora.inner_text("#overall") == "eligible", nora.inner_text("main")[:3000]

    # Dr Patel confirms eligibility and writes the directive; the plan recalculates as she types.
    patel = as_person("patel", PASSWORD)
    patel.goto(nora.url)
    patel.click("text=Course 1")
    patel.click("button:has-text('Confirm eligibility')")
    patel.wait_for_selector("#course-state:has-text('Eligible')")
    patel.click("text=Write and sign the directive")
    patel.fill("#id_mci_per_kg", "18")
    patel.select_option("#id_preparation", "draximage")
    patel.fill("#id_specific_activity", "12")
    patel.fill("#id_final_volume_ml", "50")
    patel.fill("#id_infusion_min", "100")
    patel.select_option("#id_route", "central_line")
    # The dose is given today, as the team works (decisions.md A29: times are never ahead of the clock).
    patel.fill("#id_calibration_time", minute())
    patel.fill("#id_administration_time", minute())
    patel.wait_for_selector("#plan-status:has-text('ok')")
    assert "396.0 mCi (14652 MBq, 14.652 GBq)" in patel.inner_text("#activity")
    patel.fill("#id_mci_per_kg", "19")
    patel.wait_for_selector("#plan-status:has-text('blocked')")
    shot(patel, "04-directive-blocked")
    patel.fill("#id_mci_per_kg", "18")
    patel.wait_for_selector("#plan-status:has-text('ok')")
    shot(patel, "05-directive-plan")
    patel.check("#id_confirm")
    patel.fill("#id_password", PASSWORD)
    patel.click("#sign")
    patel.wait_for_selector("#course-state:has-text('Written directive signed')")
    shot(patel, "06-directive-signed")
    course_url = patel.url

    # Sam the physicist verifies without seeing the numbers.
    sam = as_person("sam", PASSWORD)
    sam.goto(course_url)
    assert "396" not in sam.inner_text("main")
    sam.click("text=Verify the directive")
    sam.fill("#id_weight_kg", "22.0")
    sam.fill("#id_mci_per_kg", "18")
    sam.fill("#id_password", PASSWORD)  # the verifier signs (decisions.md A36)
    shot(sam, "07-verification")
    sam.click("button:has-text('Sign the verification')")
    sam.wait_for_selector("#course-state:has-text('Independently verified')")

    # Riley the pharmacist assays the dose.
    riley = as_person("riley", PASSWORD)
    riley.goto(course_url)
    riley.click("text=Record the assay")
    riley.fill("#id_lot", "LSA-24-0201")
    riley.fill("#id_calibration_time", minute())
    riley.fill("#id_specific_activity", "12")
    riley.fill("#id_measured_mci", "398.1")
    riley.fill("#id_measured_at", minute())
    riley.fill("#id_calibrator_id", "CRC-55tR #2")
    riley.click("button:has-text('Record the assay')")
    riley.wait_for_selector("#course-state:has-text('Dose assayed')")
    shot(riley, "08-assayed")

    # Nora records the administration.
    nora.goto(course_url)
    nora.click("a:has-text('Record the administration')")
    shot(nora, "09a-administration-form")
    # After the signature, the verification and the assay, within the clock's 5 minutes (A29); two identifiers (A36).
    nora.fill("#id_patient_name", "Sofia Rivera")
    nora.fill("#id_patient_mrn", "br-2001")
    nora.fill("#id_started_at", minute())
    nora.fill("#id_ended_at", minute(2))
    nora.fill("#id_volume_ml", "50")
    nora.fill("#id_residual_mci", "3.2")
    nora.fill("#id_residual_measured_at", minute(3))
    nora.click("button:has-text('Record the administration')")
    nora.wait_for_selector("#course-state:has-text('Administered')")
    shot(nora, "09-administered")
    assert "Possible medical event" not in nora.inner_text("main")

    # The order sheet prints.
    patel.goto(course_url)
    patel.click("#step-directive > summary")  # once given, the directive is one line until opened
    patel.click("text=Order sheet (print)")
    patel.emulate_media(media="print")
    shot(patel, "10-order-sheet-print")
    assert "396.0 mCi (14652 MBq, 14.652 GBq)" in patel.inner_text("main")

    # Morgan the monitor reads the audit trail.
    morgan = as_person("morgan", PASSWORD)
    morgan.goto("/audit/?patient=BR-2001")
    shot(morgan, "11-audit")
    assert "sign" in morgan.inner_text("table")

"""Dr Chen, the study chair, decides S1 and then the S2 dose gate in a real browser, with the planned dose in front
of her (decisions.md A35)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from clinic_helpers import PASSWORD

pytestmark = [pytest.mark.browser]


def _decide(page, course_pk, criterion, reason):
    page.goto(f"/courses/{course_pk}/chair/")
    page.select_option("#id_criterion", criterion)
    page.check("input[name=cleared][value=yes]")
    page.fill("#id_reason", reason)
    page.fill("#id_password", PASSWORD)
    page.click("button:has-text('Sign the decision')")
    page.wait_for_url(f"**/courses/{course_pk}/")


def test_dr_chen_clears_s1_sees_the_s2_gate_still_open_and_then_decides_s2(transactional_db, people, make_course,
                                                                            as_person, shot):
    from mibg.web.demo import screen, snapshot_data

    course = make_course()
    day = timezone.localdate() + timedelta(days=3)
    screen(people["nora"], course, snapshot_data(day, mci_per_kg="12") | {"stem_cell_products": []})

    chen = as_person("chen", PASSWORD)
    chen.goto(f"/courses/{course.pk}/chair/")
    planned = chen.locator("#planned-dose")
    # 12 mCi/kg x 22.0 kg = 264 mCi; 264 x 37 = 9768 MBq.
    assert "12 mCi/kg × 22.0 kg" in planned.inner_text()
    assert "264" in planned.inner_text()
    assert "does not clear the S2 dose gate" in planned.inner_text()
    shot(chen, "chair-01-planned-dose")

    _decide(chen, course.pk, "S1", "No stem cells can be collected; 12 mCi/kg discussed")
    evaluation = course.evaluations.order_by("-id").first()
    chen.goto(f"/evaluations/{evaluation.pk}/")
    assert chen.locator("#overall").inner_text() == "needs review"
    assert "S2 dose gate" in chen.locator("#c-S1").inner_text()
    assert chen.locator("#c-PD [data-status]").get_attribute("data-status") == "needs review"
    shot(chen, "chair-02-s1-cleared-s2-open")

    _decide(chen, course.pk, "S2", "12 mCi/kg x 22 kg = 264 mCi without stem cells accepted")
    evaluation = course.evaluations.order_by("-id").first()
    chen.goto(f"/evaluations/{evaluation.pk}/")
    assert chen.locator("#overall").inner_text() == "eligible"
    shot(chen, "chair-03-both-decided")


def test_nora_records_a_local_radiotherapy_field_10_days_before_and_sees_t2_not_met(transactional_db, people,
                                                                                    make_course, as_person, shot):
    course = make_course()
    day = course.planned_treatment_date
    nora = as_person("nora", PASSWORD)
    nora.goto(f"/courses/{course.pk}/screening/")
    # The therapy rows ask the kind (systemic, surgery, other); radiotherapy has its own rows (A21).
    assert nora.locator('[name="anti_tumour_therapies.0.kind"]').count() == 1
    assert nora.locator('[name="stem_cell_products.0.infused_on"]').count() == 1
    nora.click("#s-prior_therapy > summary")  # the form is in the protocol's sections, one open at a time
    nora.select_option('[name="radiotherapy.0.field"]', "other")
    nora.fill('[name="radiotherapy.0.completed_on"]', (day - timedelta(days=10)).isoformat())
    shot(nora, "screening-local-radiotherapy")
    nora.click("button:has-text('Save and evaluate') >> nth=0")
    nora.wait_for_url("**/evaluations/**")
    assert nora.locator("#overall").inner_text() == "not eligible"
    assert nora.locator("#c-T2 [data-status]").get_attribute("data-status") == "not met"
    assert "radiotherapy" in nora.locator("#c-T2").inner_text()
    shot(nora, "screening-t2-radiotherapy-not-met")

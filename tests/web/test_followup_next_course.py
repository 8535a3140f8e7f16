"""The next course: screened with the history carried over, so the 6-month and 60 mCi/kg rules (T5; decisions.md
A13, A14) and the stem cells left (A15) apply without retyping."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import ROUND_CEILING, Decimal

import pytest
from django.utils import timezone

from clinic_helpers import form_post_data
from mibg.core.calendar import add_months
from mibg.web import course_record
from mibg.web.courses import services as courses


@pytest.fixture
def first_course(make_course):
    """Course 1: 15 mCi/kg at 20.0 kg, infused 250 days ago, followed up and closed."""
    return make_course(until="closed", days_ahead=-250, weight="20.0", mci_per_kg="15")


def _screen_through_the_page(client, course, treatment_day, **overrides):
    """Open the screening form, complete what is not carried over (as a coordinator would), save and evaluate."""
    from mibg.web.demo import snapshot_data
    from mibg.web.screening.forms import ScreeningForm

    page = client.get(f"/courses/{course.pk}/screening/")
    prefilled = course_record.screening_form_data(course)
    typed = {k: v for k, v in snapshot_data(treatment_day, weight="21.0", mci_per_kg="12", **overrides).items()
             if k not in ("prior_mibg_courses", "stem_cell_products")}
    data = form_post_data(ScreeningForm(snapshot={**prefilled, **typed}))
    data.update(form_token=page.context["form"]["form_token"].value(), version=str(course.version))
    response = client.post(f"/courses/{course.pk}/screening/", data)
    assert response.status_code == 302, response.context["form"].errors if response.context else response
    evaluation = course.evaluations.order_by("-id").first()
    return page.context["form"], evaluation, {c["id"]: c for c in evaluation.eligibility.to_json()["criteria"]}


def _given(course):
    administration = course.administrations.get()
    return administration, (administration.administered_mci / Decimal("20.0")).quantize(Decimal("0.001"), ROUND_CEILING)


def test_a_second_course_five_months_after_the_first_is_blocked_by_t5_without_retyping_the_history(
        login, people, first_course):
    second = courses.create_course(people["nora"], first_course.patient)
    administration, per_kg = _given(first_course)
    infusion_day = timezone.localtime(administration.started_at).date()
    client = login("nora")
    form, evaluation, criteria = _screen_through_the_page(client, second, add_months(infusion_day, 5))

    # The form opened with course 1 filled in from its administration record.
    assert form["prior_mibg_courses.0.infusion_date"].value() == infusion_day.isoformat()
    assert Decimal(form["prior_mibg_courses.0.mci_per_kg"].value()) == per_kg
    assert Decimal(form["prior_mibg_courses.0.weight_kg"].value()) == Decimal("20.0")
    assert Decimal(form["prior_mibg_courses.0.total_mci"].value()) == administration.administered_mci
    # ... and so does the snapshot the evaluation read.
    prior = json.loads(evaluation.snapshot_json)["prior_mibg_courses"]
    assert [(p["infusion_date"], Decimal(p["mci_per_kg"])) for p in prior] == [(infusion_day.isoformat(), per_kg)]

    t5 = criteria["T5"]
    assert t5["status"] == "not met"
    assert f"Last 131I-MIBG {infusion_day}" in t5["reason"]
    assert f"first allowed day {add_months(infusion_day, 6) + timedelta(days=1)}" in t5["reason"]
    assert evaluation.overall == "not eligible"


def test_seven_months_after_the_first_course_t5_is_met_and_states_the_cumulative_dose(login, people, first_course):
    second = courses.create_course(people["nora"], first_course.patient)
    administration, per_kg = _given(first_course)
    infusion_day = timezone.localtime(administration.started_at).date()
    _form, evaluation, criteria = _screen_through_the_page(login("nora"), second, add_months(infusion_day, 7))
    t5 = criteria["T5"]
    assert t5["status"] == "met", t5
    assert f"cumulative {per_kg} + 12 = {per_kg + 12} mCi/kg, within 60" in t5["reason"]
    assert evaluation.overall == "eligible", [c for c in criteria.values() if c["status"] != "met"]


def test_the_stem_cells_infused_after_the_first_course_are_taken_off_the_stored_product(login, people, first_course):
    """Course 1's screening stored 'PBSC bags 1-4' with 1.1E+8 CD34+ cells; 2.0E+6 CD34+/kg of it were given back
    at 20.0 kg, i.e. 4.0E+7 cells: 7.0E+7 remain for course 2."""
    from mibg.web.radiation.models import StemCellInfusion

    administration = first_course.administrations.get()
    StemCellInfusion.objects.create(course=first_course, infused_at=administration.started_at + timedelta(days=14),
                                    product_type="pbsc", product="PBSC bags 1-4", cells_per_kg=Decimal("2000000"),
                                    given_by="Nora Diaz, RN", recorded_by=people["nora"])
    second = courses.create_course(people["nora"], first_course.patient)
    form = login("nora").get(f"/courses/{second.pk}/screening/").context["form"]
    assert Decimal(form["stem_cell_products.0.total_cd34_cells"].value()) == Decimal("7.0E+7")
    assert "infused" in form["stem_cell_products.0.label"].value()


def test_stem_cells_from_a_product_of_another_label_are_taken_off_every_product_of_that_type(people, first_course):
    from mibg.web.followup.carryover import remaining_stem_cell_products
    from mibg.web.radiation.models import StemCellInfusion

    administration = first_course.administrations.get()
    StemCellInfusion.objects.create(course=first_course, infused_at=administration.started_at + timedelta(days=14),
                                    product_type="pbsc", product="bag 7", cells_per_kg=Decimal("3E+6"),
                                    given_by="Nora Diaz, RN", recorded_by=people["nora"])
    stored = [{"product_type": "pbsc", "total_cd34_cells": "1.1E+8", "label": "PBSC bags 1-4"},
              {"product_type": "pbsc", "total_cd34_cells": "5E+7", "label": "PBSC bags 5-7"},
              {"product_type": "bone_marrow", "total_mononuclear_cells": "4E+9", "label": "marrow"}]
    left = remaining_stem_cell_products(first_course.patient, stored, from_course=1, before_course=2)
    # 3E+6/kg x 20.0 kg = 6.0E+7 cells, matched to no label: taken off both PBSC products; the second is used up.
    assert [(p["label"].split(" (")[0], Decimal(p.get("total_cd34_cells") or p["total_mononuclear_cells"])) for p in left] == [
        ("PBSC bags 1-4", Decimal("5.0E+7")), ("marrow", Decimal("4E+9"))]
    assert "matches no stored label: check" in left[0]["label"]

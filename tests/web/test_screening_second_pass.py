"""Issue 12 through the application: a prior course counts total mCi / weight everywhere (decisions.md A25)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from mibg.web import course_record
from mibg.web.course_record import cumulative
from mibg.web.demo import snapshot_data
from mibg.web.screening import services as screening


def test_the_course_page_cumulative_counts_a_recorded_prior_course_as_total_over_weight(make_course, people):
    course = make_course()
    t = timezone.localdate() + timedelta(days=3)
    # 21 mCi/kg recorded at 20 kg, but 424 mCi given: 424 / 20 = 21.2 mCi/kg (A25), within 1 % of 21 x 20 = 420.
    prior = {"infusion_date": (t - timedelta(days=400)).isoformat(), "mci_per_kg": "21", "weight_kg": "20",
             "total_mci": "424"}
    data = {**course_record.screening_form_data(course), **snapshot_data(t), "prior_mibg_courses": [prior]}
    course.refresh_from_db()
    evaluation = screening.save_and_evaluate(people["nora"], course, course.version, screening.snapshot_for(course, data))
    t5 = next(c for c in evaluation.eligibility.to_json()["criteria"] if c["id"] == "T5")
    assert "21.2" in t5["reason"]  # 21.2 prior + 18 planned = 39.2 mCi/kg
    assert cumulative(course.patient, [course])["mci_per_kg"] == Decimal("21.2")

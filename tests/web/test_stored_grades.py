"""Each laboratory result's grade and each course's count recovery are stored in their core shapes (issue 11) and
stored again, in the same transaction, whenever what they are computed from changes (mibg.core.course_grades says
what a grade is keyed by): a baseline entered, corrected or voided (decisions.md A33, A37), the infusion start
corrected, the patient's date of birth corrected. What is stored is always a fresh computation; the API answers
exactly what is stored.

Every expected grade is worked out by hand from the CTCAE v5.0 rows of clinical-reference §6.1 (ALT increased:
grade 1 > ULN - 3.0 x ULN if the baseline is normal, 1.5 - 3.0 x baseline if abnormal; grade 2 > 3.0 - 5.0 x ULN;
adult hypertension: SBP 140-159 grade 2). The course's screening (mibg.web.demo) has ALT 35 U/L with ULN 45 U/L
before the infusion: a normal baseline.
"""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from mibg.core.course_grades import grade_course, table_digest
from mibg.core.ctcae import CtcaeGrade
from mibg.core.recovery import CourseRecovery
from mibg.web.accounts.models import ApiToken
from mibg.web.audit.models import AuditEvent
from mibg.web.followup import services
from mibg.web.followup.models import GRADES_DERIVED_WITH, CountRecovery, LabResult
from mibg.web.patients import services as patients
from mibg.web.treatment import services as treatment


@pytest.fixture
def course(make_course):
    return make_course(until="follow-up", days_ahead=-20)


def _at(course, days=0, hours=0):
    return timezone.localtime(course.administrations.get().started_at) + timedelta(days=days, hours=hours)


def _alt(value, at):
    return services.LabEntry("alt", value, "U/L", "", "40", at)


def _fresh(course):
    """The grades computed now from the current inputs, as mibg.core computes them."""
    records = list(LabResult.objects.live().filter(course=course))
    patient = type(course.patient).objects.get(pk=course.patient_id)
    computed = grade_course([(r.pk, r.lab) for r in records], services.infusion_start(course),
                            services.screening_labs(course), patient.birth_date)
    return {r.pk: json.loads(r.grade_json) for r in records}, {pk: g.to_json() for pk, g in computed.items()}


def _grade(record):
    return LabResult.objects.get(pk=record.pk).grade


def test_noras_day_5_alt_is_graded_again_when_the_pre_infusion_alt_is_entered_corrected_and_voided(course, people):
    nora = people["nora"]
    # 130 U/L with ULN 40 is 3.25 x ULN: grade 2 (> 3.0 - 5.0 x ULN); the screening baseline 35 (ULN 45) is normal.
    day5 = services.add_lab(nora, course, _alt("130", _at(course, days=5)))
    assert (_grade(day5).grade, _grade(day5).baseline) == (2, 35)
    # The pre-infusion ALT 100 U/L (ULN 40, abnormal) becomes the baseline: 130 is 1.3 x baseline, below 1.5: grade 0.
    before = services.add_lab(nora, course, _alt("100", _at(course, hours=-1)))
    assert (_grade(day5).grade, _grade(day5).baseline) == (0, 100)
    assert _grade(before).grade == 1  # 2.5 x ULN, before the infusion: graded on the ULN, grade 1
    stored, fresh = _fresh(course)
    assert stored == fresh
    change = AuditEvent.objects.get(model="followup.LabResult", object_id=str(day5.pk), field="grade_json")
    assert (json.loads(change.old_value)["grade"], json.loads(change.new_value)["grade"]) == (2, 0)
    assert "a result entered" in change.note
    # Corrected to 80 U/L (still abnormal): 130 / 80 = 1.625 x baseline, within 1.5 - 3.0 x baseline: grade 1.
    corrected = services.correct_lab(nora, before, _alt("80", _at(course, hours=-1)), "the first digit was misread")
    assert (_grade(day5).grade, _grade(day5).baseline) == (1, 80)
    stored, fresh = _fresh(course)
    assert stored == fresh
    # Voided: the screening ALT 35 is the baseline again, normal, so the ULN clause: grade 2.
    services.void(nora, corrected, "drawn from the wrong patient")
    assert (_grade(day5).grade, _grade(day5).baseline) == (2, 35)
    stored, fresh = _fresh(course)
    assert stored == fresh


def test_a_corrected_infusion_start_grades_the_results_again_on_their_side_of_it(make_course, people):
    course = make_course(until="administered", days_ahead=-10)
    given = course.administrations.get()
    nora = people["nora"]
    # ALT 100 U/L (ULN 40) 30 minutes before the recorded start is the baseline, abnormal; 130 on day 5 is grade 0.
    early = services.add_lab(nora, course, _alt("100", given.started_at - timedelta(minutes=30)))
    day5 = services.add_lab(nora, course, _alt("130", given.started_at + timedelta(days=5)))
    assert (_grade(early).grade, _grade(day5).grade) == (1, 0)
    # The infusion really started an hour earlier: the 100 U/L is now after it (2.5 x ULN: grade 1, the screening
    # baseline normal), no longer the baseline; 130 is graded on the ULN again: grade 2.
    start = given.started_at - timedelta(hours=1)
    patient = course.patient
    entry = treatment.AdministrationInput(start, start + timedelta(minutes=100), "central_line", given.volume_ml,
                                          given.residual_mci, start + timedelta(minutes=110),
                                          f"{patient.given_name} {patient.family_name}", patient.birth_date, patient.mrn)
    course.refresh_from_db()
    treatment.correct_administration(nora, given, course.version, entry, "the start was read off the wrong pump")
    assert (_grade(early).grade, _grade(early).baseline, _grade(day5).grade) == (1, 35, 2)
    stored, fresh = _fresh(course)
    assert stored == fresh
    recovery = CountRecovery.objects.get(course=course).result
    assert recovery.infusion_at == timezone.localtime(start)


def test_a_corrected_date_of_birth_reads_the_blood_pressure_with_the_adult_rows(course, people):
    nora = people["nora"]
    bp = services.add_lab(nora, course, services.LabEntry("systolic_bp", "145", "mm[Hg]", "", "", _at(course, days=2)))
    assert _grade(bp).grade_from_value is None  # 7 years old: the paediatric rows, the physician's grade
    patient = course.patient
    patient.refresh_from_db()
    adult = timezone.localdate() - timedelta(days=25 * 365)
    patients.update_patient(nora, patient, patient.version, {
        "mrn": patient.mrn, "family_name": patient.family_name, "given_name": patient.given_name,
        "birth_date": adult, "sex": patient.sex})
    assert _grade(bp).grade_from_value == 2  # an adult: SBP 140-159 is grade 2
    stored, fresh = _fresh(course)
    assert stored == fresh


def test_the_api_answers_exactly_the_stored_grades_and_recovery(client, course, people):
    nora = people["nora"]
    services.add_lab(nora, course, services.LabEntry("anc", "0.4", "10^9/L", "1.5", "", _at(course, days=7)))
    services.add_lab(nora, course, _alt("130", _at(course, days=5)))
    raw = ApiToken.issue(people["morgan"], "tests")[1]
    answer = client.get(f"/api/courses/{course.pk}/labs", HTTP_AUTHORIZATION=f"Bearer {raw}").json()
    stored = {r.pk: r for r in LabResult.objects.live().filter(course=course)}
    assert len(answer) == len(stored) == 2
    for lab in answer:
        record = stored[lab["id"]]
        assert lab["grade"] == record.grade.to_json() == json.loads(record.grade_json)
    anc = next(lab for lab in answer if lab["test"] == "anc")
    assert CtcaeGrade.from_json(anc["grade"]).grade == 4  # ANC 0.4 < 0.5 x 10^9/L
    recovery = client.get(f"/api/courses/{course.pk}/recovery", HTTP_AUTHORIZATION=f"Bearer {raw}").json()
    kept = CountRecovery.objects.get(course=course)
    assert recovery == kept.result.to_json() == kept.result_json
    assert CourseRecovery.from_json(recovery).anc.nadir == Decimal("0.4")


def test_a_transfusion_given_or_voided_stores_the_count_recovery_again(course, people):
    nora = people["nora"]
    services.add_lab(nora, course, services.LabEntry("platelets", "20", "10^9/L", "150", "", _at(course, days=10)))
    before = CountRecovery.objects.get(course=course).result_json
    given = services.add_transfusion(nora, course, "platelets", _at(course, days=11))
    after = CountRecovery.objects.get(course=course).result_json
    assert after != before
    assert [t["product"] for t in after["transfusions"]] == ["platelets"]
    services.void(nora, given, "entered on the wrong course")
    assert CountRecovery.objects.get(course=course).result_json == before


def test_the_stored_grades_were_derived_with_the_ctcae_rows_of_this_release():
    """Changing ctcae_v5.json makes every stored grade out of date: whoever changes it writes a migration that stores
    the grades again (as followup 0007 does) and then updates GRADES_DERIVED_WITH."""
    assert table_digest() == GRADES_DERIVED_WITH

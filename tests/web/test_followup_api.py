"""The follow-up labs API: the same checks and grades as the pages, exact numbers, errors naming the field."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from clinic_helpers import floats_in
from mibg.core.ctcae import CtcaeGrade
from mibg.core.recovery import CourseRecovery
from mibg.core.response import inrc_overall
from mibg.web.accounts.models import ApiToken
from mibg.web.followup import services
from mibg.web.followup.models import LabResult


@pytest.fixture
def course(make_course):
    return make_course(until="follow-up", days_ahead=-20)


@pytest.fixture
def call(client, people):
    """``call("nora", "post", path, body)`` with Nora's API token."""
    tokens = {}

    def do(name, method, path, body=None):
        if name not in tokens:
            tokens[name] = ApiToken.issue(people[name], "tests")[1]
        headers = {"HTTP_AUTHORIZATION": f"Bearer {tokens[name]}"}
        if method == "get":
            return client.get(f"/api{path}", **headers)
        return client.post(f"/api{path}", data=body if isinstance(body, str) else json.dumps(body),
                           content_type="application/json", **headers)

    return do


def _collected(course, days=5):
    return (timezone.localtime(course.administrations.get().started_at) + timedelta(days=days)).isoformat()


def test_nora_posts_a_platelet_count_and_gets_it_back_with_loinc_ucum_and_its_grade(call, course):
    body = f'{{"test": "777-3", "value": 24000, "unit": "/uL", "lln": 150000, "collected_at": "{_collected(course)}"}}'
    response = call("nora", "post", f"/courses/{course.pk}/labs", body)
    assert response.status_code == 201, response.json()
    data = response.json()
    assert (data["test"], data["loinc"], data["value"], data["value_canonical"], data["ucum"]) == (
        "platelets", "777-3", "24000", "24", "10*9/L")
    assert (data["grade"]["grade"], data["grade"]["term"], data["source"]) == (4, "platelet-count-decreased", "api")
    listed = call("morgan", "get", f"/courses/{course.pk}/labs").json()
    assert [lab["grade"]["grade"] for lab in listed] == [4]


def test_a_lab_with_an_unknown_unit_is_refused_with_the_field_and_the_monitor_cannot_post(call, course):
    body = {"test": "hemoglobin", "value": "5.1", "unit": "mmol/L", "lln": "7.1", "collected_at": _collected(course)}
    response = call("nora", "post", f"/courses/{course.pk}/labs", body)
    assert response.status_code == 422
    assert response.json()["field"] == "unit"
    assert call("morgan", "post", f"/courses/{course.pk}/labs", {**body, "unit": "g/dL"}).status_code == 403
    no_zone = {**body, "unit": "g/dL", "collected_at": _collected(course)[:19]}
    response = call("nora", "post", f"/courses/{course.pk}/labs", no_zone)
    assert (response.status_code, response.json()["field"]) == (422, "collected_at")
    assert not LabResult.objects.exists()


def test_a_labs_csv_with_a_bad_row_is_refused_whole_with_each_error(call, course):
    text = ("collected_at,test,value,unit,lln,uln\n"
            f"{_collected(course)},anc,0.3,10^9/L,1.5,\n"
            f"{_collected(course)},anc,abc,10^9/L,1.5,\n")
    response = call("nora", "post", f"/courses/{course.pk}/labs/csv", {"filename": "day5.csv", "csv": text})
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert (error["line"], error["field"]) == (3, "value")
    assert error["message"].startswith("'abc' is not a number")  # then how a number is written (mibg.core.numbers)
    assert not LabResult.objects.exists()
    good = text.splitlines()[0] + "\n" + text.splitlines()[1] + "\n"
    response = call("nora", "post", f"/courses/{course.pk}/labs/csv", {"filename": "day5.csv", "csv": good})
    assert response.status_code == 201
    assert [lab["grade"]["grade"] for lab in response.json()] == [4]


def test_the_api_grade_is_the_core_grade_shape_with_the_baseline_clause_the_follow_up_page_uses(call, course):
    """decisions.md A33: ALT 100 U/L (ULN 40) the day before the infusion is the course's baseline, abnormal; 130 U/L
    on day 5 is 3.25 x ULN (grade 2 on the ULN) but 1.3 x the abnormal baseline: grade 0 (below 1.5 x baseline,
    clinical-reference §6.1). The API says so, in the core grade's one shape (issue 11), on the answer to the post
    and in the list."""
    before = call("nora", "post", f"/courses/{course.pk}/labs",
                  {"test": "alt", "value": "100", "unit": "U/L", "uln": "40", "collected_at": _collected(course, -1)})
    assert before.status_code == 201, before.json()
    after = call("nora", "post", f"/courses/{course.pk}/labs",
                 {"test": "alt", "value": "130", "unit": "U/L", "uln": "40", "collected_at": _collected(course, 5)})
    assert after.status_code == 201, after.json()
    grade = after.json()["grade"]
    assert (grade["schema"], grade["schema_version"]) == ("mibg.ctcae_grade", 1)
    assert (grade["grade"], grade["baseline"]) == (0, "100")
    assert grade["clause"].startswith("graded against the baseline 100 U/L (pre-infusion value")
    assert floats_in(grade) == []
    listed = {lab["id"]: lab["grade"] for lab in call("morgan", "get", f"/courses/{course.pk}/labs").json()}
    assert listed[after.json()["id"]] == grade
    # The same grade the core gives, read back exactly from the answer.
    shown = LabResult.objects.get(pk=after.json()["id"])  # the grade stored with the result (issue 11)
    assert CtcaeGrade.from_json(grade) == shown.grade
    assert grade == shown.grade.to_json() == json.loads(shown.grade_json)
    # The value before the infusion is graded on the ULN (2.5 x ULN: grade 1), with no baseline.
    assert (listed[before.json()["id"]]["grade"], listed[before.json()["id"]]["baseline"]) == (1, None)


def test_the_api_answers_the_recorded_inrc_response_and_the_count_recovery_in_their_core_shapes(call, course, people):
    # PD in any component is PD (clinical-reference §6.2), stored when Dr Patel records it.
    record = services.record_inrc(people["patel"], course, timezone.localdate(), "PD", "CR", "NI")
    [listed] = call("morgan", "get", f"/courses/{course.pk}/responses").json()
    assert listed["id"] == record.pk
    assert listed["result"] == record.result_json == inrc_overall("PD", "CR", "NI").to_json()
    assert listed["result"]["overall"] == "PD"
    # ANC 0.3 on day 5: the recovery answer is the core result for the course's labs, read back exactly.
    call("nora", "post", f"/courses/{course.pk}/labs",
         {"test": "anc", "value": "0.3", "unit": "10^9/L", "lln": "1.5", "collected_at": _collected(course)})
    answer = call("morgan", "get", f"/courses/{course.pk}/recovery")
    assert answer.status_code == 200
    recovery = services.recovery(course)
    assert recovery is not None
    assert answer.json() == recovery.to_json()
    assert CourseRecovery.from_json(answer.json()) == recovery
    assert floats_in(answer.json()) == []


def test_a_tsh_and_an_adults_blood_pressure_come_back_from_the_api_in_the_clinical_reading_shape(call, course):
    """issue 12: no CTCAE grade from a TSH (the flag against the site's range, the grade the physician's); an adult's
    systolic 140 mmHg is grade 2 by the v5.0 thresholds (140-159), the same in the answer to the post and the list."""
    patient = course.patient
    patient.birth_date = timezone.localdate() - timedelta(days=40 * 365)
    patient.save(update_fields=["birth_date"])
    tsh = call("nora", "post", f"/courses/{course.pk}/labs",
               f'{{"test": "3016-3", "value": "12.5", "unit": "mIU/L", "lln": "0.4", "uln": "4.0", '
               f'"collected_at": "{_collected(course)}"}}')
    assert tsh.status_code == 201, tsh.json()
    assert (tsh.json()["grade"]["schema"], tsh.json()["grade"]["flag"], tsh.json()["grade"]["grade_from_value"]) == (
        "mibg.clinical_reading", "high", None)
    bp = call("nora", "post", f"/courses/{course.pk}/labs",
              f'{{"test": "systolic_bp", "value": 140, "unit": "mmHg", "collected_at": "{_collected(course)}"}}')
    assert bp.status_code == 201, bp.json()
    assert bp.json()["grade"]["grade_from_value"] == 2
    listed = {lab["test"]: lab["grade"] for lab in call("morgan", "get", f"/courses/{course.pk}/labs").json()}
    assert listed["systolic_bp"]["grade_from_value"] == 2
    assert listed["tsh"]["flag"] == "high"
    refused = call("nora", "post", f"/courses/{course.pk}/labs",
                   f'{{"test": "tsh", "value": "2", "unit": "mIU/L", "lln": "0.4", "collected_at": "{_collected(course, 6)}"}}')
    assert refused.status_code == 422
    assert refused.json()["field"] == "uln"

"""The API: token per user, the same role checks as the pages, exact numbers, errors as {"message", "field"}."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.utils import timezone

from clinic_helpers import PASSWORD, floats_in
from mibg.core.administration import AdministeredActivity
from mibg.core.dosing import DosePlan
from mibg.web.accounts.models import ApiToken
from mibg.web.directives.models import Verification, WrittenDirective
from mibg.web.treatment.models import Administration, Assay


@pytest.fixture
def api(client, people):
    """``api("patel").get(path)`` with Dr Patel's token."""

    class Caller:
        def __init__(self, name):
            _token, self.raw = ApiToken.issue(people[name], "tests")

        def _headers(self):
            return {"HTTP_AUTHORIZATION": f"Bearer {self.raw}"}

        def get(self, path):
            return client.get(f"/api{path}", **self._headers())

        def post(self, path, body):
            return client.post(f"/api{path}", data=body if isinstance(body, str) else json.dumps(body),
                               content_type="application/json", **self._headers())

    return Caller


def test_the_openapi_schema_and_the_docs_are_served_without_any_cdn(client, db):
    schema = client.get("/api/openapi.json")
    assert schema.status_code == 200
    assert "/api/patients" in schema.json()["paths"]
    docs = client.get("/api/docs")
    assert docs.status_code == 200
    assert b"cdn." not in docs.content
    assert b"/static/ninja/swagger-ui-bundle.js" in docs.content


def test_without_a_token_the_api_answers_401_in_json(client, db):
    response = client.get("/api/patients")
    assert response.status_code == 401
    assert response.json() == {"message": "A valid API token is required: send 'Authorization: Bearer <token>'.", "field": None}
    assert client.get("/api/patients", HTTP_AUTHORIZATION="Bearer mibg_wrong").status_code == 401


def test_a_revoked_token_no_longer_works(api, people):
    caller = api("nora")
    ApiToken.objects.update(revoked_at=timezone.now())
    assert caller.get("/patients").status_code == 401


def test_nora_creates_a_patient_and_morgan_the_monitor_may_only_read(api):
    body = {"mrn": "API-1", "family_name": "Kim", "given_name": "Jae", "birth_date": "2018-03-04", "sex": "male"}
    created = api("nora").post("/patients", body)
    assert created.status_code == 201, created.content
    assert created.json()["mrn"] == "API-1"
    refused = api("morgan").post("/patients", {**body, "mrn": "API-2"})
    assert refused.status_code == 403
    assert set(refused.json()) == {"message", "field"}
    assert api("morgan").get("/patients?q=kim").json()[0]["mrn"] == "API-1"


def test_bad_input_names_the_field(api):
    response = api("nora").post("/patients", {"mrn": "X", "family_name": "A", "given_name": "B", "birth_date": "2018-02-30"})
    assert response.status_code == 422
    assert response.json()["field"] == "birth_date"
    assert api("nora").post("/patients", "{not json").status_code in (400, 422)


def test_the_directive_plan_and_signature_through_the_api_with_exact_decimals(api, make_course):
    course = make_course(until="eligible")
    t = course.planned_treatment_date
    body = {"version": course.version, "mci_per_kg": 18, "preparation": "draximage", "specific_activity": 12,
            "final_volume_ml": 50, "infusion_min": 100, "route": "central_line",
            "calibration_time": f"{t}T07:00:00-08:00", "administration_time": f"{t}T09:00:00-08:00"}
    plan = api("patel").post(f"/courses/{course.pk}/directives/plan", body)
    assert plan.status_code == 200, plan.content
    # 22.0 kg x 18 mCi/kg = 396.0 mCi; x 37 = 14652.0 MBq: exact text, never a JSON number.
    assert plan.json()["activity_mci"] == "396.0"
    assert plan.json()["activity_mbq"] == "14652.0"
    assert DosePlan.from_json(plan.json()).activity.mci == Decimal("396.0")
    assert api("nora").post(f"/courses/{course.pk}/directives/plan", body).status_code == 403
    unsigned = api("patel").post(f"/courses/{course.pk}/directives", {**body, "password": "wrong"})
    assert unsigned.status_code == 403
    assert unsigned.json()["field"] == "password"
    signed = api("patel").post(f"/courses/{course.pk}/directives", {**body, "password": PASSWORD})
    assert signed.status_code == 201, signed.content
    assert Decimal(signed.json()["activity_mci"]) == Decimal("396")
    # Dr Patel reads back the plan as it was signed, in the same shape as the plan she was shown.
    stored = api("patel").get(f"/courses/{course.pk}/directives").json()[0]["plan"]
    assert DosePlan.from_json(stored) == DosePlan.from_json(plan.json())
    # Until verified, Sam the physicist sees the directive without its numbers (10 CFR 35.41).
    seen = api("sam").get(f"/courses/{course.pk}/directives").json()[0]
    assert seen["activity_mci"] is None
    assert seen["plan"] is None
    course.refresh_from_db()
    mismatch = api("sam").post(f"/courses/{course.pk}/verifications", {"version": course.version, "weight_kg": "22.5", "mci_per_kg": "18",
                                                                               "password": PASSWORD})
    assert mismatch.json()["accepted"] is False
    assert "weight" not in mismatch.json()["message"]  # A36: not which entry differs
    assert mismatch.json()["attempts_left"] == 2
    match = api("sam").post(f"/courses/{course.pk}/verifications", {"version": course.version, "weight_kg": "22.000", "mci_per_kg": 18,
                                                                            "password": PASSWORD})
    assert match.json()["accepted"] is True


def test_a_time_without_a_zone_is_refused_naming_the_field(api, make_course):
    course = make_course(until="eligible")
    t = course.planned_treatment_date
    body = {"version": course.version, "mci_per_kg": "18", "preparation": "draximage", "specific_activity": "12",
            "final_volume_ml": "50", "infusion_min": "100", "route": "central_line",
            "calibration_time": f"{t}T07:00:00", "administration_time": f"{t}T09:00:00-08:00"}
    response = api("patel").post(f"/courses/{course.pk}/directives/plan", body)
    assert response.status_code == 422
    assert response.json()["field"] == "calibration_time"


def test_assay_and_administration_through_the_api(api, make_course):
    course = make_course(until="verified", days_ahead=-1)
    t = course.planned_treatment_date
    zone = timezone.localtime().strftime("%z")
    offset = f"{zone[:3]}:{zone[3:]}"
    assay = api("riley").post(f"/courses/{course.pk}/assays", {
        "version": course.version, "lot": "L-9", "calibration_time": f"{t}T07:00:00{offset}", "specific_activity": "12",
        "measured_mci": "396.0", "measured_at": f"{t}T09:00:00{offset}", "calibrator_id": "CRC"})
    assert assay.status_code == 201, assay.content
    # 396.0 mCi measured at the administration time: no decay, 0 % from the prescribed 396 mCi (22.0 kg x 18).
    assert assay.json()["result"]["within_tolerance"] is True
    stored = Assay.objects.get(pk=assay.json()["id"])
    assert assay.json()["result"] == stored.result.to_json() == stored.result_json  # the core result's one shape
    assert floats_in(assay.json()) == []
    course.refresh_from_db()
    stale = api("nora").post(f"/courses/{course.pk}/administrations", {
        "version": course.version - 1, "started_at": f"{t}T09:00:00{offset}", "ended_at": f"{t}T10:40:00{offset}",
        "route": "central_line", "volume_ml": "50", "residual_mci": "2", "residual_measured_at": f"{t}T11:00:00{offset}",
        "patient_name": f"{course.patient.family_name}, {course.patient.given_name}", "patient_mrn": course.patient.mrn})
    assert stale.status_code == 409
    assert stale.json()["field"] == "version"
    given = api("nora").post(f"/courses/{course.pk}/administrations", {
        "version": course.version, "started_at": f"{t}T09:00:00{offset}", "ended_at": f"{t}T10:40:00{offset}",
        "route": "central_line", "volume_ml": "50", "residual_mci": "2", "residual_measured_at": f"{t}T11:00:00{offset}",
        "patient_name": f"{course.patient.family_name}, {course.patient.given_name}", "patient_mrn": course.patient.mrn})
    assert given.status_code == 201, given.content
    assert given.json()["result"]["possible_medical_event"] is False
    listed = api("morgan").get(f"/courses/{course.pk}/administrations").json()[0]
    stored = Administration.objects.get(pk=listed["id"])
    # 396.0 mCi at the start minus 2 mCi measured 2 h later, decay-corrected back to the start:
    # 396.0 - 2 x exp(ln2 x 2 h / (8.0207 d x 24 h/d)) = 396.0 - 2.014455 = 393.985545 mCi (clinical-reference §2.4).
    assert listed["result"]["administered_mci"].startswith("393.98554")
    assert listed["result"] == stored.result.to_json() == stored.result_json
    assert AdministeredActivity.from_json(listed["result"]) == stored.result
    assert floats_in(listed) == []


def test_screening_through_the_api_returns_every_criterion(api, make_course):
    from mibg.web.demo import snapshot_data

    course = make_course()
    data = snapshot_data(course.planned_treatment_date)
    response = api("nora").post(f"/courses/{course.pk}/screening", {"version": course.version, "snapshot": data})
    assert response.status_code == 201, response.content
    result = response.json()
    assert result["overall"] == "eligible"
    assert len(result["result"]["criteria"]) >= 30
    bad = api("nora").post(f"/courses/{course.pk}/screening", {"version": course.version + 1, "snapshot": {**data, "weight_kg": "-3"}})
    assert bad.status_code == 422
    assert bad.json()["field"] == "weight_kg"


def test_morgan_reads_the_patient_list_through_the_api_a_page_at_a_time(api, make_course):
    for n in range(5):
        make_course(mrn=f"PAGE-{n}")
    morgan = api("morgan")
    first, rest = morgan.get("/patients?limit=2"), morgan.get("/patients?limit=3&offset=2")
    assert first.status_code == rest.status_code == 200
    assert first["X-Total-Count"] == rest["X-Total-Count"] == "5"
    mrns = [p["mrn"] for p in first.json() + rest.json()]
    assert sorted(mrns) == [f"PAGE-{n}" for n in range(5)]  # every patient once, none twice
    assert morgan.get("/patients?limit=2&offset=5").json() == []


@pytest.mark.parametrize(("query", "field"), [("limit=501", "limit"), ("limit=0", "limit"), ("offset=-1", "offset"),
                                              ("limit=ten", "limit")])
def test_a_bad_page_of_the_api_patient_list_names_the_field(api, query, field):
    response = api("morgan").get(f"/patients?{query}")
    assert response.status_code == 422
    assert response.json()["field"] == field


def test_the_api_plans_and_signs_with_the_stock_concentration(api, make_course):
    """decisions.md A38: 396 mCi at calibration (no decay) / 20 mCi/mL = 19.8 mL to draw."""
    course = make_course(until="eligible")
    t = course.planned_treatment_date
    body = {"version": course.version, "mci_per_kg": "18", "preparation": "draximage", "specific_activity": "12",
            "stock_concentration_mci_per_ml": "20", "final_volume_ml": "50", "infusion_min": "100",
            "route": "central_line", "calibration_time": f"{t}T09:00:00-08:00",
            "administration_time": f"{t}T09:00:00-08:00"}
    plan = api("patel").post(f"/courses/{course.pk}/directives/plan", body)
    assert plan.status_code == 200, plan.content
    assert Decimal(plan.json()["drug_volume_ml"]) == Decimal("19.8")
    signed = api("patel").post(f"/courses/{course.pk}/directives", {**body, "password": PASSWORD})
    assert signed.status_code == 201, signed.content
    assert WrittenDirective.objects.get(course=course).stock_concentration_mci_per_ml == Decimal("20")


def test_dr_patel_reviews_each_verification_in_its_stored_shape_and_the_verifier_cannot_read_them(api, make_course, people):
    from mibg.core.verification import VerificationResult
    from mibg.web.directives import services as directives

    course = make_course(until="directive signed")
    name = people["sam"].signature_name()
    # Sam types 22.5 kg (the directive says 22.0): the weight and the activity differ, and Sam is told neither.
    directives.verify_directive(people["sam"], course, course.version, "22.5", "18", name)
    course.refresh_from_db()
    directives.verify_directive(people["sam"], course, course.version, "22.0", "18", name)
    assert api("sam").get(f"/courses/{course.pk}/verifications").status_code == 403  # decisions.md A36
    listed = api("patel").get(f"/courses/{course.pk}/verifications").json()
    stored = {v.pk: v for v in Verification.objects.filter(directive__course=course)}
    assert [v["result"]["differing"] for v in listed] == [["weight_kg", "activity_mci"], []]
    for answer in listed:
        assert answer["result"] == stored[answer["id"]].result.to_json() == stored[answer["id"]].result_json
        assert VerificationResult.from_json(answer["result"]) == stored[answer["id"]].result
        assert floats_in(answer) == []
    assert listed[0]["result"]["second_activity_mci"] == "405.0"  # 22.5 kg x 18 mCi/kg, as text


@pytest.mark.parametrize(("days_before", "hour", "minute", "anc_status"), [
    (8, 16, 30, "unknown"),  # 16:30 on the day before the 7-day window = 00:30 UTC on its first day: outside
    (8, 23, 59, "unknown"),
    (7, 0, 0, "met"),        # 00:00 on the window's first day
])
def test_nurse_nora_s_screening_through_the_api_dates_a_utc_lab_by_the_site_day(api, make_course, days_before, hour,
                                                                                minute, anc_status):
    """Issues 11, 14: the API may send a lab in UTC, the form in the site's zone; one moment is one day (the site's)."""
    from datetime import UTC, datetime, time, timedelta

    from mibg.core.times import site_zone
    from mibg.web.demo import snapshot_data

    course = make_course()
    moment = datetime.combine(course.planned_treatment_date - timedelta(days=days_before), time(hour, minute),
                              tzinfo=site_zone())
    found = []
    for version, written in enumerate((moment, moment.astimezone(UTC)), start=course.version):
        data = snapshot_data(course.planned_treatment_date)
        data["labs"] = [lab for lab in data["labs"] if lab["test"] != "anc"] + [
            {"test": "anc", "value": "1.4", "unit": "10^9/L", "collected_at": written.isoformat(), "lln": "1.5"}]
        response = api("nora").post(f"/courses/{course.pk}/screening", {"version": version, "snapshot": data})
        assert response.status_code == 201, response.content
        found.append({c["id"]: c["status"] for c in response.json()["result"]["criteria"]}["H1"])
    assert found == [anc_status, anc_status]

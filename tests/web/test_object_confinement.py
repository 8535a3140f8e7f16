"""Object confinement (issue 7, "Security": own and other patient).

No clinician owns a patient here: no model links a user to a patient, and every clinical role sees every patient
(mibg.web.permissions: "patient.view" is every viewer's), so there is no "other clinician's patient" to refuse.
What must hold instead is that a request about one patient can never read or change another's records: every
URL names one record at most (so no URL can pair Ava's course with Liam's lab), and where a second record is named
in the body (the FHIR import's course, an id slipped into an API body) or a list is nested under a patient, only the
URL's patient's records are taken. API tokens belong to their user: nobody revokes someone else's.

Ava Martin's course is in follow-up; Liam Nguyen's was administered today (matrix_world.py).
"""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from matrix_world import fingerprint, world_fixture
from test_access_matrix import PAGES, routes
from test_api_access_matrix import API


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    yield from world_fixture(django_db_blocker)


def _signed_in(world, name):
    client = Client()
    client.force_login(world.people[name])
    return client


def _bearer(world, name):
    return Client(HTTP_AUTHORIZATION=f"Bearer {world.tokens[name]}")


def test_no_page_or_api_route_names_more_than_one_record_in_its_url():
    """With one id per URL there is nothing to mismatch. A route that nests two ids fails here by name: it needs
    a test in this file that another patient's record under it is refused (404) with nothing stored."""
    for route, _view in routes():
        assert len(re.findall(r"<[^>]+>", route)) <= 1 or route.startswith("admin/"), route
    for path in API:
        assert len(re.findall(r"\{[^}]+\}", path)) <= 1, path
    assert {k for k, _ in PAGES.values()} - {None} == {
        "patient", "course", "evaluation", "directive", "assay", "administration", "lab", "transfusion",
        "adverse_event", "curie", "inrc", "reading", "own_token", "event_report", "stem_cells"}


def _ava_lab_bundle(world):
    """A Bundle of one ANC result, ten days after Ava's infusion, naming no patient: storable in Ava's course."""
    from mibg.web.courses.models import Course

    course = Course.objects.get(pk=world.ids["course"])
    when = (timezone.localtime(course.administrations.get().started_at) + timedelta(days=10)).replace(hour=13, minute=0)
    return {"resourceType": "Bundle", "type": "collection", "entry": [{
        "fullUrl": "urn:uuid:00000000-0000-0000-0000-000000000001",
        "resource": {"resourceType": "Observation", "id": "1", "status": "final",
                     "code": {"coding": [{"system": "http://loinc.org", "code": "751-8"}]},
                     "effectiveDateTime": when.isoformat(), "valueQuantity": {"value": 1.1, "unit": "10*9/L"},
                     "referenceRange": [{"low": {"value": 1.5, "unit": "10*9/L"}}]}}]}


def _import(client, patient_pk, course_pk, bundle):
    return client.post(f"/documents/patients/{patient_pk}/fhir-import/", {
        "course": str(course_pk), "confirm": "on",
        "bundle": SimpleUploadedFile("labs.json", json.dumps(bundle).encode(), content_type="application/fhir+json")})


def test_nora_cannot_import_results_into_avas_course_from_liams_import_page(db, world):
    nora = _signed_in(world, "nora")
    bundle = _ava_lab_bundle(world)
    before = fingerprint()
    response = _import(nora, world.other["patient"], world.ids["course"], bundle)
    assert response.status_code == 200
    assert "course" in response.context["form"].errors  # not one of Liam's courses: the choice is refused
    assert response.context["report"] is None
    assert fingerprint() == before
    # The same file on Ava's own page, for her course, is stored: the refusal above was the course's, not the file's.
    from mibg.web.followup.models import LabResult

    stored = _import(nora, world.ids["patient"], world.ids["course"], bundle)
    assert len(stored.context["report"].stored) == 1
    assert LabResult.objects.filter(course_id=world.ids["course"], source_detail__startswith="FHIR Bundle").count() == 1


def test_an_api_body_naming_liams_course_still_stores_the_lab_in_the_course_of_the_url(db, world):
    from mibg.web.courses.models import Course
    from mibg.web.followup.models import LabResult

    course = Course.objects.get(pk=world.ids["course"])
    when = timezone.localtime(course.administrations.get().started_at) + timedelta(days=11, hours=5)
    liams = LabResult.objects.filter(course_id=world.other["course"]).count()
    avas = LabResult.objects.filter(course_id=world.ids["course"]).count()
    response = _bearer(world, "nora").post(
        f"/api/courses/{world.ids['course']}/labs", json.dumps({
            "test": "anc", "value": "1.2", "unit": "10^9/L", "lln": "1.5", "collected_at": when.isoformat(),
            "course_id": world.other["course"], "patient_id": world.other["patient"]}),
        content_type="application/json")
    assert response.status_code == 201, response.content
    assert response.json()["course_id"] == world.ids["course"]
    assert LabResult.objects.filter(course_id=world.other["course"]).count() == liams
    assert LabResult.objects.filter(course_id=world.ids["course"]).count() == avas + 1


def test_the_api_lists_under_a_patient_only_that_patients_courses(db, world):
    morgan = _bearer(world, "morgan")
    liams = morgan.get(f"/api/patients/{world.other['patient']}/courses").json()
    assert [c["id"] for c in liams] == [world.other["course"]]
    assert {c["patient_id"] for c in liams} == {world.other["patient"]}


def test_a_course_made_under_a_patient_is_that_patients_whatever_the_body_says(db, world):
    from mibg.web.courses.models import Course
    from mibg.web.patients import services as patients

    zoe = patients.create_patient(world.people["nora"], {
        "mrn": "MX-1003", "given_name": "Zoe", "family_name": "Wilson",
        "birth_date": timezone.localdate() - timedelta(days=4 * 365), "sex": "female"})
    avas = Course.objects.filter(patient_id=world.ids["patient"]).count()
    response = _bearer(world, "nora").post(f"/api/patients/{zoe.pk}/courses",
                                           json.dumps({"patient_id": world.ids["patient"]}), content_type="application/json")
    assert response.status_code == 201, response.content
    assert response.json()["patient_id"] == zoe.pk
    assert Course.objects.filter(patient_id=world.ids["patient"]).count() == avas


def test_nora_cannot_revoke_dr_patels_token_and_it_keeps_working(db, world):
    nora = _signed_in(world, "nora")
    before = fingerprint()
    response = nora.post(f"/accounts/tokens/{world.token_ids['patel']}/revoke/")
    assert response.status_code == 404
    assert fingerprint() == before
    assert _bearer(world, "patel").get("/api/patients").status_code == 200


def test_the_administrator_cannot_revoke_another_users_token_from_the_tokens_page_either(db, world):
    admin = _signed_in(world, "admin")
    before = fingerprint()
    assert admin.post(f"/accounts/tokens/{world.token_ids['nora']}/revoke/").status_code == 404
    assert fingerprint() == before
    assert _bearer(world, "nora").get("/api/patients").status_code == 200


def test_dr_patel_revokes_her_own_token_and_it_stops_working(db, world):
    response = _signed_in(world, "patel").post(f"/accounts/tokens/{world.token_ids['patel']}/revoke/")
    assert response.status_code == 302
    assert _bearer(world, "patel").get("/api/patients").status_code == 401


def test_the_tokens_page_lists_only_the_users_own_tokens(db, world):
    page = _signed_in(world, "nora").get("/accounts/tokens/")
    assert [t.user_id for t in page.context["tokens"]] == [world.people["nora"].pk]

"""FHIR R4 for a patient: the export of every course as one Bundle (page and API), validated with the R4B models,
and the import of a Bundle's laboratory results into a course's follow-up, with a report of what was taken and
what was refused and why."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from fhir.resources.R4B.bundle import Bundle

from mibg.web.accounts.models import ApiToken
from mibg.web.audit.models import AuditEvent
from mibg.web.followup.models import LabResult


@pytest.fixture
def treated(make_course, people):
    """A course given 20 days ago, with two follow-up counts."""
    from mibg.web.followup import services as followup

    course = make_course(until="follow-up", days_ahead=-20, mrn="FHIR-0001")
    start = timezone.localtime(course.administrations.get().started_at)
    followup.add_lab(people["nora"], course, followup.LabEntry("platelets", "45", "10^9/L", "150", "", start + timedelta(days=7)))
    followup.add_lab(people["nora"], course, followup.LabEntry("anc", "750", "/uL", "1500", "", start + timedelta(days=7)))
    course.refresh_from_db()
    return course


def export(client, patient):
    response = client.get(f"/documents/patients/{patient.pk}/fhir.json")
    assert response.status_code == 200
    return response


def observation(loinc, value, unit, when, *, low=None, status="final", code_system="http://loinc.org", ident="x"):
    resource = {"resourceType": "Observation", "id": ident, "status": status,
                "code": {"coding": [{"system": code_system, "code": loinc}]},
                "effectiveDateTime": when, "valueQuantity": {"value": value, "unit": unit}}
    if low is not None:
        resource["referenceRange"] = [{"low": {"value": low, "unit": unit}}]
    return {"fullUrl": f"urn:uuid:00000000-0000-0000-0000-{ident.rjust(12, '0')}", "resource": resource}


def upload(client, patient, course, bundle, *, confirm=True, name="labs.json"):
    data = {"course": str(course.pk),
            "bundle": SimpleUploadedFile(name, json.dumps(bundle).encode(), content_type="application/fhir+json")}
    if confirm:
        data["confirm"] = "on"
    return client.post(f"/documents/patients/{patient.pk}/fhir-import/", data)


def test_morgan_downloads_the_patients_bundle_and_it_parses_as_an_r4_bundle_with_exact_numbers(login, treated):
    response = export(login("morgan"), treated.patient)
    assert response["Content-Type"] == "application/fhir+json"
    assert response["Content-Disposition"] == 'attachment; filename="mibg-FHIR-0001-fhir.json"'
    bundle = Bundle.model_validate_json(response.content)
    kinds = [e.resource.get_resource_type() for e in bundle.entry]
    assert kinds.count("Patient") == 1
    assert {"ResearchStudy", "Condition", "MedicationRequest", "MedicationAdministration"} <= set(kinds)
    data = json.loads(response.content, parse_float=Decimal)
    request = next(e["resource"] for e in data["entry"] if e["resource"]["resourceType"] == "MedicationRequest")
    ordered = {d["type"]["coding"][0]["code"]: d["doseQuantity"] for d in request["dosageInstruction"][0]["doseAndRate"]}
    # By hand: 22.0 kg x 18 mCi/kg = 396 mCi = 14652 MBq.
    assert ordered["ordered"]["value"] == Decimal(396)
    assert ordered["ordered"]["unit"] == "mCi"
    assert ordered["calculated"]["value"] == Decimal(14652)
    labs = [e["resource"] for e in data["entry"] if e["resource"].get("code", {}).get("coding", [{}])[0].get("code") == "751-8"]
    assert [lab["valueQuantity"]["value"] for lab in labs] == [Decimal("0.75")]  # 750 /uL = 0.75 x 10^9/L
    patient_url = next(e["fullUrl"] for e in data["entry"] if e["resource"]["resourceType"] == "Patient")
    assert all(lab["subject"]["reference"] == patient_url for lab in labs)
    event = AuditEvent.objects.get(action=AuditEvent.EXPORT, username="morgan")
    assert event.patient == treated.patient


def test_a_patient_with_two_courses_has_one_patient_and_every_reference_resolves(login, make_course, people):
    from mibg.web.courses import services
    from mibg.web.demo import run_course

    first = make_course(until="closed", days_ahead=-240, weight="28.0", mci_per_kg="12", mrn="FHIR-0003")
    second = services.create_course(people["nora"], first.patient)
    run_course(people, second, timezone.localdate() - timedelta(days=10), until="follow-up", weight="31.0",
               mci_per_kg="15")
    data = json.loads(export(login("patel"), first.patient).content)
    Bundle.model_validate(data)
    urls = {e["fullUrl"] for e in data["entry"]}
    assert len(urls) == len(data["entry"])
    assert [e["resource"]["resourceType"] for e in data["entry"]].count("Patient") == 1
    requests = [e["resource"] for e in data["entry"] if e["resource"]["resourceType"] == "MedicationRequest"]
    # one written directive per course; each course's supportive-care medication orders (iodide and the
    # antiemetic, issue 13) are MedicationRequests based on it
    assert len([r for r in requests if "basedOn" not in r]) == 2
    assert len([r for r in requests if "basedOn" in r]) == 4
    assert [e["resource"]["resourceType"] for e in data["entry"]].count("MedicationAdministration") == 2

    def references(value):
        if isinstance(value, dict):
            for key, item in value.items():
                if key == "reference":
                    yield item
                else:
                    yield from references(item)
        elif isinstance(value, list):
            for item in value:
                yield from references(item)

    assert set(references(data)) <= urls


def test_two_exports_of_the_same_record_are_the_same_text(login, treated):
    client = login("patel")
    assert export(client, treated.patient).content == export(client, treated.patient).content


def test_the_api_gives_the_same_bundle_to_a_token_holder(client, login, treated, people):
    _token, raw = ApiToken.issue(people["sam"], "tests")
    response = client.get(f"/api/patients/{treated.patient.pk}/fhir", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/fhir+json"
    Bundle.model_validate_json(response.content)
    assert response.content == export(login("sam"), treated.patient).content
    assert client.get(f"/api/patients/{treated.patient.pk}/fhir").status_code == 401
    _token, admin = ApiToken.issue(people["admin"], "tests")
    assert client.get(f"/api/patients/{treated.patient.pk}/fhir", HTTP_AUTHORIZATION=f"Bearer {admin}").status_code == 403


def test_nora_imports_a_plain_lab_bundle_and_sees_what_was_stored_and_what_was_refused_and_why(login, treated):
    start = timezone.localtime(treated.administrations.get().started_at)
    day = lambda n: (start + timedelta(days=n)).isoformat()  # noqa: E731
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [
        observation("777-3", 18, "10*9/L", day(14), low=150, ident="1"),  # platelets 18: grade 4 (< 25)
        observation("751-8", 300, "/uL", day(14), low=1500, ident="2"),  # ANC 300 /uL = 0.3 x 10^9/L: grade 4 (< 0.5)
        observation("718-7", 78, "g/L", day(14), low=115, ident="3"),  # Hb 78 g/L = 7.8 g/dL: grade 3 (< 8.0)
        observation("2160-0", 0.4, "mmol/L", day(14), ident="4"),  # a unit that cannot be converted
        observation("777-3", 20, "10*9/L", day(15), status="preliminary", ident="5"),  # not a final result
        observation("9999-9", 1, "1", day(15), ident="6"),  # an unknown code
        observation("777-3", 22, "10*9/L", (start + timedelta(days=15)).strftime("%Y-%m-%dT%H:%M:%S"), ident="7"),
        observation("777-3", 30, "10*9/L", (start - timedelta(days=2)).isoformat(), low=150, ident="8"),  # before it
        observation("751-8", 2.5, "10*9/L", day(16), ident="9"),  # no LLN: grade 0 or 1 cannot be told
    ]}
    response = upload(login("nora"), treated.patient, treated, bundle)
    assert response.status_code == 200
    page = response.content.decode()
    report = response.context["report"]
    assert [line.resource for line in report.stored] == ["entry 1 Observation/1", "entry 2 Observation/2",
                                                          "entry 3 Observation/3"]
    refused = {line.resource: line.text for line in report.refused}
    assert "unit not convertible" in refused["entry 4 Observation/4"]
    assert "status 'preliminary' is not a final result" in refused["entry 5 Observation/5"]
    assert "unknown code" in refused["entry 6 Observation/6"]
    assert "not valid FHIR R4 Observation: effectiveDateTime" in refused["entry 7 Observation/7"]  # no UTC offset
    assert "before the infusion" in refused["entry 8 Observation/8"]
    assert "entry 9 Observation/9" in refused
    assert 'id="count-stored">3<' in page
    assert 'id="count-refused">6<' in page
    stored = {lab.test: lab for lab in LabResult.objects.filter(course=treated, source=LabResult.API)}
    assert (stored["anc"].value, stored["anc"].unit, stored["anc"].value_canonical) == ("300", "/uL", "0.3")
    assert stored["anc"].grade.grade == 4
    assert stored["platelets"].grade.grade == 4
    assert (stored["hemoglobin"].value_canonical, stored["hemoglobin"].grade.grade) == ("7.8", 3)
    assert stored["platelets"].source_detail == "FHIR Bundle labs.json, entry 1 Observation/1"
    assert AuditEvent.objects.filter(model="followup.LabResult", object_id=str(stored["anc"].pk), action="create").exists()


def test_reimporting_the_patients_own_export_stores_nothing_twice(login, treated):
    client = login("patel")
    bundle = json.loads(export(client, treated.patient).content)
    report = upload(client, treated.patient, treated, bundle).context["report"]
    assert report.stored == []
    assert len([line for line in report.refused if "already stored" in line.text]) == 2
    assert any("Patient" in line.resource for line in report.not_stored)
    assert any("MedicationAdministration" in line.resource for line in report.not_stored)
    assert LabResult.objects.filter(course=treated).count() == 2


def test_a_bundle_about_another_patient_is_refused_whole(login, treated, make_course):
    other = make_course(until="follow-up", days_ahead=-20, mrn="FHIR-0002")
    client = login("nora")
    bundle = json.loads(export(client, other.patient).content)
    response = upload(client, treated.patient, treated, bundle)
    assert "another patient (MRN FHIR-0002)" in response.context["report"].whole_refusal
    assert "Nothing was stored" in response.content.decode()
    assert not LabResult.objects.filter(course=treated, source=LabResult.API).exists()


def test_a_file_that_is_not_a_bundle_is_refused_and_the_confirmation_is_required(login, treated):
    client = login("nora")
    report = upload(client, treated.patient, treated, {"resourceType": "Patient"}).context["report"]
    assert "not a FHIR Bundle" in report.whole_refusal
    response = upload(client, treated.patient, treated, {"resourceType": "Bundle", "type": "collection"}, confirm=False)
    assert response.context["report"] is None
    assert response.context["form"].errors["confirm"]


def test_only_nurses_and_physicians_import_and_the_monitor_may_not(client, people, treated):
    for name, status in (("morgan", 403), ("sam", 403), ("riley", 403), ("chen", 403), ("nora", 200), ("patel", 200)):
        client.force_login(people[name])
        assert client.get(f"/documents/patients/{treated.patient.pk}/fhir-import/").status_code == status, name


def test_a_result_already_stored_in_the_patients_later_course_is_not_stored_again_in_an_earlier_one(login, treated,
                                                                                                       people):
    """Nora imports the patient's own export into course 1: a count stored in course 2 is the same result."""
    from mibg.web.courses.models import Course
    from mibg.web.followup import services as followup

    # Course 2 in follow-up, holding a count collected after course 1's infusion (e.g. its pre-infusion
    # baseline, entered in course 2): set up directly, the steps of course 2 are not what is tested here.
    later = Course.objects.create(patient=treated.patient, number=2, created_by=people["nora"], state="follow-up")
    start = timezone.localtime(treated.administrations.get().started_at)
    when = start + timedelta(days=12)
    followup.add_lab(people["nora"], later, followup.LabEntry("platelets", "160", "10^9/L", "150", "", when))
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [
        observation("777-3", 160, "10*9/L", when.isoformat(), low=150, ident="1")]}
    report = upload(login("nora"), treated.patient, treated, bundle).context["report"]
    assert report.stored == []
    assert "already stored in course 2" in report.refused[0].text
    assert LabResult.objects.filter(course__patient=treated.patient, test="platelets", collected_at=when).count() == 1

"""The same bad inputs through every door, and the same refusal: issue 11, "Done when", the first test.

Each row of the table is one bad input of one kind: identity (decisions.md A34), weight, activity (the plausible
ranges of the protocol definition) and impossible dates. Each is sent through each door that takes that kind of
value: the form a person fills in, the JSON API, a FHIR Bundle imported on the patient page, and the `mibg`
command. Every door must refuse it naming the field (the form on that field, the API in ``field``, the import in
its reason, the command on its one line of stderr with exit status 2), and nothing may be stored: the row count of
every table is the same before and after.
"""

from __future__ import annotations

import argparse
import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from clinic_helpers import form_post_data
from mibg.cli import main as mibg
from mibg.web.accounts.models import ApiToken
from mibg.web.audit.models import AuditEvent

READINGS = Path(__file__).parents[2] / "examples" / "readings" / "worked-example-4-4.csv"
BOOKKEEPING = {"sessions.Session", "accounts.SubmissionToken", "audit.AuditEvent", "accounts.ApiToken"}
#: How a FHIR Patient resource names each identity field, beside the application's own name.
FHIR_NAMES = {"mrn": "identifier", "family_name": "family", "given_name": "given", "birth_date": "birthDate"}

ADA = {"mrn": "DEMO-1006", "family_name": "Brown", "given_name": "Ada", "birth_date": "2018-03-04", "sex": "female"}


def row_counts() -> dict[str, int]:
    counts = {m._meta.label: m._default_manager.count() for m in apps.get_models()
              if m._meta.label not in BOOKKEEPING and m._meta.app_label != "axes"}
    counts["audit events other than views and refusals"] = AuditEvent.objects.exclude(action__in=["view", "refused"]).count()
    return counts


def in_days(days: int) -> str:
    return (timezone.localdate() + timedelta(days=days)).isoformat()


# ---- the table ------------------------------------------------------------------------------------------------------

#: (kind, what is wrong, the change to a good entry, the field that must be named)
IDENTITY = [
    ("identity", "a blank MRN", {"mrn": "   "}, "mrn"),
    ("identity", "a 70-character MRN (the limit is 40)", {"mrn": "M" * 70}, "mrn"),
    ("identity", "a 41-character MRN", {"mrn": "M" * 41}, "mrn"),
    ("identity", "a blank family name", {"family_name": ""}, "family_name"),
    ("identity", "a 5,000-character family name (the limit is 100)", {"family_name": "B" * 5000}, "family_name"),
    ("identity", "a blank given name", {"given_name": "  "}, "given_name"),
    ("identity", "a 101-character given name", {"given_name": "A" * 101}, "given_name"),
    ("dates", "a date of birth next year", {"birth_date": in_days(400)}, "birth_date"),
    ("dates", "a date of birth before 1900", {"birth_date": "1899-12-31"}, "birth_date"),
    ("dates", "30 February", {"birth_date": "2018-02-30"}, "birth_date"),
]
#: A second record for DEMO-1006: refused where a patient is registered (the import names the patient it is about).
SAME_PATIENT = [
    ("identity", "DEMO-1006 with a trailing space beside DEMO-1006", {"mrn": "DEMO-1006 "}, "mrn"),
    ("identity", "demo-1006 in lower case beside DEMO-1006", {"mrn": "demo-1006"}, "mrn"),
]
WEIGHT = [("weight", f"a weight of {w} kg (plausible: 2 to 250 kg)", w, "weight_kg") for w in ("0.001", "1.999", "250.001")]
ACTIVITY = [("activity", f"an activity of {a} mCi (plausible: 1 to 5000 mCi)", a, "activity")
            for a in ("0.5", "0.999", "5000.1")]


def rows(table, doors):
    return [pytest.param(door, kind, change, field, id=f"{door}-{kind}-{what}")
            for door in doors for kind, what, change, field in table]


# ---- the doors ------------------------------------------------------------------------------------------------------


@pytest.fixture
def world(make_course, people, login, client, monkeypatch):
    """DEMO-1006 registered with a course given 20 days ago; the command runs in this process on the test database."""
    from mibg.commands import serve

    monkeypatch.setattr(serve, "setup_django", lambda: None)
    monkeypatch.setattr(serve, "migrate", lambda: None)
    treated = make_course(until="administered", days_ahead=-20, mrn="DEMO-1006")
    _token, raw = ApiToken.issue(people["nora"], "every door")
    return argparse.Namespace(course=treated, patient=treated.patient, token=raw, login=login, client=client,
                              make_course=make_course, people=people)


def _api(world, path, body, persona="nora"):
    raw = world.token if persona == "nora" else ApiToken.issue(world.people[persona], "every door")[1]
    return world.client.post(f"/api{path}", data=json.dumps(body), content_type="application/json",
                             HTTP_AUTHORIZATION=f"Bearer {raw}")


def _api_refused(response, field):
    assert 400 <= response.status_code < 500, (response.status_code, response.content)
    body = response.json()
    assert body["message"].strip()
    assert body["field"] == field, body


def _form_refused(response, field):
    assert response.status_code in (200, 400, 422), response.status_code
    errors = response.context["form"].errors
    assert field in errors, dict(errors)
    assert all(message.strip() for message in errors[field])


def _import(world, bundle):
    client = world.client  # logged in as Nora before the rows were counted (a login is audited)
    upload = SimpleUploadedFile("door.json", json.dumps(bundle).encode(), content_type="application/fhir+json")
    response = client.post(f"/documents/patients/{world.patient.pk}/fhir-import/",
                           {"course": str(world.course.pk), "bundle": upload, "confirm": "on"})
    assert response.status_code in (200, 400, 422)
    report = response.context["report"]
    assert report is not None, dict(response.context["form"].errors)
    assert not report.stored
    return report


def _import_refused(report, *names):
    reasons = [report.whole_refusal] if report.whole_refusal else [line.text for line in report.refused]
    assert reasons, report
    assert any(name in reason for reason in reasons for name in names), reasons


def _command(capsys, args, flag):
    capsys.readouterr()
    status = mibg(args)
    err = capsys.readouterr().err
    assert status == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert flag in lines[0]
    assert "Traceback" not in err


def _fhir_patient(identity):
    given = identity["given_name"].split() if identity["given_name"].strip() else []
    return {"fullUrl": "urn:uuid:00000000-0000-0000-0000-000000000001", "resource": {
        "resourceType": "Patient", "id": "p",
        "identifier": [{"type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}]},
                        "value": identity["mrn"]}],
        "name": [{"family": identity["family_name"], **({"given": given} if given else {})}],
        "gender": identity["sex"], "birthDate": identity["birth_date"]}}


def _bundle(*entries):
    return {"resourceType": "Bundle", "type": "collection", "entry": list(entries)}


# identity and dates: form, API, FHIR import, command --------------------------------------------------------------


def send_identity(door, world, values, field, capsys):
    if door == "form":
        client = world.client
        page = client.get("/patients/new/")
        data = {**values, "form_token": page.context["form"]["form_token"].value()}
        _form_refused(client.post("/patients/new/", data), field)
    elif door == "api":
        _api_refused(_api(world, "/patients", values), field)
    elif door == "fhir":
        _import_refused(_import(world, _bundle(_fhir_patient(values))), field, FHIR_NAMES[field])
    else:
        args = ["patient", "add", "--by", "nora", "--mrn", values["mrn"], "--family-name", values["family_name"],
                "--given-name", values["given_name"], "--birth-date", values["birth_date"], "--sex", values["sex"]]
        _command(capsys, args, "--" + field.replace("_", "-"))


@pytest.mark.parametrize(("door", "kind", "change", "field"), rows(IDENTITY, ("form", "api", "fhir", "command")))
def test_a_bad_identity_or_an_impossible_date_is_refused_at_every_door_naming_the_field_and_nothing_is_stored(
        door, kind, change, field, world, capsys):
    values = {**ADA, "mrn": "DEMO-2001", **change}
    if door == "fhir" and "mrn" not in change:
        values["mrn"] = "DEMO-1006"  # the import is about the patient whose page it is on
    world.login("nora")
    before = row_counts()
    send_identity(door, world, values, field, capsys)
    assert row_counts() == before


@pytest.mark.parametrize(("door", "kind", "change", "field"), rows(SAME_PATIENT, ("form", "api", "command")))
def test_a_second_record_for_the_same_mrn_is_refused_at_every_door_that_registers_a_patient(
        door, kind, change, field, world, capsys):
    world.login("nora")
    before = row_counts()
    send_identity(door, world, {**ADA, **change}, field, capsys)
    assert row_counts() == before


@pytest.mark.parametrize("same", ["DEMO-1006 ", "demo-1006"])
def test_a_bundle_naming_the_same_mrn_in_other_spaces_or_case_is_about_the_same_patient(world, same):
    world.login("nora")
    report = _import(world, _bundle(_fhir_patient({**ADA, "mrn": same})))
    assert report.whole_refusal == ""
    assert report.not_stored  # the Patient entry: read, the patient of this record


def test_a_bundle_about_another_patient_is_still_refused_whole(world):
    world.login("nora")
    report = _import(world, _bundle(_fhir_patient({**ADA, "mrn": "DEMO-1007"})))
    assert "another patient" in report.whole_refusal


# weight: screening form, API screening snapshot, FHIR body weight, `mibg dose` -------------------------------------


@pytest.mark.parametrize(("door", "kind", "value", "field"), rows(WEIGHT, ("form", "api", "fhir", "command")))
def test_an_implausible_weight_is_refused_at_every_door_naming_the_weight_and_nothing_is_stored(
        door, kind, value, field, world, capsys):
    from mibg.web import course_record
    from mibg.web.screening import services as screening

    course = world.make_course(until="screening") if door in ("form", "api") else world.course
    client = world.login("nora")
    before = row_counts()
    if door == "form":
        url = f"/courses/{course.pk}/screening/"
        data = form_post_data(client.get(url).context["form"])
        _form_refused(client.post(url, {**data, "weight_kg": value}), "weight_kg")
    elif door == "api":
        snapshot = {k: v for k, v in course_record.screening_form_data(course).items() if k not in screening.fixed_values(course)}
        response = _api(world, f"/courses/{course.pk}/screening",
                        {"version": course.version, "snapshot": {**snapshot, "weight_kg": value}})
        _api_refused(response, "weight_kg")
    elif door == "fhir":
        weight = {"fullUrl": "urn:uuid:00000000-0000-0000-0000-000000000002", "resource": {
            "resourceType": "Observation", "id": "w", "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7"}]},
            "effectiveDateTime": in_days(-1), "valueQuantity": {"value": float(value), "unit": "kg",
                                                               "system": "http://unitsofmeasure.org", "code": "kg"}}}
        _import_refused(_import(world, _bundle(weight)), "weight_kg")
    else:
        _command(capsys, ["dose", "--weight-kg", value, "--mci-per-kg", "12"], "--weight-kg")
    assert row_counts() == before


# activity: assay form, API assay, FHIR administration, `mibg dosimetry` ---------------------------------------------


@pytest.mark.parametrize(("door", "kind", "value", "field"), rows(ACTIVITY, ("form", "api", "fhir", "command")))
def test_an_implausible_activity_is_refused_at_every_door_naming_the_activity_and_nothing_is_stored(
        door, kind, value, field, world, capsys):
    # yesterday: an assay is never recorded ahead of the clock (decisions.md A29)
    course = world.make_course(until="verified", days_ahead=-1) if door in ("form", "api") else world.course
    t = course.planned_treatment_date
    client = world.login("riley" if door == "form" else "nora")
    before = row_counts()
    if door == "form":
        url = f"/courses/{course.pk}/assay/"
        token = client.get(url).context["form"]["form_token"].value()
        data = {"form_token": token, "version": course.version, "lot": "LSA-1", "calibration_time": f"{t}T07:00",
                "specific_activity": "12", "measured_mci": value, "measured_at": f"{t}T08:00", "calibrator_id": "CRC-1"}
        _form_refused(client.post(url, data), "measured_mci")
    elif door == "api":
        body = {"version": course.version, "lot": "LSA-1", "calibration_time": f"{t}T07:00:00-08:00",
                "specific_activity": "12", "measured_mci": value, "measured_at": f"{t}T08:00:00-08:00", "calibrator_id": "C"}
        _api_refused(_api(world, f"/courses/{course.pk}/assays", body, persona="riley"), "measured_mci")
    elif door == "fhir":
        given = {"fullUrl": "urn:uuid:00000000-0000-0000-0000-000000000003", "resource": {
            "resourceType": "MedicationAdministration", "id": "a", "status": "completed",
            "medicationCodeableConcept": {"text": "131I-MIBG"}, "subject": {"reference": "Patient/p"},
            "effectiveDateTime": f"{in_days(-20)}T09:00:00-08:00",
            "dosage": {"dose": {"value": float(value), "unit": "mCi"}}}}
        _import_refused(_import(world, _bundle(given)), "activity_mci")
    else:
        _command(capsys, ["dosimetry", str(READINGS), "--administered-mci", value, "--weight-kg", "22"],
                 "--administered-mci")
    assert row_counts() == before


# volume infused: administration form and API (plausible 1 to 1000 mL; the lower bound is new) ---------------------


@pytest.mark.parametrize("door", ["form", "api"])
@pytest.mark.parametrize("volume", ["0.99", "1000.01"])
def test_an_implausible_infused_volume_is_refused_at_the_form_and_the_api_and_nothing_is_stored(door, volume, world):
    course = world.make_course(until="assayed", days_ahead=-1)  # A29: the infusion is in the past
    start = timezone.localtime(course.directives.get().administration_time)
    wristband = {"patient_name": f"{course.patient.given_name} {course.patient.family_name}",
                 "patient_mrn": course.patient.mrn}  # A36: two identifiers
    end, residual_at = start + timedelta(minutes=100), start + timedelta(minutes=110)
    client = world.login("nora")
    before = row_counts()
    if door == "form":
        url = f"/courses/{course.pk}/administration/"
        token = client.get(url).context["form"]["form_token"].value()
        data = {"form_token": token, "version": course.version, "started_at": start.strftime("%Y-%m-%dT%H:%M"),
                "ended_at": end.strftime("%Y-%m-%dT%H:%M"), "route": "central_line", "volume_ml": volume,
                "residual_mci": "2.5", "residual_measured_at": residual_at.strftime("%Y-%m-%dT%H:%M"), **wristband}
        _form_refused(client.post(url, data), "volume_ml")
    else:
        body = {"version": course.version, "started_at": start.isoformat(), "ended_at": end.isoformat(),
                "route": "central_line", "volume_ml": volume, "residual_mci": "2.5",
                "residual_measured_at": residual_at.isoformat(), **wristband}
        _api_refused(_api(world, f"/courses/{course.pk}/administrations", body), "volume_ml")
    assert row_counts() == before

"""The thyroid and blood-pressure rows through every door (issue 12; mibg.core.clinical_rows): the labs form, the
labs CSV, the follow-up page with the CTCAE v5.0 definitions beside the value, the physician's grade as an adverse
event, the course summary PDF and the FHIR export. CTCAE v5.0 grades Hypothyroidism, Hyperthyroidism and
Hypertension clinically: nothing here computes a thyroid grade from a value."""

from __future__ import annotations

import io
import json
import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from pypdf import PdfReader

from mibg.web.audit.models import AuditEvent
from mibg.web.followup import services
from mibg.web.followup.models import LabResult


@pytest.fixture
def course(make_course):
    """A course in follow-up, infused 20 days ago at 09:00 (clinic time); the patient is 7 years old."""
    return make_course(until="follow-up", days_ahead=-20)


def _token(client, url):
    return client.get(url).context["form"]["form_token"].value()


def _start(course):
    return timezone.localtime(course.administrations.get().started_at)


def _enter(client, course, test, value, unit, lln="", uln="", days=10):
    url = f"/followup/courses/{course.pk}/labs/new/"
    when = (_start(course) + timedelta(days=days)).replace(hour=8, minute=0).strftime("%Y-%m-%dT%H:%M")
    return client.post(url, {"form_token": _token(client, url), "test": test, "value": value, "unit": unit,
                             "lln": lln, "uln": uln, "collected_at": when})


def _row(page, record):
    match = re.search(rf'<tr id="lab-{record.pk}">(.*?)</tr>', page.content.decode(), re.S)
    assert match, f"no row for lab {record.pk}"
    return match.group(1)


def test_nora_enters_a_tsh_and_dr_patel_sees_it_flagged_high_with_the_hypothyroidism_definitions_beside_it(login, course):
    assert _enter(login("nora"), course, "tsh", "12.5", "mIU/L", "0.4", "4.0").status_code == 302
    lab = LabResult.objects.get(course=course)
    assert (lab.loinc, lab.ucum, lab.value_canonical) == ("3016-3", "m[IU]/L", "12.5")
    assert "TSH: high (12.5 mIU/L > ULN 4.0 mIU/L)" in AuditEvent.objects.filter(action="create").first().note
    page = login("patel").get(f"/followup/courses/{course.pk}/")
    row = _row(page, lab)
    assert ">high</span>" in row
    assert not re.search(r">grade \d", row)  # no grade computed from the value
    assert "Symptomatic; thyroid replacement indicated" in row  # Hypothyroidism grade 2, beside the value
    assert "Symptomatic; thyroid suppression therapy indicated" in row  # Hyperthyroidism grade 2
    assert "not confirmed against the v5.0 text" in row
    assert "?term=Hypothyroidism&amp;started_on=" in row  # the physician grades it as an adverse event
    # The worst-grade table holds CTCAE lab grades only: a TSH has none.
    assert "TSH" not in re.search(r'id="worst"(.*?)</section>', page.content.decode(), re.S).group(1)


@pytest.mark.parametrize(("value", "flag"), [("0.39", "low"), ("0.4", "normal"), ("4.0", "normal"), ("4.01", "high")])
def test_a_tsh_is_flagged_at_below_and_above_the_sites_limits(login, course, value, flag):
    assert _enter(login("nora"), course, "tsh", value, "uIU/mL", "0.4", "4.0").status_code == 302
    assert LabResult.objects.get(course=course).grade.flag == flag


def test_a_free_t4_without_the_sites_reference_range_is_refused_naming_the_limit(login, course):
    response = _enter(login("nora"), course, "free_t4", "0.6", "ng/dL", "0.8", "")
    assert response.status_code == 200
    assert "reference range" in " ".join(response.context["form"].errors["uln"])
    assert not LabResult.objects.filter(course=course).exists()


def test_a_childs_blood_pressure_is_recorded_and_left_to_the_physician_with_the_percentile_note(login, course):
    assert _enter(login("nora"), course, "systolic_bp", "128", "mmHg").status_code == 302
    lab = LabResult.objects.get(course=course)
    row = _row(login("patel").get(f"/followup/courses/{course.pk}/"), lab)
    assert "graded by the physician" in row
    assert "percentile" in row
    assert "?term=Hypertension&amp;started_on=" in row


@pytest.mark.parametrize(("systolic", "grade"), [("139", 1), ("140", 2), ("159", 2), ("160", 3)])
def test_an_adults_blood_pressure_is_read_against_the_v5_thresholds_on_the_page(login, course, systolic, grade):
    patient = course.patient
    patient.birth_date = _start(course).date() - timedelta(days=40 * 365)
    patient.save(update_fields=["birth_date"])
    assert _enter(login("nora"), course, "systolic_bp", systolic, "mmHg").status_code == 302
    row = _row(login("patel").get(f"/followup/courses/{course.pk}/"), LabResult.objects.get(course=course))
    assert f"grade {grade} (adult thresholds)" in row


def test_a_labs_csv_carries_tsh_free_t4_and_blood_pressure_and_refuses_a_fractional_pressure(login, course):
    at = (_start(course) + timedelta(days=10)).replace(hour=8, minute=0).isoformat()
    url = f"/followup/courses/{course.pk}/labs/upload/"
    client = login("nora")

    def upload(text):
        return client.post(url, {"form_token": _token(client, url),
                                 "file": SimpleUploadedFile("thyroid.csv", text.encode(), content_type="text/csv")})

    header = "collected_at,test,value,unit,lln,uln\n"
    bad = upload(header + f"{at},3016-3,12.5,mIU/L,0.4,4.0\n{at},systolic_bp,120.5,mmHg,,\n")
    assert bad.status_code == 422
    assert [(e.line, e.field) for e in bad.context["row_errors"]] == [(3, "value")]
    assert "whole number of mmHg" in bad.content.decode()
    assert not LabResult.objects.filter(course=course).exists()
    good = upload(header + f"{at},3016-3,12.5,mIU/L,0.4,4.0\n{at},free_t4,0.6,ng/dL,0.8,1.8\n"
                           f"{at},systolic_bp,118,mmHg,,\n{at},8462-4,76,mmHg,,\n")
    assert good.status_code == 302
    stored = {r.test: r.grade for r in LabResult.objects.filter(course=course)}
    assert (stored["tsh"].flag, stored["free_t4"].flag) == ("high", "low")
    assert stored["systolic_bp"].grade_from_value is None  # 7 years old: the percentile, the physician's


def test_the_course_summary_and_the_fhir_export_carry_the_thyroid_and_blood_pressure_rows(login, course, people):
    start = _start(course)
    nora = people["nora"]
    services.add_lab(nora, course, services.LabEntry("tsh", "12.5", "mIU/L", "0.4", "4.0", start + timedelta(days=10)))
    services.add_lab(nora, course, services.LabEntry("systolic_bp", "128", "mmHg", "", "", start + timedelta(days=10)))
    services.record_adverse_event(people["patel"], course, {
        "term": "Hypothyroidism", "grade": 2, "started_on": (start + timedelta(days=10)).date(), "ended_on": None,
        "attribution": "probable", "serious": False, "outcome": "ongoing", "action_taken": "treatment",
        "description": "levothyroxine started"})
    client = login("patel")
    pdf = client.get(f"/documents/courses/{course.pk}/summary.pdf").content
    text = " ".join(" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "5a. Thyroid function and blood pressure" in text
    assert "TSH (LOINC 3016-3) 12.5 mIU/L 0.4 - 4.0 mIU/L" in text
    assert "high (12.5 mIU/L > ULN 4.0 mIU/L)" in text
    assert "Hypothyroidism grade 2" in text
    bundle = client.get(f"/documents/patients/{course.patient.pk}/fhir.json")
    assert bundle.status_code == 200
    resources = [e["resource"] for e in json.loads(bundle.content)["entry"]]
    tsh = next(r for r in resources if r["resourceType"] == "Observation" and r["code"]["coding"][0]["code"] == "3016-3")
    assert tsh["interpretation"][0]["coding"][0] == {
        "system": "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation", "code": "H", "display": "High"}
    assert "extension" not in tsh  # no CTCAE grade from the value
    bp = next(r for r in resources if r["resourceType"] == "Observation" and r["code"]["coding"][0]["code"] == "8480-6")
    assert bp["category"][0]["coding"][0]["code"] == "vital-signs"


def test_the_screening_lab_table_starts_with_the_protocols_screening_tests_only(db):
    """The thyroid and blood-pressure rows are follow-up readings (issue 12), not screening tests: the empty screening
    lab table is not prefilled with them."""
    from mibg.web.screening.forms import ScreeningForm

    form = ScreeningForm(snapshot={})
    prefilled = [v for k, v in form.initial.items() if k.startswith("labs.") and k.endswith(".test")]
    assert prefilled == ["anc", "platelets", "hemoglobin", "bilirubin", "ast", "alt", "creatinine"]

"""Follow-up labs: entry by hand and by CSV, the CTCAE v5.0 grade beside every value, the worst grade per course."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from mibg.web.audit.models import AuditEvent
from mibg.web.followup.models import LabResult


@pytest.fixture
def course(make_course):
    """A course in follow-up, infused 20 days ago at 09:00 (clinic time)."""
    return make_course(until="follow-up", days_ahead=-20)


def _token(client, url):
    return client.get(url).context["form"]["form_token"].value()


def _when(course, days, hour=8):
    """A collection time ``days`` after the infusion day, as the form's datetime-local field takes it."""
    start = timezone.localtime(course.administrations.get().started_at)
    return (start + timedelta(days=days)).replace(hour=hour, minute=0).strftime("%Y-%m-%dT%H:%M")


def _enter(client, course, test, value, unit, lln="", uln="", days=3, hour=8):
    url = f"/followup/courses/{course.pk}/labs/new/"
    return client.post(url, {"form_token": _token(client, url), "test": test, "value": value, "unit": unit,
                             "lln": lln, "uln": uln, "collected_at": _when(course, days, hour)})


def _row(page, record):
    """The HTML of the table row that shows ``record``."""
    match = re.search(rf'<tr id="lab-{record.pk}">(.*?)</tr>', page.content.decode(), re.S)
    assert match, f"no row for lab {record.pk}"
    return match.group(1)


def test_nora_enters_an_anc_of_750_per_microlitre_and_it_is_stored_with_loinc_ucum_and_grade_3(login, course):
    client = login("nora")
    response = _enter(client, course, "anc", "750", "/uL", lln="1500")
    assert response.status_code == 302
    lab = LabResult.objects.get(course=course)
    assert (lab.test, lab.loinc, lab.value, lab.unit, lab.lln) == ("anc", "751-8", "750", "/uL", "1500")
    assert (lab.value_canonical, lab.ucum, lab.lln_canonical) == ("0.75", "10*9/L", "1.5")
    assert lab.entered_by.username == "nora"
    page = client.get(response["Location"].split("#")[0])
    row = _row(page, lab)
    assert "grade 3" in row
    assert "750</strong> /uL" in row
    assert "10*9/L" in row
    assert "LOINC 751-8" in row
    audit = AuditEvent.objects.filter(model="followup.LabResult", object_id=str(lab.pk), action="create")
    assert audit.filter(field="value", new_value="750").exists()
    assert audit.first().patient_id == course.patient_id
    assert "grade 3" in audit.first().note


# Expected grades worked out by hand from clinical-reference §6.1 (each range includes the endpoint written
# second): ANC 1500/mm3 with an LLN of 2000 -> 1, 1000 -> 2, 500 -> 3; platelets 75 -> 1, 50 -> 2, 25 -> 3; Hb exactly 8.0 -> 2;
# ALT exactly 5.0 x ULN -> 2; creatinine exactly 3.0 x ULN -> 2.
@pytest.mark.parametrize(("test", "value", "unit", "lln", "uln", "grade"), [
    ("anc", "1600", "/uL", "1500", "", 0),
    ("anc", "1500", "/mm3", "2000", "", 1),
    ("anc", "1499", "/mm3", "2000", "", 2),
    ("anc", "1000", "/mm3", "1500", "", 2),
    ("anc", "999", "/mm3", "1500", "", 3),
    ("anc", "500", "/uL", "1500", "", 3),
    ("anc", "0.49", "10^9/L", "1.5", "", 4),
    ("platelets", "75", "10^9/L", "150", "", 1),
    ("platelets", "74.9", "10^9/L", "150", "", 2),
    ("platelets", "50", "10^9/L", "150", "", 2),
    ("platelets", "25000", "/uL", "150000", "", 3),
    ("platelets", "24", "K/uL", "150", "", 4),
    ("hemoglobin", "10.0", "g/dL", "11.5", "", 1),
    ("hemoglobin", "8.0", "g/dL", "11.5", "", 2),
    ("hemoglobin", "79", "g/L", "115", "", 3),
    ("alt", "45", "U/L", "", "45", 0),
    ("alt", "135", "U/L", "", "45", 1),
    ("alt", "225", "U/L", "", "45", 2),
    ("alt", "226", "U/L", "", "45", 3),
    ("ast", "901", "U/L", "", "45", 4),
    ("bilirubin", "1.5", "mg/dL", "", "1.0", 1),
    ("bilirubin", "51.3", "umol/L", "", "17.1", 2),
    # 2.1 mg/dL = 3.0 x ULN 0.7 (grade 2 on the ULN), but 5.25 x the course's screening baseline 0.4 mg/dL:
    # "> 3.0 x baseline" is grade 3 (CTCAE v5.0 creatinine; decisions.md A33).
    ("creatinine", "2.1", "mg/dL", "", "0.7", 3),
    ("creatinine", "4.3", "mg/dL", "", "0.7", 4),
])
def test_the_ctcae_grade_shown_beside_each_value_is_the_one_worked_out_by_hand(login, course, test, value, unit, lln, uln,
                                                                              grade):
    client = login("nora")
    response = _enter(client, course, test, value, unit, lln=lln, uln=uln)
    assert response.status_code == 302, response.context["form"].errors
    lab = LabResult.objects.get(course=course)
    row = _row(client.get(f"/followup/courses/{course.pk}/"), lab)
    assert re.search(r'class="badge [a-z-]+" title="[^"]*">grade (\d)</span>', row).group(1) == str(grade)


@pytest.mark.parametrize(("field", "test", "value", "unit", "lln", "uln", "message"), [
    ("value", "anc", "1,5", "10^9/L", "1.5", "", "is not a number"),
    ("value", "anc", "-1", "10^9/L", "1.5", "", "below the smallest accepted value"),
    ("unit", "hemoglobin", "7.1", "mmol/L", "7.1", "", "is not an accepted unit for Haemoglobin"),
    ("unit", "anc", "900", "cells/hpf", "1500", "", "is not an accepted unit"),
    ("uln", "alt", "140", "U/L", "", "", "the ULN is needed"),
    ("lln", "anc", "1.6", "10^9/L", "", "", "the LLN is needed"),
    ("lln", "platelets", "100", "10^9/L", "200", "100", "above the upper limit"),
    ("test", "", "1", "10^9/L", "", "", "This field is required"),
])
def test_bad_lab_input_names_the_field_and_nothing_is_stored(login, course, field, test, value, unit, lln, uln, message):
    client = login("nora")
    response = _enter(client, course, test, value, unit, lln=lln, uln=uln)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors, errors
    assert message in " ".join(errors[field])
    assert b"Nothing was saved" in response.content
    assert not LabResult.objects.exists()
    assert not AuditEvent.objects.filter(model="followup.LabResult").exists()


def test_a_collection_time_in_the_future_is_refused(login, course):
    client = login("nora")
    url = f"/followup/courses/{course.pk}/labs/new/"
    tomorrow = (timezone.localtime() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(url, {"form_token": _token(client, url), "test": "anc", "value": "1", "unit": "10^9/L",
                                 "lln": "1.5", "collected_at": tomorrow})
    assert "is in the future" in " ".join(response.context["form"].errors["collected_at"])
    assert not LabResult.objects.exists()


def test_the_same_result_entered_twice_is_refused_the_second_time(login, course):
    client = login("nora")
    assert _enter(client, course, "platelets", "42", "10^9/L", lln="150").status_code == 302
    response = _enter(client, course, "platelets", "42000", "/uL", lln="150000")  # the same count in another unit
    assert "already stored" in " ".join(response.context["form"].errors["collected_at"])
    assert LabResult.objects.count() == 1


CSV_HEADER = "collected_at,test,value,unit,lln,uln\n"


def _upload(client, course, text, name="labs.csv"):
    url = f"/followup/courses/{course.pk}/labs/upload/"
    return client.post(url, {"form_token": _token(client, url),
                             "file": SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")})


def _iso(course, days, hour=8):
    start = timezone.localtime(course.administrations.get().started_at)
    return (start + timedelta(days=days)).replace(hour=hour, minute=0).isoformat()


def test_a_labs_csv_with_bad_rows_stores_nothing_and_lists_each_error_with_its_line_and_column(login, course):
    client = login("nora")
    text = (CSV_HEADER
            + f"{_iso(course, 5)},anc,0.4,10^9/L,1.5,\n"
            + f"{_iso(course, 5)},hemoglobin,5.1,mmol/L,7.1,\n"      # line 3: unit refused
            + "2026-03-02T07:30:00,platelets,20,10^9/L,150,\n"      # line 4: no UTC offset
            + f"{_iso(course, 5)},alt,140,U/L,,\n")                 # line 5: ALT needs its ULN to be graded
    response = _upload(client, course, text)
    assert response.status_code == 422
    errors = [(e.line, e.field) for e in response.context["row_errors"]]
    assert errors == [(3, "unit"), (4, "collected_at"), (5, "uln")]
    page = response.content.decode()
    assert "Nothing was stored." in page
    assert "has no time zone" in page
    assert not LabResult.objects.exists()


def test_a_good_labs_csv_is_stored_whole_with_its_file_and_line_and_cannot_be_stored_twice(login, course):
    client = login("nora")
    text = (CSV_HEADER
            + f"{_iso(course, 5)},751-8,400,/uL,1500,\n"
            + f"{_iso(course, 5)},platelets,18,10^9/L,150,\n"
            + f"{_iso(course, 5)},alt,140,U/L,,45\n")
    response = _upload(client, course, text, name="week1.csv")
    assert response.status_code == 302
    labs = list(LabResult.objects.filter(course=course).order_by("id"))
    assert [(lab.test, lab.value_canonical, lab.source, lab.source_detail) for lab in labs] == [
        ("anc", "0.4", "csv", "week1.csv, line 2"), ("platelets", "18", "csv", "week1.csv, line 3"),
        ("alt", "140", "csv", "week1.csv, line 4")]
    assert [lab.grade.grade for lab in labs] == [4, 4, 2]  # ALT 140 = 3.1 x ULN
    again = _upload(client, course, text, name="week1.csv")
    assert again.status_code == 422
    assert [e.line for e in again.context["row_errors"]] == [2, 3, 4]
    assert LabResult.objects.count() == 3


def test_the_worst_grade_per_term_of_a_course_is_the_highest_and_a_void_value_no_longer_counts(login, course):
    client = login("nora")
    for days, value in ((1, "1.2"), (8, "0.3"), (9, "0.3"), (14, "0.8")):  # ANC grades 2, 4, 4, 3
        assert _enter(client, course, "anc", value, "10^9/L", lln="1.5", days=days).status_code == 302
    assert _enter(client, course, "platelets", "60", "10^9/L", lln="150", days=8).status_code == 302
    page = client.get(f"/followup/courses/{course.pk}/")
    worst = {w.grade.term: (w.grade.grade, w.record.value) for w in page.context["worst"]}
    assert worst == {"neutrophil-count-decreased": (4, "0.3"), "platelet-count-decreased": (2, "60")}
    first_g4 = page.context["worst"][0].record
    assert first_g4.collected_at == min(lab.collected_at for lab in LabResult.objects.filter(value="0.3"))
    table = re.search(r'<table id="worst-grades">(.*?)</table>', page.content.decode(), re.S).group(1)
    assert "Neutrophil count decreased" in table
    assert "grade 4" in table
    # The course page shows the same worst grades.
    assert b"Neutrophil count decreased <span class=\"badge not-met\">grade 4</span>" in client.get(
        f"/courses/{course.pk}/").content

    # Both grade 4 values were a mix-up with another patient: voided, the worst ANC grade becomes 3.
    for lab in LabResult.objects.filter(value="0.3"):
        url = f"/followup/labs/{lab.pk}/void/"
        response = client.post(url, {"form_token": _token(client, url), "reason": "another patient's sample"})
        assert response.status_code == 302
    page = client.get(f"/followup/courses/{course.pk}/")
    worst = {w.grade.term: w.grade.grade for w in page.context["worst"]}
    assert worst["neutrophil-count-decreased"] == 3
    assert AuditEvent.objects.filter(model="followup.LabResult", action="void", field="void_reason",
                                     new_value="another patient's sample").count() == 2
    assert LabResult.objects.count() == 5  # nothing deleted


def test_labs_are_kept_from_the_administration_on_and_not_before(login, make_course):
    course = make_course(until="assayed", days_ahead=-1)
    client = login("nora")
    response = client.get(f"/followup/courses/{course.pk}/labs/new/")
    assert response.status_code == 302
    assert response["Location"] == f"/courses/{course.pk}/"
    assert b"Follow-up is recorded after the administration" in client.get(response["Location"]).content


def test_a_baseline_value_before_the_infusion_is_shown_graded_but_is_not_toxicity_of_the_course(login, course):
    client = login("nora")
    assert _enter(client, course, "platelets", "20", "10^9/L", lln="150", days=-1).status_code == 302  # grade 4
    assert _enter(client, course, "platelets", "60", "10^9/L", lln="150", days=5).status_code == 302  # grade 2
    page = client.get(f"/followup/courses/{course.pk}/")
    baseline = LabResult.objects.get(value="20")
    assert "grade 4" in _row(page, baseline)
    assert [(w.grade.grade, w.record.value) for w in page.context["worst"]] == [(2, "60")]
    assert "Worst CTCAE v5.0 grade after the infusion (1 value)" in client.get(f"/courses/{course.pk}/").content.decode()


def test_dr_patel_sees_an_alt_graded_against_the_abnormal_pre_infusion_baseline_with_the_clause(login, course):
    """decisions.md A33: ALT 100 U/L (ULN 40) the day before the infusion is the baseline; 130 U/L on day 5 is
    3.25 x ULN (grade 2 on the ULN) but only 1.3 x the abnormal baseline: grade 0 (below 1.5 x baseline)."""
    nora = login("nora")
    assert _enter(nora, course, "alt", "100", "U/L", uln="40", days=-1).status_code == 302
    assert _enter(nora, course, "alt", "130", "U/L", uln="40", days=5).status_code == 302
    after = LabResult.objects.get(course=course, value="130")
    page = login("patel").get(f"/followup/courses/{course.pk}/")
    row = _row(page, after)
    assert "grade 0" in row
    assert "graded against the baseline 100 U/L (pre-infusion value" in row
    worst = re.search(r'<table id="worst-grades">(.*?)</table>', page.content.decode(), re.S).group(1)
    assert "Alanine aminotransferase increased" in worst
    assert "130 U/L" in worst
    assert "graded against the baseline 100 U/L" in worst

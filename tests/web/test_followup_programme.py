"""The programme view across all patients, its CSV, and who may use which follow-up page."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import ROUND_CEILING, Decimal

import pytest
from django.utils import timezone

from mibg.web.audit.models import AuditEvent
from mibg.web.followup import services
from mibg.web.radiation.services import compute_dosimetry


@pytest.fixture
def two_courses(make_course, people):
    """Two patients in follow-up with labs: one with an ANC nadir of 0.2 and platelets of 15, one never below
    grade 2."""
    first = make_course(until="follow-up", days_ahead=-20, weight="20.0", mci_per_kg="15")
    second = make_course(until="follow-up", days_ahead=-15, weight="25.0", mci_per_kg="12")
    for course, anc, platelets in ((first, "0.2", "15"), (second, "1.1", "60")):
        start = timezone.localtime(course.administrations.get().started_at)
        when = start + timedelta(days=10)
        services.add_lab(people["nora"], course, services.LabEntry("anc", anc, "10^9/L", "1.5", "", when))
        services.add_lab(people["nora"], course, services.LabEntry("platelets", platelets, "10^9/L", "150", "", when))
    services.record_adverse_event(people["patel"], first, {
        "term": "Febrile neutropenia", "grade": 3, "started_on": timezone.localdate() - timedelta(days=9),
        "ended_on": None, "attribution": "probable", "serious": True, "outcome": "recovering",
        "action_taken": "hospitalisation", "description": ""})
    return first, second


def test_the_programme_csv_has_a_unit_in_every_numeric_header_and_one_row_per_administered_course(login, two_courses):
    first, _second = two_courses
    response = login("morgan").get("/followup/programme.csv")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    header, body = rows[0], rows[1:]
    for name in ("Weight (kg)", "Administered activity (mCi)", "Administered activity (MBq)",
                 "Administered activity per kg (mCi/kg)", "Whole-body dose (Gy)", "ANC nadir (10^9/L)",
                 "Platelet nadir (10^9/L)", "ANC below the grade 4 threshold (days)",
                 "Worst CTCAE v5.0 grade: Neutrophil count decreased (grade 0-4)"):
        assert name in header, name
    text_columns = {"MRN", "Patient", "Count recovery status", "INRC 2017 overall response (latest)"}
    assert all(h in text_columns or h.endswith(")") for h in header), [h for h in header if not h.endswith(")")]
    assert len(body) == 2
    row = dict(zip(header, body[0], strict=True))
    administration = first.administrations.get()
    assert row["MRN"] == first.patient.mrn
    assert Decimal(row["Administered activity (mCi)"]) == administration.administered_mci
    assert Decimal(row["Administered activity per kg (mCi/kg)"]) == (
        administration.administered_mci / Decimal("20.0")).quantize(Decimal("0.001"), ROUND_CEILING)
    dose = compute_dosimetry(first).dose  # from the exposure readings, by the radiation-safety app
    assert Decimal(row["Whole-body dose (Gy)"]) == Decimal(repr(dose.dose_gy)).quantize(Decimal("0.001"))
    assert (row["ANC nadir (10^9/L)"], row["Platelet nadir (10^9/L)"]) == ("0.2", "15")
    assert row["Worst CTCAE v5.0 grade: Neutrophil count decreased (grade 0-4)"] == "4"
    assert row["Worst CTCAE v5.0 grade: Platelet count decreased (grade 0-4)"] == "4"
    assert row["Serious adverse events not yet reviewed (count)"] == "1"
    second_row = dict(zip(header, body[1], strict=True))
    assert second_row["Worst CTCAE v5.0 grade: Neutrophil count decreased (grade 0-4)"] == "2"
    assert AuditEvent.objects.filter(action="export", username="morgan", note__contains="programme CSV").exists()


def test_the_programme_page_plots_mci_per_kg_against_whole_body_dose_and_nadirs(login, two_courses):
    page = login("morgan").get("/followup/programme/")
    text = page.content.decode()
    assert '<figure class="plot card" id="programme-plot">' in text
    for title in ("Whole-body dose (2 courses)", "Platelet nadir (2 courses)", "ANC nadir (2 courses)"):
        assert title in text, title
    assert text.count("<tr>") >= 3
    assert login("morgan").get("/followup/programme.png").content.startswith(b"\x89PNG")


def test_a_course_without_enough_exposure_readings_has_a_blank_whole_body_dose_never_zero(login, two_courses):
    from mibg.web.radiation.models import ExposureReading

    ExposureReading.objects.filter(course=two_courses[0]).update(voided_at=timezone.now(), void_reason="test")
    rows = list(csv.DictReader(io.StringIO(login("morgan").get("/followup/programme.csv").content.decode())))
    assert [r["Whole-body dose (Gy)"] == "" for r in rows] == [True, False]
    assert "Whole-body dose (1 course; 1 without a value)" in login("morgan").get("/followup/programme/").content.decode()


def test_a_name_that_looks_like_a_formula_is_not_run_by_a_spreadsheet(login, two_courses):
    first, _ = two_courses
    first.patient.family_name = "=HYPERLINK(1)"
    first.patient.save()
    body = login("morgan").get("/followup/programme.csv").content.decode()
    assert "'=HYPERLINK(1)" in body


# Who may do what on the follow-up pages (the permission table, mibg.web.permissions).
def _pages(course, lab, event):
    return {
        "follow-up page": (f"/followup/courses/{course.pk}/", "get"),
        "enter a lab": (f"/followup/courses/{course.pk}/labs/new/", "post"),
        "upload labs": (f"/followup/courses/{course.pk}/labs/upload/", "post"),
        "void a lab": (f"/followup/labs/{lab.pk}/void/", "post"),
        "record a transfusion": (f"/followup/courses/{course.pk}/transfusions/new/", "post"),
        "record an adverse event": (f"/followup/courses/{course.pk}/adverse-events/new/", "post"),
        "change an adverse event": (f"/followup/adverse-events/{event.pk}/edit/", "post"),
        "review an SAE": (f"/followup/adverse-events/{event.pk}/review/", "post"),
        "enter a Curie score": (f"/followup/courses/{course.pk}/curie/new/", "post"),
        "enter an INRC response": (f"/followup/courses/{course.pk}/inrc/new/", "post"),
        "programme": ("/followup/programme/", "get"),
        "programme CSV": ("/followup/programme.csv", "get"),
        "recovery PNG": (f"/followup/courses/{course.pk}/recovery.png", "get"),
    }


ALLOWED = {
    # Issue 15: the nurse records (and corrects) an adverse event as a draft for the physician to attribute and sign.
    "nora": {"follow-up page", "enter a lab", "upload labs", "void a lab", "record a transfusion",
             "record an adverse event", "change an adverse event", "programme", "programme CSV", "recovery PNG"},
    "patel": {"follow-up page", "enter a lab", "upload labs", "void a lab", "record a transfusion",
              "record an adverse event", "change an adverse event", "review an SAE", "enter a Curie score",
              "enter an INRC response", "programme", "programme CSV", "recovery PNG"},
    "morgan": {"follow-up page", "programme", "programme CSV", "recovery PNG"},
    "riley": {"follow-up page", "programme", "programme CSV", "recovery PNG"},
    "sam": {"follow-up page", "programme", "programme CSV", "recovery PNG"},
    "chen": {"follow-up page", "programme", "programme CSV", "recovery PNG"},
    "admin": set(),
}


@pytest.mark.parametrize("username", list(ALLOWED))
def test_nurses_enter_labs_physicians_record_events_and_response_and_the_monitor_only_reads(client, people, two_courses,
                                                                                         username):
    course = two_courses[0]
    lab = course.lab_results.first()
    event = course.adverse_events.first()
    client.force_login(people[username])
    for page, (url, method) in _pages(course, lab, event).items():
        response = getattr(client, method)(url)
        if page in ALLOWED[username]:
            assert response.status_code == 200, (username, page, response.status_code)
        else:
            assert response.status_code == 403, (username, page, response.status_code)
    # Nothing was written by any of those posts (they carried no data).
    assert course.lab_results.count() == 2
    assert course.adverse_events.get().version == 1


def test_an_anonymous_visitor_is_sent_to_the_login_page(client, two_courses):
    response = client.get(f"/followup/courses/{two_courses[0].pk}/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")

"""Documents in a real browser: Morgan the monitor reads the study record page (every bullet with the criteria the
software evaluates) and downloads a course summary PDF from the course page; Nora imports a Bundle's labs and
reads the report. Screenshots go to test-output/."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone
from pypdf import PdfReader

from clinic_helpers import PASSWORD
from mibg.protocol import load_protocol

pytestmark = [pytest.mark.browser]


def test_morgan_reads_the_study_record_with_each_bullet_linked_to_its_criteria(transactional_db, people, as_person, shot):
    morgan = as_person("morgan", PASSWORD)
    refused = []
    morgan.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    morgan.click("header.top >> text=Study record")
    morgan.wait_for_url("**/documents/study-record/")
    assert morgan.inner_text("#protocol-label") == load_protocol().label
    hematopoietic = morgan.locator("#bullet-12")
    assert "Hematopoietic Criteria" in hematopoietic.inner_text()
    assert hematopoietic.locator(".linked > li").count() == 5  # H1-H5
    morgan.click("#bullet-12-H1 a.criterion-id")
    assert morgan.url.endswith("#criterion-H1")
    assert morgan.locator("#criterion-H1").is_visible()
    assert "0.75 10^9/L" in morgan.inner_text("#criterion-H1")
    morgan.goto(morgan.url.split("#")[0])
    shot(morgan, "documents-study-record")
    assert refused == []


def test_morgan_downloads_the_course_summary_from_the_course_page(transactional_db, make_course, as_person, shot, tmp_path):
    course = make_course(until="in-patient", days_ahead=-2, mrn="BR-0001")
    morgan = as_person("morgan", PASSWORD)
    morgan.goto(f"/courses/{course.pk}/")
    panel = morgan.locator("#documents")
    assert panel.locator("a", has_text="Course summary").count() == 1
    panel.scroll_into_view_if_needed()
    shot(morgan, "documents-course-panel")
    with morgan.expect_download() as download:
        panel.locator("a", has_text="Course summary").click()
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    assert download.value.suggested_filename == "mibg-BR-0001-course1-summary.pdf"
    text = [page.extract_text() for page in PdfReader(path).pages]
    assert all("MRN BR-0001" in page for page in text)
    assert f"Page 1 of {len(text)}" in text[0]
    assert "396 mCi (14652 MBq; 14.652 GBq)" in " ".join(text).replace("\n", " ")


def test_nora_imports_a_lab_bundle_and_reads_what_was_stored_and_refused(transactional_db, make_course, as_person, shot,
                                                                        tmp_path):
    course = make_course(until="follow-up", days_ahead=-20, mrn="BR-0002")
    start = timezone.localtime(course.administrations.get().started_at)
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [
        {"resource": {"resourceType": "Observation", "id": "plt", "status": "final",
                      "code": {"coding": [{"system": "http://loinc.org", "code": "777-3"}]},
                      "effectiveDateTime": (start + timedelta(days=10)).isoformat(),
                      "valueQuantity": {"value": 18, "unit": "10*9/L"},
                      "referenceRange": [{"low": {"value": 150, "unit": "10*9/L"}}]}},
        {"resource": {"resourceType": "Observation", "id": "cr", "status": "final",
                      "code": {"coding": [{"system": "http://loinc.org", "code": "2160-0"}]},
                      "effectiveDateTime": (start + timedelta(days=10)).isoformat(),
                      "valueQuantity": {"value": 0.04, "unit": "mmol/L"}}},
    ]}
    path = tmp_path / "lab-results.json"
    path.write_text(json.dumps(bundle))
    nora = as_person("nora", PASSWORD)
    nora.goto(f"/patients/{course.patient.pk}/")
    nora.click("text=Import laboratory results from a FHIR Bundle")
    nora.set_input_files("#id_bundle", str(path))
    nora.check("#id_confirm")
    nora.click("button:has-text('Import')")
    nora.wait_for_selector("#import-report")
    assert nora.inner_text("#count-stored") == "1"
    assert nora.inner_text("#count-refused") == "1"
    assert "grade 4" in nora.inner_text(".report-stored")
    assert "unit not convertible" in nora.inner_text(".report-refused")
    shot(nora, "documents-fhir-import-report")

"""Course documents through the pages: the four PDFs and the DICOM RRDSR of a course that went through the real
workflow, read back (pypdf, pydicom, dciodvfy) and checked against numbers worked out by hand; who may download
them; every download in the audit trail; the same record gives the same document."""

from __future__ import annotations

import hashlib
import io
import math
import re
import shutil
import subprocess
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from pydicom import dcmread
from pypdf import PdfReader

from mibg import __version__
from mibg.protocol import load_protocol
from mibg.web.audit.models import AuditEvent

PDFS = ("eligibility", "directive", "administration", "summary")
TITLES = {"eligibility": "Eligibility checklist", "directive": "Written directive and order sheet",
          "administration": "Administration and release record", "summary": "Course summary"}


def url(course, kind):
    suffix = "dcm" if kind == "rrdsr" else "pdf"
    return f"/documents/courses/{course.pk}/{kind}.{suffix}"


def pages(data: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


def content_items(dataset):
    """Every content item of an SR tree, depth first."""
    for item in getattr(dataset, "ContentSequence", []):
        yield item
        yield from content_items(item)


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


@pytest.fixture
def treated(make_course, people):
    """Course 1 of a 22.0 kg child given 18 mCi/kg 20 days ago, released on measured readings, with follow-up labs,
    a transfusion-free platelet nadir, an adverse event, the stem-cell rescue and an INRC response."""
    from mibg.web.followup import services as followup
    from mibg.web.radiation import services as radiation

    course = make_course(until="follow-up", days_ahead=-20, weight="22.0", mci_per_kg="18", mrn="DOC-0001")
    start = timezone.localtime(course.administrations.get().started_at)
    for days, test, value, unit, lln in ((7, "platelets", "45", "10^9/L", "150"), (14, "platelets", "18", "10^9/L", "150"),
                                         (14, "anc", "0.3", "10^9/L", "1.5"), (14, "hemoglobin", "7.8", "g/dL", "11.5")):
        followup.add_lab(people["nora"], course, followup.LabEntry(test, value, unit, lln, "", start + timedelta(days=days)))
    followup.record_adverse_event(people["patel"], course, {
        "term": "Platelet count decreased", "grade": 4, "started_on": (start + timedelta(days=14)).date(),
        "ended_on": None, "attribution": "probable", "serious": False, "outcome": "recovering",
        "action_taken": "treatment", "description": "Nadir 18 x 10^9/L"})
    radiation.record_stem_cells(people["nora"], course, radiation.StemCellInput(
        start + timedelta(days=14, hours=2), "pbsc", "PBSC bags 1-2", Decimal("2500000"), "Nora Diaz, RN"))
    followup.record_inrc(people["patel"], course, (start + timedelta(days=19)).date(), "PR", "PR", "CR")
    course.refresh_from_db()
    return course


@pytest.mark.parametrize("kind", PDFS)
def test_dr_patel_downloads_each_pdf_with_the_patient_protocol_software_and_page_x_of_y_on_every_page(login, treated, kind):
    response = login("patel").get(url(treated, kind))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="mibg-DOC-0001-course1-{kind}.pdf"'
    assert response["Cache-Control"] == "no-store"
    text = pages(response.content)
    total = len(text)
    for number, page in enumerate(text, start=1):
        assert "MRN DOC-0001" in page, (kind, number)
        assert "PATIENT1, Test" in page
        assert f"Page {number} of {total}" in page
        assert load_protocol().label in page
        assert f"mibg {__version__}" in page
        assert TITLES[kind] in page


def test_the_directive_pdf_shows_396_mci_for_22_kg_at_18_mci_per_kg_in_mci_mbq_and_gbq(login, treated):
    # By hand: 22.0 kg x 18 mCi/kg = 396 mCi; 396 x 37 = 14652 MBq = 14.652 GBq (1 mCi = 37 MBq exactly).
    text = flat(" ".join(pages(login("patel").get(url(treated, "directive")).content)))
    assert "396 mCi (14652 MBq; 14.652 GBq)" in text
    assert "18 mCi/kg (666 MBq/kg)" in text  # 18 x 37 = 666
    assert "22.0 kg (measured " in text
    assert "MATCHES the directive" in text  # Sam's independent verification (10 CFR 35.41)
    assert "Sam Okafor, PhD" in text
    assert "Dr Asha Patel, MD" in text


def test_the_signed_directive_and_the_course_summary_print_the_decay_factor_of_the_activity_to_draw(login, treated):
    # The lot is calibrated at 07:00 and given at 09:00: drawn 2 h early, factor exp(ln2 x 2 h / (8.0207 d x 24 h/d))
    # = exp(0.0072017) = 1.0072276 (clinical-reference §2.4); 396 mCi x 1.0072276 = 398.86 mCi to draw.
    by_hand = math.exp(math.log(2) * 2 / (8.0207 * 24))
    for kind in ("directive", "summary"):
        text = flat(" ".join(pages(login("patel").get(url(treated, kind)).content)))
        found = re.search(r"Activity to draw at calibration time (\S+) mCi \(\S+ MBq; \S+ GBq\) \(decay factor (\S+);", text)
        assert found is not None, kind
        assert found.group(1) == "398.9"
        assert float(found.group(2)) == pytest.approx(by_hand, rel=1e-9)
        assert "decay factor None" not in text


def test_a_dose_that_needs_rounding_is_shown_rounded_half_to_even_with_the_exact_product_beside_it(login, make_course):
    # By hand: 19.35 kg x 15 mCi/kg = 290.25 mCi (19.35 x 10 = 193.5; 19.35 x 5 = 96.75); 290.25 x 37 = 10739.25 MBq.
    # Shown to 0.1 mCi, 1 MBq, 0.001 GBq, half to even: 290.2 mCi, 10739 MBq, 10.739 GBq.
    course = make_course(until="verified", weight="19.35", mci_per_kg="15")
    text = flat(" ".join(pages(login("patel").get(url(course, "directive")).content)))
    assert "290.2 mCi (10739 MBq; 10.739 GBq)" in text
    assert "19.35 kg x 15 mCi/kg = 290.25 mCi" in text
    assert "15 mCi/kg (555 MBq/kg)" in text


def test_the_administration_record_shows_the_activity_given_as_assay_minus_residual_at_the_start(login, treated):
    a = treated.administrations.get()
    # By hand from the stored, decay-corrected values: administered = pre-assay - residual, both at the start.
    given = a.pre_corrected_mci - a.residual_corrected_mci
    assert given == a.administered_mci
    mci = given.normalize()
    mbq = given * 37
    text = flat(" ".join(pages(login("sam").get(url(treated, "administration")).content)))
    expected_mci = format(mci.quantize(Decimal("0.1")) if mci != mci.quantize(Decimal("0.1")) else mci, "f")
    assert f"Administered activity {expected_mci} mCi ({format(mbq.quantize(Decimal(1)), 'f')} MBq;" in text
    assert "Exposure-rate readings at 1 m" in text
    assert "Release (10 CFR 35.75" in text
    assert "Released at" in text


def test_the_course_summary_carries_the_whole_body_dose_as_the_radiation_page_shows_it(login, treated):
    client = login("patel")
    page = client.get(f"/courses/{treated.pk}/").content.decode()
    shown = re.search(r'id="whole-body-dose">([0-9.]+) Gy', page)
    assert shown, "the course page shows the whole-body dose"
    text = flat(" ".join(pages(client.get(url(treated, "summary")).content)))
    assert f"Whole-body dose {shown.group(1)} Gy" in text
    assert "Platelet count decreased" in text
    assert "PR (INRC 2017" in text
    assert "396 mCi (14652 MBq; 14.652 GBq)" in text


@pytest.mark.parametrize("kind", PDFS)
def test_two_downloads_of_the_same_record_give_the_same_pdf(login, treated, kind):
    client = login("patel")
    first, second = client.get(url(treated, kind)).content, client.get(url(treated, kind)).content
    assert first == second
    assert pages(first) == pages(second)


def test_the_pdf_is_dated_by_the_last_change_of_the_record_not_by_the_clock(login, treated, people):
    from mibg.web.followup import services as followup

    client = login("patel")
    before = client.get(url(treated, "summary")).content
    assert client.get(url(treated, "summary")).content == before
    start = timezone.localtime(treated.administrations.get().started_at)
    followup.add_lab(people["nora"], treated, followup.LabEntry("anc", "1.2", "10^9/L", "1.5", "", start + timedelta(days=19)))
    after = client.get(url(treated, "summary")).content
    assert after != before
    assert "ANC" in flat(" ".join(pages(after))) or "neutrophil" in flat(" ".join(pages(after))).lower()


def test_each_download_is_recorded_in_the_audit_trail_with_the_sha256_of_the_bytes(login, treated):
    response = login("morgan").get(url(treated, "summary"))
    event = AuditEvent.objects.filter(action=AuditEvent.EXPORT, username="morgan").latest("at")
    assert event.patient == treated.patient
    assert event.model == "courses.Course"
    assert event.object_id == str(treated.pk)
    assert hashlib.sha256(response.content).hexdigest() in event.note
    assert event.note.startswith("Course summary, course 1 downloaded")


@pytest.mark.parametrize("username", ["patel", "chen", "sam", "riley", "nora", "morgan"])
def test_every_clinical_role_and_the_monitor_may_download_every_document(client, people, treated, username):
    client.force_login(people[username])
    for kind in (*PDFS, "rrdsr"):
        assert client.get(url(treated, kind)).status_code == 200, (username, kind)


def test_the_administrator_may_not_and_an_anonymous_visitor_goes_to_the_login_page(client, people, treated):
    for kind in (*PDFS, "rrdsr"):
        response = client.get(url(treated, kind))
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
    client.force_login(people["admin"])
    for kind in (*PDFS, "rrdsr"):
        assert client.get(url(treated, kind)).status_code == 403
    assert not AuditEvent.objects.filter(action=AuditEvent.EXPORT).exists()


def test_a_document_the_course_has_not_reached_is_not_found_and_the_course_page_says_what_it_needs(login, make_course):
    course = make_course(until="eligible")
    client = login("nora")
    assert client.get(url(course, "eligibility")).status_code == 200
    assert client.get(url(course, "directive")).status_code == 404
    assert client.get(url(course, "administration")).status_code == 404
    assert client.get(url(course, "rrdsr")).status_code == 404
    assert client.get(url(course, "summary")).status_code == 200  # its sections say "not reached yet"
    page = client.get(f"/courses/{course.pk}/").content.decode()
    assert f'href="{url(course, "eligibility")}"' in page
    assert f'href="{url(course, "directive")}"' not in page
    assert "needs a signed written directive" in page
    assert "needs an administration" in page


def test_riley_the_possible_verifier_gets_no_directive_numbers_before_she_verifies(login, make_course, people):
    course = make_course(until="directive signed")
    client = login("riley")
    for kind in ("directive", "summary"):
        response = client.get(url(course, kind))
        assert response.status_code == 302
        assert response["Location"] == f"/courses/{course.pk}/"
    assert client.get(url(course, "eligibility")).status_code == 200
    assert client.get(f"/documents/patients/{course.patient.pk}/fhir.json").status_code == 302
    page = client.get(f"/courses/{course.pk}/").content.decode()
    assert "opens after the independent verification" in page
    from mibg.web.accounts.models import ApiToken

    _token, raw = ApiToken.issue(people["riley"], "tests")
    api = client.get(f"/api/patients/{course.patient.pk}/fhir", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert api.status_code == 403
    assert "independent verification" in api.json()["message"]
    assert login("patel").get(url(course, "directive")).status_code == 200  # the signer sees it


def test_the_course_page_links_every_document_once_administered(login, treated):
    page = login("nora").get(f"/courses/{treated.pk}/").content.decode()
    for kind in (*PDFS, "rrdsr"):
        assert f'href="{url(treated, kind)}"' in page
    assert f'href="/documents/patients/{treated.patient.pk}/fhir.json"' in page


def test_the_patient_page_has_the_fhir_bundle_and_the_way_to_each_courses_documents(login, treated):
    page = login("morgan").get(f"/patients/{treated.patient.pk}/").content.decode()
    assert f'href="/documents/patients/{treated.patient.pk}/fhir.json"' in page
    assert f'href="/courses/{treated.pk}/#documents"' in page
    assert "fhir-import" not in page  # Morgan reads; she does not import
    assert "fhir-import" in login("nora").get(f"/patients/{treated.patient.pk}/").content.decode()


def test_the_rrdsr_of_the_administration_parses_and_records_the_activity_given_in_mbq(login, treated):
    response = login("sam").get(url(treated, "rrdsr"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/dicom"
    ds = dcmread(io.BytesIO(response.content))
    assert ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.88.68"
    assert (ds.PatientID, str(ds.PatientName)) == ("DOC-0001", "Patient1^Test")
    administered = [i for i in content_items(ds) if i.ConceptNameCodeSequence[0].CodeValue == "113507"]
    assert administered, "the administered activity (113507, DCM) is recorded"
    value = Decimal(str(administered[0].MeasuredValueSequence[0].NumericValue))
    assert administered[0].MeasuredValueSequence[0].MeasurementUnitsCodeSequence[0].CodeValue == "MBq"
    expected = treated.administrations.get().administered_mci * 37  # 1 mCi = 37 MBq exactly
    assert abs(value - expected) < Decimal("0.5")


@pytest.mark.skipif(shutil.which("dciodvfy") is None, reason="dicom3tools (dciodvfy) is not installed")
def test_dciodvfy_finds_no_error_in_the_downloaded_rrdsr(login, treated, tmp_path):
    path = tmp_path / "rrdsr.dcm"
    path.write_bytes(login("sam").get(url(treated, "rrdsr")).content)
    result = subprocess.run(["dciodvfy", str(path)], capture_output=True, text=True, timeout=60, check=False)
    lines = (result.stdout + result.stderr).splitlines()
    assert [line for line in lines if line.startswith("Error")] == []
    assert "RadiopharmaceuticalRadiationDoseSR" in result.stdout + result.stderr


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils (pdftoppm) is not installed")
@pytest.mark.parametrize("kind", ["summary", "administration"])
def test_the_downloaded_pdf_renders_page_by_page_for_a_look_under_test_output(login, treated, kind):
    from pathlib import Path

    out = Path("test-output") / "documents"
    out.mkdir(parents=True, exist_ok=True)
    pdf = out / f"{kind}.pdf"
    pdf.write_bytes(login("patel").get(url(treated, kind)).content)
    for old in out.glob(f"{kind}-*.png"):
        old.unlink()
    subprocess.run(["pdftoppm", "-r", "60", "-png", str(pdf), str(out / kind)], check=True, timeout=120)
    rendered = sorted(out.glob(f"{kind}-*.png"))
    assert len(rendered) == len(pages(pdf.read_bytes()))
    assert all(p.stat().st_size > 5000 for p in rendered)  # drawn pages, not blank ones


def test_the_directive_and_administration_record_print_the_assayed_lot_not_a_dash(login, treated):
    """Riley assayed lot LSA-24-0117 (the demo's lot); both headers print it (decisions.md A38)."""
    client = login("patel")
    directive = flat(" ".join(pages(client.get(url(treated, "directive")).content)))
    administration = flat(" ".join(pages(client.get(url(treated, "administration")).content)))
    assert "Lot LSA-24-0117" in directive
    assert "Lot -" not in directive
    assert "Preparation; lot Low-specific-activity" in administration
    assert "; LSA-24-0117" in administration


def test_the_assay_check_text_shows_both_times_in_the_sites_zone_with_its_abbreviation(treated):
    from mibg.web.treatment.models import Assay

    assay = Assay.objects.get(course=treated)
    zone = timezone.localtime(assay.measured_at).strftime("%Z")  # e.g. PST in winter in Los Angeles
    assert assay.message.count(f" {zone}") == 2
    assert "+00:00" not in assay.message


def test_the_course_summary_worst_grade_table_names_the_baseline_clause_that_graded_the_alt(login, treated, people):
    """decisions.md A33: ALT 100 U/L (ULN 40) the day before the infusion is the course's baseline, abnormal; 130 U/L
    on day 5 is 3.25 x ULN (grade 2 on the ULN) but 1.3 x the abnormal baseline: grade 0 (below 1.5 x baseline,
    clinical-reference §6.1). The summary's worst-grade table says which clause and which baseline graded it."""
    from mibg.web.followup import services as followup

    start = timezone.localtime(treated.administrations.get().started_at)
    for days, value in ((-1, "100"), (5, "130")):
        followup.add_lab(people["nora"], treated, followup.LabEntry("alt", value, "U/L", "", "40",
                                                                    start + timedelta(days=days)))
    text = flat(" ".join(pages(login("patel").get(url(treated, "summary")).content)))
    row = re.search(r"ALT \(LOINC 1742-6\) grade (\d) 130 U/L (.*?) 2 ", text)
    assert row, text
    assert row.group(1) == "0"
    assert "graded against the baseline 100 U/L (pre-infusion value" in row.group(2)
    assert "abnormal (> ULN 40 U/L)" in row.group(2)

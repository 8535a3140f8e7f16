"""The programme table as Excel and CSV (units in the headers, built from the same course records as the PDFs),
the exports page, and the study record page with every eligibility bullet linked to the criteria the software
evaluates."""

from __future__ import annotations

import csv
import io
import re
import time
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from mibg.protocol import load_protocol
from mibg.protocol.study_record import current_study_record, link_criteria
from mibg.reports import PROGRAMME_COLUMNS
from mibg.web.audit.models import AuditEvent

UNITLESS = {"Patient MRN", "Patient name", "Course", "Response", "Protocol"}


@pytest.fixture
def programme(make_course):
    """Two administered courses (22.0 kg at 18 mCi/kg; 27.2 kg at 12 mCi/kg) and one still in screening."""
    first = make_course(until="in-patient", days_ahead=-2, weight="22.0", mci_per_kg="18", mrn="XL-0001")
    second = make_course(until="administered", days_ahead=-1, weight="27.2", mci_per_kg="12", mrn="XL-0002")
    make_course(until="eligible", mrn="XL-0003")
    return first, second


def bullet_html(page: str, number: int) -> str:
    """The HTML of eligibility bullet ``number``, up to the next bullet or the end of its list."""
    start = page.index(f'<li id="bullet-{number}">')
    following = re.compile(r'<li id="bullet-\d+">|</ol>').search(page, start + 1)
    assert following is not None
    return page[start:following.start()]


def block(page: str, marker: str) -> str:
    """The HTML from ``marker`` to the next linked criterion, dose limit or bullet."""
    start = page.index(marker)
    following = re.compile(r'<li id="(bullet|limit)-').search(page, start + 1)
    return page[start:following.start() if following else None]


def test_morgan_downloads_the_programme_as_excel_with_a_unit_in_every_numeric_header(login, programme):
    response = login("morgan").get("/documents/programme.xlsx")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = load_workbook(io.BytesIO(response.content)).active
    headers = [cell.value for cell in sheet[1]]
    assert headers == list(PROGRAMME_COLUMNS)
    for header in headers:
        assert header in UNITLESS or re.search(r"\(.+\)$", header), header
    rows = [dict(zip(headers, (c.value for c in row), strict=True)) for row in sheet.iter_rows(min_row=2)]
    assert [r["Patient MRN"] for r in rows] == ["XL-0001", "XL-0002"]  # administered courses only, by infusion
    first, second = rows
    # By hand: 22.0 x 18 = 396 mCi = 14652 MBq; 27.2 x 12 = 326.4 mCi = 12076.8 MBq.
    assert Decimal(str(first["Prescribed activity (mCi)"])) == Decimal(396)
    assert Decimal(str(first["Prescribed activity (MBq)"])) == Decimal(14652)
    assert Decimal(str(second["Prescribed activity (mCi)"])) == Decimal("326.4")
    assert Decimal(str(second["Prescribed activity (MBq)"])) == Decimal("12076.8")
    assert Decimal(str(second["Weight (kg)"])) == Decimal("27.2")
    a = programme[0].administrations.get()
    assert Decimal(str(first["Administered activity (mCi)"])) == a.administered_mci
    assert first["Protocol"] == load_protocol().label
    event = AuditEvent.objects.get(action=AuditEvent.EXPORT, username="morgan")
    assert "programme table, Excel (2 courses)" in event.note


def test_the_csv_has_the_same_columns_and_numbers_as_the_excel(login, programme):
    client = login("nora")
    text = client.get("/documents/programme.csv").content.decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == list(PROGRAMME_COLUMNS)
    assert [r["Prescribed activity (mCi)"] for r in rows] == ["396.0", "326.4"]
    assert [r["Prescribed activity (MBq)"] for r in rows] == ["14652.0", "12076.8"]


def test_two_excel_downloads_of_the_same_programme_are_identical_even_seconds_apart(login, programme):
    client = login("patel")
    first = client.get("/documents/programme.xlsx").content
    time.sleep(2.1)  # zip member times have a 2-second resolution: the clock would show here
    assert client.get("/documents/programme.xlsx").content == first


def test_the_exports_page_offers_the_programme_and_to_the_auditor_the_audit_trail(login, programme):
    page = login("morgan").get("/documents/exports/").content.decode()
    assert 'href="/documents/programme.xlsx"' in page
    assert 'href="/documents/programme.csv"' in page
    assert 'href="/followup/programme.csv"' in page
    assert 'href="/audit/?format=csv"' in page
    assert 'href="/audit/?format=csv"' not in login("nora").get("/documents/exports/").content.decode()


def test_the_audit_export_exists_and_is_itself_recorded(login, programme):
    response = login("morgan").get("/audit/?format=csv")
    assert response.status_code == 200
    assert b"".join(response.streaming_content).decode().startswith("at_utc,username,action")
    assert AuditEvent.objects.filter(action=AuditEvent.EXPORT, model="audit.AuditEvent", username="morgan").exists()


def test_the_study_record_page_links_every_bullet_to_the_criteria_the_software_evaluates(login, db, people):
    response = login("nora").get("/documents/study-record/")
    assert response.status_code == 200
    page = response.content.decode()
    protocol = load_protocol()
    record = current_study_record()
    links = link_criteria(record, protocol)
    assert record.title in page
    assert f'id="protocol-label">{protocol.label}<' in page
    criteria = {c.id: c for c in protocol.criteria}
    for bullet in links.bullets:
        item = bullet_html(page, bullet.number)
        for criterion in bullet.criteria:
            assert f'id="bullet-{bullet.number}-{criterion}"' in item
            assert f'href="#criterion-{criterion}"' in item
            assert criteria[criterion].title.replace("'", "&#x27;") in item
    assert links.unlinked_criteria == ()
    for criterion in protocol.criteria:
        assert f'id="criterion-{criterion.id}"' in page
    assert len({c for b in links.bullets for c in b.criteria}) == len(protocol.criteria)


def test_each_linked_criterion_shows_its_thresholds_from_the_protocol_definition(login, db):
    page = login("morgan").get("/documents/study-record/").content.decode()
    h1 = block(page, 'id="bullet-12-H1"')
    assert "0.75 10^9/L" in h1  # ANC above 0.75 x 10^9/L
    o3 = block(page, 'id="bullet-11-O3"')
    assert "2 mg/dL" in o3  # creatinine at most 2 mg/dL
    r1 = block(page, 'id="limit-R1"')
    assert "8 mCi/kg" in r1
    assert "18 mCi/kg" in r1


def test_the_study_record_page_shows_the_record_as_the_team_and_families_read_it(login, db):
    page = login("chen").get("/documents/study-record/").content.decode()
    record = current_study_record().protocolSection
    assert "NCT01370330" in page
    assert record.identificationModule.orgStudyIdInfo.id in page
    assert "NCI-2011-01902" in page
    assert "Available" in page  # overall status
    assert "Expanded access" in page  # classification: study type
    assert "Neuroblastoma" in page
    assert "Metaiodobenzylguanidine (MIBG)" in page
    assert "Kieuhoa Vo, MD" in page
    assert "University of California, San Francisco" in page
    assert "415-298-9434" in page
    assert "Cannonball Kids&#x27; Cancer Foundation" in page
    # The record's and the protocol's field names read as words, not as the code's (issue 15).
    assert "Last update post date" in page
    assert "date struct" not in page.lower()
    assert "minimum mCi per kg" in page
    assert "mci per kg" not in page
    assert ".txt" not in page  # the source is named, not the project's file
    assert "1 a<" not in page  # UCUM's annum, written as a year
    assert record.descriptionModule.briefSummary[:60].replace("'", "&#x27;") in page


def test_the_study_record_page_is_behind_login_and_the_nav_links_to_it(client, login, db):
    response = client.get("/documents/study-record/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    page = login("riley").get("/patients/").content.decode()
    assert 'href="/documents/study-record/"' in page
    assert 'href="/documents/exports/"' in page

"""Every time a person reads is written one way (issue 15): in the site's zone with its abbreviation,
``2026-12-09 09:00 PST`` (mibg.core.times.site_time), and every source is named as what it is, never as the code's
notes (issue 15: "decisions.md A22", "clinical-reference §1.1" read "product decision A22 (...)", "clinical reference
section 1.1 (...)"). These tests open every page a person can open on a course that went all the way to follow-up
(the access matrix's world), every PDF and CSV export, and the e-mail of an event report, once, and fail on an
ISO-looking timestamp (``2026-12-09T17:00`` or ``+00:00``) or an internal reference in what a person reads.

Left out, because they are machine formats: the API, FHIR, DICOM, iCalendar, the Excel workbook (its times are
spreadsheet date cells), the plots (images) and the audit trail (mibg.core.times). In a page, only the text a person
reads is scanned: tag attributes (a ``datetime-local`` input's value, a ``<time datetime=...>``) are the browser's,
and a stored record's JSON folded away in a ``<pre>`` is a machine shape.
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.test import Client
from matrix_world import ROLE_OF, world_fixture
from test_access_matrix import PAGES

from mibg.web.permissions import ACTIONS

ISO_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:|[+-]00:00\b")
#: Machine formats and images: not read as text by a person.
MACHINE = (".png", ".svg", ".ics", ".dcm", ".json", ".xlsx")
SKIPPED = {"", "healthz", "audit/", "worklist/count/", "accounts/login/code/"}
#: The lab-upload page shows the file's format, which is machine-read ISO 8601: the one example it gives is allowed.
FORMAT_EXAMPLES = {"followup/courses/<int:pk>/labs/upload/": "2026-03-02T07:30:00-08:00"}


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    yield from world_fixture(django_db_blocker)


@dataclass(frozen=True)
class Read:
    kind: str  # pdf | csv | html
    text: str


@pytest.fixture(scope="module")
def readable(world, django_db_blocker, tmp_path_factory) -> dict[str, Read]:
    """What a person reads on every page, PDF and CSV of the world's records (route -> text), each opened once."""
    tmp_path = tmp_path_factory.mktemp("read")
    found: dict[str, Read] = {}
    with django_db_blocker.unblock():
        for route, kind, reader in _readable_pages():
            pk = world.ids.get(kind) if kind else None
            if kind and pk is None:
                continue
            client = Client()
            client.force_login(world.people[reader])
            response = client.get("/" + route.replace("<int:pk>", str(pk)))
            if response.status_code != 200:
                continue
            content_type = response.get("Content-Type", "")
            body = b"".join(response) if response.streaming else response.content
            if "pdf" in content_type:
                found[route] = Read("pdf", pdf_text(body, tmp_path))
            elif "csv" in content_type:
                found[route] = Read("csv", body.decode())
            elif "html" in content_type:
                found[route] = Read("html", visible_text(body.decode()))
            else:
                found[route] = Read("other", "")
    return found


def visible_text(page: str) -> str:
    """What a person reads on an HTML page: no scripts or styles, no tags (their attributes are the browser's), and
    not the JSON of a record folded away in a ``<pre>`` (a machine shape, shown as stored)."""
    page = re.sub(r"<(script|style|pre)\b.*?</\1>", " ", page, flags=re.S | re.I)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def pdf_text(content: bytes, tmp_path: Path) -> str:
    pdf = tmp_path / "page.pdf"
    pdf.write_bytes(content)
    return subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True).stdout


def iso_times(text: str) -> list[str]:
    return [text[max(0, m.start() - 60):m.end() + 20].replace("\n", " ") for m in ISO_TIME.finditer(text)]


#: The code's notes: the files of its references, and (on paper, e-mail and CSV, where a source has no link) the
#: section sign of a citation written the code's way.
CODE_NOTES = re.compile(r"decisions\.md|clinical-reference|\bdecisions [A-Z]\d|\bissue \d+ §")
SECTION_SIGN = re.compile(r"§")
#: The page listing the protocol definition's decisions and references: it names their files on purpose.
REFERENCES_PAGE = {"documents/references/"}


def internal_references(text: str, kind: str) -> list[str]:
    patterns = [CODE_NOTES] if kind == "html" else [CODE_NOTES, SECTION_SIGN]
    return [text[max(0, m.start() - 60):m.end() + 30].replace("\n", " ") for pattern in patterns
            for m in pattern.finditer(text)]


def _readable_pages() -> list[tuple[str, str, str]]:
    """(route, the record its pk names, who opens it) for every page a person reads."""
    found = []
    for route, (kind, methods) in PAGES.items():
        action = methods.get("GET")
        if action is None or route in SKIPPED or route.endswith(MACHINE) or action not in ACTIONS:
            continue
        reader = next((name for name, role in ROLE_OF.items() if role in ACTIONS[action]), None)
        if reader is not None:
            found.append((route, kind or "", reader))
    return found


def test_the_scanner_catches_an_iso_time_and_passes_the_sites_format():
    assert iso_times("released 2026-12-09T17:00:00+00:00 by Dr Patel")
    assert iso_times("due 2026-12-09 17:00+00:00")
    assert not iso_times("released 2026-12-09 09:00 PST; dose 2026-12-09; 12:00 PDT")


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) is not installed")
def test_no_page_pdf_or_csv_a_person_reads_shows_an_iso_timestamp(db, readable):
    found: dict[str, list[str]] = {}
    for route, read in readable.items():
        text = read.text.replace(FORMAT_EXAMPLES[route], "(the example)") if route in FORMAT_EXAMPLES else read.text
        if hits := iso_times(text):
            found[route] = hits[:3]
    assert len(readable) > 40, "the scan opened the application's pages"
    assert found == {}


def test_the_scanner_catches_the_codes_notes_and_passes_a_named_source():
    assert internal_references("Eligible only when every criterion is met (decisions.md 'Results').", "pdf")
    assert internal_references("D1: clinical-reference §1.1 D1; decisions A22", "pdf")
    assert internal_references("see §1.4 R1", "pdf")
    assert internal_references("Source: issue 13 §1; intervals are product choices", "pdf")
    assert not internal_references("clinical reference section 1.1 (Inclusion criteria) D1; product decision A22 "
                                   "(diagnosis proof)", "pdf")
    assert not internal_references("clinical reference §1.4 (Exclusions, dose and administration)", "html")


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) is not installed")
def test_no_page_pdf_or_csv_a_person_reads_cites_a_source_by_the_codes_notes(db, readable):
    """The eligibility checklist, the directive, the administration record, the course summary, the family's sheet,
    the event report, the programme and analytics CSVs, and every page: a source is named (product decision A22 with
    its title), never "decisions.md A22", "clinical-reference §1.1" or the project's "issue 13 §3". Paper has no
    link, so it writes "section 1.1", without the sign §; a page links it as "clinical reference §1.1 (...)". The
    page listing the decisions and references names their files on purpose."""
    pdfs = [route for route, read in readable.items() if read.kind == "pdf"]
    assert len(pdfs) >= 5, pdfs
    found = {route: hits[:3] for route, read in readable.items() if route not in REFERENCES_PAGE
             and (hits := internal_references(read.text, read.kind))}
    assert found == {}


def test_the_event_report_e_mail_writes_its_times_in_the_sites_zone_and_names_its_sources(db, world):
    from mibg.web.eventreports import notify, services
    from mibg.web.eventreports.models import EventReport

    report = EventReport.objects.get(pk=world.ids["event_report"])
    for what in notify.SUBJECTS:
        subject, body = notify.message(report, what, services.rows)
        assert iso_times(subject + "\n" + body) == []
        assert internal_references(subject + "\n" + body, "email") == []
        assert re.search(r"Discovered: \d{4}-\d\d-\d\d \d\d:\d\d P[SD]T", body)

"""Every time a person reads is written one way (issue 15): in the site's zone with its abbreviation,
``2026-12-09 09:00 PST`` (mibg.core.times.site_time). This test opens every page a person can open on a course that
went all the way to follow-up (the access matrix's world), every PDF and CSV export, and the e-mail of an event
report, and fails on an ISO-looking timestamp (``2026-12-09T17:00`` or ``+00:00``) in what a person reads.

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
def test_no_page_pdf_or_csv_a_person_reads_shows_an_iso_timestamp(db, world, tmp_path):
    found: dict[str, list[str]] = {}
    opened = 0
    for route, kind, reader in _readable_pages():
        pk = world.ids.get(kind) if kind else None
        if kind and pk is None:
            continue
        client = Client()
        client.force_login(world.people[reader])
        response = client.get("/" + route.replace("<int:pk>", str(pk)))
        if response.status_code != 200:
            continue
        opened += 1
        content_type = response.get("Content-Type", "")
        body = b"".join(response) if response.streaming else response.content
        if "pdf" in content_type:
            text = pdf_text(body, tmp_path)
        elif "csv" in content_type:
            text = body.decode()
        elif "html" in content_type:
            text = visible_text(body.decode())
        else:
            continue
        if route in FORMAT_EXAMPLES:
            text = text.replace(FORMAT_EXAMPLES[route], "(the example)")
        if hits := iso_times(text):
            found[route] = hits[:3]
    assert opened > 40, "the scan opened the application's pages"
    assert found == {}


def test_the_event_report_e_mail_writes_its_times_in_the_sites_zone(db, world):
    from mibg.web.eventreports import notify, services
    from mibg.web.eventreports.models import EventReport

    report = EventReport.objects.get(pk=world.ids["event_report"])
    for what in notify.SUBJECTS:
        subject, body = notify.message(report, what, services.rows)
        assert iso_times(subject + "\n" + body) == []
        assert re.search(r"Discovered: \d{4}-\d\d-\d\d \d\d:\d\d P[SD]T", body)

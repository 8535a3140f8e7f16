"""Every time a person reads is written one way (issue 15): ``2026-12-09 09:00 PST``, in the site's zone with its
abbreviation, by one function (mibg.core.times.site_time). Machine formats stay in the API, FHIR, DICOM, iCalendar
and the audit trail."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

import mibg
from mibg.core import times
from mibg.core.times import site_time, site_zone

SOURCE = Path(mibg.__file__).resolve().parent


def test_a_utc_time_is_written_in_the_sites_zone_with_its_abbreviation_winter_and_summer():
    assert site_time(datetime(2026, 12, 9, 17, 0, tzinfo=UTC)) == "2026-12-09 09:00 PST"
    assert site_time(datetime(2026, 7, 9, 16, 0, tzinfo=UTC)) == "2026-07-09 09:00 PDT"


def test_a_date_is_written_iso_and_a_missing_time_as_a_dash():
    assert site_time(date(2026, 12, 9)) == "2026-12-09"
    assert site_time(None) == "—"


def test_a_time_without_a_zone_is_refused_rather_than_guessed():
    with pytest.raises(ValueError, match="no time zone"):
        site_time(datetime(2026, 12, 9, 9, 0))


def test_the_site_zone_is_the_setting_and_the_web_settings_read_the_same_one(monkeypatch):
    monkeypatch.setenv(times.ZONE_VARIABLE, "America/New_York")
    assert site_zone() == ZoneInfo("America/New_York")
    assert site_time(datetime(2026, 12, 9, 17, 0, tzinfo=UTC)) == "2026-12-09 12:00 EST"
    monkeypatch.delenv(times.ZONE_VARIABLE)
    assert site_zone().key == times.DEFAULT_ZONE
    settings = (SOURCE / "web" / "settings.py").read_text(encoding="utf-8")
    assert "TIME_ZONE = site_zone_name()" in settings


#: Where a time may be formatted other than by site_time: machine formats (iCalendar, DICOM, the audit trail's hash
#: and file names, the PDF's own metadata date, backups), what a browser's datetime-local input reads and sends
#: (mibg.web.forms), and refusals of a time that has no zone (there is no zone to name).
MACHINE_FORMATS = {"core/times.py", "reports/ical.py", "reports/dicom/rrdsr.py", "reports/pdf/common.py",
                   "web/audit/hashing.py", "web/audit/models.py", "web/audit/views.py", "web/forms.py",
                   "commands/backup.py", "commands/restore.py"}
NO_ZONE_REFUSAL = re.compile(r"has no (time zone|UTC offset)|utcoffset\(\) is not None")
TIME_FORMAT = re.compile(r"%H|\|date:\"[^\"]*[HGgi]|\|time:")


def test_no_module_or_template_formats_a_time_for_people_by_hand():
    found = []
    for path in sorted(SOURCE.rglob("*")):
        if path.suffix not in (".py", ".html", ".txt") or "migrations" in path.parts:
            continue
        name = path.relative_to(SOURCE).as_posix()
        if name in MACHINE_FORMATS:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if TIME_FORMAT.search(line) and not NO_ZONE_REFUSAL.search(line):
                found.append(f"{name}:{number}: {line.strip()}")
    assert found == [], "format times with mibg.core.times.site_time (templates: the |when filter)"

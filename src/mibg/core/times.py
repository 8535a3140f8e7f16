"""Every time a person reads, written one way: in the site's zone with its abbreviation, ``2026-12-09 09:00 PST``.

One function (:func:`site_time`) for the screens, the messages of the core, the PDFs, the e-mails and the CSV exports
meant for people (issue 15). Machine formats (ISO 8601 with the UTC offset) are for the API, the JSON shapes, FHIR,
DICOM and the audit trail only (mibg.core.serial).

The site's zone is the ``MIBG_TIME_ZONE`` setting (an IANA name; default ``America/Los_Angeles``, the San Francisco
programme), read here and by the web settings (mibg.web.settings.TIME_ZONE), so the two cannot disagree. Dates are
written ISO (``2026-12-09``: no day/month ambiguity, decisions.md "Units"), times on a 24-hour clock to the minute.
"""

from __future__ import annotations

import os
from datetime import date, datetime, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo

__all__ = ["DEFAULT_ZONE", "NOT_GIVEN", "SITE_FORMAT", "ZONE_VARIABLE", "site_date", "site_time", "site_zone",
           "site_zone_name"]

#: The environment variable naming the site's zone, and its default.
ZONE_VARIABLE = "MIBG_TIME_ZONE"
DEFAULT_ZONE = "America/Los_Angeles"
#: The one format: ISO date, 24-hour time to the minute, the zone's abbreviation (PST/PDT).
SITE_FORMAT = "%Y-%m-%d %H:%M %Z"
#: What a missing time reads as.
NOT_GIVEN = "—"


def site_zone_name() -> str:
    return os.environ.get(ZONE_VARIABLE, "").strip() or DEFAULT_ZONE


@lru_cache(maxsize=8)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def site_zone() -> ZoneInfo:
    """The site's zone (``MIBG_TIME_ZONE``)."""
    return _zone(site_zone_name())


def site_time(moment: datetime | date | None, zone: tzinfo | None = None) -> str:
    """``moment`` as a person reads it: ``2026-12-09 09:00 PST`` in ``zone`` (default: the site's).

    A date is written ``2026-12-09``; ``None`` as a dash. A time without a zone is refused: it is not a moment.
    """
    if moment is None:
        return NOT_GIVEN
    if not isinstance(moment, datetime):
        return moment.isoformat()
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{moment:%Y-%m-%d %H:%M} has no time zone")
    return moment.astimezone(zone or site_zone()).strftime(SITE_FORMAT).strip()


def site_date(moment: datetime | date) -> date:
    """The calendar day of ``moment`` at the site (a date is its own day)."""
    if isinstance(moment, datetime):
        return moment.astimezone(site_zone()).date()
    return moment

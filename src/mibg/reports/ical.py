"""iCalendar (RFC 5545) text of course calendars (mibg.core.careplan.CalendarEntry): one file per course, or one
feed of many courses. All-day entries are DATE values (DTEND the day after the last day, as RFC 5545 3.6.1
asks); timed entries are UTC. Each event's UID is stable (course, code, start), so a calendar client that
subscribes updates the same events when the infusion moves, and its DESCRIPTION says how it was placed."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from mibg.core.careplan import CalendarEntry

PRODUCT = "-//mibg//NCT01370330 course calendar//EN"


@dataclass(frozen=True)
class CourseCalendar:
    course_key: str  # stable and free of identifiers, e.g. "course-42"
    label: str  # shown in each summary, e.g. "MARTIN A. course 1"
    entries: Sequence[CalendarEntry]
    protocol_label: str


def _escape(text: str) -> str:
    return (text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\r\n", "\\n")
            .replace("\n", "\\n"))


def _fold(line: str) -> list[str]:
    """Lines longer than 75 octets are folded (RFC 5545 3.1)."""
    out: list[str] = []
    current = ""
    for ch in line:
        if len((current + ch).encode("utf-8")) > (75 if not out else 74):
            out.append(current)
            current = ch
        else:
            current += ch
    out.append(current)
    return [out[0], *(" " + part for part in out[1:])]


def _stamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _day(value: date) -> str:
    return value.strftime("%Y%m%d")


def calendar_text(calendars: Iterable[CourseCalendar], name: str, now: datetime) -> str:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODUCT}", "CALSCALE:GREGORIAN", "METHOD:PUBLISH",
             f"X-WR-CALNAME:{_escape(name)}"]
    for cal in calendars:
        for entry in cal.entries:
            start_key = entry.start.isoformat() if entry.all_day else _stamp(entry.start)  # type: ignore[arg-type]
            uid = f"{cal.course_key}-{entry.code}-{start_key.replace(':', '').replace('-', '')}@mibg"
            lines += ["BEGIN:VEVENT", f"UID:{uid}", f"DTSTAMP:{_stamp(now)}"]
            if entry.all_day:
                lines += [f"DTSTART;VALUE=DATE:{_day(entry.start)}",
                          f"DTEND;VALUE=DATE:{_day(entry.end + timedelta(days=1))}"]
            else:
                assert isinstance(entry.start, datetime)
                assert isinstance(entry.end, datetime)
                end = entry.end if entry.end > entry.start else entry.start + timedelta(minutes=15)
                lines += [f"DTSTART:{_stamp(entry.start)}", f"DTEND:{_stamp(end)}"]
            lines += [f"SUMMARY:{_escape(f'{entry.title}: {cal.label}')}",
                      f"DESCRIPTION:{_escape(f'{entry.explanation}. Source: {entry.source}. Protocol {cal.protocol_label}.')}",
                      f"CATEGORIES:{_escape(entry.role)}", "TRANSP:TRANSPARENT", "END:VEVENT"]
    lines.append("END:VCALENDAR")
    return "".join(part + "\r\n" for line in lines for part in _fold(line))

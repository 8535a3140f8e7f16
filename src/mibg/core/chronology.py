"""The time line of a course: one rule for every clinical time (decisions.md A29, A31).

Every step that records a time asks :func:`check_times` with the times entered and the times already on the
course. The order is one table, :data:`AFTER`: each event names the events that must come before it. The table
is read both ways, so a correction of an earlier time (A37) is refused when it would put it after a later
time already recorded (an infusion start moved after the first reading), with the same words.

- Never in the future: a time more than the site's clock tolerance (``clock_tolerance_min``, 5 min, A29)
  ahead of the clock is refused.
- The assay before the administration; the administration after the written directive's signature, after its
  independent verification and after the assay (A29); the infusion ends after it starts and the residual is
  measured after it ends; readings and the stem-cell infusion after the MIBG infusion (A29).
- Within the window of the planned date: :func:`administration_window` (``administration_window_days``,
  +/- 3 days, A29); outside it the authorised user confirms with a reason. Product choice: the confirmation is
  a new signed version of the directive (password re-entry, the reason for the change, the new planned date),
  so the verification and the assay are done again against it.
- Stem cells earlier than day +10 (``stem_cell_earliest_day``, A31): :func:`stem_cell_day` says so; the
  treating physician gives the reason.

People enter times to the minute; signatures are stamped to the microsecond. Product choice: two times are
compared to the minute, so an infusion entered as 10:00 is not "before" a signature stamped 10:00:40.

A refusal is an :class:`~mibg.core.errors.InputError` naming the field entered, its time, and the time it
conflicts with. Times are shown in the zone they are given in (callers give the site's zone) with the offset.
Pure Python: the callers gather the times.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from mibg.core.errors import InputError
from mibg.core.times import site_date, site_time
from mibg.protocol import ProtocolDefinition, load_protocol

REFERENCE = "decisions.md A29"


class Event(StrEnum):
    """A clinical time on a course."""

    SIGNATURE = "signature"
    VERIFICATION = "verification"
    ASSAY = "assay"
    INFUSION_START = "infusion start"
    INFUSION_END = "infusion end"
    RESIDUAL = "residual assay"
    READING = "reading"
    STEM_CELLS = "stem-cell infusion"
    RELEASE = "release"

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    Event.SIGNATURE: "the written directive's signature",
    Event.VERIFICATION: "the independent verification",
    Event.ASSAY: "the dose assay",
    Event.INFUSION_START: "the start of the 131I-MIBG infusion",
    Event.INFUSION_END: "the end of the 131I-MIBG infusion",
    Event.RESIDUAL: "the residual assay",
    Event.READING: "the exposure-rate reading",
    Event.STEM_CELLS: "the stem-cell infusion",
    Event.RELEASE: "the release from isolation",
}

#: Each event and the events that must come before it (decisions.md A29). The whole order of a course.
AFTER: Mapping[Event, tuple[Event, ...]] = {
    Event.SIGNATURE: (),
    Event.VERIFICATION: (Event.SIGNATURE,),
    Event.ASSAY: (),
    Event.INFUSION_START: (Event.SIGNATURE, Event.VERIFICATION, Event.ASSAY),
    Event.INFUSION_END: (Event.INFUSION_START,),
    Event.RESIDUAL: (Event.INFUSION_END,),
    Event.READING: (Event.INFUSION_START,),
    Event.STEM_CELLS: (Event.INFUSION_END,),
    Event.RELEASE: (Event.INFUSION_START,),
}


@dataclass(frozen=True, slots=True)
class Entered:
    """A time a person entered for ``event``, in the field ``field`` (as the form or API names it)."""

    event: Event
    field: str
    at: datetime


def shown(at: datetime) -> str:
    """``2026-12-10 09:00 PST``: to the minute, in the site's zone with its abbreviation (mibg.core.times);
    a time without a zone (refused elsewhere) as it was given."""
    return site_time(at) if at.utcoffset() is not None else f"{at:%Y-%m-%d %H:%M}"


def _minute(at: datetime) -> datetime:
    return at.replace(second=0, microsecond=0)


def _aware(field: str, at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise InputError(field, "has no time zone: add the UTC offset")
    return at


def clock_tolerance(protocol: ProtocolDefinition | None = None) -> timedelta:
    """How far ahead of the clock a time is still accepted: site parameter ``clock_tolerance_min`` (A29)."""
    return timedelta(minutes=int((protocol or load_protocol()).site("clock_tolerance_min")))


def check_not_future(field: str, what: str, at: datetime, now: datetime, protocol: ProtocolDefinition | None = None) -> None:
    """Refuse ``at`` when it is more than the clock tolerance ahead of ``now`` (A29), naming both times."""
    tolerance = clock_tolerance(protocol)
    if _aware(field, at) > now + tolerance:
        raise InputError(field, f"{what} ({shown(at)}) is in the future: it is now {shown(now.astimezone(at.tzinfo))} "
                                f"({int(tolerance.total_seconds() // 60)} minutes of clock tolerance; {REFERENCE}). "
                                "Record a time once it has happened.")


def check_times(
    entered: tuple[Entered, ...],
    recorded: Mapping[Event, datetime],
    now: datetime,
    protocol: ProtocolDefinition | None = None,
) -> None:
    """Refuse the first entered time that is in the future or out of the order of :data:`AFTER`.

    ``recorded``: the times already on the course (for a later event with several times, e.g. readings, the
    earliest one; for an earlier one, e.g. the verification, the latest one that counts).
    """
    protocol = protocol or load_protocol()
    times: dict[Event, datetime] = dict(recorded)
    for e in entered:
        times[e.event] = _aware(e.field, e.at)
    fields = {e.event: e.field for e in entered}
    for e in entered:
        check_not_future(e.field, e.event.label[0].upper() + e.event.label[1:], e.at, now, protocol)
        for before in AFTER[e.event]:
            if before in times and _minute(e.at) < _minute(times[before]):
                other = times[before]
                raise InputError(e.field, f"{_cap(e.event.label)} ({shown(e.at)}) is before {before.label} "
                                          f"({shown(other.astimezone(e.at.tzinfo))}): it must come after it "
                                          f"({REFERENCE}).{_also(before, fields)}")
        for later, needs in AFTER.items():
            if e.event in needs and later in recorded and later not in fields and _minute(recorded[later]) < _minute(e.at):
                other = recorded[later]
                raise InputError(e.field, f"{_cap(e.event.label)} ({shown(e.at)}) is after {later.label} "
                                          f"({shown(other.astimezone(e.at.tzinfo))}), already recorded: it must come "
                                          f"before it ({REFERENCE}).")


def _cap(text: str) -> str:
    return text[0].upper() + text[1:]


def _also(other: Event, fields: Mapping[Event, str]) -> str:
    return f" Check {fields[other]} too." if other in fields else ""


# ---- the window of the planned date (A29) ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Window:
    """The administration against the directive's planned date: ``days_off`` calendar days (signed),
    ``allowed_days`` the site's +/- window; ``within`` when ``abs(days_off) <= allowed_days``."""

    planned: datetime
    actual: datetime
    days_off: int
    allowed_days: int

    @property
    def within(self) -> bool:
        return abs(self.days_off) <= self.allowed_days

    @property
    def message(self) -> str:
        side = "after" if self.days_off > 0 else "before"
        return (f"The infusion start ({shown(self.actual)}) is {abs(self.days_off)} days {side} the directive's planned "
                f"date ({site_date(self.planned).isoformat()}); the window is +/- {self.allowed_days} days "
                f"(site parameter administration_window_days, {REFERENCE}). Outside it the authorised user confirms "
                "the administration by signing a new version of the directive, with the date and the reason.")


def administration_window(planned: datetime, actual: datetime, protocol: ProtocolDefinition | None = None) -> Window:
    """Calendar days between the planned and the actual date, each the site's day (issues 11, 14)."""
    protocol = protocol or load_protocol()
    allowed = int(protocol.site("administration_window_days"))
    return Window(planned, actual, (site_date(actual) - site_date(planned)).days, allowed)


# ---- the day of the stem-cell infusion (A31) -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StemCellDay:
    """The stem-cell infusion's day after the MIBG infusion (day 0 = the MIBG infusion's date; the planned day
    +14 is that date + 14 days, as :mod:`mibg.core.rescue` counts). Earlier than ``earliest_day`` needs the
    treating physician's reason (A31)."""

    mibg_date: date
    infused_date: date
    day: int
    earliest_day: int
    planned_day: int

    @property
    def needs_reason(self) -> bool:
        return self.day < self.earliest_day

    @property
    def message(self) -> str:
        return (f"The stem-cell infusion on {self.infused_date.isoformat()} is day +{self.day} after the 131I-MIBG "
                f"infusion ({self.mibg_date.isoformat()}); the planned day is +{self.planned_day} and an infusion before "
                f"day +{self.earliest_day} needs the treating physician's reason (site parameters "
                "stem_cell_infusion_day, stem_cell_earliest_day; decisions.md A31).")


def stem_cell_day(mibg_start: datetime, infused_at: datetime, protocol: ProtocolDefinition | None = None) -> StemCellDay:
    protocol = protocol or load_protocol()
    mibg_date, infused_date = site_date(mibg_start), site_date(infused_at)
    return StemCellDay(mibg_date, infused_date, (infused_date - mibg_date).days,
                       int(protocol.site("stem_cell_earliest_day")), int(protocol.site("stem_cell_infusion_day")))


__all__ = ["AFTER", "Entered", "Event", "StemCellDay", "Window", "administration_window", "check_not_future",
           "check_times", "clock_tolerance", "shown", "stem_cell_day"]

"""Whether an exposure-rate reading can be used for the retention curve and the release (clinical-reference §3-§4).

The rules a reading must meet beside the course's other readings, in one place for every door (the readings
form, the API, the demo and the generator):

- the exposure rate at 1 m is greater than zero and plausible (site parameter
  ``plausible_exposure_rate_mr_per_h_max``); a background is below the reading (the net reading is used);
- the reading is taken after the infusion ends (the first one before the first void defines 100 % retention),
  within ``plausible_reading_hours_max`` of its start, and not in the future (``clock_tolerance_min``);
- one reading per time; only one reading "before the first void", and it is the first reading;
- the survey meter is named and calibrated on the day of the reading (10 CFR 35.61);
- who took the reading is named.

:func:`reading_problems` returns every problem by field (``None``: the whole entry), empty when the reading can
be stored. Times are shown with the caller's ``show`` (the site's time zone).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from mibg.core.chronology import Entered, Event, check_times, clock_tolerance
from mibg.core.errors import InputError
from mibg.core.plausibility import plausible_range
from mibg.protocol import ProtocolDefinition, load_protocol


@dataclass(frozen=True, slots=True)
class ReadingEntry:
    """A reading as a person enters it."""

    measured_at: datetime
    mr_per_h: Decimal
    background_mr_per_h: Decimal | None
    before_first_void: bool
    instrument_id: str
    instrument_calibration_due: date
    measured_by: str


@dataclass(frozen=True, slots=True)
class OtherReading:
    """One of the course's other active readings."""

    measured_at: datetime
    mr_per_h: Decimal
    before_first_void: bool


@dataclass(frozen=True, slots=True)
class Infusion:
    started_at: datetime
    ended_at: datetime




def reading_problems(entry: ReadingEntry, infusion: Infusion | None, others: Sequence[OtherReading], *,
                     now: datetime, local_date: Callable[[datetime], date], show: Callable[[datetime], str],
                     protocol: ProtocolDefinition | None = None) -> dict[str | None, str]:
    """Every problem with ``entry`` beside ``others``, by field (empty: it can be stored). ``now`` is the server's
    time, ``local_date`` the site's calendar day of a moment, ``show`` how a time is written for the person."""
    definition = protocol or load_protocol()
    errors: dict[str | None, str] = {}

    def add(field: str | None, message: str) -> None:
        errors.setdefault(field, message)

    highest_rate = plausible_range("exposure_rate_mr_per_h", definition).maximum
    longest = plausible_range("reading_hours", definition).maximum
    rate, background = entry.mr_per_h, entry.background_mr_per_h
    if rate < 0:
        add("mr_per_h", "An exposure rate cannot be negative.")
    elif rate == 0:
        add("mr_per_h", "The exposure rate must be greater than zero (mR/h at 1 m).")
    elif rate > highest_rate:
        add("mr_per_h", f"Above {highest_rate} mR/h at 1 m (plausible_exposure_rate_mr_per_h_max): check the unit "
                        "(mR/h, not µR/h) and the decimal point.")
    if background is not None:
        if background < 0:
            add("background_mr_per_h", "The background cannot be negative.")
        elif rate > 0 and background >= rate:
            add("background_mr_per_h", "The background must be below the reading: the net reading (reading − "
                                       "background) is what is used.")
    at = entry.measured_at
    if infusion is None:
        add(None, "No administration is recorded for this course: readings start after the infusion.")
    else:
        try:  # decisions.md A29: the one chronology rule: after the start of the infusion, never in the future
            check_times((Entered(Event.READING, "measured_at", at),), {Event.INFUSION_START: infusion.started_at}, now,
                        definition)
        except InputError as error:
            add("measured_at", error.message)
    if infusion is None or "measured_at" in errors:
        pass
    elif at < infusion.ended_at:
        add("measured_at", f"This is before the end of the infusion ({show(infusion.ended_at)}): readings are "
                           "taken after the infusion ends, the first one before the first void.")
    elif at - infusion.started_at > timedelta(hours=int(longest)):
        add("measured_at", f"This is more than {int(longest) // 24} days after the start of the infusion "
                           "(plausible_reading_hours_max): check the date.")
    if infusion is None and at > now + clock_tolerance(definition):
        add("measured_at", "This time is in the future.")
    clash = next((o for o in others if o.measured_at == at), None)
    if clash is not None:
        add("measured_at", f"Another reading ({clash.mr_per_h} mR/h) has this time: each reading has its own time.")
    pre_void = next((o for o in others if o.before_first_void), None)
    earlier = next((o for o in others if o.measured_at < at), None)
    if entry.before_first_void:
        if pre_void is not None:
            add("before_first_void", f"The reading at {show(pre_void.measured_at)} is already the one before the first "
                                     "void; there is only one.")
        elif earlier is not None:
            add("before_first_void", f"The reading before the first void is the first reading, but the reading at "
                                     f"{show(earlier.measured_at)} is earlier.")
    elif pre_void is not None and at < pre_void.measured_at:
        add("measured_at", f"This is earlier than the reading before the first void ({show(pre_void.measured_at)}), "
                           "which defines 100 % retention and must be the first: check the time.")
    if entry.instrument_calibration_due < local_date(at):
        add("instrument_calibration_due", f"The meter's calibration was due on {entry.instrument_calibration_due}, "
                                          "before this reading: use a calibrated meter (10 CFR 35.61).")
    if not entry.instrument_id.strip():
        add("instrument_id", "Name the survey meter (its ID).")
    if not entry.measured_by.strip():
        add("measured_by", "Who took the reading?")
    return errors


#: The module's public surface: what the other layers may import (tests/unit/test_architecture.py).
__all__ = [
    "Infusion",
    "OtherReading",
    "ReadingEntry",
    "reading_problems",
]

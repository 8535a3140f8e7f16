"""Checks at the dose calibrator and after the infusion (10 CFR 35.63, 10 CFR 35.3045; decisions.md "Dose").

- Assay before administration (10 CFR 35.63): the measured activity, decay-corrected to the planned
  administration time, must be within ``assay_tolerance_percent`` (20 %) of the prescribed activity.
  "Differs by more than 20 %" is the stop condition, so exactly 20 % is within. Outside it the
  administration is stopped unless the authorised user directs otherwise with a recorded reason.
- Administered activity (decisions.md "Administered activity"): the pre-administration assay minus the
  residual assay, each decay-corrected to the administration time. A difference of 20 % or more
  (``medical_event_percent``) from the prescription is a possible medical event (10 CFR 35.3045) that
  stays open until a physician reviews it; exactly 20 % is flagged.

Percentages are computed exactly in Decimal from the decay-corrected activities; the decay factor is the
one rounded to 10 significant digits by :mod:`mibg.core.decay`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone, tzinfo
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from mibg.core.decay import DecayCorrection, decay_correct
from mibg.core.errors import InputError
from mibg.core.plausibility import plausible_range
from mibg.core.serial import JSON, Reader, ShapeError, dec, envelope
from mibg.core.times import site_time
from mibg.core.units import Activity, parse_activity_mci, parse_decimal
from mibg.protocol import ProtocolDefinition, load_protocol

HUNDRED = Decimal(100)


def deviation_percent(actual: Activity, prescribed: Activity) -> Decimal:
    """Signed difference from the prescription in percent of the prescription."""
    if prescribed.mci <= 0:
        raise InputError("prescribed_activity", "the prescribed activity must be greater than zero")
    return (actual.mci - prescribed.mci) / prescribed.mci * HUNDRED


def _activity(field: str, raw: object) -> Activity:
    """An assayed or administered activity, inside the plausible range (mibg.core.plausibility)."""
    return Activity(parse_activity_mci(raw, field))


def _residual(field: str, raw: object) -> Activity:
    """A residual in the syringe and line: zero or more, at most the plausible largest activity (no lower bound)."""
    return Activity(parse_decimal(field, raw, minimum=Decimal(0), maximum=plausible_range("activity_mci").maximum,
                                  unit="mCi"))


def _aware(field: str, value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise InputError(field, "has no time zone: add the UTC offset")
    return value


@dataclass(frozen=True, slots=True)
class AssayCheck:
    prescribed: Activity
    correction: DecayCorrection  # measured -> administration time
    deviation_percent: Decimal
    tolerance_percent: Decimal
    within_tolerance: bool
    #: The zone every time of the message is shown in (the site's); None: the zone the measurement was entered in.
    display_zone: tzinfo | None = None

    @property
    def corrected(self) -> Activity:
        return self.correction.activity_to

    @property
    def message(self) -> str:
        direction = "above" if self.deviation_percent >= 0 else "below"
        shown = abs(self.deviation_percent).quantize(Decimal("0.01"))
        base = (f"Assayed {self.correction.activity_from.display()} at {self._shown(self.correction.time_from)}, "
                f"decay-corrected to the administration time {self._shown(self.correction.time_to)}: "
                f"{self.corrected.display()}, {shown} % {direction} the prescribed {self.prescribed.display()}.")
        if self.within_tolerance:
            return base + f" Within {self.tolerance_percent} % (10 CFR 35.63)."
        return (base + f" More than {self.tolerance_percent} % from the prescription: the administration is stopped "
                "unless the authorised user directs otherwise and records the reason (10 CFR 35.63).")

    def _shown(self, when: datetime) -> str:
        """One zone for every time of the message, named, e.g. 2026-12-10 08:30 PST (mibg.core.times)."""
        return site_time(when, self.display_zone or self.correction.time_from.tzinfo)

    def to_json(self) -> JSON:
        """The assay check's one exact shape (mibg.core.serial). The deviation and the verdict are written for
        readers (with the message) and checked on reading against the decay-corrected activity and the tolerance."""
        return {**envelope(ASSAY_SCHEMA, ASSAY_VERSION), "prescribed_mci": dec(self.prescribed.mci),
                "correction": self.correction.to_json(), "deviation_percent": dec(self.deviation_percent),
                "tolerance_percent": dec(self.tolerance_percent), "within_tolerance": self.within_tolerance,
                "display_zone": _zone_text(self.display_zone), "message": self.message}

    @classmethod
    def from_json(cls, data: object, path: str = "assay") -> AssayCheck:
        r = Reader.result(data, ASSAY_SCHEMA, ASSAY_VERSION, path)
        prescribed = Activity(r.decimal("prescribed_mci"))
        correction = DecayCorrection.from_json(r.child("correction"))
        tolerance = r.decimal("tolerance_percent")
        deviation = _deviation_read(r, correction.activity_to, prescribed)
        r.check("within_tolerance", abs(deviation) <= tolerance)
        return cls(prescribed, correction, deviation, tolerance, abs(deviation) <= tolerance,
                   _zone_read(r, "display_zone"))


ASSAY_SCHEMA, ASSAY_VERSION = "mibg.assay", 1
ADMINISTRATION_SCHEMA, ADMINISTRATION_VERSION = "mibg.administration", 1


def _zone_text(zone: tzinfo | None) -> str | None:
    """A display zone by its IANA name (``America/Los_Angeles``), or a fixed one by its offset (``-08:00``)."""
    if zone is None:
        return None
    if isinstance(zone, ZoneInfo):
        return zone.key
    offset = zone.utcoffset(None)
    if offset is None:
        raise ValueError(f"time zone {zone!r} has no fixed offset and no IANA name")
    minutes = int(offset.total_seconds()) // 60
    return f"{'-' if minutes < 0 else '+'}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _zone_read(r: Reader, key: str) -> tzinfo | None:
    text = r.opt_text(key)
    if text is None:
        return None
    if text[:1] in "+-":
        try:
            hours, minutes = int(text[1:3]), int(text[4:6])
        except ValueError:
            raise ShapeError(f"{r.path}.{key}", f"'{text}' is not a UTC offset (+HH:MM)") from None
        sign = -1 if text[0] == "-" else 1
        return timezone(sign * timedelta(hours=hours, minutes=minutes))
    try:
        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise ShapeError(f"{r.path}.{key}", f"'{text}' is not a time zone") from None


def _deviation_read(r: Reader, actual: Activity, prescribed: Activity) -> Decimal:
    deviation = r.decimal("deviation_percent")
    if prescribed.mci <= 0 or deviation != deviation_percent(actual, prescribed):
        raise ShapeError(f"{r.path}.deviation_percent", f"{deviation} % is not the deviation of {actual.mci} mCi from "
                                                        f"the prescribed {prescribed.mci} mCi")
    return deviation


def check_assay(
    prescribed: Activity,
    measured_mci: object,
    measured_at: datetime,
    administration_time: datetime,
    protocol: ProtocolDefinition | None = None,
    display_zone: tzinfo | None = None,
) -> AssayCheck:
    """The 10 CFR 35.63 check. ``display_zone`` is the site's time zone: the message shows both times in it,
    with their UTC offset, never one in local time and the other in UTC."""
    protocol = protocol or load_protocol()
    measured = _activity("measured_activity_mci", measured_mci)
    correction = decay_correct(measured, _aware("measured_at", measured_at), _aware("administration_time", administration_time),
                               protocol.constant("i131_half_life_days"), "measured_at")
    tolerance = protocol.site("assay_tolerance_percent")
    deviation = deviation_percent(correction.activity_to, prescribed)
    return AssayCheck(prescribed, correction, deviation, tolerance, abs(deviation) <= tolerance, display_zone)


@dataclass(frozen=True, slots=True)
class AdministeredActivity:
    prescribed: Activity
    before: DecayCorrection  # pre-administration assay -> administration time
    residual: DecayCorrection  # residual assay -> administration time
    administered: Activity
    deviation_percent: Decimal
    medical_event_percent: Decimal
    possible_medical_event: bool

    @property
    def formula(self) -> str:
        return (f"A_adm = A_pre(t_adm) - A_res(t_adm) = {self.before.activity_to.mci.quantize(Decimal('0.01'))} mCi - "
                f"{self.residual.activity_to.mci.quantize(Decimal('0.01'))} mCi = "
                f"{self.administered.mci.quantize(Decimal('0.01'))} mCi")

    @property
    def message(self) -> str:
        shown = abs(self.deviation_percent).quantize(Decimal("0.01"))
        direction = "above" if self.deviation_percent >= 0 else "below"
        base = (f"Administered {self.administered.display()}, {shown} % {direction} the prescribed "
                f"{self.prescribed.display()}.")
        if self.possible_medical_event:
            return (base + f" A difference of {self.medical_event_percent} % or more: possible medical event "
                    "(10 CFR 35.3045). It stays open until a physician reviews it.")
        return base

    def to_json(self) -> JSON:
        """The administered activity's one exact shape (mibg.core.serial): both decay corrections, the
        difference, the deviation and the possible-medical-event flag (the last three checked on reading); the
        formula and the message are written for readers."""
        return {**envelope(ADMINISTRATION_SCHEMA, ADMINISTRATION_VERSION), "prescribed_mci": dec(self.prescribed.mci),
                "before": self.before.to_json(), "residual": self.residual.to_json(),
                "administered_mci": dec(self.administered.mci), "administered_mbq": dec(self.administered.mbq),
                "deviation_percent": dec(self.deviation_percent),
                "medical_event_percent": dec(self.medical_event_percent),
                "possible_medical_event": self.possible_medical_event, "formula": self.formula,
                "message": self.message}

    @classmethod
    def from_json(cls, data: object, path: str = "administration") -> AdministeredActivity:
        r = Reader.result(data, ADMINISTRATION_SCHEMA, ADMINISTRATION_VERSION, path)
        prescribed = Activity(r.decimal("prescribed_mci"))
        before = DecayCorrection.from_json(r.child("before"))
        residual = DecayCorrection.from_json(r.child("residual"))
        administered = Activity(r.decimal("administered_mci"))
        if administered.mci != before.activity_to.mci - residual.activity_to.mci:
            raise ShapeError(f"{path}.administered_mci", f"{administered.mci} mCi is not the assay minus the residual, "
                                                         "both decay-corrected to the administration time")
        r.check("administered_mbq", dec(administered.mbq))
        deviation = _deviation_read(r, administered, prescribed)
        threshold = r.decimal("medical_event_percent")
        r.check("possible_medical_event", abs(deviation) >= threshold)
        return cls(prescribed, before, residual, administered, deviation, threshold, abs(deviation) >= threshold)


def administered_activity(
    prescribed: Activity,
    pre_mci: object,
    pre_measured_at: datetime,
    residual_mci: object,
    residual_measured_at: datetime,
    administration_time: datetime,
    protocol: ProtocolDefinition | None = None,
) -> AdministeredActivity:
    protocol = protocol or load_protocol()
    half_life = protocol.constant("i131_half_life_days")
    t_adm = _aware("administration_time", administration_time)
    before = decay_correct(_activity("pre_assay_mci", pre_mci), _aware("pre_measured_at", pre_measured_at), t_adm, half_life,
                           "pre_measured_at")
    residual = decay_correct(_residual("residual_mci", residual_mci), _aware("residual_measured_at", residual_measured_at),
                             t_adm, half_life, "residual_measured_at")
    if residual.activity_to.mci > before.activity_to.mci:
        raise InputError("residual_mci", "the residual, decay-corrected, is more than the assayed dose: check the readings")
    administered = Activity(before.activity_to.mci - residual.activity_to.mci)
    threshold = protocol.site("medical_event_percent")
    deviation = deviation_percent(administered, prescribed)
    return AdministeredActivity(prescribed, before, residual, administered, deviation, threshold, abs(deviation) >= threshold)


#: The module's public surface: what the other layers may import (tests/unit/test_architecture.py).
__all__ = [
    "HUNDRED",
    "AdministeredActivity",
    "AssayCheck",
    "administered_activity",
    "check_assay",
    "deviation_percent",
]

"""Blood-count nadir and recovery after one 131I-MIBG course (issue 5).

Inputs: the infusion date-time, the ANC and platelet series in 10^9/L, the haemoglobin series in g/dL (each a
time and a value in the canonical unit of mibg.core.labs) and the transfusions (product, time). Outputs per
series: the nadir and its day, the days below the CTCAE v5.0 grade 4 threshold, and the points and grade
bands a plot needs; for the course, the day of count recovery with the rule that found it.

Rules, stated once here and repeated in every result:

* **Day numbering.** Day N is N calendar days after the infusion day, counted in the infusion's own time zone
  (UTC offset): the infusion day is day 0. (NANT publications count the infusion day as day 1.) Only
  measurements at or after the infusion time enter the nadir, the day counts and recovery; earlier ones are
  plotted as baseline at negative days.
* **Grade 4 thresholds** come from ``ctcae_v5.json`` (clinical-reference §6.1): ANC < 0.5 x 10^9/L, platelets
  < 25 x 10^9/L (strict, as CTCAE writes them). Haemoglobin has no value-based grade 4 (anemia grade 4 is
  clinical), so no day count is given for it.
* **Days below a threshold** are counted by calendar day, from the first to the last measured day after the
  infusion: a day with measurements is below when its lowest value is below; a day without a measurement
  keeps the state of the last measured day before it (last value carried forward); nothing is counted after
  the last measurement. Counts are taken as measured: a platelet count raised by a transfusion is not below.
* **Recovery** (site parameters ``recovery_anc_10e9_per_l``, ``recovery_platelets_10e9_per_l``,
  ``transfusion_lookback_days`` of the protocol definition; decisions.md A8 for the transfusion window):
  the counts have *fallen* on the first day after the infusion with ANC <= the ANC threshold, platelets <= the
  platelet threshold, or a platelet transfusion. After that, a day *qualifies* when both counts were measured
  that day, every ANC that day is > the ANC threshold, every platelet count is > the platelet threshold, no
  platelet count that day lies within the lookback window after a platelet transfusion (inclusive: at most
  7 x 24 h after it), and no platelet transfusion is given that day. A day *fails* when any of those values
  fails; a day with only one count measured and passing is not an assessment and neither qualifies nor breaks
  a run. **Sustained:** the recovery day is the first qualifying day that is followed by qualifying days so
  that ``sustained_assessments`` (default 2) assessed days in a row qualify, with no failing day between. A
  qualifying run at the end of the data that is still too short is reported as "not yet confirmed".

Values are exact ``Decimal``; comparisons never use floats.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from mibg.core.ctcae import BandEdge, band_edges, term_definition, term_for_test
from mibg.core.errors import InputError
from mibg.core.labs import LABS, LabValue
from mibg.core.serial import JSON, Reader, dec, envelope, moment
from mibg.core.serial import day as iso_day
from mibg.core.times import site_date, site_time
from mibg.core.units import parse_aware_datetime
from mibg.core.vocabulary import TransfusionProduct
from mibg.protocol import ProtocolDefinition, load_protocol

#: Assessed days in a row that must qualify for recovery to count as sustained (product choice, documented
#: above; CIBMTR engraftment uses three). Not yet a site parameter of the protocol definition.
SUSTAINED_ASSESSMENTS = 2

DAY_RULE = (
    "Day N = N calendar days after the infusion day, in the infusion's UTC offset (infusion day = day 0). "
    "Days below a threshold: by calendar day from the first to the last measured day after the infusion; a day "
    "is below when its lowest value is below; unmeasured days keep the last measured state."
)

_SECONDS_PER_DAY = Decimal(86400)

DayOf = Callable[[datetime], int]  # a time -> its calendar day after the infusion
Supported = Callable[[datetime], "datetime | None"]  # a time -> the platelet transfusion it is within lookback of


SUSTAINED_SOURCE = "product choice in mibg.core.recovery (not yet a site parameter; needs a clinical decision)"


@dataclass(frozen=True, slots=True)
class Parameter:
    """A number the recovery rule used, with its source (a site parameter of the protocol definition)."""

    name: str
    value: Decimal
    unit: str
    source: str


class RecoveryStatus(StrEnum):
    RECOVERED = "recovered"
    UNCONFIRMED = "not yet confirmed"
    NOT_RECOVERED = "not recovered"
    NOT_SUPPRESSED = "counts did not fall"
    NO_DATA = "no data"


@dataclass(frozen=True, slots=True)
class Measurement:
    """One value of a series at a timezone-aware time, in the series' canonical unit (10^9/L or g/dL)."""

    at: datetime
    value: Decimal


@dataclass(frozen=True, slots=True)
class TransfusionEvent:
    product: TransfusionProduct
    at: datetime


@dataclass(frozen=True, slots=True)
class PlotPoint:
    at: datetime
    day: int  # calendar day after the infusion (day 0 = infusion day)
    elapsed_days: Decimal  # exact elapsed time since the infusion / 24 h, for the x axis
    value: Decimal
    transfusion_supported: bool = False  # a platelet count within the lookback after a platelet transfusion


@dataclass(frozen=True, slots=True)
class TransfusionMark:
    product: str
    at: datetime
    day: int
    elapsed_days: Decimal


@dataclass(frozen=True, slots=True)
class SeriesSummary:
    """One series after the infusion. Values in ``unit``; days are calendar days after the infusion."""

    test: str
    term: str  # the CTCAE term key of the series
    unit: str
    points: tuple[PlotPoint, ...]  # every measurement, baseline ones at negative days
    nadir: Decimal | None
    nadir_at: datetime | None
    nadir_day: int | None
    grade4_below: Decimal | None  # values below this are CTCAE grade 4; None for haemoglobin
    days_below_grade4: int | None
    first_day_below_grade4: int | None
    last_day_below_grade4: int | None
    below_grade4_at_last_measurement: bool | None
    recovery_threshold: Decimal | None  # recovery needs values above this (ANC, platelets)
    bands: tuple[BandEdge, ...]  # CTCAE grade bands in ``unit`` (grade 1 only when an LLN was given)

    def to_json(self) -> JSON:
        return {
            "test": self.test,
            "term": self.term,
            "unit": self.unit,
            "nadir": dec(self.nadir),
            "nadir_at": moment(self.nadir_at),
            "nadir_day": self.nadir_day,
            "grade4_below": dec(self.grade4_below),
            "days_below_grade4": self.days_below_grade4,
            "first_day_below_grade4": self.first_day_below_grade4,
            "last_day_below_grade4": self.last_day_below_grade4,
            "below_grade4_at_last_measurement": self.below_grade4_at_last_measurement,
            "recovery_threshold": dec(self.recovery_threshold),
            "points": [
                {"at": moment(p.at), "day": p.day, "elapsed_days": dec(p.elapsed_days), "value": dec(p.value),
                 "transfusion_supported": p.transfusion_supported}
                for p in self.points
            ],
            "bands": [
                {"grade": b.grade, "lower": dec(b.lower), "upper": dec(b.upper), "lower_inclusive": b.lower_inclusive,
                 "upper_inclusive": b.upper_inclusive, "text": b.text}
                for b in self.bands
            ],
        }

    @classmethod
    def from_json(cls, r: Reader) -> SeriesSummary:
        return cls(
            test=r.text("test"), term=r.text("term"), unit=r.text("unit"),
            points=r.each("points", lambda p: PlotPoint(p.time("at"), p.integer("day"), p.decimal("elapsed_days"),
                                                        p.decimal("value"), p.boolean("transfusion_supported"))),
            nadir=r.opt_decimal("nadir"), nadir_at=r.opt_time("nadir_at"), nadir_day=r.opt_integer("nadir_day"),
            grade4_below=r.opt_decimal("grade4_below"), days_below_grade4=r.opt_integer("days_below_grade4"),
            first_day_below_grade4=r.opt_integer("first_day_below_grade4"),
            last_day_below_grade4=r.opt_integer("last_day_below_grade4"),
            below_grade4_at_last_measurement=r.opt_boolean("below_grade4_at_last_measurement"),
            recovery_threshold=r.opt_decimal("recovery_threshold"),
            bands=r.each("bands", lambda b: BandEdge(b.integer("grade"), b.opt_decimal("lower"), b.opt_decimal("upper"),
                                                     b.boolean("lower_inclusive"), b.boolean("upper_inclusive"),
                                                     b.text("text"))))


@dataclass(frozen=True, slots=True)
class DayAssessment:
    """The recovery test of one calendar day after the infusion: "qualifies", "fails" or "not assessed"."""

    day: int
    anc: Decimal | None  # lowest ANC of the day, 10^9/L
    platelets: Decimal | None  # lowest platelet count of the day, 10^9/L
    state: str
    reasons: tuple[str, ...]
    counts_low: bool = False  # ANC or platelets at or below the recovery threshold
    platelet_transfusion: bool = False  # a platelet transfusion given this day
    transfusion_supported: bool = False  # a platelet count within the lookback after a platelet transfusion

    @property
    def blocked_only_by_transfusion(self) -> bool:
        """Both counts above the thresholds, failing only for the transfusion condition."""
        both = self.anc is not None and self.platelets is not None
        return both and not self.counts_low and (self.platelet_transfusion or self.transfusion_supported)


@dataclass(frozen=True, slots=True)
class Recovery:
    status: RecoveryStatus
    day: int | None
    on: date | None  # the calendar date of ``day`` in the infusion's time zone
    fell_on_day: int | None
    delayed_by_transfusion: tuple[int, ...]  # days that met the count thresholds but for a platelet transfusion
    later_failures: tuple[int, ...]  # days after a confirmed recovery day on which the test failed again
    assessments: tuple[DayAssessment, ...]
    explanation: str
    rule: str


@dataclass(frozen=True, slots=True)
class CourseRecovery:
    infusion_at: datetime
    anc: SeriesSummary
    platelets: SeriesSummary
    hemoglobin: SeriesSummary
    transfusions: tuple[TransfusionMark, ...]
    recovery: Recovery
    parameters: tuple[Parameter, ...]
    day_rule: str
    protocol_label: str

    def to_json(self) -> JSON:
        """The count recovery's one exact shape (mibg.core.serial): every count as exact text in its canonical
        unit, every time with its offset, each day's test with its reasons, the parameters with their source."""
        r = self.recovery
        return {
            **envelope(RECOVERY_SCHEMA, RECOVERY_VERSION),
            "infusion_at": moment(self.infusion_at),
            "protocol": self.protocol_label,
            "day_rule": self.day_rule,
            "parameters": [
                {"name": p.name, "value": dec(p.value), "unit": p.unit, "source": p.source} for p in self.parameters
            ],
            "series": {s.test: s.to_json() for s in (self.anc, self.platelets, self.hemoglobin)},
            "transfusions": [
                {"product": str(t.product), "at": moment(t.at), "day": t.day, "elapsed_days": dec(t.elapsed_days)}
                for t in self.transfusions
            ],
            "recovery": {
                "status": str(r.status),
                "day": r.day,
                "date": iso_day(r.on),
                "fell_on_day": r.fell_on_day,
                "delayed_by_transfusion": list(r.delayed_by_transfusion),
                "later_failures": list(r.later_failures),
                "explanation": r.explanation,
                "rule": r.rule,
                "assessments": [
                    {"day": a.day, "anc": dec(a.anc), "platelets": dec(a.platelets), "state": a.state,
                     "reasons": list(a.reasons), "counts_low": a.counts_low,
                     "platelet_transfusion": a.platelet_transfusion, "transfusion_supported": a.transfusion_supported}
                    for a in r.assessments
                ],
            },
        }

    @classmethod
    def from_json(cls, data: object, path: str = "recovery") -> CourseRecovery:
        r = Reader.result(data, RECOVERY_SCHEMA, RECOVERY_VERSION, path)
        series = r.child("series")
        rec = r.child("recovery")
        recovery = Recovery(
            status=rec.enum("status", RecoveryStatus), day=rec.opt_integer("day"), on=rec.opt_day("date"),
            fell_on_day=rec.opt_integer("fell_on_day"),
            delayed_by_transfusion=_integers(rec, "delayed_by_transfusion"),
            later_failures=_integers(rec, "later_failures"),
            assessments=rec.each("assessments", lambda a: DayAssessment(
                a.integer("day"), a.opt_decimal("anc"), a.opt_decimal("platelets"), a.text("state"), a.texts("reasons"),
                a.boolean("counts_low"), a.boolean("platelet_transfusion"), a.boolean("transfusion_supported"))),
            explanation=rec.text("explanation"), rule=rec.text("rule"))
        return cls(
            infusion_at=r.time("infusion_at"),
            anc=SeriesSummary.from_json(series.child("anc")),
            platelets=SeriesSummary.from_json(series.child("platelets")),
            hemoglobin=SeriesSummary.from_json(series.child("hemoglobin")),
            transfusions=r.each("transfusions", lambda t: TransfusionMark(t.text("product"), t.time("at"), t.integer("day"),
                                                                          t.decimal("elapsed_days"))),
            recovery=recovery,
            parameters=r.each("parameters", lambda p: Parameter(p.text("name"), p.decimal("value"), p.text("unit"),
                                                                p.text("source"))),
            day_rule=r.text("day_rule"), protocol_label=r.text("protocol"))


RECOVERY_SCHEMA, RECOVERY_VERSION = "mibg.recovery", 1


def _integers(r: Reader, key: str) -> tuple[int, ...]:
    return tuple(item.integer("v") for item in (Reader({"v": v}, f"{r.path}.{key}[{i}]")
                                                for i, v in enumerate(r.raw(key) or [])))


def series_from_labs(labs: Iterable[LabValue], test: str) -> tuple[Measurement, ...]:
    """The ``test`` values of ``labs`` as a series (canonical unit); each must carry its collection time."""
    series = []
    for index, lab in enumerate(labs):
        if lab.test != test:
            continue
        if lab.collected_at is None:
            raise InputError(f"labs[{index}].collected_at", "a value in a series needs its collection time")
        series.append(Measurement(lab.collected_at, lab.value))
    return tuple(series)


def course_recovery(
    infusion_at: datetime,
    *,
    anc: Iterable[Measurement],
    platelets: Iterable[Measurement],
    hemoglobin: Iterable[Measurement] = (),
    transfusions: Iterable[TransfusionEvent] = (),
    protocol: ProtocolDefinition | None = None,
    lln: Mapping[str, Decimal] | None = None,
    sustained_assessments: int = SUSTAINED_ASSESSMENTS,
) -> CourseRecovery:
    """Nadirs, days below grade 4 and the recovery day of one course (rules in the module docstring).

    ``lln`` (test key -> LLN in the canonical unit) only adds the grade 1 band to the plot data.
    Raises :class:`InputError` naming the bad item, e.g. ``anc[2].at`` for a time without a UTC offset.
    """
    infusion_at = parse_aware_datetime("infusion_at", infusion_at)
    if sustained_assessments < 1:
        raise InputError("sustained_assessments", "must be 1 or more")
    definition = protocol or load_protocol()
    anc_threshold = definition.site("recovery_anc_10e9_per_l")
    platelet_threshold = definition.site("recovery_platelets_10e9_per_l")
    lookback_days = definition.site("transfusion_lookback_days")
    lookback = _days(lookback_days)

    anc_series = _checked("anc", anc)
    platelet_series = _checked("platelets", platelets)
    hemoglobin_series = _checked("hemoglobin", hemoglobin)
    events = _checked_transfusions(transfusions)
    platelet_transfusions = [e.at for e in events if e.product is TransfusionProduct.PLATELETS]

    def day_of(moment: datetime) -> int:
        return (site_date(moment) - site_date(infusion_at)).days

    def supported(moment: datetime) -> datetime | None:
        """The platelet transfusion within the lookback before ``moment``, if any (the latest)."""
        within = [t for t in platelet_transfusions if t <= moment <= t + lookback]
        return max(within) if within else None

    limits = lln or {}
    summaries = {
        "anc": _summary("anc", anc_series, infusion_at, day_of, anc_threshold, limits, None),
        "platelets": _summary("platelets", platelet_series, infusion_at, day_of, platelet_threshold, limits, supported),
        "hemoglobin": _summary("hemoglobin", hemoglobin_series, infusion_at, day_of, None, limits, None),
    }
    recovery = _recovery(
        infusion_at,
        [m for m in anc_series if m.at >= infusion_at],
        [m for m in platelet_series if m.at >= infusion_at],
        [t for t in platelet_transfusions if t >= infusion_at],
        day_of,
        supported,
        anc_threshold,
        platelet_threshold,
        lookback_days,
        sustained_assessments,
    )
    site = definition.site_parameters
    parameters = (
        *(
            Parameter(name, definition.site(name), site[name].unit, site[name].source)
            for name in ("recovery_anc_10e9_per_l", "recovery_platelets_10e9_per_l", "transfusion_lookback_days")
        ),
        Parameter("sustained_assessments", Decimal(sustained_assessments), "assessed days", SUSTAINED_SOURCE),
    )
    return CourseRecovery(
        infusion_at=infusion_at,
        anc=summaries["anc"],
        platelets=summaries["platelets"],
        hemoglobin=summaries["hemoglobin"],
        transfusions=tuple(
            TransfusionMark(str(e.product), e.at, day_of(e.at), _elapsed_days(infusion_at, e.at)) for e in events
        ),
        recovery=recovery,
        parameters=parameters,
        day_rule=DAY_RULE,
        protocol_label=definition.label,
    )


# --- Series ----------------------------------------------------------------------------------------------------


def _summary(
    test: str,
    series: Sequence[Measurement],
    infusion_at: datetime,
    day_of: DayOf,
    recovery_threshold: Decimal | None,
    lln: Mapping[str, Decimal],
    supported: Supported | None,
) -> SeriesSummary:
    term = term_for_test(test)
    grade4 = _grade4_below(term)
    points = tuple(
        PlotPoint(
            at=m.at,
            day=day_of(m.at),
            elapsed_days=_elapsed_days(infusion_at, m.at),
            value=m.value,
            transfusion_supported=supported is not None and supported(m.at) is not None,
        )
        for m in series
    )
    after = [p for p in points if p.at >= infusion_at]
    nadir = min(after, key=lambda p: p.value) if after else None  # min keeps the first of equal values
    below = _days_below(after, grade4) if grade4 is not None and after else None
    return SeriesSummary(
        test=test,
        term=term,
        unit=LABS[test].display_unit,
        points=points,
        nadir=None if nadir is None else nadir.value,
        nadir_at=None if nadir is None else nadir.at,
        nadir_day=None if nadir is None else nadir.day,
        grade4_below=grade4,
        days_below_grade4=None if below is None else below[0],
        first_day_below_grade4=None if below is None else below[1],
        last_day_below_grade4=None if below is None else below[2],
        below_grade4_at_last_measurement=None if below is None or grade4 is None else after[-1].value < grade4,
        recovery_threshold=recovery_threshold,
        bands=band_edges(term, lln=lln.get(test)),
    )


def _grade4_below(term: str) -> Decimal | None:
    """The absolute threshold of grade 4 ("< t") of a decreased term; None when grade 4 is clinical."""
    band = term_definition(term).band(4)
    if band.clinical_only:
        return None
    bound = band.upper
    if band.lower is not None or bound is None or bound.comparison != "<" or bound.relative_to != "absolute":
        raise ValueError(f"{term}: grade 4 is not of the form '< threshold'")
    return bound.value


def _days_below(points: Sequence[PlotPoint], threshold: Decimal) -> tuple[int, int | None, int | None]:
    """(days below, first such day, last such day) by calendar day with the last state carried forward."""
    lowest: dict[int, Decimal] = {}
    for p in points:
        lowest[p.day] = min(lowest.get(p.day, p.value), p.value)
    count, first, last = 0, None, None
    below = False
    for day in range(min(lowest), max(lowest) + 1):
        if day in lowest:
            below = lowest[day] < threshold
        if below:
            count += 1
            first = day if first is None else first
            last = day
    return count, first, last


# --- Recovery --------------------------------------------------------------------------------------------------


def _recovery(
    infusion_at: datetime,
    anc: Sequence[Measurement],
    platelets: Sequence[Measurement],
    platelet_transfusions: Sequence[datetime],
    day_of: DayOf,
    supported: Supported,
    anc_threshold: Decimal,
    platelet_threshold: Decimal,
    lookback_days: Decimal,
    sustained: int,
) -> Recovery:
    rule = (
        f"Recovery day: the first day after the counts fell on which ANC > {anc_threshold} x 10^9/L and platelets > "
        f"{platelet_threshold} x 10^9/L (both measured that day, every value of the day), with no platelet count "
        f"that day within {lookback_days} days after a platelet transfusion and no platelet transfusion that day, "
        f"sustained over {sustained} assessed days in a row. The counts fell on the first day with ANC <= "
        f"{anc_threshold}, platelets <= {platelet_threshold} or a platelet transfusion. {DAY_RULE}"
    )
    if not anc and not platelets:
        return Recovery(RecoveryStatus.NO_DATA, None, None, None, (), (), (), "No ANC or platelet count after the infusion.", rule)
    days = sorted({day_of(m.at) for m in (*anc, *platelets)} | {day_of(t) for t in platelet_transfusions})
    assessments = [
        _assess(day, anc, platelets, platelet_transfusions, day_of, supported, anc_threshold, platelet_threshold, lookback_days)
        for day in days
    ]
    fell = next((a.day for a in assessments if a.counts_low or a.platelet_transfusion), None)
    if fell is None:
        return Recovery(
            RecoveryStatus.NOT_SUPPRESSED,
            None,
            None,
            None,
            (),
            (),
            tuple(assessments),
            f"ANC stayed above {anc_threshold} and platelets above {platelet_threshold} x 10^9/L with no platelet "
            f"transfusion after the infusion: there was no fall to recover from.",
            rule,
        )

    after = [a for a in assessments if a.day > fell and a.state != "not assessed"]
    delayed = tuple(a.day for a in after if a.blocked_only_by_transfusion)
    start = _first_run(after, sustained)
    on_day = None if start is None else after[start].day
    if start is not None and on_day is not None:
        later = tuple(a.day for a in after[start + sustained :] if a.state == "fails")
        text = (
            f"Counts fell on day {fell}; recovered on day {on_day}: ANC {after[start].anc} and platelets "
            f"{after[start].platelets} x 10^9/L, sustained over {sustained} assessed days "
            f"(days {', '.join(str(a.day) for a in after[start : start + sustained])})."
        )
        if delayed:
            text += f" {_days_text(delayed)} met the counts but not the transfusion condition."
        if later:
            text += f" The test failed again later on {_days_text(later).lower()}."
        return Recovery(
            RecoveryStatus.RECOVERED, on_day, _date_of(infusion_at, on_day), fell, delayed, later, tuple(assessments), text, rule
        )
    tail = _trailing_run(after)
    if tail is not None:
        day = after[tail].day
        return Recovery(
            RecoveryStatus.UNCONFIRMED,
            day,
            _date_of(infusion_at, day),
            fell,
            delayed,
            (),
            tuple(assessments),
            f"Counts fell on day {fell}; they qualify from day {day} but only {len(after) - tail} assessed day(s) "
            f"so far; {sustained} in a row are needed to confirm recovery.",
            rule,
        )
    text = f"Counts fell on day {fell} and have not recovered by the last assessment"
    text += f" (day {after[-1].day})." if after else "."
    if delayed:
        text += f" {_days_text(delayed)} met the counts but not the transfusion condition."
    return Recovery(RecoveryStatus.NOT_RECOVERED, None, None, fell, delayed, (), tuple(assessments), text, rule)


def _assess(
    day: int,
    anc: Sequence[Measurement],
    platelets: Sequence[Measurement],
    platelet_transfusions: Sequence[datetime],
    day_of: DayOf,
    supported: Supported,
    anc_threshold: Decimal,
    platelet_threshold: Decimal,
    lookback_days: Decimal,
) -> DayAssessment:
    day_anc = [m.value for m in anc if day_of(m.at) == day]
    day_platelets = [m for m in platelets if day_of(m.at) == day]
    lowest_anc = min(day_anc, default=None)
    lowest_platelets = min((m.value for m in day_platelets), default=None)
    reasons = []
    if lowest_anc is not None and lowest_anc <= anc_threshold:
        reasons.append(f"ANC {lowest_anc} <= {anc_threshold} x 10^9/L")
    if lowest_platelets is not None and lowest_platelets <= platelet_threshold:
        reasons.append(f"platelets {lowest_platelets} <= {platelet_threshold} x 10^9/L")
    counts_low = bool(reasons)
    supported_counts = [(m, source) for m in day_platelets if (source := supported(m.at)) is not None]
    reasons += [
        f"platelet count {m.value} at {site_time(m.at)} is within {lookback_days} days after the platelet "
        f"transfusion of day {day_of(source)} ({source.isoformat()})"
        for m, source in supported_counts
    ]
    transfused = any(day_of(t) == day for t in platelet_transfusions)
    if transfused:
        reasons.append(f"platelet transfusion given on day {day}")
    if reasons:
        state = "fails"
    elif lowest_anc is not None and lowest_platelets is not None:
        state = "qualifies"
    else:
        state = "not assessed"
        reasons.append("only one of ANC and platelets measured")
    return DayAssessment(
        day=day,
        anc=lowest_anc,
        platelets=lowest_platelets,
        state=state,
        reasons=tuple(reasons),
        counts_low=counts_low,
        platelet_transfusion=transfused,
        transfusion_supported=bool(supported_counts),
    )


def _first_run(assessments: Sequence[DayAssessment], length: int) -> int | None:
    """Index of the first run of ``length`` qualifying assessed days in a row."""
    run = 0
    for index, a in enumerate(assessments):
        run = run + 1 if a.state == "qualifies" else 0
        if run == length:
            return index - length + 1
    return None


def _trailing_run(assessments: Sequence[DayAssessment]) -> int | None:
    """Index where the final run of qualifying days starts, if the last assessed day qualifies."""
    index = len(assessments)
    while index > 0 and assessments[index - 1].state == "qualifies":
        index -= 1
    return index if index < len(assessments) else None


# --- Input checks and small helpers ----------------------------------------------------------------------------


def _checked(name: str, series: Iterable[Measurement]) -> tuple[Measurement, ...]:
    checked = []
    for index, m in enumerate(series):
        moment = parse_aware_datetime(f"{name}[{index}].at", m.at)
        if not isinstance(m.value, Decimal) or not m.value.is_finite() or m.value < 0:
            raise InputError(f"{name}[{index}].value", f"'{m.value}' is not a finite Decimal >= 0")
        checked.append(Measurement(moment, m.value))
    return tuple(sorted(checked, key=lambda m: m.at))


def _checked_transfusions(events: Iterable[TransfusionEvent]) -> tuple[TransfusionEvent, ...]:
    checked = []
    for index, event in enumerate(events):
        moment = parse_aware_datetime(f"transfusions[{index}].at", event.at)
        try:
            product = TransfusionProduct(event.product)
        except ValueError:
            known = ", ".join(p.value for p in TransfusionProduct)
            raise InputError(f"transfusions[{index}].product", f"'{event.product}' is not one of: {known}") from None
        checked.append(TransfusionEvent(product, moment))
    return tuple(sorted(checked, key=lambda e: e.at))


def _days(days: Decimal) -> timedelta:
    """An exact number of days (site parameter) as a timedelta, to the microsecond."""
    microseconds = days * _SECONDS_PER_DAY * 1_000_000
    if microseconds != microseconds.to_integral_value() or microseconds < 0:
        raise ValueError(f"transfusion_lookback_days {days} is not a whole number of microseconds >= 0")
    return timedelta(microseconds=int(microseconds))


def _elapsed_days(start: datetime, end: datetime) -> Decimal:
    delta = end - start
    seconds = Decimal(delta.days) * _SECONDS_PER_DAY + Decimal(delta.seconds) + Decimal(delta.microseconds) / 1_000_000
    return seconds / _SECONDS_PER_DAY


def _date_of(infusion_at: datetime, day: int) -> date:
    return site_date(infusion_at) + timedelta(days=day)


def _days_text(days: Sequence[int]) -> str:
    return f"Day {days[0]}" if len(days) == 1 else f"Days {', '.join(map(str, days))}"


#: The module's public surface: what the other layers may import (tests/unit/test_architecture.py).
__all__ = [
    "DAY_RULE",
    "SUSTAINED_ASSESSMENTS",
    "SUSTAINED_SOURCE",
    "CourseRecovery",
    "DayAssessment",
    "DayOf",
    "Measurement",
    "Parameter",
    "PlotPoint",
    "Recovery",
    "RecoveryStatus",
    "SeriesSummary",
    "Supported",
    "TransfusionEvent",
    "TransfusionMark",
    "course_recovery",
    "series_from_labs",
]

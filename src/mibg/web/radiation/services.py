"""Readings, dosimetry, release and stem-cell rescue for one course: the web side of clinical-reference §3-§4.

The numbers come from the core only: :func:`mibg.core.dosimetry.retention_fit` and
:func:`~mibg.core.dosimetry.whole_body_dose`, :func:`mibg.core.release.release_assessment`,
:func:`mibg.core.rescue.stem_cell_rescue`. This module turns the stored readings into the core's inputs (hours
after the start of the infusion, exact decimals), checks what a person enters, and records every change in the
audit trail in the same transaction as the change.

Release rests on a measured reading: it needs the site limit (decisions.md "Release": the site's rule, with no
override) and a federal criterion of 10 CFR 35.75 met at the last reading; the step itself goes through the
course state machine, which refuses an illegal one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mibg.core import course_state
from mibg.core.chronology import Event, clock_tolerance, stem_cell_day
from mibg.core.course_state import CourseFacts, CourseState
from mibg.core.dosimetry import (
    Reading,
    RetentionFit,
    WholeBodyDose,
    retention_fit,
    whole_body_dose,
)
from mibg.core.errors import InputError
from mibg.core.readings import Infusion, OtherReading, ReadingEntry, reading_problems
from mibg.core.release import (
    ReleaseAssessment,
    ReleaseCriterion,
    clock_time,
    family_precautions,
    release_assessment,
)
from mibg.core.rescue import AncRescue, RescueAssessment, StoredProduct, anc_rescue, stem_cell_rescue
from mibg.protocol import ProtocolDefinition, load_protocol
from mibg.web import plotcache
from mibg.web.audit.trail import field_values, log_changes
from mibg.web.corrections import supersede
from mibg.web.courses import timeline
from mibg.web.courses.models import Course
from mibg.web.courses.services import advance
from mibg.web.errors import BadEntry, Refused
from mibg.web.page_reads import once
from mibg.web.radiation.models import ExposureReading, ReleaseRecord, StemCellInfusion
from mibg.web.safety import update_versioned
from mibg.web.templatetags.mibg import num, when
from mibg.web.treatment.models import Administration

#: Readings are taken between the administration and the release; afterwards the release rests on them.
READING_STATES = frozenset({CourseState.ADMINISTERED, CourseState.INPATIENT})
#: Stem cells are given after the 131I-MIBG infusion (decisions.md Dose "Stem-cell infusion").
STEM_CELL_STATES = frozenset({CourseState.ADMINISTERED, CourseState.INPATIENT, CourseState.RELEASED,
                              CourseState.FOLLOW_UP})
SECONDS_PER_HOUR = Decimal(3600)


# ---- readings ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReadingInput:
    measured_at: datetime
    mr_per_h: Decimal
    background_mr_per_h: Decimal | None
    before_first_void: bool
    instrument_id: str
    instrument_calibration_due: date
    measured_by: str
    note: str = ""

    def fields(self) -> dict[str, Any]:
        return {"measured_at": self.measured_at, "mr_per_h": self.mr_per_h,
                "background_mr_per_h": self.background_mr_per_h, "before_first_void": self.before_first_void,
                "instrument_id": self.instrument_id.strip(), "instrument_calibration_due": self.instrument_calibration_due,
                "measured_by": self.measured_by.strip(), "note": self.note.strip()}


def administration_of(course: Course) -> Administration | None:
    """The course's administration (A0 at the start of the infusion, the weight of its directive)."""
    from mibg.web.courses.services import latest_administration

    administration: Administration | None = latest_administration(course)
    return administration


def release_record(course: Course) -> ReleaseRecord | None:
    """The course's signed release, with the reading it rests on."""
    return once(course, "release", lambda: ReleaseRecord.objects.filter(course=course).select_related("reading").first())


def active_readings(course: Course) -> list[ExposureReading]:
    return list(course.exposure_readings.filter(voided_at__isnull=True).order_by("measured_at", "id"))


def _check_open(course: Course) -> None:
    state = course.state_enum
    if state in READING_STATES:
        return
    if course_state.is_before(state, CourseState.ADMINISTERED):
        raise Refused(_("Readings start after the administration; this course is '%(state)s'.")
                      % {"state": state.label})
    raise Refused(_("This course is '%(state)s': its readings are locked, because the release record rests on them.")
                  % {"state": state.label})


def reading_errors(entry: ReadingInput, administration: Administration | None,
                   others: Sequence[ExposureReading]) -> dict[str | None, str]:
    """Every problem with ``entry`` beside the course's other active readings, by field (empty: it can be stored).
    The rules are the core's (:func:`mibg.core.readings.reading_problems`)."""
    infusion = None if administration is None else Infusion(administration.started_at, administration.ended_at)
    return reading_problems(
        ReadingEntry(timezone.localtime(entry.measured_at), entry.mr_per_h, entry.background_mr_per_h, entry.before_first_void,
                     entry.instrument_id, entry.instrument_calibration_due, entry.measured_by),
        infusion, [OtherReading(o.measured_at, o.mr_per_h, o.before_first_void) for o in others],
        now=timezone.now(), local_date=timezone.localdate, show=when)


def _locked_course(course: Course) -> Course:
    """The course row, locked until the end of the transaction: readings and the release are serialised."""
    return Course.objects.select_for_update().select_related("patient").get(pk=course.pk)


def record_reading(user: Any, course: Course, entry: ReadingInput) -> ExposureReading:
    with transaction.atomic():
        course = _locked_course(course)
        _check_open(course)
        errors = reading_errors(entry, administration_of(course), active_readings(course))
        if errors:
            raise BadEntry(errors)
        reading = ExposureReading.objects.create(course=course, recorded_by=user, **entry.fields())
        log_changes(user, "create", reading, course.patient)
    return reading


def correct_reading(user: Any, reading: ExposureReading, version: int, entry: ReadingInput, reason: str) -> ExposureReading:
    """A correction of a reading (a typing error, the wrong meter), with the reason (decisions.md A37): the reading is
    not edited; it is voided as superseded and the corrected reading is a new entry that names it."""
    with transaction.atomic():
        course = _locked_course(reading.course)
        _check_open(course)
        if not reading.active:
            raise Refused(_("This reading is void; enter a new reading instead."))
        others = [r for r in active_readings(course) if r.pk != reading.pk]
        errors = reading_errors(entry, administration_of(course), others)
        if not reason.strip():
            errors.setdefault("reason", "Give the reason for the correction.")
        if errors:
            raise BadEntry(errors)
        before = field_values(reading)
        update_versioned(reading, version, {"voided_at": timezone.now(), "voided_by": user,
                                            "void_reason": f"superseded by a correction: {reason.strip()}"}, "This reading")
        log_changes(user, "void", reading, course.patient, before, note=f"superseded by a correction: {reason.strip()}")
        new = ExposureReading.objects.create(course=course, recorded_by=user, supersedes=reading,
                                             correction_reason=reason.strip(), **entry.fields())
        log_changes(user, "create", new, course.patient, note=f"correction: {reason.strip()}")
    return new


def void_reading(user: Any, reading: ExposureReading, version: int, reason: str) -> None:
    """Take a reading out of the dosimetry (wrong patient, wrong distance). It stays on record, marked void."""
    with transaction.atomic():
        course = _locked_course(reading.course)
        _check_open(course)
        if not reading.active:
            raise Refused(_("This reading is already void."))
        if not reason.strip():
            raise BadEntry({"reason": _("Give the reason the reading is void.")})
        before = field_values(reading)
        update_versioned(reading, version, {"voided_at": timezone.now(), "voided_by": user, "void_reason": reason.strip()},
                         "This reading")
        log_changes(user, "void", reading, course.patient, before, note=f"void: {reason.strip()}")


# ---- dosimetry --------------------------------------------------------------------------------------------


def hours_after(start: datetime, moment: datetime) -> Decimal:
    """Exact hours from ``start`` to ``moment`` (to the microsecond)."""
    delta = moment - start
    seconds = Decimal(delta.days * 86400 + delta.seconds) + Decimal(delta.microseconds) / Decimal(10**6)
    return seconds / SECONDS_PER_HOUR


def stored_products(course: Course) -> tuple[StoredProduct, ...]:
    """The stored autologous products of the latest screening evaluation (decisions.md A15)."""
    evaluation = course.evaluations.order_by("-evaluated_at", "-id").only("course_id", "snapshot_json").first()
    if evaluation is None:
        return ()
    products = []
    for p in json.loads(evaluation.snapshot_json).get("stem_cell_products", []):
        cells = p.get("total_cd34_cells") if p.get("product_type") == "pbsc" else p.get("total_mononuclear_cells")
        if cells is not None:
            products.append(StoredProduct(p["product_type"], Decimal(str(cells)), p.get("label", "")))
    return tuple(products)


@dataclass(frozen=True)
class Dosimetry:
    """Everything the radiation section of a course shows, computed from the active readings.

    ``problem`` says why nothing could be computed (no administration, no reading before the first void, a
    curve that does not fall...); otherwise ``retention``, ``dose``, ``release`` and ``rescue`` are the core's
    results for these readings.
    """

    course: Course
    administration: Administration | None
    readings: tuple[ExposureReading, ...]
    protocol: ProtocolDefinition
    problem: str = ""
    retention: RetentionFit | None = None
    dose: WholeBodyDose | None = None
    release: ReleaseAssessment | None = None
    rescue: RescueAssessment | None = None

    @property
    def start(self) -> datetime | None:
        return None if self.administration is None else self.administration.started_at

    @property
    def computed(self) -> bool:
        return self.release is not None

    @property
    def site_limit(self) -> Decimal:
        return self.protocol.site("site_release_limit_mrem_per_h")

    @property
    def federal_limit(self) -> Decimal:
        return self.protocol.site("federal_release_dose_rate_mrem_per_h")

    def at(self, hours: float | Decimal | None) -> datetime | None:
        """The clock time ``hours`` after the start of the infusion (rounded up to the minute)."""
        return None if hours is None or self.start is None else clock_time(self.start, hours)

    @property
    def predicted_site_at(self) -> datetime | None:
        return None if self.release is None else self.at(self.release.predicted_release_site_h)

    @property
    def predicted_federal_at(self) -> datetime | None:
        return None if self.release is None else self.at(self.release.predicted_release_federal_h)

    @property
    def stem_cell_day(self) -> int:
        return int(self.protocol.site("stem_cell_infusion_day"))

    @property
    def stem_cell_earliest_day(self) -> int:
        return int(self.protocol.site("stem_cell_earliest_day"))

    @property
    def planned_stem_cell_date(self) -> date | None:
        if self.rescue is not None:
            return self.rescue.planned_stem_cell_infusion_date
        if self.start is None:
            return None
        # Without a dose the core's rescue assessment cannot run; the planned date is the same sum it makes.
        return timezone.localdate(self.start) + timedelta(days=self.stem_cell_day)

    @property
    def last_reading(self) -> ExposureReading | None:
        return self.readings[-1] if self.readings else None

    @property
    def rows(self) -> list[dict[str, Any]]:
        """One row per active reading, with hours after the start of the infusion and, when computed, r."""
        retention = {} if self.retention is None else {p.hours: p.retention for p in self.retention.points}
        return [{"reading": r, "hours": hours_after(self.start, r.measured_at) if self.start else None,
                 "net": r.net_mr_per_h,
                 "retention": retention.get(hours_after(self.start, r.measured_at)) if self.start else None}
                for r in self.readings]

    @property
    def criteria(self) -> list[dict[str, Any]]:
        if self.release is None:
            return []
        return [{"c": c, "first_met_at": self.at(c.first_met_h), "predicted_at": self.at(c.predicted_h)}
                for c in self.release.criteria]

    @property
    def fingerprint(self) -> str:
        """Names exactly the readings an assessment rests on: a release is signed only on what was shown."""
        text = ";".join(f"{r.pk}:{r.version}" for r in self.readings)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def compute_dosimetry(course: Course, protocol: ProtocolDefinition | None = None) -> Dosimetry:
    """The retention fit, whole-body dose, release assessment and rescue support for the active readings."""
    return dosimetry_from(course, administration_of(course), active_readings(course), stored_products(course),
                          protocol or load_protocol())


def dosimetry_from(course: Course, administration: Administration | None, readings: Sequence[ExposureReading],
                   products: Sequence[StoredProduct] | None, protocol: ProtocolDefinition) -> Dosimetry:
    """:func:`compute_dosimetry` on data already fetched (``readings``: active, in time order). ``products`` None:
    no stem-cell rescue assessment (the patient list and the cumulative dose do not need it)."""
    def unfit(problem: str) -> Dosimetry:
        return Dosimetry(course, administration, tuple(readings), protocol, problem=problem)

    if administration is None:
        return unfit("No administration is recorded: readings and dosimetry start after it.")
    if not readings:
        return unfit("No reading yet. The first reading is taken after the end of the infusion, "
                                         "before the first void.")
    if not readings[0].before_first_void:
        return unfit(f"The first reading ({when(readings[0].measured_at)}) is not marked 'before "
                                         "the first void': retention is measured against that reading (decisions.md "
                                         "'Readings'). Correct the reading, or enter the pre-void reading.")
    if len(readings) < 2:
        return unfit("One reading so far: the retention curve needs a second, later reading.")
    start = administration.started_at
    weight = administration.directive.weight_kg
    rescue = None
    try:
        # The stored 1.700 is the 1.7 that was entered: the core's formulas show it as entered.
        core_readings = [Reading(hours_after(start, r.measured_at), Decimal(num(r.mr_per_h)),
                                 Decimal(num(r.background_mr_per_h or 0)), f"reading at {when(r.measured_at)}")
                         for r in readings]
        retention, dose, release = _fitted(tuple(core_readings), administration.administered, weight, protocol)
        if products is not None:
            rescue = stem_cell_rescue(dose.dose_gy, timezone.localdate(start), products, weight, protocol,
                                      dose.dose_se_gy)
    except InputError as error:
        return unfit(f"No fit for these readings: {error.message}")
    return Dosimetry(course, administration, tuple(readings), protocol, retention=retention, dose=dose, release=release,
                     rescue=rescue)


#: Fits already made in this process: (readings, activity, weight, id of the protocol) -> (protocol, results).
Fits = tuple[RetentionFit, WholeBodyDose, ReleaseAssessment]
_FITS: dict[tuple[Any, ...], tuple[ProtocolDefinition, Fits]] = {}
_FITS_KEPT = 20000


def _fitted(readings: tuple[Reading, ...], administered: Any, weight: Decimal,
            protocol: ProtocolDefinition) -> Fits:
    """The retention fit, whole-body dose and release assessment of these readings (mibg.core), each computed once
    per process: the fit takes 5-15 ms and the patient list, the patient page and the course page all ask for it
    on every view (bench/RESULTS.md). The core is pure: the same readings (hours, rates, backgrounds, labels),
    activity, weight and protocol always give the same results, so the key is those inputs themselves; the
    protocol is compared by identity and kept in the entry, so another definition never shares an entry."""
    key = (readings, administered, weight, id(protocol))
    hit = _FITS.get(key)
    if hit is not None and hit[0] is protocol:
        return hit[1]
    def compute() -> Fits:
        retention = retention_fit(list(readings), protocol)
        return (retention, whole_body_dose(administered, weight, retention, protocol),
                release_assessment(administered, retention, protocol))

    # Then the shared cache (Redis with MIBG_CACHE_URL): a fit made by one application server serves the others.
    results = plotcache.remembered("retention-fit", (readings, administered, weight, plotcache.protocol_key(protocol)),
                                   compute)
    if len(_FITS) >= _FITS_KEPT:
        _FITS.clear()
    _FITS[key] = (protocol, results)
    return results


def dosimetry_of_courses(courses: Sequence[Course]) -> dict[int, Dosimetry]:
    """Dosimetry (without rescue support) of many courses in two queries, whatever their number: for lists."""
    protocol = load_protocol()
    ids = [c.pk for c in courses]
    administrations: dict[int, Administration] = {}
    for a in Administration.objects.filter(course_id__in=ids).select_related("directive").order_by("started_at"):
        administrations[a.course_id] = a  # the latest one wins, as in administration_of
    readings: dict[int, list[ExposureReading]] = {}
    for r in ExposureReading.objects.filter(course_id__in=ids, voided_at__isnull=True).order_by("measured_at", "id"):
        readings.setdefault(r.course_id, []).append(r)
    return {c.pk: dosimetry_from(c, administrations.get(c.pk), readings.get(c.pk, []), None, protocol) for c in courses}


@dataclass(frozen=True)
class ReleaseStatus:
    """One line for the patient list: released, ready for release, or the predicted release time."""

    kind: str  # "released", "ready", "predicted", "pending"
    at: datetime | None
    text: str


def release_statuses(courses: Sequence[Course]) -> dict[int, ReleaseStatus]:
    """The release status of each course that has one (released, or between administration and release), in a
    fixed number of queries whatever the number of courses."""
    # The release time only: a signed record also holds the assessment and instructions signed (kilobytes of JSON).
    released = dict(ReleaseRecord.objects.filter(course__in=[c.pk for c in courses]).values_list("course_id",
                                                                                                "released_at"))
    statuses = {pk: ReleaseStatus("released", at, f"released {when(at)}") for pk, at in released.items()}
    waiting = [c for c in courses if c.pk not in released and c.state_enum in READING_STATES]
    for pk, d in dosimetry_of_courses(waiting).items():
        if d.release is None:
            statuses[pk] = ReleaseStatus("pending", None, "no prediction yet" if d.readings else "no reading yet")
        elif d.release.releasable:
            at = d.at(d.release.as_of_h)
            statuses[pk] = ReleaseStatus("ready", at, f"release criteria met at {when(at)}")
        else:
            statuses[pk] = ReleaseStatus("predicted", d.predicted_site_at, f"predicted {when(d.predicted_site_at)}")
    return statuses


def patient_whole_body_doses(courses: Sequence[Course]) -> dict[str, Any]:
    """Whole-body dose per administered course and their sum; a course given without dosimetry is named, never
    silently left out of the sum."""
    rows, missing = [], []
    dosimetry = dosimetry_of_courses(courses)
    for course in courses:
        d = dosimetry[course.pk]
        if d.administration is None:
            continue
        if d.dose is None:
            missing.append(course)
        else:
            rows.append((course, d.dose))
    return {"rows": rows, "missing": missing,
            "total_gy": sum(dose.dose_gy for _, dose in rows),
            "total_electron_only_gy": sum(dose.electron_only_gy for _, dose in rows)}


# ---- release --------------------------------------------------------------------------------------------


def _criterion_text(c: ReleaseCriterion) -> str:
    title = c.title[:1].lower() + c.title[1:]
    return f"{title}: {float(c.value):.4g} {c.unit} {'<=' if c.met else '>'} {c.limit} {c.unit}"


def release_refusal(d: Dosimetry) -> str | None:
    """Why the patient cannot be released on these readings, or None when the site limit and a federal
    criterion are both met at the last reading."""
    if d.release is None:
        return f"Release cannot be assessed: {d.problem}"
    a = d.release
    if a.releasable:
        return None
    site = a.site_criterion
    federal_met = [c for c in a.federal_criteria if c.met]
    last_at = when(d.at(a.as_of_h))
    if not federal_met and not site.met:
        lead = "Release refused: neither the site limit nor any federal criterion (10 CFR 35.75) is met."
    elif not site.met:
        lead = "Release refused: the site limit is not met. The site limit is the site's rule; it has no override."
    else:
        lead = "Release refused: no federal criterion (10 CFR 35.75) is met."
    parts = [lead, f"The last reading, {num(a.dose_rate_mrem_per_h)} mR/h at 1 m ({last_at}), "
                   f"{'is at or below' if site.met else 'is above'} the site limit of {site.limit} mR/h."]
    if federal_met:
        parts.append("Federal criteria met: " + "; ".join(_criterion_text(c) for c in federal_met) + ".")
    if not site.met:
        parts.append(f"The fitted curve reaches the site limit at {when(d.predicted_site_at)}: take the next reading then.")
    return " ".join(parts)


def release_rule(d: Dosimetry) -> str:
    """The basis of release in words, with the numbers (kept on the record and in the signature's meaning)."""
    assert d.release is not None
    a = d.release
    site = a.site_criterion
    federal = "; ".join(_criterion_text(c) for c in a.federal_criteria if c.met)
    return (f"exposure rate at 1 m {num(a.dose_rate_mrem_per_h)} mR/h (net) measured {when(d.at(a.as_of_h))}, "
            f"{a.as_of_h:.2f} h after the start of the infusion: site limit met ({num(site.value)} <= {site.limit} mR/h, "
            f"{a.site_limit_source}); federal criteria met (10 CFR 35.75, NUREG-1556 Vol. 9 Table U.1): {federal}")


def family_instructions(d: Dosimetry, released_at: datetime) -> dict[str, Any]:
    """How long the written instructions last (:func:`mibg.core.release.family_precautions`, 10 CFR 35.75(b)), as
    kept with the release record. Biological clearance, which only shortens the time, is shown to the physicist
    beside it (the dose to others with the measured effective half-life)."""
    assert d.release is not None
    precautions = family_precautions(d.release.dose_rate_mrem_per_h, d.protocol)
    until = timezone.localdate(released_at) + timedelta(days=precautions.days)
    return {
        "released_at": released_at.isoformat(),
        "dose_rate_mr_per_h": num(precautions.dose_rate_mrem_per_h),
        "rate_at_threshold_mr_per_h": f"{precautions.rate_at_threshold_mrem_per_h:.3f}",
        "threshold_msv": str(precautions.threshold_msv),
        "exact_days": round(precautions.exact_days, 2),
        "days": precautions.days,
        "until": until.isoformat(),
        "back_to_school": until.isoformat(),
        "dose_to_others_msv": f"{d.release.dose_to_others.msv:.3g}",
        "dose_to_others_effective_msv": f"{d.release.dose_to_others_effective.msv:.3g}",
        "formula": precautions.formula,
    }


@dataclass(frozen=True)
class ReleaseInput:
    released_at: datetime
    instructions_given_to: str
    basis: str  # Dosimetry.fingerprint of the assessment the physicist saw


def signature_meaning(name: str, d: Dosimetry, given_to: str) -> str:
    patient = d.course.patient
    return (f"I, {name}, authorise the release of {patient.given_name} {patient.family_name.upper()} (MRN {patient.mrn}) "
            f"from radiation isolation after 131I-MIBG, course {d.course.number} (10 CFR 35.75; record of the basis per "
            f"10 CFR 35.2075). Basis: {release_rule(d)}. Written instructions were given to {given_to}.")


def release(user: Any, signed_name: str, course: Course, version: int, entry: ReleaseInput) -> ReleaseRecord:
    """Sign the release: refused unless the site limit and a federal criterion are met on the readings the
    physicist saw; the course moves to 'released' through the state machine (TransitionRefused otherwise)."""
    course_state.apply("release", course.state, CourseFacts())  # an illegal step is refused first, with its reason
    d = compute_dosimetry(course)
    refusal = release_refusal(d)
    if refusal is not None:
        raise Refused(refusal)
    if entry.basis != d.fingerprint:
        raise Refused(_("The readings changed after this page was opened (a reading was added, corrected or voided). "
                        "Nothing was signed: review the new assessment, then sign."), "basis")
    assert d.release is not None
    assert d.retention is not None
    assert d.dose is not None
    last = d.readings[-1]
    if entry.released_at < last.measured_at:
        raise Refused(_("The release time is before the last reading (%(when)s), on which release rests.")
                      % {"when": when(last.measured_at)},
                      "released_at")
    if entry.released_at > timezone.now() + clock_tolerance():
        raise Refused(_("The release time is in the future: sign when the patient leaves isolation."), "released_at")
    given_to = entry.instructions_given_to.strip()
    if not given_to:
        raise Refused(_("Name the parent or guardian who received the written instructions."), "instructions_given_to")
    a = d.release
    with transaction.atomic():
        course = _locked_course(course)
        rule = release_rule(d)
        advance(user, course, "release", version, occurred_at=entry.released_at, facts=CourseFacts(),
                note=f"signed release: {num(a.dose_rate_mrem_per_h)} mR/h at 1 m at {when(last.measured_at)}, at or below the "
                     f"site limit of {a.site_limit_mrem_per_h} mR/h; federal criteria met")
        record = ReleaseRecord.objects.create(
            course=course, released_at=entry.released_at, reading=last, dose_rate_mr_per_h=a.dose_rate_mrem_per_h,
            site_limit_mr_per_h=a.site_limit_mrem_per_h,
            criteria_met=",".join(c.id for c in a.criteria if c.met), rule=rule,
            assessment_json=json.dumps({"release": a.to_json(), "retention": d.retention.to_json(),
                                        "whole_body_dose": d.dose.to_json(), "readings_basis": d.fingerprint}),
            instructions_json=json.dumps(family_instructions(d, entry.released_at)),
            instructions_given_to=given_to, protocol_label=d.protocol.label, signed_by=user, signed_name=signed_name,
            signature_meaning=signature_meaning(signed_name, d, given_to))
        log_changes(user, "sign", record, course.patient, note=record.signature_meaning)
    return record


# ---- stem-cell rescue -------------------------------------------------------------------------------------


def anc_rescue_of(course: Course, d: Dosimetry) -> AncRescue | None:
    """The count-based recommendation from the course's ANC results after the infusion (decisions.md A31)."""
    if d.start is None:
        return None
    # Through the course's own relation: radiation safety does not import the follow-up step that comes after it.
    rows = course.lab_results.live().filter(test="anc").values_list("collected_at", "value_canonical")
    return anc_rescue([(timezone.localtime(at), Decimal(value)) for at, value in rows], timezone.localtime(d.start),
                      d.protocol)


@dataclass(frozen=True)
class StemCellInput:
    infused_at: datetime
    product_type: str
    product: str
    cells_per_kg: Decimal
    given_by: str
    note: str = ""
    # decisions.md A31: an infusion before day +10 needs the treating physician's reason (and who gave it)
    early_reason: str = ""
    early_reason_by: str = ""


def stem_cell_errors(course: Course, entry: StemCellInput, without: StemCellInfusion | None = None) -> dict[str | None, str]:
    """Every problem with ``entry`` by field (A29 time line, A31 earliest day); empty when it can be stored."""
    errors: dict[str | None, str] = {}
    if entry.cells_per_kg <= 0:
        errors["cells_per_kg"] = "The cell dose must be greater than zero."
    try:  # decisions.md A29: after the 131I-MIBG infusion, never in the future
        timeline.check(course, (Event.STEM_CELLS, "infused_at", entry.infused_at), without=without)
    except InputError as error:
        errors["infused_at"] = error.message
    administration = administration_of(course)
    if "infused_at" not in errors and administration is not None:
        day = stem_cell_day(timezone.localtime(administration.started_at), timezone.localtime(entry.infused_at))
        if day.needs_reason and not entry.early_reason.strip():
            errors["early_reason"] = day.message
        elif day.needs_reason and not entry.early_reason_by.strip():
            errors["early_reason_by"] = f"Name the treating physician who gave the reason. {day.message}"
    if not entry.product.strip():
        errors["product"] = "Name the product (bag or lot)."
    if not entry.given_by.strip():
        errors["given_by"] = "Who gave the infusion?"
    return errors


def _infusion_fields(entry: StemCellInput) -> dict[str, Any]:
    return {"infused_at": entry.infused_at, "product_type": entry.product_type, "product": entry.product.strip(),
            "cells_per_kg": entry.cells_per_kg, "given_by": entry.given_by.strip(), "note": entry.note.strip(),
            "early_reason": entry.early_reason.strip(), "early_reason_by": entry.early_reason_by.strip()}


def record_stem_cells(user: Any, course: Course, entry: StemCellInput) -> StemCellInfusion:
    """The stem-cell infusion as given (decisions.md Dose "Stem-cell infusion": the treating physician decides)."""
    with transaction.atomic():
        course = _locked_course(course)
        if course.state_enum not in STEM_CELL_STATES:
            raise Refused(_("Stem cells are recorded after the 131I-MIBG administration; this course is '%(state)s'.")
                          % {"state": course.state_enum.label})
        errors = stem_cell_errors(course, entry)
        if errors:
            raise BadEntry(errors)
        infusion: StemCellInfusion = StemCellInfusion.objects.create(course=course, recorded_by=user, **_infusion_fields(entry))
        log_changes(user, "create", infusion, course.patient)
    return infusion


def correct_stem_cells(user: Any, infusion: StemCellInfusion, entry: StemCellInput, reason: str) -> StemCellInfusion:
    """A37: a new record supersedes ``infusion``, with the reason; the old one stays, marked superseded."""
    with transaction.atomic():
        course = _locked_course(infusion.course)
        if course.state_enum not in STEM_CELL_STATES:
            raise Refused(_("This course is '%(state)s': its stem-cell infusion is no longer corrected here.")
                          % {"state": course.state_enum.label})
        if infusion.superseded:
            raise Refused(_("This infusion record has been corrected already: correct the current one."))
        errors = stem_cell_errors(course, entry, without=infusion)
        if not reason.strip():
            errors.setdefault("reason", "Give the reason for the correction (decisions.md A37).")
        if errors:
            raise BadEntry(errors)
        new: StemCellInfusion = StemCellInfusion.objects.create(course=course, recorded_by=user, supersedes=infusion,
                                              correction_reason=reason.strip(), **_infusion_fields(entry))
        supersede(user, infusion, new, reason.strip())
        log_changes(user, "create", new, course.patient, note=f"correction: {reason.strip()}")
    return new

"""Follow-up records: every create, update, void and review goes through here, audited in the same transaction.

Rules stated once:

* Follow-up records belong to a course that has been administered (states "administered" to "closed": late
  results and late adverse events are still recorded after a course is closed).
* A laboratory value is stored only if mibg.core can read it (known test and unit, number, LLN/ULN) **and grade
  it** with CTCAE v5.0: a value whose grade depends on a missing LLN or ULN is refused with a field error, so
  every stored value has its grade beside it. Times in the future and exact repeats of a stored result are
  refused too.
* A labs CSV is all or nothing: when any row has an error (as mibg.core.labs.parse_labs_csv reports it, plus the
  checks above), nothing is stored and every error is shown with its line and column.
* Nothing is deleted; a record entered in error is voided with a reason.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mibg.core.ae_terms import check_term
from mibg.core.chronology import clock_tolerance
from mibg.core.clinical_rows import ClinicalReading, is_clinical, read_clinical
from mibg.core.course_state import ORDER, CourseState
from mibg.core.ctcae import CtcaeGrade, grade_lab, worst_grades
from mibg.core.cumulative import course_mci_per_kg
from mibg.core.errors import InputError
from mibg.core.labs import LABS, LabValue, RowError, lab_value, parse_labs_csv
from mibg.core.recovery import CourseRecovery, TransfusionEvent, course_recovery, series_from_labs
from mibg.core.response import (
    CURIE_SKELETAL_SEGMENTS,
    CURIE_SOFT_TISSUE,
    RelativeCurie,
    curie_score,
    inrc_overall,
    relative_curie,
)
from mibg.core.times import site_time
from mibg.core.vocabulary import TransfusionProduct
from mibg.web.audit.trail import field_values, log_changes
from mibg.web.courses.models import Course
from mibg.web.errors import Refused
from mibg.web.eventreports import services as event_reports
from mibg.web.followup.models import (
    AdverseEvent,
    CurieAssessment,
    InrcAssessment,
    LabResult,
    SaeReview,
    Transfusion,
    Voidable,
)
from mibg.web.page_reads import once
from mibg.web.patients.models import Patient
from mibg.web.permissions import allowed
from mibg.web.safety import update_versioned

#: A collection time may be this far ahead of the server clock (clocks of lab systems drift a little): the site
#: parameter ``clock_tolerance_min`` of the protocol definition, read by mibg.core.readings.clock_tolerance.


def after_administration(course: Course) -> bool:
    return ORDER.index(course.state_enum) >= ORDER.index(CourseState.ADMINISTERED)


def check_open(course: Course) -> None:
    """Follow-up records are kept from the administration on; refuse them before."""
    if not after_administration(course):
        raise Refused(_("Follow-up is recorded after the administration; this course is '%(state)s'. Screening labs "
                        "and transfusions belong to the screening data.")
                      % {"state": course.state_enum.label})


def infusion_start(course: Course) -> datetime | None:
    """The start of the 131I-MIBG infusion of the course (day 0 of follow-up), if it was given."""
    administration = latest_administration(course)
    return None if administration is None else administration.started_at


def latest_administration(course: Course) -> Any:
    """The course's administration (the latest by its start), with its directive."""
    from mibg.web.courses.services import latest_administration as latest

    return latest(course)


def day_after(infusion_at: datetime, moment: datetime) -> int:
    """Calendar day after the infusion day in the clinic's zone (day 0 = infusion day), as mibg.core.recovery
    counts days."""
    return (timezone.localtime(moment).date() - timezone.localtime(infusion_at).date()).days


# ---- laboratory results -------------------------------------------------------------------------------


@dataclass(frozen=True)
class LabEntry:
    """One result as entered: numbers as text, LLN and ULN in the unit of the value."""

    test: str
    value: str
    unit: str
    lln: str
    uln: str
    collected_at: datetime


def _text(value: Decimal | None) -> str:
    return "" if value is None else str(value)


def check_lab(course: Course, entry: LabEntry) -> tuple[LabValue, CtcaeGrade | ClinicalReading]:
    """Read and grade one entry; :class:`InputError` names the field that stops it."""
    lab = lab_value(entry.test, entry.value, entry.unit, lln=entry.lln or None, uln=entry.uln or None,
                    collected_at=entry.collected_at)
    return lab, check_parsed(course, lab)


def check_parsed(course: Course, lab: LabValue) -> CtcaeGrade | ClinicalReading:
    """The checks beyond reading a value: a time not in the future, a grade, not stored already. TSH, free T4 and
    blood pressure are read by mibg.core.clinical_rows instead of graded (issue 12): a thyroid value needs the
    site's reference range to be flagged, a blood pressure is a whole number of mmHg in its plausible range."""
    if lab.collected_at is None:
        raise InputError("collected_at", _("the collection time is required"))
    if lab.collected_at > timezone.now() + clock_tolerance():
        raise InputError("collected_at", _("is in the future: check the date, the time and the time zone"))
    if timezone.localtime(lab.collected_at).date() < course.patient.birth_date:
        raise InputError("collected_at", _("is before the patient's date of birth: check the year"))
    # grade_lab refuses a value whose grade needs a missing LLN or ULN; read_clinical a thyroid value without both.
    result = read_clinical(lab, course.patient.birth_date) if is_clinical(lab.test) else grade_lab(lab)
    # A result is the patient's, not the course's: the same test, time and value stored in any course of the
    # patient is the same result (a patient's own FHIR export imported into an earlier course stored the later
    # course's results again).
    same = (LabResult.objects.live().filter(course__patient_id=course.patient_id, test=lab.test,
                                            collected_at=lab.collected_at)
            .select_related("entered_by", "course"))
    for stored in same:
        if Decimal(stored.value_canonical) == lab.value:
            where = "" if stored.course_id == course.pk else f" in course {stored.course.number}"
            raise InputError("collected_at", _("this result is already stored%(where)s (entered by "
                                               "%(person)s on %(at)s)")
                                             % {"where": where, "person": stored.entered_by.signature_name(),
                                                "at": site_time(stored.entered_at)})
    return result


def _create_lab(user: Any, course: Course, lab: LabValue, result: CtcaeGrade | ClinicalReading, source: str, detail: str,
                **correction: Any) -> LabResult:
    if lab.collected_at is None:  # check_parsed refuses it first; said again here, where the time is stored
        raise InputError("collected_at", _("the collection time is required"))
    record = LabResult.objects.create(**correction,
        course=course, test=lab.test, loinc=lab.definition.loinc, value=str(lab.entered_value), unit=lab.entered_unit,
        lln=_text(lab.entered_lln), uln=_text(lab.entered_uln), ucum=lab.definition.ucum, value_canonical=str(lab.value),
        lln_canonical=_text(lab.lln), uln_canonical=_text(lab.uln), collected_at=lab.collected_at, source=source,
        source_detail=detail, entered_by=user)
    if isinstance(result, ClinicalReading):
        note = f"{result.test_name}: {result.summary}"
    else:
        note = f"{result.term_name}: CTCAE v5.0 grade {result.grade} ({result.comparison})"
    log_changes(user, "create", record, course.patient, note=note)
    return record


def grade_said(record: LabResult) -> str:
    """The grade as the confirmation says it: the CTCAE v5.0 grade, or for TSH, free T4 and blood pressure the
    reading (flag or adult thresholds) and that the grade is the physician's (issue 12)."""
    grade = record.grade
    if isinstance(grade, ClinicalReading):
        return grade.summary
    return f"{grade.term_name}, CTCAE v5.0 grade {grade.grade}"


def _serialise_labs(course: Course) -> None:
    """Lock the patient row until the end of the transaction, so that the "already stored" check and the insert
    of one lab entry are not interleaved with another's: unlocked, the same result sent twice at the same
    moment passed both checks on PostgreSQL and was stored twice (tests/web/test_concurrency.py)."""
    # The "already stored" check spans every course of the patient, so the lock is the patient's row.
    Patient.objects.select_for_update().values_list("pk", flat=True).get(pk=course.patient_id)


def add_lab(user: Any, course: Course, entry: LabEntry, source: str = LabResult.FORM) -> LabResult:
    check_open(course)
    with transaction.atomic():
        _serialise_labs(course)
        lab, result = check_lab(course, entry)
        return _create_lab(user, course, lab, result, source, "")


def correct_lab(user: Any, lab: LabResult, entry: LabEntry, reason: str) -> LabResult:
    """decisions.md A37: a result is never edited in place. The corrected result is a new entry naming the one it
    supersedes, with the reason; the old one is voided as superseded and stays visible and in the audit trail."""
    course = lab.course
    check_open(course)
    text = reason.strip()
    if not text:
        raise InputError("reason", _("give the reason for the correction (decisions.md A37)"))
    with transaction.atomic():
        _serialise_labs(course)
        before = field_values(lab)
        note = f"superseded by a correction: {text}"
        if LabResult.objects.filter(pk=lab.pk, voided_at__isnull=True).update(
                voided_at=timezone.now(), voided_by=user, void_reason=note) != 1:
            raise Refused(_("This result is void already: enter a new result instead."))
        lab.refresh_from_db()
        log_changes(user, "void", lab, course.patient, before, note=note)
        value, result = check_lab(course, entry)  # the same checks as a new result, the old one left out
        return _create_lab(user, course, value, result, lab.source, lab.source_detail, supersedes=lab,
                           correction_reason=text)


class CsvRefused(Exception):
    """A labs file with errors: nothing of it was stored."""

    def __init__(self, errors: Sequence[RowError]) -> None:
        self.errors = tuple(errors)
        self.message = (f"Nothing was stored: the file has {len(self.errors)} error{'s' if len(self.errors) != 1 else ''}. "
                        f"Correct the file and upload it again.")
        super().__init__(self.message)


def import_labs_csv(user: Any, course: Course, text: str, filename: str) -> list[LabResult]:
    """Store every row of a labs CSV, or none: :class:`CsvRefused` lists each error with its line and column."""
    check_open(course)
    parsed = parse_labs_csv(text)
    with transaction.atomic():  # checked and stored under one lock (see _serialise_labs); refused: nothing stored
        _serialise_labs(course)
        errors = list(parsed.errors)
        checked: list[tuple[int, LabValue, CtcaeGrade | ClinicalReading]] = []
        seen: dict[tuple[str, datetime | None, Decimal], int] = {}
        for row in parsed.rows:
            try:
                result = check_parsed(course, row.lab)
            except InputError as error:
                errors.append(RowError(row.line, error.field, error.message))
                continue
            key = (row.lab.test, row.lab.collected_at, row.lab.value)
            if key in seen:
                errors.append(RowError(row.line, "row", f"repeats line {seen[key]} (same test, time and value)"))
                continue
            seen[key] = row.line
            checked.append((row.line, row.lab, result))
        if errors:
            raise CsvRefused(sorted(errors, key=lambda e: e.line))
        return [_create_lab(user, course, lab, result, LabResult.CSV, f"{filename}, line {line}"[:200])
                for line, lab, result in checked]


def live_labs(course: Course) -> list[LabResult]:
    return once(course, "live_labs",
                lambda: list(LabResult.objects.live().filter(course=course).select_related("entered_by")))


#: What grading (LabResult.lab, LabResult.grade) and count recovery read of a result: nothing else is loaded by
#: :func:`graded_labs`.
GRADED_FIELDS = ("id", "course_id", "test", "value", "unit", "lln", "uln", "collected_at")


def graded_labs(course: Course) -> list[LabResult]:
    """The course's live results with only what grading and count recovery read (no user, no free text): for the
    parts of a page that show worst grades or the recovery day, not the table of values (:func:`live_labs`)."""
    return once(course, "graded_labs",
                lambda: list(LabResult.objects.live().filter(course=course).only(*GRADED_FIELDS)))


def attach_baselines(labs: Iterable[LabResult], infusion_at: datetime | None,
                     screening: Iterable[LabValue] = ()) -> None:
    """Give every value collected from the start of the infusion on the course's baseline of its test, so that
    its grade follows the CTCAE baseline clauses (decisions.md A33): the pre-infusion value of the course, i.e.
    the latest value of the test collected before the infusion start, among the course's own results and the
    screening results (``screening``). Values before the infusion, and courses not given yet, get none."""
    records = list(labs)
    if infusion_at is None:
        return
    latest = baselines_before(infusion_at, [
        lab_value(r.test, r.value, r.unit, lln=r.lln or None, uln=r.uln or None, collected_at=r.collected_at)
        for r in records if r.collected_at < infusion_at and not is_clinical(r.test)], screening)
    for record in records:
        if record.collected_at >= infusion_at and record.test in latest:
            record.baseline = latest[record.test]  # type: ignore[attr-defined]


def baselines_before(infusion_at: datetime, course_labs: Iterable[LabValue],
                     screening: Iterable[LabValue] = ()) -> dict[str, LabValue]:
    """The course's baseline of each test (decisions.md A33): its latest value collected before the infusion
    start, among the course's own results and the screening results."""
    latest: dict[str, LabValue] = {}
    for lab in [*course_labs, *screening]:
        if lab.collected_at is None or lab.collected_at >= infusion_at:
            continue
        current = latest.get(lab.test)
        if current is None or (current.collected_at is not None and lab.collected_at > current.collected_at):
            latest[lab.test] = lab
    return latest


def graded(course: Course, records: Sequence[LabResult]) -> list[LabResult]:
    """``records`` (results of ``course`` just stored) read back with the course's baselines attached, so that
    each grade is the one the follow-up page shows (decisions.md A33)."""
    live = {r.pk: r for r in live_labs(course)}
    infusion_at = infusion_start(course)
    if infusion_at is not None:
        attach_baselines(live.values(), infusion_at, screening_labs(course))
    return [live.get(r.pk, r) for r in records]


def screening_labs(course: Course) -> list[LabValue]:
    """The laboratory results of the course's latest screening evaluation (its snapshot), as lab values."""
    from mibg.web.screening.services import latest_evaluation

    evaluation = latest_evaluation(course)
    if evaluation is None:
        return []
    out = []
    for raw in json.loads(evaluation.snapshot_json).get("labs") or []:
        try:
            out.append(lab_value(str(raw["test"]), str(raw["value"]), str(raw["unit"]),
                                 lln=None if raw.get("lln") is None else str(raw["lln"]),
                                 uln=None if raw.get("uln") is None else str(raw["uln"]),
                                 collected_at=datetime.fromisoformat(str(raw["collected_at"]))))
        except (InputError, KeyError, ValueError):
            continue  # a screening value this grading cannot read is not a baseline; the value is graded on the ULN
    return out


@dataclass(frozen=True)
class WorstGrade:
    grade: CtcaeGrade
    record: LabResult


def worst_by_term(labs: Iterable[LabResult], infusion_at: datetime | None,
                  screening: Iterable[LabValue] = ()) -> list[WorstGrade]:
    """The worst CTCAE grade per term of the course: over the values collected at or after the start of the
    infusion (baseline values are not toxicity of the course), by core worst_grades (the nadir of a falling
    count, the peak of a rising value: decisions.md A32), each graded with the course's baseline (A33), in
    the order of the tests. Nothing before the infusion."""
    if infusion_at is None:
        return []
    labs = list(labs)
    attach_baselines(labs, infusion_at, screening)
    # TSH, free T4 and blood pressure have no CTCAE grade from the value (mibg.core.clinical_rows): see clinical_worst.
    records = [r for r in labs if r.collected_at >= infusion_at and not r.clinical]
    by_result = {id(r.grade): r for r in records}
    worst = worst_grades(r.grade for r in records if isinstance(r.grade, CtcaeGrade))
    order = list(LABS)
    return sorted((WorstGrade(g, by_result[id(g)]) for g in worst.values()), key=lambda w: order.index(w.record.test))


# ---- transfusions -------------------------------------------------------------------------------------


def add_transfusion(user: Any, course: Course, product: str, given_at: datetime, note: str = "") -> Transfusion:
    check_open(course)
    try:
        product = TransfusionProduct(product).value
    except ValueError:
        raise InputError("product", _("'%(product)s' is not one of: %(products)s")
                                    % {"product": product, "products": ", ".join(p.value for p in TransfusionProduct)}) from None
    if given_at > timezone.now() + clock_tolerance():
        raise InputError("given_at", _("is in the future: check the date, the time and the time zone"))
    with transaction.atomic():
        record = Transfusion.objects.create(course=course, product=product, given_at=given_at, note=note, entered_by=user)
        log_changes(user, "create", record, course.patient)
    return record


def live_transfusions(course: Course) -> list[Transfusion]:
    return once(course, "live_transfusions",
                lambda: list(Transfusion.objects.live().filter(course=course).select_related("entered_by")))


# ---- voiding ------------------------------------------------------------------------------------------


def void(user: Any, record: Voidable, reason: str) -> None:
    """Void a record entered in error (it stays, marked, with who, when and why)."""
    if record.voided:
        raise Refused(_("This record is already void."))
    if isinstance(record, AdverseEvent) and not record.is_draft and not allowed(user, "adverse_event.attribute"):
        raise Refused(_("An attributed adverse event is voided by a physician (a nurse voids her own drafts)."))
    if not reason.strip():
        raise Refused(_("Say why the record is void (e.g. entered on the wrong patient, wrong value)."), "reason")
    course = record.course  # type: ignore[attr-defined]
    with transaction.atomic():
        before = field_values(record)
        changed = type(record).objects.filter(pk=record.pk, voided_at__isnull=True).update(
            voided_at=timezone.now(), voided_by=user, void_reason=reason.strip())
        if changed != 1:
            raise Refused(_("This record is already void."))
        record.refresh_from_db()
        log_changes(user, "void", record, course.patient, before, note=reason.strip())


# ---- count recovery -----------------------------------------------------------------------------------


def recovery(course: Course, labs: Sequence[LabResult] | None = None,
             transfusions: Sequence[Transfusion] | None = None, start: datetime | None = None) -> CourseRecovery | None:
    """Nadirs, days below grade 4 and the recovery day (mibg.core.recovery); None before the infusion.
    ``start``: the infusion start when the caller has it already."""
    start = start or infusion_start(course)
    if start is None:
        return None
    start = timezone.localtime(start)  # days are counted in the clinic's zone, where the infusion was given
    labs = live_labs(course) if labs is None else labs
    transfusions = live_transfusions(course) if transfusions is None else transfusions
    values = [r.lab for r in labs]
    lln: dict[str, Decimal] = {}
    for r in labs:  # the most recent LLN reported for each series draws its grade 1 band
        if r.lab.lln is not None and r.test in ("anc", "platelets", "hemoglobin"):
            lln[r.test] = r.lab.lln
    return course_recovery(
        start,
        anc=series_from_labs(values, "anc"),
        platelets=series_from_labs(values, "platelets"),
        hemoglobin=series_from_labs(values, "hemoglobin"),
        transfusions=[TransfusionEvent(TransfusionProduct(t.product), t.given_at) for t in transfusions],
        lln=lln,
    )


# ---- adverse events -----------------------------------------------------------------------------------

AE_FIELDS = ("term", "grade", "started_on", "ended_on", "attribution", "serious", "outcome", "action_taken",
             "description")


def check_adverse_event(values: dict[str, Any]) -> None:
    """Consistency of an adverse event; :class:`InputError` names the field. The term is one of the CTCAE v5.0
    list (mibg.core.ae_terms, decisions.md A18; issue 15): free text such as "tummy ache" is refused."""
    values["term"] = check_term(values["term"]).name
    if values["ended_on"] is not None and values["ended_on"] < values["started_on"]:
        raise InputError("ended_on", _("the event cannot end before it starts"))
    if values["started_on"] > timezone.localdate():
        raise InputError("started_on", _("is in the future"))
    if values["grade"] == 5 and values["outcome"] != "fatal":
        raise InputError("outcome", _("grade 5 is death related to the adverse event: the outcome is 'fatal'"))
    if values["outcome"] == "fatal" and values["grade"] != 5:
        raise InputError("grade", _("a fatal outcome is grade 5"))
    if values["grade"] == 5 and not values["serious"]:
        raise InputError("serious", _("a fatal adverse event is serious (SAE)"))


def _check_attribution(user: Any, values: dict[str, Any], draft: bool) -> None:
    """The physician attributes an event; a nurse's entry is a draft without attribution (issue 15)."""
    if not allowed(user, "adverse_event.attribute"):
        if values["attribution"]:
            raise InputError("attribution", _("attribution to 131I-MIBG is the physician's: leave it blank and the "
                                              "event is stored as a draft for the physician to attribute and sign"))
    elif draft and values["attribution"]:
        raise InputError("attribution", _("a nurse's draft is attributed on 'Attribute and sign' (password signature)"))
    elif not draft and not values["attribution"]:
        raise InputError("attribution", _("the physician attributes the event to 131I-MIBG"))


def record_adverse_event(user: Any, course: Course, values: dict[str, Any]) -> AdverseEvent:
    check_open(course)
    check_adverse_event(values)
    _check_attribution(user, values, draft=not allowed(user, "adverse_event.attribute"))
    with transaction.atomic():
        event = AdverseEvent.objects.create(course=course, recorded_by=user, **{k: values[k] for k in AE_FIELDS})
        notes = ["draft: awaiting the physician's attribution and signature"] if event.is_draft else []
        notes += ["serious adverse event: physician review needed"] if event.serious else []
        log_changes(user, "create", event, course.patient, note="; ".join(notes))
        event_reports.open_for_adverse_event(user, event)  # an SAE opens its report (issue 13 §3)
    return event


def update_adverse_event(user: Any, event: AdverseEvent, version: int, values: dict[str, Any]) -> None:
    """An edit makes a new version; a serious event then needs a physician's review of the new version."""
    if event.voided:
        raise Refused(_("A void adverse event cannot be changed."))
    if not event.is_draft and not allowed(user, "adverse_event.attribute"):
        raise Refused(_("An attributed adverse event is changed by a physician."))
    check_adverse_event(values)
    _check_attribution(user, values, draft=event.is_draft)
    with transaction.atomic():
        before = field_values(event)
        update_versioned(event, version, {k: values[k] for k in AE_FIELDS}, "This adverse event")
        log_changes(user, "update", event, event.course.patient, before,
                    note=f"version {event.version}" + ("; serious: a review of this version is needed" if event.serious else ""))
        event_reports.open_for_adverse_event(user, event)  # made serious by the edit: its report opens now


def sign_adverse_event(user: Any, signed_name: str, event: AdverseEvent, version: int, attribution: str) -> None:
    """The physician attributes a nurse's draft to 131I-MIBG and signs the version read (issue 15); audited."""
    if attribution not in dict(AdverseEvent.ATTRIBUTIONS):
        raise InputError("attribution", _("pick the attribution to 131I-MIBG"))
    with transaction.atomic():
        current = AdverseEvent.objects.select_for_update().get(pk=event.pk)
        if current.voided or not current.is_draft:
            raise Refused(_("This adverse event is not a draft awaiting attribution (void, or already attributed)."))
        before = field_values(current)
        update_versioned(current, version, {"attribution": attribution, "signed_by": user,
                                            "signed_name": signed_name, "signed_at": timezone.now(),
                                            "signed_version": version + 1}, "This adverse event")
        log_changes(user, "update", current, current.course.patient, before,
                    note=f"draft attributed and signed with password re-entry (version {current.version})")


def review_sae(user: Any, signed_name: str, event: AdverseEvent, version: int, note: str) -> SaeReview:
    """A physician's signed review of the version of a serious adverse event they read."""
    if not note.strip():
        raise Refused(_("The review needs its conclusion."), "note")
    with transaction.atomic():
        current = AdverseEvent.objects.select_for_update().get(pk=event.pk)
        if current.version != version:
            raise Refused(_("The adverse event was changed after you opened it: read the current version and review "
                            "that. Nothing was signed."))
        if not current.needs_review:
            raise Refused(_("This adverse event needs no review (not serious, void, or this version is reviewed)."))
        review = SaeReview.objects.create(adverse_event=current, ae_version=current.version, reviewed_by=user,
                                          signed_name=signed_name, note=note.strip())
        log_changes(user, "review", review, current.course.patient,
                    note=f"serious adverse event reviewed (version {current.version}), signed with password re-entry")
    return review


def open_saes(courses: Iterable[Course] | None = None, patient: Any = None) -> list[AdverseEvent]:
    """Serious adverse events not yet reviewed by a physician (in their current version)."""
    events = AdverseEvent.objects.live().filter(serious=True).select_related("course").prefetch_related("reviews")
    if courses is not None:
        events = events.filter(course__in=list(courses))
    if patient is not None:
        events = events.filter(course__patient=patient)
    return [e for e in events if e.needs_review]


# ---- response -----------------------------------------------------------------------------------------

CURIE_FIELDS = tuple(key for key, _ in (*CURIE_SKELETAL_SEGMENTS, CURIE_SOFT_TISSUE))


def record_curie(user: Any, course: Course, timepoint: str, scan_date: date, scores: dict[str, Any]) -> CurieAssessment:
    """A Curie score (checked by mibg.core.response: each segment a whole number 0-3)."""
    check_open(course)
    if timepoint not in dict(CurieAssessment.TIMEPOINTS):
        raise InputError("timepoint", _("baseline or follow-up"))
    try:
        score = curie_score([scores.get(key) for key, _ in CURIE_SKELETAL_SEGMENTS], scores.get(CURIE_SOFT_TISSUE[0]))
    except InputError as error:
        raise InputError(error.field.removeprefix("skeletal."), error.message) from None
    values = dict(zip(CURIE_FIELDS, (*score.skeletal, score.soft_tissue), strict=True))
    with transaction.atomic():
        record = CurieAssessment.objects.create(course=course, timepoint=timepoint, scan_date=scan_date,
                                                recorded_by=user, **values)
        log_changes(user, "create", record, course.patient, note=f"Curie score {score.total} of 30")
    return record


def relative_scores(assessments: Sequence[CurieAssessment]) -> list[tuple[CurieAssessment, RelativeCurie | None]]:
    """Each follow-up score against the latest baseline scanned before it (None without one)."""
    baselines = [a for a in assessments if a.timepoint == CurieAssessment.BASELINE]
    out = []
    for a in assessments:
        if a.timepoint != CurieAssessment.FOLLOW_UP:
            continue
        earlier = [b for b in baselines if b.scan_date <= a.scan_date]
        base = max(earlier, key=lambda b: (b.scan_date, b.pk)) if earlier else None
        out.append((a, None if base is None else relative_curie(base.score, a.score)))
    return out


def record_inrc(user: Any, course: Course, assessed_on: date, primary: str, metastases: str, marrow: str,
                note: str = "") -> InrcAssessment:
    """INRC 2017 components as entered; the overall response as mibg.core.response derives it."""
    check_open(course)
    if assessed_on > timezone.localdate():
        raise InputError("assessed_on", _("is in the future"))
    result = inrc_overall(primary, metastases, marrow)
    with transaction.atomic():
        record = InrcAssessment.objects.create(course=course, assessed_on=assessed_on, result_json=result.to_json(),
                                               note=note, recorded_by=user)
        log_changes(user, "create", record, course.patient, note=result.explanation)
    return record


# ---- the dose given -----------------------------------------------------------------------------------


def administered_mci_per_kg(administered_mci: Decimal, weight_kg: Decimal) -> Decimal:
    """Administered activity / the directive's weight, rounded up as the patient's MIBG history rounds it
    (:func:`mibg.core.cumulative.course_mci_per_kg`, decisions.md A14)."""
    return course_mci_per_kg(administered_mci, weight_kg)

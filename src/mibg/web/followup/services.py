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
* Each result's grade and the course's count recovery are stored in their core shapes (issue 11) and derived
  again by :func:`rederive`, in the same transaction, by every change of what they are computed from: a result
  entered, corrected or voided, a transfusion given or voided (here), the infusion start recorded or corrected,
  the course screened again, the patient's date of birth corrected (mibg.web.courses.changes, sent by those
  steps). What a grade is keyed by: mibg.core.course_grades.
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
from mibg.core.course_grades import grade_course, grade_text, screening_values
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
from mibg.web.audit.trail import field_values, log_changes, log_event
from mibg.web.courses.models import Course
from mibg.web.errors import Refused
from mibg.web.eventreports import services as event_reports
from mibg.web.followup.models import (
    AdverseEvent,
    CountRecovery,
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


def _create_lab(course: Course, lab: LabValue, result: CtcaeGrade | ClinicalReading, source: str, detail: str,
                user: Any, **correction: Any) -> LabResult:
    """Insert one checked result with its grade as checked (no baseline yet): the caller then calls
    :func:`rederive` with it in ``created``, which stores its grade in the course's context and audits the
    creation with that grade."""
    if lab.collected_at is None:  # check_parsed refuses it first; said again here, where the time is stored
        raise InputError("collected_at", _("the collection time is required"))
    return LabResult.objects.create(**correction,
        course=course, test=lab.test, loinc=lab.definition.loinc, value=str(lab.entered_value), unit=lab.entered_unit,
        lln=_text(lab.entered_lln), uln=_text(lab.entered_uln), ucum=lab.definition.ucum, value_canonical=str(lab.value),
        lln_canonical=_text(lab.lln), uln_canonical=_text(lab.uln), collected_at=lab.collected_at, source=source,
        source_detail=detail, entered_by=user, grade_json=grade_text(result))


def _grade_note(result: CtcaeGrade | ClinicalReading) -> str:
    if isinstance(result, ClinicalReading):
        return f"{result.test_name}: {result.summary}"
    return f"{result.term_name}: CTCAE v5.0 grade {result.grade} ({result.comparison})"


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
        record = _create_lab(course, lab, result, source, "", user)
        rederive(user, course, "a result entered", created=[record])
        return record


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
        record = _create_lab(course, value, result, lab.source, lab.source_detail, user, supersedes=lab,
                             correction_reason=text)
        rederive(user, course, f"result {lab.pk} corrected by result {record.pk}", created=[record])
        return record


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
        records = [_create_lab(course, lab, result, LabResult.CSV, f"{filename}, line {line}"[:200], user)
                   for line, lab, result in checked]
        rederive(user, course, f"results imported from {filename}"[:200], created=records)
        return records


def live_labs(course: Course) -> list[LabResult]:
    return once(course, "live_labs",
                lambda: list(LabResult.objects.live().filter(course=course).select_related("entered_by")))


#: What grading (LabResult.lab, the stored LabResult.grade) and count recovery read of a result: nothing else is
#: loaded by :func:`graded_labs`.
GRADED_FIELDS = ("id", "course_id", "test", "value", "unit", "lln", "uln", "collected_at", "grade_json")


def graded_labs(course: Course) -> list[LabResult]:
    """The course's live results with only what grading and count recovery read (no user, no free text): for the
    parts of a page that show worst grades or the recovery day, not the table of values (:func:`live_labs`)."""
    return once(course, "graded_labs",
                lambda: list(LabResult.objects.live().filter(course=course).only(*GRADED_FIELDS)))


def screening_labs(course: Course) -> list[LabValue]:
    """The laboratory results of the course's latest screening evaluation (its snapshot), as lab values."""
    from mibg.web.screening.services import latest_evaluation

    evaluation = latest_evaluation(course)
    if evaluation is None:
        return []
    return screening_values(json.loads(evaluation.snapshot_json).get("labs") or [])


@dataclass(frozen=True)
class WorstGrade:
    grade: CtcaeGrade
    record: LabResult


def worst_by_term(labs: Iterable[LabResult], infusion_at: datetime | None) -> list[WorstGrade]:
    """The worst CTCAE grade per term of the course: over the values collected at or after the start of the
    infusion (baseline values are not toxicity of the course), by core worst_grades (the nadir of a falling
    count, the peak of a rising value: decisions.md A32), each as stored (graded with the course's baseline,
    A33), in the order of the tests. Nothing before the infusion."""
    if infusion_at is None:
        return []
    # TSH, free T4 and blood pressure have no CTCAE grade from the value (mibg.core.clinical_rows).
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
        rederive(user, course, f"transfusion {record.pk} given")
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
        if isinstance(record, LabResult | Transfusion):  # what grades and the count recovery are computed from
            rederive(user, course, f"{record._meta.verbose_name} {record.pk} voided")


# ---- count recovery -----------------------------------------------------------------------------------


def compute_recovery(course: Course, labs: Sequence[LabResult], transfusions: Sequence[Transfusion],
                     start: datetime | None) -> CourseRecovery | None:
    """Nadirs, days below grade 4 and the recovery day (mibg.core.recovery) from the course's results and
    transfusions that count; None before the infusion. Stored by :func:`rederive`; read with :func:`recovery`."""
    if start is None:
        return None
    start = timezone.localtime(start)  # days are counted in the clinic's zone, where the infusion was given
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


def recovery(course: Course) -> CourseRecovery | None:
    """The course's stored count recovery, typed (``CourseRecovery.from_json``); None before the infusion."""
    stored = once(course, "count_recovery", lambda: CountRecovery.objects.filter(course=course).first())
    return None if stored is None else stored.result


def rederive(user: Any, course: Course, why: str, created: Sequence[LabResult] = ()) -> None:
    """Store again, in the caller's transaction, every grade of the course's results and the course's count
    recovery, from what they are computed from now (keys: mibg.core.course_grades; mibg.core.recovery).

    Called by every change of those inputs. A stored grade that changes gets an audit record (field
    ``grade_json``, old and new shape, and why); a result in ``created`` (just inserted by the caller) gets its
    creation audit record, with the grade it is stored with. A count recovery whose status or day changes gets an
    audit record naming both. :class:`InputError` when a result cannot be graded in its context (a baseline of
    zero: decisions.md A33), which refuses the change that made it so."""
    with transaction.atomic():  # the caller's transaction; its own when called alone (a command, a shell)
        _rederive(user, course, why, created)


def _rederive(user: Any, course: Course, why: str, created: Sequence[LabResult]) -> None:
    # Read back, not taken from ``created``: every time in a stored shape is as the database gives it (UTC), so
    # that a grade stored now is the grade computed again later from the same row, to the character.
    records = list(LabResult.objects.live().filter(course=course).only(*GRADED_FIELDS).order_by("pk"))
    fresh = {r.pk for r in created}
    start = infusion_start(course)
    patient = Patient.objects.only("pk", "birth_date").get(pk=course.patient_id)
    grades = grade_course([(r.pk, r.lab) for r in records], start, screening_labs(course), patient.birth_date)
    changed = []
    for r in records:
        text = grade_text(grades[r.pk])
        if r.grade_json != text and json.loads(r.grade_json) != grades[r.pk].to_json():  # the same shape: left
            changed.append((r, r.grade_json))
            r.grade_json = text
            r.__dict__.pop("grade", None)  # the typed grade is read again from the new shape
    if changed:
        LabResult.objects.bulk_update([r for r, _ in changed], ["grade_json"])
    for r in created:
        r.grade_json = grade_text(grades[r.pk])
        r.__dict__.pop("grade", None)
    for r, old in changed:
        if r.pk not in fresh:
            log_event(user, "update", r, patient, field="grade_json", old=old, new=r.grade_json,
                      note=f"grade derived again: {why}"[:500])
    for r in created:
        log_changes(user, "create", r, patient, note=_grade_note(grades[r.pk]))
    _store_recovery(user, course, records, start, patient, why)


def _store_recovery(user: Any, course: Course, labs: Sequence[LabResult], start: datetime | None, patient: Patient,
                    why: str) -> None:
    result = compute_recovery(course, labs, live_transfusions(course), start)
    stored = CountRecovery.objects.select_for_update().filter(course=course).first()
    if result is None:
        if stored is not None:  # derived only: the course has no infusion any more
            stored.delete()
        return
    shape = result.to_json()
    if stored is None:
        stored = CountRecovery.objects.create(course=course, result_json=shape)
        old = ""
    elif stored.result_json == shape:
        return
    else:
        old = _recovery_said(stored.result_json)
        stored.result_json, stored.derived_at = shape, timezone.now()
        stored.save(update_fields=["result_json", "derived_at"])
    new = _recovery_said(shape)
    if old != new:
        log_event(user, "update", stored, patient, field="recovery", old=old, new=new,
                  note=f"count recovery derived again: {why}"[:500])


def _recovery_said(shape: dict[str, Any]) -> str:
    r = shape["recovery"]
    return f"{r['status']}" + ("" if r["day"] is None else f", day {r['day']} ({r['date']})")


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

"""One course of the web application as the plain :class:`mibg.reports.record.CourseRecord` the reports read.

Every number comes from the stored records, exactly as the course pages show them:

* eligibility: the latest evaluation (its typed ``EligibilityResult``), the study chair's signed
  decisions, and the course step that confirmed eligibility (who and when);
* the written directive: the current signed version, its plan as it was signed (the typed ``DosePlan`` read
  from ``plan_json``), and its accepted independent verification (10 CFR 35.41);
* assay, administration and the possible-medical-event review (mibg.web.treatment);
* readings (net of background, active only), the signed release, and the whole-body dosimetry as the radiation
  page computes it from the readings (mibg.web.radiation.services.compute_dosimetry), rounded as that page shows
  it (0.01, half up);
* follow-up labs (live, in their canonical unit, with the CTCAE v5.0 grade the follow-up app computes), adverse
  events, the latest INRC response, the stem-cell infusion;
* the plots: the same figures as the pages (mibg.web.radiation.plots, mibg.web.followup.plots) as PNG.

Times are given in the clinic's zone. ``document_time`` is the time of the last recorded change to the course
(the audit trail and the records' own times), never the clock: the same record gives the same document.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date, datetime, time
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.db.models import Max, Q
from django.utils import timezone

from mibg.core.errors import InputError
from mibg.core.times import site_time
from mibg.protocol import load_protocol
from mibg.reports.errors import ReportInputError
from mibg.reports.record import (
    Administration,
    AdverseEventRecord,
    Assay,
    AssayMeasurement,
    ChairDecision,
    CourseRecord,
    Directive,
    DosimetryConstant,
    DosimetrySummary,
    EligibilityRecord,
    ExposureReading,
    IndependentVerification,
    LabResult,
    PatientIdentity,
    Plots,
    ReleaseRecord,
    ResponseRecord,
    Signature,
    StemCellInfusion,
    SupportiveOrder,
)
from mibg.web.audit.models import AuditEvent
from mibg.web.courses.models import Course
from mibg.web.courses.services import current_directive
from mibg.web.followup import services as followup
from mibg.web.followup.models import AdverseEvent
from mibg.web.followup.plots import png, recovery_figure
from mibg.web.patients.models import Patient
from mibg.web.radiation.models import ReleaseRecord as ReleaseModel
from mibg.web.radiation.plots import readings_png
from mibg.web.radiation.services import compute_dosimetry
from mibg.web.screening.services import latest_evaluation
from mibg.web.screening.spec import label_of
from mibg.web.treatment.models import Assay as AssayModel

#: How the route chosen on the directive is written on the documents.
ACCESS = {"central_line": "central venous line", "peripheral_iv": "peripheral intravenous line"}
#: Follow-up adverse-event outcomes -> FHIR R4 AdverseEvent.outcome codes (mibg.reports.record.AE_OUTCOMES).
AE_OUTCOME = {"recovering": "recovering", "recovered": "resolved", "recovered_sequelae": "resolvedWithSequelae",
              "not_recovered": "ongoing", "fatal": "fatal", "unknown": "unknown"}
#: The radiation page shows tau, half-lives and doses with two decimals (Django floatformat:2, half up).
PAGE_STEP = Decimal("0.01")


def local(value: datetime) -> datetime:
    """An aware time in the clinic's zone (the documents print it with the zone's abbreviation, mibg.core.times)."""
    return timezone.localtime(value)


def trim(value: Decimal) -> Decimal:
    """A stored decimal without the trailing zeros of its column (``22.000`` -> ``22``), value unchanged."""
    normal = value.normalize()
    return normal if normal.as_tuple().exponent <= 0 else normal.quantize(Decimal(1))  # type: ignore[operator]


def page_rounded(value: float) -> Decimal:
    """A fitted float as the radiation page shows it: two decimals, half up."""
    return Decimal(repr(value)).quantize(PAGE_STEP, rounding=ROUND_HALF_UP)


def patient_identity(patient: Patient) -> PatientIdentity:
    return PatientIdentity(family=patient.family_name, given=patient.given_name, mrn=patient.mrn,
                           birth_date=patient.birth_date, sex=patient.sex)


# ---- eligibility --------------------------------------------------------------------------------------------


def _eligibility(course: Course, evaluation: Any) -> EligibilityRecord | None:
    if evaluation is None:
        return None
    decisions = tuple(
        ChairDecision(d.criterion, d.cleared, d.reason,
                      Signature(d.signed_name, "Study chair", local(d.decided_at),
                                f"Decision on {d.criterion}: {'cleared' if d.cleared else 'not cleared'}"))
        for d in course.chair_decisions.order_by("decided_at", "id"))
    confirmed = course.steps.filter(event="confirm_eligibility").select_related("by").order_by("-at", "-id").first()
    signatures: tuple[Signature, ...] = ()
    if confirmed is not None:
        note = f" Note: {confirmed.note}" if confirmed.note.strip() else ""
        signatures = (Signature(confirmed.by.signature_name(), "Physician or study chair (confirmed eligibility)",
                                local(confirmed.occurred_at or confirmed.at),
                                f"Confirmed eligibility in mibg (course step '{confirmed.from_state}' -> "
                                f"'{confirmed.to_state}').{note}"),)
    try:
        result = evaluation.eligibility
    except InputError as error:
        raise ReportInputError(error.field, error.message) from None
    missing = {path for c in result.criteria for path in c.missing}
    return EligibilityRecord(result, local(evaluation.evaluated_at), decisions, signatures,
                             {path: label_of(path) for path in sorted(missing)})  # as the form names them


# ---- directive ----------------------------------------------------------------------------------------------


def _weight_measured_on(course: Course, directive: Any, weight: Decimal) -> date:
    """The day the directive's weight was measured: from the screening evaluation it was planned on (the latest
    evaluated before the signature whose snapshot has this weight)."""
    for evaluation in course.evaluations.filter(evaluated_at__lte=directive.signed_at).order_by("-evaluated_at", "-id"):
        snapshot = json.loads(evaluation.snapshot_json)
        raw_weight, measured = snapshot.get("weight_kg"), snapshot.get("weight_measured_on")
        if raw_weight is not None and measured and Decimal(str(raw_weight)) == weight:
            return date.fromisoformat(str(measured)[:10])
    raise ReportInputError("directive.weight_measured_on", f"no screening evaluation before the signature records the "
                                                           f"weight {weight} kg of directive version {directive.version}")


def _directive(course: Course, directive: Any, assay: Any = None) -> Directive | None:
    if directive is None:
        return None
    try:
        plan = directive.dose_plan
    except InputError as error:
        raise ReportInputError(error.field, error.message) from None
    request = plan.request
    weight = request.weight_kg
    if weight != directive.weight_kg or request.mci_per_kg != directive.mci_per_kg:
        raise ReportInputError("directive.plan", f"the signed plan ({weight} kg, {request.mci_per_kg} mCi/kg) "
                                                 f"differs from directive version {directive.version}")
    if plan.activity.mci != directive.activity_mci:
        raise ReportInputError("directive.plan.activity_mci", f"the signed plan's {plan.activity.mci} mCi differs from "
                                                              f"the directive's {directive.activity_mci} mCi")
    if directive.specific_activity_mci_per_mg is not None:
        specific, unit = trim(directive.specific_activity_mci_per_mg), "mCi/mg"
    elif directive.specific_activity_ci_per_mmol is not None:
        specific, unit = trim(directive.specific_activity_ci_per_mmol), "Ci/mmol"
    else:
        specific, unit = None, None
    verifications = list(directive.verifications.order_by("at", "id"))
    chosen = next((v for v in reversed(verifications) if v.accepted), verifications[-1] if verifications else None)
    verification = None
    if chosen is not None:
        verification = IndependentVerification(
            Signature(chosen.signed_name, "Independent verifier (10 CFR 35.41)", local(chosen.at),
                      "I verified the directive independently, entering the weight and the dose per kg myself "
                      "(10 CFR 35.41)"),
            chosen.accepted, chosen.message, trim(chosen.weight_kg), trim(chosen.mci_per_kg))
    return Directive(
        plan=plan, weight_kg=weight, weight_measured_on=_weight_measured_on(course, directive, weight),
        # The lot is known from the assay (decisions.md A38): the directive and administration record headers
        # print it once the dose was assayed ("-" before).
        preparation=directive.get_preparation_display(), lot=assay.lot if assay is not None else None,
        specific_activity=specific,
        specific_activity_unit=unit, route="intravenous", access=ACCESS.get(directive.route, directive.route),
        signatures=(Signature(directive.signed_name, "Authorised user (physician)", local(directive.signed_at),
                              directive.signature_meaning),),
        verification=verification)


# ---- assay and administration -------------------------------------------------------------------------------


def _assay(assay: Any) -> Assay | None:
    if assay is None:
        return None
    check = assay.result  # the typed AssayCheck, read from its one stored shape (issue 11)
    message = check.message
    if assay.override_at is not None:
        message += (f" Authorised user's direction (10 CFR 35.63): {assay.override_name} at "
                    f"{site_time(assay.override_at)}: {assay.override_reason}")
    return Assay(
        lot=assay.lot, lot_calibration_time=local(assay.calibration_time),
        pre=AssayMeasurement(trim(check.correction.activity_from.mci), local(check.correction.time_from),
                             assay.calibrator_id, trim(check.corrected.mci)),
        within_tolerance=check.within_tolerance, message=message,
        signature=Signature(assay.recorded_by.signature_name(), "Dose assay (10 CFR 35.63)", local(assay.recorded_at),
                            "I assayed this dose and recorded the measurement"))


def _administration(a: Any) -> Administration | None:
    if a is None:
        return None
    deviations: tuple[str, ...] = ()
    if a.reviewed_at is not None:
        deviations = (f"Possible medical event reviewed by {a.reviewed_name} at "
                      f"{site_time(a.reviewed_at)}: {a.review_note}",)
    given = a.result  # the typed AdministeredActivity, read from its one stored shape (issue 11)
    return Administration(
        start=local(given.before.time_to), end=local(a.ended_at), administered_mci=trim(given.administered.mci),
        volume_ml=trim(a.volume_ml), route="intravenous", access=ACCESS.get(a.route, a.route),
        residual=AssayMeasurement(trim(given.residual.activity_from.mci), local(given.residual.time_from),
                                  a.assay.calibrator_id, trim(given.residual.activity_to.mci)),
        deviation_percent=trim(given.deviation_percent), possible_medical_event=given.possible_medical_event,
        deviations=deviations,
        signature=Signature(a.recorded_by.signature_name(), "Administration recorded by", local(a.recorded_at),
                            "I recorded this administration as given"))


# ---- radiation safety ---------------------------------------------------------------------------------------


def _readings(d: Any) -> tuple[ExposureReading, ...]:
    out = []
    for r in d.readings:
        notes = ["before the first void (100 %)"] if r.before_first_void else []
        if r.background_mr_per_h:
            notes.append(f"net of background: {trim(r.mr_per_h)} - {trim(r.background_mr_per_h)} mR/h")
        if r.note.strip():
            notes.append(r.note.strip())
        out.append(ExposureReading(local(r.measured_at), trim(r.net_mr_per_h), "; ".join(notes)))
    return tuple(out)


def _release(record: Any) -> ReleaseRecord | None:
    if record is None:
        return None
    return ReleaseRecord(
        basis=record.rule,
        criterion=(f"Site limit {trim(record.site_limit_mr_per_h)} mR/h at 1 m and a federal criterion of "
                   f"10 CFR 35.75 (criteria met: {record.criteria_met})"),
        released_at=local(record.released_at), last_reading_mr_per_h_at_1m=trim(record.dose_rate_mr_per_h),
        instructions_given=bool(record.instructions_given_to.strip()),
        signature=Signature(record.signed_name, "Medical physicist / RSO", local(record.signed_at),
                            record.signature_meaning))


def _dosimetry(d: Any) -> DosimetrySummary | None:
    if d.dose is None or d.retention is None:
        return None
    dose, retention = d.dose, d.retention
    s_value = dose.s_value_gy_kg_per_bq_s
    formula = "D = A0 x tau x S / m" if s_value is not None else "D = A0 x tau x (E_e + phi x E_gamma) x J/MeV / m"
    constants = [DosimetryConstant("energy_per_decay_mev", dose.energy_per_decay_mev, "MeV",
                                   "E_e + phi x E_gamma (protocol constants)")]
    for name in ("mean_electron_energy_mev", "mean_photon_energy_mev", "joule_per_mev"):
        constant = d.protocol.constants.get(name)
        if constant is not None and constant.value is not None:
            constants.append(DosimetryConstant(name, constant.value, constant.unit, constant.source))
    return DosimetrySummary(
        method=f"{retention.model} fit of the exposure-rate readings at 1 m ({retention.method}); {dose.method}: {formula}",
        tiac_h=page_rounded(retention.tiac_h),
        effective_half_lives_h=tuple(page_rounded(c.half_life_h) for c in retention.components),
        whole_body_dose_gy=page_rounded(dose.dose_gy),
        electron_only_dose_gy=page_rounded(dose.electron_only_gy),
        photon_absorbed_fraction=dose.photon_absorbed_fraction if s_value is None else None,
        body_mass_kg=trim(dose.weight_kg),
        constants=tuple(constants))


def _stem_cells(infusions: list[Any]) -> StemCellInfusion | None:
    if not infusions:
        return None
    first = infusions[0]
    reason = first.note.strip()
    others = [f"{o.product} at {site_time(o.infused_at)}" for o in infusions[1:]]
    if others:
        reason = "; ".join(filter(None, [reason, "further infusions: " + ", ".join(others)]))
    pbsc = first.product_type == "pbsc"
    kind = "peripheral blood stem cells" if pbsc else f"bone marrow, {first.cells_per_kg:.2E} {first.unit}"
    return StemCellInfusion(local(first.infused_at), f"{first.product} ({kind}), given by {first.given_by}",
                            trim(first.cells_per_kg) if pbsc else None, reason)


# ---- follow-up ----------------------------------------------------------------------------------------------


def _labs(labs: Iterable[Any]) -> tuple[LabResult, ...]:
    """TSH, free T4 and blood pressure carry no CTCAE grade from the value: their reading instead (issue 12)."""
    return tuple(LabResult(r.test, Decimal(r.value_canonical), local(r.collected_at),
                           Decimal(r.lln_canonical) if r.lln_canonical else None,
                           Decimal(r.uln_canonical) if r.uln_canonical else None,
                           None if r.clinical else r.grade.grade, r.grade.clause,
                           r.grade.summary if r.clinical else "")
                 for r in labs)


def _adverse_events(events: Iterable[Any]) -> tuple[AdverseEventRecord, ...]:
    zone = timezone.get_current_timezone()
    return tuple(AdverseEventRecord(
        term=e.term, grade=e.grade, onset=datetime.combine(e.started_on, time.min, zone), serious=e.serious,
        attribution=e.attribution, outcome=AE_OUTCOME.get(e.outcome, "unknown"),
        description="; ".join(filter(None, [e.description.strip(),
                                            f"ended {e.ended_on.isoformat()}" if e.ended_on else "",
                                            f"action: {e.get_action_taken_display()}"])))
        for e in events)


def _response(course: Course) -> ResponseRecord | None:
    latest = max(course.inrc_assessments.live(), key=lambda r: (r.assessed_on, r.pk), default=None)
    if latest is None:
        return None
    response = latest.result  # the typed InrcResponse, read from its one stored shape (issue 11)
    notes = [response.explanation]
    ratios = [r.ratio for _, r in followup.relative_scores(list(course.curie_assessments.live()))
              if r is not None and r.ratio is not None]
    if ratios:
        notes.append(f"relative Curie score {ratios[-1].quantize(Decimal('0.01'))}")
    if latest.note.strip():
        notes.append(latest.note.strip())
    overall = "needs review" if response.overall is None else response.overall.value
    return ResponseRecord(latest.assessed_on, overall, "INRC 2017", "; ".join(notes))


# ---- the record ---------------------------------------------------------------------------------------------


def _diagnosis(evaluation: Any) -> str:
    if evaluation is None:
        return "Neuroblastoma"
    kind = (json.loads(evaluation.snapshot_json).get("diagnosis") or {}).get("kind") or "neuroblastoma"
    return str(kind).replace("_", " ").capitalize()


def document_time(course: Course, objects: Iterable[Any]) -> datetime:
    """The last recorded change of the course: its records' own times and the audit trail of those records
    (a correction is dated only there). Views and exports are not changes."""
    objects = [o for o in objects if o is not None and o.pk is not None]
    by_model: dict[str, list[str]] = {}
    for o in objects:
        by_model.setdefault(o._meta.label, []).append(str(o.pk))
    query = Q()
    for label, ids in by_model.items():
        query |= Q(model=label, object_id__in=ids)
    latest = (AuditEvent.objects.filter(query, patient=course.patient).exclude(action__in=[AuditEvent.VIEW, AuditEvent.EXPORT])
              .aggregate(at=Max("at"))["at"])
    candidates = [course.created_at, *(course.steps.values_list("at", flat=True))]
    for o in objects:
        for name in ("evaluated_at", "decided_at", "signed_at", "voided_at", "at", "recorded_at", "override_at",
                     "reviewed_at", "entered_at", "released_at"):
            value = getattr(o, name, None)
            if isinstance(value, datetime):
                candidates.append(value)
    if latest is not None:
        candidates.append(latest)
    return local(max(candidates))


def course_record(course: Course, *, plots: bool = True, orders: bool = True) -> CourseRecord:
    """The course as a :class:`CourseRecord`; ``plots=False`` leaves the figures out (tables need none), and
    ``orders=False`` the supportive-care order set (the programme tables show none).

    Raises :class:`ReportInputError` when the stored records disagree with each other (a document is never
    built around inconsistent data).
    """
    course = Course.objects.select_related("patient").get(pk=course.pk)
    evaluation = latest_evaluation(course)
    directive = current_directive(course)
    administration = course.administrations.select_related("assay", "recorded_by").order_by("-started_at").first()
    assay: AssayModel | None
    if administration is not None:
        assay = administration.assay
    elif directive is not None:
        assay = course.assays.filter(directive=directive).select_related("recorded_by").order_by("-recorded_at", "-id").first()
    else:
        assay = None
    d = compute_dosimetry(course)
    release = ReleaseModel.objects.filter(course=course).first()
    infusions = list(course.stem_cell_infusions.order_by("infused_at", "id"))
    labs = followup.live_labs(course)  # each with its stored grade (course's baseline, decisions.md A33)
    events = list(AdverseEvent.objects.live().filter(course=course).order_by("started_on", "id"))
    figures = Plots()
    if plots:
        recovery = followup.recovery(course)  # as stored
        has_counts = recovery is not None and any(s.points for s in (recovery.anc, recovery.platelets, recovery.hemoglobin))
        figures = Plots(readings_png=readings_png(d) if d.readings and d.start is not None else None,
                        recovery_png=png(recovery_figure(recovery)) if recovery is not None and has_counts else None)
    if directive is not None:
        label = directive.protocol_label
    elif evaluation is not None:
        label = evaluation.protocol_label
    else:
        label = load_protocol().label
    objects: list[Any] = [course, evaluation, directive, assay, administration, release, *infusions, *labs, *events,
                          *course.chair_decisions.all(), *d.readings, *course.exposure_readings.exclude(voided_at=None),
                          *course.inrc_assessments.all(), *course.curie_assessments.all(), *course.lab_results.all(),
                          *course.adverse_events.all()]
    if directive is not None:
        objects += list(directive.verifications.all())
    order_set: tuple[SupportiveOrder, ...] = ()
    if orders:
        records = list(course.order_records.all())
        objects += records
        order_set = _orders(course, directive, administration, release, labs, records)
    return CourseRecord(
        patient=patient_identity(course.patient),
        course_number=course.number,
        protocol_label=label,
        document_time=document_time(course, objects),
        site=getattr(settings, "MIBG_SITE_NAME", ""),
        diagnosis=_diagnosis(evaluation),
        eligibility=_eligibility(course, evaluation),
        directive=_directive(course, directive, assay),
        assay=_assay(assay),
        administration=_administration(administration),
        readings=_readings(d),
        release=_release(release),
        dosimetry=_dosimetry(d),
        labs=_labs(labs),
        adverse_events=_adverse_events(events),
        response=_response(course),
        stem_cell_infusion=_stem_cells(infusions),
        plots=figures,
        orders=order_set,
    )


def _orders(course: Course, directive: Any, administration: Any, release: Any, labs: list[Any],
            records: list[Any]) -> tuple[SupportiveOrder, ...]:
    """The order set of the signed directive (issue 13), with how many due times are recorded."""
    from mibg.core import careplan
    from mibg.web.plan import services as plan

    confirmation = plan.iodide_confirmation()
    facts = plan.facts_from(course, directive, administration, release, plan.recovered_on(course, administration),
                            confirmation.signed_name if confirmation else None)
    if facts is None:
        return ()
    orders, _skipped = careplan.plan_orders(plan.protocol(), facts)
    done = {(r.code, r.due_at) for r in records}
    return tuple(SupportiveOrder(
        code=o.code, name=o.name, resource=o.resource, role=o.role, start=o.start, end=o.end, schedule=o.schedule,
        dose=o.dose.text if o.dose else "", dose_status=o.dose.status if o.dose else "", instructions=o.instructions,
        source=o.source, due_times=len(o.due), recorded=sum(1 for t in o.due if (o.code, t) in done)) for o in orders)

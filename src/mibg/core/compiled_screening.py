"""Screening verdicts compiled per protocol definition (issue 14): the statuses only, every threshold read once.

Each criterion's rule has exactly two expressions (issue 11, one home for every rule): the full evaluator in
:mod:`mibg.core.eligibility` (``check_*``: the status with its whole explanation, reading the criterion's thresholds
from the protocol definition on every patient; the reference, and the fallback) and the compiled rule here (the fast
path). Screening a programme needs only the verdicts, tens of thousands a second, so :class:`CompiledScreening`
turns one protocol definition into one list of rules, each a small function with its thresholds already read from
that definition (the same objects: nothing here is a number of the protocol), over what one pass derives from the
snapshot (:class:`Facts`: the current weight, stem cells adequate or not, the laboratory results inside the window,
the end of the last anti-tumour therapy).

Each rule decides by the same rule, in the same order, as its ``check`` in :mod:`mibg.core.eligibility`. What it
does not decide itself it hands back: a rule returns None for a case it leaves to the reference (the dose verdict
for a value the planner would refuse), and then :mod:`mibg.core.eligibility` asks the full evaluator for that
criterion. A protocol definition with anything this module does not read (a ``check`` it does not know, a
parameter missing or of another type, a comparison it does not know, a site window missing) is not compiled at
all (:class:`mibg.core.dose_verdict.CannotCompile`) and the full evaluator decides and explains every criterion at
once, as the evaluation did before verdicts came first.

The explanation (inputs, dates, reason, wording) is never built here: :mod:`mibg.core.eligibility` builds it from
the full evaluator when it is read, and checks it then against the verdict given here (``ExplanationMismatch``).
tests/unit/test_compiled_verdicts.py proves the compiled verdicts equal the full evaluator's over generated
patients, over patients at, just below and just above every threshold of the definition, and over modified
definitions.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from decimal import ROUND_CEILING, Decimal
from typing import Any

from mibg.core.calendar import add_months, age_in_years, birthday
from mibg.core.dose_verdict import (
    PHEO_KINDS,
    CannotCompile,
    DoseLimits,
    compile_dose_limits,
    quantity,
    site_days,
)
from mibg.core.dosing import cleared_rules, stem_cells_per_kg
from mibg.core.labs import conversion_factor, lab_definition
from mibg.core.results import Overall, Status, Verdict
from mibg.core.snapshot import Attestations, ChairDecision, LabResult, PatientSnapshot
from mibg.core.times import site_zone
from mibg.core.vocabulary import LabTest, Sex, TransfusionProduct, UrinalysisProtein
from mibg.protocol import Criterion, ProtocolDefinition

MET, NOT_MET, UNKNOWN, REVIEW = Status.MET, Status.NOT_MET, Status.UNKNOWN, Status.NEEDS_REVIEW
_PLAIN = frozenset(Status)
_ONE_DAY = timedelta(days=1)
_ZERO = Decimal(0)
_by_status: Callable[[dict[Status, Verdict], Any], Verdict] = dict.__getitem__
_NONE: frozenset[TransfusionProduct] = frozenset()

def cytokine_days_without_start(minimum_hours: Decimal) -> int:
    """Without the planned infusion start: the calendar days from a cytokine's last dose to the treatment date from
    which the dose is certainly at least ``minimum_hours`` before any moment of the treatment day (T4).

    Only the dates are compared (the dose's calendar day at the site, the treatment date), so the dose may have been given
    at the very end of its day and the infusion may start at the very beginning of the treatment day: ``n`` days
    apart leave at least ``(n - 1) x 24`` hours, and ``n = ceil(minimum_hours / 24) + 1`` is the least that is
    always enough (24 h: 2 days; 48 h: 3 days). Nearer than that the hours cannot be decided from the dates: the
    verdict is "unknown" and the planned infusion start is asked for (protocol record: "must be discontinued a
    minimum [of] 24 hours prior to MIBG therapy"; decisions.md A12, 24.0 h passes; A30, the same rule checked again
    against the actual start of the infusion). Read by both this module and mibg.core.eligibility: one rule."""
    return int((minimum_hours / 24).to_integral_value(rounding=ROUND_CEILING)) + 1


def cytokine_certainly_before(last: datetime, day: date, minimum_hours: Decimal, days: int) -> bool:
    """Without the planned infusion start: the dose at ``last`` is certainly ``minimum_hours`` before any moment of
    the treatment ``day`` at the site (T4; ``days`` is :func:`cytokine_days_without_start`'s).

    Its site day is at least ``days`` before ``day``, and the hours from it to the first moment of ``day`` at the site
    are at least ``minimum_hours``: the second differs from the first only when a day between has fewer than 24
    hours (the change to daylight time: a dose at 23:30 PST on 2026-03-07 is 23.5 h before 2026-03-09 00:00 PDT,
    two calendar days apart). Issues 11, 14: one rule for both paths, whatever offset ``last`` is written in.

    A dose whose own calendar day is ``days + 2`` or more before ``day`` is certainly early enough in every zone
    (more than ``(days - 1) x 24`` hours, offsets being less than 24 hours): then nothing is converted."""
    gap = (day - last.date()).days
    if gap >= days + 2:
        return True
    if gap + 2 < days:
        return False
    zone = site_zone()
    if (day - last.astimezone(zone).date()).days < days:
        return False
    first = datetime.combine(day, time(0), tzinfo=zone)
    return Decimal((first - last).total_seconds()) / 3600 >= minimum_hours

#: The comparisons a laboratory threshold may name, as mibg.core.eligibility reads them.
COMPARE: dict[str, Callable[[Decimal, Decimal], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}


class Facts:
    """What one pass derives from a snapshot for the rules (the compiled counterpart of eligibility's context)."""

    __slots__ = ("adequate", "assessment_start", "cd34_per_kg", "day", "labs", "last_mibg", "last_therapy",
                 "mnc_per_kg", "prior_mci_per_kg", "therapies_missing", "transfused", "weight")

    day: date
    #: The weight every per-kg figure uses: None when missing, undated or older than the site's window (A20).
    weight: Decimal | None
    #: Stored stem cells adequate; None when a product is stored but the weight is not current.
    adequate: bool | None
    #: The stored cells per kg of the current weight (mibg.core.dosing.stem_cells_per_kg; None without weight).
    cd34_per_kg: Decimal | None
    mnc_per_kg: Decimal | None
    #: Prior 131I-MIBG: the sum of what each course counts for (A14, A25) and the last infusion date.
    prior_mci_per_kg: Decimal
    last_mibg: date | None
    assessment_start: date
    #: The snapshot has no anti-tumour therapy list or no radiotherapy list (the last therapy cannot be known).
    therapies_missing: bool
    last_therapy: date | None
    #: Each test's results inside the laboratory window, oldest first (stable, as the reference sorts them).
    labs: dict[LabTest, list[LabResult]]
    #: The products of every recorded transfusion, whenever given (empty: none recorded).
    transfused: frozenset[TransfusionProduct]


#: A compiled rule: the status; for PD a verdict when it rests on a chair decision; None when the reference decides
#: this criterion for this patient.
Rule = Callable[[PatientSnapshot, Facts], "Status | Verdict | None"]
#: The full evaluator's verdict of the criterion at an index for a snapshot (mibg.core.eligibility's).
Reference = Callable[[PatientSnapshot, int], Verdict]


def _collected_at(lab: LabResult) -> datetime:
    return lab.collected_at


class CompiledScreening:
    """The verdicts of one protocol definition's criteria, as one list of rules bound to its thresholds."""

    __slots__ = ("_assessment_days", "_dose", "_lab_days", "_lab_tests", "_limits", "_reference", "_rules", "_tables",
                 "_weight_days", "label", "protocol")

    def __init__(self, protocol: ProtocolDefinition, reference: Reference) -> None:
        """Compile every criterion of ``protocol``, or raise :class:`CannotCompile`."""
        self.protocol = protocol
        #: ``protocol.label``, which each result cites (the definition is immutable: read once).
        self.label = protocol.label
        self._reference = reference
        limits = compile_dose_limits(protocol)
        if limits is None:
            raise CannotCompile("the dose limits")
        self._limits = limits
        self._weight_days = timedelta(days=site_days(protocol, "weight_max_age_days"))
        self._lab_days = timedelta(days=site_days(protocol, "lab_max_age_days"))
        self._assessment_days = timedelta(days=site_days(protocol, "assessment_max_age_days"))
        self._lab_tests: set[LabTest] = set()
        rules: list[Rule] = []
        for criterion in protocol.criteria:
            build = _BUILDERS.get(criterion.check)
            if build is None:
                raise CannotCompile(f"criterion {criterion.id}: no compiled rule for '{criterion.check}'")
            try:
                rules.append(build(criterion, self))
            except Exception as error:  # any parameter the rule cannot read: the reference reads (or refuses) it
                raise CannotCompile(f"criterion {criterion.id}: {error}") from None
        self._rules = tuple(rules)
        #: Each criterion's verdict for each plain status, made once.
        self._tables = tuple({status: Verdict(c.id, status) for status in Status} for c in protocol.criteria)
        self._dose = tuple(c.check == "planned_dose" for c in protocol.criteria)

    def facts(self, s: PatientSnapshot) -> Facts:
        facts = Facts()
        day = facts.day = s.planned_treatment_date
        weight, weighed = s.weight_kg, s.weight_measured_on
        if weight is None or weighed is None or weighed < day - self._weight_days or weighed > day:
            weight = None
        facts.weight = weight
        cd34 = mnc = None
        for product in s.stem_cell_products:
            if product.infused_on is None:  # a stored product (A24)
                if weight is None:
                    facts.adequate = None
                else:
                    cd34, mnc = stem_cells_per_kg(s, weight)
                    facts.adequate = self._limits.adequate(cd34, mnc)
                break
        else:
            facts.adequate = False
        facts.cd34_per_kg, facts.mnc_per_kg = cd34, mnc
        courses = s.prior_mibg_courses
        if courses:
            facts.prior_mci_per_kg = sum((course.counted_mci_per_kg for course in courses), Decimal(0))
            facts.last_mibg = max(course.infusion_date for course in courses)
        else:
            facts.prior_mci_per_kg, facts.last_mibg = _ZERO, None
        facts.assessment_start = day - self._assessment_days
        therapies, radiotherapy = s.anti_tumour_therapies, s.radiotherapy
        if therapies is None or radiotherapy is None:
            facts.therapies_missing, facts.last_therapy = True, None
        else:
            facts.therapies_missing = False
            ends = [t.last_dose_on for t in therapies]
            ends += [r.completed_on for r in radiotherapy]
            if facts.last_mibg is not None:
                ends.append(facts.last_mibg)
            facts.last_therapy = max(ends) if ends else None
        labs: dict[LabTest, list[LabResult]] = {}
        wanted = self._lab_tests
        start = day - self._lab_days
        for lab in s.labs:
            test = lab.test
            if test in wanted and _on_site_days(lab.collected_at, start, day):
                found = labs.get(test)
                if found is None:
                    labs[test] = [lab]
                else:
                    found.append(lab)
                    found.sort(key=_collected_at)
        facts.labs = labs
        transfusions = s.transfusions
        facts.transfused = frozenset([t.product for t in transfusions]) if transfusions else _NONE
        return facts

    def screen(self, s: PatientSnapshot) -> tuple[tuple[Verdict, ...], Overall, tuple[str, ...]]:
        """Every criterion's verdict (chair decisions applied as the reference applies them), the overall result,
        and the criteria whose verdict rests on a chair decision."""
        facts = self.facts(s)
        found = [rule(s, facts) for rule in self._rules]
        seen = set(found)
        if seen <= _PLAIN and not (REVIEW in seen and s.chair_decisions):
            # The common case: a status for every criterion, no chair decision to apply.
            verdicts = tuple(map(_by_status, self._tables, found))
            decided: tuple[str, ...] = ()
        else:
            verdicts = tuple([self._finish(index, status, s) for index, status in enumerate(found)])
            seen = {verdict.status for verdict in verdicts}
            decided = tuple([verdict.id for verdict in verdicts if verdict.decided])
        if NOT_MET in seen:
            overall = Overall.NOT_ELIGIBLE
        elif UNKNOWN in seen:
            overall = Overall.INCOMPLETE
        elif REVIEW in seen:
            overall = Overall.NEEDS_REVIEW
        else:
            overall = Overall.ELIGIBLE
        return verdicts, overall, decided

    def _finish(self, index: int, found: Status | Verdict | None, s: PatientSnapshot) -> Verdict:
        """The verdict of one criterion whose rule gave more than a plain status: None (the reference decides), a
        verdict resting on a chair decision (PD), or "needs review" that a chair decision on the criterion settles."""
        if found is None:
            return self._reference(s, index)
        if isinstance(found, Verdict):
            return found
        table = self._tables[index]
        if found is REVIEW and not self._dose[index]:
            cid = table[REVIEW].id
            decisions = [d for d in s.chair_decisions if d.criterion == cid]
            if decisions:
                return Verdict(cid, MET, True) if max(decisions, key=_decided_at).cleared else Verdict(cid, NOT_MET, True)
        return table[found]

    def lab_test(self, test: object) -> LabTest | None:
        """The test a criterion names, gathered by :meth:`facts`; None for a name no result can carry (the
        reference groups results by ``test.value``, so such a criterion never finds a result)."""
        if not isinstance(test, str):
            raise TypeError(f"laboratory test {test!r} is not a name")
        try:
            key = LabTest(test)
        except ValueError:
            return None
        self._lab_tests.add(key)
        return key


def _decided_at(decision: ChairDecision) -> datetime:
    return decision.at


def _names(params: Mapping[str, object], name: str) -> tuple[str, ...]:
    """A list parameter of names, read as the reference reads it (``x in list``); anything else is not compiled."""
    value = params[name]
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise TypeError(f"parameter {name} is not a list of names")
    return tuple(value)


#: A moment's calendar day in its own UTC offset is at most two days from its day at the site: two offsets differ
#: by less than 48 hours (Python's limit; real zones, -12:00 to +14:00, by at most 26).
_OWN_DAY_MARGIN = timedelta(days=2)


def _on_site_days(moment: datetime, first: date, last: date) -> bool:
    """``first <= the day of moment at the site <= last`` (mibg.core.times.site_date; issues 11, 14: a moment sent
    in UTC and the same moment sent in the site's zone fall on one day).

    A moment whose own day is two days or more inside the window is inside it in every zone: only the moments near
    an edge are converted (reading the site's zone and converting cost about ten times this comparison)."""
    own = moment.date()
    if first + _OWN_DAY_MARGIN <= own <= last - _OWN_DAY_MARGIN:
        return True
    return first <= moment.astimezone(site_zone()).date() <= last


def _site_days_before(day: date, moment: datetime, days: int) -> bool:
    """``moment`` is on a site day at least ``days`` calendar days before ``day`` (converted only near the edge)."""
    gap = (day - moment.date()).days
    if gap - 2 >= days:
        return True
    if gap + 2 < days:
        return False
    return (day - moment.astimezone(site_zone()).date()).days >= days


def _stale(day: date, start: date, end: date) -> bool:
    return day < start or day > end


# ---- the rules, one builder per ``check`` (the check_* of mibg.core.eligibility, in the same order) --------------


def _neuroblastoma_diagnosis(c: Criterion, cs: CompiledScreening) -> Rule:
    statuses = _names(c.params, "statuses")

    def rule(s: PatientSnapshot, f: Facts) -> Status:
        d = s.diagnosis
        if d is None:
            return UNKNOWN
        if d.kind in PHEO_KINDS:
            return MET
        status = s.disease_status
        if status is None:
            return UNKNOWN
        if status.category not in statuses:
            return NOT_MET
        if d.histopathology_confirmed:
            return MET
        if d.urine_catecholamines_elevated and d.tumor_cells_in_bone_marrow:
            return MET
        if d.histopathology_confirmed is False and (d.urine_catecholamines_elevated is False
                                                    or d.tumor_cells_in_bone_marrow is False):
            return NOT_MET
        return UNKNOWN

    return rule


def _pheo_diagnosis(c: Criterion, cs: CompiledScreening) -> Rule:
    statuses = _names(c.params, "statuses")

    def rule(s: PatientSnapshot, f: Facts) -> Status:
        d = s.diagnosis
        if d is None:
            return UNKNOWN
        if d.kind not in PHEO_KINDS:
            return MET
        status = s.disease_status
        if status is None:
            return UNKNOWN
        return MET if status.category in statuses else NOT_MET

    return rule


def _mibg_scan(c: Criterion, cs: CompiledScreening) -> Rule:
    window = timedelta(days=int(quantity(c.params, "window_days")))
    avid = c.params["requires"] == "avid"
    after_entry = bool(c.params.get("counts_after_entry"))

    def rule(s: PatientSnapshot, f: Facts) -> Status:
        if f.therapies_missing:
            return UNKNOWN
        entry = s.enrolment_date
        reference = entry if entry is not None else s.planned_treatment_date
        last_therapy = f.last_therapy
        earliest = reference - window
        latest = reference
        if after_entry and entry is not None:
            latest = min(entry + window, f.day)
        if not s.mibg_scans:
            return UNKNOWN
        current = False
        for scan in s.mibg_scans:
            when = scan.scan_date
            if earliest <= when <= latest and (last_therapy is None or when > last_therapy):
                if scan.avid if avid else scan.evaluable_disease:
                    return MET
                current = True
        return NOT_MET if current else UNKNOWN

    return rule


def _disease_status(c: Criterion, cs: CompiledScreening) -> Rule:
    def rule(s: PatientSnapshot, f: Facts) -> Status:
        status = s.disease_status
        if status is None:
            return UNKNOWN
        if status.failure_to_respond_to_standard_therapy or status.progressive_disease:
            return MET
        if status.failure_to_respond_to_standard_therapy is False and status.progressive_disease is False:
            return NOT_MET
        return UNKNOWN

    return rule


def _minimum_age(c: Criterion, cs: CompiledScreening) -> Rule:
    years = int(quantity(c.params, "older_than_years"))

    def rule(s: PatientSnapshot, f: Facts) -> Status:
        return MET if f.day >= birthday(s.birth_date, years) + _ONE_DAY else NOT_MET

    return rule


def _pheo_age_range(c: Criterion, cs: CompiledScreening) -> Rule:
    older = int(quantity(c.params, "older_than_years"))
    younger = int(quantity(c.params, "younger_than_years"))

    def rule(s: PatientSnapshot, f: Facts) -> Status:
        d = s.diagnosis
        if d is None:
            return UNKNOWN
        if d.kind not in PHEO_KINDS:
            return MET
        first_day = birthday(s.birth_date, older) + _ONE_DAY
        last_day = birthday(s.birth_date, younger) - _ONE_DAY
        return MET if first_day <= f.day <= last_day else NOT_MET

    return rule


def _attestation(c: Criterion, cs: CompiledScreening) -> Rule:
    name = c.params["attestation"]
    if not isinstance(name, str) or name not in Attestations.model_fields:
        raise KeyError(f"no attestation {name!r}")

    def rule(s: PatientSnapshot, f: Facts) -> Status:
        attestation = getattr(s.attestations, name)
        if attestation is None:
            return UNKNOWN
        if not _on_site_days(attestation.at, f.assessment_start, f.day):
            return UNKNOWN
        return MET if attestation.value else NOT_MET

    return rule


def _performance_status(c: Criterion, cs: CompiledScreening) -> Rule:
    minimum = int(quantity(c.params, "minimum_score"))
    int(quantity(c.params, "lansky_through_age_years"))  # the reference reads it on every patient

    def rule(s: PatientSnapshot, f: Facts) -> Status:
        p = s.performance
        if p is None:
            return UNKNOWN
        when = p.assessed_on
        if when < f.assessment_start or when > f.day:
            return UNKNOWN
        return MET if p.score >= minimum else NOT_MET

    return rule


def _informed_consent(c: Criterion, cs: CompiledScreening) -> Rule:
    def rule(s: PatientSnapshot, f: Facts) -> Status:
        consent = s.consent
        if consent is None:
            return UNKNOWN
        if not consent.signed:
            return NOT_MET
        if consent.signed_on is None or consent.signed_on > f.day:
            return UNKNOWN
        entry = s.enrolment_date
        if entry is not None and consent.signed_on > entry:
            return UNKNOWN
        return MET

    return rule


def _antitumour_therapy_washout(c: Criterion, cs: CompiledScreening) -> Rule:
    minimum = int(quantity(c.params, "minimum_days"))

    def rule(s: PatientSnapshot, f: Facts) -> Status:
        if f.therapies_missing:
            return UNKNOWN
        last = f.last_therapy
        if last is None:
            return MET
        return MET if (f.day - last).days >= minimum else NOT_MET

    return rule


def _radiotherapy_washout(c: Criterion, cs: CompiledScreening) -> Rule:
    fields = _names(c.params, "fields")
    months = int(quantity(c.params, "minimum_months"))

    def rule(s: PatientSnapshot, f: Facts) -> Status:
        courses = s.radiotherapy
        if courses is None:
            return UNKNOWN
        relevant = [r.completed_on for r in courses if r.field in fields]
        if not relevant:
            return MET
        return MET if f.day >= add_months(max(relevant), months) else NOT_MET

    return rule


def _cytokine_washout(c: Criterion, cs: CompiledScreening) -> Rule:
    hours = quantity(c.params, "minimum_hours")
    review_days = int(quantity(c.params, "long_acting_review_days"))
    long_acting = _names(c.params, "long_acting")
    days_without_start = cytokine_days_without_start(hours)

    def rule(s: PatientSnapshot, f: Facts) -> Status:
        doses = s.cytokines
        if doses is None:
            return UNKNOWN
        if not doses:
            return MET
        start = s.planned_infusion_start
        day = f.day
        found: set[Status] = set()
        for dose in doses:
            last = dose.last_dose_at
            if start is not None:
                short = None if Decimal((start - last).total_seconds()) / 3600 >= hours else NOT_MET
            else:
                short = None if cytokine_certainly_before(last, day, hours, days_without_start) else UNKNOWN
            if short is not None:
                found.add(short)
            elif dose.agent in long_acting and not _site_days_before(day, last, review_days + 1):
                found.add(REVIEW)
        for status in (NOT_MET, UNKNOWN, REVIEW):
            if status in found:
                return status
        return MET

    return rule


def _prior_mibg(c: Criterion, cs: CompiledScreening) -> Rule:
    months = int(quantity(c.params, "more_than_months"))
    max_cumulative = quantity(c.params, "maximum_cumulative_mci_per_kg")
    minimum_course = quantity(c.params, "minimum_course_mci_per_kg")

    def rule(s: PatientSnapshot, f: Facts) -> Status:
        last = f.last_mibg
        if last is None:  # no prior course
            return MET
        prior = f.prior_mci_per_kg
        if f.day <= add_months(last, months):
            return NOT_MET
        adequate = f.adequate
        if adequate is None:
            return UNKNOWN
        if not adequate:
            return NOT_MET
        planned = s.planned_mci_per_kg
        if planned is not None:
            return NOT_MET if prior + planned > max_cumulative else MET
        return NOT_MET if prior + minimum_course > max_cumulative else MET

    return rule


def _planned_dose(c: Criterion, cs: CompiledScreening) -> Rule:
    limits: DoseLimits = cs._limits
    cleared_verdict, refused_verdict = Verdict(c.id, MET, True), Verdict(c.id, NOT_MET, True)

    def rule(s: PatientSnapshot, f: Facts) -> Status | Verdict | None:
        planned = s.planned_mci_per_kg
        if planned is None:
            return MET
        weight = f.weight
        if weight is None:
            return UNKNOWN
        cd34, mnc = f.cd34_per_kg, f.mnc_per_kg  # None without a stored product, as the planner's
        prior, last = f.prior_mci_per_kg, f.last_mibg
        if not limits.plausible(weight, planned, prior, cd34, mnc, last, f.day):
            return None  # the planner refuses (or may refuse) a value: the reference says what that means
        diagnosis = s.diagnosis
        # f.adequate is the planner's adequacy of these figures (False without a stored product, as theirs is).
        blocks = limits.blocks(weight, planned, diagnosis is not None and diagnosis.kind in PHEO_KINDS,
                               bool(f.adequate), prior, last, f.day)
        if not blocks:
            return MET
        clearances = cleared_rules(s.chair_decisions)
        standing = [(limit_id, clearable) for limit_id, clearable in blocks
                    if not (clearable and limit_id in clearances)]
        cleared = any(clearable and limit_id in clearances for limit_id, clearable in blocks)
        if any(not clearable for _, clearable in standing):
            return NOT_MET
        if standing:
            for limit_id, _ in standing:
                decisions = [d for d in s.chair_decisions if d.criterion == limit_id]
                if decisions and not max(decisions, key=_decided_at).cleared:
                    return refused_verdict
            return REVIEW
        return cleared_verdict if cleared else MET

    return rule


def _stem_cell_product(c: Criterion, cs: CompiledScreening) -> Rule:
    gate = cs._limits.gate

    def rule(s: PatientSnapshot, f: Facts) -> Status:
        adequate = f.adequate
        if adequate is None:
            return UNKNOWN
        if adequate:
            return MET
        planned = s.planned_mci_per_kg
        if planned is not None and planned > gate:
            return NOT_MET
        if planned is not None and planned == gate:
            return REVIEW
        return MET

    return rule


def _lab_threshold(c: Criterion, cs: CompiledScreening) -> Rule:
    params = c.params
    test = params["lab"]
    key = cs.lab_test(test)
    applies_when = params.get("applies_when_stem_cells")
    threshold = c.quantity("threshold")
    if not isinstance(threshold.value, Decimal) or not threshold.value.is_finite():
        raise TypeError("threshold is not a finite number")
    if threshold.unit != lab_definition(test).display_unit:
        raise ValueError(f"threshold unit {threshold.unit} is not the canonical unit")  # the reference raises
    limit = threshold.value
    passes = COMPARE[params["comparison"]]
    independent = _names(params, "transfusion_independent") if params.get("transfusion_independent") else ()
    unsupported = frozenset(_names(params, "unsupported_by")) if params.get("unsupported_by", []) else frozenset()
    marrow_review = bool(params.get("marrow_metastasis_review"))
    lookback = timedelta(days=site_days(cs.protocol, "transfusion_lookback_days"))
    #: This test's conversion factors by unit spelling, as mibg.core.labs.conversion_factor gives them.
    factors: dict[str, tuple[Decimal, Decimal]] = {}

    def otherwise(s: PatientSnapshot) -> Status:
        attestation = s.attestations.cytopenia_due_to_marrow_metastasis
        return REVIEW if marrow_review and attestation is not None and attestation.value else NOT_MET

    def rule(s: PatientSnapshot, f: Facts) -> Status:
        if applies_when:
            adequate = f.adequate
            if adequate is None:
                return UNKNOWN
            if (applies_when == "adequate") != adequate:
                return MET
        if independent:
            day = f.day
            earliest = day - lookback
            if not f.transfused.isdisjoint(independent):  # else no transfusion of these products at all
                transfusions = s.transfusions
                for product in independent:
                    if any(t.product == product and _on_site_days(t.given_at, earliest, day)
                           for t in transfusions):
                        return otherwise(s)
        current = f.labs.get(key) if key is not None else None
        if not current:
            return UNKNOWN
        if not unsupported or f.transfused.isdisjoint(unsupported):
            lab = current[-1]  # no transfusion of these products at all: every result counts
        else:
            transfusions = s.transfusions
            for candidate in reversed(current):
                end = candidate.collected_at
                begin = end - lookback
                if not any(t.product.value in unsupported and begin <= t.given_at <= end for t in transfusions):
                    lab = candidate
                    break
            else:
                return UNKNOWN
        factor = factors.get(lab.unit)
        if factor is None:
            factor = factors[lab.unit] = conversion_factor(test, lab.unit)
        return MET if passes(lab.value * factor[0] / factor[1], limit) else otherwise(s)

    return rule


def _lab_uln_multiple(c: Criterion, cs: CompiledScreening) -> Rule:
    multiple = quantity(c.params, "below_uln_multiple")
    tests = [(test, cs.lab_test(test)) for test in _names(c.params, "labs")]
    units: dict[str, set[str]] = {test: set() for test, _ in tests}  # the unit spellings already accepted

    def rule(s: PatientSnapshot, f: Facts) -> Status:
        failed = False
        for test, key in tests:
            current = f.labs.get(key) if key is not None else None
            if not current:
                return UNKNOWN
            lab = current[-1]
            if lab.unit not in units[test]:
                conversion_factor(test, lab.unit)  # as the reference: an unknown unit fails alike
                units[test].add(lab.unit)
            if lab.uln is None:
                return UNKNOWN
            if not lab.value / lab.uln < multiple:
                failed = True
        return NOT_MET if failed else MET

    return rule


def _marrow_metastasis_review(c: Criterion, cs: CompiledScreening) -> Rule:
    def rule(s: PatientSnapshot, f: Facts) -> Status:
        return MET

    return rule


def _organ_disease(c: Criterion, cs: CompiledScreening) -> Rule:
    def rule(s: PatientSnapshot, f: Facts) -> Status:
        attestations = s.attestations
        no_major = attestations.no_major_organ_disease
        impairment = attestations.significant_organ_impairment
        if no_major is not None and not no_major.value:
            return NOT_MET
        if no_major is None or impairment is None:
            return UNKNOWN
        start, day = f.assessment_start, f.day
        if not (_on_site_days(no_major.at, start, day) and _on_site_days(impairment.at, start, day)):
            return UNKNOWN
        return REVIEW if impairment.value else MET

    return rule


def _pregnancy(c: Criterion, cs: CompiledScreening) -> Rule:
    lactation_from = int(quantity(c.params, "lactation_asked_from_age_years"))
    window = timedelta(days=site_days(cs.protocol, "pregnancy_status_max_age_days"))

    def rule(s: PatientSnapshot, f: Facts) -> Status:
        p = s.pregnancy
        sex = s.sex
        if p is None:
            return MET if sex is Sex.MALE else UNKNOWN
        if p.pregnant or p.lactating:
            return NOT_MET
        day = f.day
        asks_lactation = sex is not Sex.MALE and age_in_years(s.birth_date, day) >= lactation_from
        stale = p.assessed_on is None or _stale(p.assessed_on, day - window, day)
        if not p.childbearing_potential:
            if not asks_lactation:
                return MET
            if p.lactating is None or stale:
                return UNKNOWN
            return MET
        if stale or p.pregnant is None or p.lactating is None or p.effective_contraception is None:
            return UNKNOWN
        return MET if p.effective_contraception else NOT_MET

    return rule


def _hemodialysis(c: Criterion, cs: CompiledScreening) -> Rule:
    def rule(s: PatientSnapshot, f: Facts) -> Status:
        value = s.on_hemodialysis
        if value is None:
            return UNKNOWN
        return NOT_MET if value else MET

    return rule


def _active_infection(c: Criterion, cs: CompiledScreening) -> Rule:
    window = timedelta(days=site_days(cs.protocol, "infection_status_max_age_days"))
    grade = int(quantity(c.params, "excluding_grade_at_least"))

    def rule(s: PatientSnapshot, f: Facts) -> Status:
        screen = s.infection_screen
        if screen is None:
            return UNKNOWN
        day = f.day
        if _stale(screen.assessed_on, day - window, day):
            return UNKNOWN
        return NOT_MET if any(i.active and i.ctcae_grade >= grade for i in screen.infections) else MET

    return rule


def _proteinuria(c: Criterion, cs: CompiledScreening) -> Rule:
    diagnoses = _names(c.params, "diagnoses")

    def rule(s: PatientSnapshot, f: Facts) -> Status:
        d = s.diagnosis
        if d is None:
            return UNKNOWN
        if d.kind not in diagnoses:
            return MET
        p = s.proteinuria
        if p is None or _stale(p.urinalysis_on, f.assessment_start, f.day):
            return UNKNOWN
        if p.urinalysis_protein is UrinalysisProtein.NEGATIVE:
            return MET
        collected = p.urine_24h_collected_on
        if (p.urine_24h_protein_mg is None or collected is None or collected < p.urinalysis_on or collected > f.day
                or p.urine_24h_reference_upper_mg is None):
            return UNKNOWN
        return NOT_MET if p.urine_24h_protein_mg > p.urine_24h_reference_upper_mg else MET

    return rule


#: The compiled rule of each ``check`` the full evaluator knows (mibg.core.eligibility.CHECKS).
_BUILDERS: dict[str, Callable[[Criterion, CompiledScreening], Rule]] = {
    "neuroblastoma_diagnosis": _neuroblastoma_diagnosis,
    "pheo_diagnosis": _pheo_diagnosis,
    "mibg_scan": _mibg_scan,
    "disease_status": _disease_status,
    "minimum_age": _minimum_age,
    "pheo_age_range": _pheo_age_range,
    "attestation": _attestation,
    "performance_status": _performance_status,
    "informed_consent": _informed_consent,
    "antitumour_therapy_washout": _antitumour_therapy_washout,
    "radiotherapy_washout": _radiotherapy_washout,
    "cytokine_washout": _cytokine_washout,
    "prior_mibg": _prior_mibg,
    "planned_dose": _planned_dose,
    "stem_cell_product": _stem_cell_product,
    "lab_threshold": _lab_threshold,
    "lab_uln_multiple": _lab_uln_multiple,
    "marrow_metastasis_review": _marrow_metastasis_review,
    "organ_disease": _organ_disease,
    "pregnancy": _pregnancy,
    "hemodialysis": _hemodialysis,
    "active_infection": _active_infection,
    "proteinuria": _proteinuria,
}

#: The checks this module compiles.
COMPILED_CHECKS: Sequence[str] = tuple(_BUILDERS)


def compile_screening(protocol: ProtocolDefinition, reference: Reference) -> CompiledScreening | None:
    """The compiled verdicts of ``protocol``, or None when it has anything this module does not read (the caller
    then decides every criterion by the full evaluator)."""
    try:
        return CompiledScreening(protocol, reference)
    except CannotCompile:
        return None


#: The module's public surface: what the other layers may import (tests/unit/test_architecture.py).
__all__ = [
    "COMPARE",
    "COMPILED_CHECKS",
    "CompiledScreening",
    "Facts",
    "Reference",
    "Rule",
    "compile_screening",
    "cytokine_certainly_before",
    "cytokine_days_without_start",
]

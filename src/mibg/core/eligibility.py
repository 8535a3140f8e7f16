"""Eligibility: every inclusion and exclusion criterion of NCT01370330, evaluated from a patient snapshot.

The criteria and their thresholds are data (``protocol.criteria``); each names a generic ``check`` that is
implemented here once. Each result is met / not met / unknown / needs review with the inputs it used (and
their dates), a one-line reason and the record's wording. Missing or stale data gives "unknown", never a
guess. The overall result follows decisions.md "Results".
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any, Generic, TypeVar

from mibg.core.calendar import add_months, age_in_years, birthday
from mibg.core.compiled_screening import (
    CompiledScreening,
    compile_screening,
    cytokine_certainly_before,
    cytokine_days_without_start,
)
from mibg.core.dosing import (
    cleared_rules,
    dose_request_from_snapshot,
    plan_dose,
    stem_cells_per_kg,
    stored_products,
)
from mibg.core.errors import InputError
from mibg.core.labs import lab_definition, to_canonical
from mibg.core.results import CriterionResult, InputUsed, Overall, Severity, Status, Verdict
from mibg.core.serial import JSON, Reader, ShapeError, day, envelope
from mibg.core.snapshot import Attestation, ChairDecision, LabResult, PatientSnapshot, PriorMibgCourse
from mibg.core.stem_cells import stem_cell_status
from mibg.core.times import site_date, site_time
from mibg.core.vocabulary import DiagnosisKind, PerformanceScale, Sex, UrinalysisProtein
from mibg.protocol import Criterion, ProtocolDefinition, load_protocol

_T = TypeVar("_T")

MET, NOT_MET, UNKNOWN, REVIEW = Status.MET, Status.NOT_MET, Status.UNKNOWN, Status.NEEDS_REVIEW

_COMPARE: dict[str, Callable[[Decimal, Decimal], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}
_COMPARE_WORDS = {">": "above", ">=": "at least", "<": "below", "<=": "at most"}


#: How a chair decision that did not come from the application is shown (decisions.md A27).
UNVERIFIED_DECISION = "recorded outside the application, unverified"


class ExplanationMismatch(RuntimeError):
    """A criterion's explanation disagrees with the verdict computed first: a defect in this module, never data."""


class EligibilityResult:
    """Every criterion's verdict, computed eagerly, and its explanation (inputs, dates, reason, wording), built
    when it is first read (:attr:`criteria`, :meth:`criterion`, :meth:`to_json`). Immutable once made."""

    __slots__ = (
        "_explain",
        "_explained",
        "overall",
        "protocol_label",
        "treatment_date",
        "unverified_decisions",
        "verdicts",
        "warnings",
    )

    protocol_label: str
    treatment_date: date
    overall: Overall
    verdicts: tuple[Verdict, ...]
    #: Warnings that never change the result (e.g. a planned treatment date already in the past).
    warnings: tuple[str, ...]
    #: Criteria whose status rests on a chair decision recorded outside the application (decisions.md A27).
    unverified_decisions: tuple[str, ...]
    _explained: list[CriterionResult | None]
    _explain: Callable[[int], CriterionResult] | None

    def __init__(self, protocol_label: str, treatment_date: date, overall: Overall, criteria: tuple[CriterionResult, ...],
                 warnings: tuple[str, ...] = (), unverified_decisions: tuple[str, ...] = ()) -> None:
        """A result whose explanations are already built (read back from its JSON, or made by hand)."""
        criteria = tuple(criteria)
        self._init(protocol_label, treatment_date, overall,
                   tuple(Verdict(c.id, c.status, bool(c.cleared_by)) for c in criteria), warnings, unverified_decisions,
                   list(criteria), None)

    @classmethod
    def deferred(cls, protocol_label: str, treatment_date: date, overall: Overall, verdicts: tuple[Verdict, ...],
                 warnings: tuple[str, ...], unverified_decisions: tuple[str, ...],
                 explain: Callable[[int], CriterionResult]) -> EligibilityResult:
        """A result whose explanations ``explain(index)`` builds on first reading, each checked against its verdict."""
        result = cls.__new__(cls)
        result._init(protocol_label, treatment_date, overall, verdicts, warnings, unverified_decisions,
                     [None] * len(verdicts), explain)
        return result

    def _init(self, protocol_label: str, treatment_date: date, overall: Overall, verdicts: tuple[Verdict, ...],
              warnings: tuple[str, ...], unverified_decisions: tuple[str, ...],
              explained: list[CriterionResult | None], explain: Callable[[int], CriterionResult] | None) -> None:
        setter = object.__setattr__
        setter(self, "protocol_label", protocol_label)
        setter(self, "treatment_date", treatment_date)
        setter(self, "overall", overall)
        setter(self, "verdicts", verdicts)
        setter(self, "warnings", tuple(warnings))
        setter(self, "unverified_decisions", tuple(unverified_decisions))
        setter(self, "_explained", explained)
        setter(self, "_explain", explain)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"EligibilityResult is immutable: cannot set {name}")

    def _explanation(self, index: int) -> CriterionResult:
        result = self._explained[index]
        if result is None:
            assert self._explain is not None
            result = self._explain(index)
            verdict = self.verdicts[index]
            if (result.id, result.status, bool(result.cleared_by)) != tuple(verdict):
                raise ExplanationMismatch(f"criterion {result.id}: the explanation says '{result.status}' "
                                          f"(decided: {bool(result.cleared_by)}), the verdict '{verdict.status}' "
                                          f"(decided: {verdict.decided})")
            self._explained[index] = result
        return result

    @property
    def criteria(self) -> tuple[CriterionResult, ...]:
        """Every criterion with its whole explanation, in the protocol's order (built on first reading)."""
        return tuple(self._explanation(i) for i in range(len(self.verdicts)))

    @property
    def verdict(self) -> str:
        """The overall result in words, saying what it depends on (decisions.md A27)."""
        text = str(self.overall)
        if self.unverified_decisions:
            text += (f", depending on chair decisions {UNVERIFIED_DECISION} "
                     f"({', '.join(self.unverified_decisions)})")
        return text

    def by_status(self, status: Status) -> tuple[CriterionResult, ...]:
        return tuple(self._explanation(i) for i, v in enumerate(self.verdicts) if v.status is status)

    def criterion(self, criterion_id: str) -> CriterionResult:
        """One criterion with its explanation (only that one is built). StopIteration for an unknown ID."""
        return self._explanation(next(i for i, v in enumerate(self.verdicts) if v.id == criterion_id))

    def status_of(self, criterion_id: str) -> Status:
        """One criterion's verdict, without building its explanation. StopIteration for an unknown ID."""
        return next(v.status for v in self.verdicts if v.id == criterion_id)

    def _key(self) -> tuple[object, ...]:
        return (self.protocol_label, self.treatment_date, self.overall, self.criteria, self.warnings,
                self.unverified_decisions)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, EligibilityResult):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return (f"EligibilityResult(protocol_label={self.protocol_label!r}, treatment_date={self.treatment_date!r}, "
                f"overall={self.overall!r}, verdicts={self.verdicts!r}, warnings={self.warnings!r}, "
                f"unverified_decisions={self.unverified_decisions!r})")

    def to_json(self) -> JSON:
        """The screening result's one exact shape (mibg.core.serial): stored with each evaluation, returned by the
        API and ``mibg eligibility --json``, read back by the documents. ``overall`` is checked on reading."""
        return {
            **envelope(ELIGIBILITY_SCHEMA, ELIGIBILITY_VERSION),
            "protocol": self.protocol_label,
            "treatment_date": day(self.treatment_date),
            "overall": str(self.overall),
            "verdict": self.verdict,
            "warnings": list(self.warnings),
            "unverified_decisions": list(self.unverified_decisions),
            "criteria": [c.to_json() for c in self.criteria],
        }

    @classmethod
    def from_json(cls, data: object, path: str = "eligibility") -> EligibilityResult:
        r = Reader.result(data, ELIGIBILITY_SCHEMA, ELIGIBILITY_VERSION, path)
        criteria = r.each("criteria", CriterionResult.from_json)
        overall = r.enum("overall", Overall)
        if overall is not overall_result(criteria):
            raise ShapeError(f"{path}.overall", f"'{overall}' is not the overall result of its criteria "
                                                f"('{overall_result(criteria)}', decisions.md \"Results\")")
        result = cls(r.text("protocol"), r.day("treatment_date"), overall, criteria, r.texts("warnings"),
                     r.texts("unverified_decisions"))
        r.check("verdict", result.verdict)
        return result


#: The screening result's serialization. Version 1 added ``schema``/``schema_version`` to the shape stored
#: before it (migration screening 0002 converts those).
ELIGIBILITY_SCHEMA = "mibg.eligibility"
ELIGIBILITY_VERSION = 1


def overall_result(results: Iterable[CriterionResult | Verdict]) -> Overall:
    """Eligible only when every criterion is met; not eligible when any is not met (decisions.md "Results")."""
    statuses = {r.status for r in results}
    if NOT_MET in statuses:
        return Overall.NOT_ELIGIBLE
    if UNKNOWN in statuses:
        return Overall.INCOMPLETE
    if REVIEW in statuses:
        return Overall.NEEDS_REVIEW
    return Overall.ELIGIBLE


def evaluate_eligibility(snapshot: PatientSnapshot, protocol: ProtocolDefinition | None = None, *,
                         decisions_signed_in_application: bool = False, today: date | None = None) -> EligibilityResult:
    """Evaluate every criterion of the protocol for ``snapshot`` on its planned treatment date.

    ``decisions_signed_in_application``: the snapshot's chair decisions were signed in the application by a user
    with the chair role. Otherwise (a file read by the command) they are shown as recorded outside the
    application, unverified, and the verdict says it depends on them (decisions.md A27).
    ``today``: the day of the screening, for the warning about a planned treatment date already past.

    The verdicts come from the rules compiled once for this definition (:mod:`mibg.core.compiled_screening`), and
    every explanation is built from the full evaluator (``check_*``) when it is read, and checked then against its
    verdict. For a definition the compiled rules cannot read, or when they fail, the full evaluator decides and
    explains at once (:func:`explain_eligibility`): each rule has exactly two expressions, the full evaluator (the
    reference and the fallback) and the compiled rule (the fast path).
    """
    protocol = protocol or load_protocol()
    entry = _COMPILED.get(id(protocol))
    compiled = entry[1] if entry is not None and entry[0] is protocol else compiled_verdicts(protocol)
    screened = None
    if compiled is not None:
        try:
            screened = compiled.screen(snapshot)
        except Exception:  # whatever the compiled path cannot do, the full evaluator decides (or refuses)
            screened = None
    if compiled is None or screened is None:
        return explain_eligibility(snapshot, protocol, decisions_signed_in_application=decisions_signed_in_application,
                                   today=today)
    verdicts, overall, decided = screened
    unverified = () if decisions_signed_in_application else decided
    return EligibilityResult.deferred(compiled.label, snapshot.planned_treatment_date, overall, verdicts,
                                      _warnings(snapshot, today) if today is not None else (), unverified,
                                      partial(_explain, snapshot, protocol, decisions_signed_in_application, []))


def _explain(snapshot: PatientSnapshot, protocol: ProtocolDefinition, decisions_signed: bool, contexts: list[_Context],
             index: int) -> CriterionResult:
    """The explanation of the criterion at ``index``, from the full evaluator; one context for every explanation of
    a result (``contexts``), made when the first one is read."""
    if not contexts:
        contexts.append(_Context(snapshot, protocol, decisions_signed))
    return _apply_chair_decision(_evaluate(protocol.criteria[index], contexts[0]), contexts[0])


def reference_verdicts(snapshot: PatientSnapshot, protocol: ProtocolDefinition) -> tuple[Verdict, ...]:
    """Every criterion's verdict by the full evaluator (each explanation built, chair decisions applied): the
    reference the compiled verdicts are proved equal to (tests/unit/test_compiled_verdicts.py)."""
    context = _Context(snapshot, protocol)
    return tuple([_reference_verdict(criterion, context) for criterion in protocol.criteria])


def _reference_verdict(criterion: Criterion, context: _Context) -> Verdict:
    result = _apply_chair_decision(_evaluate(criterion, context), context)
    return Verdict(result.id, result.status, bool(result.cleared_by))


#: The compiled verdicts of the last few protocol objects, keyed by identity (the object is kept, so its id is not
#: reused); None for a definition with something the compiled path does not read.
_COMPILED: dict[int, tuple[ProtocolDefinition, CompiledScreening | None]] = {}


def compiled_verdicts(protocol: ProtocolDefinition) -> CompiledScreening | None:
    """The verdicts of ``protocol`` compiled once (:mod:`mibg.core.compiled_screening`), or None: the full evaluator
    decides every criterion of this definition."""
    entry = _COMPILED.get(id(protocol))
    if entry is not None and entry[0] is protocol:
        return entry[1]
    criteria = protocol.criteria

    def reference(snapshot: PatientSnapshot, index: int) -> Verdict:
        """A criterion the compiled rule hands back (PD for a value the planner refuses): the full evaluator's."""
        return _reference_verdict(criteria[index], _Context(snapshot, protocol))

    compiled = compile_screening(protocol, reference)
    if len(_COMPILED) >= 16:
        _COMPILED.pop(next(iter(_COMPILED)))
    _COMPILED[id(protocol)] = (protocol, compiled)
    return compiled


def _warnings(snapshot: PatientSnapshot, today: date | None) -> tuple[str, ...]:
    if today is not None and snapshot.planned_treatment_date < today:
        return (f"The planned treatment date {snapshot.planned_treatment_date} is already past (today is "
                f"{today}): every window and age was computed for that date. Set the date the patient will "
                "be treated and screen again.",)
    return ()


def explain_eligibility(snapshot: PatientSnapshot, protocol: ProtocolDefinition | None = None, *,
                        decisions_signed_in_application: bool = False, today: date | None = None) -> EligibilityResult:
    """:func:`evaluate_eligibility` with every explanation built now, each status taken from its explanation (the
    evaluation as it was before the verdicts came first): the reference the lazy explanations are proved equal to
    (tests/unit/test_lazy_explanation.py)."""
    protocol = protocol or load_protocol()
    context = _Context(snapshot, protocol, decisions_signed_in_application)
    results = tuple(_apply_chair_decision(_evaluate(criterion, context), context) for criterion in protocol.criteria)
    unverified = () if decisions_signed_in_application else tuple(r.id for r in results if r.cleared_by)
    return EligibilityResult(protocol.label, snapshot.planned_treatment_date, overall_result(results), results,
                             _warnings(snapshot, today), unverified)


def _evaluate(criterion: Criterion, context: _Context) -> CriterionResult:
    try:
        check = CHECKS[criterion.check]
    except KeyError:
        raise KeyError(f"criterion {criterion.id}: no evaluator named '{criterion.check}'") from None
    return check(criterion, context)


def _apply_chair_decision(result: CriterionResult, context: _Context) -> CriterionResult:
    """Only a recorded chair decision clears "needs review" (decisions.md H5, X1), and it clears exactly the
    criterion it names (decisions.md A35): a decision on S1 leaves the S2 dose gate as it was."""
    if result.status is not REVIEW or context.protocol.criterion(result.id).check == "planned_dose":
        # PD is decided on the dose limit it names (S2, R2), never on PD itself: the planner reads the same decisions.
        return result
    decisions = [d for d in context.snapshot.chair_decisions if d.criterion == result.id]
    if not decisions:
        return result
    decision = max(decisions, key=lambda d: d.at)
    who = context.decision_text(decision)
    scope = _DECISION_SCOPE.get(result.id, "")
    if decision.cleared:
        return result._replace(status=MET, reason=f"Cleared by the study chair ({who}). {result.reason}{scope}",
                               cleared_by=who)
    return result._replace(status=NOT_MET, reason=f"Not cleared by the study chair ({who}). {result.reason}", cleared_by=who)


#: What a decision on a criterion does not clear, said wherever it is shown (decisions.md A35).
_GATE = load_protocol().dose_limit("S2").quantity("gate_mci_per_kg")
_DECISION_SCOPE = {
    "S1": (f" This decision clears S1 only: a dose of {_GATE.value} {_GATE.unit} or more without adequate stem cells is "
           "still blocked by the S2 dose gate until the study chair decides S2 with the planned dose shown "
           "(decisions.md A35)."),
}


# --------------------------------------------------------------------------------------------------------
# Context: the snapshot plus what several criteria derive from it, computed once.


class cached_property(Generic[_T]):  # named as the functools descriptor it replaces
    """functools.cached_property without its lock (Python 3.11 takes one on every first read): a context belongs to
    one evaluation in one thread, and screening reads thousands a second."""

    def __init__(self, function: Callable[[Any], _T]) -> None:
        self.function = function
        self.name = function.__name__
        self.__doc__ = function.__doc__

    def __get__(self, instance: Any, owner: type | None = None) -> _T:
        if instance is None:
            return self  # type: ignore[return-value]
        value = instance.__dict__[self.name] = self.function(instance)
        return value


class _Context:
    def __init__(self, snapshot: PatientSnapshot, protocol: ProtocolDefinition, decisions_signed: bool = False) -> None:
        self.snapshot = snapshot
        self.protocol = protocol
        self.day = snapshot.planned_treatment_date
        self.decisions_signed = decisions_signed

    def decision_text(self, decision: ChairDecision) -> str:
        """Who decided, when and why; a decision not signed in the application says so (decisions.md A27)."""
        text = f"{decision.by} on {site_date(decision.at).isoformat()}: {decision.reason}"
        return text if self.decisions_signed else f"{text}; {UNVERIFIED_DECISION}"

    @property
    def weight_missing(self) -> tuple[str, ...]:
        """The field to fill in when the current weight is unusable: the weight itself, or its date (A20)."""
        return ("weight_kg",) if self.snapshot.weight_kg is None else ("weight_measured_on",)

    @cached_property
    def dose_clearances(self) -> frozenset[str]:
        """The dose limits the chair cleared by name (S2, R2): a decision clears exactly the rule it names (A35)."""
        return cleared_rules(self.snapshot.chair_decisions)

    def latest_decision(self, rule: str) -> ChairDecision | None:
        return max((d for d in self.snapshot.chair_decisions if d.criterion == rule), key=lambda d: d.at, default=None)

    def cleared_text(self, rule: str) -> str:
        decision = self.latest_decision(rule)
        return self.decision_text(decision) if decision else ""

    @cached_property
    def weight(self) -> tuple[Decimal | None, str]:
        """(weight, description): the weight every per-kg figure uses, None when it is missing or older than the
        site's window before the treatment date (decisions.md A20)."""
        s = self.snapshot
        window = int(self.protocol.site("weight_max_age_days"))
        if s.weight_kg is None:
            return None, "no current weight recorded"
        if s.weight_measured_on is None:
            return None, f"the weight of {s.weight_kg} kg has no date of weighing (it must be within {window} days)"
        if self.is_stale(s.weight_measured_on, self.day - timedelta(days=window)):
            return None, (f"the weight of {s.weight_kg} kg was measured on {s.weight_measured_on}, not within {window} "
                          f"days before {self.day} (decisions.md A20): weigh the patient again")
        return s.weight_kg, f"{s.weight_kg} kg measured on {s.weight_measured_on}"

    @cached_property
    def lab_window_start(self) -> date:
        return self.day - timedelta(days=int(self.protocol.site("lab_max_age_days")))

    @cached_property
    def transfusion_lookback(self) -> timedelta:
        return timedelta(days=int(self.protocol.site("transfusion_lookback_days")))

    @cached_property
    def assessment_window_start(self) -> date:
        return self.day - timedelta(days=int(self.protocol.site("assessment_max_age_days")))

    @cached_property
    def age_years(self) -> int:
        return age_in_years(self.snapshot.birth_date, self.day)

    @cached_property
    def stem_cells(self) -> tuple[bool | None, str]:
        """(adequate, description); adequate is None when the weight needed for per-kg figures is missing or old.

        The cells of every stored, not infused product of one kind are summed, per kg of the current weight
        (decisions.md A15, A20, A24)."""
        s = self.snapshot
        if not stored_products(s):
            infused = " (every recorded product has been infused)" if s.stem_cell_products else ""
            return False, f"no stored stem-cell product{infused}"
        weight, weight_text = self.weight
        if weight is None:
            return None, f"stored product(s) recorded but {weight_text}, so they cannot be expressed per kg"
        # The one stem-cell status, shared with the dose planner (mibg.core.stem_cells).
        status = stem_cell_status(*stem_cells_per_kg(s, weight), self.protocol)
        return status.adequate, f"{status.description} at {weight_text}"

    @cached_property
    def stem_cells_adequate(self) -> bool | None:
        """The verdict of :attr:`stem_cells` without its description."""
        s = self.snapshot
        if not stored_products(s):
            return False
        weight = self.weight[0]
        if weight is None:
            return None
        return stem_cell_status(*stem_cells_per_kg(s, weight), self.protocol).adequate

    @cached_property
    def therapies_recorded(self) -> list[str]:
        """The snapshot fields still missing before "the last anti-tumour therapy" can be known (A21)."""
        s = self.snapshot
        return [name for name in ("anti_tumour_therapies", "radiotherapy") if getattr(s, name) is None]

    @cached_property
    def last_antitumour_therapy(self) -> tuple[date, str] | None:
        """The end of the latest anti-tumour therapy of any kind: systemic, surgery aimed at the tumour, radiotherapy
        to any field and 131I-MIBG itself (decisions.md A21), with what it was."""
        s = self.snapshot
        ends: list[tuple[date, str]] = [(t.last_dose_on, f"{t.description} ({t.kind.value})")
                                        for t in s.anti_tumour_therapies or ()]
        ends += [(r.completed_on, f"radiotherapy, {r.field.value.replace('_', ' ')} field") for r in s.radiotherapy or ()]
        ends += [(c.infusion_date, "131I-MIBG") for c in s.prior_mibg_courses]
        return max(ends, key=lambda end: end[0], default=None)

    @cached_property
    def _labs_by_test(self) -> dict[str, list[LabResult]]:
        grouped: dict[str, list[LabResult]] = {}
        for lab in sorted(self.snapshot.labs, key=lambda lab: lab.collected_at):
            grouped.setdefault(lab.test.value, []).append(lab)
        return grouped

    @cached_property
    def current_labs(self) -> dict[str, tuple[list[LabResult], LabResult | None]]:
        """What :func:`_current_labs` found for each test read so far."""
        return {}

    def labs(self, test: str) -> list[LabResult]:
        """Results of ``test``, oldest first."""
        return self._labs_by_test.get(test, [])

    def transfused_within(self, products: Iterable[str], start: datetime, end: datetime) -> list[datetime]:
        wanted = set(products)
        return [t.given_at for t in self.snapshot.transfusions if t.product.value in wanted and start <= t.given_at <= end]

    def is_stale(self, day: date, window_start: date) -> bool:
        return day < window_start or day > self.day


def _result(criterion: Criterion, status: Status, reason: str, inputs: Iterable[InputUsed] = (),
            missing: Iterable[str] = (), *, applies: bool = True, chair_clearable: bool = False) -> CriterionResult:
    return CriterionResult(
        id=criterion.id,
        kind=criterion.kind,
        title=criterion.title,
        status=status,
        reason=reason,
        inputs=tuple(inputs),
        wording=criterion.wording,
        reference=criterion.reference,
        decisions=criterion.decisions,
        applies=applies,
        missing=tuple(missing),
        chair_clearable=chair_clearable,
    )


def _not_applicable(criterion: Criterion, why: str, inputs: Iterable[InputUsed] = ()) -> CriterionResult:
    return _result(criterion, MET, f"Not applicable: {why}.", inputs, applies=False)


def _unknown(criterion: Criterion, why: str, *missing: str, inputs: Iterable[InputUsed] = ()) -> CriterionResult:
    return _result(criterion, UNKNOWN, why, inputs, missing)


# --------------------------------------------------------------------------------------------------------
# Diagnosis and disease (clinical-reference §1.1)


def check_neuroblastoma_diagnosis(c: Criterion, ctx: _Context) -> CriterionResult:
    d = ctx.snapshot.diagnosis
    if d is None:
        return _unknown(c, "Diagnosis not recorded.", "diagnosis.kind")
    kind_input = InputUsed("diagnosis", d.kind.value, when=str(d.diagnosed_on or ""), field="diagnosis.kind")
    if d.kind.is_pheo_or_paraganglioma:
        return _not_applicable(c, f"diagnosis is {d.kind.value} (D2 applies)", [kind_input])
    status = ctx.snapshot.disease_status
    if status is None:
        return _unknown(c, "Disease status (refractory or relapsed) not recorded.", "disease_status.category", inputs=[kind_input])
    inputs = [kind_input, InputUsed("disease status", status.category.value, when=str(status.assessed_on or ""),
                                    field="disease_status.category")]
    allowed = c.params["statuses"]
    if status.category.value not in allowed:
        return _result(c, NOT_MET, f"Neuroblastoma is {status.category.value}, not {' or '.join(allowed)}.", inputs)
    inputs += [
        InputUsed("histopathology", _yes_no(d.histopathology_confirmed), field="diagnosis.histopathology_confirmed"),
        InputUsed("urine catecholamines elevated", _yes_no(d.urine_catecholamines_elevated),
                  field="diagnosis.urine_catecholamines_elevated"),
        InputUsed("tumour cells in marrow", _yes_no(d.tumor_cells_in_bone_marrow), field="diagnosis.tumor_cells_in_bone_marrow"),
    ]
    if d.histopathology_confirmed:
        return _result(c, MET, f"{status.category.value.capitalize()} neuroblastoma, diagnosis by tumour histopathology.", inputs)
    if d.urine_catecholamines_elevated and d.tumor_cells_in_bone_marrow:
        return _result(c, MET, f"{status.category.value.capitalize()} neuroblastoma, diagnosis by elevated urine "
                       "catecholamines with tumour cells in the marrow.", inputs)
    if d.histopathology_confirmed is False and (d.urine_catecholamines_elevated is False or d.tumor_cells_in_bone_marrow is False):
        return _result(c, NOT_MET, "The original diagnosis rests neither on histopathology nor on urine catecholamines "
                       "with tumour cells in the marrow.", inputs)
    missing = [i.field for i in inputs[2:] if i.value == "not recorded"]
    return _unknown(c, "How the original diagnosis was established is not fully recorded.", *missing, inputs=inputs)


def check_pheo_diagnosis(c: Criterion, ctx: _Context) -> CriterionResult:
    d = ctx.snapshot.diagnosis
    if d is None:
        return _unknown(c, "Diagnosis not recorded.", "diagnosis.kind")
    kind_input = InputUsed("diagnosis", d.kind.value, when=str(d.diagnosed_on or ""), field="diagnosis.kind")
    if not d.kind.is_pheo_or_paraganglioma:
        return _not_applicable(c, f"diagnosis is {d.kind.value} (D1 applies)", [kind_input])
    status = ctx.snapshot.disease_status
    if status is None:
        return _unknown(c, "Disease status not recorded.", "disease_status.category", inputs=[kind_input])
    inputs = [kind_input, InputUsed("disease status", status.category.value, when=str(status.assessed_on or ""),
                                    field="disease_status.category")]
    allowed = c.params["statuses"]
    if status.category.value in allowed:
        return _result(c, MET, f"{status.category.value.capitalize()} {d.kind.value.replace('_', ' ')}.", inputs)
    return _result(c, NOT_MET, f"{d.kind.value} is {status.category.value}, not {', '.join(allowed)}.", inputs)


def check_mibg_scan(c: Criterion, ctx: _Context) -> CriterionResult:
    """D3 (avid) and D5 (evaluable): within 42 days before enrolment, after the last anti-tumour therapy of any
    kind (A9, A21). D5 says "within 6 weeks of study entry": a scan after enrolment and on or before the treatment
    date counts too (``counts_after_entry``)."""
    s = ctx.snapshot
    window = int(c.quantity("window_days").value)
    requires = c.params["requires"]
    if s.enrolment_date is not None:
        reference, reference_name = s.enrolment_date, "enrolment"
    else:
        # Not yet enrolled: the planned treatment date is later than any enrolment, so the window is stricter.
        reference, reference_name = s.planned_treatment_date, "the planned treatment date (no enrolment date yet)"
    if ctx.therapies_recorded:
        return _unknown(c, "Prior anti-tumour therapy (systemic, surgery, radiotherapy) not fully recorded: cannot tell "
                        "whether the scan follows the last therapy (decisions.md A21).", *ctx.therapies_recorded)
    last = ctx.last_antitumour_therapy
    last_therapy = last[0] if last else None
    earliest = reference - timedelta(days=window)
    latest_day = reference
    if c.params.get("counts_after_entry") and s.enrolment_date is not None:
        latest_day = min(s.enrolment_date + timedelta(days=window), ctx.day)
    if not s.mibg_scans:
        return _unknown(c, "No MIBG scan recorded.", "mibg_scans")
    current = [scan for scan in s.mibg_scans if earliest <= scan.scan_date <= latest_day
               and (last_therapy is None or scan.scan_date > last_therapy)]
    latest = max(s.mibg_scans, key=lambda scan: scan.scan_date)
    therapy_text = f", after the last anti-tumour therapy ({last[1]}, {last[0]})" if last else ""
    span = (f"within {window} days of {reference_name} ({earliest} to {latest_day})" if latest_day != reference
            else f"within {window} days before {reference_name} ({earliest} to {reference})")
    if not current:
        return _unknown(c, f"No MIBG scan {span}{therapy_text}; latest scan {latest.scan_date}. A new scan is needed.",
                        "mibg_scans", inputs=[_scan_input(latest, requires)])
    qualifying = [scan for scan in current if getattr(scan, "avid" if requires == "avid" else "evaluable_disease")]
    word = "MIBG-avid tumour" if requires == "avid" else "MIBG-evaluable disease"
    if qualifying:
        best = max(qualifying, key=lambda scan: scan.scan_date)
        offset = (reference - best.scan_date).days
        when = f"{offset} days before" if offset >= 0 else f"{-offset} days after"
        return _result(c, MET, f"{word} on the scan of {best.scan_date}, {when} {reference_name}{therapy_text}.",
                       [_scan_input(best, requires)])
    best = max(current, key=lambda scan: scan.scan_date)
    return _result(c, NOT_MET, f"The scan of {best.scan_date} does not show {word}.", [_scan_input(best, requires)])


def _scan_input(scan: object, requires: str) -> InputUsed:
    value = getattr(scan, "avid" if requires == "avid" else "evaluable_disease")
    return InputUsed(f"MIBG scan ({'avid' if requires == 'avid' else 'evaluable disease'})", _yes_no(value),
                     when=str(getattr(scan, "scan_date", "")), field="mibg_scans")


def check_disease_status(c: Criterion, ctx: _Context) -> CriterionResult:
    status = ctx.snapshot.disease_status
    if status is None:
        return _unknown(c, "Disease status not recorded.", "disease_status.category")
    inputs = [
        InputUsed("failure to respond to standard therapy", _yes_no(status.failure_to_respond_to_standard_therapy),
                  when=str(status.assessed_on or ""), field="disease_status.failure_to_respond_to_standard_therapy"),
        InputUsed("progressive disease", _yes_no(status.progressive_disease), when=str(status.assessed_on or ""),
                  field="disease_status.progressive_disease"),
    ]
    if status.failure_to_respond_to_standard_therapy:
        return _result(c, MET, "Failure to respond to standard therapy.", inputs)
    if status.progressive_disease:
        threshold = c.quantity("progression_size_increase_percent")
        return _result(c, MET, f"Progressive disease (new lesion or > {threshold.value} {threshold.unit} growth).", inputs)
    if status.failure_to_respond_to_standard_therapy is False and status.progressive_disease is False:
        return _result(c, NOT_MET, "Neither failure to respond to standard therapy nor progressive disease.", inputs)
    missing = [i.field for i in inputs if i.value == "not recorded"]
    return _unknown(c, "Response to standard therapy / progression not recorded.", *missing, inputs=inputs)


# --------------------------------------------------------------------------------------------------------
# Patient (clinical-reference §1.2; decisions.md A4, A5, A17)


def _age_input(ctx: _Context) -> InputUsed:
    return InputUsed("birth date", ctx.snapshot.birth_date.isoformat(),
                     when=f"age {ctx.age_years} y on {ctx.day}", field="birth_date")


def check_minimum_age(c: Criterion, ctx: _Context) -> CriterionResult:
    years = int(c.quantity("older_than_years").value)
    first_day = birthday(ctx.snapshot.birth_date, years) + timedelta(days=1)
    if ctx.day >= first_day:
        return _result(c, MET, f"Age {ctx.age_years} y on {ctx.day}; older than {years} year from {first_day}.", [_age_input(ctx)])
    return _result(c, NOT_MET, f"Not older than {years} year on {ctx.day}: eligible from {first_day} (decisions.md A4).",
                   [_age_input(ctx)])


def check_pheo_age_range(c: Criterion, ctx: _Context) -> CriterionResult:
    d = ctx.snapshot.diagnosis
    if d is None:
        return _unknown(c, "Diagnosis not recorded.", "diagnosis.kind")
    if not d.kind.is_pheo_or_paraganglioma:
        return _not_applicable(c, f"diagnosis is {d.kind.value}")
    low = int(c.quantity("older_than_years").value)
    high = int(c.quantity("younger_than_years").value)
    first_day = birthday(ctx.snapshot.birth_date, low) + timedelta(days=1)
    last_day = birthday(ctx.snapshot.birth_date, high) - timedelta(days=1)
    if first_day <= ctx.day <= last_day:
        return _result(c, MET, f"Age {ctx.age_years} y on {ctx.day}, within {first_day} to {last_day}.", [_age_input(ctx)])
    return _result(c, NOT_MET, f"Age {ctx.age_years} y on {ctx.day}: pheochromocytoma/paraganglioma patients are eligible "
                   f"from {first_day} through {last_day} (decisions.md A4).", [_age_input(ctx)])


def check_attestation(c: Criterion, ctx: _Context) -> CriterionResult:
    name = c.params["attestation"]
    field = f"attestations.{name}"
    attestation: Attestation | None = getattr(ctx.snapshot.attestations, name)
    if attestation is None:
        return _unknown(c, "No clinician attestation recorded (decisions.md A17).", field)
    inputs = [_attestation_input(name, attestation)]
    if ctx.is_stale(site_date(attestation.at), ctx.assessment_window_start):
        return _unknown(c, f"The attestation of {site_date(attestation.at)} is not within "
                        f"{ctx.protocol.site('assessment_max_age_days')} days before {ctx.day}: attest again.", field, inputs=inputs)
    if attestation.value:
        return _result(c, MET, f"Attested by {attestation.by} on {site_date(attestation.at)}.", inputs)
    return _result(c, NOT_MET, f"{attestation.by} attested on {site_date(attestation.at)} that this is not so.", inputs)


def _attestation_input(name: str, a: Attestation) -> InputUsed:
    return InputUsed(name.replace("_", " "), _yes_no(a.value), when=f"{a.by}, {site_time(a.at)}", field=f"attestations.{name}")


def check_performance_status(c: Criterion, ctx: _Context) -> CriterionResult:
    p = ctx.snapshot.performance
    if p is None:
        return _unknown(c, "Performance status not recorded.", "performance")
    minimum = int(c.quantity("minimum_score").value)
    lansky_through = int(c.quantity("lansky_through_age_years").value)
    expected = PerformanceScale.LANSKY if ctx.age_years <= lansky_through else PerformanceScale.KARNOFSKY
    inputs = [InputUsed(f"{p.scale.value.capitalize()} score", str(p.score), "%", when=str(p.assessed_on), field="performance")]
    if ctx.is_stale(p.assessed_on, ctx.assessment_window_start):
        return _unknown(c, f"Performance status of {p.assessed_on} is not within "
                        f"{ctx.protocol.site('assessment_max_age_days')} days before {ctx.day}.", "performance", inputs=inputs)
    scale_note = "" if p.scale is expected else (f" (recorded on the {p.scale.value} scale; at age {ctx.age_years} y the "
                                                 f"{expected.value} scale is expected, decisions.md A5)")
    if p.score >= minimum:
        return _result(c, MET, f"{p.scale.value.capitalize()} {p.score} % is at least {minimum} %{scale_note}.", inputs)
    return _result(c, NOT_MET, f"{p.scale.value.capitalize()} {p.score} % is below {minimum} %{scale_note}.", inputs)


def check_informed_consent(c: Criterion, ctx: _Context) -> CriterionResult:
    consent = ctx.snapshot.consent
    if consent is None:
        return _unknown(c, "Informed consent not recorded.", "consent")
    inputs = [InputUsed("consent signed", _yes_no(consent.signed), when=str(consent.signed_on or ""), field="consent")]
    if not consent.signed:
        return _result(c, NOT_MET, "Informed consent has not been signed.", inputs)
    if consent.signed_on is None:
        return _unknown(c, "The date of the signed consent is not recorded.", "consent.signed_on", inputs=inputs)
    if consent.signed_on > ctx.day:
        return _unknown(c, f"Consent dated {consent.signed_on}, after the planned treatment date.", "consent.signed_on", inputs=inputs)
    entry = ctx.snapshot.enrolment_date
    if entry is not None and consent.signed_on > entry:
        return _unknown(c, f"Consent dated {consent.signed_on}, after the enrolment of {entry}: a patient is enrolled only "
                        "after consenting; correct the date of the consent or of the enrolment.", "consent.signed_on",
                        inputs=inputs)
    by = f" by {consent.signed_by}" if consent.signed_by else ""
    return _result(c, MET, f"Consent signed{by} on {consent.signed_on}.", inputs)


# --------------------------------------------------------------------------------------------------------
# Prior therapy (clinical-reference §1.3 T2-T5; decisions.md A10-A14)


def check_antitumour_therapy_washout(c: Criterion, ctx: _Context) -> CriterionResult:
    """T2: at least 14 days since any anti-tumour therapy: systemic, surgery aimed at the tumour, radiotherapy to any
    field (local fields included) and 131I-MIBG itself; the end of the latest one counts (A10, A21)."""
    if ctx.therapies_recorded:
        return _unknown(c, "Prior anti-tumour therapy not fully recorded (systemic therapy and surgery, and radiotherapy "
                        "to any field, count: decisions.md A21); record none explicitly if there was none.",
                        *ctx.therapies_recorded)
    minimum = int(c.quantity("minimum_days").value)
    last = ctx.last_antitumour_therapy
    if last is None:
        return _result(c, MET, "No prior anti-tumour therapy, radiotherapy or 131I-MIBG recorded.",
                       [InputUsed("anti-tumour therapies", "none", field="anti_tumour_therapies"),
                        InputUsed("radiotherapy", "none", field="radiotherapy")])
    ended, what = last
    days = (ctx.day - ended).days
    field = ("radiotherapy" if what.startswith("radiotherapy") else
             "prior_mibg_courses" if what == "131I-MIBG" else "anti_tumour_therapies")
    inputs = [InputUsed(f"end of {what}", ended.isoformat(), field=field)]
    if days >= minimum:
        return _result(c, MET, f"{days} days from the last anti-tumour therapy ({what}, {ended}) to {ctx.day}; at least "
                       f"{minimum} required.", inputs)
    first = ended + timedelta(days=minimum)
    return _result(c, NOT_MET, f"Only {days} days since {what} ({ended}); at least {minimum} days are required: first "
                   f"allowed day {first} (decisions.md A10, A21).", inputs)


def check_radiotherapy_washout(c: Criterion, ctx: _Context) -> CriterionResult:
    courses = ctx.snapshot.radiotherapy
    if courses is None:
        return _unknown(c, "Prior radiotherapy not recorded (record none explicitly if there was none).", "radiotherapy")
    fields = set(c.params["fields"])
    relevant = [r for r in courses if r.field.value in fields]
    if not relevant:
        return _not_applicable(c, "no craniospinal, total abdominal, whole lung or total body irradiation recorded",
                               [InputUsed("radiotherapy", ", ".join(r.field.value for r in courses) or "none", field="radiotherapy")])
    months = int(c.quantity("minimum_months").value)
    last = max(relevant, key=lambda r: r.completed_on)
    first = add_months(last.completed_on, months)
    inputs = [InputUsed(f"{last.field.value.replace('_', ' ')} irradiation completed", last.completed_on.isoformat(),
                        field="radiotherapy")]
    days = (ctx.day - last.completed_on).days
    if ctx.day >= first:
        return _result(c, MET, f"{months} calendar months since {last.field.value.replace('_', ' ')} irradiation "
                       f"({last.completed_on}) reached on {first}; {days} days to {ctx.day}.", inputs)
    return _result(c, NOT_MET, f"{last.field.value.replace('_', ' ').capitalize()} irradiation completed {last.completed_on}: "
                   f"first allowed day {first} ({months} calendar months; {days} days so far, decisions.md A11).", inputs)


def check_cytokine_washout(c: Criterion, ctx: _Context) -> CriterionResult:
    doses = ctx.snapshot.cytokines
    if doses is None:
        return _unknown(c, "Cytokine therapy not recorded (record none explicitly if there was none).", "cytokines")
    if not doses:
        return _result(c, MET, "No cytokine therapy recorded.", [InputUsed("cytokines", "none", field="cytokines")])
    hours = c.quantity("minimum_hours").value
    review_days = int(c.quantity("long_acting_review_days").value)
    long_acting = set(c.params["long_acting"])
    start = ctx.snapshot.planned_infusion_start
    inputs = [InputUsed(f"last {d.agent.value} dose", site_time(d.last_dose_at), field="cytokines") for d in doses]
    problems: list[tuple[Status, str]] = []
    for dose in doses:
        problems.extend(_cytokine_problem(dose.agent.value, dose.last_dose_at, dose.agent.value in long_acting,
                                          hours, review_days, start, ctx.day))
    for status in (NOT_MET, UNKNOWN, REVIEW):
        reasons = [text for s, text in problems if s is status]
        if reasons:
            missing = ["planned_infusion_start"] if status is UNKNOWN else []
            return _result(c, status, " ".join(reasons), inputs, missing, chair_clearable=status is REVIEW)
    return _result(c, MET, f"Every cytokine stopped at least {hours} h before the infusion.", inputs)


def _cytokine_problem(agent: str, last: datetime, long_acting: bool, hours: Decimal, review_days: int,
                      start: datetime | None, day: date) -> list[tuple[Status, str]]:
    problems = _short_acting_problem(agent, last, hours, start, day)
    if long_acting and not problems and (day - site_date(last)).days <= review_days:
        return [(REVIEW, f"Long-acting {agent} on {site_date(last)}, within {review_days} days: the study chair decides "
                 "(decisions.md A12).")]
    return problems


def _short_acting_problem(agent: str, last: datetime, hours: Decimal, start: datetime | None,
                          day: date) -> list[tuple[Status, str]]:
    """The 24-hour rule, which every cytokine must meet (long-acting ones are reviewed on top of it)."""
    if start is not None:
        elapsed = Decimal((start - last).total_seconds()) / 3600
        if elapsed >= hours:
            return []
        return [(NOT_MET, f"{agent} last given {site_time(last)}, {elapsed:.1f} h before the infusion start; at least "
                 f"{hours} h required.")]
    # Without the infusion time only the dates decide: met only when the dose is certainly ``hours`` before any
    # moment of the treatment day (24 h: two calendar days or more), else the start time is needed.
    if cytokine_certainly_before(last, day, hours, cytokine_days_without_start(hours)):
        return []
    return [(UNKNOWN, f"{agent} last given {site_time(last)}: the planned infusion start time is needed to check {hours} h.")]


def check_prior_mibg(c: Criterion, ctx: _Context) -> CriterionResult:
    courses = ctx.snapshot.prior_mibg_courses
    if not courses:
        return _not_applicable(c, "no prior 131I-MIBG therapy recorded")
    months = int(c.quantity("more_than_months").value)
    max_cumulative = c.quantity("maximum_cumulative_mci_per_kg").value
    minimum_course = c.quantity("minimum_course_mci_per_kg").value
    last = max(courses, key=lambda course: course.infusion_date)
    prior = sum((course.counted_mci_per_kg for course in courses), Decimal(0))
    inputs = [InputUsed(f"131I-MIBG course {i + 1}", _prior_course_text(course), when=course.infusion_date.isoformat(),
                        field="prior_mibg_courses")
              for i, course in enumerate(sorted(courses, key=lambda course: course.infusion_date))]
    same_day = add_months(last.infusion_date, months)
    if ctx.day <= same_day:
        return _result(c, NOT_MET, f"Last 131I-MIBG {last.infusion_date}: not more than {months} calendar months before "
                       f"{ctx.day}; first allowed day {same_day + timedelta(days=1)} (decisions.md A13).", inputs)
    adequate, description = ctx.stem_cells
    if adequate is None:
        return _unknown(c, f"Prior 131I-MIBG needs adequate stem cells: {description}.", *ctx.weight_missing, inputs=inputs)
    if not adequate:
        return _result(c, NOT_MET, f"Prior 131I-MIBG is allowed only with adequate stored stem cells ({description}).", inputs)
    planned = ctx.snapshot.planned_mci_per_kg
    if planned is not None:
        total = prior + planned
        if total > max_cumulative:
            return _result(c, NOT_MET, f"Cumulative {prior} + planned {planned} = {total} mCi/kg exceeds {max_cumulative} "
                           f"mCi/kg; at most {max_cumulative - prior} mCi/kg may be planned.", inputs)
        return _result(c, MET, f"More than {months} months since {last.infusion_date}; cumulative {prior} + {planned} = "
                       f"{total} mCi/kg, within {max_cumulative}.", inputs)
    if prior + minimum_course > max_cumulative:
        return _result(c, NOT_MET, f"Prior cumulative {prior} mCi/kg leaves {max_cumulative - prior} mCi/kg, less than the "
                       f"{minimum_course} mCi/kg minimum course.", inputs)
    return _result(c, MET, f"More than {months} months since {last.infusion_date}; prior cumulative {prior} mCi/kg, so at "
                   f"most {max_cumulative - prior} mCi/kg may be planned.", inputs)


def _prior_course_text(course: PriorMibgCourse) -> str:
    if course.total_mci is None:
        return f"{course.mci_per_kg} mCi/kg at {course.weight_kg} kg"
    return (f"{course.total_mci} mCi / {course.weight_kg} kg = {course.counted_mci_per_kg} mCi/kg (recorded "
            f"{course.mci_per_kg} mCi/kg; decisions.md A25)")


# --------------------------------------------------------------------------------------------------------
# The planned dose (decisions.md A26): the limits that depend on the patient, exactly as the planner checks them


def check_planned_dose(c: Criterion, ctx: _Context) -> CriterionResult:
    """With a planned mCi/kg, the planner's patient-dependent limits (R1 8-18, S2 stem-cell gate, T5 lifetime 60,
    R2 pheo/PGL cap): a plan the planner would block is "not eligible at this dose", naming the rule and the largest
    allowed value. A chair-clearable block is "needs review" until the chair decides that very rule (A35)."""
    s = ctx.snapshot
    planned = s.planned_mci_per_kg
    if planned is None:
        return _not_applicable(c, "no planned mCi/kg in the screening; the dose limits are checked when the dose is planned")
    weight, weight_text = ctx.weight
    if weight is None:
        return _unknown(c, f"The planned {planned} mCi/kg cannot be checked: {weight_text}.", *ctx.weight_missing)
    try:
        plan = plan_dose(dose_request_from_snapshot(s, mci_per_kg=planned, protocol=ctx.protocol,
                                                    chair_clearances=ctx.dose_clearances), ctx.protocol)
    except InputError as error:
        return _unknown(c, f"The planned dose cannot be checked: {error.field}: {error.message}", error.field)
    inputs = [InputUsed("planned dose", str(planned), "mCi/kg", field="planned_mci_per_kg"),
              InputUsed("weight", str(weight), "kg", when=str(s.weight_measured_on), field="weight_kg"),
              InputUsed("activity", plan.activity.display(), field="planned_mci_per_kg")]
    rules = {"R1", "S2", "T5", "R2"}
    blocks = [f for f in plan.findings if f.severity is Severity.BLOCK and f.rule in rules]
    cleared = [f for f in plan.findings if f.cleared_by and f.rule in rules]
    largest = f" Largest allowed: {plan.max_activity_reason}." if plan.max_activity is not None else ""
    if any(not f.chair_clearable for f in blocks):
        text = " ".join(f"{f.rule}: {f.message}" for f in blocks)
        return _result(c, NOT_MET, f"Not eligible at {planned} mCi/kg: {text}{largest}", inputs)
    if blocks:
        text = " ".join(f"{f.rule}: {f.message}" for f in blocks)
        refused = [(f.rule, d) for f in blocks if (d := ctx.latest_decision(f.rule)) is not None and not d.cleared]
        if refused:
            who = "; ".join(f"{rule}: {ctx.decision_text(d)}" for rule, d in refused)
            return _result(c, NOT_MET, f"Not cleared by the study chair ({who}). {text}{largest}", inputs,
                           chair_clearable=True)._replace(cleared_by=who)
        rules_named = " and ".join(f.rule for f in blocks)
        return _result(c, REVIEW, f"{text}{largest} Only a study-chair decision on {rules_named} itself, taken with this "
                       f"planned dose shown, clears it (decisions.md A35).", inputs, chair_clearable=True)
    by = "; ".join(f"{f.rule} cleared by the study chair ({ctx.cleared_text(f.rule)})" for f in cleared)
    result = _result(c, MET, f"{planned} mCi/kg x {weight} kg = {plan.activity.display()} is within the protocol's dose "
                     f"limits for this patient.{' ' + by + '.' if by else ''}{largest}", inputs)
    return result._replace(cleared_by=by) if by else result


# --------------------------------------------------------------------------------------------------------
# Stem cells (clinical-reference §1.3 S1-S3; decisions.md A2, A15)


def check_stem_cell_product(c: Criterion, ctx: _Context) -> CriterionResult:
    adequate, description = ctx.stem_cells
    gate = ctx.protocol.dose_limit("S2").quantity("gate_mci_per_kg").value
    inputs = [InputUsed("stored stem cells", description, field="stem_cell_products")]
    if adequate is None:
        return _unknown(c, f"Stem-cell adequacy cannot be judged: {description}.", *ctx.weight_missing, inputs=inputs)
    planned = ctx.snapshot.planned_mci_per_kg
    if adequate:
        return _result(c, MET, f"Adequate stored product: {description}.", inputs)
    if planned is not None and planned > gate:
        return _result(c, NOT_MET, f"Planned {planned} mCi/kg needs an adequate stored product ({description}).", inputs)
    if planned is not None and planned == gate:
        return _result(c, REVIEW, f"Planned exactly {gate} mCi/kg without an adequate product ({description}); the dose "
                       f"should be below {gate} mCi/kg (decisions.md A2): the study chair decides.", inputs, chair_clearable=True)
    return _result(c, MET, f"No adequate stored product ({description}): the dose must be below {gate} mCi/kg.", inputs)


# --------------------------------------------------------------------------------------------------------
# Laboratory criteria (clinical-reference §1.3 O1-O3, H1-H5; decisions.md A6-A8)


def _lab_input(lab: LabResult, canonical: Decimal, unit: str, note: str = "") -> InputUsed:
    shown = f"{lab.value} {lab.unit}" if lab.unit == unit else f"{lab.value} {lab.unit} = {canonical.normalize():f} {unit}"
    uln = f"; ULN {lab.uln} {lab.unit}" if lab.uln is not None else ""
    return InputUsed(lab_definition(lab.test.value).name, shown + uln + note, when=site_time(lab.collected_at),
                     field=f"labs.{lab.test.value}")


def _current_labs(ctx: _Context, test: str) -> tuple[list[LabResult], LabResult | None]:
    """Results of ``test`` inside the lab window before the treatment date, and the latest result at all."""
    found = ctx.current_labs.get(test)
    if found is None:
        every = ctx.labs(test)
        start, end = ctx.lab_window_start, ctx.day
        current = [lab for lab in every if start <= site_date(lab.collected_at) <= end]  # not ctx.is_stale(...)
        found = ctx.current_labs[test] = (current, every[-1] if every else None)
    return list(found[0]), found[1]


def _stale_lab_reason(ctx: _Context, test: str, latest: LabResult | None) -> str:
    name = lab_definition(test).name
    window = f"within {ctx.protocol.site('lab_max_age_days')} days before {ctx.day}"
    if latest is None:
        return f"No {name[0].lower() + name[1:]} result recorded."
    return f"No {name} result {window}; latest {site_date(latest.collected_at)}."


def check_lab_threshold(c: Criterion, ctx: _Context) -> CriterionResult:
    params = c.params
    test = params["lab"]
    applies_when = params.get("applies_when_stem_cells")
    if applies_when:
        adequate, description = ctx.stem_cells
        if adequate is None:
            return _unknown(c, f"Which platelet rule applies depends on the stem cells: {description}.", *ctx.weight_missing)
        if (applies_when == "adequate") != adequate:
            return _not_applicable(c, f"stored stem cells are {'adequate' if adequate else 'not adequate'} ({description})")
    threshold = c.quantity("threshold")
    definition = lab_definition(test)
    if threshold.unit != definition.display_unit:
        raise ValueError(f"{c.id}: threshold unit {threshold.unit} is not the canonical unit {definition.display_unit}")
    dependence = _transfusion_dependence(c, ctx)
    if dependence is not None:
        return dependence
    current, latest = _current_labs(ctx, test)
    if not current:
        return _unknown(c, _stale_lab_reason(ctx, test, latest), f"labs.{test}")
    unsupported_by = params.get("unsupported_by", [])
    counting = [lab for lab in current if not ctx.transfused_within(unsupported_by, lab.collected_at - ctx.transfusion_lookback,
                                                                     lab.collected_at)]
    if not counting:
        lab = current[-1]
        return _unknown(c, f"Every {definition.name} result in the window follows a {'/'.join(unsupported_by)} transfusion "
                        f"within {ctx.transfusion_lookback.days} days, so none counts (decisions.md A8).", f"labs.{test}",
                        inputs=[_lab_input(lab, to_canonical(test, lab.value, lab.unit), definition.display_unit, " (transfusion-supported)")])
    lab = counting[-1]
    value = to_canonical(test, lab.value, lab.unit)
    inputs = [_lab_input(lab, value, definition.display_unit)]
    comparison = params["comparison"]
    passes = _COMPARE[comparison](value, threshold.value)
    rule_text = f"{_COMPARE_WORDS[comparison]} {threshold.value} {threshold.unit}"
    shown = f"{definition.name} {value.normalize():f} {definition.display_unit} on {site_date(lab.collected_at)}"
    if passes:
        return _result(c, MET, f"{shown} is {rule_text}.", inputs)
    return _marrow_review(c, ctx, f"{shown} is not {rule_text}.", inputs)


def _transfusion_dependence(c: Criterion, ctx: _Context) -> CriterionResult | None:
    """H3 "independent of platelet transfusions": none in the lookback days before treatment (decisions.md A8).

    Judged before the count itself: a recent transfusion fails the criterion whatever the count shows.
    """
    earliest = ctx.day - ctx.transfusion_lookback
    for product in c.params.get("transfusion_independent", []):
        given = [t.given_at for t in ctx.snapshot.transfusions
                 if t.product.value == product and earliest <= site_date(t.given_at) <= ctx.day]
        if given:
            last = max(given)
            inputs = [InputUsed(f"{product} transfusion", last.isoformat(), field="transfusions")]
            return _marrow_review(c, ctx, f"Not independent of {product} transfusions: transfused {site_date(last)}, within "
                                  f"{ctx.transfusion_lookback.days} days before {ctx.day} (decisions.md A8).", inputs)
    return None


def _marrow_review(c: Criterion, ctx: _Context, reason: str, inputs: list[InputUsed]) -> CriterionResult:
    """H5: cytopenia from marrow metastasis may be eligible after discussion with the study chair."""
    attestation = ctx.snapshot.attestations.cytopenia_due_to_marrow_metastasis
    if c.params.get("marrow_metastasis_review") and attestation is not None and attestation.value:
        inputs = [*inputs, _attestation_input("cytopenia_due_to_marrow_metastasis", attestation)]
        return _result(c, REVIEW, f"{reason} Attributed to marrow metastasis by {attestation.by}: the study chair decides (H5).",
                       inputs, chair_clearable=True)
    return _result(c, NOT_MET, reason, inputs)


def check_lab_uln_multiple(c: Criterion, ctx: _Context) -> CriterionResult:
    multiple = c.quantity("below_uln_multiple").value
    inputs: list[InputUsed] = []
    failures: list[str] = []
    passes: list[str] = []
    for test in c.params["labs"]:
        definition = lab_definition(test)
        current, latest = _current_labs(ctx, test)
        if not current:
            return _unknown(c, _stale_lab_reason(ctx, test, latest), f"labs.{test}", inputs=inputs)
        lab = current[-1]
        value = to_canonical(test, lab.value, lab.unit)
        inputs.append(_lab_input(lab, value, definition.display_unit))
        if lab.uln is None:
            return _unknown(c, f"The {definition.name} result of {site_date(lab.collected_at)} has no upper limit of normal "
                            "(decisions.md A7).", f"labs.{test}.uln", inputs=inputs)
        ratio = lab.value / lab.uln
        text = f"{definition.name} {lab.value} {lab.unit} = {ratio:.2f} x ULN ({lab.uln})"
        (passes if ratio < multiple else failures).append(text)
    if failures:
        return _result(c, NOT_MET, f"{'; '.join(failures)}: not below {multiple} x ULN.", inputs)
    return _result(c, MET, f"{'; '.join(passes)}: below {multiple} x ULN.", inputs)


def check_marrow_metastasis_review(c: Criterion, ctx: _Context) -> CriterionResult:
    attestation = ctx.snapshot.attestations.cytopenia_due_to_marrow_metastasis
    if attestation is None or not attestation.value:
        return _not_applicable(c, "no cytopenia attributed to marrow metastasis")
    reviews = ", ".join(c.params["reviews"])
    return _result(c, MET, f"Cytopenia attributed to marrow metastasis by {attestation.by}: a failed {reviews} becomes "
                   "'needs review' for the study chair.", [_attestation_input("cytopenia_due_to_marrow_metastasis", attestation)],
                   applies=True)


# --------------------------------------------------------------------------------------------------------
# Exclusions (clinical-reference §1.4 X1-X5)


def check_organ_disease(c: Criterion, ctx: _Context) -> CriterionResult:
    attestations = ctx.snapshot.attestations
    no_major = attestations.no_major_organ_disease
    impairment = attestations.significant_organ_impairment
    missing = [f"attestations.{name}" for name, a in (("no_major_organ_disease", no_major),
                                                     ("significant_organ_impairment", impairment)) if a is None]
    inputs = [_attestation_input(name, a) for name, a in (("no_major_organ_disease", no_major),
                                                         ("significant_organ_impairment", impairment)) if a is not None]
    if no_major is not None and not no_major.value:
        return _result(c, NOT_MET, f"{no_major.by} attests major organ disease that would compromise the ability to withstand "
                       "therapy.", inputs)
    if missing:
        return _unknown(c, "Organ-system assessment not attested (decisions.md A17).", *missing, inputs=inputs)
    assert no_major is not None
    assert impairment is not None
    stale = [a for a in (no_major, impairment) if ctx.is_stale(site_date(a.at), ctx.assessment_window_start)]
    if stale:
        return _unknown(c, f"Organ-system attestation of {site_date(stale[0].at)} is too old: attest again.",
                        "attestations.no_major_organ_disease", inputs=inputs)
    if impairment.value:
        return _result(c, REVIEW, f"Significant organ impairment attested by {impairment.by}: to be discussed with the Study "
                       "Chair or Vice Chair before entry.", inputs, chair_clearable=True)
    return _result(c, MET, "No major organ disease and no significant organ impairment attested.", inputs)


def check_pregnancy(c: Criterion, ctx: _Context) -> CriterionResult:
    """X2 (decisions.md A23): pregnant or lactating excludes, whatever else is recorded. A negative pregnancy test
    and contraception are asked only of a patient of childbearing potential; lactation of every female patient
    aged 10 or over; a male patient needs no pregnancy record."""
    p = ctx.snapshot.pregnancy
    sex = ctx.snapshot.sex
    lactation_from = int(c.quantity("lactation_asked_from_age_years").value)
    window = int(ctx.protocol.site("pregnancy_status_max_age_days"))
    sex_input = InputUsed("sex", sex.value, field="sex")
    if p is None:
        if sex is Sex.MALE:
            return _not_applicable(c, "male patient: no pregnancy record is needed (decisions.md A23)", [sex_input])
        return _unknown(c, "Pregnancy and childbearing potential not recorded.", "pregnancy", inputs=[sex_input])
    when = str(p.assessed_on or "")
    pregnant = InputUsed("pregnant", _yes_no(p.pregnant), when=when, field="pregnancy.pregnant")
    lactating = InputUsed("lactating", _yes_no(p.lactating), when=when, field="pregnancy.lactating")
    potential = InputUsed("childbearing potential", _yes_no(p.childbearing_potential), when=when,
                          field="pregnancy.childbearing_potential")
    if p.pregnant or p.lactating:
        return _result(c, NOT_MET, f"{'Pregnant' if p.pregnant else 'Lactating'}: excluded, whatever else is recorded "
                       "(decisions.md A23).", [sex_input, potential, pregnant, lactating])
    asks_lactation = sex is not Sex.MALE and ctx.age_years >= lactation_from
    stale = p.assessed_on is None or ctx.is_stale(p.assessed_on, ctx.day - timedelta(days=window))
    if not p.childbearing_potential:
        inputs = [sex_input, potential]
        if not asks_lactation:
            why = "male patient" if sex is Sex.MALE else f"not of childbearing potential, under {lactation_from} years"
            return _not_applicable(c, f"{why} (decisions.md A23)", inputs)
        inputs.append(lactating)
        if p.lactating is None:
            return _unknown(c, f"Lactation is asked of every female patient aged {lactation_from} or over, also when not "
                            "of childbearing potential (decisions.md A23).", "pregnancy.lactating", inputs=inputs)
        if stale:
            return _unknown(c, f"Lactation must be assessed within {window} days before {ctx.day} (decisions.md A20).",
                            "pregnancy.assessed_on", inputs=inputs)
        return _result(c, MET, f"Not of childbearing potential, not lactating (assessed {p.assessed_on}).", inputs)
    inputs = [sex_input, potential, pregnant, lactating,
              InputUsed("effective contraception", _yes_no(p.effective_contraception),
                        field="pregnancy.effective_contraception")]
    if stale:
        return _unknown(c, f"Pregnancy status must be assessed within {window} days before {ctx.day}.", "pregnancy.assessed_on",
                        inputs=inputs)
    missing = [i.field for i in inputs[2:] if i.value == "not recorded"]
    if missing:
        return _unknown(c, "Pregnancy, lactation or contraception not recorded.", *missing, inputs=inputs)
    if not p.effective_contraception:
        return _result(c, NOT_MET, "Of childbearing potential without an effective method of birth control.", inputs)
    return _result(c, MET, f"Not pregnant, not lactating, effective contraception (assessed {p.assessed_on}).", inputs)


def check_hemodialysis(c: Criterion, ctx: _Context) -> CriterionResult:
    value = ctx.snapshot.on_hemodialysis
    if value is None:
        return _unknown(c, "Haemodialysis status not recorded.", "on_hemodialysis")
    inputs = [InputUsed("on haemodialysis", _yes_no(value), field="on_hemodialysis")]
    return _result(c, NOT_MET, "On haemodialysis: excluded.", inputs) if value else _result(c, MET, "Not on haemodialysis.", inputs)


def check_active_infection(c: Criterion, ctx: _Context) -> CriterionResult:
    screen = ctx.snapshot.infection_screen
    if screen is None:
        return _unknown(c, "Infection status not recorded.", "infection_screen")
    window = int(ctx.protocol.site("infection_status_max_age_days"))
    inputs = [InputUsed("infection screen", ", ".join(f"{i.description} grade {i.ctcae_grade}{'' if i.active else ' (resolved)'}"
                                                      for i in screen.infections) or "no infection",
                        when=str(screen.assessed_on), field="infection_screen")]
    if ctx.is_stale(screen.assessed_on, ctx.day - timedelta(days=window)):
        return _unknown(c, f"Infection status of {screen.assessed_on} is not within {window} days before {ctx.day}.",
                        "infection_screen", inputs=inputs)
    grade = int(c.quantity("excluding_grade_at_least").value)
    severe = [i for i in screen.infections if i.active and i.ctcae_grade >= grade]
    if severe:
        return _result(c, NOT_MET, f"Active infection of CTCAE grade {severe[0].ctcae_grade} ({severe[0].description}): excluded.",
                       inputs)
    return _result(c, MET, f"No active infection of CTCAE grade {grade}-4 (assessed {screen.assessed_on}).", inputs)


def check_proteinuria(c: Criterion, ctx: _Context) -> CriterionResult:
    d = ctx.snapshot.diagnosis
    if d is None:
        return _unknown(c, "Diagnosis not recorded.", "diagnosis.kind")
    if d.kind.value not in c.params["diagnoses"]:
        scope = f"; {c.params['scope']}" if d.kind is DiagnosisKind.RELATED_TUMOR else ""
        return _not_applicable(c, f"diagnosis is {d.kind.value.replace('_', ' ')}{scope}")
    p = ctx.snapshot.proteinuria
    if p is None:
        return _unknown(c, "Urinalysis protein not recorded.", "proteinuria")
    inputs = [InputUsed("urinalysis protein", p.urinalysis_protein.value, when=str(p.urinalysis_on), field="proteinuria")]
    if ctx.is_stale(p.urinalysis_on, ctx.assessment_window_start):
        return _unknown(c, f"Urinalysis of {p.urinalysis_on} is too old.", "proteinuria.urinalysis_on", inputs=inputs)
    if p.urinalysis_protein is UrinalysisProtein.NEGATIVE:
        return _result(c, MET, "Urinalysis negative for protein.", inputs)
    if p.urine_24h_protein_mg is None:
        return _unknown(c, f"Urinalysis protein {p.urinalysis_protein.value}: a 24-hour urine protein is required (A19).",
                        "proteinuria.urine_24h_protein_mg", inputs=inputs)
    inputs.append(InputUsed("24-hour urine protein", str(p.urine_24h_protein_mg), "mg/24 h",
                            when=str(p.urine_24h_collected_on or ""), field="proteinuria.urine_24h_protein_mg"))
    # The collection answers the urinalysis that asked for it: dated, on or after it, not after the treatment date
    # (A19, A20: the urinalysis work-up within 28 days).
    collected = p.urine_24h_collected_on
    if collected is None:
        return _unknown(c, "The 24-hour urine collection has no date.", "proteinuria.urine_24h_collected_on", inputs=inputs)
    if collected < p.urinalysis_on or collected > ctx.day:
        return _unknown(c, f"The 24-hour urine of {collected} does not follow the urinalysis of {p.urinalysis_on} (or is "
                        f"after {ctx.day}): it cannot answer the proteinuria it found.",
                        "proteinuria.urine_24h_collected_on", inputs=inputs)
    if p.urine_24h_reference_upper_mg is None:
        return _unknown(c, "The 24-hour urine protein has no reference range.", "proteinuria.urine_24h_reference_upper_mg",
                        inputs=inputs)
    if p.urine_24h_protein_mg > p.urine_24h_reference_upper_mg:
        return _result(c, NOT_MET, f"24-hour urine protein {p.urine_24h_protein_mg} mg is above the reference range "
                       f"(upper {p.urine_24h_reference_upper_mg} mg): excluded.", inputs)
    return _result(c, MET, f"24-hour urine protein {p.urine_24h_protein_mg} mg is within the reference range.", inputs)


def _yes_no(value: bool | None) -> str:
    return "not recorded" if value is None else ("yes" if value else "no")


#: The generic evaluators, by the ``check`` name the protocol data uses.
CHECKS: dict[str, Callable[[Criterion, _Context], CriterionResult]] = {
    "neuroblastoma_diagnosis": check_neuroblastoma_diagnosis,
    "pheo_diagnosis": check_pheo_diagnosis,
    "mibg_scan": check_mibg_scan,
    "disease_status": check_disease_status,
    "minimum_age": check_minimum_age,
    "pheo_age_range": check_pheo_age_range,
    "attestation": check_attestation,
    "performance_status": check_performance_status,
    "informed_consent": check_informed_consent,
    "antitumour_therapy_washout": check_antitumour_therapy_washout,
    "radiotherapy_washout": check_radiotherapy_washout,
    "cytokine_washout": check_cytokine_washout,
    "prior_mibg": check_prior_mibg,
    "stem_cell_product": check_stem_cell_product,
    "planned_dose": check_planned_dose,
    "lab_threshold": check_lab_threshold,
    "lab_uln_multiple": check_lab_uln_multiple,
    "marrow_metastasis_review": check_marrow_metastasis_review,
    "organ_disease": check_organ_disease,
    "pregnancy": check_pregnancy,
    "hemodialysis": check_hemodialysis,
    "active_infection": check_active_infection,
    "proteinuria": check_proteinuria,
}


#: The module's public surface: what the other layers may import (tests/unit/test_architecture.py).
__all__ = [
    "CHECKS",
    "ELIGIBILITY_SCHEMA",
    "ELIGIBILITY_VERSION",
    "UNVERIFIED_DECISION",
    "EligibilityResult",
    "ExplanationMismatch",
    "Verdict",
    "check_active_infection",
    "check_antitumour_therapy_washout",
    "check_attestation",
    "check_cytokine_washout",
    "check_disease_status",
    "check_hemodialysis",
    "check_informed_consent",
    "check_lab_threshold",
    "check_lab_uln_multiple",
    "check_marrow_metastasis_review",
    "check_mibg_scan",
    "check_minimum_age",
    "check_neuroblastoma_diagnosis",
    "check_organ_disease",
    "check_performance_status",
    "check_pheo_age_range",
    "check_pheo_diagnosis",
    "check_planned_dose",
    "check_pregnancy",
    "check_prior_mibg",
    "check_proteinuria",
    "check_radiotherapy_washout",
    "check_stem_cell_product",
    "compiled_verdicts",
    "evaluate_eligibility",
    "explain_eligibility",
    "overall_result",
    "reference_verdicts",
]

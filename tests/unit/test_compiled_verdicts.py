"""The verdicts compiled per protocol definition equal the full evaluator's (issue 14).

Screening compiles each protocol definition once into rules bound to its thresholds (mibg.core.compiled_screening,
mibg.core.dose_verdict) and builds the explanation from the full evaluator only when it is read. A wrong verdict
can harm a child, so the compiled verdicts are compared with the full evaluator (``explain_eligibility``: every
explanation built, each status taken from it) for generated patients at, just below and just above every
threshold of the definition (tests/unit/edge_patients.py), for modified definitions and site parameters, and
for definitions the compiler cannot read (the full evaluator then decides alone). The dose planner's compiled
verdict is compared with the findings of the eager plan (``explain_dose``), its one reference.
"""

from __future__ import annotations

import json
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
from edge_patients import PatientGenerator
from snapshots import build

from mibg.core import eligibility
from mibg.core.compiled_screening import CompiledScreening, compile_screening
from mibg.core.dose_verdict import compile_dose_limits
from mibg.core.dosing import (
    dose_blocks,
    dose_request_from_snapshot,
    explain_dose,
    plan_dose,
)
from mibg.core.eligibility import (
    EligibilityResult,
    compiled_verdicts,
    evaluate_eligibility,
    explain_eligibility,
    reference_verdicts,
)
from mibg.core.errors import InputError
from mibg.core.results import Overall, Severity, Status, Verdict
from mibg.core.snapshot import PatientSnapshot
from mibg.protocol import ProtocolDefinition, Quantity, load_protocol

PATIENTS = 10_000


def _verdicts(result: EligibilityResult) -> tuple[Verdict, ...]:
    return tuple(Verdict(c.id, c.status, bool(c.cleared_by)) for c in result.criteria)


def _with_criterion(protocol: ProtocolDefinition, criterion_id: str, **params: Any) -> ProtocolDefinition:
    criteria = tuple(replace(c, params={**c.params, **params}) if c.id == criterion_id else c for c in protocol.criteria)
    return replace(protocol, criteria=criteria)


def _with_limit(protocol: ProtocolDefinition, limit_id: str, **params: Any) -> ProtocolDefinition:
    limits = tuple(replace(d, params={**d.params, **params}) if d.id == limit_id else d for d in protocol.dose_limits)
    return replace(protocol, dose_limits=limits)


def _q(value: str, unit: str) -> Quantity:
    return Quantity(Decimal(value), unit)


class _Counting:
    """The reference verdict of one criterion, counted: how often the compiled rules handed a criterion back."""

    def __init__(self, protocol: ProtocolDefinition) -> None:
        compiled = compiled_verdicts(protocol)
        assert compiled is not None
        self.reference = compiled._reference
        self.calls = 0

    def __call__(self, snapshot: PatientSnapshot, index: int) -> Verdict:
        self.calls += 1
        return self.reference(snapshot, index)


def _compare(protocol: ProtocolDefinition, patients: int, seed: int, *, json_every: int = 10) -> tuple[
        PatientGenerator, _Counting, dict[str, set[Status]], set[Overall]]:
    """Each generated patient screened by the compiled rules and by the full evaluator: equal verdicts, overall result
    and chair-decided criteria; every ``json_every``-th also by evaluate_eligibility, byte for byte."""
    generator = PatientGenerator(protocol, seed)
    counting = _Counting(protocol)
    compiled = CompiledScreening(protocol, counting)
    statuses: dict[str, set[Status]] = {c.id: set() for c in protocol.criteria}
    overall: set[Overall] = set()
    for n in range(patients):
        snapshot = generator.patient()
        verdicts, result, decided = compiled.screen(snapshot)  # no fallback here: a failure of the rules shows
        eager = explain_eligibility(snapshot, protocol)
        expected = _verdicts(eager)
        if verdicts != expected:
            wrong = [(v, e) for v, e in zip(verdicts, expected, strict=True) if v != e]
            pytest.fail(f"compiled {wrong[0][0]} but the full evaluator says {wrong[0][1]} "
                        f"({eager.criterion(wrong[0][1].id).reason}) for {snapshot.model_dump_json()}")
        assert result is eager.overall
        assert decided == eager.unverified_decisions
        if n % json_every == 0:
            lazy = evaluate_eligibility(snapshot, protocol, decisions_signed_in_application=bool(n % 3), today=snapshot.planned_treatment_date)
            again = explain_eligibility(snapshot, protocol, decisions_signed_in_application=bool(n % 3), today=snapshot.planned_treatment_date)
            assert json.dumps(lazy.to_json()) == json.dumps(again.to_json())
        for verdict in verdicts:
            statuses[verdict.id].add(verdict.status)
        overall.add(result)
    return generator, counting, statuses, overall


@pytest.mark.slow
def test_the_compiled_verdicts_equal_the_full_evaluator_for_ten_thousand_patients_at_every_threshold() -> None:
    protocol = load_protocol()
    generator, counting, statuses, overall = _compare(protocol, PATIENTS, 14)
    # Every threshold was met just below, at and just above, many times: the comparison covers every edge.
    names = {name for name, _ in generator.coverage}
    assert len(names) >= 30
    thin = sorted((name, k) for name in names for k in (-1, 0, 1) if generator.coverage[(name, k)] < 20)
    assert thin == []
    # Every result and, for every criterion that can have more than one, more than one verdict.
    assert overall == set(Overall)
    assert {s for found in statuses.values() for s in found} == set(Status)
    assert [cid for cid, found in statuses.items() if len(found) < 2 and cid != "H5"] == []
    # The compiled rules decided almost every criterion themselves (the reference only for refused dose values).
    assert counting.calls < PATIENTS * len(protocol.criteria) // 100


#: Modified definitions: site windows, criterion thresholds and comparisons, dose limits and plausible ranges.
def _variants() -> list[tuple[str, ProtocolDefinition]]:
    base = load_protocol()
    site = (base.with_site_parameter("lab_max_age_days", Decimal(1), "test: labs of the day only")
            .with_site_parameter("assessment_max_age_days", Decimal(3), "test")
            .with_site_parameter("transfusion_lookback_days", Decimal(14), "test")
            .with_site_parameter("pregnancy_status_max_age_days", Decimal(1), "test")
            .with_site_parameter("infection_status_max_age_days", Decimal(30), "test")
            .with_site_parameter("weight_max_age_days", Decimal(0), "test: weighed on the day"))
    criteria = base
    for criterion_id, params in [
        ("P1", {"older_than_years": _q("2", "a")}),
        ("P3", {"younger_than_years": _q("18", "a")}),
        ("P5", {"minimum_score": _q("70", "%")}),
        ("H1", {"threshold": _q("1.0", "10^9/L"), "comparison": ">="}),
        ("H4", {"threshold": _q("9", "g/dL"), "comparison": ">=", "unsupported_by": ["red_cells"]}),
        ("O1", {"below_uln_multiple": _q("3", "x ULN")}),
        ("O3", {"threshold": _q("1.5", "mg/dL"), "comparison": "<"}),
        ("D3", {"window_days": _q("30", "d")}),
        ("T2", {"minimum_days": _q("21", "d")}),
        ("T3", {"minimum_months": _q("6", "mo"), "fields": ["other", "whole_lung"]}),
        ("T4", {"minimum_hours": _q("48", "h"), "long_acting_review_days": _q("7", "d")}),
        ("T5", {"more_than_months": _q("12", "mo"), "maximum_cumulative_mci_per_kg": _q("40", "mCi/kg"),
                "minimum_course_mci_per_kg": _q("10", "mCi/kg")}),
        ("X2", {"lactation_asked_from_age_years": _q("12", "a")}),
        ("X4", {"excluding_grade_at_least": _q("2", "CTCAE grade")}),
    ]:
        criteria = _with_criterion(criteria, criterion_id, **params)
    limits = _with_limit(base, "R1", minimum_mci_per_kg=_q("6", "mCi/kg"), maximum_mci_per_kg=_q("15", "mCi/kg"))
    limits = _with_limit(limits, "S2", gate_mci_per_kg=_q("10", "mCi/kg"), minimum_cd34_per_kg=_q("2E+6", "CD34+ cells/kg"))
    limits = _with_limit(limits, "R2", maximum_total_mci=_q("300", "mCi"), maximum_mci_per_kg=_q("10", "mCi/kg"))
    limits = _with_limit(limits, "T5", more_than_months=_q("12", "mo"),
                         maximum_cumulative_mci_per_kg=_q("40", "mCi/kg"))
    # Narrower plausible ranges: the planner refuses some snapshots' values, and PD says "unknown" through the reference.
    plausible = (base.with_site_parameter("plausible_weight_kg_max", Decimal(40), "test")
                 .with_site_parameter("plausible_mci_per_kg_max", Decimal(15), "test")
                 .with_site_parameter("plausible_cells_per_kg_max", Decimal("1E+8"), "test"))
    return [("site windows", site), ("criterion thresholds", criteria), ("dose limits", limits),
            ("plausible ranges", plausible)]


@pytest.mark.slow
@pytest.mark.parametrize("name", ["site windows", "criterion thresholds", "dose limits", "plausible ranges"])
def test_the_compiled_verdicts_equal_the_full_evaluator_for_a_modified_definition(name: str) -> None:
    protocol = dict(_variants())[name]
    assert compiled_verdicts(protocol) is not None
    generator, counting, statuses, overall = _compare(protocol, 1_000, 3, json_every=30)
    assert len(overall) >= 2  # (with the narrow site windows the examples' dates are never all current)
    assert {s for found in statuses.values() for s in found} == set(Status)
    assert all(generator.coverage[(n, k)] > 0 for n, _ in generator.coverage for k in (-1, 0, 1))
    if name == "plausible ranges":
        assert counting.calls > 50  # PD handed to the reference for the values the planner refuses


def test_a_changed_site_window_changes_the_compiled_verdict_as_it_changes_the_full_evaluators() -> None:
    # Laboratory results three days old: inside the installed 28-day window, outside a one-day window.
    protocol = load_protocol()
    one_day = protocol.with_site_parameter("lab_max_age_days", Decimal(1), "labs of the day before only")
    snapshot = build()  # the eligible example: results of 7 December, treatment on 10 December
    assert evaluate_eligibility(snapshot, protocol).status_of("H1") is Status.MET
    assert evaluate_eligibility(snapshot, one_day).status_of("H1") is Status.UNKNOWN
    assert explain_eligibility(snapshot, one_day).criterion("H1").status is Status.UNKNOWN


def test_a_definition_the_compiler_cannot_read_is_screened_by_the_full_evaluator_alone() -> None:
    # D1's statuses as one word instead of a list: the reference reads it (as text); the compiler does not guess.
    protocol = _with_criterion(load_protocol(), "D1", statuses="relapsed refractory")
    assert compile_screening(protocol, lambda snapshot, index: Verdict("", Status.MET)) is None
    assert compiled_verdicts(protocol) is None
    generator = PatientGenerator(protocol, 8)
    for _ in range(200):
        snapshot = generator.patient()
        lazy = evaluate_eligibility(snapshot, protocol)
        eager = explain_eligibility(snapshot, protocol)
        assert lazy.verdicts == _verdicts(eager)
        assert lazy.verdicts == reference_verdicts(snapshot, protocol)
        assert json.dumps(lazy.to_json()) == json.dumps(eager.to_json())


@pytest.mark.parametrize("change", ["unknown comparison", "missing site window", "missing dose limit",
                                    "threshold in another unit"])
def test_a_definition_with_a_parameter_the_compiler_does_not_know_is_not_compiled(change: str) -> None:
    protocol = load_protocol()
    if change == "unknown comparison":
        protocol = _with_criterion(protocol, "H1", comparison="=>")
    elif change == "missing site window":
        protocol = replace(protocol, site_parameters={k: v for k, v in protocol.site_parameters.items()
                                                      if k != "assessment_max_age_days"})
    elif change == "missing dose limit":
        protocol = replace(protocol, dose_limits=tuple(d for d in protocol.dose_limits if d.id != "R4"))
    else:
        protocol = _with_criterion(protocol, "O3", threshold=_q("176.8", "umol/L"))
    assert compiled_verdicts(protocol) is None


def test_a_definition_without_a_dose_limit_the_compiled_planner_reads_is_planned_by_the_reference() -> None:
    protocol = replace(load_protocol(), dose_limits=tuple(d for d in load_protocol().dose_limits if d.id != "R4"))
    assert compile_dose_limits(protocol) is None
    generator = PatientGenerator(load_protocol(), 9)
    for _ in range(100):
        snapshot = generator.patient()
        try:
            request = dose_request_from_snapshot(snapshot, mci_per_kg=Decimal(12), protocol=protocol)
        except InputError:
            continue
        assert _outcome(plan_dose, request, protocol) == _outcome(explain_dose, request, protocol)


def _outcome(plan: Any, request: Any, protocol: ProtocolDefinition) -> str:
    """The plan's status, or the field its refusal names."""
    try:
        return str(plan(request, protocol).status)
    except InputError as error:
        return f"refused: {error.field}"


def test_when_the_compiled_rules_fail_the_full_evaluator_decides(monkeypatch: pytest.MonkeyPatch) -> None:
    protocol = load_protocol()
    compiled = compiled_verdicts(protocol)
    assert compiled is not None
    patients = [PatientGenerator(protocol, 11).patient() for _ in range(50)]
    expected = [_verdicts(explain_eligibility(s, protocol)) for s in patients]

    def broken(self: CompiledScreening, snapshot: PatientSnapshot) -> None:
        raise ArithmeticError("a defect of the compiled rules")

    monkeypatch.setattr(CompiledScreening, "screen", broken)
    assert [evaluate_eligibility(s, protocol).verdicts for s in patients] == expected


def test_every_compiled_definition_is_made_once_and_kept_with_its_definition() -> None:
    protocol = load_protocol()
    assert compiled_verdicts(protocol) is compiled_verdicts(protocol)
    changed = protocol.with_site_parameter("lab_max_age_days", Decimal(7), "test")
    assert compiled_verdicts(changed) is not compiled_verdicts(protocol)
    assert eligibility._COMPILED[id(changed)][0] is changed


# ---- the dose planner ---------------------------------------------------------------------------------------


def _compare_dose(protocol: ProtocolDefinition, requests: int, seed: int) -> tuple[int, int, int]:
    generator = PatientGenerator(protocol, seed)
    limits = compile_dose_limits(protocol)
    assert limits is not None
    blocked = refused = decided_fast = 0
    made = 0
    while made < requests:
        snapshot = generator.patient()
        preparation, overrides = generator.request_overrides()
        mci_per_kg = generator.dose()
        try:
            request = dose_request_from_snapshot(snapshot, mci_per_kg=mci_per_kg, preparation=preparation,
                                                 protocol=protocol, **overrides)
        except InputError:
            continue
        made += 1
        decided_fast += limits.request_blocks(request) is not None
        try:
            eager = explain_dose(request, protocol)
        except InputError as error:
            field = error.field
        else:
            field = None
        if field is not None:  # bad input: every path refuses it, naming the same field
            with pytest.raises(InputError) as again:
                dose_blocks(request, protocol)
            assert again.value.field == field
            with pytest.raises(InputError) as planned:
                plan_dose(request, protocol)
            assert planned.value.field == field
            refused += 1
            continue
        expected = sorted((f.rule, f.chair_clearable) for f in eager.findings
                          if f.severity is Severity.BLOCK or f.cleared_by)
        assert sorted(dose_blocks(request, protocol)) == expected
        plan = plan_dose(request, protocol)
        assert plan.status == eager.status
        assert plan.stem_cells_adequate == eager.stem_cells_adequate
        blocked += plan.blocked
    return blocked, refused, decided_fast


@pytest.mark.slow
def test_the_compiled_dose_verdict_equals_the_eager_plans_findings_for_requests_at_every_dose_limit() -> None:
    blocked, refused, fast = _compare_dose(load_protocol(), 3_000, 21)
    assert blocked > 1_000
    assert refused > 100
    assert fast > 2_000


@pytest.mark.slow
def test_the_compiled_dose_verdict_equals_the_eager_plans_findings_for_modified_dose_limits() -> None:
    protocol = dict(_variants())["dose limits"]
    blocked, _, fast = _compare_dose(protocol, 1_000, 22)
    assert blocked > 300
    assert fast > 600

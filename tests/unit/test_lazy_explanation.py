"""Verdicts first, explanations on demand (issue 14): the lazy explanation equals the eager one.

``evaluate_eligibility`` decides every criterion's status by its verdict function and builds the explanation
(inputs, dates, reason, wording) when it is read; ``explain_eligibility`` builds every explanation at once and
takes each status from it, as the evaluation did before. Over 10,000 generated patients (the screening
benchmark's population, with chair decisions, signed and unsigned, and a screening day added) both give the same
verdicts, the same overall result and byte-identical JSON, whichever criterion is read first. The dose planner's
verdict (``dose_blocks``, which ``plan_dose`` decides its status by before building its findings) is checked
against the findings of the eager plan (``explain_dose``) in the same way.
"""

from __future__ import annotations

import importlib.util
import json
import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from mibg.core.dosing import dose_blocks, dose_request_from_snapshot, explain_dose, plan_dose
from mibg.core.eligibility import (
    EligibilityResult,
    ExplanationMismatch,
    Verdict,
    evaluate_eligibility,
    explain_eligibility,
)
from mibg.core.errors import InputError
from mibg.core.results import Severity, Status
from mibg.core.snapshot import ChairDecision, PatientSnapshot
from mibg.protocol import load_protocol

PATIENTS = 10_000
BENCH = Path(__file__).resolve().parents[2] / "bench" / "bench_screening.py"


def _bench() -> Any:
    spec = importlib.util.spec_from_file_location("bench_screening", BENCH)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _with_decisions(snapshot: PatientSnapshot, rng: random.Random) -> PatientSnapshot:
    """Chair decisions on the criteria a chair decides (and on S2/R2, the dose limits), cleared or not."""
    if rng.random() >= 0.3:
        return snapshot
    decisions = []
    for _ in range(rng.randint(1, 3)):
        decisions.append(ChairDecision(criterion=rng.choice(["X1", "H1", "H2", "H3", "T4", "S1", "S2", "R2", "O3"]),
                                       cleared=rng.random() < 0.6, by="Dr Chair",
                                       at=datetime(2026, 11, rng.randint(1, 28), 12, tzinfo=UTC), reason="reviewed"))
    return snapshot.model_copy(update={"chair_decisions": tuple(decisions)})


def _population(count: int, seed: int) -> list[tuple[PatientSnapshot, bool, date | None, Decimal, str | None]]:
    rng = random.Random(seed)
    patients = []
    for snapshot, mci_per_kg, preparation in _bench().generate(count, seed):
        snapshot = _with_decisions(snapshot, rng)
        if rng.random() < 0.1:
            snapshot = snapshot.model_copy(update={"planned_mci_per_kg": rng.choice([None, Decimal(12), Decimal(18)])})
        today = snapshot.planned_treatment_date + timedelta(days=rng.choice([-3, 0, 2]))
        patients.append((snapshot, rng.random() < 0.5, today, mci_per_kg, preparation))
    return patients


@pytest.mark.slow
def test_the_lazy_explanation_equals_the_eager_one_for_ten_thousand_generated_patients() -> None:
    protocol = load_protocol()
    rng = random.Random(14)
    overall: set[str] = set()
    statuses: set[Status] = set()
    decided = 0
    for snapshot, signed, today, _, _ in _population(PATIENTS, 14):
        lazy = evaluate_eligibility(snapshot, protocol, decisions_signed_in_application=signed, today=today)
        eager = explain_eligibility(snapshot, protocol, decisions_signed_in_application=signed, today=today)
        assert lazy.verdicts == tuple(Verdict(c.id, c.status, bool(c.cleared_by)) for c in eager.criteria)
        assert lazy.overall is eager.overall
        assert lazy.unverified_decisions == eager.unverified_decisions
        # Read one criterion first, in a random order, before the whole result.
        first = rng.choice(lazy.verdicts).id
        assert lazy.criterion(first) == eager.criterion(first)
        assert json.dumps(lazy.to_json()) == json.dumps(eager.to_json())
        assert lazy == eager
        overall.add(str(lazy.overall))
        statuses.update(v.status for v in lazy.verdicts)
        decided += any(v.decided for v in lazy.verdicts)
    # The population reaches every result, every status and decided criteria: the comparison can fail.
    assert overall == {"eligible", "not eligible", "incomplete", "needs review"}
    assert statuses == set(Status)
    assert decided > 100


@pytest.mark.slow
def test_the_dose_verdict_names_exactly_the_blocks_of_the_eager_plan_and_the_lazy_plan_equals_it() -> None:
    protocol = load_protocol()
    rng = random.Random(7)
    blocked = cleared = 0
    for snapshot, _, _, mci_per_kg, preparation in _population(3_000, 7):
        overrides: dict[str, object] = {}
        if rng.random() < 0.3:
            overrides["final_volume_ml"] = Decimal(rng.randint(10, 60))
        if rng.random() < 0.3:
            overrides["infusion_min"] = Decimal(rng.randint(20, 130))
        if preparation is None and rng.random() < 0.3:
            preparation = "draximage"
            if rng.random() < 0.5:
                overrides["specific_activity_ci_per_mmol"] = Decimal(rng.randint(1, 100))
        try:
            request = dose_request_from_snapshot(snapshot, mci_per_kg=mci_per_kg, preparation=preparation,
                                                 protocol=protocol, **overrides)
        except InputError:
            continue
        try:
            plan = plan_dose(request, protocol)
        except InputError as error:
            refused = error.field
        else:
            refused = None
        if refused is not None:
            with pytest.raises(InputError) as again:
                dose_blocks(request, protocol)
            assert again.value.field == refused
            continue
        blocks = dose_blocks(request, protocol)
        eager = explain_dose(request, protocol)
        expected = [(f.rule, f.chair_clearable) for f in eager.findings
                    if f.severity is Severity.BLOCK or f.cleared_by]
        assert sorted(blocks) == sorted(expected)
        assert plan.status == eager.status
        assert json.dumps(plan.to_json()) == json.dumps(eager.to_json())
        assert plan == eager
        blocked += plan.blocked
        cleared += any(f.cleared_by for f in plan.findings)
    assert blocked > 100
    assert cleared > 0


def test_a_result_read_back_from_its_json_has_the_verdicts_of_its_criteria() -> None:
    snapshot = _population(1, 3)[0][0]
    result = evaluate_eligibility(snapshot)
    back = EligibilityResult.from_json(result.to_json())
    assert back.verdicts == result.verdicts
    assert back == result


def test_an_explanation_that_disagrees_with_its_verdict_is_refused_when_read() -> None:
    snapshot = _population(1, 3)[0][0]
    honest = evaluate_eligibility(snapshot)
    wrong = (Verdict(honest.verdicts[0].id, Status.NEEDS_REVIEW), *honest.verdicts[1:])
    result = EligibilityResult.deferred(honest.protocol_label, honest.treatment_date, honest.overall, wrong,
                                        honest.warnings, honest.unverified_decisions,
                                        lambda index: honest.criteria[index])
    assert result.status_of(wrong[0].id) is Status.NEEDS_REVIEW
    with pytest.raises(ExplanationMismatch, match=wrong[0].id):
        result.to_json()

"""The "Done when" properties of issue 12, on generated cases (Hypothesis), for the dose planner and decay.

Marked ``slow``. The default run checks each property on the Hypothesis profile's default number of examples
(fast); the thorough run checks at least 10,000 examples per property:

    pytest -m slow --hypothesis-profile=slow tests/unit/test_planner_properties.py

The hard limits are restated here from clinical-reference §1.3-1.4 and decisions.md "Dose", independently of
the planner's code: R1 8-18 mCi/kg; S2/S3 below 12 mCi/kg without adequate stem cells; R2 pheo/paraganglioma
at most min(500 mCi, 12 mCi/kg x kg); T5 more than 6 calendar months since the last 131I-MIBG, adequate stem
cells, cumulative at most 60 mCi/kg; R4 final volume 25-50 mL and not below the drug's own volume; R6 AZEDRA
30-60 min, DraxImage 90-120 min.
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mibg.core.decay import activity_to_draw_at_calibration, decay_correct
from mibg.core.dosing import DoseRequest, plan_dose
from mibg.core.units import Activity
from mibg.core.vocabulary import DiagnosisKind

pytestmark = pytest.mark.slow

#: No deadline (the machine is shared); examples from the loaded profile ("slow": 10,000).
PROPERTY = settings(deadline=None, database=None)
TREATMENT = date(2026, 12, 10)
ADMINISTRATION = datetime(2026, 12, 10, 17, 0, tzinfo=UTC)
HALF_LIFE = Decimal("8.0207")
MOLAR_MASS = Decimal("275.09")


def decimals(low: str, high: str, places: int = 2) -> st.SearchStrategy[Decimal]:
    return st.decimals(min_value=Decimal(low), max_value=Decimal(high), places=places, allow_nan=False,
                       allow_infinity=False)


def edges(*values: str) -> st.SearchStrategy[Decimal]:
    return st.sampled_from([Decimal(v) for v in values])


# Plausible inputs (the plausibility limits refuse a weight below 2 kg or an activity above 5,000 mCi as bad input).
weights = decimals("2", "150") | edges("41.66", "41.67", "20", "62.5")
doses = decimals("1", "30", 3) | edges("7.99", "8", "11.99", "12", "12.01", "18", "18.01")
cd34s = st.none() | decimals("0", "5E6", 0) | edges("999999", "1E6", "2E6")
mncs = st.none() | decimals("0", "5E8", 0) | edges("99999999", "1E8")
priors = st.one_of(st.just((Decimal(0), None)),
                   st.tuples(decimals("0", "70") | edges("42", "42.01", "52"),
                             st.none() | st.dates(min_value=date(2025, 1, 1), max_value=TREATMENT)))
preparations = st.sampled_from([None, "azedra", "draximage"])
volumes = st.none() | decimals("10", "80", 1) | edges("24.9", "25", "50", "50.1")
minutes = st.none() | decimals("10", "180", 0) | edges("29", "30", "60", "61", "89", "90", "120", "121")
calibration_hours = st.none() | decimals("0", "240", 1)


def six_calendar_months_after(day: date) -> date:
    index = day.month - 1 + 6
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@PROPERTY
@given(weight=decimals("2", "60") | edges("41.67", "20"), dose=decimals("1", "20", 3) | edges("8", "12", "18"),
       factor=st.integers(min_value=2, max_value=4), cd34=cd34s)
def test_the_activity_is_linear_in_the_weight_and_in_the_dose_per_kg(weight, dose, factor, cd34):
    one = plan_dose(DoseRequest(weight_kg=weight, mci_per_kg=dose, cd34_per_kg=cd34))
    heavier = plan_dose(DoseRequest(weight_kg=weight * factor, mci_per_kg=dose, cd34_per_kg=cd34))
    stronger = plan_dose(DoseRequest(weight_kg=weight, mci_per_kg=dose * factor, cd34_per_kg=cd34))
    assert one.activity.mci == weight * dose
    assert heavier.activity.mci == factor * one.activity.mci
    assert stronger.activity.mci == factor * one.activity.mci
    assert heavier.activity.mbq == factor * one.activity.mbq == 37 * factor * weight * dose


@PROPERTY
@given(weight=weights, dose=doses, cd34=cd34s, mnc=mncs, prior=priors, diagnosis=st.sampled_from(list(DiagnosisKind)),
       preparation=preparations, volume=volumes, duration=minutes, hours=calibration_hours,
       cleared=st.sets(st.sampled_from(["S2", "R2"])).map(frozenset))
def test_the_planner_never_raises_a_prescription_and_never_passes_a_plan_above_a_limit(
        weight, dose, cd34, mnc, prior, diagnosis, preparation, volume, duration, hours, cleared):
    prior_mci_per_kg, last_mibg = prior
    timing: dict[str, object] = {}
    if hours is not None:
        timing = {"calibration_time": ADMINISTRATION - timedelta(hours=float(hours)),
                  "administration_time": ADMINISTRATION}
    specific = {"specific_activity_ci_per_mmol": Decimal(12)} if preparation == "draximage" else {}
    plan = plan_dose(DoseRequest(weight_kg=weight, mci_per_kg=dose, diagnosis=diagnosis, cd34_per_kg=cd34,
                                 marrow_mnc_per_kg=mnc, prior_mci_per_kg=prior_mci_per_kg, last_mibg_date=last_mibg,
                                 treatment_date=TREATMENT, chair_clearances=cleared, preparation=preparation,
                                 final_volume_ml=volume, infusion_min=duration, **specific, **timing))
    activity = weight * dose
    # Never raised (nor lowered): the plan carries exactly the prescription.
    assert plan.activity.mci == activity
    assert plan.max_activity is None or plan.max_activity.mci >= 0
    if plan.status != "ok":
        return
    adequate = (cd34 is not None and cd34 >= Decimal("1E6")) or (mnc is not None and mnc >= Decimal("1E8"))
    assert Decimal(8) <= dose <= Decimal(18)
    if not adequate:
        assert dose < 12 or (dose == 12 and "S2" in cleared)
    if diagnosis is not DiagnosisKind.NEUROBLASTOMA and "R2" not in cleared:
        assert activity <= min(Decimal(500), 12 * weight)
    if prior_mci_per_kg > 0 or last_mibg is not None:
        assert last_mibg is not None
        assert six_calendar_months_after(last_mibg) < TREATMENT
        assert adequate
        assert prior_mci_per_kg + dose <= 60
    if preparation is not None and volume is not None:
        assert Decimal(25) <= volume <= Decimal(50)
        if plan.drug_volume_ml is not None:
            assert plan.drug_volume_ml <= volume
    if preparation is not None and duration is not None:
        low, high = (30, 60) if preparation == "azedra" else (90, 120)
        assert low <= duration <= high
    assert plan.max_activity is not None
    assert activity <= plan.max_activity.mci if plan.max_activity_inclusive else activity < plan.max_activity.mci


@PROPERTY
@given(mci=decimals("0.001", "2000", 3), hours=decimals("-720", "720", 3))
def test_decay_round_trips(mci, hours):
    there = decay_correct(Activity(mci), ADMINISTRATION, ADMINISTRATION + timedelta(hours=float(hours)), HALF_LIFE)
    back = decay_correct(there.activity_to, there.time_to, ADMINISTRATION, HALF_LIFE)
    # Each factor is rounded to 10 significant digits: the round trip is exact to about 2e-10, relative.
    assert abs(back.activity_to.mci - mci) <= mci * Decimal("1e-9")
    assert abs(there.factor * back.factor - 1) <= Decimal("1e-9")


@PROPERTY
@given(mci=decimals("1", "2000", 2), hours=decimals("0", "336", 2))
def test_the_activity_drawn_at_calibration_decays_back_to_the_prescription(mci, hours):
    calibration = ADMINISTRATION - timedelta(hours=float(hours))
    drawn = activity_to_draw_at_calibration(Activity(mci), calibration, ADMINISTRATION, HALF_LIFE)
    given_then = decay_correct(drawn.activity_to, calibration, ADMINISTRATION, HALF_LIFE)
    assert abs(given_then.activity_to.mci - mci) <= mci * Decimal("1e-9")


@PROPERTY
@given(at_calibration=decimals("100", "700", 2), first=decimals("0", "336", 2), second=decimals("0", "336", 2),
       sa=decimals("9", "18", 2))
def test_the_mibg_mass_is_independent_of_when_it_is_computed(at_calibration, first, second, sa):
    """decisions.md A28: one lot (activity at calibration, specific activity) has one mass, whether the dose is
    given (and the mass computed) soon after calibration or days later: the prescription then is what is left."""
    calibration = ADMINISTRATION - timedelta(days=20)
    masses = []
    for hours in (first, second):
        given_at = calibration + timedelta(hours=float(hours))
        left = decay_correct(Activity(at_calibration), calibration, given_at, HALF_LIFE).activity_to.mci
        plan = plan_dose(DoseRequest(weight_kg=left / 10, mci_per_kg=Decimal(10), cd34_per_kg=Decimal("3E6"),
                                     preparation="draximage", specific_activity_ci_per_mmol=sa,
                                     calibration_time=calibration, administration_time=given_at))
        assert plan.mibg_mass_mg is not None
        masses.append(plan.mibg_mass_mg)
    expected = at_calibration / 1000 / sa * MOLAR_MASS  # n = A / SA, m = n x M (clinical-reference §5.4)
    for mass in masses:
        assert abs(mass - expected) <= expected * Decimal("1e-8")
    assert abs(masses[0] - masses[1]) <= expected * Decimal("2e-8")

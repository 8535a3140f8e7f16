"""Properties of the dose planner, units and decay, checked on many generated cases (hypothesis).

The hard limits are restated here from clinical-reference §1.3-1.4 and decisions.md "Dose", independently
of the planner's code: R1 8-18 mCi/kg; S2/S3 below 12 mCi/kg without adequate stem cells (exactly 12 only
with a chair clearance); R2 pheo/paraganglioma at most min(500 mCi, 12 mCi/kg x kg) unless the chair
cleared it; T5 prior MIBG more than 6 calendar months before, adequate stem cells, cumulative <= 60.
"""

import calendar
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from mibg.core.decay import decay_factor
from mibg.core.dosing import DoseRequest, plan_dose
from mibg.core.units import Activity
from mibg.core.vocabulary import DiagnosisKind

FAST = settings(max_examples=150, deadline=None, database=None)
TREATMENT = date(2026, 12, 10)
HALF_LIFE = Decimal("8.0207")


def decimals(low, high, places=2):
    return st.decimals(min_value=Decimal(low), max_value=Decimal(high), places=places, allow_nan=False, allow_infinity=False)


def around(*edges):
    """Values on and next to the limits, mixed with values anywhere."""
    return st.sampled_from([Decimal(e) for e in edges])


# The plausible range starts at 2 kg (site parameter plausible_weight_kg_min); below it is bad input.
weights = decimals("2", "150") | around("41.66", "41.67", "50", "20")
doses = decimals("0.5", "30") | around("7.99", "8", "11.99", "12", "12.01", "18", "18.01", "10.002")
cd34s = st.none() | decimals("0", "5E6", 0) | around("999999", "1E6", "2E6")
mncs = st.none() | decimals("0", "5E8", 0) | around("99999999", "1E8")
priors = st.one_of(
    st.just((Decimal(0), None)),
    st.tuples(decimals("0", "70") | around("42", "42.01", "52"),
              st.none() | st.dates(min_value=date(2025, 1, 1), max_value=TREATMENT)),
)
diagnoses = st.sampled_from(list(DiagnosisKind))
clearances = st.sets(st.sampled_from(["S2", "R2"])).map(frozenset)


def six_calendar_months_after(day):
    month_index = day.month - 1 + 6
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@FAST
@given(weight=weights, dose=doses, cd34=cd34s, mnc=mncs, prior=priors, diagnosis=diagnoses, cleared=clearances)
def test_the_planner_never_returns_ok_above_a_hard_limit(weight, dose, cd34, mnc, prior, diagnosis, cleared):
    prior_mci_per_kg, last_mibg = prior
    plan = plan_dose(DoseRequest(weight_kg=weight, mci_per_kg=dose, diagnosis=diagnosis, cd34_per_kg=cd34,
                                 marrow_mnc_per_kg=mnc, prior_mci_per_kg=prior_mci_per_kg, last_mibg_date=last_mibg,
                                 treatment_date=TREATMENT, chair_clearances=cleared))
    if plan.status != "ok":
        return
    activity = weight * dose
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
    # An accepted prescription is never above the largest allowed activity the planner reports.
    assert plan.max_activity is not None
    if plan.max_activity_inclusive:
        assert activity <= plan.max_activity.mci
    else:
        assert activity < plan.max_activity.mci


@FAST
@given(weight=decimals("2", "50"), dose=decimals("8", "18", 3), factor=st.integers(min_value=2, max_value=5))
def test_activity_is_linear_in_weight(weight, dose, factor):
    one = plan_dose(DoseRequest(weight_kg=weight, mci_per_kg=dose, cd34_per_kg=Decimal("3E6")))
    scaled = plan_dose(DoseRequest(weight_kg=weight * factor, mci_per_kg=dose, cd34_per_kg=Decimal("3E6")))
    assert one.activity.mci == weight * dose
    assert scaled.activity.mci == factor * one.activity.mci
    assert scaled.activity.mbq == factor * one.activity.mbq


@FAST
@given(mci=decimals("0.000001", "100000", 6))
def test_mci_to_mbq_to_mci_round_trip_is_exact(mci):
    assert Activity.from_mbq(Activity(mci).mbq).mci == mci
    assert Activity.from_gbq(Activity(mci).gbq).mci == mci
    assert Activity(mci).mbq == mci * 37


@FAST
@given(earlier=decimals("-500", "5000", 3), later_by=decimals("0", "5000", 3))
def test_decay_correction_is_monotonic_in_elapsed_time(earlier, later_by):
    assert decay_factor(earlier, HALF_LIFE) >= decay_factor(earlier + later_by, HALF_LIFE)


@FAST
@given(hours=decimals("0", "2000", 4))
def test_one_half_life_more_halves_the_remaining_activity(hours):
    half_life_hours = HALF_LIFE * 24  # 192.4968 h
    assert abs(decay_factor(hours + half_life_hours, HALF_LIFE) - decay_factor(hours, HALF_LIFE) / 2) <= Decimal("1e-9")


def test_exactly_one_half_life_of_8_0207_days_halves_the_activity():
    assert abs(decay_factor(Decimal("192.4968"), HALF_LIFE) - Decimal("0.5")) <= Decimal("1e-9")
    assert abs(decay_factor(Decimal(timedelta(days=8.0207).total_seconds()) / 3600, HALF_LIFE) - Decimal("0.5")) <= Decimal("1e-9")

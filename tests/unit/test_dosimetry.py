"""Retention fits, tau and whole-body dose (clinical-reference §4.3, §4.4; decisions.md "Radiation safety and
dosimetry"). Expected values are computed by hand from the generating parameters or taken from the reference."""

from __future__ import annotations

import doctest
import math
import random
import subprocess
import sys
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mibg.core import dosimetry
from mibg.core.dosimetry import (
    BI,
    MONO,
    TRAPEZOID,
    Reading,
    reading_from_row,
    retention_fit,
    retention_points,
    trapezoid_tiac,
    whole_body_dose,
)
from mibg.core.errors import InputError
from mibg.core.units import Activity
from mibg.protocol import load_protocol

LN2 = math.log(2)

# clinical-reference §4.4: 22.0 kg, 396 mCi, readings at 1 m in mR/h.
WORKED_EXAMPLE = [("0.5", "60.0"), ("24", "29.0"), ("48", "14.1"), ("72", "7.0"), ("96", "3.5")]


def readings(rows):
    return [Reading(Decimal(t), Decimal(r)) for t, r in rows]


def synthetic(times, components, first_rate=100.0, t0=None, noise=None):
    """Readings r(t) = sum a_i 2^(-(t - t0)/T_i) x first_rate, optionally x exp(sigma z)."""
    t0 = times[0] if t0 is None else t0
    rows = []
    for i, t in enumerate(times):
        r = sum(a * 2 ** (-(t - t0) / half) for a, half in components)
        if noise is not None and i > 0:
            r *= math.exp(noise[i])
        rows.append(Reading(Decimal(repr(t)), Decimal(repr(first_rate * r))))
    return rows


# ---- readings in -------------------------------------------------------------------------------------------


def test_a_reading_accepts_text_and_computes_the_net_rate_exactly():
    reading = Reading("24", "29.0", "0.1")  # type: ignore[arg-type]
    assert reading.hours == Decimal(24)
    assert reading.net_mrem_per_h == Decimal("28.9")


@pytest.mark.parametrize(("column", "value"), [("hours", "-1"), ("mrem_per_h", "-0.5"),
                                               ("background_mrem_per_h", "-0.1"), ("mrem_per_h", "abc"),
                                               ("hours", "NaN"), ("mrem_per_h", "")])
def test_a_negative_or_non_numeric_value_is_refused_naming_the_column_and_row(column, value):
    row = {"hours": "24", "mrem_per_h": "29", "background_mrem_per_h": "0"} | {column: value}
    with pytest.raises(InputError) as error:
        reading_from_row(row, "line 3")
    assert error.value.field == f"{column} (line 3)"


def test_an_empty_background_cell_means_no_background():
    assert reading_from_row({"hours": "1", "mrem_per_h": "5", "background_mrem_per_h": " "}, "x").net_mrem_per_h == 5


def test_fewer_than_two_readings_are_refused():
    with pytest.raises(InputError) as error:
        retention_fit(readings([("0.5", "60")]))
    assert error.value.field == "readings"


def test_times_that_do_not_increase_are_refused_naming_the_reading():
    with pytest.raises(InputError) as error:
        retention_points(readings([("0.5", "60"), ("24", "30"), ("24", "20")]))
    assert error.value.field == "hours (reading 3)"
    assert "strictly increasing" in error.value.message


def test_a_background_at_or_above_the_reading_is_refused():
    with pytest.raises(InputError) as error:
        retention_points([Reading(Decimal("0.5"), Decimal(60)), Reading(Decimal(24), Decimal(1), Decimal(1))])
    assert error.value.field == "mrem_per_h (reading 2)"


@pytest.mark.parametrize("last", ["60.0", "61"])
def test_a_last_reading_not_below_the_first_is_a_rising_curve_that_cannot_be_fitted(last):
    with pytest.raises(InputError) as error:
        retention_fit(readings([("0.5", "60.0"), ("24", "40"), ("48", last)]))
    assert error.value.field == "mrem_per_h (reading 3)"
    assert "rising or flat" in error.value.message


def test_retention_is_each_net_reading_over_the_first_net_reading():
    points = retention_points([Reading(Decimal("0.5"), Decimal("60.5"), Decimal("0.5")),
                               Reading(Decimal(24), Decimal("30.5"), Decimal("0.5"))])
    assert [p.retention for p in points] == [Decimal(1), Decimal("0.5")]


# ---- known exponentials are recovered ------------------------------------------------------------------------


def test_a_mono_exponential_is_recovered_with_tau_from_the_closed_form():
    t0, half = 0.75, 20.0
    fit = retention_fit(synthetic([t0, 6, 24, 48, 72, 96], [(1.0, half)]))
    assert fit.model == MONO
    expected_tau = t0 + 1.0 / (LN2 / half)  # r = 1 from 0 to t0, then a/lambda
    assert fit.effective_half_life_h == pytest.approx(half, rel=0.01)
    assert fit.tiac_h == pytest.approx(expected_tau, rel=0.01)


def test_a_bi_exponential_is_recovered_and_chosen_by_aicc():
    t0, (a1, t1), (a2, t2) = 1.0, (0.55, 5.0), (0.45, 36.0)
    fit = retention_fit(synthetic([1, 3, 6, 10, 24, 48, 72, 96, 120, 144], [(a1, t1), (a2, t2)]))
    assert fit.model == BI
    fast, slow = fit.components
    assert fast.half_life_h == pytest.approx(t1, rel=0.01)
    assert slow.half_life_h == pytest.approx(t2, rel=0.01)
    assert fast.amplitude == pytest.approx(a1, rel=0.01)
    expected_tau = t0 + a1 / (LN2 / t1) + a2 / (LN2 / t2)
    assert fit.tiac_h == pytest.approx(expected_tau, rel=0.01)
    assert any("AICc" in note for note in fit.notes)


def test_the_bi_exponential_is_considered_only_from_seven_readings():
    fit = retention_fit(synthetic([1, 6, 24, 48, 72, 96], [(0.55, 5.0), (0.45, 36.0)]))
    assert fit.model == MONO
    assert [c.model for c in fit.candidates] == [MONO]
    assert any("at least 7" in note for note in fit.notes)


def test_a_mono_exponential_curve_keeps_the_mono_exponential_model_even_with_many_readings():
    fit = retention_fit(synthetic([1, 4, 8, 24, 48, 72, 96, 120], [(1.0, 22.0)]))
    assert fit.model == MONO


@settings(max_examples=30, deadline=None)
@given(half=st.floats(8, 120), t0=st.floats(0.25, 3), count=st.integers(3, 9))
def test_any_mono_exponential_is_recovered_within_one_percent(half, t0, count):
    times = [t0 + 12 * i for i in range(count)]
    fit = retention_fit(synthetic(times, [(1.0, half)]))
    assert fit.effective_half_life_h == pytest.approx(half, rel=0.01)
    assert fit.tiac_h == pytest.approx(t0 + half / LN2, rel=0.01)


# ---- clinical-reference §4.4 ---------------------------------------------------------------------------------


def test_the_worked_example_trapezoid_gives_tau_34_89_hours():
    trapezoid = trapezoid_tiac(retention_points(readings(WORKED_EXAMPLE)))
    assert trapezoid.start_h + trapezoid.trapezoid_h == pytest.approx(32.87, abs=0.005)
    assert trapezoid.segments == pytest.approx((17.429, 8.620, 4.220, 2.100), abs=0.0005)
    assert trapezoid.tail_decay_per_h == pytest.approx(0.02888, abs=0.000005)
    assert trapezoid.tail_half_life_h == pytest.approx(24.0, abs=0.05)
    assert trapezoid.tail_h == pytest.approx(2.02, abs=0.005)
    assert trapezoid.tiac_h == pytest.approx(34.89, abs=0.005)


def test_the_worked_example_log_linear_fit_gives_23_3_hours_and_tau_33_5_hours():
    fit = retention_fit(readings(WORKED_EXAMPLE))
    assert fit.model == MONO
    assert fit.effective_half_life_h == pytest.approx(23.3, abs=0.05)
    assert fit.tiac_h == pytest.approx(33.5, abs=0.05)
    assert fit.trapezoid is not None
    assert fit.trapezoid.tiac_h == pytest.approx(34.89, abs=0.005)


@pytest.mark.parametrize(("phi", "expected_gy"), [("0", 2.57), ("0.25", 3.85), ("0.35", 4.36)])
def test_the_worked_example_whole_body_dose_matches_the_reference(phi, expected_gy):
    fit = retention_fit(readings(WORKED_EXAMPLE), method=TRAPEZOID)
    dose = whole_body_dose(Activity(Decimal(396)), Decimal("22.0"), fit, photon_absorbed_fraction=Decimal(phi))
    assert fit.tiac_h == pytest.approx(34.89, abs=0.005)
    assert dose.dose_gy == pytest.approx(expected_gy, abs=0.005)
    assert dose.electron_only_gy == pytest.approx(2.57, abs=0.005)
    assert dose.photon_absorbed_fraction == Decimal(phi)


def test_the_dose_is_a0_times_tau_times_energy_over_mass_by_hand():
    fit = retention_fit(readings(WORKED_EXAMPLE))
    dose = whole_body_dose(Activity(Decimal(396)), Decimal("22.0"), fit)
    joules_per_decay = (0.192 + 0.25 * 0.381) * 1.602176634e-13
    assert dose.dose_gy == pytest.approx(396 * 3.7e7 * fit.tiac_h * 3600 * joules_per_decay / 22.0, rel=1e-12)
    assert dose.photon_absorbed_fraction == Decimal("0.25")
    assert dose.method == "energy deposition"
    assert dose.dose_se_gy == pytest.approx(dose.dose_gy * fit.tiac_se_h / fit.tiac_h)


def test_a_site_s_value_replaces_the_energy_method_and_says_so():
    protocol = load_protocol().with_site_parameter("whole_body_s_value_gy_per_bq_s_kg", Decimal("4.0E-14"),
                                                   "test: institutional S-value")
    fit = retention_fit(readings(WORKED_EXAMPLE))
    dose = whole_body_dose(Activity(Decimal(396)), Decimal("22.0"), fit, protocol)
    assert dose.method == "site S-value"
    assert dose.dose_gy == pytest.approx(396 * 3.7e7 * fit.tiac_h * 3600 * 4.0e-14 / 22.0, rel=1e-12)
    assert any("S-value replaces" in note for note in dose.notes)
    assert dose.electron_only_gy < dose.dose_at_phi_gy


@pytest.mark.parametrize("phi", ["-0.01", "1.01"])
def test_a_photon_absorbed_fraction_outside_zero_to_one_is_refused(phi):
    fit = retention_fit(readings(WORKED_EXAMPLE))
    with pytest.raises(InputError) as error:
        whole_body_dose(Activity(Decimal(396)), Decimal(22), fit, photon_absorbed_fraction=Decimal(phi))
    assert error.value.field == "photon_absorbed_fraction"


@pytest.mark.parametrize(("activity", "weight", "field"), [("396", "0", "weight_kg"), ("0", "22", "administered_mci"),
                                                            ("-5", "22", "administered_mci")])
def test_a_zero_weight_or_activity_is_refused(activity, weight, field):
    fit = retention_fit(readings(WORKED_EXAMPLE))
    with pytest.raises(InputError) as error:
        whole_body_dose(Activity(Decimal(activity)), Decimal(weight), fit)
    assert error.value.field == field


# ---- fallback and warnings -----------------------------------------------------------------------------------


def test_two_readings_fall_back_to_trapezoids_and_say_so():
    fit = retention_fit(readings([("0.5", "60"), ("24", "30")]))
    assert fit.model == TRAPEZOID
    assert fit.tiac_se_h is None
    lam = LN2 / 23.5
    assert fit.tiac_h == pytest.approx(0.5 + (1 + 0.5) / 2 * 23.5 + 0.5 / lam, rel=1e-12)
    assert any("no fit is possible" in note for note in fit.notes)


def test_a_curve_that_no_exponential_fits_falls_back_to_trapezoids():
    fit = retention_fit(readings([("0", "10"), ("10", "12"), ("20", "14"), ("70", "40"), ("71", "9.9")]))
    assert fit.model == TRAPEZOID
    assert any("mono-exponential fit failed" in note for note in fit.notes)


def test_no_fit_and_last_two_readings_not_falling_is_refused():
    with pytest.raises(InputError) as error:
        retention_fit(readings([("0", "10"), ("10", "12"), ("20", "14"), ("70", "40"), ("71", "9.5"), ("72", "9.9")]))
    assert error.value.field == "mrem_per_h (reading 6)"


def test_an_effective_half_life_longer_than_physical_is_flagged():
    fit = retention_fit(synthetic([1, 24, 48, 72], [(1.0, 300.0)]))
    assert any(f.rule == "T_EFF" and "physical" in f.message for f in fit.findings)


def test_times_entered_in_days_give_an_implausibly_short_half_life_warning():
    fit = retention_fit(synthetic([0.02, 1, 2, 3, 4], [(1.0, 1.0)]))
    assert any(f.rule == "T_EFF" and "days" in f.message for f in fit.findings)


def test_the_curve_is_one_before_the_first_reading_and_reaches_a_fraction_when_solved():
    fit = retention_fit(synthetic([1, 3, 6, 10, 24, 48, 72, 96, 120, 144], [(0.55, 5.0), (0.45, 36.0)]))
    assert fit.retention_at(0.2) == 1.0
    t = fit.hours_to_reach(0.05)
    assert fit.retention_at(t) == pytest.approx(0.05, rel=1e-6)
    assert fit.hours_to_reach(2.0) == fit.first_hours


# ---- noisy readings ------------------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    half=st.floats(6, 150),
    count=st.integers(2, 10),
    sigma=st.floats(0, 0.5),
    seed=st.integers(0, 10_000),
    fast=st.one_of(st.none(), st.tuples(st.floats(0.1, 0.9), st.floats(1, 8))),
)
def test_noisy_readings_never_crash_the_fit_and_tau_stays_positive_and_finite(half, count, sigma, seed, fast):
    rng = random.Random(seed)
    components = [(1.0, half)] if fast is None else [fast, (1 - fast[0], half)]
    noise = [rng.gauss(0, sigma) for _ in range(count)]
    times = [0.5 + 14 * i for i in range(count)]
    try:
        fit = retention_fit(synthetic(times, components, noise=noise))
    except InputError:
        return  # a noisy curve can rise at the end: refused with a message, never a crash
    assert 0 < fit.tiac_h < math.inf
    assert fit.tiac_se_h is None or math.isfinite(fit.tiac_se_h)
    assert fit.to_json()["tiac_h"] == fit.tiac_h


def test_uncertainties_grow_with_noise_on_the_same_curve():
    rng = random.Random(20260302)
    z = [rng.gauss(0, 1) for _ in range(8)]
    times = [1, 6, 24, 30, 48, 72, 96, 120]
    low = retention_fit(synthetic(times[:6], [(1.0, 24.0)], noise=[0.02 * v for v in z]))
    high = retention_fit(synthetic(times[:6], [(1.0, 24.0)], noise=[0.2 * v for v in z]))
    assert low.model == high.model == MONO
    assert high.effective_half_life_se_h > 5 * low.effective_half_life_se_h
    assert high.tiac_se_h > 5 * low.tiac_se_h
    assert high.components[0].decay_per_h_se == pytest.approx(10 * low.components[0].decay_per_h_se, rel=1e-4)


# ---- the module ----------------------------------------------------------------------------------------------


def test_importing_the_dosimetry_core_does_not_import_scipy_or_numpy():
    code = "import sys, mibg.core.dosimetry, mibg.core.release, mibg.core.rescue; print('scipy' in sys.modules, 'numpy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_the_docstring_examples_hold():
    from mibg.core import release, rescue

    for module in (dosimetry, release, rescue):
        assert doctest.testmod(module, optionflags=doctest.ELLIPSIS).failed == 0


def test_the_result_converts_to_json_ready_data():
    import json

    fit = retention_fit(synthetic([1, 3, 6, 10, 24, 48, 72, 96, 120, 144], [(0.55, 5.0), (0.45, 36.0)]))
    data = json.loads(json.dumps(fit.to_json()))
    assert data["model"] == BI
    assert len(data["components"]) == 2
    assert data["components"][0]["half_life_se_h"] is not None

"""Units (clinical-reference §2.3), decay correction (§2.4) and calendar arithmetic (decisions.md A4, A11, A13)."""

import math
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from mibg.core.calendar import add_months, age_in_years, birthday
from mibg.core.decay import (
    activity_to_draw_at_calibration,
    decay_constant_per_hour,
    decay_correct,
    decay_factor,
    hours_between,
)
from mibg.core.errors import InputError
from mibg.core.units import (
    Activity,
    parse_aware_datetime,
    parse_date,
    parse_decimal,
    round_gbq,
    round_mbq,
    round_mci,
)
from mibg.protocol import load_protocol

HALF_LIFE = Decimal("8.0207")  # days, ICRP-107 (clinical-reference §2.1)
PACIFIC = timezone(timedelta(hours=-8))

# ---- activity units: 1 mCi = 37 MBq exactly -----------------------------------------------------------------------


def test_one_mci_is_37_mbq_and_0_037_gbq():
    assert Activity(Decimal(1)).mbq == Decimal(37)
    assert Activity(Decimal(1)).gbq == Decimal("0.037")
    assert Activity(Decimal(1)).bq == Decimal("3.7E7")


def test_396_mci_is_14652_mbq_and_14_652_gbq():
    # 396 x 37 = 14,652 MBq = 14.652 GBq.
    a = Activity(Decimal(396))
    assert a.mbq == Decimal(14652)
    assert a.gbq == Decimal("14.652")
    assert Activity.from_mbq(Decimal(14652)).mci == Decimal(396)
    assert Activity.from_gbq(Decimal("14.652")).mci == Decimal(396)


def test_one_gbq_is_27_027_mci():
    # 1000 MBq / 37 MBq/mCi = 27.027027... mCi.
    assert round(Activity.from_gbq(Decimal(1)).mci, 3) == Decimal("27.027")


def test_540_mci_is_19_98_gbq():
    # clinical-reference §5.4: 540 mCi = 19.98 GBq.
    assert Activity(Decimal(540)).gbq == Decimal("19.98")


def test_display_rounding_is_half_to_even_and_only_for_display():
    assert round_mci(Decimal("396.05")) == Decimal("396.0")
    assert round_mci(Decimal("396.15")) == Decimal("396.2")
    assert round_mbq(Decimal("14652.5")) == Decimal("14652")
    assert round_gbq(Decimal("14.6525")) == Decimal("14.652")
    assert Activity(Decimal("396")).display() == "396.0 mCi (14652 MBq, 14.652 GBq)"


# ---- parsing ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["abc", "", "1,5", "NaN", "nan", "inf", "-Infinity", None, True, 1.5])
def test_parse_decimal_refuses_what_is_not_an_exact_finite_number(raw):
    with pytest.raises(InputError) as error:
        parse_decimal("weight_kg", raw)
    assert error.value.field == "weight_kg"


def test_parse_decimal_keeps_the_exact_value():
    assert parse_decimal("x", " 0.1 ") == Decimal("0.1")


@pytest.mark.parametrize("raw", ["2026-12-10T09:00:00", "2026-12-10T09:00", "2026-12-10", "yesterday"])
def test_a_time_without_a_utc_offset_is_refused(raw):
    with pytest.raises(InputError) as error:
        parse_aware_datetime("calibration_time", raw)
    assert error.value.field == "calibration_time"


def test_a_time_with_z_or_an_offset_is_accepted():
    assert parse_aware_datetime("t", "2026-12-10T17:00:00Z") == datetime(2026, 12, 10, 9, 0, tzinfo=PACIFIC)
    assert parse_aware_datetime("t", "2026-12-10T09:00:00-08:00").utcoffset() == timedelta(hours=-8)


@pytest.mark.parametrize("raw", ["2026-13-01", "2026-02-30", "10/12/2026", "soon"])
def test_a_malformed_date_is_refused(raw):
    with pytest.raises(InputError) as error:
        parse_date("treatment_date", raw)
    assert error.value.field == "treatment_date"


# ---- decay (clinical-reference §2.4) -------------------------------------------------------------------------------


def test_the_decay_constant_is_3_60082e_3_per_hour_and_0_0864198_per_day():
    # lambda = 0.693147 / 192.4968 h.
    per_hour = decay_constant_per_hour(HALF_LIFE)
    assert per_hour == pytest.approx(3.60082e-3, rel=1e-5)
    assert per_hour * 24 == pytest.approx(0.0864198, rel=1e-6)


@pytest.mark.parametrize(
    ("days", "check"),
    [(1, "0.91721"), (2, "0.84127"), (3, "0.77162"), (7, "0.54611"), (8, "0.50090"), (14, "0.29823")],
)
def test_decay_factors_match_the_check_values_to_5_decimals(days, check):
    factor = decay_factor(Decimal(24 * days), HALF_LIFE)
    assert round(factor, 5) == Decimal(check)


@pytest.mark.parametrize(
    ("days", "label"),
    [(1, "0.917"), (2, "0.841"), (3, "0.772"), (7, "0.546"), (8, "0.501"), (14, "0.298")],
)
def test_decay_factors_agree_with_the_azedra_label_table_6_to_3_decimals(days, label):
    assert round(decay_factor(Decimal(24 * days), HALF_LIFE), 3) == Decimal(label)


def test_the_protocol_definition_uses_the_icrp_107_half_life():
    assert load_protocol().constant("i131_half_life_days") == HALF_LIFE


def test_one_half_life_halves_the_activity():
    assert abs(decay_factor(HALF_LIFE * 24, HALF_LIFE) - Decimal("0.5")) < Decimal("1e-9")


def test_negative_elapsed_time_gives_the_inverse_factor():
    forward = decay_factor(Decimal(24), HALF_LIFE)
    backward = decay_factor(Decimal(-24), HALF_LIFE)
    assert float(forward * backward) == pytest.approx(1.0, abs=1e-9)


def test_activity_to_draw_at_calibration_is_a_times_exp_plus_lambda_dt():
    calibration = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
    administration = datetime(2026, 12, 10, 9, 0, tzinfo=PACIFIC)  # 17:00 UTC: 77 h after calibration
    correction = activity_to_draw_at_calibration(Activity(Decimal(400)), calibration, administration, HALF_LIFE)
    expected = 400 * math.exp(math.log(2) / (8.0207 * 24) * 77)
    assert float(correction.activity_to.mci) == pytest.approx(expected, rel=1e-9)
    assert correction.activity_to.mci > Decimal(400)
    assert "exp" in correction.formula


def test_hours_between_two_aware_times_in_different_zones():
    start = datetime(2026, 12, 9, 17, 0, tzinfo=UTC)
    end = datetime(2026, 12, 10, 9, 0, tzinfo=PACIFIC)
    assert hours_between(start, end) == Decimal(24)
    assert hours_between(end, start) == Decimal(-24)


def test_decay_correction_there_and_back_returns_the_same_activity():
    t0 = datetime(2026, 12, 10, 9, 0, tzinfo=PACIFIC)
    t1 = t0 + timedelta(days=3, hours=5)
    there = decay_correct(Activity(Decimal(396)), t0, t1, HALF_LIFE)
    back = decay_correct(there.activity_to, t1, t0, HALF_LIFE)
    assert float(back.activity_to.mci) == pytest.approx(396, rel=1e-9)


# ---- calendar (decisions.md A4, A11, A13) ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        ("2026-09-10", 3, "2026-12-10"),
        ("2025-11-30", 3, "2026-02-28"),  # February has no 30th: its last day
        ("2023-11-30", 3, "2024-02-29"),  # leap year
        ("2025-08-31", 6, "2026-02-28"),
        ("2025-02-12", 3, "2025-05-12"),  # 89 days (clinical-reference A11)
        ("2026-06-10", 6, "2026-12-10"),
        ("2025-10-31", 1, "2025-11-30"),
        ("2025-12-15", 1, "2026-01-15"),  # across the year end
    ],
)
def test_add_calendar_months(start, months, expected):
    assert add_months(date.fromisoformat(start), months) == date.fromisoformat(expected)


def test_age_in_completed_years():
    assert age_in_years(date(2025, 12, 10), date(2026, 12, 10)) == 1
    assert age_in_years(date(2025, 12, 11), date(2026, 12, 10)) == 0
    assert birthday(date(2013, 12, 11), 13) == date(2026, 12, 11)

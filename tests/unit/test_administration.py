"""Riley the pharmacist assays the dose (10 CFR 35.63); Nora the nurse records the infusion (10 CFR 35.3045)."""

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from mibg.core.administration import administered_activity, check_assay
from mibg.core.errors import InputError
from mibg.core.units import Activity

T_ADM = datetime(2026, 3, 2, 17, 30, tzinfo=UTC)
PRESCRIBED = Activity(Decimal("400"))


@pytest.mark.parametrize(
    ("measured", "within"),
    [("480", True), ("320", True), ("479.99", True), ("320.01", True), ("480.01", False), ("319.99", False)],
)
def test_an_assay_at_exactly_20_percent_is_within_and_just_beyond_is_stopped(measured, within):
    check = check_assay(PRESCRIBED, measured, T_ADM, T_ADM)
    assert check.within_tolerance is within
    assert ("stopped" in check.message) is (not within)


def test_the_assay_is_decay_corrected_to_the_administration_time():
    measured_a_day_earlier = T_ADM - timedelta(days=1)
    check = check_assay(PRESCRIBED, "436.1", measured_a_day_earlier, T_ADM)
    assert check.correction.factor == Decimal("0.9172091185")
    assert check.corrected.mci == Decimal("436.1") * Decimal("0.9172091185")
    assert check.within_tolerance


def test_an_assay_without_a_time_zone_is_refused():
    with pytest.raises(InputError) as error:
        check_assay(PRESCRIBED, "400", datetime(2026, 3, 2, 9, 0), T_ADM)
    assert error.value.field == "measured_at"


@pytest.mark.parametrize("bad", ["", "abc", "-5", "0", "NaN"])
def test_a_bad_measured_activity_names_the_field(bad):
    with pytest.raises(InputError) as error:
        check_assay(PRESCRIBED, bad, T_ADM, T_ADM)
    assert error.value.field == "measured_activity_mci"


@pytest.mark.parametrize(
    ("pre", "residual", "event"),
    [("400", "80", True), ("400", "79.99", False), ("480", "0", True), ("479.99", "0", False), ("400", "4", False)],
)
def test_a_difference_of_exactly_20_percent_is_a_possible_medical_event(pre, residual, event):
    result = administered_activity(PRESCRIBED, pre, T_ADM, residual, T_ADM, T_ADM)
    assert result.administered.mci == Decimal(pre) - Decimal(residual)
    assert result.possible_medical_event is event


def test_pre_and_residual_are_each_decay_corrected_to_the_administration_time():
    before = T_ADM - timedelta(hours=2)
    after = T_ADM + timedelta(hours=3)
    result = administered_activity(PRESCRIBED, "402", before, "3", after, T_ADM)
    assert result.before.elapsed_hours == Decimal(2)
    assert result.residual.elapsed_hours == Decimal(-3)
    assert result.administered.mci == result.before.activity_to.mci - result.residual.activity_to.mci
    assert not result.possible_medical_event


def test_a_residual_larger_than_the_dose_is_refused():
    with pytest.raises(InputError) as error:
        administered_activity(PRESCRIBED, "100", T_ADM, "101", T_ADM, T_ADM)
    assert error.value.field == "residual_mci"


def test_riley_reads_both_assay_times_in_the_sites_zone_with_its_abbreviation():
    from zoneinfo import ZoneInfo

    pacific = ZoneInfo("America/Los_Angeles")
    measured = datetime(2026, 12, 10, 8, 30, tzinfo=pacific)  # 16:30 UTC
    administration = datetime(2026, 12, 10, 18, 0, tzinfo=UTC)  # as read back from the database: 10:00 Pacific
    check = check_assay(PRESCRIBED, "400", measured, administration, display_zone=pacific)
    assert "at 2026-12-10 08:30 PST," in check.message
    assert "administration time 2026-12-10 10:00 PST:" in check.message
    assert "+00:00" not in check.message
    assert "T08:30" not in check.message


def test_without_a_site_zone_both_times_are_shown_in_the_zone_the_assay_was_entered_in():
    pacific = timezone(timedelta(hours=-8))
    check = check_assay(PRESCRIBED, "400", datetime(2026, 12, 10, 8, 30, tzinfo=pacific),
                        datetime(2026, 12, 10, 18, 0, tzinfo=UTC))
    assert "2026-12-10 10:00 UTC-08:00" in check.message
    assert "+00:00" not in check.message

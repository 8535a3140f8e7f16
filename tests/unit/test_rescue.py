"""Stem-cell rescue support (clinical-reference §4.2, §1.3 S1; decisions.md Dose "Stem-cell infusion", A15)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from mibg.core.errors import InputError
from mibg.core.rescue import StoredProduct, product_dose, stem_cell_rescue
from mibg.core.vocabulary import StemCellProductType
from mibg.protocol import load_protocol

INFUSION = date(2026, 3, 2)


def rescue(dose_gy=3.0, products=(), weight="22", **kwargs):
    return stem_cell_rescue(dose_gy, INFUSION, list(products), Decimal(weight), **kwargs)


def test_stem_cells_are_planned_14_days_after_the_mibg_infusion():
    result = rescue()
    assert result.stem_cell_infusion_day == 14
    assert result.planned_stem_cell_infusion_date == date(2026, 3, 16)


def test_an_aware_infusion_time_is_taken_on_its_own_date():
    start = datetime(2026, 3, 2, 23, 30, tzinfo=timezone(timedelta(hours=-8)))
    result = stem_cell_rescue(3.0, start, [], Decimal(22))  # type: ignore[arg-type]
    assert result.planned_stem_cell_infusion_date == date(2026, 3, 16)


@pytest.mark.parametrize(("dose", "at_or_above"), [(4.0, True), (3.99, False), (4.01, True)])
def test_the_whole_body_dose_is_compared_with_the_4_gy_site_threshold_at_or_above(dose, at_or_above):
    result = rescue(dose)
    assert result.threshold_gy == Decimal("4.0")
    assert result.at_or_above_threshold is at_or_above
    assert any(f.rule == "RESCUE" and f.severity == "warn" for f in result.findings) is at_or_above


def test_a_dose_within_two_standard_errors_below_the_threshold_is_pointed_out():
    result = rescue(3.9, whole_body_dose_se_gy=0.06)
    assert not result.at_or_above_threshold
    assert result.near_threshold
    assert any(f.rule == "RESCUE" and f.severity == "info" for f in result.findings)
    assert not rescue(3.9, whole_body_dose_se_gy=0.04).near_threshold


def test_the_threshold_is_a_site_parameter():
    protocol = load_protocol().with_site_parameter("stem_cell_rescue_whole_body_dose_gy", Decimal("3.0"), "test")
    assert rescue(3.2, protocol=protocol).at_or_above_threshold


def test_a_pbsc_product_is_counted_per_kg_of_current_weight():
    dose = product_dose(StoredProduct(StemCellProductType.PBSC, Decimal("6.6E7"), "PBSC bag 1"), Decimal(22))
    assert dose.cells_per_kg == Decimal("3E6")
    assert dose.unit == "CD34+ cells/kg"
    assert dose.adequate
    assert dose.at_optimum


@pytest.mark.parametrize(("total", "adequate", "at_optimum"), [
    ("2.2E7", True, False),     # exactly 1.0e6 /kg: minimum met (>=)
    ("2.1978E7", False, False),  # just below the minimum
    ("4.4E7", True, False),     # exactly 2e6 /kg: the optimum is "> 2e6"
    ("4.4022E7", True, True),   # just above the optimum
])
def test_pbsc_minimum_and_optimum_boundaries(total, adequate, at_optimum):
    dose = product_dose(StoredProduct("pbsc", Decimal(total)), Decimal(22))  # type: ignore[arg-type]
    assert (dose.adequate, dose.at_optimum) == (adequate, at_optimum)


def test_a_marrow_product_is_counted_in_mononuclear_cells_per_kg():
    dose = product_dose(StoredProduct("bone_marrow", Decimal("2.2E9")), Decimal(22))  # type: ignore[arg-type]
    assert dose.cells_per_kg == Decimal("1E8")
    assert dose.unit == "MNC/kg"
    assert dose.adequate
    assert not dose.at_optimum


def test_a_dose_above_the_threshold_without_an_adequate_product_is_a_warning():
    result = rescue(4.5, [StoredProduct("pbsc", Decimal("1.0E7"))])  # type: ignore[arg-type]
    assert not result.adequate_product_available
    assert any(f.rule == "S1" and f.severity == "warn" and "minimum" in f.message for f in result.findings)


def test_an_adequate_product_below_the_optimum_is_a_warning():
    result = rescue(2.0, [StoredProduct("pbsc", Decimal("3.3E7"), "bag A")])  # type: ignore[arg-type]
    assert result.adequate_product_available
    assert any(f.rule == "S1" and "bag A" in f.message and "optimum" in f.message for f in result.findings)


@pytest.mark.parametrize(("kind", "cells", "field"), [("cord", "1E7", "product_type (stored product)"),
                                                      ("pbsc", "-1", "total_cells (stored product)"),
                                                      ("pbsc", "many", "total_cells (stored product)")])
def test_a_bad_product_is_refused_naming_the_field(kind, cells, field):
    with pytest.raises(InputError) as error:
        StoredProduct(kind, cells)  # type: ignore[arg-type]
    assert error.value.field == field


def test_a_zero_weight_is_refused():
    with pytest.raises(InputError) as error:
        rescue(3.0, [StoredProduct("pbsc", Decimal("6.6E7"))], weight="0")  # type: ignore[arg-type]
    assert error.value.field == "weight_kg"


@pytest.mark.parametrize("dose", [-1.0, float("nan"), float("inf")])
def test_a_dose_that_is_not_a_dose_is_refused(dose):
    with pytest.raises(InputError) as error:
        rescue(dose)
    assert error.value.field == "whole_body_dose_gy"


def test_the_assessment_shows_its_calculations_and_converts_to_json_ready_data():
    import json

    result = rescue(4.2, [StoredProduct("pbsc", Decimal("6.6E7"), "bag 1")])  # type: ignore[arg-type]
    data = json.loads(json.dumps(result.to_json()))
    assert data["planned_stem_cell_infusion_date"] == "2026-03-16"
    assert Decimal(data["products"][0]["cells_per_kg"]) == Decimal("3E6")  # 6.6E7 cells / 22 kg
    assert any("2026-03-02 + 14 days" in c.formula for c in result.calculations)


# ---- the count-based recommendation (decisions.md A31; clinical-reference A16: ANC < 200/uL for > 2 weeks) ----

def _anc_series(start, pairs):
    from datetime import timedelta

    return [(start + timedelta(days=d), Decimal(v)) for d, v in pairs]


@pytest.mark.parametrize(("last_low_day", "recommended"), [
    (15, False),  # below from day 1 to day 15: 14 days exactly, not "more than 14"
    (15.5, True),  # 14.5 days: more than 14
    (14, False),  # 13 days
])
def test_dr_patel_is_told_rescue_is_recommended_when_anc_stays_below_0_2_for_more_than_14_days(last_low_day, recommended):
    from datetime import datetime, timedelta, timezone

    from mibg.core.rescue import anc_rescue

    start = datetime(2026, 11, 1, 9, 0, tzinfo=timezone(timedelta(hours=-8)))
    series = _anc_series(start, [(0, "1.4"), (1, "0.19"), (7, "0.05"), (last_low_day, "0.1"), (last_low_day + 1, "0.6")])
    result = anc_rescue(series, start)
    assert result.recommended is recommended
    assert result.below_since == start + timedelta(days=1)
    assert result.finding is not None
    assert ("recommended; the treating physician decides" in result.finding.message) is recommended


def test_an_anc_of_exactly_0_2_is_not_below_and_breaks_the_run():
    from datetime import datetime, timedelta

    from mibg.core.rescue import anc_rescue

    start = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
    # days 1-8 below, day 9 exactly 0.2 (not below), days 10-20 below: runs of 7 and 10 days, neither more than 14
    series = _anc_series(start, [(1, "0.1"), (8, "0.1"), (9, "0.2"), (10, "0.1"), (20, "0.15")])
    result = anc_rescue(series, start)
    assert not result.recommended
    assert result.span == timedelta(days=10)
    assert result.ongoing


def test_counts_before_the_infusion_do_not_count_and_no_low_count_gives_no_finding():
    from datetime import datetime

    from mibg.core.rescue import anc_rescue

    start = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
    series = _anc_series(start, [(-30, "0.1"), (-1, "0.1"), (2, "1.0")])
    result = anc_rescue(series, start)
    assert result.finding is None
    assert not result.recommended


def test_the_whole_body_dose_threshold_is_shown_as_the_site_s_unverified_choice():
    from datetime import date

    from mibg.core.rescue import stem_cell_rescue

    result = stem_cell_rescue(4.0, date(2026, 11, 1), [], Decimal("22"))
    # exactly 4.0 Gy: at the threshold (decisions.md A31 "reaches")
    assert result.at_or_above_threshold
    assert "the site's choice, UNVERIFIED" in result.findings[0].message
    assert "UNVERIFIED" in result.threshold_source

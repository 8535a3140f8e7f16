"""Plausibility limits are site parameters of the protocol definition, each with its source (issue 11, item 2).

Each limit is tested exactly at, just below and just above its bound, with the bound read from the definition
file itself (not from the code under test), and the refusal names the field and the site parameter.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from mibg.core.dosing import DoseRequest, plan_dose
from mibg.core.errors import InputError
from mibg.core.plausibility import birth_date_problem, plausible, plausible_range
from mibg.core.units import parse_activity_mci, parse_weight_kg
from mibg.protocol import load_protocol

DEFINITION = json.loads((Path(__file__).parents[2] / "src/mibg/protocol/nct01370330.json").read_text(encoding="utf-8"))
SITE = DEFINITION["site_parameters"]

QUANTITIES = ["weight_kg", "activity_mci", "volume_ml", "infusion_min", "mci_per_kg", "cumulative_mci_per_kg",
              "specific_activity_ci_per_mmol", "specific_activity_mci_per_mg", "cells_per_kg", "decay_span_days",
              "reading_hours", "exposure_rate_mr_per_h"]


@pytest.mark.parametrize("quantity", QUANTITIES)
def test_every_plausibility_limit_is_a_site_parameter_with_its_source(quantity):
    entry = SITE[f"plausible_{quantity}_max"]
    assert Decimal(entry["value"]) > 0
    assert entry["source"].strip()
    assert entry["unit"].strip()


@pytest.mark.parametrize("quantity", ["weight_kg", "activity_mci", "volume_ml"])
def test_weight_activity_and_volume_have_the_lower_bound_that_was_missing(quantity):
    low, high = SITE[f"plausible_{quantity}_min"], SITE[f"plausible_{quantity}_max"]
    assert Decimal(0) < Decimal(low["value"]) < Decimal(high["value"])
    assert "issue 11" in low["source"].lower()


def test_the_weight_range_is_2_to_250_kg_as_the_definition_says():
    limits = plausible_range("weight_kg")
    assert (limits.minimum, limits.maximum, limits.unit) == (Decimal("2"), Decimal("250"), "kg")


@pytest.mark.parametrize(("raw", "accepted"), [
    ("1.999", False), ("2", True), ("2.001", True),  # lower bound 2 kg
    ("249.999", True), ("250", True), ("250.001", False),  # upper bound 250 kg
    ("0.001", False), ("0", False), ("-1", False),
])
def test_nora_types_a_weight_and_only_the_plausible_range_is_accepted(raw, accepted):
    if accepted:
        assert parse_weight_kg(raw) == Decimal(raw)
    else:
        with pytest.raises(InputError) as refused:
            parse_weight_kg(raw)
        assert refused.value.field == "weight_kg"


def test_a_weight_of_one_gram_is_refused_naming_the_smallest_plausible_weight_and_its_parameter():
    with pytest.raises(InputError) as refused:
        parse_weight_kg("0.001", "--weight-kg")
    assert refused.value.field == "--weight-kg"
    assert "2 kg" in refused.value.message
    assert "plausible_weight_kg_min" in refused.value.message


@pytest.mark.parametrize(("raw", "accepted"), [
    ("0.999", False), ("1", True), ("1.001", True),  # lower bound 1 mCi
    ("4999.9", True), ("5000", True), ("5000.1", False),  # upper bound 5000 mCi
])
def test_riley_types_an_assayed_activity_and_only_the_plausible_range_is_accepted(raw, accepted):
    if accepted:
        assert parse_activity_mci(raw, "measured_mci") == Decimal(raw)
    else:
        with pytest.raises(InputError) as refused:
            parse_activity_mci(raw, "measured_mci")
        assert refused.value.field == "measured_mci"


@pytest.mark.parametrize(("raw", "accepted"), [
    ("0.99", False), ("1", True), ("1.01", True),  # lower bound 1 mL
    ("999.9", True), ("1000", True), ("1000.1", False),  # upper bound 1000 mL
])
def test_the_final_volume_of_a_dose_plan_must_be_plausible(raw, accepted):
    request = DoseRequest(weight_kg=Decimal(22), mci_per_kg=Decimal(11), final_volume_ml=Decimal(raw))
    if accepted:
        assert plan_dose(request).request.final_volume_ml == Decimal(raw)
    else:
        with pytest.raises(InputError) as refused:
            plan_dose(request)
        assert refused.value.field == "final_volume_ml"


@pytest.mark.parametrize(("weight", "accepted"), [("1.99", False), ("2", True), ("250", True), ("250.01", False)])
def test_dr_patel_cannot_plan_a_dose_for_an_implausible_weight(weight, accepted):
    request = DoseRequest(weight_kg=Decimal(weight), mci_per_kg=Decimal(11))
    if accepted:
        # 11 mCi/kg x 2 kg = 22 mCi; 11 x 250 = 2750 mCi (the plan itself may be blocked by other limits).
        assert plan_dose(request).activity.mci == Decimal(11) * Decimal(weight)
    else:
        with pytest.raises(InputError) as refused:
            plan_dose(request)
        assert refused.value.field == "weight_kg"


def test_a_site_that_amends_a_plausibility_limit_gets_the_new_bound_with_its_reason():
    amended = load_protocol().with_site_parameter("plausible_weight_kg_min", Decimal("1.5"), "premature twins clinic")
    assert plausible("weight_kg", "weight_kg", "1.5", protocol=amended) == Decimal("1.5")
    with pytest.raises(InputError):
        plausible("weight_kg", "weight_kg", "1.5")


@pytest.mark.parametrize(("born", "problem"), [
    (date(1899, 12, 31), True), (date(1900, 1, 1), False), (date(1900, 1, 2), False),  # earliest 1900-01-01
    (date(2026, 6, 1), False), (date(2026, 6, 2), True),  # "today" is 2026-06-01 below
])
def test_a_date_of_birth_is_possible_only_from_1900_to_today(born, problem):
    found = birth_date_problem(born, date(2026, 6, 1))
    assert (found is not None) == problem
    if born.year < 1900:
        assert "plausible_birth_year_min" in (found or "")

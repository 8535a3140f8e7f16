"""Laboratory tests: LOINC codes, unit conversion with the reference range, and the labs CSV."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from mibg.core.errors import InputError
from mibg.core.labs import (
    LABS,
    conversion_factor,
    lab_definition,
    lab_value,
    parse_labs_csv,
    to_canonical,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "labs"
HEADER = "collected_at,test,value,unit,lln,uln\n"


@pytest.mark.parametrize(
    ("test", "value", "unit", "expected"),
    [
        ("anc", "750", "/uL", "0.75"),
        ("anc", "750", "/mm3", "0.75"),
        ("anc", "750", "cells/µL", "0.75"),
        ("anc", "0.75", "10^9/L", "0.75"),
        ("anc", "0.75", "10*9/L", "0.75"),
        ("anc", "0.75", "x 10^9/L", "0.75"),
        ("platelets", "25", "10^3/uL", "25"),
        ("platelets", "25", "K/uL", "25"),
        ("platelets", "25000", "/mm³", "25"),
        ("hemoglobin", "100", "g/L", "10"),
        ("hemoglobin", "10", "g/dL", "10"),
        ("creatinine", "176.8", "umol/L", "2.0"),
        ("creatinine", "176.8", "μmol/L", "2.0"),
        ("creatinine", "2.0", "mg/dL", "2.0"),
        ("bilirubin", "34.2", "umol/L", "2.0"),
        ("bilirubin", "34.2", "µmol/l", "2.0"),
        ("alt", "45", "U/L", "45"),
        ("ast", "45", "IU/L", "45"),
    ],
)
def test_common_unit_variants_convert_exactly_to_the_canonical_unit(test, value, unit, expected):
    assert to_canonical(test, Decimal(value), unit) == Decimal(expected)


@pytest.mark.parametrize(
    ("test", "unit"),
    [("hemoglobin", "mmol/L"), ("anc", "mg/dL"), ("creatinine", "mmol/L"), ("alt", "ukat/L"), ("platelets", "")],
)
def test_an_unknown_unit_is_refused_with_the_accepted_units_named(test, unit):
    with pytest.raises(InputError) as caught:
        conversion_factor(test, unit)
    assert caught.value.field == "unit"
    assert "accepted:" in caught.value.message
    for accepted in LABS[test].accepted_units:
        assert accepted in caught.value.message


def test_each_test_has_its_loinc_code_and_can_be_named_by_it():
    expected = {
        "anc": "751-8",
        "platelets": "777-3",
        "hemoglobin": "718-7",
        "bilirubin": "1975-2",
        "ast": "1920-8",
        "alt": "1742-6",
        "creatinine": "2160-0",
        "tsh": "3016-3",  # Thyrotropin [Units/volume] in Serum or Plasma
        "free_t4": "3024-7",  # Thyroxine (T4) free [Mass/volume] in Serum or Plasma
        "systolic_bp": "8480-6",
        "diastolic_bp": "8462-4",
    }
    assert {key: d.loinc for key, d in LABS.items()} == expected
    for key, code in expected.items():
        assert lab_definition(code).test == key


def test_the_canonical_units_are_ucum():
    assert {d.ucum for d in LABS.values()} == {"10*9/L", "g/dL", "mg/dL", "U/L", "m[IU]/L", "ng/dL", "mm[Hg]"}


@pytest.mark.parametrize(("test", "value", "unit", "canonical"), [
    ("tsh", "2.5", "uIU/mL", "2.5"),  # 1 uIU/mL = 1 mIU/L
    ("tsh", "2.5", "µIU/mL", "2.5"),
    ("tsh", "2.5", "mU/L", "2.5"),
    ("free_t4", "12", "ng/L", "1.2"),  # 1 ng/dL = 10 ng/L
    ("systolic_bp", "120", "mm Hg", "120"),
])
def test_thyroid_and_blood_pressure_units_convert_exactly(test, value, unit, canonical):
    assert lab_value(test, value, unit).value == Decimal(canonical)


def test_an_unknown_test_is_refused_naming_the_test_field():
    with pytest.raises(InputError) as caught:
        lab_definition("ferritin")
    assert caught.value.field == "test"


def test_a_lab_value_converts_its_reference_range_with_the_value():
    lab = lab_value("creatinine", "176.8", "umol/L", lln="26.52", uln="61.88")
    assert (lab.value, lab.lln, lab.uln) == (Decimal("2"), Decimal("0.3"), Decimal("0.7"))
    assert (lab.entered_value, lab.entered_unit, lab.entered_uln) == (Decimal("176.8"), "umol/L", Decimal("61.88"))
    assert lab.unit == "mg/dL"


def test_a_blank_limit_means_not_given():
    lab = lab_value("alt", "30", "U/L", lln="", uln="40")
    assert lab.lln is None
    assert lab.uln == Decimal(40)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"value": "-1"}, "value"),
        ({"value": "nan"}, "value"),
        ({"value": "1e10"}, "value"),
        ({"value": "0.0000000000001"}, "value"),
        ({"value": 1.5}, "value"),
        ({"lln": "-1"}, "lln"),
        ({"lln": "0"}, "lln"),
        ({"uln": "0"}, "uln"),
        ({"lln": "50", "uln": "40"}, "lln"),
    ],
)
def test_a_bad_value_or_limit_is_refused_naming_its_field(kwargs, field):
    arguments = {"value": "30", "lln": None, "uln": "40"} | kwargs
    with pytest.raises(InputError) as caught:
        lab_value("alt", arguments["value"], "U/L", lln=arguments["lln"], uln=arguments["uln"])
    assert caught.value.field == field


def test_a_collection_time_without_a_time_zone_is_refused():
    with pytest.raises(InputError) as caught:
        lab_value("anc", "1", "10^9/L", collected_at=datetime(2026, 3, 2, 8, 0))
    assert caught.value.field == "collected_at"


def test_the_example_labs_file_parses_without_error():
    result = parse_labs_csv((EXAMPLES / "course-1-labs.csv").read_text(encoding="utf-8"))
    assert result.ok, result.errors
    assert len(result.rows) == 13
    first = result.rows[0]
    assert first.line == 2
    assert (first.lab.test, first.lab.value, first.lab.lln) == ("anc", Decimal("2.1"), Decimal("1.5"))
    assert first.lab.collected_at == datetime(2026, 3, 1, 8, 15, tzinfo=timezone(timedelta(hours=-8)))
    assert result.rows[1].lab.test == "platelets"  # named by LOINC 777-3
    assert result.values()[9].value == Decimal("7.8")  # 78 g/L


def test_the_bad_example_file_reports_every_error_with_its_line_and_field():
    result = parse_labs_csv((EXAMPLES / "bad-labs.csv").read_text(encoding="utf-8"))
    assert not result.ok
    assert result.rows == ()
    assert [(e.line, e.field) for e in result.errors] == [
        (2, "collected_at"),
        (3, "value"),
        (4, "unit"),
        (5, "test"),
        (6, "lln"),
    ]
    assert str(result.errors[0]).startswith("line 2, collected_at:")


def test_a_row_with_several_bad_fields_reports_each_of_them():
    result = parse_labs_csv(HEADER + "yesterday,anc,lots,/uL,,\n")
    assert [(e.line, e.field) for e in result.errors] == [(2, "collected_at"), (2, "value")]


def test_a_file_with_one_bad_row_is_not_usable_even_though_the_other_rows_parsed():
    result = parse_labs_csv(HEADER + "2026-03-02T08:00:00Z,anc,1.2,10^9/L,1.5,\n2026-03-02T08:00:00Z,anc,x,10^9/L,,\n")
    assert len(result.rows) == 1
    assert not result.ok
    with pytest.raises(InputError) as caught:
        result.values()
    assert caught.value.field == "file"
    assert "line 3, value" in caught.value.message


def test_unknown_missing_and_repeated_columns_are_errors_of_line_1():
    result = parse_labs_csv("collected_at,test,value,value,comment\n2026-03-02T08:00:00Z,anc,1,1,x\n")
    assert {(e.line, e.field) for e in result.errors} == {(1, "comment"), (1, "unit"), (1, "value")}


def test_the_limit_columns_are_optional():
    result = parse_labs_csv("collected_at,test,value,unit\n2026-03-02T08:00:00Z,platelets,40,10^9/L\n")
    assert result.ok
    assert result.rows[0].lab.lln is None


def test_an_empty_file_or_one_without_rows_is_an_error():
    assert parse_labs_csv("").errors[0].field == "file"
    assert parse_labs_csv(HEADER).errors[0].field == "file"


def test_a_row_with_the_wrong_number_of_cells_is_an_error():
    result = parse_labs_csv(HEADER + "2026-03-02T08:00:00Z,anc,1\n")
    assert [(e.line, e.field) for e in result.errors] == [(2, "row")]


def test_blank_lines_a_byte_order_mark_and_quoted_cells_are_handled_and_line_numbers_stay_true():
    text = "\ufeff" + HEADER + "\n" + '"2026-03-02T08:00:00+00:00","anc","1,200","/uL",,\n' + "2026-03-02T08:00:00Z,hemoglobin,9,g/dL,,\n"
    result = parse_labs_csv(text)
    # "1,200" is not a number: no thousands separators are guessed.
    assert [(e.line, e.field) for e in result.errors] == [(3, "value")]
    assert result.rows[0].line == 4

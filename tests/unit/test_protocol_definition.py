"""The protocol as data: nct01370330.json loads, is complete, matches the clinical reference, exports and
re-imports unchanged, and its thresholds (not the code) decide the results."""

import copy
import json
import subprocess
import sys
from dataclasses import replace
from decimal import Decimal

import pytest
from snapshots import LAB_TIME, TREATMENT_DAY, build, lab, labs_with

from mibg.core.eligibility import CHECKS, evaluate_eligibility
from mibg.core.results import Status
from mibg.protocol import load_protocol, protocol_as_dict
from mibg.protocol.loader import DEFINITION_FILE, parse_protocol

RECORD_CRITERIA = [
    "D1", "D2", "D3", "D4", "D5",
    "P1", "P2", "P3", "P4", "P5", "P6",
    "T1", "T2", "T3", "T4", "T5",
    "S1", "PD", "O1", "O2", "O3",
    "H1", "H2", "H3", "H4", "H5",
    "L1", "C1",
    "X1", "X2", "X3", "X4", "X5",
]


def raw_definition():
    return json.loads(DEFINITION_FILE.read_text(encoding="utf-8"))


def test_the_definition_loads_with_its_id_and_version():
    protocol = load_protocol()
    assert protocol.protocol_id == "NCT01370330"
    assert protocol.label == f"NCT01370330 v{protocol.version}"
    assert not protocol.amendments


def test_every_criterion_of_the_record_is_present_once():
    ids = [c.id for c in load_protocol().criteria]
    assert sorted(ids) == sorted(RECORD_CRITERIA)
    assert len(ids) == len(set(ids))


def test_every_criterion_check_has_an_evaluator():
    for criterion in load_protocol().criteria:
        assert criterion.check in CHECKS, f"{criterion.id}: no evaluator '{criterion.check}'"


def test_every_criterion_has_the_records_wording_a_reference_and_a_kind():
    for criterion in load_protocol().criteria:
        assert criterion.wording.strip()
        assert criterion.reference.startswith("clinical-reference §")
        assert criterion.kind == ("exclusion" if criterion.id.startswith("X") else "inclusion")


def test_every_dose_limit_the_planner_uses_is_defined():
    protocol = load_protocol()
    assert {d.id for d in protocol.dose_limits} >= {"R1", "S2", "R2", "T5", "R3", "R4", "R6"}


def test_every_decision_cited_by_a_criterion_is_recorded():
    protocol = load_protocol()
    for criterion in protocol.criteria:
        for decision in criterion.decisions:
            assert decision in protocol.decisions, f"{criterion.id} cites unknown decision {decision}"


# ---- the numbers in the data are the clinical reference's ------------------------------------------------------


@pytest.mark.parametrize(
    ("criterion_id", "name", "value", "unit"),
    [
        ("D3", "window_days", "42", "d"),
        ("D5", "window_days", "42", "d"),
        ("P1", "older_than_years", "1", "a"),
        ("P3", "older_than_years", "1", "a"),
        ("P3", "younger_than_years", "13", "a"),
        ("P5", "minimum_score", "60", "%"),
        ("T2", "minimum_days", "14", "d"),
        ("T3", "minimum_months", "3", "mo"),
        ("T4", "minimum_hours", "24", "h"),
        ("T5", "more_than_months", "6", "mo"),
        ("T5", "maximum_cumulative_mci_per_kg", "60", "mCi/kg"),
        ("O1", "below_uln_multiple", "2", "x ULN"),
        ("O2", "below_uln_multiple", "10", "x ULN"),
        ("O3", "threshold", "2", "mg/dL"),
        ("H1", "threshold", "0.75", "10^9/L"),
        ("H2", "threshold", "50", "10^9/L"),
        ("H3", "threshold", "20", "10^9/L"),
        ("H4", "threshold", "10", "g/dL"),
    ],
)
def test_criterion_thresholds_are_those_of_the_clinical_reference(criterion_id, name, value, unit):
    quantity = load_protocol().criterion(criterion_id).quantity(name)
    assert quantity.value == Decimal(value)
    assert quantity.unit == unit


@pytest.mark.parametrize(("criterion_id", "comparison"), [("O3", "<="), ("H1", ">"), ("H2", ">"), ("H3", ">="), ("H4", ">")])
def test_lab_comparisons_are_those_of_the_clinical_reference(criterion_id, comparison):
    assert load_protocol().criterion(criterion_id).params["comparison"] == comparison


@pytest.mark.parametrize(
    ("limit_id", "name", "value"),
    [
        ("R1", "minimum_mci_per_kg", "8"),
        ("R1", "maximum_mci_per_kg", "18"),
        ("R1", "warn_below_mci_per_kg", "10"),
        ("S2", "gate_mci_per_kg", "12"),
        ("S2", "minimum_cd34_per_kg", "1E6"),
        ("S2", "optimum_cd34_per_kg", "2E6"),
        ("S2", "minimum_mnc_per_kg", "1E8"),
        ("S2", "optimum_mnc_per_kg", "2E8"),
        ("R2", "maximum_total_mci", "500"),
        ("R2", "maximum_mci_per_kg", "12"),
        ("T5", "maximum_cumulative_mci_per_kg", "60"),
        ("T5", "more_than_months", "6"),
        ("R4", "minimum_ml", "25"),
        ("R4", "maximum_ml", "50"),
    ],
)
def test_dose_limits_are_those_of_the_clinical_reference(limit_id, name, value):
    assert load_protocol().dose_limit(limit_id).quantity(name).value == Decimal(value)


def test_only_the_s2_and_r2_limits_can_be_cleared_by_the_chair():
    assert {d.id for d in load_protocol().dose_limits if d.chair_clearable} == {"S2", "R2"}


def test_preparations_are_those_of_the_clinical_reference():
    preparations = load_protocol().preparations
    azedra, draximage = preparations["azedra"], preparations["draximage"]
    assert Decimal(azedra.specific_activity["value"]) == 2500
    assert azedra.specific_activity["unit"] == "mCi/mg"
    assert azedra.concentration_at_calibration.value == 15
    assert (azedra.infusion_minimum_min, azedra.infusion_maximum_min) == (30, 60)
    assert azedra.discontinued
    assert (Decimal(draximage.specific_activity["minimum"]), Decimal(draximage.specific_activity["maximum"])) == (9, 18)
    assert draximage.specific_activity["unit"] == "Ci/mmol"
    assert draximage.specific_activity_required
    assert (draximage.infusion_minimum_min, draximage.infusion_maximum_min) == (90, 120)


@pytest.mark.parametrize(
    ("name", "value"),
    [("i131_half_life_days", "8.0207"), ("mbq_per_mci", "37"), ("mibg_molar_mass_g_per_mol", "275.09"),
     ("creatinine_umol_per_l_per_mg_per_dl", "88.4"), ("gamma_constant_r_cm2_per_mci_h", "2.2"),
     ("nrc_half_life_days", "8.04")],
)
def test_constants_are_those_of_the_clinical_reference(name, value):
    assert load_protocol().constant(name) == Decimal(value)


def test_the_transfusion_look_back_is_7_days():
    assert load_protocol().site("transfusion_lookback_days") == 7


def test_the_i131_half_life_agrees_with_radioactivedecay_icrp_107():
    import radioactivedecay as rd  # slow to import (~3 s): only here

    icrp_107_days = rd.Nuclide("I-131").half_life("d")
    assert float(load_protocol().constant("i131_half_life_days")) == pytest.approx(icrp_107_days, abs=5e-5)


# ---- export and re-import ------------------------------------------------------------------------------------------


def test_mibg_protocol_export_is_json_that_parses_back_to_the_same_definition():
    done = subprocess.run([sys.executable, "-m", "mibg.cli", "protocol", "export"], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    exported = json.loads(done.stdout)
    assert exported["label"] == load_protocol().label
    assert parse_protocol(exported) == load_protocol()


def test_protocol_as_dict_round_trips_through_parse_protocol():
    protocol = load_protocol()
    assert parse_protocol(json.loads(json.dumps(protocol_as_dict(protocol)))) == protocol


def test_the_care_plan_event_clocks_and_translations_read_later_are_the_files_own():
    # They are parsed when first read (issue 14: mibg dose never reads them); a definition parsed from the file
    # gives, section by section, what the file says: two event-report kinds, one translation (Spanish), eleven
    # care-plan orders starting with the thyroid blockade.
    definition = parse_protocol(copy.deepcopy(raw_definition()))
    assert sorted(definition.event_reports) == ["medical_event", "sae"]
    assert list(definition.translations) == ["es"]
    assert definition.care_plan is not None
    assert len(definition.care_plan.orders) == 11
    assert definition.care_plan.orders[0].code == "thyroid-blockade"
    assert definition.care_plan is definition.care_plan  # parsed once, then kept
    assert protocol_as_dict(definition) == protocol_as_dict(load_protocol())


def test_a_definition_without_the_later_sections_reads_them_as_empty():
    data = copy.deepcopy(raw_definition())
    for section in ("event_reports", "translations", "care_plan"):
        del data[section]
    definition = parse_protocol(data)
    assert (definition.event_reports, definition.translations, definition.care_plan) == ({}, {}, None)


# ---- the rules are data: a changed threshold changes the result ----------------------------------------------------


def test_raising_h1_in_a_copy_of_the_data_makes_an_anc_of_0_9_fail():
    data = copy.deepcopy(raw_definition())
    h1 = next(c for c in data["criteria"] if c["id"] == "H1")
    h1["params"]["threshold"]["value"] = "1.0"
    stricter = parse_protocol(data)
    snapshot = build(labs=labs_with(lab("anc", "0.9")))
    assert evaluate_eligibility(snapshot, load_protocol()).criterion("H1").status is Status.MET
    assert evaluate_eligibility(snapshot, stricter).criterion("H1").status is Status.NOT_MET


def test_changing_the_r1_maximum_in_a_copy_of_the_data_changes_the_dose_check():
    from mibg.core.dosing import DoseRequest, plan_dose

    data = copy.deepcopy(raw_definition())
    r1 = next(d for d in data["dose_limits"] if d["id"] == "R1")
    r1["params"]["maximum_mci_per_kg"]["value"] = "15"
    lower = parse_protocol(data)
    request = DoseRequest(weight_kg=Decimal(20), mci_per_kg=Decimal(16), cd34_per_kg=Decimal("3E6"))
    assert plan_dose(request, load_protocol()).status == "ok"
    assert plan_dose(request, lower).status == "blocked"


def test_a_changed_check_name_without_an_evaluator_is_an_error_not_a_silent_pass():
    protocol = load_protocol()
    broken = replace(protocol, criteria=tuple(replace(c, check="no_such_check") if c.id == "H1" else c
                                              for c in protocol.criteria))
    with pytest.raises(KeyError, match="H1"):
        evaluate_eligibility(build(), broken)


# ---- site amendments ---------------------------------------------------------------------------------------------


def test_a_site_amendment_needs_a_reason():
    with pytest.raises(ValueError, match="reason"):
        load_protocol().with_site_parameter("lab_max_age_days", Decimal(3), reason="  ")


def test_a_site_amendment_is_recorded_in_the_label_and_the_export_and_changes_the_result():
    amended = load_protocol().with_site_parameter("lab_max_age_days", Decimal(3), reason="site SOP 12: labs within 72 h")
    assert amended.label == f"NCT01370330 v{amended.version}+site(1)"
    assert amended.site("lab_max_age_days") == 3
    exported = protocol_as_dict(amended)
    assert exported["amendments"] == [{"parameter": "lab_max_age_days", "old_value": "7", "new_value": "3",
                                       "reason": "site SOP 12: labs within 72 h"}]
    # Labs 3 days before the treatment date (2026-12-07) count under 3 days; 4 days old (2026-12-06) do not.
    assert (TREATMENT_DAY.isoformat(), LAB_TIME[:10]) == ("2026-12-10", "2026-12-07")
    assert evaluate_eligibility(build(), amended).criterion("H1").status is Status.MET
    four_days = build(labs=labs_with(lab("anc", "1.4", at="2026-12-06T07:30:00-08:00")))
    assert evaluate_eligibility(four_days, load_protocol()).criterion("H1").status is Status.MET
    assert evaluate_eligibility(four_days, amended).criterion("H1").status is Status.UNKNOWN
    assert evaluate_eligibility(four_days, amended).protocol_label.endswith("+site(1)")


def test_an_unknown_site_parameter_cannot_be_amended():
    with pytest.raises(KeyError):
        load_protocol().with_site_parameter("no_such_parameter", Decimal(1), reason="typo")


def test_the_screens_word_the_limits_from_the_protocol_data_not_from_typed_text():
    # A threshold changed in the data changes the words on the directive form and the patient page.
    from dataclasses import replace

    from mibg.protocol import Quantity, load_protocol
    from mibg.web import protocol_text

    protocol = load_protocol()
    r1 = protocol.dose_limit("R1")
    params = {**r1.params, "maximum_mci_per_kg": Quantity(Decimal("16"), "mCi/kg")}
    changed = replace(protocol, dose_limits=tuple(replace(d, params=params) if d.id == "R1" else d
                                                  for d in protocol.dose_limits))
    assert protocol_text.dose_range(protocol).startswith("protocol range 8-18 mCi/kg")
    assert protocol_text.dose_range(changed).startswith("protocol range 8-16 mCi/kg")
    assert protocol_text.final_volume(protocol) == "25-50 mL (R4)"
    assert protocol_text.cumulative_maximum(protocol) == "60 mCi/kg"


def test_a_server_refuses_to_start_on_a_definition_whose_criteria_cannot_be_read(tmp_path):
    """The criteria, decisions and care plan are parsed when first read (the dose command's start never reads
    them); `mibg serve` reads them all before it serves, so a broken section stops the start, not a clinician."""
    from pathlib import Path

    from mibg.commands.serve import definition_error
    from mibg.protocol.loader import DEFINITION_PATH

    assert definition_error() is None  # the installed definition reads whole
    data = json.loads(Path(DEFINITION_PATH).read_text(encoding="utf-8"))
    data["criteria"][0] = {"id": data["criteria"][0]["id"]}  # every other field of the first criterion gone
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(data), encoding="utf-8")
    assert definition_error(str(broken)) is not None

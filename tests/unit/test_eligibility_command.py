"""`mibg eligibility PATIENT.json` run as a subprocess on the example patients and on bad files.

Exit status: 0 eligible, 1 not eligible, 3 incomplete or needs chair review, 2 bad input (one line).
"""

import json
import subprocess
import sys

import pytest
from snapshots import EXAMPLES, example_data


def mibg_eligibility(*args, stdin=None):
    return subprocess.run([sys.executable, "-m", "mibg.cli", "eligibility", *args], capture_output=True, text=True,
                          input=stdin, timeout=60, check=False)


def assert_bad_input(done, *words):
    assert done.returncode == 2, (done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "Traceback" not in done.stderr
    for word in words:
        assert word in lines[0]


@pytest.mark.parametrize(
    ("example", "status", "overall"),
    [
        ("eligible-neuroblastoma", 0, "eligible"),
        ("not-eligible", 1, "not eligible"),
        ("incomplete", 3, "incomplete"),
        ("needs-chair-review", 3, "needs review"),
        ("pheo-paraganglioma", 0, "eligible"),
    ],
)
def test_each_example_patient_gives_its_exit_status(example, status, overall):
    done = mibg_eligibility(str(EXAMPLES / f"{example}.json"), "--json")
    assert done.returncode == status, done.stderr
    assert json.loads(done.stdout)["overall"] == overall


def test_the_not_eligible_example_fails_on_anc_and_creatinine():
    # ANC 0.6 x 10^9/L (not above 0.75) and creatinine 2.3 mg/dL (not at most 2).
    data = json.loads(mibg_eligibility(str(EXAMPLES / "not-eligible.json"), "--json").stdout)
    assert {c["id"] for c in data["criteria"] if c["status"] == "not met"} == {"H1", "O3"}


def test_the_needs_chair_review_example_is_review_on_h3():
    data = json.loads(mibg_eligibility(str(EXAMPLES / "needs-chair-review.json"), "--json").stdout)
    assert {c["id"] for c in data["criteria"] if c["status"] == "needs review"} == {"H3"}


def test_the_readable_checklist_lists_every_criterion_and_the_overall_result():
    done = mibg_eligibility(str(EXAMPLES / "eligible-neuroblastoma.json"))
    assert done.returncode == 0
    assert "Overall: ELIGIBLE" in done.stdout
    for criterion_id in ("D1", "P1", "T5", "S1", "H1", "X5"):
        assert f"  {criterion_id} " in done.stdout


def test_the_snapshot_can_come_from_standard_input():
    done = mibg_eligibility("-", "--json", stdin=(EXAMPLES / "not-eligible.json").read_text(encoding="utf-8"))
    assert done.returncode == 1


def test_malformed_json_exits_2_with_one_line(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"patient_id": "X", "birth_date": ', encoding="utf-8")
    assert_bad_input(mibg_eligibility(str(path)), "JSON")


def test_an_unknown_lab_unit_exits_2_with_one_line_naming_the_unit(tmp_path):
    data = example_data()
    data["labs"][0]["unit"] = "furlongs"
    path = tmp_path / "unit.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    assert_bad_input(mibg_eligibility(str(path)), "labs", "furlongs")


def test_a_negative_weight_exits_2_naming_the_field(tmp_path):
    data = example_data()
    data["weight_kg"] = "-22"
    path = tmp_path / "weight.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    assert_bad_input(mibg_eligibility(str(path)), "weight_kg")


def test_a_time_without_a_utc_offset_exits_2(tmp_path):
    data = example_data()
    data["labs"][0]["collected_at"] = "2026-12-07T07:30:00"
    path = tmp_path / "naive.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    assert_bad_input(mibg_eligibility(str(path)), "collected_at")


def test_a_missing_file_exits_2_with_one_line(tmp_path):
    missing = tmp_path / "nobody.json"
    assert_bad_input(mibg_eligibility(str(missing)), "nobody.json")


# ---- Issue 12: decisions read from a file are unverified (A27); contradictions refused; past dates warned ----------


def write_snapshot(tmp_path, data):
    path = tmp_path / "patient.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return str(path)


def chair(criterion_id):
    return {"criterion": criterion_id, "cleared": True, "by": "Dr K. Vo (study chair)", "at": "2026-12-08T12:00:00-08:00",
            "reason": "discussed at tumour board"}


def test_chair_decisions_in_a_file_are_shown_unverified_and_the_command_does_not_exit_eligible(tmp_path):
    # Exactly 12 mCi/kg without stem cells, S1 and S2 "cleared" in the file: the command cannot check who signed.
    data = example_data() | {"stem_cell_products": [], "planned_mci_per_kg": "12",
                             "chair_decisions": [chair("S1"), chair("S2")]}
    done = mibg_eligibility(write_snapshot(tmp_path, data), "--json")
    assert done.returncode == 3, done.stderr
    result = json.loads(done.stdout)
    assert result["overall"] == "eligible"
    assert result["unverified_decisions"] == ["S1", "PD"]
    assert "recorded outside the application, unverified" in result["verdict"]
    text = mibg_eligibility(write_snapshot(tmp_path, data)).stdout
    assert "Overall: ELIGIBLE, depending on chair decisions recorded outside the application, unverified (S1, PD)" in text


def test_a_pregnant_patient_recorded_not_of_childbearing_potential_is_refused_naming_both_fields(tmp_path):
    data = example_data() | {"pregnancy": {"childbearing_potential": False, "pregnant": True, "assessed_on": "2026-12-07"}}
    assert_bad_input(mibg_eligibility(write_snapshot(tmp_path, data)), "pregnancy", "pregnant", "childbearing_potential")


def test_a_prior_course_whose_figures_disagree_is_refused_naming_them(tmp_path):
    # 12 mCi/kg x 20 kg = 240 mCi, recorded as 300 mCi.
    course = {"infusion_date": "2026-01-15", "mci_per_kg": "12", "weight_kg": "20", "total_mci": "300"}
    data = example_data() | {"prior_mibg_courses": [course]}
    assert_bad_input(mibg_eligibility(write_snapshot(tmp_path, data)), "prior_mibg_courses.0", "mci_per_kg", "weight_kg",
                     "total_mci")


def test_25_mci_per_kg_is_not_eligible_at_this_dose_on_the_command_line(tmp_path):
    done = mibg_eligibility(write_snapshot(tmp_path, example_data() | {"planned_mci_per_kg": "25"}))
    assert done.returncode == 1
    assert "Not eligible at 25 mCi/kg: R1" in done.stdout


def test_a_planned_treatment_date_in_the_past_is_warned_about(tmp_path):
    data = example_data() | {"planned_treatment_date": "2025-01-10", "enrolment_date": None}
    data = {k: v for k, v in data.items() if v is not None}
    done = mibg_eligibility(write_snapshot(tmp_path, data))
    assert "Warning: The planned treatment date 2025-01-10 is already past" in done.stdout


@pytest.mark.parametrize(("collected", "status"), [
    ("2026-12-03T00:30:00+00:00", "unknown"),  # = 2026-12-02 16:30 PST: the day before the 7-day window at the site
    ("2026-12-03T08:00:00+00:00", "met"),      # = 2026-12-03 00:00 PST: its first day
])
def test_the_command_dates_a_lab_sent_in_utc_by_the_site_day_as_the_form_does(collected, status):
    """Issues 11, 14: the eligible example (treatment 2026-12-10) with its ANC collected at a UTC moment."""
    data = example_data("eligible-neuroblastoma")
    data["labs"] = [lab for lab in data["labs"] if lab["test"] != "anc"] + [
        {"test": "anc", "value": "1.5", "unit": "10^9/L", "collected_at": collected}]
    done = mibg_eligibility("-", "--json", stdin=json.dumps(data))
    assert {c["id"]: c["status"] for c in json.loads(done.stdout)["criteria"]}["H1"] == status

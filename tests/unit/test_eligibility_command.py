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

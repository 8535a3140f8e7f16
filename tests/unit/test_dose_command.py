"""`mibg dose` run as a subprocess: JSON keys, exit status 0 ok / 1 blocked / 2 bad input with one line.

The command's interface is stable (scripts depend on its flags, JSON keys and exit status).
"""

import json
import math
import subprocess
import sys
from decimal import Decimal

import pytest

BASE = ["--weight-kg", "22", "--mci-per-kg", "18", "--cd34-per-kg", "3e6"]


def mibg_dose(*args):
    return subprocess.run([sys.executable, "-m", "mibg.cli", "dose", *args], capture_output=True, text=True, timeout=60,
                          check=False)


def assert_bad_input(done, flag):
    assert done.returncode == 2, (done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert flag in lines[0]
    assert "Traceback" not in done.stderr
    assert done.stdout == ""


# ---- bad input: exit 2, one line on stderr naming the flag, no traceback ------------------------------------


@pytest.mark.parametrize(
    ("args", "flag"),
    [
        (["--weight-kg=-1", "--mci-per-kg", "18"], "--weight-kg"),
        (["--weight-kg", "0", "--mci-per-kg", "18"], "--weight-kg"),
        (["--weight-kg", "nan", "--mci-per-kg", "18"], "--weight-kg"),
        (["--weight-kg", "inf", "--mci-per-kg", "18"], "--weight-kg"),
        (["--weight-kg", "10000", "--mci-per-kg", "18"], "--weight-kg"),
        (["--weight-kg", "twenty", "--mci-per-kg", "18"], "--weight-kg"),
        (["--weight-kg", "22", "--mci-per-kg", "1800"], "--mci-per-kg"),
        (["--weight-kg", "22", "--mci-per-kg", "NaN"], "--mci-per-kg"),
        (["--weight-kg", "22", "--mci-per-kg=-18"], "--mci-per-kg"),
        (["--weight-kg", "22", "--mci-per-kg", "0"], "--mci-per-kg"),
        (["--weight-kg", "22", "--mci-per-kg", "18mCi"], "--mci-per-kg"),
        ([*BASE, "--volume-ml", "lots"], "--volume-ml"),
        ([*BASE, "--infusion-min=-5"], "--infusion-min"),
        ([*BASE, "--cd34-per-kg", "many"], "--cd34-per-kg"),
        ([*BASE, "--prior-mci-per-kg=-1"], "--prior-mci-per-kg"),
        ([*BASE, "--preparation", "azedra", "--specific-activity-ci-per-mmol", "12"], "--specific-activity-ci-per-mmol"),
        ([*BASE, "--preparation", "draximage", "--specific-activity-mci-per-mg", "40"], "--specific-activity-mci-per-mg"),
        ([*BASE, "--treatment-date", "2026-13-01"], "--treatment-date"),
        ([*BASE, "--last-mibg-date", "10/06/2026", "--prior-mci-per-kg", "12"], "--last-mibg-date"),
        ([*BASE, "--calibration-time", "2026-12-09T09:00:00", "--administration-time", "2026-12-10T09:00:00-08:00"],
         "--calibration-time"),
        ([*BASE, "--calibration-time", "2026-12-09T09:00:00-08:00", "--administration-time", "2026-12-10T09:00"],
         "--administration-time"),
        ([*BASE, "--calibration-time", "2026-12-09T09:00:00-08:00"], "--administration-time"),
        ([*BASE, "--administration-time", "2026-12-10T09:00:00-08:00"], "--calibration-time"),
        ([*BASE, "--diagnosis", "glioma"], "--diagnosis"),
        ([*BASE, "--preparation", "sodium-iodide"], "--preparation"),
        (["--mci-per-kg", "18"], "--weight-kg"),
    ],
)
def test_bad_input_exits_2_with_one_line_naming_the_flag(args, flag):
    assert_bad_input(mibg_dose(*args), flag)


# ---- JSON output ------------------------------------------------------------------------------------------------


def test_json_output_has_the_stable_keys_and_the_worked_values():
    done = mibg_dose(*BASE, "--preparation", "draximage", "--specific-activity-ci-per-mmol", "12", "--volume-ml", "50",
                     "--infusion-min", "120", "--calibration-time", "2026-12-09T09:00:00-08:00",
                     "--administration-time", "2026-12-10T09:00:00-08:00", "--treatment-date", "2026-12-10", "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert set(data) >= {"status", "activity_mci", "activity_mbq", "activity_gbq", "max_activity_mci", "mibg_mass_mg",
                         "infusion_rate_ml_per_h", "activity_at_calibration_mci", "findings"}
    assert data["status"] == "ok"
    # 22 kg x 18 mCi/kg = 396 mCi = 14,652 MBq = 14.652 GBq; largest allowed 18 x 22 = 396 mCi.
    assert (data["activity_mci"], data["activity_mbq"], data["activity_gbq"]) == ("396", "14652", "14.652")
    assert data["max_activity_mci"] == "396"
    # decisions.md A28: the mass is taken at the lot's calibration, 24 h before administration (decay factor
    # 0.91721 for 1 d, clinical-reference §2.4): 396 / 0.9172091 = 431.7446 mCi; 0.4317446 Ci / 12 Ci/mmol =
    # 0.03597872 mmol x 275.09 mg/mmol = 9.89737 mg (the activity at administration would give 9.07797 mg).
    # Written as exact text, never a JSON number.
    assert isinstance(data["mibg_mass_mg"], str)
    assert float(data["mibg_mass_mg"]) == pytest.approx(9.89737, rel=1e-5)
    # 50 mL over 120 min = 25 mL/h.
    assert Decimal(data["infusion_rate_ml_per_h"]) == 25
    # Calibrated 24 h before administration: 396 x exp(ln 2 x 24 / 192.4968).
    assert float(data["activity_at_calibration_mci"]) == pytest.approx(396 * math.exp(math.log(2) * 24 / 192.4968), rel=1e-9)
    assert data["schema"] == "mibg.dose_plan"
    for finding in data["findings"]:
        assert set(finding) >= {"rule", "severity", "message"}
        assert finding["severity"] in ("block", "warn", "info")


def test_a_blocked_plan_exits_1_and_says_which_rule_blocks():
    done = mibg_dose("--weight-kg", "22", "--mci-per-kg", "18.01", "--cd34-per-kg", "3e6", "--json")
    assert done.returncode == 1, done.stderr
    data = json.loads(done.stdout)
    assert data["status"] == "blocked"
    assert {f["rule"] for f in data["findings"] if f["severity"] == "block"} == {"R1"}


def test_exactly_12_without_stem_cells_exits_1_unless_the_chair_cleared_s2():
    blocked = mibg_dose("--weight-kg", "22", "--mci-per-kg", "12", "--json")
    cleared = mibg_dose("--weight-kg", "22", "--mci-per-kg", "12", "--chair-cleared", "S2", "--json")
    assert blocked.returncode == 1
    assert cleared.returncode == 0
    assert json.loads(cleared.stdout)["status"] == "ok"


def test_the_pheo_cap_is_applied_by_the_command():
    # 50 kg paraganglioma at 10.002 mCi/kg = 500.1 mCi > min(500, 600) = 500 mCi.
    done = mibg_dose("--weight-kg", "50", "--mci-per-kg", "10.002", "--cd34-per-kg", "3e6", "--diagnosis", "paraganglioma",
                     "--json")
    assert done.returncode == 1
    data = json.loads(done.stdout)
    assert data["max_activity_mci"] == "500"
    assert "R2" in {f["rule"] for f in data["findings"] if f["severity"] == "block"}


def test_the_readable_sheet_shows_the_status_activity_and_findings():
    done = mibg_dose(*BASE)
    assert done.returncode == 0, done.stderr
    assert "OK" in done.stdout
    assert "396.0 mCi (14652 MBq, 14.652 GBq)" in done.stdout
    assert "R1" in done.stdout
    assert done.stderr == ""


@pytest.mark.parametrize("weight", ["2_2", "1_000", "٢٢", "2 2", "0x16"])
def test_a_weight_with_a_digit_separator_or_other_digits_is_refused_never_read_as_another_number(weight):
    # Python's Decimal reads "2_2" as 22 and "٢٢" (Arabic-Indic digits) as 22: a typo must not become a weight.
    assert_bad_input(mibg_dose(f"--weight-kg={weight}", "--mci-per-kg", "12"), "--weight-kg")

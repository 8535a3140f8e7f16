"""`mibg dosimetry`: the JSON, the sheet and one-line errors (run as a person would, in a subprocess)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from mibg.protocol import load_protocol

ROOT = Path(__file__).resolve().parents[2]
WORKED_EXAMPLE = ROOT / "examples" / "readings" / "worked-example-4-4.csv"
BI_EXPONENTIAL = ROOT / "examples" / "readings" / "bi-exponential.csv"
START = "2026-03-02T09:30:00-08:00"


def mibg(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mibg.cli", "dosimetry", *args], capture_output=True, text=True,
                          timeout=120)


def worked_example_json(*extra: str) -> dict:
    result = mibg(str(WORKED_EXAMPLE), "--administered-mci", "396", "--weight-kg", "22.0", "--json", *extra)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def worked() -> dict:
    return worked_example_json("--infusion-start", START)


def test_the_json_has_every_promised_key(worked):
    for key in ("model", "effective_half_life_h", "tiac_h", "whole_body_dose_gy", "whole_body_dose_electron_only_gy",
                "photon_absorbed_fraction", "releasable_now", "predicted_release_site_h", "predicted_release_federal_h",
                "caregiver_dose_msv", "administered_mci", "administered_mbq", "fit", "protocol"):
        assert key in worked, key
    assert set(worked["releasable_now"]) == {"federal", "site"}
    assert worked["protocol"] == load_protocol().label


def test_the_worked_example_numbers_match_clinical_reference_4_4(worked):
    assert worked["model"] == "mono-exponential"
    assert worked["effective_half_life_h"] == pytest.approx(23.3, abs=0.05)
    assert worked["tiac_h"] == pytest.approx(33.5, abs=0.05)
    # Exact values are text, never JSON floats: 396 mCi x 37 = 14652 MBq; phi 0.25 (site parameter).
    assert worked["administered_mci"] == "396"
    assert worked["administered_mbq"] == "14652"
    assert worked["photon_absorbed_fraction"] == "0.25"
    decays_per_kg = 1.4652e10 / 22.0 * worked["tiac_h"] * 3600
    assert worked["whole_body_dose_electron_only_gy"] == pytest.approx(decays_per_kg * 0.192 * 1.602176634e-13)
    assert worked["whole_body_dose_gy"] == pytest.approx(decays_per_kg * (0.192 + 0.25 * 0.381) * 1.602176634e-13)
    assert worked["releasable_now"] == {"federal": True, "site": False}
    assert float(worked["caregiver_dose_msv"]) == pytest.approx(2.434, abs=0.0005)
    assert worked["retention"]["trapezoid"]["tiac_h"] == pytest.approx(34.89, abs=0.005)


def test_the_fit_parameters_carry_their_uncertainties(worked):
    (component,) = worked["fit"]["components"]
    assert component["half_life_h"] == pytest.approx(23.3, abs=0.05)
    assert 0 < component["half_life_se_h"] < 1
    assert 0 < component["amplitude_se"] < 0.1
    assert worked["tiac_se_h"] > 0


def test_predicted_release_times_are_hours_after_the_start_and_iso_times_with_infusion_start(worked):
    fit = worked["fit"]["components"][0]
    expected_site = 0.5 + math.log(fit["amplitude"] * 60.0 / 2.0) / fit["decay_per_h"]
    assert worked["predicted_release_site_h"] == pytest.approx(expected_site, rel=1e-9)
    assert worked["predicted_release_site_h"] == pytest.approx(114.3, abs=0.05)
    assert worked["predicted_release_federal_h"] < 96
    at = datetime.fromisoformat(worked["predicted_release_site_at"])
    exact = datetime.fromisoformat(START) + timedelta(hours=worked["predicted_release_site_h"])
    assert timedelta(0) <= at - exact < timedelta(minutes=1)
    assert at.utcoffset() == timedelta(hours=-8)
    assert "predicted_release_federal_at" in worked


def test_without_infusion_start_no_clock_times_are_given():
    data = worked_example_json()
    assert "predicted_release_site_at" not in data


def test_entered_phi_and_site_limit_are_used():
    data = worked_example_json("--photon-absorbed-fraction", "0", "--site-limit-mrem-per-h", "3.5")
    assert data["photon_absorbed_fraction"] == "0"
    assert data["whole_body_dose_gy"] == data["whole_body_dose_electron_only_gy"]
    assert data["releasable_now"]["site"] is True


def test_the_bi_exponential_example_chooses_the_bi_exponential_model():
    result = mibg(str(BI_EXPONENTIAL), "--administered-mci", "500", "--weight-kg", "30", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["model"] == "bi-exponential"
    half_lives = sorted(c["half_life_h"] for c in data["fit"]["components"])
    assert half_lives == pytest.approx([6.0, 40.0], rel=0.01)


def test_the_sheet_shows_formulas_inputs_and_the_verdict():
    result = mibg(str(WORKED_EXAMPLE), "--administered-mci", "396", "--weight-kg", "22.0", "--infusion-start", START)
    assert result.returncode == 0, result.stderr
    sheet = result.stdout
    assert load_protocol().label in sheet
    assert "396.0 mCi (14652 MBq" in sheet
    assert "tau = t0 + sum a_i/lambda_i = 0.5 +" in sheet
    assert "34.6 x T x E x rate = 34.6 x 8.04 d x 0.25 x 3.5 mR/h" in sheet
    assert "Federal (10 CFR 35.75): RELEASABLE; site (2 mR/h): NOT releasable" in sheet
    assert "electrons only (phi = 0, lower bound)" in sheet
    assert "last two readings project 115.4 h" in sheet


# ---- bad input: exit 2 and one line naming the flag or column -------------------------------------------------


BAD_FILES = {
    "empty": ("", "empty"),
    "unknown column": ("hours,mrem_per_hour\n0.5,60\n24,30\n", "mrem_per_hour"),
    "missing column": ("hours\n0.5\n24\n", "mrem_per_h"),
    "non-numeric": ("hours,mrem_per_h\n0.5,60\n24,thirty\n", "mrem_per_h (line 3)"),
    "negative": ("hours,mrem_per_h\n0.5,60\n-24,30\n", "hours (line 3)"),
    "one reading": ("hours,mrem_per_h\n0.5,60\n", "readings"),
    "not increasing": ("hours,mrem_per_h\n0.5,60\n24,30\n12,20\n", "hours (line 4)"),
    "rising": ("hours,mrem_per_h\n0.5,60\n24,70\n48,80\n", "mrem_per_h (line 4)"),
    "background above reading": ("hours,mrem_per_h,background_mrem_per_h\n0.5,60,0\n24,0.1,0.2\n", "mrem_per_h (line 3)"),
    "extra value": ("hours,mrem_per_h\n0.5,60\n24,30,5\n", "line 3"),
    "duplicate column": ("hours,mrem_per_h,hours\n0.5,60,1\n", "twice"),
}


def assert_one_line_error(result: subprocess.CompletedProcess[str], names: str) -> None:
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert names in lines[0]


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_a_bad_readings_file_gives_exit_2_and_one_line_naming_the_column(case, tmp_path):
    content, names = BAD_FILES[case]
    path = tmp_path / "readings.csv"
    path.write_text(content, encoding="utf-8")
    assert_one_line_error(mibg(str(path), "--administered-mci", "396", "--weight-kg", "22"), names)


def test_a_file_that_is_not_utf8_gives_exit_2(tmp_path):
    path = tmp_path / "readings.csv"
    path.write_bytes(b"hours,mrem_per_h\n0.5,\xff\xfe\n")
    assert_one_line_error(mibg(str(path), "--administered-mci", "396", "--weight-kg", "22"), "UTF-8")


def test_a_missing_file_gives_exit_2(tmp_path):
    assert_one_line_error(mibg(str(tmp_path / "absent.csv"), "--administered-mci", "396", "--weight-kg", "22"),
                          "absent.csv")


@pytest.mark.parametrize(("flags", "names"), [
    (("--administered-mci", "lots", "--weight-kg", "22"), "--administered-mci"),
    (("--administered-mci", "-396", "--weight-kg", "22"), "--administered-mci"),
    (("--administered-mci", "396", "--weight-kg", "0"), "--weight-kg"),
    (("--administered-mci", "396", "--weight-kg", "22", "--photon-absorbed-fraction", "1.2"), "--photon-absorbed-fraction"),
    (("--administered-mci", "396", "--weight-kg", "22", "--photon-absorbed-fraction", "-0.1"),
     "--photon-absorbed-fraction"),
    (("--administered-mci", "396", "--weight-kg", "22", "--infusion-start", "2026-03-02T09:30"), "--infusion-start"),
    (("--administered-mci", "396", "--weight-kg", "22", "--infusion-start", "yesterday"), "--infusion-start"),
    (("--administered-mci", "396", "--weight-kg", "22", "--site-limit-mrem-per-h", "0"), "--site-limit-mrem-per-h"),
    (("--administered-mci", "396"), "--weight-kg"),
])
def test_a_bad_flag_gives_exit_2_and_one_line_naming_the_flag(flags, names):
    assert_one_line_error(mibg(str(WORKED_EXAMPLE), *flags), names)

"""`mibg ctcae`, run as a person or a script would: a separate process, its output and exit status."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


def ctcae(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mibg.cli", "ctcae", *args], capture_output=True, text=True, timeout=60, check=False
    )


def test_an_anc_of_750_per_microlitre_is_grade_3_with_the_value_in_canonical_units():
    done = ctcae("--term", "neutrophil-count-decreased", "--value", "750", "--unit", "/uL", "--lln", "1500")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Neutrophil count decreased: grade 3 (CTCAE v5.0)")
    assert "0.75 10^9/L" in done.stdout
    assert done.stderr == ""


def test_json_output_is_one_object_with_the_grade_term_value_and_band():
    done = ctcae("--term", "alanine-aminotransferase-increased", "--value", "200", "--unit", "U/L", "--uln", "40", "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["grade"] == 2  # exactly 5.0 x ULN
    assert data["term"] == "alanine-aminotransferase-increased"
    assert data["value"] == "200"
    assert data["unit"] == "U/L"
    assert data["band"].startswith(">3.0 - 5.0 x ULN")


def test_creatinine_in_micromoles_is_graded_against_a_uln_in_the_same_unit():
    done = ctcae("--term", "creatinine-increased", "--value", "176.8", "--unit", "umol/L", "--uln", "88.4", "--json")
    data = json.loads(done.stdout)
    assert (data["grade"], data["value"], data["unit"]) == (2, "2", "mg/dL")


def test_anemia_says_that_grade_4_is_not_given_from_the_value():
    done = ctcae("--term", "anemia", "--value", "5", "--unit", "g/dL", "--lln", "11")
    assert done.returncode == 0
    assert "grade 3" in done.stdout
    assert "Highest grade a value alone can give: 3" in done.stdout


@pytest.mark.parametrize(
    ("args", "flag"),
    [
        (("--term", "fatigue", "--value", "1", "--unit", "g/dL"), "--term"),
        (("--term", "anemia", "--value", "abc", "--unit", "g/dL", "--lln", "11"), "--value"),
        (("--term", "anemia", "--value=-1", "--unit", "g/dL", "--lln", "11"), "--value"),
        (("--term", "anemia", "--value", "NaN", "--unit", "g/dL", "--lln", "11"), "--value"),
        (("--term", "anemia", "--value", "9", "--unit", "mmol/L", "--lln", "11"), "--unit"),
        (("--term", "blood-bilirubin-increased", "--value", "2", "--unit", "mg/dL"), "--uln"),
        (("--term", "platelet-count-decreased", "--value", "120", "--unit", "10^9/L"), "--lln"),
        (("--term", "platelet-count-decreased", "--value", "120", "--unit", "10^9/L", "--lln", "x"), "--lln"),
        (("--term", "anemia", "--value", "9"), "--unit"),
    ],
)
def test_bad_input_exits_2_with_one_line_naming_the_flag_and_no_traceback(args, flag):
    done = ctcae(*args)
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert flag in lines[0]
    assert "Traceback" not in done.stderr


def test_the_command_does_not_import_django_scipy_matplotlib_or_pydantic():
    code = (
        "import sys, io, contextlib\n"
        "from mibg.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    status = main(['ctcae', '--term', 'anemia', '--value', '9', '--unit', 'g/dL', '--lln', '11'])\n"
        "heavy = sorted(m for m in ('django', 'scipy', 'matplotlib', 'pydantic', 'numpy') if m in sys.modules)\n"
        "print(status, heavy)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert done.stdout.strip() == "0 []", done.stderr

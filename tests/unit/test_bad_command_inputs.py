"""The `mibg` command given the bad-input corpus (tests/data/bad_inputs.json): bad flags and bad input files.

Every case must exit 2 with exactly one line on stderr that names the flag or the file's field, no
"Traceback", nothing on stdout, and no file written (the working directory and MIBG_DATA_DIR stay as they
were). The command runs in process (``mibg.cli.main``) so a few hundred cases take seconds; a subprocess
case at the end checks the same contract from outside.
"""

from __future__ import annotations

import base64
import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest

from mibg.cli import main

ROOT = Path(__file__).parents[2]
CORPUS = json.loads((ROOT / "tests" / "data" / "bad_inputs.json").read_text(encoding="utf-8"))["command"]
READINGS = ROOT / "examples" / "readings" / "worked-example-4-4.csv"
PATIENT = ROOT / "examples" / "patients" / "eligible-neuroblastoma.json"

DOSE = ["dose", "--weight-kg", "22", "--mci-per-kg", "18", "--cd34-per-kg", "3e6"]
CTCAE = ["ctcae", "--term", "platelet-count-decreased", "--value", "24", "--unit", "10^9/L", "--lln", "150"]
DOSIMETRY = ["dosimetry", str(READINGS), "--administered-mci", "396", "--weight-kg", "22"]


def _with(base: list[str], flag: str, value: str) -> list[str]:
    """``base`` with ``flag`` set to ``value`` (replaced if present), as ``--flag=value`` so "-22" stays a value."""
    out, skip = [], False
    for i, arg in enumerate(base):
        if skip:
            skip = False
            continue
        if arg == flag and i + 1 < len(base):
            skip = True
            continue
        out.append(arg)
    return [*out, f"{flag}={value}"]


@pytest.fixture
def run(tmp_path, monkeypatch, capsys):
    """``run(argv)`` -> (exit status, stdout, stderr), in an empty working directory with its own data dir."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("MIBG_DATA_DIR", str(work / "data"))

    def call(argv: list[str]) -> tuple[int, str, str]:
        before = sorted(p.relative_to(work) for p in work.rglob("*"))
        try:
            status = main(argv)
        except SystemExit as stop:  # argparse's own refusals
            status = stop.code if isinstance(stop.code, int) else 2
        out, err = capsys.readouterr()
        assert sorted(p.relative_to(work) for p in work.rglob("*")) == before, "a file was written"
        return status, out, err

    call.work = work  # type: ignore[attr-defined]
    return call


def assert_refused(status: int, out: str, err: str, *names: str) -> None:
    assert status == 2, (status, out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    assert out == ""
    assert any(name in lines[0] for name in names), (names, lines[0])


def _file(work: Path, item: dict, name: str) -> Path:
    path = work.parent / name  # beside the working directory, so "no file written" sees only the command's
    if "bytes" in item:
        path.write_bytes(base64.b64decode(item["bytes"].removeprefix("@base64:")))
    else:
        path.write_text(item["text"], encoding="utf-8")
    return path


@pytest.mark.parametrize(("flag", "value"), CORPUS["dose_flags"], ids=lambda v: str(v)[:30])
def test_mibg_dose_refuses_a_bad_flag_value_naming_the_flag(flag, value, run):
    assert_refused(*run(_with(DOSE, flag, value)), flag)


@pytest.mark.parametrize(("flag", "value"), CORPUS["ctcae_flags"], ids=lambda v: str(v)[:30])
def test_mibg_ctcae_refuses_a_bad_flag_value_naming_the_flag(flag, value, run):
    assert_refused(*run(_with(CTCAE, flag, value)), flag)


@pytest.mark.parametrize(("flag", "value"), CORPUS["dosimetry_flags"], ids=lambda v: str(v)[:30])
def test_mibg_dosimetry_refuses_a_bad_flag_value_naming_the_flag(flag, value, run):
    assert_refused(*run(_with(DOSIMETRY, flag, value)), flag)


@pytest.mark.parametrize("item", CORPUS["dosimetry_files"], ids=lambda i: i["kind"].replace(" ", "_"))
def test_mibg_dosimetry_refuses_a_bad_readings_file_naming_the_line_or_column(item, run):
    path = _file(run.work, item, "readings.csv")
    argv = ["dosimetry", str(path), "--administered-mci", "396", "--weight-kg", "22"]
    assert_refused(*run(argv), "readings", "line", "hours", "mrem_per_h")


def _patient_file(work: Path, item: dict) -> Path:
    if "text" in item or "bytes" in item:
        return _file(work, item, "patient.json")
    data = json.loads(PATIENT.read_text(encoding="utf-8"))
    data.update(copy.deepcopy(item.get("patch", {})))
    if "patch_lab_time" in item:
        data["labs"][0]["collected_at"] = item["patch_lab_time"]
    path = work.parent / "patient.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


@pytest.mark.parametrize("item", CORPUS["eligibility_files"], ids=lambda i: i["kind"].replace(" ", "_"))
def test_mibg_eligibility_refuses_a_bad_snapshot_file_naming_the_field(item, run):
    path = _patient_file(run.work, item)
    names = [*item.get("patch", {}), "collected_at"] if ("patch" in item or "patch_lab_time" in item) else ["patient.json"]
    assert_refused(*run(["eligibility", str(path)]), *names)


@pytest.mark.parametrize("item", CORPUS["protocol_files"], ids=lambda i: i["kind"].replace(" ", "_"))
def test_mibg_protocol_import_refuses_a_bad_record_and_stores_nothing(item, run):
    path = run.work.parent / "missing.json" if item.get("missing") else _file(run.work, item, "record.json")
    assert_refused(*run(["protocol", "import", str(path)]), path.name)


def test_the_same_contract_holds_from_outside_for_a_nan_weight(tmp_path):
    done = subprocess.run([sys.executable, "-m", "mibg.cli", *_with(DOSE, "--weight-kg", "NaN")], capture_output=True,
                          text=True, timeout=60, check=False, cwd=tmp_path)
    assert_refused(done.returncode, done.stdout, done.stderr, "--weight-kg")
    assert list(tmp_path.iterdir()) == []

"""tests/scan_logs.py, the CI step that fails the run when a log names a patient or holds a secret."""

from __future__ import annotations

import pytest

import scan_logs
from clinic_helpers import PASSWORD


@pytest.mark.parametrize("line", [
    "WARNING django.request: Not Found: /patients/T-0003/",
    "INFO mibg: course 1 of PATIENT7, Test",
    "ERROR mibg.api: duplicate MRN FHIR-0002",
    "DEBUG x: Ava Martin was admitted",
    "DEBUG x: MARTIN, Ava",
    "DEBUG x: DEMO-1004",
    "DEBUG mibg: viewing QUILLFEATHER, Zephyrine (MRN LOG-4471)",
    f"DEBUG x: login with {PASSWORD}",
    "DEBUG x: Authorization: Bearer abc",
    "DEBUG x: token mibg_Zk3qU8k1t2ZxYVJjOFJ0a2lR",
    "DEBUG x: Cookie: sessionid=abc123",
])
def test_a_log_line_naming_a_test_patient_or_holding_a_secret_fails_the_scan(tmp_path, line, capsys):
    (tmp_path / "gw0.log").write_text("INFO django: clean\n" + line + "\n", encoding="utf-8")
    assert scan_logs.main([str(tmp_path)]) == 1
    assert "gw0.log:2:" in capsys.readouterr().err


def test_clean_logs_pass_and_no_logs_at_all_fail(tmp_path):
    assert scan_logs.main([str(tmp_path)]) == 1  # the tests did not run: that is not a pass
    (tmp_path / "main.log").write_text("WARNING django.request: Not Found: /patients/12/\n"
                                       "WARNING django.request: Forbidden: /courses/3/assay/\n", encoding="utf-8")
    assert scan_logs.main([str(tmp_path)]) == 0

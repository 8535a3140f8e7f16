"""Scan the test session's logs (test-output/logs/*.log, written by tests/conftest.py) for patient identifiers
and secrets; exit 1 naming each file, line and what was found, 0 when clean. Run by bin/test after pytest.

What it looks for: the MRNs and names the test fixtures and the demo data create (make_course's T-0001 and
"Patient1", the demo's DEMO-1001 "Ava Martin", the MRNs the tests type), the personas' password, bearer
tokens and API tokens, session cookies and the secret key of the test settings.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests")]

from clinic_helpers import PASSWORD  # noqa: E402

#: The demo's patients (mibg.web.demo.PATIENTS), read from its source: importing it would need Django set up.
DEMO = re.findall(r'\("(DEMO-\d+)", "(\w+)", "(\w+)"', (ROOT / "src" / "mibg" / "web" / "demo.py").read_text("utf-8"))

#: MRNs typed by the tests (grep 'mrn' tests/); make_course numbers its own T-0001, T-0002, ...
TEST_MRNS = ["API-1", "API-2", "API-BAD-1", "BAD-0001", "BR-0001", "BR-0002", "DBL-1", "DBL-2", "DOC-0001",
             "FHIR-0001", "FHIR-0002", "FHIR-0003", "MRN-77", "XL-0001", "XL-0002", "XL-0003", "LOG-4471", "LOG-0002",
             "LOG-9"]
#: Patient names the tests type that no other word matches (tests/web/test_no_identifiers_in_logs.py).
TEST_NAMES = ["Quillfeather", "Zephyrine"]


def patterns() -> list[tuple[str, re.Pattern[str]]]:
    found = [
        ("a test MRN (make_course)", re.compile(r"\bT-\d{4}\b")),
        ("a test patient's name (make_course)", re.compile(r"\bPatient\d+\b", re.I)),
        ("a test MRN", re.compile(r"(?<![\w-])(?:" + "|".join(map(re.escape, TEST_MRNS)) + r")(?![\w-])")),
        ("a test patient's name", re.compile(r"\b(?:" + "|".join(TEST_NAMES) + r")\b", re.I)),
        ("the personas' password", re.compile(re.escape(PASSWORD))),
        ("a bearer token", re.compile(r"Bearer\s+\S", re.I)),
        ("an API token", re.compile(r"\bmibg_[A-Za-z0-9_-]{20,}")),
        ("a session or CSRF cookie", re.compile(r"\b(?:sessionid|csrftoken)=\w", re.I)),
    ]
    for mrn, given, family in DEMO:
        found.append((f"demo patient {mrn}", re.compile(
            rf"(?<![\w-]){re.escape(mrn)}(?![\w-])|\b{given}\s+{family}\b|\b{family},\s*{given}\b", re.I)))
    data_dir = Path(os.environ.get("MIBG_DATA_DIR", os.path.join(tempfile.gettempdir(), "mibg-test-data")))
    keys = [os.environ.get("MIBG_SECRET_KEY", "")]
    if (data_dir / "secret_key").exists():
        keys.append((data_dir / "secret_key").read_text(encoding="utf-8").strip())
    found += [("the secret key", re.compile(re.escape(key))) for key in keys if len(key) >= 16]
    return found


def scan(directory: Path) -> list[str]:
    problems = []
    checks = patterns()
    for path in sorted(directory.glob("*.log")):
        with path.open(encoding="utf-8", errors="replace") as handle:
            for number, line in enumerate(handle, 1):
                for what, pattern in checks:
                    if pattern.search(line):
                        problems.append(f"{path}:{number}: {what}: {line.strip()[:200]}")
    return problems


def main(argv: list[str]) -> int:
    directory = Path(argv[0]) if argv else ROOT / "test-output" / "logs"
    if not any(directory.glob("*.log")):
        print(f"scan_logs: no log files in {directory}: did the tests run?", file=sys.stderr)
        return 1
    problems = scan(directory)
    for problem in problems:
        print(problem, file=sys.stderr)
    lines = sum(len(p.read_text(encoding="utf-8", errors="replace").splitlines()) for p in directory.glob("*.log"))
    print(f"scan_logs: {len(problems)} finding(s) in {lines} log lines of {directory}",
          file=sys.stderr if problems else sys.stdout)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

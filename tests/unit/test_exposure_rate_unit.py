"""One exposure-rate unit everywhere (issue 15): mR/h, the survey meter's unit and the one the clinical reference's
worked examples and NUREG-1556 Table U.1 give ("7 mR/h"). The other unit is named once, in the reading form's
help text (1 mR/h is about 1 mrem/h for gamma rays), so a reader who knows it in mrem/h can match the two."""

from __future__ import annotations

import re
from pathlib import Path

import mibg

SOURCE = Path(mibg.__file__).resolve().parent
OTHER_UNIT = re.compile(r"mrem\s*/\s*h", re.IGNORECASE)
#: Where the other unit may be named: the help text, and the translation catalogue that copies it.
ALLOWED = {Path("web/radiation/forms.py"), Path("web/locale/es/LC_MESSAGES/django.po")}
SCANNED = {".py", ".html", ".json", ".txt", ".md", ".js", ".po"}


def _mentions() -> dict[Path, list[str]]:
    found: dict[Path, list[str]] = {}
    for path in SOURCE.rglob("*"):
        if path.suffix not in SCANNED or not path.is_file():
            continue
        lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if OTHER_UNIT.search(line)]
        if lines:
            found[path.relative_to(SOURCE)] = lines
    return found


def test_the_other_exposure_rate_unit_appears_only_in_the_reading_forms_help_text() -> None:
    mentions = _mentions()
    outside = {str(path): lines for path, lines in mentions.items() if path not in ALLOWED}
    assert outside == {}


def test_the_help_text_names_the_other_unit_once_beside_the_one_used() -> None:
    lines = _mentions().get(Path("web/radiation/forms.py"), [])
    assert len(lines) == 1
    assert lines[0].startswith("EXPOSURE_RATE_HELP =")
    assert "1 mR/h ≈ 1 mrem/h" in lines[0]

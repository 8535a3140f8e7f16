"""The demo covers every stage the README names (issue 12: it promised a patient at "released" and had none)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"
#: The README's wording of a stage -> the course state it names.
STATE = {"in follow-up": "follow-up"}


def readme_stages() -> list[str]:
    text = " ".join(README.read_text(encoding="utf-8").split())
    match = re.search(r"patients at different stages \(([^)]*)\)", text)
    assert match, "the README no longer lists the demo's stages"
    return [STATE.get(s.strip(), s.strip()) for s in match.group(1).split(",")]


@pytest.mark.django_db
def test_morgan_finds_a_demo_patient_at_every_stage_the_readme_names():
    from mibg.web.courses.models import Course
    from mibg.web.demo import load

    load()
    states = set(Course.objects.values_list("state", flat=True))
    stages = readme_stages()
    assert "released" in stages
    assert set(stages) <= states, f"missing: {set(stages) - states}"

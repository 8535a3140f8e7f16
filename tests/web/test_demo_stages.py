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


@pytest.mark.django_db
def test_the_demo_worklists_show_no_overdue_supportive_care_or_reading_only_what_a_clinic_has_due_now():
    """The demo's past courses are recorded as a clinic that gave the care would have them (issue 15: 63 overdue
    items for a finished course). Overdue is left only where the demo shows it on purpose: an unreviewed
    serious adverse event for the physician."""
    from mibg.web.accounts.models import User
    from mibg.web.demo import load
    from mibg.web.plan.worklist import entries_for

    load()
    for username in ("nora", "patel", "chen", "sam", "riley"):
        overdue = [(e.patient, e.what) for e in entries_for(User.objects.get(username=username)) if e.overdue]
        assert all(what.startswith("Review a serious adverse event") for _, what in overdue), (username, overdue)
    everyone = [e for u in ("nora", "sam") for e in entries_for(User.objects.get(username=u))]
    assert any(e.kind == "order" for e in everyone)  # what is due today is still there to do

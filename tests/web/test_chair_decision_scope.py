"""A chair decision clears exactly what it names (decisions.md A35), shown with the planned dose; a screening for a
treatment date already past warns (issue 12)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from clinic_helpers import PASSWORD
from mibg.web.demo import directive_entry, screen, snapshot_data
from mibg.web.directives import services as directives
from mibg.web.screening.models import ChairDecision


def _token(client, url):
    return client.get(url).context["form"]["form_token"].value()


def _decide(client, course, criterion, reason="discussed at tumour board"):
    url = f"/courses/{course.pk}/chair/"
    return client.post(url, {"form_token": _token(client, url), "criterion": criterion, "cleared": "yes",
                             "reason": reason, "password": PASSWORD})


def _screen_at_12_without_stem_cells(people, course, **changes):
    t = timezone.localdate() + timedelta(days=3)
    data = snapshot_data(t, mci_per_kg="12") | {"stem_cell_products": []} | changes
    return screen(people["nora"], course, data), t


def test_dr_chen_clearing_s1_at_12_mci_per_kg_without_stem_cells_leaves_the_s2_gate_blocked(login, make_course, people):
    course = make_course()
    evaluation, t = _screen_at_12_without_stem_cells(people, course)
    statuses = {c["id"]: c["status"] for c in evaluation.eligibility.to_json()["criteria"]}
    assert (statuses["S1"], statuses["PD"]) == ("needs review", "needs review")

    chair = login("chen")
    page = chair.get(f"/courses/{course.pk}/chair/")
    # The planned dose is in front of the chair: 12 mCi/kg x 22.0 kg = 264 mCi (264 x 37 = 9768 MBq).
    for shown in (b"12 mCi/kg", b"22.0 kg", b"264"):
        assert shown in page.content
    assert b"does not clear the S2 dose gate" in page.content
    choices = dict(page.context["form"].fields["criterion"].choices)
    assert "S2" in choices
    assert "PD" not in choices  # PD is decided on the limit it names (S2), never on itself
    assert _decide(chair, course, "S1").status_code == 302

    latest = course.evaluations.order_by("-id").first()
    assert latest.overall == "needs review"
    s1 = next(c for c in latest.eligibility.to_json()["criteria"] if c["id"] == "S1")
    assert s1["status"] == "met"
    assert "S2 dose gate" in s1["reason"]  # said to the chair where the decision is shown
    plan = directives.plan_for(course, directive_entry(t, "12"))
    assert [f.rule for f in plan.findings if str(f.severity) == "block"] == ["S2"]

    assert _decide(chair, course, "S2", "12 mCi/kg without stem cells accepted").status_code == 302
    assert course.evaluations.order_by("-id").first().overall == "eligible"
    assert directives.plan_for(course, directive_entry(t, "12")).status == "ok"


def test_dr_chen_cannot_decide_the_s2_gate_without_a_planned_dose_to_look_at(login, make_course, people):
    course = make_course()
    _screen_at_12_without_stem_cells(people, course, planned_mci_per_kg=None)
    chair = login("chen")
    assert b"records no planned dose" in chair.get(f"/courses/{course.pk}/chair/").content
    response = _decide(chair, course, "S2")
    assert response.status_code == 200
    assert "criterion" in response.context["form"].errors
    assert b"planned dose shown" in response.content
    assert not ChairDecision.objects.filter(course=course).exists()


def test_nora_screening_for_a_treatment_date_already_past_sees_a_warning(login, make_course, people):
    course = make_course()
    yesterday = timezone.localdate() - timedelta(days=1)
    evaluation = screen(people["nora"], course, snapshot_data(yesterday))
    assert len(evaluation.eligibility.to_json()["warnings"]) == 1
    assert "already past" in evaluation.eligibility.to_json()["warnings"][0]
    page = login("nora").get(f"/evaluations/{evaluation.pk}/")
    assert b"already past" in page.content


def test_a_screening_for_tomorrow_gives_no_warning(make_course, people):
    course = make_course()
    evaluation = screen(people["nora"], course, snapshot_data(timezone.localdate() + timedelta(days=1)))
    assert evaluation.eligibility.to_json()["warnings"] == []

"""The course page leads with what happens next, who does it, and that person's button (issue 15)."""

from __future__ import annotations

import pytest


def _card(html: str) -> str:
    start = html.index('id="next-action"')
    return html[start:html.index("</div>", start)]


def test_nora_sees_that_confirming_eligibility_is_for_the_physician_or_chair_and_gets_no_button(login, make_course):
    course = make_course()  # screened: eligible
    html = login("nora").get(f"/courses/{course.pk}/").content.decode()
    card = _card(html)
    assert "What happens next:</strong> Confirm eligibility." in card
    assert "Who: Physician or Study chair." in card
    assert 'id="next-action-not-mine"' in card
    assert 'id="next-action-button"' not in card
    # It leads the page: before the screening card.
    assert html.index('id="next-action"') < html.index("<h2>Screening</h2>")


def test_dr_patel_gets_the_confirm_button_at_the_top(login, make_course):
    course = make_course()
    card = _card(login("patel").get(f"/courses/{course.pk}/").content.decode())
    assert f'href="/courses/{course.pk}/#steps">Confirm eligibility</a>' in card


@pytest.mark.parametrize(("until", "who", "person", "url", "what"), [
    ("eligible", "Physician", "patel", "/directive/", "The authorised user signs the written directive"),
    ("directive signed", "Medical physicist / RSO or Radiopharmacist", "sam", "/verify/",
     "Independent verification of the directive by a second person"),
    ("verified", "Radiopharmacist or Medical physicist / RSO", "riley", "/assay/", "Prepare and assay the dose"),
])
def test_each_step_names_its_people_and_gives_them_its_button(login, make_course, until, who, person, url, what):
    course = make_course(until=until)
    card = _card(login(person).get(f"/courses/{course.pk}/").content.decode())
    assert f"What happens next:</strong> {what}." in card
    assert f'href="/courses/{course.pk}{url}"' in card
    assert set(who.split(" or ")) == set(card.split("Who: ", 1)[1].split(".</span>", 1)[0].split(" or "))
    nurse_card = _card(login("nora").get(f"/courses/{course.pk}/").content.decode())
    assert 'id="next-action-not-mine"' in nurse_card


def test_a_course_needing_the_chair_says_so_and_only_the_chair_gets_the_button(login, make_course):
    from mibg.web.screening.models import Evaluation

    course = make_course()
    Evaluation.objects.filter(course=course).update(overall="needs review")
    nora = _card(login("nora").get(f"/courses/{course.pk}/").content.decode())
    assert "The study chair decides the criteria marked for review" in nora
    assert "Who: Study chair." in nora
    chen = _card(login("chen").get(f"/courses/{course.pk}/").content.decode())
    assert f'href="/courses/{course.pk}/chair/"' in chen


def test_every_next_step_of_the_core_table_names_a_known_permission_and_a_page_that_exists():
    from django.urls import reverse

    from mibg.core.course_state import NEXT_STEP, SCREENING_STEPS
    from mibg.web.permissions import ACTIONS

    for step in [*NEXT_STEP.values(), *SCREENING_STEPS.values()]:
        assert step.action in ACTIONS, step
        assert step.page.startswith("#") or reverse(step.page, args=[1])

"""Adverse-event terms are picked from the CTCAE v5.0 list, shown with MedDRA code and grades (issue 15)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from clinic_helpers import form_token, post_adverse_event
from mibg.web.followup.models import AdverseEvent, LabResult


@pytest.fixture
def course(make_course):
    return make_course(until="follow-up", days_ahead=-20)


def _ae(client, course, **values):
    data = {"term": "Nausea", "grade": "1", "started_on": (timezone.localdate() - timedelta(days=6)).isoformat(),
            "ended_on": "", "attribution": "possible", "serious": "no", "outcome": "recovering",
            "action_taken": "none", "description": ""}
    data.update(values)
    return post_adverse_event(client, course, data)


def test_dr_patel_typing_tummy_ache_is_refused_on_the_term_field_and_nothing_is_stored(login, course):
    response = _ae(login("patel"), course, term="tummy ache")
    assert response.status_code == 200
    assert "term" in response.context["form"].errors
    assert not AdverseEvent.objects.exists()


def test_dr_patel_picks_nausea_and_the_form_shows_meddra_codes_and_its_grade_definitions(login, course):
    client = login("patel")
    page = client.get(f"/followup/courses/{course.pk}/adverse-events/new/").content.decode()
    assert "Nausea (MedDRA 10028813)" in page  # the pick names the MedDRA code
    assert 'hx-get="/followup/ctcae-terms/"' in page
    fragment = client.get("/followup/ctcae-terms/?term=Nausea", headers={"HX-Request": "true"}).content.decode()
    assert "MedDRA 10028813" in fragment
    assert "Loss of appetite without alteration in eating habits" in fragment  # grade 1
    assert "<html" not in fragment
    assert _ae(client, course).status_code == 302
    assert AdverseEvent.objects.get().term == "Nausea"


def test_the_term_list_opened_directly_is_a_whole_page(login):
    page = login("nora").get("/followup/ctcae-terms/?term=Nausea").content.decode()
    assert "<html" in page
    assert "Febrile neutropenia" in page
    assert "unverified against the v5.0 text" in page


def test_an_event_stored_as_free_text_before_the_list_still_shows_marked_not_a_ctcae_term(login, course, django_user_model):
    AdverseEvent.objects.create(course=course, term="tummy ache", grade=1, started_on=timezone.localdate(),
                                attribution="possible", serious=False, outcome="recovering", action_taken="none",
                                recorded_by=django_user_model.objects.get(username="patel"))
    client = login("patel")
    page = client.get(f"/followup/courses/{course.pk}/").content.decode()
    row = re.search(r'<tr id="ae-\d+">(.*?)</tr>', page, re.S).group(1)
    assert "tummy ache" in row
    assert "not a CTCAE term" in row
    event = AdverseEvent.objects.get()
    edit = client.get(f"/followup/adverse-events/{event.pk}/edit/").content.decode()
    assert "is not a CTCAE term: pick the CTCAE v5.0 term" in edit


def test_a_grade_3_platelet_count_offers_dr_patel_the_matching_adverse_event_prefilled(login, course):
    client = login("patel")
    url = f"/followup/courses/{course.pk}/labs/new/"
    collected = timezone.localtime() - timedelta(days=3)
    # 40 x 10^9/L: <50.0 - 25.0 x 10e9/L is grade 3 (clinical-reference §6.1).
    response = client.post(url, {"form_token": form_token(client, url), "test": "platelets", "value": "40",
                                 "unit": "10^9/L", "lln": "150", "uln": "",
                                 "collected_at": collected.strftime("%Y-%m-%dT%H:%M")})
    assert response.status_code == 302
    assert LabResult.objects.get().grade.grade == 3
    page = client.get(f"/followup/courses/{course.pk}/").content.decode()
    link = re.search(r'href="([^"]+)">Record the adverse event \(Platelet count decreased, grade 3\)', page)
    assert link, "no offer to record the adverse event"
    href = link.group(1).replace("&amp;", "&")
    form = client.get(href).context["form"]
    assert form["term"].value() == "Platelet count decreased"
    assert str(form["grade"].value()) == "3"
    assert str(form["started_on"].value()) == collected.date().isoformat()


def test_a_grade_2_platelet_count_offers_no_adverse_event(login, course):
    client = login("patel")
    url = f"/followup/courses/{course.pk}/labs/new/"
    # 60 x 10^9/L: <75.0 - 50.0 x 10e9/L is grade 2, below the grade 3 offer.
    client.post(url, {"form_token": form_token(client, url), "test": "platelets", "value": "60", "unit": "10^9/L",
                      "lln": "150", "uln": "",
                      "collected_at": (timezone.localtime() - timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")})
    assert LabResult.objects.get().grade.grade == 2
    assert "Record the adverse event" not in client.get(f"/followup/courses/{course.pk}/").content.decode()

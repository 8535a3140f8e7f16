"""Adverse events and their physician review, transfusions, and response (Curie score, INRC 2017)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from clinic_helpers import PASSWORD, form_token, post_adverse_event
from mibg.web.audit.models import AuditEvent
from mibg.web.followup.models import AdverseEvent, CurieAssessment, InrcAssessment, SaeReview, Transfusion


@pytest.fixture
def course(make_course):
    return make_course(until="follow-up", days_ahead=-20)


def _ae(client, course, **values):
    data = {"term": "Febrile neutropenia", "grade": "3", "started_on": (timezone.localdate() - timedelta(days=6)).isoformat(),
            "ended_on": "", "attribution": "probable", "serious": "yes", "outcome": "recovering",
            "action_taken": "hospitalisation", "description": "38.9 C with ANC 0.1"}
    data.update(values)
    return post_adverse_event(client, course, data)


def test_dr_patel_records_an_sae_and_it_stays_highlighted_on_the_course_and_patient_pages_until_reviewed(login, course):
    client = login("patel")
    assert _ae(client, course).status_code == 302
    event = AdverseEvent.objects.get()
    assert event.serious
    assert event.needs_review
    for url in (f"/courses/{course.pk}/", f"/patients/{course.patient.pk}/", f"/followup/courses/{course.pk}/"):
        text = client.get(url).content.decode()
        assert "not yet reviewed" in text, url
        assert "Febrile neutropenia" in text, url
        assert f"/followup/adverse-events/{event.pk}/review/" in text, url

    # Nora the nurse sees the alert, but reviewing is the physician's.
    nurse = login("nora")
    assert "A physician must review it." in nurse.get(f"/courses/{course.pk}/").content.decode()
    assert nurse.get(f"/followup/adverse-events/{event.pk}/review/").status_code == 403

    # A wrong password signs nothing; the right one records who and when.
    client = login("okoye")
    url = f"/followup/adverse-events/{event.pk}/review/"
    response = client.post(url, {"form_token": form_token(client, url), "version": event.version,
                                 "note": "Expected toxicity; reported to the IRB.", "password": "wrong"})
    assert "password" in response.context["form"].errors
    assert not SaeReview.objects.exists()
    assert AuditEvent.objects.filter(action="refused", model="followup.AdverseEvent").exists()
    response = client.post(url, {"form_token": form_token(client, url), "version": event.version,
                                 "note": "Expected toxicity; reported to the IRB.", "password": PASSWORD})
    assert response.status_code == 302
    review = SaeReview.objects.get()
    assert (review.signed_name, review.ae_version, review.reviewed_by.username) == ("Dr Chidi Okoye, MD", 1, "okoye")
    assert AuditEvent.objects.filter(action="review", model="followup.SaeReview", object_id=str(review.pk)).exists()
    for url in (f"/courses/{course.pk}/", f"/patients/{course.patient.pk}/"):
        assert "not yet reviewed" not in client.get(url).content.decode(), url
    page = client.get(f"/followup/courses/{course.pk}/").content.decode()
    assert re.search(r'badge ok">reviewed</span> Dr Chidi Okoye, MD', page)


def test_changing_a_reviewed_sae_makes_a_new_version_that_needs_a_new_review(login, course, people):
    from mibg.web.followup import services

    client = login("patel")
    _ae(client, course)
    event = AdverseEvent.objects.get()
    services.review_sae(people["patel"], "Dr Asha Patel, MD", event, 1, "seen")
    url = f"/followup/adverse-events/{event.pk}/edit/"
    form = client.get(url).context["form"]
    assert form["serious"].value() == "yes"
    response = client.post(url, {"form_token": form["form_token"].value(), "version": "1", "term": "Febrile neutropenia",
                                 "grade": "4", "started_on": event.started_on.isoformat(), "ended_on": "",
                                 "attribution": "probable", "serious": "yes", "outcome": "recovering",
                                 "action_taken": "hospitalisation", "description": "sepsis, ICU"})
    assert response.status_code == 302
    event.refresh_from_db()
    assert (event.grade, event.version, event.needs_review) == (4, 2, True)
    assert AuditEvent.objects.filter(model="followup.AdverseEvent", action="update", field="grade", old_value="3",
                                     new_value="4").exists()
    assert "not yet reviewed" in client.get(f"/patients/{course.patient.pk}/").content.decode()
    # A review signed on the old version is refused.
    with pytest.raises(services.Refused):
        services.review_sae(people["patel"], "Dr Asha Patel, MD", event, 1, "seen")


@pytest.mark.parametrize(("values", "field"), [
    ({"ended_on": "2020-01-01"}, "ended_on"),
    ({"grade": "5", "outcome": "recovering"}, "outcome"),
    ({"grade": "5", "outcome": "fatal", "serious": "no"}, "serious"),
    ({"grade": "2", "outcome": "fatal"}, "grade"),
    ({"serious": ""}, "serious"),
    ({"grade": "6"}, "grade"),
    ({"term": ""}, "term"),
])
def test_an_inconsistent_adverse_event_is_refused_with_the_field_named(login, course, values, field):
    response = _ae(login("patel"), course, **values)
    assert response.status_code == 200
    assert field in response.context["form"].errors, response.context["form"].errors
    assert not AdverseEvent.objects.exists()


def test_nora_records_a_platelet_transfusion_and_can_void_it_with_a_reason(login, course):
    client = login("nora")
    url = f"/followup/courses/{course.pk}/transfusions/new/"
    when = (timezone.localtime() - timedelta(days=5)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(url, {"form_token": form_token(client, url), "product": "platelets", "given_at": when,
                                 "note": "apheresis unit"})
    assert response.status_code == 302
    transfusion = Transfusion.objects.get()
    assert transfusion.product == "platelets"
    assert "apheresis unit" in client.get(f"/followup/courses/{course.pk}/").content.decode()
    url = f"/followup/transfusions/{transfusion.pk}/void/"
    assert client.post(url, {"form_token": form_token(client, url), "reason": ""}).status_code == 200  # a reason is needed
    assert client.post(url, {"form_token": form_token(client, url), "reason": "wrong patient"}).status_code == 302
    transfusion.refresh_from_db()
    assert transfusion.voided
    assert transfusion.voided_by.username == "nora"


def test_dr_patel_scores_baseline_and_follow_up_mibg_scans_and_sees_the_relative_curie_score(login, course):
    client = login("patel")
    url = f"/followup/courses/{course.pk}/curie/new/"
    keys = ["head_face", "neck_back_spine", "ribs_sternum", "lumbar_sacral_spine", "pelvis", "arms", "forearms_hands",
            "thighs", "legs_feet", "soft_tissue"]
    baseline = dict(zip(keys, ["2", "2", "3", "2", "3", "1", "0", "2", "1", "2"], strict=True))  # 18
    follow_up = dict(zip(keys, ["1", "1", "2", "1", "1", "0", "0", "1", "0", "1"], strict=True))  # 8
    day = timezone.localdate()
    for timepoint, scores, scan in (("baseline", baseline, day - timedelta(days=30)), ("follow_up", follow_up, day)):
        response = client.post(url, {"form_token": form_token(client, url), "timepoint": timepoint,
                                     "scan_date": scan.isoformat(), **scores})
        assert response.status_code == 302
    assert [a.score.total for a in CurieAssessment.objects.order_by("scan_date")] == [18, 8]
    page = client.get(f"/followup/courses/{course.pk}/").content.decode()
    assert "Relative Curie score = follow-up / baseline = 8 / 18 = 0.44" in page
    # A score of 4 in a segment is refused.
    response = client.post(url, {"form_token": form_token(client, url), "timepoint": "follow_up",
                                 "scan_date": day.isoformat(), **{**follow_up, "pelvis": "4"}})
    assert "pelvis" in response.context["form"].errors
    assert CurieAssessment.objects.count() == 2


@pytest.mark.parametrize(("primary", "metastases", "marrow", "overall"), [
    ("PR", "PR", "CR", "PR"),
    ("CR", "SD", "CR", "MR"),
    ("SD", "PD", "CR", "PD"),
    ("CR", "CR", "MD", ""),  # not covered by the rules: needs a clinician's decision
])
def test_the_inrc_overall_response_is_derived_from_the_components_by_the_core(login, course, primary, metastases,
                                                                            marrow, overall):
    client = login("patel")
    url = f"/followup/courses/{course.pk}/inrc/new/"
    response = client.post(url, {"form_token": form_token(client, url), "assessed_on": timezone.localdate().isoformat(),
                                 "primary": primary, "metastases": metastases, "marrow": marrow})
    assert response.status_code == 302
    record = InrcAssessment.objects.get()
    assert record.overall == overall
    assert record.needs_review is (overall == "")
    # The stored shape (issue 11) is audited path by path: the overall response is its own record.
    assert AuditEvent.objects.filter(model="followup.InrcAssessment", action="create",
                                     field="result_json:overall").exists() or overall == ""


def test_the_marrow_cannot_be_in_partial_response(login, course):
    client = login("patel")
    url = f"/followup/courses/{course.pk}/inrc/new/"
    response = client.post(url, {"form_token": form_token(client, url), "assessed_on": timezone.localdate().isoformat(),
                                 "primary": "PR", "metastases": "PR", "marrow": "PR"})
    assert "marrow" in response.context["form"].errors
    assert not InrcAssessment.objects.exists()


def test_a_course_with_an_unreviewed_sae_cannot_be_closed_until_dr_patel_reviews_it(login, course):
    client = login("patel")
    assert _ae(client, course).status_code == 302
    event = AdverseEvent.objects.get()
    course.refresh_from_db()
    token = client.get(f"/courses/{course.pk}/").context["token"]
    refused = client.post(f"/courses/{course.pk}/step/close/", {"form_token": token, "version": course.version}, follow=True)
    assert b"serious adverse event" in refused.content
    course.refresh_from_db()
    assert course.state == "follow-up"

    url = f"/followup/adverse-events/{event.pk}/review/"
    client.post(url, {"form_token": form_token(client, url), "version": event.version,
                      "note": "Expected toxicity; reported to the IRB.", "password": PASSWORD})
    course.refresh_from_db()
    token = client.get(f"/courses/{course.pk}/").context["token"]
    client.post(f"/courses/{course.pk}/step/close/", {"form_token": token, "version": course.version})
    course.refresh_from_db()
    assert course.state == "closed"

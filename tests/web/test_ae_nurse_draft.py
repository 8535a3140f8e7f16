"""The nurse records an adverse event as a draft; the physician attributes and signs it (issue 15)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from clinic_helpers import PASSWORD, form_token, post_adverse_event
from mibg.web.audit.models import AuditEvent
from mibg.web.followup.models import AdverseEvent


@pytest.fixture
def course(make_course):
    return make_course(until="follow-up", days_ahead=-20)


def _ae(client, course, **values):
    data = {"term": "Vomiting", "grade": "2", "started_on": (timezone.localdate() - timedelta(days=4)).isoformat(),
            "ended_on": "", "attribution": "", "serious": "no", "outcome": "recovering",
            "action_taken": "treatment", "description": "ondansetron given"}
    data.update(values)
    return post_adverse_event(client, course, data)


def _sign(client, event, **values):
    url = f"/followup/adverse-events/{event.pk}/sign/"
    data = {"version": event.version, "attribution": "possible", "password": PASSWORD}
    data.update(values)
    return client.post(url, {"form_token": form_token(client, url), **data})


def test_nora_records_vomiting_as_a_draft_without_attribution_for_the_physician(login, course):
    nora = login("nora")
    assert _ae(nora, course).status_code == 302
    event = AdverseEvent.objects.get()
    assert (event.attribution, event.is_draft, event.recorded_by.username) == ("", True, "nora")
    page = nora.get(f"/followup/courses/{course.pk}/").content.decode()
    assert "draft: awaiting the physician's attribution" in page
    assert f"/followup/adverse-events/{event.pk}/sign/" not in page  # signing is the physician's
    assert AuditEvent.objects.filter(model="followup.AdverseEvent", action="create", note__contains="draft").exists()


def test_nora_may_not_attribute_an_event_herself_and_the_attribution_field_is_named(login, course):
    response = _ae(login("nora"), course, attribution="probable")
    assert response.status_code == 200
    assert "attribution" in response.context["form"].errors
    assert not AdverseEvent.objects.exists()


def test_dr_patel_recording_an_event_himself_must_attribute_it(login, course):
    response = _ae(login("patel"), course, attribution="")
    assert response.status_code == 200
    assert "attribution" in response.context["form"].errors
    assert not AdverseEvent.objects.exists()


def test_dr_patel_attributes_and_signs_noras_draft_with_his_password_and_it_is_audited(login, course):
    assert _ae(login("nora"), course).status_code == 302
    event = AdverseEvent.objects.get()
    patel = login("patel")
    assert f"/followup/adverse-events/{event.pk}/sign/" in patel.get(f"/followup/courses/{course.pk}/").content.decode()

    response = _sign(patel, event, password="wrong")
    assert "password" in response.context["form"].errors
    event.refresh_from_db()
    assert event.is_draft

    response = _sign(patel, event, attribution="")
    assert "attribution" in response.context["form"].errors

    assert _sign(patel, event).status_code == 302
    event.refresh_from_db()
    assert (event.attribution, event.is_draft, event.signed_by.username, event.version) == ("possible", False,
                                                                                            "patel", 2)
    assert event.signed_name
    assert AuditEvent.objects.filter(model="followup.AdverseEvent", object_id=str(event.pk),
                                     field="attribution", new_value="possible").exists()
    page = patel.get(f"/followup/courses/{course.pk}/").content.decode()
    assert f"signed by {event.signed_name}" in page


def test_nora_cannot_sign_and_cannot_change_an_attributed_event(login, course):
    assert _ae(login("nora"), course).status_code == 302
    event = AdverseEvent.objects.get()
    nora = login("nora")
    assert nora.get(f"/followup/adverse-events/{event.pk}/sign/").status_code == 403
    assert _sign(login("patel"), event).status_code == 302
    event.refresh_from_db()
    nora = login("nora")  # the test client is one browser: Nora logs in again after Dr Patel
    url = f"/followup/adverse-events/{event.pk}/edit/"
    response = nora.post(url, {"form_token": form_token(nora, url), "version": event.version, "term": "Vomiting",
                               "grade": "3", "started_on": event.started_on.isoformat(), "ended_on": "",
                               "attribution": "", "serious": "no", "outcome": "recovering",
                               "action_taken": "treatment", "description": ""})
    assert response.status_code == 200
    assert "An attributed adverse event is changed by a physician" in response.content.decode()
    event.refresh_from_db()
    assert (event.grade, event.attribution) == (2, "possible")
    url = f"/followup/adverse-events/{event.pk}/void/"
    response = nora.post(url, {"form_token": form_token(nora, url), "reason": "entered in error"}, follow=True)
    event.refresh_from_db()
    assert not event.voided, [str(m) for m in response.context["messages"]]
    assert "An attributed adverse event is voided by a physician" in response.content.decode()


def test_a_signed_draft_cannot_be_signed_twice(login, course):
    assert _ae(login("nora"), course).status_code == 302
    event = AdverseEvent.objects.get()
    patel = login("patel")
    assert _sign(patel, event).status_code == 302
    event.refresh_from_db()
    response = _sign(patel, event, attribution="probable")
    assert response.status_code == 200
    event.refresh_from_db()
    assert event.attribution == "possible"

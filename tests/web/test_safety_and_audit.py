"""Double submission, two people editing one record, and the audit trail that nobody can change."""

from __future__ import annotations

import pytest

from mibg.web.audit.models import AuditEvent, AuditImmutable
from mibg.web.patients.models import Patient


def _token(client, url):
    return client.get(url).context["form"]["form_token"].value()


def test_pressing_save_twice_creates_the_patient_once(login):
    client = login("nora")
    token = _token(client, "/patients/new/")
    data = {"form_token": token, "mrn": "DBL-1", "family_name": "Twice", "given_name": "Pat", "birth_date": "2018-01-01",
            "sex": "male"}
    client.post("/patients/new/", data)
    second = client.post("/patients/new/", {**data, "mrn": "DBL-2"}, follow=True)
    assert Patient.objects.filter(family_name="Twice").count() == 1
    assert b"already submitted" in second.content


def test_when_two_nurses_edit_the_same_patient_the_second_gets_a_conflict_and_nothing_is_overwritten(client, people, make_course):
    course = make_course()
    patient = course.patient
    client.force_login(people["nora"])
    first_form = client.get(f"/patients/{patient.pk}/edit/").context["form"]
    second_token = _token(client, f"/patients/{patient.pk}/edit/")
    base = {"mrn": patient.mrn, "given_name": patient.given_name, "birth_date": patient.birth_date.isoformat(),
            "sex": patient.sex, "version": patient.version}
    client.post(f"/patients/{patient.pk}/edit/", {**base, "form_token": first_form["form_token"].value(), "family_name": "First"})
    response = client.post(f"/patients/{patient.pk}/edit/", {**base, "form_token": second_token, "family_name": "Second"},
                           follow=True)
    patient.refresh_from_db()
    assert patient.family_name == "First"
    assert b"changed by someone else" in response.content


def test_two_people_saving_the_same_screening_the_second_is_refused(client, people, make_course):
    from clinic_helpers import form_post_data

    course = make_course()
    client.force_login(people["nora"])
    a = form_post_data(client.get(f"/courses/{course.pk}/screening/").context["form"])
    b = form_post_data(client.get(f"/courses/{course.pk}/screening/").context["form"])
    client.post(f"/courses/{course.pk}/screening/", {**a, "weight_kg": "22.5"})
    response = client.post(f"/courses/{course.pk}/screening/", {**b, "weight_kg": "23.5"}, follow=True)
    assert b"changed by someone else" in response.content
    course.refresh_from_db()
    assert '"weight_kg":"22.5"' in course.snapshot_json


def test_every_change_is_recorded_field_by_field_with_old_and_new_values(login, make_course):
    course = make_course()
    patient = course.patient
    client = login("patel")
    token = _token(client, f"/patients/{patient.pk}/edit/")
    client.post(f"/patients/{patient.pk}/edit/", {"form_token": token, "version": patient.version, "mrn": patient.mrn,
                                                  "family_name": "Renamed", "given_name": patient.given_name,
                                                  "birth_date": patient.birth_date.isoformat(), "sex": patient.sex})
    event = AuditEvent.objects.get(model="patients.Patient", action="update", field="family_name")
    assert (event.old_value, event.new_value, event.username) == (patient.family_name, "Renamed", "patel")
    assert event.at.utcoffset().total_seconds() == 0
    snapshot_fields = AuditEvent.objects.filter(model="courses.Course", field__startswith="snapshot_json:labs")
    assert snapshot_fields.exists()


def test_viewing_a_patient_is_recorded(login, make_course):
    course = make_course()
    login("morgan").get(f"/patients/{course.patient.pk}/")
    assert AuditEvent.objects.filter(action="view", username="morgan", patient=course.patient).exists()


def test_signatures_are_recorded_as_signatures(make_course):
    course = make_course(until="directive signed")
    sign = AuditEvent.objects.filter(action="sign", model="directives.WrittenDirective", patient=course.patient)
    assert sign.exists()
    assert "authorised user, direct the administration" in sign.first().note


def test_the_audit_trail_cannot_be_changed_or_deleted(make_course):
    make_course()
    event = AuditEvent.objects.first()
    event.note = "tampered"
    with pytest.raises(AuditImmutable):
        event.save()
    with pytest.raises(AuditImmutable):
        event.delete()
    with pytest.raises(AuditImmutable):
        AuditEvent.objects.filter(pk=event.pk).update(note="tampered")
    with pytest.raises(AuditImmutable):
        AuditEvent.objects.all().delete()


def test_the_admin_site_shows_the_audit_trail_read_only(client, people, make_course):
    make_course()
    client.force_login(people["admin"])
    event = AuditEvent.objects.first()
    page = client.get(f"/admin/audit/auditevent/{event.pk}/change/")
    assert page.status_code == 200
    assert b'name="_save"' not in page.content
    assert client.post(f"/admin/audit/auditevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403


def test_morgan_filters_the_audit_by_patient_user_and_date_and_exports_csv(login, make_course):
    from django.utils import timezone

    course = make_course()
    client = login("morgan")
    today = timezone.localdate().isoformat()
    page = client.get(f"/audit/?patient={course.patient.mrn}&user=nora&since={today}&until={today}")
    assert page.status_code == 200
    events = list(page.context["page"])
    assert events
    assert all(e.username == "nora" and e.patient_id == course.patient.pk for e in events)
    csv = client.get(f"/audit/?patient={course.patient.mrn}&format=csv")
    body = b"".join(csv.streaming_content).decode()
    assert body.splitlines()[0].startswith("at_utc,username,action")
    assert course.patient.mrn in body
    assert AuditEvent.objects.filter(action="export", username="morgan").exists()
    assert login("nora").get("/audit/").status_code == 403


def test_a_backwards_date_range_is_a_clear_error(login, db, people):
    page = login("morgan").get("/audit/?since=2026-05-02&until=2026-05-01")
    assert b"is after" in page.content

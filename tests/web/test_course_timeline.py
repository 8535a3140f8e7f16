"""The time line of a course at every door (decisions.md A29): the form and the API get the same refusal from
the one chronology rule, naming the field and the time it conflicts with, and nothing is stored."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from mibg.core.administration import administered_activity
from mibg.web.accounts.models import ApiToken
from mibg.web.audit.models import AuditEvent
from mibg.web.treatment.models import Administration, Assay, administration_fields


@pytest.fixture
def api(client, people):
    class Caller:
        def __init__(self, name):
            _token, self.raw = ApiToken.issue(people[name], "tests")

        def get(self, path):
            return client.get(f"/api{path}", HTTP_AUTHORIZATION=f"Bearer {self.raw}")

        def post(self, path, body):
            return client.post(f"/api{path}", data=json.dumps(body), content_type="application/json",
                               HTTP_AUTHORIZATION=f"Bearer {self.raw}")

    return Caller


def local(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def aware(moment) -> str:
    return timezone.localtime(moment).isoformat()


def token(client, url):
    return client.get(url).context["form"]["form_token"].value()


def assay_form(client, course, measured_at):
    t = course.planned_treatment_date
    return {"form_token": token(client, f"/courses/{course.pk}/assay/"), "version": course.version, "lot": "L-1",
            "calibration_time": f"{t}T07:00", "specific_activity": "12", "measured_mci": "396",
            "measured_at": local(measured_at), "calibrator_id": "CRC-1"}


def administration_body(start, patient):
    return {"patient_name": f"{patient.given_name} {patient.family_name}", "patient_mrn": patient.mrn, "started_at": start, "ended_at": start + timedelta(minutes=100), "route": "central_line",
            "volume_ml": "50", "residual_mci": "2.5", "residual_measured_at": start + timedelta(minutes=110)}


def test_riley_s_assay_three_days_ahead_is_refused_at_the_form_and_the_api_in_the_same_words(login, api, make_course):
    course = make_course(until="verified", days_ahead=3)
    ahead = timezone.now() + timedelta(days=3)
    client, caller = login("riley"), api("riley")
    data = assay_form(client, course, ahead)
    events = AuditEvent.objects.exclude(action__in=["view", "refused", "login"]).count()
    page = client.post(f"/courses/{course.pk}/assay/", data)
    form_error = " ".join(page.context["form"].errors["measured_at"])
    response = caller.post(f"/courses/{course.pk}/assays", {
        "version": course.version, "lot": "L-1", "calibration_time": aware(ahead), "specific_activity": "12",
        "measured_mci": "396", "measured_at": aware(ahead.replace(second=0, microsecond=0)), "calibrator_id": "CRC-1"})
    assert response.status_code == 422
    assert response.json()["field"] == "measured_at"
    assert "is in the future" in form_error
    assert "decisions.md A29" in form_error
    assert response.json()["message"] == form_error  # one service, one refusal
    assert not Assay.objects.filter(course=course).exists()
    assert AuditEvent.objects.exclude(action__in=["view", "refused", "login"]).count() == events


def test_nora_s_administration_before_the_directive_was_signed_is_refused_naming_the_signature(login, api, make_course):
    course = make_course(until="assayed", days_ahead=-1)
    directive = course.directives.get()
    start = directive.signed_at - timedelta(hours=2)  # the demo signs the day before, at 16:00
    client = login("nora")
    data = {"form_token": token(client, f"/courses/{course.pk}/administration/"), "version": course.version,
            **{k: local(v) if k.endswith("_at") else v for k, v in administration_body(start, course.patient).items()}}
    page = client.post(f"/courses/{course.pk}/administration/", data)
    form_error = " ".join(page.context["form"].errors["started_at"])
    response = api("nora").post(f"/courses/{course.pk}/administrations", {
        "version": course.version, **{k: aware(v) if k.endswith("_at") else v for k, v in administration_body(start, course.patient).items()}})
    assert response.status_code == 422
    assert response.json()["field"] == "started_at"
    signed = timezone.localtime(directive.signed_at).strftime("%Y-%m-%d %H:%M")
    assert f"before the written directive's signature ({signed}" in form_error
    assert response.json()["message"] == form_error
    assert not Administration.objects.filter(course=course).exists()
    course.refresh_from_db()
    assert course.state == "assayed"


def test_an_administration_four_days_after_the_planned_date_is_refused_three_days_after_is_accepted(api, make_course):
    # planned date t = today - 5; assay at t 07:30; days off = 4 -> outside +/- 3 (A29); 3 -> inside.
    late = make_course(until="assayed", days_ahead=-5)
    planned = timezone.localtime(late.directives.get().administration_time)
    body = {k: aware(v) if k.endswith("_at") else v for k, v in administration_body(planned + timedelta(days=4), late.patient).items()}
    refused = api("nora").post(f"/courses/{late.pk}/administrations", {"version": late.version, **body})
    assert refused.status_code == 409, refused.content
    assert refused.json()["field"] == "started_at"
    assert "4 days after the directive's planned date" in refused.json()["message"]
    body = {k: aware(v) if k.endswith("_at") else v for k, v in administration_body(planned + timedelta(days=3), late.patient).items()}
    accepted = api("nora").post(f"/courses/{late.pk}/administrations", {"version": late.version, **body})
    assert accepted.status_code == 201, accepted.content


# ---- corrections (decisions.md A37) -----------------------------------------------------------------------


def test_an_infusion_recorded_seven_days_ahead_no_longer_blocks_the_course_nora_corrects_it(api, people, make_course):
    """The issue's case: an infusion entered 7 days ahead (before the rule) refused every later reading as "in the
    future" and could not be corrected. The correction supersedes it; the old record stays; readings go on."""
    from mibg.web.radiation import services as radiation

    course = make_course(until="administered", days_ahead=-2)
    given = course.administrations.get()
    wrong_start = given.started_at + timedelta(days=7)
    assay = given.assay
    wrong = administered_activity(given.directive.activity, assay.measured_mci, assay.measured_at, given.residual_mci,
                                  wrong_start + timedelta(minutes=110), wrong_start)
    Administration.objects.filter(pk=given.pk).update(  # as stored before the rule existed
        ended_at=wrong_start + timedelta(minutes=100), **administration_fields(wrong))
    reading = radiation.ReadingInput(given.started_at + timedelta(hours=2), Decimal("58"), None, True, "Ludlum 9-3",
                                     timezone.localdate() + timedelta(days=90), "Sam Okafor, PhD")
    with pytest.raises(radiation.BadEntry):  # the reading is before the (wrong) start
        radiation.record_reading(people["sam"], course, reading)
    body = {k: aware(v) if k.endswith("_at") else v for k, v in administration_body(given.started_at, course.patient).items()}
    no_reason = api("nora").post(f"/administrations/{given.pk}/corrections", {"version": course.version, **body, "reason": " "})
    assert no_reason.status_code == 422
    assert no_reason.json()["field"] == "reason"
    corrected = api("nora").post(f"/administrations/{given.pk}/corrections",
                                 {"version": course.version, **body, "reason": "entered with the wrong date"})
    assert corrected.status_code == 201, corrected.content
    assert corrected.json()["supersedes_id"] == given.pk
    old = Administration.history.get(pk=given.pk)
    assert old.superseded  # kept, marked, not edited
    assert old.started_at == wrong_start
    assert course.administrations.get().pk == corrected.json()["id"]
    radiation.record_reading(people["sam"], course, reading)  # the course goes on
    listed = api("morgan").get(f"/courses/{course.pk}/administrations").json()
    assert {a["superseded"] for a in listed} == {True, False}  # the old entry stays visible


def test_riley_corrects_an_assay_outside_tolerance_and_the_override_is_needed_again(login, make_course, people):
    """A37: a signed record that a correction changes needs signing again: the override stays with the old assay."""
    from mibg.web.treatment import services as treatment

    course = make_course(until="verified", days_ahead=-1)
    t = course.planned_treatment_date
    entry = treatment.AssayInput("L-1", timezone.make_aware(datetime(t.year, t.month, t.day, 7)), Decimal("12"),
                                 Decimal("480.1"), timezone.make_aware(datetime(t.year, t.month, t.day, 9)), "CRC-1")
    first = treatment.record_assay(people["riley"], course, course.version, entry)
    assert not first.accepted
    course.refresh_from_db()
    treatment.override_assay(people["patel"], "Dr Asha Patel, MD", first, course.version, "vial calibrated high")
    course.refresh_from_db()
    assert course.state == "assayed"
    client = login("riley")
    page = client.get(f"/assays/{first.pk}/correct/")
    data = {**page.context["form"].initial, "form_token": page.context["form"]["form_token"].value()}
    data = {k: (local(v) if k.endswith(("_at", "_time")) else v) for k, v in data.items()}
    data.update({"measured_mci": "480.2", "reason": "the last digit was misread", "version": course.version})
    response = client.post(f"/assays/{first.pk}/correct/", data)
    assert response.status_code == 302, response.context["form"].errors if response.context else response
    new = course.assays.get()
    assert new.supersedes_id == first.pk
    assert new.correction_reason == "the last digit was misread"
    assert not new.accepted  # outside 20 %, and the old override does not carry over
    assert Assay.history.get(pk=first.pk).override_at is not None
    with pytest.raises(treatment.Refused):
        treatment.record_administration(people["nora"], course, course.version, treatment.AdministrationInput(
            *[timezone.now()] * 2, "central_line", Decimal("50"), Decimal("1"), timezone.now()))
    detail = login("morgan").get(f"/courses/{course.pk}/").content.decode()
    assert "superseded" in detail
    assert "the last digit was misread" in detail


# ---- independent verification (decisions.md A36) ----------------------------------------------------------


def test_sam_signs_the_verification_and_after_three_mismatches_it_stops_and_goes_to_dr_patel(login, make_course):
    from clinic_helpers import PASSWORD

    course = make_course(until="directive signed")
    client = login("sam")

    def attempt(weight, password=PASSWORD):
        page = client.get(f"/courses/{course.pk}/verify/")
        return client.post(f"/courses/{course.pk}/verify/", {
            "form_token": page.context["form"]["form_token"].value(), "version": course.version, "weight_kg": weight,
            "mci_per_kg": "18", "password": password})

    unsigned = attempt("22.0", password="wrong")
    assert "password" in unsigned.context["form"].errors
    for n in (1, 2):
        response = attempt("22.5")
        assert "The entries differ" in response.content.decode()
        assert "weight" not in " ".join(m.message for m in response.context["messages"])
        assert f"{3 - n} more attempt" in response.content.decode()
    stopped = attempt("22.5")
    assert stopped.status_code == 302
    again = client.get(f"/courses/{course.pk}/verify/", follow=True)
    assert "stopped after 3 entries" in again.content.decode()
    course.refresh_from_db()
    assert course.state == "directive signed"
    assert course.directives.get().verifications.count() == 3  # the wrong password signed nothing


def test_an_administration_with_a_wrong_date_of_birth_is_stopped_at_both_doors(login, api, make_course):
    course = make_course(until="assayed", days_ahead=-1)
    start = timezone.localtime(course.directives.get().administration_time)
    body = administration_body(start, course.patient)
    body.pop("patient_mrn")
    body["patient_birth_date"] = (course.patient.birth_date + timedelta(days=1)).isoformat()
    response = api("nora").post(f"/courses/{course.pk}/administrations",
                                {"version": course.version, **{k: aware(v) if k.endswith("_at") else v for k, v in body.items()}})
    assert response.status_code == 422
    assert response.json()["field"] == "patient_birth_date"
    client = login("nora")
    data = {"form_token": token(client, f"/courses/{course.pk}/administration/"), "version": course.version,
            **{k: local(v) if k.endswith("_at") else v for k, v in body.items()}}
    page = client.post(f"/courses/{course.pk}/administration/", data)
    assert " ".join(page.context["form"].errors["patient_birth_date"]) == response.json()["message"]
    assert not Administration.history.filter(course=course).exists()


# ---- stem-cell rescue (decisions.md A31) -------------------------------------------------------------------


@pytest.mark.parametrize(("day", "needs_reason"), [(9, True), (10, False), (11, False)])
def test_a_stem_cell_infusion_before_day_plus_ten_needs_the_treating_physician_s_reason(people, make_course, day,
                                                                                       needs_reason):
    from mibg.web.radiation import services as radiation

    course = make_course(until="administered", days_ahead=-20)
    start = timezone.localtime(course.administrations.get().started_at)
    entry = radiation.StemCellInput(start + timedelta(days=day), "pbsc", "PBSC bag 1", Decimal("3200000"), "Nora Diaz, RN")
    if needs_reason:
        with pytest.raises(radiation.BadEntry) as error:
            radiation.record_stem_cells(people["nora"], course, entry)
        assert f"day +{day}" in error.value.errors["early_reason"]
        assert "planned day is +14" in error.value.errors["early_reason"]
        entry = radiation.StemCellInput(entry.infused_at, "pbsc", "PBSC bag 1", Decimal("3200000"), "Nora Diaz, RN",
                                        early_reason="ANC 0.0 since day 3, febrile", early_reason_by="Dr Asha Patel, MD")
    infusion = radiation.record_stem_cells(people["nora"], course, entry)
    assert (infusion.early_reason != "") is needs_reason


def test_nora_corrects_a_platelet_count_and_the_old_result_stays_voided_as_superseded(api, make_course):
    from mibg.web.followup.models import LabResult

    course = make_course(until="follow-up", days_ahead=-20)
    collected = aware(course.administrations.get().started_at + timedelta(days=5))
    stored = api("nora").post(f"/courses/{course.pk}/labs", {"test": "platelets", "value": "240", "unit": "10^9/L",
                                                             "lln": "150", "collected_at": collected})
    assert stored.status_code == 201, stored.content
    body = {"test": "platelets", "value": "24", "unit": "10^9/L", "lln": "150", "collected_at": collected}
    assert api("nora").post(f"/labs/{stored.json()['id']}/corrections", {**body, "reason": ""}).json()["field"] == "reason"
    corrected = api("nora").post(f"/labs/{stored.json()['id']}/corrections", {**body, "reason": "a zero too many"})
    assert corrected.status_code == 201, corrected.content
    old = LabResult.objects.get(pk=stored.json()["id"])
    assert old.value == "240"  # not edited
    assert old.void_reason == "superseded by a correction: a zero too many"
    assert old.superseded_by.value == "24"
    assert LabResult.objects.live().filter(course=course, test="platelets").count() == 1


def test_nora_corrects_the_stem_cell_infusion_time_on_the_form_and_the_old_record_stays_superseded(login, people,
                                                                                                   make_course):
    from mibg.web.radiation import services as radiation
    from mibg.web.radiation.models import StemCellInfusion

    course = make_course(until="administered", days_ahead=-20)
    start = timezone.localtime(course.administrations.get().started_at)
    first = radiation.record_stem_cells(people["nora"], course, radiation.StemCellInput(
        start + timedelta(days=14), "pbsc", "PBSC bag 1", Decimal("3200000"), "Nora Diaz, RN"))
    client = login("nora")
    url = f"/stem-cells/{first.pk}/correct/"
    page = client.get(url)
    data = {"form_token": page.context["form"]["form_token"].value(), "infused_at": local(start + timedelta(days=9)),
            "product_type": "pbsc", "product": "PBSC bag 1", "cells_per_kg": "3200000", "given_by": "Nora Diaz, RN",
            "reason": "entered on the wrong day"}
    early = client.post(url, data)  # day +9: the treating physician's reason is needed (A31)
    assert "early_reason" in early.context["form"].errors
    data.update(form_token=client.get(url).context["form"]["form_token"].value(), early_reason="febrile neutropenia",
                early_reason_by="Dr Asha Patel, MD")
    assert client.post(url, data).status_code == 302
    old = StemCellInfusion.history.get(pk=first.pk)
    assert old.superseded
    assert old.infused_at == first.infused_at  # kept as recorded
    new = course.stem_cell_infusions.get()
    assert (new.supersedes_id, new.correction_reason, new.early_reason) == (first.pk, "entered on the wrong day",
                                                                           "febrile neutropenia")
    section = client.get(f"/courses/{course.pk}/", follow=True).content.decode()
    assert "superseded" in section
    assert "febrile neutropenia" in section

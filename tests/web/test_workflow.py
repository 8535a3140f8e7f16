"""The clinic's workflow through the pages: screening, chair decision, directive, verification, assay,
administration, possible medical event, and the steps to closing."""

from __future__ import annotations

import math
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from clinic_helpers import PASSWORD, form_post_data
from mibg.web.courses.models import Course
from mibg.web.directives.models import WrittenDirective
from mibg.web.treatment.models import Administration, Assay


def _token(client, url):
    return client.get(url).context["form"]["form_token"].value()


def bedside(course):
    """The two identifiers read on the wristband (decisions.md A36)."""
    p = course.patient
    return {"patient_name": f"{p.given_name} {p.family_name}", "patient_birth_date": p.birth_date.isoformat()}


def _local(dt):
    return timezone.localtime(dt).strftime("%Y-%m-%dT%H:%M")


def test_nora_the_nurse_creates_a_patient_and_a_course_and_lands_on_the_screening_form(login):
    client = login("nora")
    token = _token(client, "/patients/new/")
    response = client.post("/patients/new/", {"form_token": token, "mrn": "MRN-77", "family_name": "Okafor",
                                               "given_name": "Ada", "birth_date": "2019-05-02", "sex": "female"})
    assert response.status_code == 302
    page = client.get(response["Location"])
    assert b"OKAFOR, Ada" in page.content
    token = page.context["new_course_token"]
    response = client.post(response["Location"] + "courses/new/", {"form_token": token})
    assert "/screening/" in response["Location"]
    assert b"Screening data" in client.get(response["Location"]).content


def test_a_patient_with_a_bad_birth_date_and_a_duplicate_mrn_gets_errors_naming_the_fields(login, make_course):
    course = make_course()
    client = login("nora")
    token = _token(client, "/patients/new/")
    response = client.post("/patients/new/", {"form_token": token, "mrn": course.patient.mrn, "family_name": "X",
                                               "given_name": "Y", "birth_date": "2019-02-30", "sex": "female"})
    assert response.status_code == 200
    assert "mrn" in response.context["form"].errors
    assert "birth_date" in response.context["form"].errors


def test_the_screening_form_opens_prefilled_and_saving_it_stores_the_snapshot_and_an_evaluation(login, make_course):
    course = make_course()  # screened by the demo loader: eligible
    client = login("nora")
    page = client.get(f"/courses/{course.pk}/screening/")
    form = page.context["form"]
    assert form["weight_kg"].value() == "22.0"
    assert b'id="f-labs.anc"' in page.content
    data = form_post_data(form)
    data["labs.0.value"] = "0.6"  # ANC below 0.75: H1 not met
    response = client.post(f"/courses/{course.pk}/screening/", data)
    assert response.status_code == 302, response.context["form"].errors if response.context else ""
    course.refresh_from_db()
    evaluation = course.evaluations.order_by("-id").first()
    assert evaluation.overall == "not eligible"
    assert '"value":"0.6"' in evaluation.snapshot_json
    result = client.get(response["Location"])
    assert b"H1" in result.content
    assert b"absolute neutrophil count (ANC) &gt;.750 x 10E9/L" in result.content  # the record's wording


def test_an_unknown_criterion_links_to_the_missing_field_on_the_form(login, make_course):
    course = make_course()
    client = login("nora")
    form = client.get(f"/courses/{course.pk}/screening/").context["form"]
    data = {k: v for k, v in form_post_data(form).items() if not k.startswith("consent.")}
    response = client.post(f"/courses/{course.pk}/screening/", data)
    result = client.get(response["Location"])
    assert result.context["evaluation"].overall == "incomplete"
    assert f'/courses/{course.pk}/screening/#f-consent'.encode() in result.content
    anchors = client.get(f"/courses/{course.pk}/screening/").content
    assert b'id="f-consent"' in anchors


@pytest.mark.parametrize(("field", "value", "message"), [
    ("weight_kg", "abc", b"Enter a number"),
    ("labs.0.unit", "furlongs", b"not an accepted unit"),
    ("labs.0.collected_at", "2026-13-45T10:00", b"Enter a valid date/time"),
    ("performance.score", "140", b"less than or equal to 100"),
])
def test_bad_screening_input_is_refused_with_the_field_named_and_nothing_is_saved(login, make_course, field, value, message):
    course = make_course()
    client = login("nora")
    data = form_post_data(client.get(f"/courses/{course.pk}/screening/").context["form"])
    data[field] = value
    evaluations = course.evaluations.count()
    response = client.post(f"/courses/{course.pk}/screening/", data)
    assert response.status_code == 200
    assert field in response.context["form"].errors, response.context["form"].errors
    assert message in response.content
    assert course.evaluations.count() == evaluations


def test_dr_chen_the_chair_clears_a_needs_review_criterion_with_a_signed_reason(login, make_course, people):
    course = make_course()
    client = login("nora")
    data = form_post_data(client.get(f"/courses/{course.pk}/screening/").context["form"])
    data["labs.1.value"] = "14"  # platelets 14 < 20 with stem cells: H3 fails
    data["attestations.cytopenia_due_to_marrow_metastasis.value"] = "yes"
    data["attestations.cytopenia_due_to_marrow_metastasis.by"] = "Dr Asha Patel, MD"
    data["attestations.cytopenia_due_to_marrow_metastasis.at"] = _local(timezone.now() - timedelta(hours=1))
    client.post(f"/courses/{course.pk}/screening/", data)
    assert course.evaluations.order_by("-id").first().overall == "needs review"

    chair = login("chen")
    token = _token(chair, f"/courses/{course.pk}/chair/")
    wrong = chair.post(f"/courses/{course.pk}/chair/", {"form_token": token, "criterion": "H3", "cleared": "yes",
                                                        "reason": "marrow disease", "password": "wrong"})
    assert b"password does not match" in wrong.content
    response = chair.post(f"/courses/{course.pk}/chair/", {"form_token": token, "criterion": "H3", "cleared": "yes",
                                                           "reason": "thrombocytopenia from marrow disease", "password": PASSWORD})
    assert response.status_code == 302
    latest = course.evaluations.order_by("-id").first()
    assert latest.overall == "eligible"
    h3 = next(c for c in latest.eligibility.to_json()["criteria"] if c["id"] == "H3")
    assert "Dr Wei Chen" in h3["cleared_by"]


def test_only_an_eligible_evaluation_lets_dr_patel_confirm_eligibility(login, make_course):
    course = make_course()
    client = login("nora")
    data = {k: v for k, v in form_post_data(client.get(f"/courses/{course.pk}/screening/").context["form"]).items()
            if not k.startswith("consent.")}
    client.post(f"/courses/{course.pk}/screening/", data)
    physician = login("patel")
    token = physician.get(f"/courses/{course.pk}/").context["token"]
    course.refresh_from_db()
    response = physician.post(f"/courses/{course.pk}/step/confirm_eligibility/", {"form_token": token, "version": course.version},
                              follow=True)
    assert b"needs a latest screening evaluation that is eligible" in response.content
    course.refresh_from_db()
    assert course.state == "screening"


def _directive_data(course, token, **changes):
    t = course.planned_treatment_date
    data = {"form_token": token, "version": course.version, "mci_per_kg": "18", "preparation": "draximage",
            "specific_activity": "12", "final_volume_ml": "50", "infusion_min": "100", "route": "central_line",
            "calibration_time": f"{t}T07:00", "administration_time": f"{t}T09:00", "confirm": "on", "password": PASSWORD}
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_dr_patel_sees_the_plan_recalculated_with_every_finding_and_activity_in_mci_and_mbq(login, make_course):
    course = make_course(until="eligible")
    client = login("patel")
    token = _token(client, f"/courses/{course.pk}/directive/")
    response = client.post(f"/courses/{course.pk}/directive/preview/", _directive_data(course, token), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    text = response.content.decode()
    assert "396.0 mCi (14652 MBq, 14.652 GBq)" in text
    assert "R1" in text
    assert "A = weight x dose = 22.0 kg x 18 mCi/kg" in text
    blocked = client.post(f"/courses/{course.pk}/directive/preview/", _directive_data(course, token, mci_per_kg="19"))
    assert 'id="plan-status">blocked' in blocked.content.decode()
    bad = client.post(f"/courses/{course.pk}/directive/preview/", _directive_data(course, token, final_volume_ml="lots"))
    assert b"final_volume_ml" in bad.content


def test_a_blocked_plan_cannot_be_signed(login, make_course):
    course = make_course(until="eligible")
    client = login("patel")
    token = _token(client, f"/courses/{course.pk}/directive/")
    response = client.post(f"/courses/{course.pk}/directive/", _directive_data(course, token, mci_per_kg="19"))
    assert response.status_code == 200
    assert b"cannot be signed" in response.content
    assert not WrittenDirective.objects.filter(course=course).exists()


def test_signing_needs_the_password_and_records_the_name_time_and_meaning(login, make_course):
    course = make_course(until="eligible")
    client = login("patel")
    token = _token(client, f"/courses/{course.pk}/directive/")
    wrong = client.post(f"/courses/{course.pk}/directive/", _directive_data(course, token, password="nope"))
    assert b"password does not match" in wrong.content
    assert not WrittenDirective.objects.filter(course=course).exists()
    response = client.post(f"/courses/{course.pk}/directive/", _directive_data(course, token))
    assert response.status_code == 302
    directive = WrittenDirective.objects.get(course=course)
    assert directive.activity_mci == Decimal("396")
    assert directive.signature_meaning.startswith("I, Dr Asha Patel, MD, authorised user, direct the administration of 396.0 mCi")
    course.refresh_from_db()
    assert course.state == "directive signed"


def test_a_second_submission_of_the_signed_form_signs_nothing_twice(login, make_course):
    course = make_course(until="eligible")
    client = login("patel")
    token = _token(client, f"/courses/{course.pk}/directive/")
    client.post(f"/courses/{course.pk}/directive/", _directive_data(course, token))
    again = client.post(f"/courses/{course.pk}/directive/", _directive_data(course, token), follow=True)
    assert WrittenDirective.objects.filter(course=course).count() == 1
    assert b"already submitted" in again.content or b"changed by someone else" in again.content


def test_a_changed_directive_is_a_new_version_and_voids_the_old_signature(login, make_course):
    course = make_course(until="verified")
    client = login("patel")
    token = _token(client, f"/courses/{course.pk}/directive/")
    no_reason = client.post(f"/courses/{course.pk}/directive/", _directive_data(course, token, mci_per_kg="15"))
    assert b"needs the reason" in no_reason.content
    response = client.post(f"/courses/{course.pk}/directive/",
                           _directive_data(course, token, mci_per_kg="15", change_reason="platelets fell"))
    assert response.status_code == 302
    v1, v2 = WrittenDirective.objects.filter(course=course).order_by("version")
    assert v1.status == "void"
    assert "platelets fell" in v1.void_reason
    assert v2.status == "signed"
    assert v2.activity_mci == Decimal("330")
    course.refresh_from_db()
    assert course.state == "directive signed"  # verified against v1 no longer counts


def test_sam_the_physicist_verifies_without_seeing_the_numbers_and_a_mismatch_is_refused(login, make_course):
    course = make_course(until="directive signed", weight="19.35", mci_per_kg="15")
    client = login("sam")
    page = client.get(f"/courses/{course.pk}/verify/")
    assert b"19.35" not in page.content
    assert b"290.25" not in page.content
    assert b"19.35" not in client.get(f"/courses/{course.pk}/").content
    token = page.context["form"]["form_token"].value()
    response = client.post(f"/courses/{course.pk}/verify/", {"form_token": token, "version": course.version,
                                                             "weight_kg": "19.3", "mci_per_kg": "15",
                                                             "password": PASSWORD})
    assert b"The entries differ from the written directive" in response.content
    course.refresh_from_db()
    assert course.state == "directive signed"
    token = response.context["form"]["form_token"].value()
    response = client.post(f"/courses/{course.pk}/verify/", {"form_token": token, "version": course.version,
                                                             "weight_kg": "19.350", "mci_per_kg": "15.0",
                                                             "password": PASSWORD})
    assert response.status_code == 302
    course.refresh_from_db()
    assert course.state == "verified"


def test_the_physician_who_signed_cannot_verify_her_own_directive(people, make_course):
    from mibg.core.errors import InputError
    from mibg.web.directives.services import verify_directive

    course = make_course(until="directive signed")
    with pytest.raises(InputError, match="cannot verify"):
        verify_directive(people["patel"], course, course.version, "22.0", "18", "Dr Asha Patel, MD")


def test_riley_the_pharmacist_records_an_assay_outside_20_percent_and_the_administration_is_stopped(login, make_course):
    course = make_course(until="verified", days_ahead=-1)
    client = login("riley")
    page = client.get(f"/courses/{course.pk}/assay/")
    token = page.context["form"]["form_token"].value()
    t = course.planned_treatment_date
    data = {"form_token": token, "version": course.version, "lot": "LSA-1", "calibration_time": f"{t}T07:00",
            "specific_activity": "12", "measured_mci": "480.1", "measured_at": f"{t}T09:00", "calibrator_id": "CRC-1"}
    client.post(f"/courses/{course.pk}/assay/", data)
    course.refresh_from_db()
    assert course.state == "verified"
    assay = Assay.objects.get(course=course)
    assert not assay.within_tolerance
    assert "stopped" in assay.message
    physician = login("patel")
    token = _token(physician, f"/assays/{assay.pk}/override/")
    response = physician.post(f"/assays/{assay.pk}/override/", {"form_token": token, "version": course.version,
                                                                "reason": "vial calibrated high; dose confirmed", "password": PASSWORD})
    assert response.status_code == 302
    course.refresh_from_db()
    assert course.state == "assayed"


def test_an_assay_at_exactly_20_percent_is_accepted(login, make_course):
    course = make_course(until="verified", days_ahead=-1)
    client = login("riley")
    token = _token(client, f"/courses/{course.pk}/assay/")
    t = course.planned_treatment_date
    client.post(f"/courses/{course.pk}/assay/", {"form_token": token, "version": course.version, "lot": "L", "calibration_time": f"{t}T07:00",
                                                 "specific_activity": "12", "measured_mci": "475.2", "measured_at": f"{t}T09:00",
                                                 "calibrator_id": "CRC-1"})
    course.refresh_from_db()
    assert course.state == "assayed"
    assert Assay.objects.get(course=course).deviation_percent == Decimal("20.000")


def test_nora_records_an_administration_with_20_percent_less_and_a_possible_medical_event_stays_open(login, make_course, people):
    course = make_course(until="assayed", days_ahead=-1)
    assay = Assay.objects.get(course=course)
    client = login("nora")
    token = _token(client, f"/courses/{course.pk}/administration/")
    start = timezone.localtime(course.directives.get().administration_time)
    data = {"form_token": token, "version": course.version, "started_at": _local(start),
            "ended_at": _local(start + timedelta(minutes=100)), "route": "central_line", "volume_ml": "50",
            "residual_mci": "0", "residual_measured_at": _local(start + timedelta(minutes=110)),
            **bedside(course)}
    # residual such that administered is exactly 80 % of 396 mCi: pre-assay (corrected) - 79.2 mCi, decayed from t+110 min
    from mibg.core.decay import decay_correct
    from mibg.core.units import Activity
    from mibg.protocol import load_protocol

    half_life = load_protocol().constant("i131_half_life_days")
    pre = decay_correct(assay.measured, assay.measured_at, start, half_life).activity_to.mci
    need = pre - Decimal("316.8")  # at the administration time
    residual = decay_correct(Activity(need), start, start + timedelta(minutes=110), half_life).activity_to.mci
    data["residual_mci"] = str(residual.quantize(Decimal("0.001")))
    response = client.post(f"/courses/{course.pk}/administration/", data)
    assert response.status_code == 302
    administration = Administration.objects.get(course=course)
    assert administration.possible_medical_event
    page = client.get(f"/courses/{course.pk}/")
    assert b"Possible medical event" in page.content
    # The course cannot close while it is open.
    from mibg.web.course_record import take_step

    for event, who in (("admit", "nora"), ("release", "sam"), ("start_follow_up", "patel")):
        course.refresh_from_db()
        if event == "release":  # signed on the radiation-safety pages from readings; here the step itself
            take_step(people["sam"], course, "release", course.version)
            continue
        c = login(who)
        c.post(f"/courses/{course.pk}/step/{event}/", {"form_token": c.get(f"/courses/{course.pk}/").context["token"],
                                                       "version": course.version})
    course.refresh_from_db()
    assert course.state == "follow-up"
    physician = login("patel")
    token = physician.get(f"/courses/{course.pk}/").context["token"]
    closing = physician.post(f"/courses/{course.pk}/step/close/", {"form_token": token, "version": course.version}, follow=True)
    assert b"35.3045" in closing.content
    token = _token(physician, f"/administrations/{administration.pk}/review/")
    physician.post(f"/administrations/{administration.pk}/review/", {"form_token": token, "reason": "residual in line; reported to RSO",
                                                                     "password": PASSWORD})
    token = physician.get(f"/courses/{course.pk}/").context["token"]
    course.refresh_from_db()
    physician.post(f"/courses/{course.pk}/step/close/", {"form_token": token, "version": course.version})
    course.refresh_from_db()
    assert course.state == "closed"


def test_the_administration_form_refuses_an_end_before_the_start(login, make_course):
    course = make_course(until="assayed", days_ahead=-1)
    client = login("nora")
    token = _token(client, f"/courses/{course.pk}/administration/")
    t = course.planned_treatment_date
    response = client.post(f"/courses/{course.pk}/administration/", {
        "form_token": token, "version": course.version, "started_at": f"{t}T10:00", "ended_at": f"{t}T09:00",
        "route": "central_line", "volume_ml": "50", "residual_mci": "1", "residual_measured_at": f"{t}T11:00",
        **bedside(course)})
    assert response.status_code == 200
    assert "ended_at" in response.context["form"].errors
    assert not Administration.objects.filter(course=course).exists()


def test_the_patient_page_shows_every_course_the_cumulative_dose_and_what_is_due(login, make_course, people):
    from mibg.web.courses import services

    first = make_course(until="closed", days_ahead=-240, weight="28.0", mci_per_kg="12")
    second = services.create_course(people["nora"], first.patient)
    client = login("morgan")
    page = client.get(f"/patients/{first.patient.pk}/")
    text = page.content.decode()
    assert "Course 1" in text
    assert "Course 2" in text
    cumulative = page.context["cumulative"]["mci_per_kg"]
    assert Decimal("11.5") < cumulative <= Decimal("12")
    assert "Complete screening and confirm eligibility" in text
    # The new course's screening carries the first course over as a prior MIBG course.
    nurse = login("nora")
    form = nurse.get(f"/courses/{second.pk}/screening/").context["form"]
    assert form["prior_mibg_courses.0.infusion_date"].value() == (timezone.localdate() - timedelta(days=240)).isoformat()


def test_a_course_cannot_jump_a_step(login, make_course):
    course = make_course(until="eligible")
    client = login("nora")
    token = _token(client, "/patients/new/")  # a fresh one-time token of Nora's
    response = client.post(f"/courses/{course.pk}/step/admit/", {"form_token": token, "version": course.version}, follow=True)
    assert b"not a legal step" in response.content
    assert Course.objects.get(pk=course.pk).state == "eligible"


def test_the_order_sheet_prints_the_signed_directive(login, make_course):
    course = make_course(until="verified")
    directive = course.directives.get()
    page = login("nora").get(f"/directives/{directive.pk}/print/")
    assert b"396.0 mCi (14652 MBq, 14.652 GBq)" in page.content
    assert b"print.css" in page.content
    # Calibrated at 07:00 for 09:00: factor exp(ln2 x 2 h / (8.0207 d x 24 h/d)) = 1.0072276 (clinical-reference §2.4),
    # printed beside the activity to draw, read from the stored plan (never "None").
    found = re.search(r"\(decay factor ([0-9.]+)\)", page.content.decode())
    assert found is not None
    assert float(found.group(1)) == pytest.approx(math.exp(math.log(2) * 2 / (8.0207 * 24)), rel=1e-9)


def test_the_new_patient_form_starts_with_no_sex_chosen_and_refuses_to_save_without_one(login):
    client = login("nora")
    page = client.get("/patients/new/")
    html = page.content.decode()
    assert '<option value="" selected>— choose —</option>' in html
    assert 'value="female" selected' not in html
    token = _token(client, "/patients/new/")
    response = client.post("/patients/new/", {"form_token": token, "mrn": "MRN-78", "family_name": "Okafor",
                                               "given_name": "Ben", "birth_date": "2019-05-02", "sex": ""})
    assert response.status_code == 200
    assert "sex" in response.context["form"].errors
    from mibg.web.patients.models import Patient

    assert not Patient.objects.filter(mrn="MRN-78").exists()

"""Radiation safety on the course: Sam the physicist's readings at 1 m, the plot, the dosimetry summary, the
signed release with the family's written instructions, and the stem-cell infusion.

The numbers are clinical-reference §4.4's worked example: 22.0 kg, 396 mCi, readings 0.5 h 60.0, 24 h 29.0,
48 h 14.1, 72 h 7.0, 96 h 3.5 mR/h at 1 m (hours after the start of the infusion).
"""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from clinic_helpers import PASSWORD, wristband
from mibg.web.accounts.models import ApiToken
from mibg.web.audit.models import AuditEvent
from mibg.web.course_record import take_step
from mibg.web.radiation import services
from mibg.web.radiation.models import ExposureReading, ReleaseRecord, StemCellInfusion
from mibg.web.treatment import services as treatment

WORKED_EXAMPLE = [("0.5", "60.0"), ("24", "29.0"), ("48", "14.1"), ("72", "7.0"), ("96", "3.5")]
METER, DUE = "Ludlum 9-3 #4471", "2099-01-01"


def _local(moment):
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M:%S")


@pytest.fixture
def admitted(people, make_course):
    """``admitted(days_ago=7)``: 22.0 kg, 18 mCi/kg = 396 mCi infused from 09:00 to 09:25 ``days_ago`` days ago
    (the §4.4 first reading, at 0.5 h, is after the end of the infusion), then admitted."""

    def make(days_ago=7):
        course = make_course(until="assayed", days_ahead=-days_ago)
        start = course.directives.get().administration_time
        treatment.record_administration(people["nora"], course, course.version, treatment.AdministrationInput(
            start, start + timedelta(minutes=25), "central_line", Decimal("50"), Decimal("0"), start + timedelta(minutes=30),
        *wristband(course.patient)))
        course.refresh_from_db()
        take_step(people["nora"], course, "admit", course.version, occurred_at=start + timedelta(minutes=30))
        course.refresh_from_db()
        return course

    return make


def _start(course):
    return course.administrations.get().started_at


def _read(people, course, readings):
    """Sam's readings through the service: ``[(hours, mR/h), ...]``, the first before the first void."""
    start = _start(course)
    for i, (hours, value) in enumerate(readings):
        services.record_reading(people["sam"], course, services.ReadingInput(
            start + timedelta(hours=float(hours)), Decimal(value), None, i == 0, METER,
            timezone.localdate() + timedelta(days=300), "Sam Okafor, PhD"))


def _reading_data(client, course, **values):
    page = client.get(f"/courses/{course.pk}/readings/")
    data = {"form_token": page.context["form"]["form_token"].value(), "instrument_id": METER,
            "instrument_calibration_due": DUE, "measured_by": "Sam Okafor, PhD", "note": ""}
    data.update({k: v for k, v in values.items() if v is not None})
    return data


def _release_data(client, course, **values):
    page = client.get(f"/courses/{course.pk}/release/")
    form = page.context["form"]
    data = {name: form[name].value() for name in ("form_token", "version", "basis")}
    data |= {"released_at": _local(timezone.now() - timedelta(minutes=5)), "instructions_given_to": "Mrs Ada Brown, mother",
             "instructions_explained": "on", "password": PASSWORD}
    data.update(values)
    return data


# ---- readings -------------------------------------------------------------------------------------------


def test_sam_the_physicist_enters_the_first_reading_and_the_section_comes_back_refreshed(login, admitted):
    course = admitted()
    client = login("sam")
    start = _start(course)
    data = _reading_data(client, course, measured_at=_local(start + timedelta(hours=0.5)), mr_per_h="60.0",
                         background_mr_per_h="0.02", before_first_void="on")
    response = client.post(f"/courses/{course.pk}/readings/", data, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert response.templates[0].name == "mibg/radiation/section.html"  # the section alone, for htmx to swap in
    reading = ExposureReading.objects.get(course=course)
    assert (reading.mr_per_h, reading.background_mr_per_h, reading.before_first_void) == (Decimal("60.0"), Decimal("0.02"), True)
    assert reading.recorded_by.username == "sam"
    html = response.content.decode()
    assert "Reading recorded: 60.0 mR/h at 1 m" in html
    assert 'src="data:image/svg+xml;base64,' in html
    assert "59.98" in html  # the net reading
    assert "One reading so far" in html
    assert AuditEvent.objects.filter(action="create", model="radiation.ExposureReading", field="mr_per_h",
                                     new_value="60.0", username="sam").exists()


def test_without_htmx_a_reading_saves_and_returns_to_the_course_page(login, admitted):
    course = admitted()
    client = login("sam")
    data = _reading_data(client, course, measured_at=_local(_start(course) + timedelta(hours=1)), mr_per_h="58",
                         before_first_void="on")
    response = client.post(f"/courses/{course.pk}/readings/", data)
    assert response.status_code == 302
    assert response["Location"] == f"/courses/{course.pk}/#radiation"
    assert ExposureReading.objects.filter(course=course).count() == 1


@pytest.mark.parametrize(("field", "values", "message"), [
    ("mr_per_h", {"mr_per_h": "-1.0"}, "cannot be negative"),
    ("mr_per_h", {"mr_per_h": "0"}, "greater than zero"),
    ("mr_per_h", {"mr_per_h": "abc"}, "Enter a number"),
    ("mr_per_h", {"mr_per_h": "20000"}, "check the unit"),
    ("background_mr_per_h", {"background_mr_per_h": "-0.1"}, "cannot be negative"),
    ("background_mr_per_h", {"background_mr_per_h": "9"}, "must be below the reading"),
    ("measured_at", {"hours": -1}, "before the start of the 131I-MIBG infusion"),
    ("measured_at", {"hours": 0.25}, "before the end of the infusion"),
    ("measured_at", {"hours": 24 * 30}, "in the future"),
    ("measured_at", {"measured_at": "2026-02-30T10:00"}, "Enter a valid date/time"),
    ("measured_at", {"hours": 24}, "has this time"),
    ("before_first_void", {"before_first_void": "on"}, "already the one before the first void"),
    ("instrument_calibration_due", {"instrument_calibration_due": "2001-01-01"}, "10 CFR 35.61"),
    ("instrument_id", {"instrument_id": ""}, "This field is required"),
])
def test_a_reading_with_bad_input_gets_a_field_error_and_nothing_is_stored(login, people, admitted, field, values, message):
    course = admitted()
    _read(people, course, [("0.5", "60.0"), ("24", "29.0")])
    client = login("sam")
    values = dict(values)
    hours = values.pop("hours", 48)
    data = _reading_data(client, course, measured_at=_local(_start(course) + timedelta(hours=hours)), mr_per_h="8.0")
    data.update(values)
    before = AuditEvent.objects.count()
    response = client.post(f"/courses/{course.pk}/readings/", data, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors, errors
    assert message in " ".join(errors[field])
    assert b"Nothing was saved" in response.content
    assert ExposureReading.objects.filter(course=course).count() == 2
    assert AuditEvent.objects.count() == before


def test_readings_may_be_entered_out_of_order_but_none_before_the_pre_void_reading(login, people, admitted):
    course = admitted()
    _read(people, course, [("0.5", "60.0"), ("48", "14.1")])
    client = login("sam")
    start = _start(course)
    late = client.post(f"/courses/{course.pk}/readings/", _reading_data(
        client, course, measured_at=_local(start + timedelta(hours=24)), mr_per_h="29.0"), HTTP_HX_REQUEST="true")
    assert not late.context["form"].is_bound  # saved: a fresh form comes back
    times = [r.measured_at for r in ExposureReading.objects.filter(course=course)]
    assert times == sorted(times)
    assert services.compute_dosimetry(course).retention.model == "mono-exponential"
    early = client.post(f"/courses/{course.pk}/readings/", _reading_data(
        client, course, measured_at=_local(start + timedelta(minutes=28)), mr_per_h="61"), HTTP_HX_REQUEST="true")
    assert "must be the first" in " ".join(early.context["form"].errors["measured_at"])
    assert ExposureReading.objects.filter(course=course).count() == 3


def test_without_a_reading_before_the_first_void_nothing_is_fitted_and_the_page_says_why(login, people, admitted):
    course = admitted()
    start = _start(course)
    for hours, value in (("24", "29.0"), ("48", "14.1")):
        services.record_reading(people["sam"], course, services.ReadingInput(
            start + timedelta(hours=int(hours)), Decimal(value), None, False, METER, timezone.localdate(), "Sam"))
    d = services.compute_dosimetry(course)
    assert d.release is None
    assert "not marked 'before the first void'" in d.problem
    page = login("sam").get(f"/courses/{course.pk}/")
    assert b"not marked &#x27;before the first void&#x27;" in page.content


def test_a_correction_needs_a_reason_and_is_audited_and_a_void_reading_leaves_the_fit(login, people, admitted):
    course = admitted()
    _read(people, course, WORKED_EXAMPLE)
    reading = ExposureReading.objects.get(course=course, mr_per_h=Decimal("14.1"))
    client = login("sam")
    url = f"/readings/{reading.pk}/correct/"
    form = client.get(url).context["form"]
    data = {f.html_name: f.field.widget.format_value(f.value()) if hasattr(f.field.widget, "format_value") else f.value()
            for f in form if f.value() not in (None, False, "")}
    data |= {"mr_per_h": "14.5", "reason": ""}
    refused = client.post(url, data)
    assert "reason" in refused.context["form"].errors
    data["reason"] = "typing error: the meter showed 14.5"
    assert client.post(url, data).status_code == 302
    # decisions.md A37: never edited in place; the corrected reading is a new entry and the old one stays, void
    reading.refresh_from_db()
    assert reading.mr_per_h == Decimal("14.100")
    assert reading.void_reason == "superseded by a correction: typing error: the meter showed 14.5"
    corrected = reading.superseded_by
    assert (corrected.mr_per_h, corrected.correction_reason) == (Decimal("14.500"), "typing error: the meter showed 14.5")
    assert AuditEvent.objects.filter(action="create", object_id=str(corrected.pk),
                                     note="correction: typing error: the meter showed 14.5").exists()
    token = client.get(f"/readings/{corrected.pk}/void/").context["form"]["form_token"].value()
    client.post(f"/readings/{corrected.pk}/void/", {"form_token": token, "version": 1, "reason": "not at 1 m"})
    corrected.refresh_from_db()
    assert corrected.voided_at is not None
    assert [float(p.hours) for p in services.compute_dosimetry(course).retention.points] == [0.5, 24, 72, 96]


# ---- who may do what ----------------------------------------------------------------------------------


def test_nora_the_nurse_reads_the_section_but_cannot_enter_a_reading_or_sign_the_release(login, people, admitted):
    course = admitted()
    _read(people, course, [("0.5", "60.0"), ("24", "29.0")])
    client = login("nora")
    page = client.get(f"/courses/{course.pk}/")
    assert b"Readings at 1 m" in page.content
    assert b'id="reading-form"' not in page.content
    data = {"measured_at": _local(_start(course) + timedelta(hours=48)), "mr_per_h": "14.1", "instrument_id": METER,
            "instrument_calibration_due": DUE, "measured_by": "Nora"}
    assert client.post(f"/courses/{course.pk}/readings/", data).status_code == 403
    assert client.post(f"/courses/{course.pk}/release/", {"password": PASSWORD}).status_code == 403
    reading = ExposureReading.objects.filter(course=course).first()
    assert client.get(f"/readings/{reading.pk}/correct/").status_code == 403
    assert client.post(f"/readings/{reading.pk}/void/", {"reason": "x"}).status_code == 403
    assert ExposureReading.objects.filter(course=course, voided_at__isnull=True).count() == 2


def test_morgan_the_monitor_sees_the_plot_and_the_numbers_but_no_form(login, people, admitted):
    course = admitted()
    _read(people, course, WORKED_EXAMPLE)
    client = login("morgan")
    page = client.get(f"/courses/{course.pk}/")
    assert b'id="radiation-plot"' in page.content
    assert b'id="reading-form"' not in page.content
    assert b"Release (sign)" not in page.content
    assert client.get(f"/courses/{course.pk}/radiation/plot.svg").status_code == 200
    assert client.post(f"/courses/{course.pk}/stem-cells/", {}).status_code == 403


def test_an_anonymous_visitor_is_sent_to_the_login_page_from_every_radiation_url(client, people, admitted):
    course = admitted()
    _read(people, course, [("0.5", "60.0"), ("24", "29.0")])
    reading = ExposureReading.objects.filter(course=course).first()
    urls = [f"/courses/{course.pk}/{path}" for path in ("radiation/", "readings/", "radiation/plot.svg",
                                                         "radiation/plot.png", "release/", "release/instructions/",
                                                         "stem-cells/")]
    urls += [f"/readings/{reading.pk}/correct/", f"/readings/{reading.pk}/void/"]
    for url in urls:
        for method in (client.get, client.post):
            response = method(url)
            assert response.status_code == 302, url
            assert response["Location"].startswith("/accounts/login/"), url
    assert ExposureReading.objects.filter(course=course).count() == 2


# ---- the worked example: dosimetry and release --------------------------------------------------------------


def test_the_worked_example_gives_the_numbers_of_clinical_reference_4_4(login, people, admitted):
    course = admitted()
    _read(people, course, WORKED_EXAMPLE)
    d = services.compute_dosimetry(course)
    assert abs(d.administration.administered_mci - Decimal("396")) < Decimal("0.06")
    assert [float(p.retention) for p in d.retention.points] == pytest.approx([1, 0.4833, 0.2350, 0.1167, 0.0583], abs=1e-4)
    # §4.4: trapezoids 32.87 h + tail 2.02 h = 34.89 h; the log-linear fit: T_eff = 23.3 h, tau = 33.5 h.
    assert d.retention.trapezoid.tiac_h == pytest.approx(34.89, abs=0.01)
    assert d.retention.model == "mono-exponential"
    assert d.retention.effective_half_life_h == pytest.approx(23.3, abs=0.05)
    assert d.retention.tiac_h == pytest.approx(33.5, abs=0.05)
    # D = A0 x tau x (E_e + phi E_gamma) / m: with tau 34.89 h §4.4 gives 2.57 Gy (phi 0) and 3.85 Gy (phi 0.25);
    # the fitted tau of 33.54 h scales them by 33.54/34.89.
    scale = d.retention.tiac_h / 34.89
    assert d.dose.electron_only_gy == pytest.approx(2.57 * scale, rel=0.003)
    assert d.dose.dose_gy == pytest.approx(3.85 * scale, rel=0.003)
    assert d.dose.photon_absorbed_fraction == Decimal("0.25")
    # Release at 96 h: federal dose rate met from the 72 h reading (7.0 <= 7), site not (3.5 > 2); the last two
    # readings project the site limit at 115.4 h (§4.4). Dose to others 34.6 x 8.04 x 0.25 x 3.5 = 243 mrem (§3.4).
    criteria = {c.id: c for c in d.release.criteria}
    assert criteria["federal_dose_rate"].met
    assert criteria["federal_dose_rate"].first_met_h == 72
    assert not criteria["site_dose_rate"].met
    assert criteria["site_dose_rate"].projected_from_last_two_h == pytest.approx(115.4, abs=0.05)
    assert d.release.dose_to_others.msv == Decimal("2.43411000")
    page = login("sam").get(f"/courses/{course.pk}/").content.decode()
    assert f"{d.dose.dose_gy:.2f} Gy" in page
    assert "23.32 ± 0.19 h" in page  # T_eff with its standard error
    assert "electron-only lower bound (φ = 0): 2.47 Gy" in page
    assert "0.192 MeV" in page
    assert "0.381 MeV" in page


@pytest.mark.parametrize(("readings", "message"), [
    (WORKED_EXAMPLE[:3], "neither the site limit nor any federal criterion (10 CFR 35.75) is met"),
    (WORKED_EXAMPLE, "the site limit is not met. The site limit is the site's rule; it has no override."),
])
def test_sam_cannot_release_above_the_limits_and_is_told_why(login, people, admitted, readings, message):
    course = admitted()
    _read(people, course, readings)
    client = login("sam")
    page = client.get(f"/courses/{course.pk}/release/")
    assert message in page.content.decode().replace("&#x27;", "'")
    assert b'id="release-form"' not in page.content
    form = page.context["form"]
    data = {"form_token": form["form_token"].value(), "version": course.version, "basis": form["basis"].value(),
            "released_at": _local(timezone.now()), "instructions_given_to": "mother", "instructions_explained": "on",
            "password": PASSWORD}
    refused = client.post(f"/courses/{course.pk}/release/", data)
    assert refused.status_code == 200
    assert message in " ".join(refused.context["form"].non_field_errors()).replace("&#x27;", "'")
    course.refresh_from_db()
    assert course.state == "in-patient"
    assert not ReleaseRecord.objects.exists()


def test_at_96_hours_the_page_shows_which_federal_criterion_is_met_and_when_the_site_limit_is_expected(login, people, admitted):
    course = admitted()
    _read(people, course, WORKED_EXAMPLE)
    d = services.compute_dosimetry(course)
    html = login("sam").get(f"/courses/{course.pk}/release/").content.decode()
    assert "Federal criteria met: retained activity at or below the federal limit: 23.1 mCi &lt;= 33 mCi; " in html
    assert "dose rate at 1 m at or below the federal limit: 3.5 mR/h &lt;= 7 mR/h" in html
    assert 'id="criterion-site_dose_rate"' in html
    from mibg.web.templatetags.mibg import when

    assert f"reaches the site limit at {when(d.predicted_site_at)}" in html


@pytest.mark.parametrize(("last", "days"), [("2.0", 4), ("1.7", 2)])
def test_sam_signs_the_release_at_or_below_the_site_limit_and_the_course_moves_to_released(login, people, admitted, last, days):
    course = admitted()
    _read(people, course, [*WORKED_EXAMPLE, ("120", last)])
    client = login("sam")
    page = client.get(f"/courses/{course.pk}/release/")
    assert b'id="release-allowed"' in page.content
    assert b'id="release-form"' in page.content
    response = client.post(f"/courses/{course.pk}/release/", _release_data(client, course))
    assert response.status_code == 302, response.context["form"].errors if response.context else ""
    course.refresh_from_db()
    assert course.state == "released"
    record = ReleaseRecord.objects.get(course=course)
    assert record.signed_name == "Sam Okafor, PhD"
    assert record.dose_rate_mr_per_h == Decimal(last)
    assert record.criteria_met == "federal_activity,federal_dose_rate,federal_dose_to_others,site_dose_rate"
    assert f"exposure rate at 1 m {Decimal(last).normalize()} mR/h" in record.signature_meaning
    assert "Mrs Ada Brown, mother" in record.signature_meaning
    # Instructions: until the dose others could receive is <= 1 mSv: 8.04 d x log2(rate / 1.438 mR/h), rounded up.
    assert record.instructions["days"] == days
    assert record.instructions["rate_at_threshold_mr_per_h"] == "1.438"
    change = course.steps.get(event="release")
    assert (change.from_state, change.to_state, change.by.username) == ("in-patient", "released", "sam")
    assert AuditEvent.objects.filter(action="sign", model="radiation.ReleaseRecord", username="sam").exists()
    assert AuditEvent.objects.filter(action="transition", new_value="released").exists()
    done = client.get(f"/courses/{course.pk}/release/")
    assert b"Signed electronically" in done.content
    sheet = client.get(f"/courses/{course.pk}/release/instructions/").content.decode()
    assert f"Follow these steps for {days} days" in sheet
    assert "Mrs Ada Brown, mother" in sheet
    assert "DRAFT" not in sheet


def test_readings_far_below_what_the_activity_gives_are_flagged_on_the_release_page(login, people, admitted):
    course = admitted()
    _read(people, course, [("0.5", "0.60"), ("24", "0.29"), ("48", "0.141")])  # mSv/h typed as mR/h: 100 x too low
    html = login("sam").get(f"/courses/{course.pk}/release/").content.decode()
    assert "UNITS:" in html
    assert "Check the unit (mR/h, not uSv/h or mSv/h)" in html


def test_a_wrong_password_signs_nothing_and_the_refusal_is_recorded(login, people, admitted):
    course = admitted()
    _read(people, course, [*WORKED_EXAMPLE, ("120", "1.7")])
    client = login("sam")
    response = client.post(f"/courses/{course.pk}/release/", _release_data(client, course, password="not-my-password"))
    assert "password" in response.context["form"].errors
    course.refresh_from_db()
    assert course.state == "in-patient"
    assert AuditEvent.objects.filter(action="refused", note__contains="release from radiation isolation").exists()


def test_release_is_refused_when_a_reading_changed_after_the_page_was_opened(login, people, admitted):
    course = admitted()
    _read(people, course, [*WORKED_EXAMPLE, ("120", "1.7")])
    client = login("sam")
    data = _release_data(client, course)
    services.record_reading(people["sam"], course, services.ReadingInput(
        _start(course) + timedelta(hours=121), Decimal("1.6"), None, False, METER, timezone.localdate(), "Sam"))
    response = client.post(f"/courses/{course.pk}/release/", data, follow=True)
    assert b"The readings changed after this page was opened" in response.content
    course.refresh_from_db()
    assert course.state == "in-patient"


def test_the_state_machine_refuses_a_release_from_the_wrong_state_with_its_message(login, people, make_course):
    course = make_course(until="administered", days_ahead=-7)  # not admitted
    page = login("sam").get(f"/courses/{course.pk}/release/")
    assert "is not a legal step from 'Administered'" in page.content.decode().replace("&#x27;", "'")
    assert b'id="release-form"' not in page.content


def test_after_release_the_readings_are_locked(login, people, admitted):
    course = admitted()
    _read(people, course, [*WORKED_EXAMPLE, ("120", "1.7")])
    client = login("sam")
    client.post(f"/courses/{course.pk}/release/", _release_data(client, course))
    with pytest.raises(services.Refused, match="locked"):
        _read(people, course, [("130", "1.5")])
    page = client.get(f"/courses/{course.pk}/")
    assert b'id="reading-form"' not in page.content
    assert b"Released " in page.content


# ---- plot, lists, instructions, stem cells, API -----------------------------------------------------------


def test_the_plot_endpoint_returns_svg_with_the_readings_the_fit_and_both_limits(login, people, admitted):
    course = admitted()
    _read(people, course, WORKED_EXAMPLE)
    response = login("morgan").get(f"/courses/{course.pk}/radiation/plot.svg")
    assert response["Content-Type"].startswith("image/svg+xml")
    assert response["Cache-Control"] == "no-store"
    svg = response.content.decode()
    assert svg.lstrip().startswith("<?xml")
    assert "0.5 h 60 mR/h; 24.0 h 29 mR/h; 48.0 h 14.1 mR/h; 72.0 h 7 mR/h; 96.0 h 3.5 mR/h" in svg
    for text in ("site limit 2 mR/h", "federal limit 7 mR/h", "mono-exponential, T_eff 23.3 h", "site: 114.3 h",
                 "federal: 71.3 h", ">60<", ">3.5<"):
        assert text in svg, text
    assert login("morgan").get(f"/courses/{course.pk}/radiation/plot.svg").content == response.content  # same bytes
    png = login("morgan").get(f"/courses/{course.pk}/radiation/plot.png")
    assert png["Content-Type"] == "image/png"
    assert png.content.startswith(b"\x89PNG")


def test_the_patient_list_shows_the_predicted_release_and_the_patient_page_the_cumulative_whole_body_dose(login, people, admitted):
    course = admitted()
    _read(people, course, WORKED_EXAMPLE)
    d = services.compute_dosimetry(course)
    from mibg.web.templatetags.mibg import when

    client = login("nora")
    listing = client.get("/patients/").content.decode()
    assert f"predicted {when(d.predicted_site_at)}" in listing
    page = client.get(f"/patients/{course.patient.pk}/").content.decode()
    assert 'id="cumulative-whole-body-dose"' in page
    assert f"{d.dose.dose_gy:.2f} Gy" in page


def test_a_course_given_without_readings_is_named_not_silently_left_out_of_the_cumulative_dose(login, people, admitted):
    course = admitted()
    page = login("patel").get(f"/patients/{course.patient.pk}/").content.decode()
    assert "not included" in page
    assert "administered, but no whole-body dosimetry from readings" in page


def test_the_draft_instructions_before_release_say_they_are_a_draft(login, people, admitted):
    course = admitted()
    _read(people, course, WORKED_EXAMPLE)
    sheet = login("nora").get(f"/courses/{course.pk}/release/instructions/").content.decode()
    assert "DRAFT" in sheet
    assert "Sleeping" in sheet
    assert "School and day care" in sheet


def test_nora_records_the_stem_cell_infusion_and_the_course_shows_the_planned_date_and_the_dose_threshold(login, people, admitted):
    course = admitted(days_ago=16)
    _read(people, course, WORKED_EXAMPLE)
    client = login("nora")
    page = client.get(f"/courses/{course.pk}/stem-cells/")
    start = _start(course)
    assert page.context["d"].planned_stem_cell_date == timezone.localdate(start) + timedelta(days=14)
    data = {"form_token": page.context["form"]["form_token"].value(), "infused_at": _local(start + timedelta(days=14)),
            "product_type": "pbsc", "product": "PBSC bag 2", "cells_per_kg": "3.2e6", "given_by": "Nora Diaz, RN"}
    bad = client.post(f"/courses/{course.pk}/stem-cells/", {**data, "infused_at": _local(start)})
    assert "before the end of the 131I-MIBG infusion" in " ".join(bad.context["form"].errors["infused_at"])
    assert client.post(f"/courses/{course.pk}/stem-cells/", data).status_code == 302
    infusion = StemCellInfusion.objects.get(course=course)
    assert (infusion.cells_per_kg, infusion.recorded_by.username) == (Decimal("3200000"), "nora")
    html = client.get(f"/courses/{course.pk}/").content.decode()
    assert "PBSC bag 2" in html
    assert "&lt; 4 Gy" in html  # the whole-body dose against the site threshold
    assert AuditEvent.objects.filter(action="create", model="radiation.StemCellInfusion").exists()


def test_the_api_records_readings_gives_the_dosimetry_and_signs_the_release_on_what_it_showed(client, people, admitted):
    course = admitted()
    _read(people, course, WORKED_EXAMPLE)
    _token, raw = ApiToken.issue(people["sam"], "tests")
    headers = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}

    def post(path, body):
        return client.post(f"/api{path}", data=json.dumps(body), content_type="application/json", **headers)

    start = timezone.localtime(_start(course))
    body = {"measured_at": (start + timedelta(hours=120)).isoformat(), "mr_per_h": 1.7, "instrument_id": METER,
            "instrument_calibration_due": DUE, "measured_by": "Sam Okafor, PhD"}
    bad = post(f"/courses/{course.pk}/readings", {**body, "mr_per_h": -1})
    assert bad.status_code == 422
    assert bad.json() == {"message": "An exposure rate cannot be negative.", "field": "mr_per_h"}
    naive = post(f"/courses/{course.pk}/readings", {**body, "measured_at": "2026-01-01T10:00:00"})
    assert naive.status_code == 422
    created = post(f"/courses/{course.pk}/readings", body)
    assert created.status_code == 201
    assert created.json()["mr_per_h"] == "1.7"
    assert created.json()["hours_after_start"] == "120"
    listed = client.get(f"/api/courses/{course.pk}/readings", **headers).json()
    assert [r["hours_after_start"] for r in listed if r["id"] == created.json()["id"]] == ["120"]
    dosimetry = client.get(f"/api/courses/{course.pk}/dosimetry", **headers).json()
    assert dosimetry["release"]["releasable_now"] == {"federal": True, "site": True}
    assert dosimetry["release_refused"] is None
    course.refresh_from_db()
    release = {"version": course.version, "released_at": timezone.now().isoformat(), "instructions_given_to": "father",
               "readings_basis": "stale", "password": PASSWORD}
    assert post(f"/courses/{course.pk}/release", release).status_code == 409
    signed = post(f"/courses/{course.pk}/release", {**release, "readings_basis": dosimetry["readings_basis"]})
    assert signed.status_code == 201, signed.json()
    assert signed.json()["criteria_met"][-1] == "site_dose_rate"
    assert client.get(f"/api/courses/{course.pk}/release", **headers).json()["signed_name"] == "Sam Okafor, PhD"
    _t, nurse = ApiToken.issue(people["nora"], "tests")
    refused = client.post(f"/api/courses/{course.pk}/readings", data=json.dumps(body), content_type="application/json",
                          HTTP_AUTHORIZATION=f"Bearer {nurse}")
    assert refused.status_code == 403


def test_morgan_opening_the_radiation_section_url_directly_gets_a_whole_page_not_a_fragment(login, people, admitted):
    course = admitted()
    _read(people, course, [("0.5", "60.0"), ("24", "29.0")])
    client = login("morgan")
    direct = client.get(f"/courses/{course.pk}/radiation/", follow=True)
    assert direct.status_code == 200
    assert direct.redirect_chain[-1][0] == f"/courses/{course.pk}/readings/"
    body = direct.content.decode()
    assert "<html" in body
    assert "style.css" in body  # styled, with the site's navigation
    assert 'id="radiation-plot"' in body
    fragment = client.get(f"/courses/{course.pk}/radiation/", headers={"HX-Request": "true"}).content.decode()
    assert "<html" not in fragment
    assert 'id="radiation-plot"' in fragment


# ---- the family's instructions in Spanish (issue 15) --------------------------------------------------------

MESES = ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre",
         "noviembre", "diciembre"]
DIAS = ["lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"]


def _released(login, people, admitted):
    """Sam releases the §4.4 patient at 1.7 mR/h at 120 h: 2 days of precautions (8.04 d x log2(1.7 / 1.438) =
    1.94 d, rounded up), the instructions given to Mrs Ada Brown."""
    course = admitted()
    _read(people, course, [*WORKED_EXAMPLE, ("120", "1.7")])
    client = login("sam")
    assert client.post(f"/courses/{course.pk}/release/", _release_data(client, course)).status_code == 302
    record = ReleaseRecord.objects.get(course=course)
    until = timezone.localdate(record.released_at) + timedelta(days=2)
    return course, until


def _pdf_text(data):
    import io

    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_nora_prints_the_signed_instructions_in_spanish_marked_as_an_unreviewed_translation(login, people, admitted):
    course, until = _released(login, people, admitted)
    html = login("nora").get(f"/courses/{course.pk}/release/instructions/?lang=es").content.decode()
    fecha = f"{DIAS[until.weekday()]} {until.day} de {MESES[until.month - 1]} de {until.year}"
    assert f"Siga estas indicaciones durante 2 días: hasta el {fecha}." in html
    assert "Entregada y explicada a: <strong>Mrs Ada Brown, mother</strong>" in html
    assert 'id="translation-unreviewed"' in html
    assert "todavía no ha sido revisada por un traductor médico" in html
    assert 'lang="es"' in html
    for english in ("Follow these steps", "Distance", "Bathroom and washing", "Going home after"):
        assert english not in html.split('class="sheet instructions"', 1)[1].split("</p>", 1)[1]


def test_the_spanish_instructions_print_as_a_pdf_with_spanish_page_furniture(login, people, admitted):
    course, until = _released(login, people, admitted)
    response = login("nora").get(f"/courses/{course.pk}/release/instructions.pdf?lang=es")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "-es.pdf" in response["Content-Disposition"]
    from pathlib import Path

    Path("test-output").mkdir(exist_ok=True)
    Path("test-output/family-instructions-es.pdf").write_bytes(response.content)  # kept for a person to look at
    text = _pdf_text(response.content)
    assert "Siga estas indicaciones durante 2 días" in text
    assert f"{until.day} de {MESES[until.month - 1]} de {until.year}" in text
    assert "Esta traducción todavía no ha sido revisada" in text
    assert "Página 1 de 1" in text or "Página 1 de 2" in text
    assert "Distancia" in text
    assert "Follow these steps" not in text
    assert AuditEvent.objects.filter(action="view", note__contains="written instructions PDF (es)").exists()


def test_the_english_pdf_says_the_same_as_the_english_page_and_carries_no_translation_notice(login, people, admitted):
    course, until = _released(login, people, admitted)
    client = login("nora")
    text = _pdf_text(client.get(f"/courses/{course.pk}/release/instructions.pdf").content)
    assert f"Follow these steps for 2 days: until {until:%A} {until.day} {until:%B} {until.year}." in text
    assert "Page 1 of" in text
    assert "translation" not in text.lower()
    html = client.get(f"/courses/{course.pk}/release/instructions/").content.decode()
    assert 'id="translation-unreviewed"' not in html


def test_a_language_the_sheet_does_not_have_is_refused_naming_the_field(login, people, admitted):
    course, _until = _released(login, people, admitted)
    client = login("nora")
    for url in (f"/courses/{course.pk}/release/instructions/?lang=fr",
                f"/courses/{course.pk}/release/instructions.pdf?lang=fr"):
        response = client.get(url, follow=True)
        assert response.redirect_chain[-1][0] == f"/courses/{course.pk}/#radiation"
        assert "lang: &#x27;fr&#x27; is not a language of the family sheet" in response.content.decode()


def test_a_translation_reviewed_in_the_protocol_definition_prints_without_the_notice(login, people, admitted,
                                                                                     monkeypatch):
    import dataclasses
    from datetime import date

    from mibg.protocol import load_protocol
    from mibg.web.radiation import family_sheet

    course, _until = _released(login, people, admitted)
    protocol = load_protocol()
    reviewed = dataclasses.replace(protocol.translations["es"], reviewed_by="M. Ortega, certified medical translator",
                                   reviewed_on=date(2026, 12, 1))
    monkeypatch.setattr(family_sheet, "load_protocol",
                        lambda: dataclasses.replace(protocol, translations={"es": reviewed}))
    html = login("nora").get(f"/courses/{course.pk}/release/instructions/?lang=es").content.decode()
    assert "Siga estas indicaciones" in html
    assert 'id="translation-unreviewed"' not in html

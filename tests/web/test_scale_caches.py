"""What the pages keep between views to stay fast at programme scale (plots, fits, grades) is keyed by every
input, so a changed reading or a new lab is shown at once; and the API lists cost the same number of queries
however many records they hold."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from clinic_helpers import wristband
from mibg.web.accounts.models import ApiToken
from mibg.web.course_record import take_step
from mibg.web.radiation import services
from mibg.web.treatment import services as treatment

# clinical-reference §4.4 worked example: hours after the start of the infusion, mR/h at 1 m.
WORKED_EXAMPLE = [("0.5", "60.0"), ("24", "29.0"), ("48", "14.1"), ("72", "7.0"), ("96", "3.5")]


@pytest.fixture
def admitted(people, make_course):
    course = make_course(until="assayed", days_ahead=-7)
    start = course.directives.get().administration_time
    treatment.record_administration(people["nora"], course, course.version, treatment.AdministrationInput(
        start, start + timedelta(minutes=25), "central_line", Decimal("50"), Decimal("0"), start + timedelta(minutes=30),
        *wristband(course.patient)))
    course.refresh_from_db()
    take_step(people["nora"], course, "admit", course.version, occurred_at=start + timedelta(minutes=30))
    course.refresh_from_db()
    return course


def _read(people, course, readings):
    start = course.administrations.get().started_at
    for i, (hours, value) in enumerate(readings):
        services.record_reading(people["sam"], course, services.ReadingInput(
            start + timedelta(hours=float(hours)), Decimal(value), None, i == 0, "Ludlum 9-3 #1",
            timezone.localdate() + timedelta(days=300), "Sam Okafor, PhD"))


def test_morgan_sees_a_new_plot_as_soon_as_sam_corrects_a_reading(login, people, admitted):
    _read(people, admitted, WORKED_EXAMPLE)
    client = login("morgan")
    before = client.get(f"/courses/{admitted.pk}/radiation/plot.svg").content.decode()
    assert "48.0 h 14.1 mR/h" in before
    assert client.get(f"/courses/{admitted.pk}/radiation/plot.svg").content.decode() == before  # drawn once, kept
    reading = admitted.exposure_readings.get(mr_per_h=Decimal("14.1"))
    services.correct_reading(people["sam"], reading, reading.version, services.ReadingInput(
        reading.measured_at, Decimal("14.5"), None, False, reading.instrument_id, reading.instrument_calibration_due,
        reading.measured_by), "typing error: the meter showed 14.5")
    after = client.get(f"/courses/{admitted.pk}/radiation/plot.svg").content.decode()
    assert "48.0 h 14.5 mR/h" in after
    assert "14.1 mR/h" not in after


def test_the_fit_follows_a_voided_reading_at_once(people, admitted):
    _read(people, admitted, WORKED_EXAMPLE)
    assert [float(p.hours) for p in services.compute_dosimetry(admitted).retention.points] == [0.5, 24, 48, 72, 96]
    reading = admitted.exposure_readings.get(mr_per_h=Decimal("14.1"))
    services.void_reading(people["sam"], reading, reading.version, "not at 1 m")
    assert [float(p.hours) for p in services.compute_dosimetry(admitted).retention.points] == [0.5, 24, 72, 96]


def test_a_kept_fit_is_never_shared_with_another_protocol_definition(people, admitted):
    from mibg.protocol import load_protocol

    _read(people, admitted, WORKED_EXAMPLE)
    protocol = load_protocol()
    first = services.compute_dosimetry(admitted, protocol)
    same = services.compute_dosimetry(admitted, protocol)
    assert same.retention is first.retention  # kept
    other = load_protocol.__wrapped__()  # the same file parsed again: another definition object
    assert other is not protocol
    assert services.compute_dosimetry(admitted, other).retention is not first.retention


def test_a_lab_grade_is_the_grade_of_exactly_what_was_stored(people, make_course):
    """CTCAE v5.0 platelet count decreased: grade 2 is < 75 to 50 x 10^9/L, grade 4 is < 25 x 10^9/L; so 60 is
    grade 2 and 24 is grade 4. Each result's grade is stored with it (issue 11) and read back as stored."""
    from mibg.web.followup import services as followup

    course = make_course(until="administered", days_ahead=-10)
    start = course.administrations.get().started_at
    low = followup.add_lab(people["nora"], course, followup.LabEntry("platelets", "24", "10^9/L", "150", "",
                                                                      start + timedelta(days=3)))
    mid = followup.add_lab(people["nora"], course, followup.LabEntry("platelets", "60", "10^9/L", "150", "",
                                                                      start + timedelta(days=4)))
    assert (low.grade.grade, mid.grade.grade) == (4, 2)
    again = type(low).objects.get(pk=low.pk)
    assert again.grade == low.grade
    assert json.loads(again.grade_json) == low.grade.to_json()


def _count(client, url, **headers):
    # One request first: a page's session last-seen time is saved at most once a minute (the first request after
    # the login writes it), so the counts compared are of a steady request.
    assert client.get(url, **headers).status_code == 200, url
    with CaptureQueriesContext(connection) as context:
        response = client.get(url, **headers)
    assert response.status_code == 200, url
    return len(context.captured_queries)


def test_the_api_lists_of_labs_and_readings_cost_the_same_for_3_and_for_30_records(client, people, admitted):
    from mibg.web.followup import services as followup

    _, raw = ApiToken.issue(people["morgan"], "queries")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    start = admitted.administrations.get().started_at
    _read(people, admitted, WORKED_EXAMPLE[:3])

    def add_labs(first, last):
        for day in range(first, last):
            followup.add_lab(people["nora"], admitted, followup.LabEntry("anc", f"{1 + day / 10:.1f}", "10^9/L", "1.5", "",
                                                                         start + timedelta(hours=4 * day)))

    add_labs(1, 4)
    client.get("/api/patients", **auth)  # the token's first use is recorded (then once a minute)
    labs, readings = (_count(client, f"/api/courses/{admitted.pk}/{what}", **auth) for what in ("labs", "readings"))
    add_labs(4, 31)
    assert _count(client, f"/api/courses/{admitted.pk}/labs", **auth) == labs
    assert _count(client, f"/api/courses/{admitted.pk}/readings", **auth) == readings
    assert len(client.get(f"/api/courses/{admitted.pk}/labs", **auth).json()) == 30


def test_the_api_patient_list_and_a_patients_courses_cost_the_same_for_2_and_for_12_patients(client, people, make_course):
    _, raw = ApiToken.issue(people["morgan"], "queries")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    first = make_course(until="eligible")
    make_course()
    client.get("/api/patients", **auth)  # the token's first use is recorded (then once a minute)
    patients = _count(client, "/api/patients", **auth)
    courses = _count(client, f"/api/patients/{first.patient_id}/courses", **auth)
    for _ in range(10):
        make_course()
    assert _count(client, "/api/patients", **auth) == patients
    assert _count(client, f"/api/patients/{first.patient_id}/courses", **auth) == courses


def test_the_follow_up_page_costs_the_same_for_3_and_for_30_labs(login, people, make_course):
    from mibg.web.followup import services as followup

    course = make_course(until="administered", days_ahead=-40)
    start = course.administrations.get().started_at
    client = login("morgan")
    for day in range(1, 4):
        followup.add_lab(people["nora"], course, followup.LabEntry("platelets", str(100 - day), "10^9/L", "150", "",
                                                                    start + timedelta(days=day)))
    small = _count(client, f"/followup/courses/{course.pk}/")
    for day in range(4, 31):
        followup.add_lab(people["nora"], course, followup.LabEntry("platelets", str(100 - day), "10^9/L", "150", "",
                                                                    start + timedelta(days=day)))
    assert _count(client, f"/followup/courses/{course.pk}/") == small


def test_a_tokens_last_use_is_kept_to_the_minute_without_a_write_on_every_call(client, people):
    _, raw = ApiToken.issue(people["morgan"], "minute")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    client.get("/api/patients", **auth)
    token = ApiToken.objects.get(name="minute")
    first = token.last_used_at
    assert first is not None
    client.get("/api/patients", **auth)
    token.refresh_from_db()
    assert token.last_used_at == first  # within the minute: not written again
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=first - timedelta(minutes=2))
    client.get("/api/patients", **auth)
    token.refresh_from_db()
    assert token.last_used_at > first


def test_the_api_list_of_labs_says_exactly_what_each_lab_said_when_it_was_stored(client, people, make_course):
    """The list reads rows as values (fast); each item must equal the answer the API gave when storing it."""
    course = make_course(until="administered", days_ahead=-10)
    start = course.administrations.get().started_at
    _, raw = ApiToken.issue(people["nora"], "labs")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    stored = []
    for hours, (test, value, unit, lln, uln) in enumerate([("platelets", "24", "10^9/L", "150", None),
                                                           ("anc", "0.4", "10^9/L", "1.5", None),
                                                           ("bilirubin", "1.8", "mg/dL", None, "1.0")], start=1):
        body = {"test": test, "value": value, "unit": unit, "lln": lln, "uln": uln,
                "collected_at": (start + timedelta(hours=hours)).isoformat()}
        response = client.post(f"/api/courses/{course.pk}/labs", data=body, content_type="application/json", **auth)
        assert response.status_code == 201, response.content
        stored.append(response.json())
    listed = client.get(f"/api/courses/{course.pk}/labs", **auth).json()
    assert listed == stored
    # CTCAE v5.0: platelets < 25 x 10^9/L grade 4; ANC < 0.5 x 10^9/L grade 4; bilirubin > 1.5-3.0 x ULN grade 2.
    assert [item["grade"]["grade"] for item in listed] == [4, 4, 2]


def test_a_changed_protocol_definition_gives_plots_a_new_key_even_under_the_same_label():
    import dataclasses

    from mibg.protocol import load_protocol
    from mibg.web import plotcache

    protocol = load_protocol()
    same = load_protocol.__wrapped__()  # parsed again: equal content, another object
    assert plotcache.protocol_key(same) == plotcache.protocol_key(protocol)
    site = dict(protocol.site_parameters)
    site["site_release_limit_mrem_per_h"] = dataclasses.replace(site["site_release_limit_mrem_per_h"], value=Decimal("1"))
    edited = dataclasses.replace(protocol, site_parameters=site)
    assert edited.label == protocol.label
    assert plotcache.protocol_key(edited) != plotcache.protocol_key(protocol)

"""Pages keep the same number of database queries as patients and courses grow."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext


def _count(client, url):
    # One request first: the session's last-seen time is saved at most once a minute, so the first request after
    # the login writes the session and later ones do not. Both counts compared are then of a steady request.
    assert client.get(url).status_code == 200
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200
    return len(context.captured_queries)


def test_the_patient_list_costs_the_same_for_2_and_for_20_patients(login, make_course):
    client = login("nora")
    for _ in range(2):
        make_course(until="eligible")
    small = _count(client, "/patients/")
    for _ in range(18):
        make_course()
    assert _count(client, "/patients/") == small


def test_the_patient_page_costs_the_same_for_2_and_for_20_courses(login, people, make_course):
    from mibg.web.courses import services
    from mibg.web.courses.models import Course

    course = make_course(until="closed", days_ahead=-300)
    patient = course.patient
    client = login("patel")
    services.create_course(people["nora"], patient)
    small = _count(client, f"/patients/{patient.pk}/")
    last = Course.objects.filter(patient=patient).order_by("-number").first()
    for n in range(18):
        Course.objects.create(patient=patient, number=last.number + 1 + n, state="closed", created_by=people["nora"])
    assert _count(client, f"/patients/{patient.pk}/") == small


def test_the_course_page_costs_the_same_however_many_patients_there_are(login, make_course):
    client = login("patel")
    first = make_course(until="administered", days_ahead=-1)
    small = _count(client, f"/courses/{first.pk}/")
    for _ in range(5):
        make_course(until="administered", days_ahead=-1)
    assert _count(client, f"/courses/{first.pk}/") == small


def test_the_audit_page_costs_the_same_however_long_the_trail(login, make_course):
    client = login("morgan")
    make_course()
    small = _count(client, "/audit/")
    for _ in range(3):
        make_course(until="verified")
    assert _count(client, "/audit/") == small


def test_the_course_page_reads_the_current_directive_and_the_administration_once(login, make_course):
    """Its sections (plan, radiation, follow-up, documents) share the page's reads (mibg.web.page_reads)."""
    client = login("patel")
    course = make_course(until="administered", days_ahead=-1)
    with CaptureQueriesContext(connection) as context:
        assert client.get(f"/courses/{course.pk}/").status_code == 200
    sql = [q["sql"] for q in context.captured_queries]
    signed = [s for s in sql if 'FROM "directives_writtendirective"' in s and "\"status\" = 'signed'" in s]
    # The administrations are read once, with their history (the page lists superseded entries too, decisions.md
    # A37); the sections' "latest administration" and the documents' "has an administration" come from that read.
    administrations = [s for s in sql if 'FROM "treatment_administration"' in s]
    assert len(signed) <= 1, signed
    assert len(administrations) == 1, "\n".join(s[-300:] for s in administrations)


def test_a_course_not_marked_by_a_page_reads_afresh_after_a_write(make_course):
    """Only a page view that reads marks its course: a service on an unmarked course sees its own writes."""
    from mibg.web.followup.services import live_labs
    from mibg.web.page_reads import for_page, once

    course = make_course(until="administered", days_ahead=-1)
    calls = []
    assert once(course, "x", lambda: calls.append(1) or len(calls)) == 1
    assert once(course, "x", lambda: calls.append(1) or len(calls)) == 2  # unmarked: read again
    page = for_page(type(course).objects.get(pk=course.pk))
    assert once(page, "x", lambda: calls.append(1) or len(calls)) == 3
    assert once(page, "x", lambda: calls.append(1) or len(calls)) == 3  # marked: kept for the page
    assert live_labs(course) == []


def test_after_a_correction_the_course_pages_sections_place_the_plan_from_the_corrected_infusion(login, make_course, people):
    """The course page reads the administrations once, superseded ones included (decisions.md A37), and hands the
    current one to its sections: Nora corrects an infusion entered 40 minutes late, and Dr Patel's page places
    the orders from the corrected start, never the superseded one."""
    from datetime import timedelta

    from django.utils import timezone

    from clinic_helpers import wristband
    from mibg.web.templatetags.mibg import when
    from mibg.web.treatment import services as treatment

    course = make_course(until="administered", days_ahead=-1)
    old = course.administrations.get()
    start = old.started_at - timedelta(minutes=40)  # earlier: the superseded entry is the latest by its start
    course.refresh_from_db()
    treatment.correct_administration(people["nora"], old, course.version, treatment.AdministrationInput(
        start, start + timedelta(minutes=25), old.route, old.volume_ml, old.residual_mci,
        start + timedelta(minutes=30), *wristband(course.patient)), "entered 40 minutes late")
    with timezone.override(timezone.get_default_timezone()):
        page = login("patel").get(f"/courses/{course.pk}/").content.decode()
        placed = page[page.index('id="orders"'):]
        placed = placed[:placed.index("</p>")]
        assert when(start) in placed
        assert when(old.started_at) not in placed

"""`mibg generate-programme`: a synthetic programme with the counts asked for, clearly marked, readable on
every page, the same for a seed, and never written beside real patients."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from datetime import date

import pytest
from django.db import transaction

MIBG = [sys.executable, "-m", "mibg.cli"]
AS_OF = date(2026, 11, 25)


def _generate(**overrides):
    from mibg.web.synthetic import generate

    args = {"patients": 20, "courses": 30, "labs": 2000, "readings": 150, "seed": 7, "as_of": AS_OF, **overrides}
    return generate(**args)


@pytest.fixture
def programme(db):
    return _generate()


def test_the_programme_has_exactly_the_patients_courses_and_labs_asked_for(programme):
    from mibg.web.courses.models import Course
    from mibg.web.followup.models import LabResult
    from mibg.web.patients.models import Patient

    assert (programme.patients, programme.courses, programme.labs) == (20, 30, 2000)
    assert Patient.objects.count() == 20
    assert Course.objects.count() == 30
    assert LabResult.objects.count() == 2000
    assert sum(programme.states.values()) == 30


def test_every_generated_record_is_marked_synthetic(programme):
    from mibg.web.followup.models import LabResult
    from mibg.web.patients.models import Patient

    assert all(p.mrn.startswith("SYN-") and p.given_name == "Synthetic" for p in Patient.objects.all())
    assert Patient.objects.get(mrn="SYN-00001").name == "Synthetic 00001"
    assert not LabResult.objects.exclude(source_detail="synthetic: mibg generate-programme --seed 7").exists()
    entered_by = {lab.entered_by.username for lab in LabResult.objects.select_related("entered_by")[:50]}
    assert entered_by == {"synthetic-nurse"}


def test_the_synthetic_staff_cannot_log_in(programme):
    from mibg.web.accounts.models import User

    staff = User.objects.filter(username__startswith="synthetic-")
    assert staff.count() == 4
    assert not any(user.has_usable_password() for user in staff)


def test_each_patient_has_one_to_four_courses_and_only_the_last_one_open(programme):
    from mibg.web.patients.models import Patient

    for patient in Patient.objects.prefetch_related("courses"):
        courses = sorted(patient.courses.all(), key=lambda c: c.number)
        assert 1 <= len(courses) <= 4
        assert [c.number for c in courses] == list(range(1, len(courses) + 1))
        assert all(c.state == "closed" for c in courses[:-1])


def test_courses_given_here_are_more_than_six_months_apart(programme):
    from mibg.web.treatment.models import Administration

    by_patient = {}
    for a in Administration.objects.select_related("course").order_by("started_at"):
        by_patient.setdefault(a.course.patient_id, []).append(a.started_at.date())
    for days in by_patient.values():
        # Protocol: more than 6 months between courses; the generator spaces them 200-420 days apart.
        assert all((later - earlier).days >= 200 for earlier, later in itertools.pairwise(days))


def test_the_readings_asked_for_are_shared_evenly_and_each_release_rests_on_the_last_one_under_2_mr_per_h(db):
    from decimal import Decimal

    from mibg.web.courses.models import Course
    from mibg.web.radiation.models import ExposureReading

    _generate(readings=200)
    stays = Course.objects.filter(state__in=["in-patient", "released", "follow-up", "closed"])
    released = stays.filter(state__in=["released", "follow-up", "closed"]).prefetch_related("exposure_readings")
    assert released.exists()
    # 200 readings over the courses that reached the stay: each gets 200 // n or one more (hand arithmetic).
    low, high = 200 // stays.count(), 200 // stays.count() + 1
    for course in released:
        readings = list(course.exposure_readings.all())
        assert low <= len(readings) <= high
        assert readings[0].before_first_void
        # The site limit is 2 mR/h at 1 m (protocol site parameter), the last reading is what release rests on.
        assert course.release_record.dose_rate_mr_per_h <= Decimal(2)
        assert course.release_record.reading_id == readings[-1].pk
    # In-patients have only the readings taken so far: never more than asked for.
    assert ExposureReading.objects.count() <= 200


def test_no_readings_are_made_when_none_are_asked_for(db):
    from mibg.web.radiation.models import ExposureReading

    _generate(readings=0)
    assert ExposureReading.objects.count() == 0


def test_each_directive_is_weight_times_mci_per_kg_and_each_course_was_eligible(programme):
    from mibg.web.directives.models import WrittenDirective
    from mibg.web.screening.models import Evaluation

    for d in WrittenDirective.objects.all():
        assert d.activity_mci == d.weight_kg * d.mci_per_kg
    assert set(Evaluation.objects.values_list("overall", flat=True)) == {"eligible"}


def test_the_audit_trail_says_each_patient_is_synthetic_and_records_the_run(programme):
    from mibg.web.audit.models import AuditEvent
    from mibg.web.patients.models import Patient

    patient = Patient.objects.get(mrn="SYN-00003")
    event = AuditEvent.objects.get(patient=patient)
    assert "synthetic patient and records made by mibg generate-programme --seed 7" in event.note
    assert AuditEvent.objects.filter(model="mibg.generate-programme").count() == 1
    assert programme.audit_events == 21


def test_morgan_the_monitor_reads_every_page_of_a_generated_patient(programme, login):
    from mibg.web.patients.models import Patient

    client = login("morgan")
    patient = Patient.objects.filter(courses__lab_results__isnull=False).distinct().first()
    course = patient.courses.filter(lab_results__isnull=False).first()
    pages = ["/patients/", f"/patients/?q={patient.mrn}", f"/patients/{patient.pk}/", f"/courses/{course.pk}/",
             f"/followup/courses/{course.pk}/", f"/courses/{course.pk}/readings/"]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
    assert patient.mrn in client.get(f"/patients/?q={patient.mrn}").content.decode()


def test_the_same_seed_gives_the_same_programme(db):
    from mibg.web.courses.models import Course
    from mibg.web.followup.models import LabResult

    def fingerprint():
        courses = list(Course.objects.order_by("patient__mrn", "number").values_list("patient__mrn", "number", "state",
                                                                                      "planned_treatment_date"))
        labs = list(LabResult.objects.order_by("course__patient__mrn", "course__number", "collected_at", "test")
                    .values_list("test", "value", "collected_at")[:300])
        return courses, labs

    def generated_then_undone(seed):
        sid = transaction.savepoint()
        _generate(seed=seed)
        made = fingerprint()
        transaction.savepoint_rollback(sid)
        return made

    first = generated_then_undone(7)
    assert generated_then_undone(7) == first
    assert generated_then_undone(8) != first


def test_nora_cannot_generate_into_a_database_with_real_patients(make_course):
    from mibg.web.patients.models import Patient
    from mibg.web.synthetic import GenerateRefused

    make_course()
    with pytest.raises(GenerateRefused, match="already holds patients"):
        _generate()
    assert not Patient.objects.filter(mrn__startswith="SYN-").exists()


def _run(args, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MIBG_", "DATABASE_URL", "DJANGO_SETTINGS"))}
    env["MIBG_DATA_DIR"] = str(tmp_path)
    return subprocess.run(MIBG + args, env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path)


@pytest.mark.one_backend
@pytest.mark.parametrize(("args", "named"), [
    (["--patients", "many"], "--patients"),
    (["--patients", "0"], "--patients"),
    (["--labs", "-5"], "--labs"),
    (["--readings", "-1"], "--readings"),
    (["--patients", "10", "--courses", "10", "--readings", "601"], "--readings"),  # 60 per course at most
    (["--as-of", "25/11/2026"], "--as-of"),
    (["--patients", "10", "--courses", "5"], "--courses"),
    (["--patients", "10", "--courses", "41"], "--courses"),
    (["--bogus"], "--bogus"),
    (["--as-of", "2999-01-01"], "--as-of"),
])
def test_bad_flags_give_one_line_naming_the_flag_and_exit_2(tmp_path, args, named):
    result = _run(["generate-programme", *args], tmp_path)
    assert result.returncode == 2
    assert named in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr
    assert not list(tmp_path.glob("*.sqlite3"))  # nothing was written


@pytest.mark.one_backend
def test_the_command_prints_what_it_made(tmp_path):
    result = _run(["generate-programme", "--patients", "3", "--courses", "4", "--labs", "100", "--readings", "12",
                   "--as-of", "2026-11-25"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "made 3 patients, 4 courses" in result.stdout
    assert "100 laboratory results" in result.stdout
    again = _run(["generate-programme", "--patients", "3", "--courses", "4", "--labs", "100", "--readings", "12"],
                 tmp_path)
    assert again.returncode == 1
    assert "refused" in again.stdout


@pytest.mark.one_backend
@pytest.mark.parametrize("workers", ["0", "many", "65"])
def test_serve_with_a_bad_number_of_workers_says_so_and_exits_2(tmp_path, workers):
    result = _run(["serve", "--workers", workers], tmp_path)
    assert result.returncode == 2
    assert "--workers" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.one_backend
def test_serve_with_workers_runs_gunicorn_and_answers_the_health_check(tmp_path):
    import socket
    import time
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MIBG_", "DATABASE_URL", "DJANGO_SETTINGS"))}
    env.update({"MIBG_DATA_DIR": str(tmp_path), "MIBG_DEBUG": "1"})
    server = subprocess.Popen([*MIBG, "serve", "--port", str(port), "--workers", "1"], env=env, cwd=tmp_path,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        answer = None
        deadline = time.monotonic() + 120  # a cold start under a loaded CI machine took 22 s; allow ample margin
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                    answer = (response.status, response.read())
                break
            except OSError:
                time.sleep(0.25)
        assert answer == (200, b'{"status": "ok", "database": "ok"}')
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0]
    assert "with gunicorn, 1 workers x 2 threads" in output


def test_nora_pages_through_60_patients_and_finds_one_by_its_full_name(db, login):
    _generate(patients=60, courses=60, labs=0)
    client = login("nora")
    first = client.get("/patients/").content.decode()
    assert first.count("<td>SYN-") == 50  # 50 a page
    assert "Page 1 of 2" in first
    second = client.get("/patients/?page=2").content.decode()
    assert second.count("<td>SYN-") == 10
    found = client.get("/patients/?q=synthetic+00055").content.decode()
    assert "SYN-00055" in found
    assert found.count("<td>SYN-") == 1
    assert client.get("/patients/?q=SYN-00055").content.decode().count("<td>SYN-") == 1

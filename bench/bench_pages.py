"""Server time of the main pages and API lists at programme scale, each against a bare Django page.

A figure, not a test. Requests go through Django's full handler and middleware in this process (the test
client: no network, no server), logged in as a read-only monitor (pages) or with an API token (API).
For each URL: warm-up requests, then --requests timed ones; the median and the 95th percentile, and their
ratios to the bare page's (pages) or the bare API answer's (API), measured in the same run. Goal (issue 7):
p95 < 100 ms, and p95 within 5x the bare page's p95. The bare page needs a login like every page (a session
and a user read); the bare API answer checks the token like every API call.

    # SQLite (the file is generated first if it holds no patients):
    python bench/bench_pages.py --sqlite var-bench/programme.sqlite3
    # PostgreSQL:
    python bench/bench_pages.py --database-url postgres://postgres@127.0.0.1:5432/h_perf

Generating takes a few minutes (mibg generate-programme --patients 5000 --courses 10000 --labs 1000000).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
GOAL_MS = 100.0
GOAL_RATIO = 5.0
SIZES = ["--patients", "5000", "--courses", "10000", "--labs", "1000000", "--readings", "200000", "--seed", "1"]


def configure(args: argparse.Namespace) -> None:
    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url
    else:
        os.environ.pop("DATABASE_URL", None)
        path = Path(args.sqlite).resolve()
        os.environ["MIBG_DATA_DIR"] = str(path.parent)
        os.environ["MIBG_SQLITE_NAME"] = path.name
    sys.path.insert(0, str(BENCH))
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench_settings"


def ensure_programme() -> None:
    """Generate the programme with the default sizes when the database holds no patient."""
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    from mibg.web.patients.models import Patient

    if not Patient.objects.exists():
        print("bench_pages: the database is empty; generating the programme first", flush=True)
        subprocess.run([sys.executable, "-m", "mibg.cli", "generate-programme", *SIZES], check=True,
                       env={**os.environ, "DJANGO_SETTINGS_MODULE": "mibg.web.settings"})


def bench_user():
    """A read-only monitor for the bench (its own user: the synthetic staff cannot log in), and its API token."""
    from django.contrib.auth.models import Group

    from mibg.web.accounts.models import ApiToken, User
    from mibg.web.permissions import READONLY

    user, made = User.objects.get_or_create(username="bench-monitor", defaults={"printed_name": "Benchmark monitor"})
    if made:
        user.set_unusable_password()
        user.save()
        user.groups.set(Group.objects.filter(name=READONLY))
    _, raw = ApiToken.issue(user, "benchmark")
    return user, raw


def worklist_clients() -> list[tuple[str, object]]:
    """One logged-in client per role with a worklist (issue 13): the worklist reads every open course."""
    from django.contrib.auth.models import Group
    from django.test import Client

    from mibg.web.accounts.models import User

    clients = []
    for role in ("nurse", "physicist", "pharmacist", "physician", "chair"):
        user, made = User.objects.get_or_create(username=f"bench-{role}", defaults={"printed_name": f"Benchmark {role}"})
        if made:
            user.set_unusable_password()
            user.save()
            user.groups.set(Group.objects.filter(name=role))
        client = Client()
        client.force_login(user)
        clients.append((role, client))
    return clients


def targets() -> dict[str, int]:
    """A patient with several courses, and a closed course with many labs and its readings."""
    from django.db.models import Count

    from mibg.web.courses.models import Course
    from mibg.web.patients.models import Patient

    patient = (Patient.objects.filter(mrn__startswith="SYN-").annotate(n=Count("courses")).order_by("-n", "pk")
               .first())
    course = (Course.objects.filter(state="closed", patient=patient).annotate(n=Count("lab_results"))
              .order_by("-n", "pk").first())
    assert course is not None, "no closed course with labs: generate the programme first"
    return {"patient": course.patient_id, "course": course.pk, "labs": course.n,
            "readings": course.exposure_readings.count(), "courses": course.patient.courses.count()}


def measure(client, url: str, headers: dict[str, str], warmup: int, n: int) -> tuple[list[float], float]:
    """The wall time of each request (ms), and the CPU time of this process per request (ms): on a loaded machine
    the wall time includes waiting for a core, the CPU time does not."""
    for _ in range(warmup):
        response = client.get(url, headers=headers)
        if response.status_code != 200:
            raise SystemExit(f"{url}: HTTP {response.status_code}")
    times = []
    cpu = time.process_time()
    for _ in range(n):
        started = time.perf_counter()
        response = client.get(url, headers=headers)
        times.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"{url}: HTTP {response.status_code}")
    return times, (time.process_time() - cpu) * 1000 / n


def queries(client, url: str, headers: dict[str, str]) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as context:
        client.get(url, headers=headers)
    return len(context.captured_queries)


def p95(times: list[float]) -> float:
    return statistics.quantiles(times, n=20, method="inclusive")[-1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--sqlite", default="var-bench/programme.sqlite3", help="SQLite file (default %(default)s)")
    where.add_argument("--database-url", help="PostgreSQL, e.g. postgres://postgres@127.0.0.1:5432/h_perf")
    parser.add_argument("--requests", type=int, default=200, help="timed requests per URL (default 200)")
    parser.add_argument("--warmup", type=int, default=20, help="untimed requests first (default 20)")
    parser.add_argument("--only", default="", help="measure only URLs whose name contains this text (or one of "
                                                   "several, comma-separated)")
    parser.add_argument("--prepare-only", action="store_true", help="migrate and generate if empty, measure nothing")
    args = parser.parse_args()
    configure(args)
    ensure_programme()
    if args.prepare_only:
        return 0
    from django.db import connection
    from django.test import Client

    from mibg.web.patients.models import Patient

    user, token = bench_user()
    t = targets()
    mrn = Patient.objects.get(pk=t["patient"]).mrn
    pages = Client()
    pages.force_login(user)
    api = Client()
    bearer = {"Authorization": f"Bearer {token}"}
    urls = [
        ("bare Django page", pages, "/bench/bare/", {}),
        ("patient list", pages, "/patients/", {}),
        ("patient list, page 60", pages, "/patients/?page=60", {}),
        ("patient list, search by MRN", pages, f"/patients/?q={mrn}", {}),
        ("patient list, search by name (11 found)", pages, "/patients/?q=Synthetic+0123", {}),
        (f"patient page ({t['courses']} courses)", pages, f"/patients/{t['patient']}/", {}),
        ("course page", pages, f"/courses/{t['course']}/", {}),
        (f"follow-up page ({t['labs']} labs)", pages, f"/followup/courses/{t['course']}/", {}),
        (f"radiation page ({t['readings']} readings)", pages, f"/courses/{t['course']}/readings/", {}),
        *((f"worklist ({role})", client, "/worklist/", {}) for role, client in worklist_clients()),
        ("API bare (token check only)", api, "/bench/api/bare", bearer),
        ("API patients", api, "/api/patients", bearer),
        ("API patients, search", api, f"/api/patients?q={mrn}", bearer),
        ("API courses of a patient", api, f"/api/patients/{t['patient']}/courses", bearer),
        (f"API labs of a course ({t['labs']})", api, f"/api/courses/{t['course']}/labs", bearer),
        (f"API readings of a course ({t['readings']})", api, f"/api/courses/{t['course']}/readings", bearer),
    ]
    vendor = connection.vendor
    print(f"bench_pages: {vendor} ({connection.settings_dict['NAME']}), {Patient.objects.count()} patients; "
          f"{args.warmup} warm-up + {args.requests} timed requests per URL")
    print(f"load average before: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
    print(f"{'page':44} {'median ms':>9} {'p95 ms':>8} {'median x':>8} {'p95 x':>6} {'CPU ms':>6} {'CPU x':>5} "
          f"{'queries':>7}  goal: p95 < {GOAL_MS:.0f} ms and p95 < {GOAL_RATIO:.0f}x the bare page's p95")
    bare_median = bare_p95 = bare_cpu = 1.0
    missed = 0
    for name, client, url, headers in urls:
        if args.only and not any(part in name for part in args.only.split(",")) and "bare" not in name:
            continue
        times, cpu = measure(client, url, headers, args.warmup, args.requests)
        median, high = statistics.median(times), p95(times)
        if "bare" in name:  # pages are compared with the bare page, API answers with the bare API answer
            bare_median, bare_p95, bare_cpu = median, high, cpu
        ratio = high / bare_p95
        ok = high < GOAL_MS and ratio < GOAL_RATIO
        missed += 0 if ok else 1
        print(f"{name:44} {median:9.2f} {high:8.2f} {median / bare_median:8.1f} {ratio:6.1f} {cpu:6.2f} "
              f"{cpu / bare_cpu:5.1f} {queries(client, url, headers):7d}  "
              f"{'met' if ok else 'NOT met'}", flush=True)
    print(f"bench_pages: {missed} page(s) missed the goal" if missed else "bench_pages: every page met the goal")
    return 0


if __name__ == "__main__":
    sys.exit(main())

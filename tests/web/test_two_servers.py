"""Two application servers, one PostgreSQL database, one Redis: the production layout of more than one server.

Two real ``mibg serve --workers 2`` (gunicorn, 2 processes each) share the database and the Redis cache
(MIBG_CACHE_URL). Requests go to one or the other as a load balancer would send them. The audit trail stays one
unbroken chain, a lockout earned on one server holds on the other, and a plot or fit computed by one server is
served by the other from Redis rather than computed again. Each server has its own data directory, so nothing is
shared through local files.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest
from server_process import ServerProcess, form_values

from clinic_helpers import PASSWORD

pytestmark = pytest.mark.one_backend  # two servers on a PostgreSQL database of their own, whatever the test run's

REDIS_URL = "redis://127.0.0.1:6379/0"
SECRET = "two-servers-test-key-" + "abcdefghij0123456789" * 3  # both servers sign sessions with one key
PEOPLE = ("patel", "sam", "riley", "nora")

SETUP = """
from datetime import timedelta
from decimal import Decimal
from django.conf import settings
from django.test import Client
from django.utils import timezone
from mibg.web.courses import services as courses
from mibg.web.demo import run_course
from mibg.web.patients import services as patients
from mibg.web.radiation import demo as radiation_demo

patient = patients.create_patient(people["nora"], {"mrn": "TWO-1", "given_name": "Ada", "family_name": "Twoservers",
                                                   "sex": "female", "birth_date": timezone.localdate() - timedelta(days=7 * 365)})
course = courses.create_course(people["nora"], patient)
run_course(people, course, timezone.localdate() - timedelta(days=3), until="in-patient", weight="30.1")
radiation_demo.readings_so_far(people["sam"], course)
out["course"] = course.pk
out["patient"] = patient.pk
browser = Client()
browser.force_login(people["sam"])
out["session"] = browser.cookies[settings.SESSION_COOKIE_NAME].value
out["session_cookie"] = settings.SESSION_COOKIE_NAME
"""


@contextlib.contextmanager
def postgresql_database() -> Iterator[str]:
    """A new, empty PostgreSQL database on the local server (dropped afterwards): the servers' shared database."""
    import psycopg

    name = f"mibg_two_servers_{uuid.uuid4().hex[:10]}"
    params = {"host": "127.0.0.1", "port": 5432, "user": "postgres", "dbname": "postgres", "autocommit": True}
    with psycopg.connect(**params) as admin:  # type: ignore[arg-type]
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgres://{quote('postgres')}@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(**params) as admin:  # type: ignore[arg-type]
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def redis_keys(prefix: str) -> list[str]:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    return sorted(key.decode() for key in client.scan_iter(match=f"{prefix}:*"))


def delete_redis_keys(prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(match=f"{prefix}:*"):
        client.delete(key)


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, ServerProcess, str]]:
    prefix = f"mibg-two-{uuid.uuid4().hex[:8]}"
    env = {"MIBG_CACHE_URL": REDIS_URL, "MIBG_CACHE_PREFIX": prefix, "MIBG_SECRET_KEY": SECRET}
    with postgresql_database() as database_url:
        first = ServerProcess(tmp_path_factory.mktemp("server-a"), database_url, serve_args=("--workers", "2"),
                              extra_env=env)
        second = ServerProcess(tmp_path_factory.mktemp("server-b"), database_url, serve_args=("--workers", "2"),
                               extra_env=env)
        setup = first.prepare(PEOPLE, SETUP)
        first.setup = second.setup = setup  # type: ignore[attr-defined]
        first.start(timeout=120)
        second.start(timeout=120)
        try:
            yield first, second, prefix
        finally:
            first.stop()
            second.stop()
            delete_redis_keys(prefix)


def _cookie_header(cookies: dict[str, str]) -> dict[str, str]:
    return {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}


def _keep(cookies: dict[str, str], headers: object) -> None:
    for cookie in headers.get_all("Set-Cookie") or []:  # type: ignore[attr-defined]
        name, _, rest = cookie.partition("=")
        cookies[name.strip()] = rest.split(";", 1)[0]


def _try_login(server: ServerProcess, username: str, password: str) -> tuple[int, str]:
    """A browser's login on ``server``: the page (for its CSRF cookie and token), then the form."""
    cookies: dict[str, str] = {}
    status, page, headers = server.exchange("GET", "/accounts/login/")
    assert status == 200
    _keep(cookies, headers)
    values = form_values(page.decode())
    values.update({"username": username, "password": password})
    status, body, _headers = server.exchange(
        "POST", "/accounts/login/", urlencode(values).encode(),
        headers={**_cookie_header(cookies), "Content-Type": "application/x-www-form-urlencoded"})
    return status, body.decode(errors="replace")


def _audit_verify(server: ServerProcess) -> dict[str, object]:
    result = subprocess.run([sys.executable, "-m", "mibg.cli", "audit", "verify", "--json", "--no-record"],
                            env=server.env, cwd=server.data_dir, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout)


def test_api_writes_through_one_server_are_read_through_the_other_and_the_audit_chain_stays_whole(servers):
    first, second, _prefix = servers
    nora = first.setup["tokens"]["nora"]
    made = []
    for i in range(12):
        server = (first, second)[i % 2]
        status, body = server.api("POST", "/patients", nora, {
            "mrn": f"TWO-API-{i}", "family_name": "Balanced", "given_name": f"Pat{i}", "birth_date": f"2018-04-0{1 + i % 9}", "sex": "male" if i % 2 else "female"})
        assert status in (200, 201), body
        made.append(body["id"])
    for server in (first, second):
        status, listing = server.api("GET", "/patients?limit=100", nora)
        assert status == 200
        seen = {row["mrn"] for row in (listing["items"] if isinstance(listing, dict) else listing)}
        assert {f"TWO-API-{i}" for i in range(12)} <= seen
    report = _audit_verify(second)
    assert report["broken"] is None, report
    assert int(report["records"]) > 24  # each create and each audited read is in the one chain


def test_a_lockout_earned_on_one_server_holds_on_the_other(servers):
    first, second, _prefix = servers
    for attempt in range(5):  # the failure limit (settings.AXES_FAILURE_LIMIT), alternating between servers
        status, _page = _try_login((first, second)[attempt % 2], "riley", f"wrong-password-{attempt}")
        assert status in (200, 429)
    for server in (first, second):
        status, page = _try_login(server, "riley", PASSWORD)
        assert status == 429, page[:500]
        assert "Locked out" in page


def test_a_plot_and_a_fit_computed_by_one_server_are_served_by_the_other_from_redis(servers):
    first, second, prefix = servers
    course = first.setup["course"]
    cookies = {first.setup["session_cookie"]: first.setup["session"]}
    before = redis_keys(prefix)
    status, svg_first, _headers = first.exchange("GET", f"/courses/{course}/radiation/plot.svg",
                                                 headers=_cookie_header(cookies))
    assert status == 200, svg_first[:300]
    after_first = redis_keys(prefix)
    new = [key for key in after_first if key not in before]
    assert any(":plot:" in key for key in new), new
    # The fit is in Redis too (made when the readings were entered, by the setup process: already shared).
    assert any(":result:retention-fit:" in key for key in after_first), after_first
    # Mark the first server's entry in Redis: the second server can only answer with the mark by reading it there.
    import pickle

    import redis

    client = redis.Redis.from_url(REDIS_URL)
    plot_key = next(key for key in new if ":plot:" in key)
    marked = pickle.loads(client.get(plot_key)) + "<!-- read from the shared cache -->"
    client.set(plot_key, pickle.dumps(marked, pickle.HIGHEST_PROTOCOL), keepttl=True)
    status, svg_second, _headers = second.exchange("GET", f"/courses/{course}/radiation/plot.svg",
                                                   headers=_cookie_header(cookies))
    assert status == 200
    assert svg_second.decode() == marked
    assert svg_first.decode() + "<!-- read from the shared cache -->" == marked
    for server in (first, second):  # and nothing was kept in a server's own files
        assert not (Path(server.data_dir) / "plot-cache").exists() or not any((Path(server.data_dir) / "plot-cache").iterdir())


def test_a_server_refuses_to_start_with_a_cache_url_that_is_not_redis(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MIBG_", "DATABASE_URL", "DJANGO_"))}
    env.update({"MIBG_DEBUG": "1", "MIBG_DATA_DIR": str(tmp_path), "MIBG_CACHE_URL": "memcached://127.0.0.1:11211"})
    result = subprocess.run([sys.executable, "-m", "mibg.cli", "serve", "--no-migrate", "--port", "8999"], env=env,
                            cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "MIBG_CACHE_URL" in result.stderr
    assert "Traceback" not in result.stderr

"""Shared fixtures for every test suite: the clinic's people, one per role, and courses at each stage."""

from __future__ import annotations

import logging
import os
from datetime import timedelta
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in the test thread; Django's live server and ORM calls from the
# test process are then flagged as "async unsafe". The browser tests only drive the server from outside.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from hypothesis import settings

from clinic_helpers import PASSWORD, PERSONAS

#: ``pytest -m slow --hypothesis-profile=slow``: every property of the slow suites on 10,000 examples in one run.
#: Without the option the Hypothesis default profile applies (100 examples), so the default run stays fast.
settings.register_profile("slow", max_examples=10_000, deadline=None, database=None)

#: Where every log record of a test session is kept (one file per xdist worker), for tests/scan_logs.py.
LOG_DIR = Path(__file__).parents[1] / "test-output" / "logs"


class _NotCapturedSql(logging.Filter):
    """SQL text with its parameters reaches django.db.backends only while a test captures queries
    (assertNumQueries); the application never logs it (its root logger is at WARNING), so it is left out."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.name.startswith("django.db.backends")


def pytest_sessionstart(session):
    """Keep every log record of the session, at DEBUG, in test-output/logs/<worker>.log.

    bin/test scans these files after the run for the test and demo patients' identifiers and for secrets
    (tests/scan_logs.py): nothing the application logs may name a patient or carry a password or token.
    The console keeps its level (WARNING), so the test output is unchanged.
    """
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(LOG_DIR / f"{os.environ.get('PYTEST_XDIST_WORKER', 'main')}.log", mode="w",
                                  encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(_NotCapturedSql())
    root = logging.getLogger()
    for existing in root.handlers:
        if existing.level == logging.NOTSET:
            existing.setLevel(max(root.level, logging.WARNING))
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)


@pytest.fixture
def people(db):
    from mibg.web.demo import make_user

    return {name: make_user(name, roles, PASSWORD, printed) for name, (roles, printed) in PERSONAS.items()}


@pytest.fixture
def login(client, people):
    """``login("patel")`` -> the test client logged in as Dr Patel."""

    def as_(name):
        client.force_login(people[name])
        return client

    return as_


@pytest.fixture
def make_course(people):
    """``make_course(until="eligible")``: a new patient with one course taken through the real steps."""
    from django.utils import timezone

    from mibg.web.courses import services
    from mibg.web.demo import run_course
    from mibg.web.patients import services as patients

    counter = {"n": 0}

    def make(until="screening", *, days_ahead=3, weight="22.0", mci_per_kg="18", residual="2.5", mrn=None):
        counter["n"] += 1
        patient = patients.create_patient(people["nora"], {
            "mrn": mrn or f"T-{counter['n']:04d}", "given_name": "Test", "family_name": f"Patient{counter['n']}",
            "birth_date": timezone.localdate() - timedelta(days=7 * 365), "sex": "female"})
        course = services.create_course(people["nora"], patient)
        run_course(people, course, timezone.localdate() + timedelta(days=days_ahead), until=until, weight=weight,
                   mci_per_kg=mci_per_kg, residual=residual)
        course.refresh_from_db()
        return course

    return make


def command_env(data_dir: Path) -> dict[str, str]:
    """The environment a `mibg` child process runs in: this machine's, without the test run's settings, on its own
    SQLite file in ``data_dir``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MIBG_", "DATABASE_URL", "DJANGO_SETTINGS"))}
    env.update({"MIBG_DATA_DIR": str(data_dir), "MIBG_DEBUG": "1"})
    return env


@pytest.fixture(scope="session")
def _migrated_site_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One site data directory per test worker, migrated once by the real command (`mibg user list` migrates
    first). Applying every migration to a new SQLite file costs seconds of CPU; tests whose subject is not the
    migration start from a copy of this one instead."""
    import subprocess
    import sys

    template = tmp_path_factory.mktemp("migrated-site")
    done = subprocess.run([sys.executable, "-m", "mibg.cli", "user", "list"], env=command_env(template),
                          capture_output=True, text=True, timeout=300, cwd=template)
    assert done.returncode == 0, done.stderr
    return template


@pytest.fixture
def migrated_site(_migrated_site_template: Path, tmp_path: Path) -> Path:
    """A data directory holding a migrated, empty site database (a copy of the worker's template)."""
    import shutil

    site = tmp_path / "site"
    shutil.copytree(_migrated_site_template, site)
    return site


#: Test modules that take tens of seconds (a server killed mid-stream, 50 rounds of simultaneous edits, two servers,
#: fuzzing, 10,000 generated patients, `mibg` child processes). bin/test runs on two workers, a module at a time
#: (--dist loadfile, so a module's server or child-process fixture starts once): started first, they run beside the
#: many short modules instead of leaving one worker alone with them at the end.
LONG_MODULES = ("test_durability_faults", "test_concurrency", "test_two_servers", "test_lazy_explanation", "test_compiled_verdicts",
                "test_api_fuzz", "test_user_command", "test_gunicorn_access_log", "test_backup_restore",
                "test_commands_and_settings", "test_times_one_way", "test_role_walk", "test_generate_programme",
                "test_production_settings", "test_result_migrations", "test_audit_chain")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: item.path.stem not in LONG_MODULES)  # stable: otherwise the order collected

"""`mibg serve` and `mibg demo`, the settings that must fail loudly, and the health check."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.db import OperationalError

MIBG = [sys.executable, "-m", "mibg.cli"]
# Passes Django's strong-key test (50+ characters, 5+ different): production refuses a weaker one.
STRONG_KEY = "test-only-key-" + "0123456789abcdef" * 3


def _run(args, env_changes, tmp_path, timeout=120):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MIBG_", "DATABASE_URL", "DJANGO_SETTINGS"))}
    env.update({"MIBG_DATA_DIR": str(tmp_path), **env_changes})
    return subprocess.run(MIBG + args, env=env, capture_output=True, text=True, timeout=timeout, cwd=tmp_path)


@pytest.mark.one_backend
@pytest.mark.parametrize("args", [["serve", "--port", "eighty"], ["serve", "--bogus"], ["demo", "--port", "70000"],
                                  ["demo", "--nonsense"]])
def test_bad_flags_give_a_clear_message_and_exit_2(tmp_path, args):
    result = _run(args, {}, tmp_path)
    assert result.returncode == 2
    assert "error" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.one_backend
def test_serve_refuses_production_without_a_secret_key(tmp_path):
    result = _run(["serve", "--no-migrate"], {"MIBG_DEBUG": "0"}, tmp_path)
    assert result.returncode == 2
    assert "MIBG_SECRET_KEY is required" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.one_backend
def test_production_needs_allowed_hosts_and_https_stated(tmp_path):
    result = _run(["serve", "--no-migrate"], {"MIBG_DEBUG": "0", "MIBG_SECRET_KEY": STRONG_KEY}, tmp_path)
    assert "MIBG_ALLOWED_HOSTS is required" in result.stderr
    result = _run(["serve", "--no-migrate"], {"MIBG_DEBUG": "0", "MIBG_SECRET_KEY": STRONG_KEY, "MIBG_ALLOWED_HOSTS": "mibg.example.org"},
                  tmp_path)
    assert "MIBG_HTTPS is required" in result.stderr


@pytest.mark.one_backend
def test_production_settings_hash_passwords_with_argon2_first(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIBG_")}
    env.update({"MIBG_DEBUG": "0", "MIBG_SECRET_KEY": STRONG_KEY, "MIBG_ALLOWED_HOSTS": "x", "MIBG_HTTPS": "1",
                "MIBG_DATA_DIR": str(tmp_path)})
    code = "import mibg.web.settings as s; print(s.PASSWORD_HASHERS[0], s.SESSION_COOKIE_SECURE, s.DEBUG)"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert out.split() == ["django.contrib.auth.hashers.Argon2PasswordHasher", "True", "False"]


@pytest.mark.one_backend
def test_the_demo_prints_each_password_once_and_never_touches_a_real_database(tmp_path):
    first = _run(["demo", "--no-serve"], {}, tmp_path, timeout=300)
    assert first.returncode == 0, first.stderr
    for username in ("patel", "chen", "sam", "riley", "nora", "morgan", "admin"):
        assert f"  {username} " in first.stdout
    second = _run(["demo", "--no-serve"], {}, tmp_path)
    assert second.returncode == 0
    assert "already" in second.stdout
    assert "patel " not in second.stdout
    refused = _run(["demo", "--no-serve"], {"DATABASE_URL": "postgres://postgres@127.0.0.1:5432/test"}, tmp_path)
    assert refused.returncode == 2
    assert "DATABASE_URL" in refused.stderr


def test_healthz_answers_without_login(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_healthz_answers_503_when_the_database_is_unreachable(client, db, monkeypatch):
    from django.db import connection

    def broken(*args, **kwargs):
        raise OperationalError("connection refused")

    with monkeypatch.context() as patch:
        patch.setattr(connection, "cursor", broken)
        response = client.get("/healthz")
    assert response.status_code == 503


def test_pages_forbid_scripts_from_anywhere_but_this_server(client, db):
    response = client.get("/accounts/login/")
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert b"cdn" not in response.content.lower()

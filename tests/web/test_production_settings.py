"""Production settings: Django's deployment check passes with no warning, and responses carry the headers.

Each test runs a fresh Python process with the production environment (MIBG_DEBUG=0 and a temporary data
directory), because the settings are read once, at start-up, from the environment.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys

import pytest

pytestmark = pytest.mark.one_backend  # child processes on their own SQLite files, whatever DATABASE_URL says

ONE_YEAR = 365 * 24 * 3600  # HSTS max-age asked for: a year (RFC 6797 section 6.1.1 counts in seconds)


def _env(tmp_path, **changes):
    # DJANGO_ALLOW_ASYNC_UNSAFE is the test suite's own (conftest.py, for Playwright); production never sets it.
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("MIBG_", "DATABASE_URL", "DJANGO_SETTINGS", "DJANGO_ALLOW_ASYNC_UNSAFE"))}
    env.update({"MIBG_DEBUG": "0", "MIBG_SECRET_KEY": secrets.token_urlsafe(50), "MIBG_ALLOWED_HOSTS": "mibg.example.org",
                "MIBG_HTTPS": "1", "MIBG_DATA_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "mibg.web.settings"})
    env.update(changes)
    return env


def _python(code, env, tmp_path):
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300,
                          cwd=tmp_path)


def test_the_production_settings_pass_djangos_deployment_check_with_no_warning(tmp_path):
    result = subprocess.run([sys.executable, "-m", "django", "check", "--deploy", "--fail-level", "WARNING"],
                            env=_env(tmp_path), capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNINGS" not in result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_the_deployment_check_fails_when_https_is_off_so_the_check_itself_can_fail(tmp_path):
    result = subprocess.run([sys.executable, "-m", "django", "check", "--deploy", "--fail-level", "WARNING"],
                            env=_env(tmp_path, MIBG_HTTPS="0"), capture_output=True, text=True, timeout=300,
                            cwd=tmp_path)
    assert result.returncode != 0
    assert "security.W004" in result.stderr + result.stdout  # no HSTS
    assert "security.W008" in result.stderr + result.stdout  # no https redirect


# Runs inside the production process: migrate a fresh SQLite file, make Dr Patel, then ask as a browser would.
RESPONSES = r"""
import json, django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0, interactive=False)
from django.test import Client
from mibg.web.demo import make_user
make_user("patel", ["physician"], "correct-horse-battery-staple", "Dr Asha Patel, MD")
host = {"HTTP_HOST": "mibg.example.org"}
out = {}
plain = Client().get("/accounts/login/", **host)
out["http"] = {"status": plain.status_code, "location": plain.get("Location", "")}
browser = Client()
page = browser.get("/accounts/login/", secure=True, **host)
out["page"] = {"status": page.status_code, "headers": dict(page.headers)}
login = browser.post("/accounts/login/", {"username": "patel", "password": "correct-horse-battery-staple"}, secure=True, **host)
out["login"] = {"status": login.status_code, "location": login.get("Location", ""),
                "cookies": {name: {"secure": bool(c["secure"]), "httponly": bool(c["httponly"]), "samesite": c["samesite"]}
                            for name, c in {**page.cookies, **login.cookies}.items()}}
patients = browser.get("/patients/", secure=True, **host)
out["patients"] = {"status": patients.status_code, "headers": dict(patients.headers)}
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def production(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("production")
    result = _python(RESPONSES, _env(tmp_path), tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_plain_http_is_redirected_to_https_in_production(production):
    assert production["http"]["status"] == 301
    assert production["http"]["location"] == "https://mibg.example.org/accounts/login/"


@pytest.mark.parametrize("response", ["page", "patients"])
def test_every_production_response_carries_hsts_csp_nosniff_frame_and_referrer_headers(production, response):
    headers = production[response]["headers"]
    assert production[response]["status"] == 200
    assert headers["Strict-Transport-Security"] == f"max-age={ONE_YEAR}; includeSubDomains"
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    assert "script-src 'self';" in headers["Content-Security-Policy"]  # no 'unsafe-inline' outside the API docs
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"


def test_session_and_csrf_cookies_are_sent_over_https_only_and_the_session_cookie_is_hidden_from_scripts(production):
    assert production["login"]["status"] == 302
    cookies = production["login"]["cookies"]
    assert set(cookies) >= {"sessionid", "csrftoken"}
    assert cookies["sessionid"] == {"secure": True, "httponly": True, "samesite": "Lax"}
    assert cookies["csrftoken"]["secure"] is True


PROXY = r"""
import django
django.setup()
from django.test import Client
r = Client().get("/accounts/login/", HTTP_HOST="mibg.example.org", HTTP_X_FORWARDED_PROTO="https")
print(r.status_code)
"""


def test_a_client_cannot_claim_https_with_a_forwarded_header_unless_a_proxy_is_configured(tmp_path):
    result = _python(PROXY, _env(tmp_path), tmp_path)
    assert result.stdout.split()[-1] == "301", result.stderr[-2000:]


def test_behind_a_configured_tls_proxy_its_forwarded_header_marks_the_request_as_https(tmp_path):
    result = _python(PROXY, _env(tmp_path, MIBG_PROXY_SSL_HEADER="X-Forwarded-Proto"), tmp_path)
    assert result.stdout.split()[-1] == "200", result.stderr[-2000:]


SETTINGS = r"""
import json
import mibg.web.settings as s
print(json.dumps({"redirect": s.SECURE_SSL_REDIRECT, "hsts": s.SECURE_HSTS_SECONDS, "secure_cookie": s.SESSION_COOKIE_SECURE,
                  "debug": s.DEBUG, "proxy": getattr(s, "SECURE_PROXY_SSL_HEADER", None)}))
"""


def test_the_local_trial_on_plain_http_has_no_redirect_and_no_hsts(tmp_path):
    env = _env(tmp_path, MIBG_DEBUG="1")
    for name in ("MIBG_SECRET_KEY", "MIBG_ALLOWED_HOSTS", "MIBG_HTTPS"):
        env.pop(name)
    result = _python(SETTINGS, env, tmp_path)
    assert json.loads(result.stdout) == {"redirect": False, "hsts": 0, "secure_cookie": False, "debug": True, "proxy": None}


@pytest.mark.parametrize(("changes", "named"), [
    ({"MIBG_SECRET_KEY": "k" * 50}, "MIBG_SECRET_KEY"),  # long but one character: Django's W009
    ({"MIBG_SECRET_KEY": "short-Key-1"}, "MIBG_SECRET_KEY"),
    ({"MIBG_SECRET_KEY": "django-insecure-" + secrets.token_urlsafe(50)}, "MIBG_SECRET_KEY"),
    ({"MIBG_PROXY_COUNT": "one"}, "MIBG_PROXY_COUNT"),
    ({"MIBG_PROXY_COUNT": "-1"}, "MIBG_PROXY_COUNT"),
    ({"MIBG_HSTS_PRELOAD": "perhaps"}, "MIBG_HSTS_PRELOAD"),
])
def test_a_weak_or_malformed_security_setting_stops_the_start_and_names_the_variable(tmp_path, changes, named):
    result = _python(SETTINGS, _env(tmp_path, **changes), tmp_path)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert named in result.stderr.strip().splitlines()[-1]

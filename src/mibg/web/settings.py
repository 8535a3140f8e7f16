"""Django settings, read from environment variables. A production setting that is missing stops the start.

MIBG_DEBUG        1 for a local trial (default 0: production). Production requires MIBG_SECRET_KEY,
                  MIBG_ALLOWED_HOSTS (comma-separated) and MIBG_HTTPS (1 behind TLS, 0 otherwise).
MIBG_DATA_DIR     where the SQLite file lives (default ./var); MIBG_SQLITE_NAME its name (default mibg.sqlite3).
DATABASE_URL      e.g. postgres://user@host:5432/db; SQLite when unset.
MIBG_TIME_ZONE    the clinic's time zone for entering and showing times (default America/Los_Angeles).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

WEB_DIR = Path(__file__).resolve().parent


def _flag(name: str, default: str) -> bool:
    raw = os.environ.get(name, default).strip().lower()
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r}: use 1 or 0")


def _required(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise ImproperlyConfigured(f"{name} is required when MIBG_DEBUG=0 (production). Set it, or set MIBG_DEBUG=1 "
                                   "for a local trial.")
    return value


DEBUG = _flag("MIBG_DEBUG", "0")
DATA_DIR = Path(os.environ.get("MIBG_DATA_DIR", "var")).resolve()

if DEBUG:
    # A local trial: a key kept in the data directory so sessions survive a restart.
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    _key_file = DATA_DIR / "secret_key"
    if not _key_file.exists():
        _key_file.write_text(secrets.token_urlsafe(50), encoding="utf-8")
        _key_file.chmod(0o600)
    SECRET_KEY = os.environ.get("MIBG_SECRET_KEY") or _key_file.read_text(encoding="utf-8").strip()
    ALLOWED_HOSTS = [h for h in os.environ.get("MIBG_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h]
    HTTPS = _flag("MIBG_HTTPS", "0")
else:
    SECRET_KEY = _required("MIBG_SECRET_KEY")
    if len(SECRET_KEY) < 32:
        raise ImproperlyConfigured("MIBG_SECRET_KEY must be at least 32 characters")
    ALLOWED_HOSTS = [h.strip() for h in _required("MIBG_ALLOWED_HOSTS").split(",") if h.strip()]
    HTTPS = _flag("MIBG_HTTPS", _required("MIBG_HTTPS"))

SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = HTTPS
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 12 * 3600  # one clinical shift
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "ninja",  # serves Swagger UI from its own static files: nothing is fetched from a CDN
    "mibg.web.accounts",
    "mibg.web.audit",
    "mibg.web.patients",
    "mibg.web.courses",
    "mibg.web.screening",
    "mibg.web.directives",
    "mibg.web.treatment",
    "mibg.web.followup",
    "mibg.web.radiation",
    "mibg.web.documents",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "mibg.web.middleware.content_security_policy",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "mibg.web.urls"
WSGI_APPLICATION = "mibg.web.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "patients:list"
LOGOUT_REDIRECT_URL = "login"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [WEB_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "mibg.web.permissions.context_processor",
            ],
            "builtins": ["mibg.web.templatetags.mibg"],
        },
    }
]

_database_url = os.environ.get("DATABASE_URL", "").strip()
if _database_url:
    DATABASES = {"default": dj_database_url.parse(_database_url, conn_max_age=60, conn_health_checks=True)}
else:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / os.environ.get("MIBG_SQLITE_NAME", "mibg.sqlite3"),
            # Writers wait for each other rather than failing at once (two nurses saving at the same moment).
            # WAL: readers go on while one writer commits (every page view writes an audit record); the
            # journal mode is kept in the file. synchronous stays FULL (SQLite's default): a commit is on disk.
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE",
                        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Argon2 first: new and re-hashed passwords use it.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
USE_I18N = False
USE_TZ = True  # stored in UTC, entered and shown in the clinic's zone with the zone named
TIME_ZONE = os.environ.get("MIBG_TIME_ZONE", "America/Los_Angeles")
FORMAT_MODULE_PATH = ["mibg.web.formats"]  # ISO dates everywhere: no day/month ambiguity

STATIC_URL = "/static/"
STATICFILES_DIRS = [WEB_DIR / "static"]  # the stylesheet and the vendored htmx: nothing comes from a CDN
STATIC_ROOT = DATA_DIR / "static"

# Drawn plots (mibg.web.plotcache), keyed by their data and drawing code: files, so every server process
# shares them. The default cache stays per process.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "plots": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": DATA_DIR / "plot-cache",
              "TIMEOUT": 30 * 24 * 3600, "OPTIONS": {"MAX_ENTRIES": 20000}},
}

MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}

"""Django settings, read from environment variables. A production setting that is missing stops the start.

MIBG_DEBUG        1 for a local trial (default 0: production). Production requires MIBG_SECRET_KEY (at least 50
                  characters, at least 5 different ones: Django's own rule, check security.W009),
                  MIBG_ALLOWED_HOSTS (comma-separated) and MIBG_HTTPS (1 behind TLS, 0 otherwise).
MIBG_HTTPS        1: plain http is redirected to https, HSTS for a year with subdomains, cookies sent only over
                  https. A local trial on http://127.0.0.1 keeps 0 (the default when MIBG_DEBUG=1).
MIBG_HSTS_PRELOAD 1 adds "preload" to HSTS (default 0): putting a domain on the browsers' preload list is a
                  decision for the hospital's whole domain, not for this application alone.
MIBG_PROXY_SSL_HEADER  only behind a reverse proxy that terminates TLS and always sets this header, e.g.
                  "X-Forwarded-Proto": a request is then treated as https when the header says "https". Unset
                  (the default), the header is ignored: a client could otherwise claim https itself.
MIBG_PROXY_COUNT  the number of reverse proxies in front of the application (default 0). When set, the client's
                  address for the login lockout is read from X-Forwarded-For, that many entries from the right
                  (the entries the proxies themselves added); otherwise from the connection (REMOTE_ADDR).
MIBG_SECURITY_CONTACT  who a locked-out user should call, shown on the lockout page (default "the site
                  administrator").
MIBG_DATA_DIR     where the SQLite file lives (default ./var); MIBG_SQLITE_NAME its name (default mibg.sqlite3).
DATABASE_URL      e.g. postgres://user@host:5432/db; SQLite when unset.
MIBG_TIME_ZONE    the clinic's time zone for entering and showing times (default America/Los_Angeles).
MIBG_EMAIL_HOST   event-report e-mail (mibg.web.eventreports.notify) in production goes by SMTP to this host
                  (default localhost), MIBG_EMAIL_PORT (default 25), MIBG_EMAIL_USER and MIBG_EMAIL_PASSWORD (when the
                  server asks), MIBG_EMAIL_TLS=1 (STARTTLS) or MIBG_EMAIL_SSL=1, from MIBG_EMAIL_FROM (default
                  mibg@localhost). With MIBG_DEBUG=1 (the demo) messages are printed on the console instead; the
                  tests read Django's in-memory outbox. MIBG_EVENT_REPORT_EMAILS: extra addresses (comma-separated)
                  that receive every event-report notification; MIBG_BASE_URL (e.g. https://mibg.example.org) makes
                  the link in the message absolute.
MIBG_CACHE_URL    redis://host:6379/0 (or rediss://, unix://): the shared cache of drawn plots and retention fits,
                  for more than one application server (production). Unset: files under MIBG_DATA_DIR, shared by
                  the processes of one server only. MIBG_CACHE_PREFIX separates installations on one Redis
                  (default "mibg").

Sign-in rules (the values are here; the reasons in mibg.web.accounts.security): a user is locked out after
5 failed passwords (or second-factor codes, or signature password re-entries) from one address, for 30
minutes; a session ends after 30 idle minutes; an administrator can require a TOTP second factor per role.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url
import django_stubs_ext
from django.core.exceptions import ImproperlyConfigured

from mibg.core.times import site_zone_name

# The admin classes are written ModelAdmin[Model], as django-stubs types them: this lets the classes Django does
# not make generic itself take the type argument at run time too (it changes nothing else).
django_stubs_ext.monkeypatch()

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
    # Django's own test of a strong key (check security.W009): 50 characters or more, 5 or more different.
    if len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5 or SECRET_KEY.startswith("django-insecure-"):
        raise ImproperlyConfigured("MIBG_SECRET_KEY must be a random string of at least 50 characters with at least 5 "
                                   "different ones, e.g. python -c 'import secrets; print(secrets.token_urlsafe(50))'")
    ALLOWED_HOSTS = [h.strip() for h in _required("MIBG_ALLOWED_HOSTS").split(",") if h.strip()]
    HTTPS = _flag("MIBG_HTTPS", _required("MIBG_HTTPS"))

SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = HTTPS
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = CSRF_COOKIE_SAMESITE = "Lax"
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
#: Idle timeout: a session unused for 30 minutes ends (mibg.web.middleware.idle_timeout; every request extends
#: it). The stored session itself lasts one clinical shift at most, after which it is gone whatever happens.
SESSION_IDLE_TIMEOUT = 30 * 60
#: The session's last request time is written at most this often (one write a minute, not one per request): the
#: idle time is counted from the time written, so a session ends after 29 to 30 idle minutes, never later.
SESSION_ACTIVITY_STEP = 60
SESSION_COOKIE_AGE = 12 * 3600
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Behind TLS: plain http is redirected, and browsers are told to use https only for a year, subdomains
# included (HSTS, RFC 6797). A local trial on http://127.0.0.1 must not send HSTS: the browser would then
# refuse plain http on that host for a year.
SECURE_SSL_REDIRECT = HTTPS
SECURE_HSTS_SECONDS = 365 * 24 * 3600 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS and _flag("MIBG_HSTS_PRELOAD", "0")
# Without MIBG_HSTS_PRELOAD the check that asks for "preload" (security.W021) is answered by the docstring
# above: joining the preload list is the hospital domain's decision. Every other deployment check stays on.
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD or not HTTPS else ["security.W021"]
_proxy_header = os.environ.get("MIBG_PROXY_SSL_HEADER", "").strip()
if _proxy_header:
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _proxy_header.upper().replace("-", "_"), "https")
try:
    PROXY_COUNT = int(os.environ.get("MIBG_PROXY_COUNT", "0"))
except ValueError:
    raise ImproperlyConfigured(f"MIBG_PROXY_COUNT={os.environ['MIBG_PROXY_COUNT']!r}: use a whole number (0 without a proxy)") from None
if PROXY_COUNT < 0:
    raise ImproperlyConfigured(f"MIBG_PROXY_COUNT={PROXY_COUNT}: use 0 or more")
SECURITY_CONTACT = os.environ.get("MIBG_SECURITY_CONTACT", "").strip() or "the site administrator"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "ninja",  # serves Swagger UI from its own static files: nothing is fetched from a CDN
    "axes",  # login lockout (mibg.web.accounts.security)
    "django_otp",  # TOTP second factor (mibg.web.accounts.two_factor)
    "django_otp.plugins.otp_totp",
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
    "mibg.web.eventreports",
    "mibg.web.plan",
    "mibg.web.trials",
    "mibg.web.analytics",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "mibg.web.staticfiles.StaticFilesMiddleware",  # the collected static files (whitenoise), before any session work
    "mibg.web.middleware.content_security_policy",
    "mibg.web.middleware.no_store",  # no cache keeps a page or an API answer (patient data)
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "mibg.web.middleware.idle_timeout",  # after the session and the user, before anything reads the page
    "django_otp.middleware.OTPMiddleware",  # request.user.is_verified(): the second factor was entered
    "mibg.web.accounts.two_factor.second_factor_gate",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns a lockout into the lockout page
]

# Axes first: it refuses a locked-out user before the password is even checked.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]

# Login lockout (django-axes). 5 failures for one user from one address lock that pair for 30 minutes: a
# product choice (issue 7), stricter than NIST SP 800-63B section 5.2.2 (at most 100 consecutive failures)
# because a clinical team is small and the administrator can unlock at once. By user AND address, so that
# nobody can lock a colleague out of every workstation; a different address or user is not locked. A success before
# the 5th failure clears the count: a login, a correct signature password, and for a user with a second
# factor the correct code (not the password alone), in mibg.web.accounts.security.clear_failures, hence
# axes' own reset is off. A failure while locked does not extend the lock, so the time on the lockout page
# stays true. The administrator can unlock at once (/accounts/lockouts/).
AXES_FAILURE_LIMIT = 5
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_COOLOFF_TIME = timedelta(minutes=30)
AXES_RESET_ON_SUCCESS = False
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "mibg.web.accounts.security.lockout_response"
AXES_CLIENT_IP_CALLABLE = "mibg.web.accounts.security.client_address"
AXES_HANDLER = "mibg.web.accounts.security.AttemptHandler"  # stores no form data (it could hold clinical values)
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "password", "code"]
AXES_VERBOSE = False
# Unlocking goes through /accounts/lockouts/, which records who unlocked whom; axes' admin pages would not.
AXES_ENABLE_ADMIN = False
# Logins are in the audit trail already; axes keeps only the failures it counts (no second login log).
AXES_DISABLE_ACCESS_LOG = True

# TOTP (RFC 6238) second factor: 6 digits, 30 s steps, one step either side accepted (django-otp's defaults);
# a code is accepted once only.
OTP_TOTP_ISSUER = "mibg NCT01370330"

ROOT_URLCONF = "mibg.web.urls"
WSGI_APPLICATION = "mibg.web.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"  # the patient list, or an administrator's own page (mibg.web.views.home)
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
            "NAME": str(DATA_DIR / os.environ.get("MIBG_SQLITE_NAME", "mibg.sqlite3")),
            # Writers wait for each other rather than failing at once (two nurses saving at the same moment).
            # WAL: readers never block the writer and a crash mid-write leaves the last committed state
            # (https://sqlite.org/wal.html). synchronous=FULL: in WAL mode NORMAL may lose the last commits on
            # power loss; FULL syncs the log at every commit, so a saved record stays saved
            # (https://sqlite.org/pragma.html#pragma_synchronous). PostgreSQL (DATABASE_URL) is the production path.
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE",
                        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL"},
            # Each server thread keeps its connection for a minute, as on PostgreSQL: opening one (the file, the
            # pragmas, Django's SQL functions) cost about 1.8 ms of CPU, on every request (bench/RESULTS.md).
            "CONN_MAX_AGE": 60,
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
# Django's translation framework: the family's written instructions are printed in English or Spanish
# (mibg.web.radiation.family_sheet; the review of each translation is recorded in the protocol definition).
# The interface itself stays in English (no LocaleMiddleware): a sheet's language is chosen per document.
USE_I18N = True
LANGUAGES = [("en", "English"), ("es", "Español")]
LOCALE_PATHS = [Path(__file__).resolve().parent / "locale"]
USE_TZ = True  # stored in UTC, entered and shown in the clinic's zone with the zone named
TIME_ZONE = site_zone_name()  # MIBG_TIME_ZONE, read in one place with the one time format (mibg.core.times)
FORMAT_MODULE_PATH = ["mibg.web.formats"]  # ISO dates everywhere: no day/month ambiguity

STATIC_URL = "/static/"
STATICFILES_DIRS = [WEB_DIR / "static"]  # the stylesheet and the vendored htmx: nothing comes from a CDN
STATIC_ROOT = DATA_DIR / "static"
# Static files are served by the application itself (whitenoise: mibg.web.staticfiles), from STATIC_ROOT as collected by
# `mibg serve`: each file under a name with a hash of its content (style.4f1c2a.css) sent with a year's
# Cache-Control ("immutable"), gzip-compressed beside it; a new release has new names, so no browser keeps an old
# file. Before anything is collected (the test suites, `mibg serve --dev`) the plain names are used and Django's
# development server serves them from the source.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "mibg.web.staticfiles.HashedStaticFiles"},
}
WHITENOISE_AUTOREFRESH = False  # the files are read once, when a server process starts (even in a local trial)
WHITENOISE_USE_FINDERS = False  # only the collected files, never the source folders

# Drawn plots and retention fits (mibg.web.plotcache), keyed by everything they are computed from, so an entry is
# never stale and needs no invalidation. With MIBG_CACHE_URL they live in Redis and every application server shares
# them (the production layout in the README); otherwise in files, shared by one server's processes. The default
# cache stays per process either way (nothing that must be shared lives in it: lockouts and sessions are in the
# database).
CACHE_URL = os.environ.get("MIBG_CACHE_URL", "").strip()
CACHE_PREFIX = os.environ.get("MIBG_CACHE_PREFIX", "mibg").strip() or "mibg"
RESULTS_TIMEOUT = 30 * 24 * 3600
if CACHE_URL:
    if not CACHE_URL.startswith(("redis://", "rediss://", "unix://")):
        raise ImproperlyConfigured(f"MIBG_CACHE_URL={CACHE_URL.split('@')[-1]!r}: use a Redis URL such as "
                                   "redis://127.0.0.1:6379/0 (or leave it unset for the local file cache)")
    _RESULTS_CACHE: dict[str, Any] = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL,
                                      "KEY_PREFIX": f"{CACHE_PREFIX}:results", "TIMEOUT": RESULTS_TIMEOUT}
else:
    _RESULTS_CACHE = {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                      "LOCATION": DATA_DIR / "plot-cache", "TIMEOUT": RESULTS_TIMEOUT,
                      "OPTIONS": {"MAX_ENTRIES": 20000}}
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "plots": _RESULTS_CACHE,
}

# E-mail (event reports, issue 13 §3): SMTP from the environment in production, the console in a local trial.
EMAIL_BACKEND = ("django.core.mail.backends.console.EmailBackend" if DEBUG
                 else "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = os.environ.get("MIBG_EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("MIBG_EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("MIBG_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("MIBG_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = _flag("MIBG_EMAIL_TLS", "0")
EMAIL_USE_SSL = _flag("MIBG_EMAIL_SSL", "0")
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured("MIBG_EMAIL_TLS and MIBG_EMAIL_SSL: set one of them, not both")
EMAIL_TIMEOUT = 20
DEFAULT_FROM_EMAIL = os.environ.get("MIBG_EMAIL_FROM", "mibg@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
MIBG_EVENT_REPORT_EMAILS = [a.strip() for a in os.environ.get("MIBG_EVENT_REPORT_EMAILS", "").split(",") if a.strip()]
MIBG_BASE_URL = os.environ.get("MIBG_BASE_URL", "").rstrip("/")

MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # The server's request lines as Django writes them (django.utils.log.DEFAULT_LOGGING), without the query
    # string: a patient search (?q=<name or MRN>) would otherwise put a patient's name in the log.
    "filters": {"no_query_string": {"()": "mibg.web.logs.NoQueryString"}},
    "formatters": {"server": {"()": "django.utils.log.ServerFormatter", "format": "[{server_time}] {message}",
                              "style": "{"}},
    "handlers": {"console": {"class": "logging.StreamHandler"},
                 "server": {"class": "logging.StreamHandler", "level": "INFO", "formatter": "server",
                            "filters": ["no_query_string"]}},
    "loggers": {"django.server": {"handlers": ["server"], "level": "INFO", "propagate": False}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}

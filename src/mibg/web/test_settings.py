"""Settings for the test suites: the application's settings in local-trial mode, with a fast password hash.

Production keeps Argon2 first (settings.py; a test checks it). Tests create many users, and Argon2 is
deliberately slow, so here the first hasher is a fast one.
"""

import os
import tempfile

os.environ.setdefault("MIBG_DEBUG", "1")
os.environ.setdefault("MIBG_DATA_DIR", os.path.join(tempfile.gettempdir(), "mibg-test-data"))

from mibg.web.settings import *  # noqa: F403
from mibg.web.settings import PASSWORD_HASHERS

PRODUCTION_PASSWORD_HASHERS = list(PASSWORD_HASHERS)
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]
DEBUG = False
# The suites serve the static files from the source folders (pytest-django's live server), by their plain names,
# whatever a `mibg serve` may have collected into the data directory.
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405

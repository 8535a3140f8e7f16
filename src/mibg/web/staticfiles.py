"""Static files served by the application itself (whitenoise), under names that change when their content does.

``mibg serve`` (gunicorn) collects the files first (``collectstatic``): each is stored under a name with a hash
of its content (``mibg/style.4f1c2a9e0b7d.css``) and gzip-compressed beside it, and pages link to those names.
A hashed file is sent with ``Cache-Control: max-age=315360000, public, immutable``: a browser asks for it once,
and a new release links to new names, so nobody sees an old stylesheet. Files are never patient data (the
``no_store`` middleware leaves them alone).

Before anything is collected (the test suites, which serve the source folders) and under Django's development
server (``mibg serve --dev``, which serves the source folders itself), pages link to the plain names.
"""

from __future__ import annotations

import os
from typing import Any

from django.contrib.staticfiles.storage import StaticFilesStorage
from whitenoise.middleware import WhiteNoiseMiddleware
from whitenoise.storage import CompressedManifestStaticFilesStorage


class HashedStaticFiles(CompressedManifestStaticFilesStorage):  # type: ignore[misc]
    """Hashed names once collected, in a local trial (DEBUG) too; the plain names before, or under ``--dev``."""

    #: Set by ``mibg serve --dev`` (Django's development server serves the source folders, by their plain names).
    plain_names = False

    def url(self, name: Any, force: bool = False) -> str:
        if self.plain_names or not self.hashed_files:
            return StaticFilesStorage.url(self, name)
        # force: Django would otherwise link to the plain names whenever DEBUG is on (the demo runs with it).
        return str(super().url(name, force=True))


class StaticFilesMiddleware(WhiteNoiseMiddleware):  # type: ignore[misc]
    """whitenoise's middleware, quiet when nothing has been collected yet (no STATIC_ROOT folder)."""

    def add_files(self, root: str, prefix: str | None = None) -> None:
        if os.path.isdir(root):
            super().add_files(root, prefix=prefix)

"""`mibg serve --workers N` runs the real gunicorn: its access log names no patient (issue 11, edges).

A patient search is a GET (``/patients/?q=<name or MRN>``); the page after it is asked for with that URL as
the Referer. gunicorn's default access-log line writes both; the line `mibg serve` configures keeps the
method, the path (ids only), the status, the size and the time.
"""

from __future__ import annotations

import pytest
from server_process import ServerProcess

pytestmark = pytest.mark.one_backend  # a gunicorn child on its own SQLite file, whatever DATABASE_URL says


def test_the_gunicorn_access_log_keeps_no_query_string_and_no_referer(tmp_path):
    server = ServerProcess(tmp_path, None, serve_args=("--workers", "1"))
    tokens = server.prepare(("nora",))["tokens"]
    server.start()
    try:
        status, _body = server.request("GET", "/api/patients?q=Okonkwo-DEMO-7731&limit=5", token=tokens["nora"],
                                       headers={"Referer": "http://127.0.0.1/patients/?q=Abernathy-DEMO-4410"})
        assert status == 200
    finally:
        server.stop()
    log = server.log.read_text(errors="replace")
    assert "gunicorn" in log.lower()  # the real gunicorn served it, not Django's development server
    assert '"GET /api/patients HTTP/1.1" 200' in log, log[-2000:]
    for secret in ("Okonkwo", "Abernathy", "DEMO-7731", "DEMO-4410", "q=", "limit="):
        assert secret not in log, secret


def test_mibg_serve_runs_gunicorn_by_default_and_sends_hashed_static_files_with_far_future_cache_headers(tmp_path):
    """issue 15, Speed: the production server by default, and the static files served properly: pages link to
    names that carry a hash of the content, sent compressed with a year's immutable Cache-Control; a page itself
    is never kept (no-store)."""
    import re

    server = ServerProcess(tmp_path, None)  # no --workers, no --dev
    server.prepare(())
    server.start()
    try:
        status, body, headers = server.exchange("GET", "/accounts/login/")
        assert status == 200
        assert "no-store" in headers["Cache-Control"]
        links = re.findall(r'/static/mibg/[\w.-]+', body.decode())
        stylesheet = next(link for link in links if link.startswith("/static/mibg/style."))
        assert re.fullmatch(r"/static/mibg/style\.[0-9a-f]{12}\.css", stylesheet), links
        status, _css, headers = server.exchange("GET", stylesheet, headers={"Accept-Encoding": "gzip"})
        assert status == 200
        assert headers["Cache-Control"] == "max-age=315360000, public, immutable"
        assert headers["Content-Encoding"] == "gzip"
        # A plain name still answers (an old bookmark), but is not kept for long.
        status, _css, headers = server.exchange("GET", "/static/mibg/style.css")
        assert status == 200
        assert "immutable" not in headers["Cache-Control"]
        # Only the collected files are served: a path climbing out of them is not.
        for path in ("/static/../settings.py", "/static/mibg/../../urls.py", "/static/%2e%2e/settings.py"):
            status, content, _headers = server.exchange("GET", path)
            assert status in (302, 400, 404), (path, status)
            assert b"SECRET_KEY" not in content
            assert b"urlpatterns" not in content
    finally:
        server.stop()
    assert "Starting gunicorn" in server.log.read_text(errors="replace")

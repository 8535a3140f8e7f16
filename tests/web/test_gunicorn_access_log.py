"""`mibg serve --workers N` runs the real gunicorn: its access log names no patient (issue 11, edges).

A patient search is a GET (``/patients/?q=<name or MRN>``); the page after it is asked for with that URL as
the Referer. gunicorn's default access-log line writes both; the line `mibg serve` configures keeps the
method, the path (ids only), the status, the size and the time.
"""

from __future__ import annotations

from server_process import ServerProcess


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

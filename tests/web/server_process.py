"""A real mibg server in its own process group, on a database of its own, for the fault and concurrency tests.

The server is the application's own ``mibg serve`` (threaded: each request on its own thread with its own
database connection), started with ``start_new_session`` so that ``kill -9`` of its process group takes
every process it started. The database is whichever the test settings use: a SQLite file in a temporary
directory, or, when the settings point at PostgreSQL (DATABASE_URL), a scratch database created next to
the test database and dropped afterwards, so the pytest-django test database is never touched.
"""

from __future__ import annotations

import contextlib
import html.parser
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

from clinic_helpers import PASSWORD, PERSONAS

SQLITE_NAME = "server.sqlite3"


def on_postgresql() -> bool:
    from django.conf import settings

    return "postgresql" in settings.DATABASES["default"]["ENGINE"]


@contextlib.contextmanager
def scratch_database(purpose: str) -> Iterator[str | None]:
    """A PostgreSQL URL of a new, empty database (dropped afterwards) when the settings use PostgreSQL; else None."""
    if not on_postgresql():
        yield None
        return
    import psycopg
    from django.conf import settings

    db = settings.DATABASES["default"]
    # Its own name per run: the CI runs test files on two workers at once, each with its own databases.
    name = f"mibg_{purpose}_{uuid.uuid4().hex[:10]}"
    params = {"host": db.get("HOST") or "127.0.0.1", "port": db.get("PORT") or 5432, "user": db.get("USER") or "postgres",
              "password": db.get("PASSWORD") or None, "dbname": "postgres", "autocommit": True}
    with psycopg.connect(**params) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    auth = quote(str(params["user"])) + (f":{quote(str(params['password']))}" if params["password"] else "")
    try:
        yield f"postgres://{auth}@{params['host']}:{params['port']}/{name}"
    finally:
        with psycopg.connect(**params) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class _FormReader(html.parser.HTMLParser):
    """What a browser would post for the forms of a page as rendered: inputs (checked boxes only; no buttons),
    the selected option of each select (else its first), textareas."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.values: dict[str, str] = {}
        self._select: str | None = None
        self._first_option: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        name = a.get("name", "")
        if tag == "input" and name:
            kind = a.get("type", "text").lower()
            if kind in ("submit", "button", "image", "file", "reset"):
                return
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            self.values[name] = a.get("value", "on" if kind in ("checkbox", "radio") else "")
        elif tag == "select":
            self._select, self._first_option = name, None
        elif tag == "option" and self._select:
            value = a.get("value", "")
            if self._first_option is None:
                self._first_option = value
            if "selected" in a:
                self.values[self._select] = value
        elif tag == "textarea" and name:
            self._textarea = name
            self.values[name] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "select" and self._select:
            self.values.setdefault(self._select, self._first_option or "")
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea:
            if not self.values[self._textarea]:
                data = data.removeprefix("\n")  # as browsers do: the newline after <textarea> is not content
            self.values[self._textarea] += data


def form_values(page: str) -> dict[str, str]:
    reader = _FormReader()
    reader.feed(page)
    return reader.values


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServerProcess:
    """``mibg serve`` on ``data_dir`` (SQLite) or ``database_url`` (PostgreSQL), in local-trial mode."""

    def __init__(self, data_dir: Path, database_url: str | None, *, serve_args: tuple[str, ...] = (),
                 extra_env: dict[str, str] | None = None) -> None:
        self.data_dir = data_dir
        self.serve_args = serve_args
        self.database_url = database_url
        self.process: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.log = data_dir / "server.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("MIBG_", "DATABASE_URL", "DJANGO_"))}
        env.update({"MIBG_DEBUG": "1", "MIBG_DATA_DIR": str(data_dir), "MIBG_SQLITE_NAME": SQLITE_NAME,
                    "DJANGO_SETTINGS_MODULE": "mibg.web.settings", "PYTHONUNBUFFERED": "1"})
        if database_url:
            env["DATABASE_URL"] = database_url
        self.env = {**env, **(extra_env or {})}

    @property
    def sqlite_file(self) -> Path:
        return self.data_dir / SQLITE_NAME

    def django(self, code: str, timeout: float = 180) -> Any:
        """Run ``code`` in a separate Python process set up with the server's settings; its printed JSON."""
        script = "import json, django\ndjango.setup()\n" + code
        result = subprocess.run([sys.executable, "-c", script], env=self.env, cwd=self.data_dir, capture_output=True,
                                text=True, timeout=timeout)
        assert result.returncode == 0, result.stderr[-3000:]
        return json.loads(result.stdout.strip().splitlines()[-1])

    def prepare(self, names: tuple[str, ...], then: str = "") -> dict[str, Any]:
        """Migrate the empty database and make the personas ``names``, each with an API token.

        ``then`` is more setup code run in the same process with ``people`` (name -> user) and ``out`` (a dict
        returned along with ``tokens``, name -> raw token).
        """
        personas = {n: PERSONAS[n] for n in names}
        return self.django(
            "from django.core.management import call_command\n"
            "call_command('migrate', interactive=False, verbosity=0)\n"
            "from mibg.web.demo import make_user\n"
            "from mibg.web.accounts.models import ApiToken\n"
            f"personas = json.loads({json.dumps(json.dumps(personas))})\n"
            f"people = {{name: make_user(name, roles, {PASSWORD!r}, printed) for name, (roles, printed) in personas.items()}}\n"
            "out = {'tokens': {name: ApiToken.issue(user, 'server test')[1] for name, user in people.items()}}\n"
            + then + "\nprint(json.dumps(out))\n")

    def start(self, timeout: float = 60) -> None:
        self.port = free_port()
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "mibg.cli", "serve", "--port", str(self.port), *self.serve_args], env=self.env,
                cwd=self.data_dir,
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"the server stopped: {self.log.read_text(errors='replace')[-3000:]}"
            with contextlib.suppress(OSError):
                status, _body = self.request("GET", "/healthz", timeout=2)
                if status == 200:
                    return
            time.sleep(0.1)
        raise AssertionError(f"the server did not answer within {timeout} s: {self.log.read_text(errors='replace')[-3000:]}")

    def kill_hard(self) -> None:
        """``kill -9`` of the server's whole process group: no shutdown code of any process runs."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=15)

    def request(self, method: str, path: str, body: Any = None, *, token: str | None = None,
                headers: dict[str, str] | None = None, timeout: float = 60) -> tuple[int, bytes]:
        """One request on a new connection (as separate browsers or API clients would make)."""
        status, content, _headers = self.exchange(method, path, body, token=token, headers=headers, timeout=timeout)
        return status, content

    def exchange(self, method: str, path: str, body: Any = None, *, token: str | None = None,
                 headers: dict[str, str] | None = None, timeout: float = 60) -> tuple[int, bytes, http.client.HTTPMessage]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            all_headers = dict(headers or {})
            data: bytes | None = None
            if body is not None:
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                all_headers.setdefault("Content-Type", "application/json")
            if token:
                all_headers["Authorization"] = f"Bearer {token}"
            conn.request(method, path, body=data, headers=all_headers)
            response = conn.getresponse()
            return response.status, response.read(), response.headers
        finally:
            conn.close()

    def api(self, method: str, path: str, token: str, body: Any = None) -> tuple[int, Any]:
        status, content = self.request(method, f"/api{path}", body, token=token)
        return status, json.loads(content) if content else None


class KeptAliveClient:
    """An API client on one HTTP/1.1 connection kept open between requests, as an integration would keep it
    (and as browsers do): the server then serves it on one thread with one database connection, rather than
    opening a database connection per request. A failed connection is dropped and the next request opens anew."""

    def __init__(self, server: ServerProcess, token: str) -> None:
        self.server, self.token = server, token
        self.conn: http.client.HTTPConnection | None = None

    def api(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=60)
        try:
            self.conn.request(method, f"/api{path}", body=None if body is None else json.dumps(body).encode(),
                              headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"})
            response = self.conn.getresponse()
            content = response.read()
        except BaseException:
            self.close()
            raise
        return response.status, json.loads(content) if content else None

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

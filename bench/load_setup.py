"""Prepare bench_load.sh: a read-only bench user with an API token and a logged-in session, and the wrk Lua
script that rotates over read URLs of many generated patients and courses (written to the path given).

    python bench/load_setup.py OUT.lua {api|pages}
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench_settings")

import django

django.setup()

from bench_pages import bench_user  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY  # noqa: E402
from django.contrib.sessions.backends.db import SessionStore  # noqa: E402
from django.core.management import call_command  # noqa: E402


def main() -> int:
    out, kind = Path(sys.argv[1]), sys.argv[2]
    call_command("migrate", interactive=False, verbosity=0)
    from mibg.web.courses.models import Course

    user, token = bench_user()
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    # 40 closed courses spread over the programme (each with its labs and readings) and their patients.
    ids = list(Course.objects.filter(state="closed").order_by("pk").values_list("pk", "patient_id"))
    if not ids:
        print("load_setup: no closed course: generate the programme first", file=sys.stderr)
        return 1
    chosen = ids[:: max(1, len(ids) // 40)][:40]
    if kind == "api":
        paths = ["/api/patients?limit=50", "/api/patients?q=SYN-01&limit=50"]
        for course, patient in chosen:
            paths += [f"/api/patients/{patient}/courses", f"/api/courses/{course}/labs", f"/api/courses/{course}/readings"]
    else:
        paths = ["/patients/", "/patients/?page=20", "/patients/?q=SYN-01"]
        for course, patient in chosen:
            paths += [f"/patients/{patient}/", f"/courses/{course}/", f"/followup/courses/{course}/",
                      f"/courses/{course}/readings/"]
    lua = ["-- written by bench/load_setup.py: rotate over read URLs, count answers that are not 2xx",
           "local paths = {" + ", ".join(f'"{p}"' for p in paths) + "}",
           f'wrk.headers["Authorization"] = "Bearer {token}"',
           f'wrk.headers["Cookie"] = "{settings.SESSION_COOKIE_NAME}={session.session_key}"',
           'wrk.headers["Host"] = "127.0.0.1"',
           "local threads = {}",
           "function setup(thread) table.insert(threads, thread) end",
           "function init(args) counter = math.random(#paths); bad = 0 end",
           "function request() counter = counter % #paths + 1; return wrk.format('GET', paths[counter]) end",
           "function response(status, headers, body) if status < 200 or status > 299 then bad = bad + 1 end end",
           "function done(summary, latency, requests)",
           "  local errors = 0",
           "  for _, t in ipairs(threads) do errors = errors + t:get('bad') end",
           "  io.write(string.format('requests/s: %.1f\\n', summary.requests / (summary.duration / 1e6)))",
           "  for _, p in ipairs({50, 90, 95, 99}) do",
           "    io.write(string.format('latency p%d: %.1f ms\\n', p, latency:percentile(p) / 1000))",
           "  end",
           "  io.write(string.format('answers not 2xx: %d of %d; socket errors: connect %d, read %d, write %d, timeout %d\\n',",
           "    errors, summary.requests, summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.timeout))",
           "end"]
    out.write_text("\n".join(lua) + "\n", encoding="utf-8")
    # For the warm-up pass: the URLs, and the headers curl sends.
    out.with_suffix(".urls").write_text("\n".join(paths) + "\n", encoding="utf-8")
    out.with_suffix(".headers").write_text(f"Authorization: Bearer {token}\n"
                                           f"Cookie: {settings.SESSION_COOKIE_NAME}={session.session_key}\n",
                                           encoding="utf-8")
    print(f"load_setup: {len(paths)} {kind} URLs over {len(chosen)} courses -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

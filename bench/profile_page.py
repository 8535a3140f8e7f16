"""Profile one page with pyinstrument: where a page's server time goes (issue 14: "profile first").

Same set-up as bench_pages.py (the bench settings, the generated programme, a logged-in read-only monitor), then
--requests requests of one URL under pyinstrument, after warm-up requests; prints the call tree (or writes HTML)
and the queries of one request.

    python bench/profile_page.py --sqlite var-bench/programme.sqlite3 course
    python bench/profile_page.py --sqlite var-bench/programme.sqlite3 /patients/ --html out.html

The page is a path, or one of the names: list, patient, course, followup, radiation.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_pages import bench_user, configure, ensure_programme, targets


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--sqlite", default="var-bench/programme.sqlite3")
    where.add_argument("--database-url")
    parser.add_argument("page", help="a path, or list, patient, course, followup, radiation")
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--html", help="write pyinstrument's HTML here instead of printing the tree")
    parser.add_argument("--queries", action="store_true", help="print the SQL of one request")
    args = parser.parse_args()
    configure(args)
    ensure_programme()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from pyinstrument import Profiler

    user, _ = bench_user()
    t = targets()
    url = {"list": "/patients/", "patient": f"/patients/{t['patient']}/", "course": f"/courses/{t['course']}/",
           "followup": f"/followup/courses/{t['course']}/",
           "radiation": f"/courses/{t['course']}/radiation/"}.get(args.page, args.page)
    client = Client()
    client.force_login(user)
    for _ in range(args.warmup):
        assert client.get(url).status_code == 200
    with CaptureQueriesContext(connection) as context:
        client.get(url)
    print(f"{url}: {len(context.captured_queries)} queries")
    if args.queries:
        for q in context.captured_queries:
            print(f"  {q['time']} {q['sql'][:300]}")
    profiler = Profiler(interval=0.0005)
    profiler.start()
    for _ in range(args.requests):
        client.get(url)
    profiler.stop()
    if args.html:
        Path(args.html).write_text(profiler.output_html(), encoding="utf-8")
    else:
        print(profiler.output_text(unicode=False, color=False, show_all=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""CPU per audited API read, in process, through Django's whole WSGI handler (issue 14: audited reads at 300/s).

Same set-up as bench_load.sh's API reads (the bench settings, the generated programme, the read-only monitor's
bearer token, the same rotation of 122 read URLs, 120 of them audited), but no server and no network: each request is
a WSGI call of ``mibg.web.wsgi.application`` with the token header, its body read to the end. Prints the CPU time
(``time.process_time``) per request over --requests requests after warm-up, which the machine's other load inflates
far less than wall time; --profile prints cProfile's heaviest functions (CPU time), --tree pyinstrument's call tree.

    python bench/profile_api.py --sqlite var-bench/programme.sqlite3
    python bench/profile_api.py --database-url postgres://postgres@127.0.0.1:5432/h_perf --profile
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_pages import bench_user, configure, ensure_programme


def api_paths() -> list[str]:
    """The URLs bench_load.sh's API reads rotate over (bench/load_setup.py)."""
    from mibg.web.courses.models import Course

    ids = list(Course.objects.filter(state="closed").order_by("pk").values_list("pk", "patient_id"))
    chosen = ids[:: max(1, len(ids) // 40)][:40]
    paths = ["/api/patients?limit=50", "/api/patients?q=SYN-01&limit=50"]
    for course, patient in chosen:
        paths += [f"/api/patients/{patient}/courses", f"/api/courses/{course}/labs", f"/api/courses/{course}/readings"]
    return paths


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--sqlite", default="var-bench/programme.sqlite3")
    where.add_argument("--database-url")
    parser.add_argument("--requests", type=int, default=600)
    parser.add_argument("--warmup", type=int, default=130)
    parser.add_argument("--profile", action="store_true", help="cProfile (CPU time): the heaviest functions")
    parser.add_argument("--tree", action="store_true", help="pyinstrument's call tree")
    parser.add_argument("--only", help="only the paths containing this text")
    parser.add_argument("--digest", action="store_true",
                        help="print the SHA-256 of every answer (status, headers but the date, body) of one round of the "
                             "URLs, to compare two versions of the code byte for byte")
    args = parser.parse_args()
    configure(args)
    ensure_programme()
    from django.core.wsgi import get_wsgi_application

    application = get_wsgi_application()
    _, token = bench_user()
    paths = [p for p in api_paths() if not args.only or args.only in p]

    def call(path: str) -> bytes:
        route, _, query = path.partition("?")
        environ: dict[str, Any] = {
            "REQUEST_METHOD": "GET", "PATH_INFO": route, "QUERY_STRING": query, "SCRIPT_NAME": "",
            "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000", "SERVER_PROTOCOL": "HTTP/1.1",
            "HTTP_HOST": "127.0.0.1", "HTTP_AUTHORIZATION": f"Bearer {token}", "REMOTE_ADDR": "127.0.0.1",
            "wsgi.input": io.BytesIO(), "wsgi.errors": sys.stderr, "wsgi.url_scheme": "http",
            "wsgi.version": (1, 0), "wsgi.multithread": True, "wsgi.multiprocess": True, "wsgi.run_once": False}
        status: list[str] = []
        headers: list[tuple[str, str]] = []

        def start_response(line: str, sent: list[tuple[str, str]], exc_info: Any = None) -> None:
            status.append(line)
            headers.extend(sent)

        body = application(environ, start_response)
        content = b"".join(body)
        body.close()
        if not status[0].startswith("200"):
            raise SystemExit(f"{path}: {status[0]}")
        return repr((status, sorted(h for h in headers if h[0].lower() != "date"))).encode() + content

    if args.digest:
        import hashlib

        for path in paths:
            print(hashlib.sha256(call(path)).hexdigest(), path)
        return 0
    for i in range(args.warmup):
        call(paths[i % len(paths)])
    if args.profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile(time.process_time)
        profiler.enable()
    elif args.tree:
        from pyinstrument import Profiler

        tree = Profiler(interval=0.0005)
        tree.start()
    started = time.process_time()
    for i in range(args.requests):
        call(paths[i % len(paths)])
    cpu = time.process_time() - started
    if args.profile:
        profiler.disable()
        stats = pstats.Stats(profiler)
        stats.sort_stats("cumulative").print_stats(60)
        stats.sort_stats("tottime").print_stats(40)
    elif args.tree:
        tree.stop()
        print(tree.output_text(unicode=False, color=False, show_all=False))
    print(f"{args.requests} API reads over {len(paths)} URLs: {cpu * 1000 / args.requests:.2f} ms CPU per request")
    return 0


if __name__ == "__main__":
    sys.exit(main())

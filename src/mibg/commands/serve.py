"""`mibg serve`: migrate the database, then serve the web application.

Settings come from the environment (see mibg.web.settings): MIBG_DEBUG=1 for a local trial; production needs
MIBG_SECRET_KEY, MIBG_ALLOWED_HOSTS and MIBG_HTTPS. DATABASE_URL selects PostgreSQL; SQLite otherwise.
The server is gunicorn (--workers processes of 2 threads each; by default 2 per core), for production behind a
TLS proxy; the static files are collected first and served by the application itself under hashed names with
far-future cache headers (mibg.web.staticfiles). --dev runs Django's development server instead (one process,
static files from the source folders), for working on the code. bench/RESULTS.md has the figures on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import sys

from mibg.cli import EXIT_OK, fail


def port_number(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{raw}' is not a port number") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a port number (1-65535)")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=port_number, default=8000, help="port (default 8000)")
    parser.add_argument("--no-migrate", action="store_true", help="do not apply database migrations first")
    add_server_arguments(parser)


def add_server_arguments(parser: argparse.ArgumentParser, workers: str = "") -> None:
    """--workers and --dev, for `mibg serve` and `mibg demo` (``workers``: the default, said in the help)."""
    parser.add_argument("--workers", type=worker_count, default=None,
                        help=f"gunicorn worker processes, 2 threads each (default {workers or default_workers()}"
                             f"{'' if workers else ': 2 per core'})")
    parser.add_argument("--dev", action="store_true",
                        help="Django's development server instead of gunicorn (one process; static files from the "
                             "source folders): for working on the code, never for production")


def default_workers() -> int:
    """2 processes per core: one runs while the other waits on the database (bench/RESULTS.md, 2 cores)."""
    return max(2, min(2 * (os.cpu_count() or 1), 16))


def worker_count(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{raw}' is not a whole number") from None
    if not 1 <= value <= 64:
        raise argparse.ArgumentTypeError(f"{value} is not between 1 and 64")
    return value


def setup_django() -> str | None:
    """Configure Django from the environment; the error message when a setting is missing or wrong."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mibg.web.settings")
    import django
    from django.core.exceptions import ImproperlyConfigured

    try:
        django.setup()
    except ImproperlyConfigured as error:
        return str(error)
    return None


def migrate() -> None:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def serve(host: str, port: int) -> int:
    """Django's development server (``--dev``): static files from the source folders, by their plain names."""
    from django.conf import settings
    from django.core.management import call_command

    from mibg.web.staticfiles import HashedStaticFiles

    HashedStaticFiles.plain_names = True
    print(f"mibg: serving http://{host}:{port}/ with Django's development server (--dev; "
          f"{'local trial' if settings.DEBUG else 'production settings'}); Ctrl-C stops.", flush=True)
    call_command("runserver", f"{host}:{port}", use_reloader=False, use_threading=True, insecure_serving=True,
                 skip_checks=False)
    return EXIT_OK


#: gunicorn's access log line without the query string and without the Referer (a patient search is a GET,
#: ``/patients/?q=<name or MRN>``, and the next page's Referer carries it): gunicorn's default format writes the
#: request line as sent (``%(r)s``) and the Referer (``%(f)s``). ``%(U)s`` is the path alone (ids only).
ACCESS_LOG_FORMAT = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(L)s'


def serve_gunicorn(host: str, port: int, workers: int) -> int:
    """Production serving: collect the static files (hashed names, compressed), then run gunicorn in this process."""
    from django.conf import settings
    from django.core.management import call_command
    from gunicorn.app.wsgiapp import WSGIApplication

    call_command("collectstatic", interactive=False, verbosity=0)
    print(f"mibg: serving http://{host}:{port}/ with gunicorn, {workers} workers x 2 threads "
          f"({'local trial' if settings.DEBUG else 'production settings'}); Ctrl-C stops.", flush=True)
    argv = ["gunicorn", "mibg.web.wsgi:application", "--bind", f"{host}:{port}", "--workers", str(workers),
            "--threads", "2", "--worker-class", "gthread", "--keep-alive", "30", "--access-logfile", "-",
            "--access-logformat", ACCESS_LOG_FORMAT,
            # no control socket: it would be one path in the home folder for every server on the machine
            "--no-control-socket"]
    sys.argv = argv  # gunicorn reads its options from the command line
    WSGIApplication("%(prog)s [OPTIONS] [APP_MODULE]").run()
    return EXIT_OK


def definition_error(path: str | None = None) -> str | None:
    """Why the protocol definition cannot be read whole, or None. Its sections are parsed when first read (for the
    dose command's start); a server parses them all before it serves."""
    from mibg.protocol.loader import load_protocol, parse_every_section

    try:
        parse_every_section(load_protocol(path))
    except (KeyError, TypeError, ValueError, ArithmeticError) as error:
        return f"{type(error).__name__}: {error}"
    return None


def run(args: argparse.Namespace) -> int:
    error = setup_django()
    if error:
        return fail(f"serve: {error}")
    error = definition_error()
    if error:
        return fail(f"serve: the protocol definition cannot be read: {error}")
    from django.db import DatabaseError

    if not args.no_migrate:
        try:
            migrate()
        except DatabaseError as db_error:
            return fail(f"serve: the database is not reachable or not usable: {db_error}")
    return start(args)


def start(args: argparse.Namespace, workers: int | None = None) -> int:
    """gunicorn (``--workers``, else ``workers``, else 2 per core), or Django's development server with --dev."""
    if args.dev:
        if args.workers is not None:
            return fail("--dev runs one process: leave out --workers")
        return serve(args.host, args.port)
    return serve_gunicorn(args.host, args.port, args.workers or workers or default_workers())

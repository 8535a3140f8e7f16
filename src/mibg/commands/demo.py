"""`mibg demo`: a demo database (its own SQLite file) with one user per role and patients at every stage.

The passwords are printed once, when the demo data is created; run with --reset for a fresh demo. The demo
never touches a real database: it refuses to run when DATABASE_URL is set.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from mibg.cli import EXIT_OK, fail
from mibg.commands.serve import add_server_arguments, port_number

#: gunicorn processes for the demo: one person clicking through it, on SQLite.
DEMO_WORKERS = 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=port_number, default=8000, help="port (default 8000)")
    parser.add_argument("--reset", action="store_true", help="delete the demo database and make a new one")
    parser.add_argument("--no-serve", action="store_true", help="load the demo data and exit")
    add_server_arguments(parser, workers=str(DEMO_WORKERS))


def run(args: argparse.Namespace) -> int:
    if os.environ.get("DATABASE_URL"):
        return fail("demo: DATABASE_URL is set; the demo uses its own SQLite file and never a real database. Unset it.")
    os.environ.setdefault("MIBG_DEBUG", "1")
    os.environ["MIBG_SQLITE_NAME"] = "demo.sqlite3"
    from mibg.commands import serve

    error = serve.setup_django()
    if error:
        return fail(f"demo: {error}")
    from django.conf import settings

    database = Path(settings.DATABASES["default"]["NAME"])
    if args.reset and database.exists():
        database.unlink()
    serve.migrate()
    from mibg.web.accounts.models import User

    if User.objects.exists():
        print(f"mibg demo: using the demo data already in {database}. The passwords were printed when it was made; "
              "run 'mibg demo --reset' for a new demo with new passwords.")
    else:
        from mibg.web.demo import PEOPLE, load

        passwords = load()
        print(f"mibg demo: demo data created in {database}.\n\nOne user per role (the passwords are shown only now):")
        for username, _first, _last, printed, roles in PEOPLE:
            print(f"  {username:<8} {passwords[username]:<20} {', '.join(roles):<11} {printed}")
        print()
    if args.no_serve:
        return EXIT_OK
    return serve.start(args, DEMO_WORKERS)

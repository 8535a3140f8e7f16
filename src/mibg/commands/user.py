"""`mibg user`: manage accounts without the browser (the first real users of a site, a forgotten password).

    mibg user add USERNAME --role physician [--role chair] --printed-name "Dr A Patel, MD"
    mibg user set-password USERNAME
    mibg user roles USERNAME [--add ROLE] [--remove ROLE]
    mibg user deactivate USERNAME
    mibg user list

The password is read from the terminal (asked twice) or, with ``--password-stdin``, from the first line of
standard input; never from an argument, which would stay in the shell history and the process list. Every
change is in the audit trail with the operating-system user who ran the command. Uses the configured database
(DATABASE_URL, or the local SQLite file). Exit 0 done, 2 refused (one line naming the field).
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys

from mibg.cli import EXIT_OK, fail


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="user_command", metavar="ACTION", required=True)
    add = sub.add_parser("add", allow_abbrev=False, help="add a user with one or more roles", description="add a user with one or more roles")
    add.add_argument("username")
    add.add_argument("--role", action="append", default=[], metavar="ROLE",
                     help="physician, chair, physicist, pharmacist, nurse, readonly or admin; repeatable")
    add.add_argument("--printed-name", default="", help="the name a signature prints (required for a physician)")
    add.add_argument("--first-name", default="")
    add.add_argument("--last-name", default="")
    add.add_argument("--email", default="")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    password = sub.add_parser("set-password", allow_abbrev=False, help="set a user's password", description="set a user's password")
    password.add_argument("username")
    password.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    roles = sub.add_parser("roles", help="show, give or take a user's roles", description="show, give or take roles")
    roles.add_argument("username")
    roles.add_argument("--add", action="append", default=[], metavar="ROLE")
    roles.add_argument("--remove", action="append", default=[], metavar="ROLE")
    deactivate = sub.add_parser("deactivate", help="stop a user logging in (their API tokens are revoked)",
                                description="stop a user logging in; what they signed stays")
    deactivate.add_argument("username")
    sub.add_parser("list", help="list the users and their roles", description="list the users and their roles")


def read_password(from_stdin: bool) -> str:
    """The new password, from standard input (first line) or the terminal (asked twice). Raises ValueError."""
    if from_stdin:
        line = sys.stdin.readline()
        return line.rstrip("\r\n")
    if not sys.stdin.isatty():
        raise ValueError("password: standard input is not a terminal; give --password-stdin to read it from there")
    first = getpass.getpass("New password: ")
    if getpass.getpass("Again: ") != first:
        raise ValueError("password: the two entries differ")
    return first


def operator() -> str:
    try:
        return f"run by {getpass.getuser()}"
    except (KeyError, OSError):
        return f"run by uid {os.getuid()}"


def run(args: argparse.Namespace) -> int:
    from mibg.commands import serve

    error = serve.setup_django()
    if error:
        return fail(f"user: {error}")
    from django.db import DatabaseError

    try:
        serve.migrate()
    except DatabaseError as db_error:
        return fail(f"user: the database is not reachable or not usable: {db_error}")
    from mibg.web.accounts import user_admin as accounts

    who = operator()
    try:
        if args.user_command == "list":
            for summary in accounts.list_users():
                print(summary.line())
            return EXIT_OK
        if args.user_command == "add":
            result = accounts.add_user(args.username, args.role, read_password(args.password_stdin), operator=who,
                                       printed_name=args.printed_name, first_name=args.first_name,
                                       last_name=args.last_name, email=args.email)
            print(f"mibg user: added {result.line()}")
        elif args.user_command == "set-password":
            result = accounts.set_password(args.username, read_password(args.password_stdin), operator=who)
            print(f"mibg user: password set for {result.username}")
        elif args.user_command == "roles":
            result = accounts.change_roles(args.username, add=args.add, remove=args.remove, operator=who)
            print(result.line())
        else:
            result = accounts.deactivate(args.username, operator=who)
            print(f"mibg user: {result.line()}")
    except accounts.AccountError as refused:
        return fail(f"user {args.user_command}: {refused}")
    except ValueError as refused:
        return fail(f"user {args.user_command}: {refused}")
    return EXIT_OK

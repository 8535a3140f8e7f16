"""The `mibg` command. One subcommand per capability; each lives in ``mibg.commands.<name>``.

The interface is stable: others script against the flags, the JSON and the exit status.
Exit status: 0 ok, 1 blocked / not eligible, 2 bad input (one line on stderr naming the field, no
traceback), 3 incomplete or needs review. Subcommand modules are imported only when chosen, so
``mibg dose`` starts without Django, scipy or matplotlib.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import sys
from collections.abc import Sequence
from typing import Any

#: name -> (module, one-line help). Modules expose ``add_arguments(parser)`` and ``run(args) -> int``.
COMMANDS: dict[str, tuple[str, str]] = {
    "dose": ("mibg.commands.dose", "plan a weight-based dose and check it against every protocol limit"),
    "eligibility": ("mibg.commands.eligibility", "evaluate every inclusion and exclusion criterion for a patient"),
    "protocol": ("mibg.commands.protocol", "show or export the versioned protocol definition"),
    "trials": ("mibg.commands.trials", "related trials: the imported records most similar to a record"),
    "schema": ("mibg.commands.schema", "print the JSON Schema of the patient snapshot"),
    "dosimetry": ("mibg.commands.dosimetry", "whole-body dosimetry and release assessment from exposure-rate readings"),
    "ctcae": ("mibg.commands.ctcae", "grade one laboratory value with CTCAE v5.0"),
    "serve": ("mibg.commands.serve", "run the web application (migrate, then serve)"),
    "demo": ("mibg.commands.demo", "load demo patients and users, then serve the web application"),
    "patient": ("mibg.commands.patient", "register a patient by the identity rules of every door (decisions.md A34)"),
    "user": ("mibg.commands.user", "add a user, set a password, give or take roles, deactivate (audited)"),
    "audit": ("mibg.commands.audit", "verify the audit trail's hash chain (tamper evidence)"),
    "backup": ("mibg.commands.backup", "back up the database to a file, with a manifest (checksum, row counts)"),
    "restore": ("mibg.commands.restore", "restore a backup made by 'mibg backup' after checking it"),
    "rescreen": ("mibg.commands.rescreen", "screen every open course again and list the verdicts that changed"),
    "generate-programme": ("mibg.commands.generate", "write a large synthetic programme (SYN- records) for benchmarks"),
}

EXIT_OK = 0
EXIT_BLOCKED = 1
EXIT_BAD_INPUT = 2
EXIT_INCOMPLETE = 3


def _terminal_columns() -> int:
    """``shutil.get_terminal_size().columns`` without importing shutil (and with it bz2, lzma, fnmatch): argparse
    asks for the width whenever it makes a formatter, which every ``add_argument`` does (issue 14: start-up)."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns if columns > 0 else 80


class _Formatter(argparse.HelpFormatter):
    """argparse's formatter, its width found as argparse finds it (the terminal's, less 2) without shutil."""

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24, width: int | None = None) -> None:
        super().__init__(prog, indent_increment, max_help_position, _terminal_columns() - 2 if width is None else width)


class _Parser(argparse.ArgumentParser):
    """argparse that reports bad flags in one line with exit status 2 (its default status, kept)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_BAD_INPUT, f"mibg {self.prog.split(' ', 1)[-1]}: error: {message}\n")


def build_parser(selected: str | None = None) -> argparse.ArgumentParser:
    parser = _Parser(prog="mibg", description="131I-MIBG therapy protocol NCT01370330")
    parser.add_argument("--version", action="store_true", help="print the software and protocol version")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, (module_name, help_text) in COMMANDS.items():
        if selected in COMMANDS and name != selected:
            continue  # a chosen command parses with its own parser only: the others are not built (start-up time)
        command_parser = sub.add_parser(name, help=help_text, description=help_text)
        if name == selected:
            importlib.import_module(module_name).add_arguments(command_parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # Run from the command line (no ``argv``), the start (the chosen command's modules, its parser, the protocol
    # definition) only makes objects kept for the life of the process: the cyclic garbage collector is paused while
    # they are made, then told to leave them out of every later collection, the one at exit included (issue 14: the
    # start of `mibg dose`). Called with ``argv`` (tests, scripts), the caller's collector is left as it is.
    pause = argv is None and gc.isenabled()
    if pause:
        gc.disable()
    try:
        args_list = list(sys.argv[1:] if argv is None else argv)
        selected = next((a for a in args_list if not a.startswith("-")), None)
        parser = build_parser(selected if selected in COMMANDS else None)
        args = parser.parse_args(args_list)
    finally:
        if pause:
            gc.freeze()
            gc.enable()
    if args.version:
        from mibg import __version__
        from mibg.protocol import load_protocol

        print(f"mibg {__version__}; protocol {load_protocol().label}")
        return EXIT_OK
    if not args.command:
        parser.print_help()
        return EXIT_BAD_INPUT
    module = importlib.import_module(COMMANDS[args.command][0])
    try:
        return int(module.run(args))
    except BrokenPipeError:
        return EXIT_OK
    except KeyboardInterrupt:
        return 130


def fail(message: str) -> int:
    """Print a one-line error for bad input and give the bad-input exit status."""
    print(f"mibg: error: {message}", file=sys.stderr)
    return EXIT_BAD_INPUT


if __name__ == "__main__":
    raise SystemExit(main())

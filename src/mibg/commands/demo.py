"""`mibg demo`: not built yet."""

from __future__ import annotations

import argparse

from mibg.cli import fail


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("rest", nargs="*")


def run(args: argparse.Namespace) -> int:
    return fail("demo: not available yet")

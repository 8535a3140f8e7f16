"""`mibg schema`: the JSON Schema of the patient snapshot that `mibg eligibility` reads."""

from __future__ import annotations

import argparse
import json

from mibg.cli import EXIT_OK


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--output", help="write to this file instead of stdout")


def run(args: argparse.Namespace) -> int:
    from mibg.core.snapshot import snapshot_json_schema

    text = json.dumps(snapshot_json_schema(), indent=2)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")
    else:
        print(text)
    return EXIT_OK

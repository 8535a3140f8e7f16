"""`mibg audit verify`: walk the audit trail's hash chain and say whether it is the one the application wrote.

Exit 0 intact, 1 broken (the first broken link: record id, seq, time, the check that failed and what it means),
2 bad input (no database, or one not migrated). The chain and its serialization: mibg.web.audit.chain.
The result is added to the trail itself (action "verify"), so the audit page shows when it was last verified;
``--no-record`` only reads.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from mibg.cli import EXIT_BLOCKED, EXIT_OK, fail


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    verify = sub.add_parser("verify", help="walk the hash chain in order and report the first broken link",
                            description="walk the hash chain in order and report the first broken link")
    verify.add_argument("--json", action="store_true", help="print the result as JSON")
    verify.add_argument("--no-record", action="store_true", help="do not add the result to the audit trail")
    verify.add_argument("--anchor", action="append", default=[], metavar="SEQ:SHA256|MANIFEST",
                        help="a record's hash kept outside the database (e.g. from an earlier verify line), or a backup "
                             "manifest (its audit chain head); the chain must still hold it. Repeatable.")


def parse_anchor(raw: str) -> tuple[int, str]:
    """``SEQ:SHA256`` or a path to a backup manifest. Raises ValueError with the reason."""
    seq_text, sep, digest = raw.partition(":")
    if sep and seq_text.isdigit():
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise ValueError(f"{raw!r}: the hash must be 64 lowercase hexadecimal digits")
        return int(seq_text), digest
    path = Path(raw)
    if not path.is_file():
        raise ValueError(f"{raw!r} is neither SEQ:SHA256 nor a manifest file")
    try:
        head = json.loads(path.read_text(encoding="utf-8"))["audit_chain"]
        return int(head["head_seq"]), str(head["head_hash"])
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ValueError(f"{raw}: not a backup manifest with an audit chain head ({type(error).__name__})") from None


def summary(report: object) -> str:
    """One line: what the audit page and the trail show."""
    from mibg.web.audit.chain import ChainReport

    assert isinstance(report, ChainReport)
    state = "intact" if report.broken is None else report.broken.line()
    return f"{report.records} records; {state}; head seq {report.head_seq} sha256 {report.head_hash}"


def record(text: str) -> None:
    from mibg.web.audit.models import AuditEvent

    AuditEvent(username="system", action="verify", model="audit.AuditEvent", object_repr="audit chain",
               note=f"mibg audit verify: {text}").save()


def run(args: argparse.Namespace) -> int:
    from mibg.commands.serve import setup_django

    error = setup_django()
    if error:
        return fail(f"audit: {error}")
    try:
        anchors = [parse_anchor(raw) for raw in args.anchor]
    except ValueError as problem:
        return fail(f"audit verify: --anchor {problem}")
    from django.db import DatabaseError

    from mibg.web.audit.chain import AuditChainError, verify

    try:
        report = verify(anchors=anchors)
        text = summary(report)
        if not args.no_record:
            try:
                record(text)
            except AuditChainError as refused:
                print(f"mibg audit verify: the result was not added to the trail: {refused}", file=sys.stderr)
    except DatabaseError as db_error:
        first = str(db_error).strip().splitlines()[0] if str(db_error).strip() else type(db_error).__name__
        return fail(f"audit: the database is not reachable or not migrated ('mibg serve' migrates it): {first}")
    if args.json:
        broken = report.broken
        print(json.dumps({
            "records": report.records, "intact": report.intact, "head_seq": report.head_seq,
            "head_hash": report.head_hash,
            "broken": None if broken is None else {
                "record_id": broken.record_id, "seq": broken.seq,
                "at": broken.at.isoformat() if broken.at else None, "check": broken.check, "kind": broken.kind,
                "detail": broken.detail},
        }, indent=2))
    else:
        print(f"mibg audit verify: {text}")
    return EXIT_OK if report.intact else EXIT_BLOCKED

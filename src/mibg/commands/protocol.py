"""`mibg protocol show|export|import`: print the versioned definition, write it as JSON, or import the study
record (ClinicalTrials.gov API v2 JSON) and link its eligibility bullets to the criteria evaluated.

`export --fhir` prints the protocol as a FHIR R4 Bundle (type collection) holding the PlanDefinition and the
ResearchStudy (mibg.reports.fhir.protocol), from the definition and the study record (imported, else bundled).

`import PATH` reads a ClinicalTrials.gov API v2 record, a folder of them or a JSON lines file (one record a line).
This protocol's own record is validated, summarised and stored as study_record.json in $MIBG_DATA_DIR (default
./var), where the web application reads it; every other record is stored in the configured database as a related
trial (mibg.web.trials, issue 13 §5). Every record is validated before anything is stored. Exit 0 when
every criterion is linked to a bullet of the record, 3 when some are not (the record and the definition
have drifted apart), 2 with a one-line error for a bad file.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from mibg.cli import EXIT_INCOMPLETE, EXIT_OK, fail


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=["show", "export", "import"], help="show: readable; export: JSON; import: a ClinicalTrials.gov v2 JSON record")
    parser.add_argument("file", nargs="?", help="for import: the record file; for export: output file (default: stdout)")
    parser.add_argument("--fhir", action="store_true", help="export: a FHIR R4 Bundle (collection) of the PlanDefinition "
                        "and the ResearchStudy (issue 13 §4)")


def run(args: argparse.Namespace) -> int:
    from mibg.protocol import load_protocol, protocol_as_dict

    protocol = load_protocol()
    if args.fhir and args.action != "export":
        return fail("protocol: --fhir goes with export")
    if args.action == "export":
        if args.fhir:
            from mibg.protocol.study_record import StudyRecordError, current_study_record
            from mibg.reports.errors import ReportInputError
            from mibg.reports.fhir.protocol import protocol_bundle_json

            try:
                text = protocol_bundle_json(protocol, current_study_record())
            except (StudyRecordError, ReportInputError) as error:
                return fail(f"protocol export --fhir: {error}")
        else:
            text = json.dumps(protocol_as_dict(protocol), indent=2, ensure_ascii=False)
        if args.file:
            with open(args.file, "w", encoding="utf-8") as handle:
                handle.write(text + "\n")
        else:
            print(text)
        return EXIT_OK
    if args.action == "import":
        return _import(args.file, protocol)
    _show(protocol)
    return EXIT_OK


def _read_documents(path: str) -> list[tuple[str, object]] | str:
    """``(where, parsed JSON)`` of every record at ``path``: standard input (``-``), a JSON file, a JSON lines file
    (``.jsonl``/``.ndjson``, one record a line) or a folder of them. A problem is returned as its one-line message."""
    if path == "-":
        sources = [("-", sys.stdin.read())]
    else:
        target = Path(path)
        files = sorted(p for p in target.iterdir() if p.suffix in (".json", ".jsonl", ".ndjson")) if target.is_dir() else [target]
        if target.is_dir() and not files:
            return f"{path}: the folder holds no .json or .jsonl file"
        sources = []
        for file in files:
            try:
                sources.append((str(file), file.read_text(encoding="utf-8")))
            except OSError as error:
                return f"{file}: cannot read the file ({error.strerror})"
            except UnicodeDecodeError as error:
                return f"{file}: not UTF-8 text (byte {error.start}); ClinicalTrials.gov records are UTF-8 JSON"
    documents: list[tuple[str, object]] = []
    for name, text in sources:
        lines = name.endswith((".jsonl", ".ndjson"))
        chunks = [(f"{name}:{n}", line) for n, line in enumerate(text.splitlines(), start=1) if line.strip()] if lines \
            else [(name, text)]
        for where, chunk in chunks:
            try:
                documents.append((where, json.loads(chunk)))
            except json.JSONDecodeError as error:
                return f"{where}: not JSON (line {error.lineno}: {error.msg})"
    if not documents:
        return f"{path}: no record found"
    return documents


def _import(path: str | None, protocol: object) -> int:
    from mibg.protocol import ProtocolDefinition
    from mibg.protocol.study_record import (
        StudyRecordError,
        link_criteria,
        parse_study_record,
        store_study_record,
    )

    assert isinstance(protocol, ProtocolDefinition)
    if not path:
        return fail("protocol import: give the record file, a folder or a JSON lines file of ClinicalTrials.gov API v2 "
                    "records, or - for standard input")
    read = _read_documents(path)
    if isinstance(read, str):
        return fail(read)
    own: list[tuple[str, object]] = []
    related: list[tuple[str, object]] = []
    for where, data in read:
        try:
            parsed = parse_study_record(data)
        except StudyRecordError as error:
            return fail(f"{where}: {error}")  # nothing is stored when one record is bad
        (own if parsed.nct_id == protocol.protocol_id else related).append((where, data))
    if len(own) > 1:
        return fail(f"{path}: {len(own)} records of {protocol.protocol_id}; give one")
    status = EXIT_OK
    if related:
        stored = _import_related(path, related)
        if stored is not None:
            return stored
    if not own:
        return status
    data = own[0][1]
    record = parse_study_record(data)
    links = link_criteria(record, protocol)
    assert isinstance(data, dict)
    try:
        stored_as = store_study_record(data)
    except OSError as error:
        return fail(f"cannot store the study record ({error.strerror}); set MIBG_DATA_DIR to a writable directory")
    out = sys.stdout
    updated = record.last_updated.isoformat() if record.last_updated else "not stated"
    out.write(f"{record.nct_id}: {record.title}\n")
    out.write(f"status {record.status}; last updated {updated}\n")
    out.write(f"{len(links.linked_criteria)} of {len(protocol.criteria)} criteria linked to "
              f"{sum(1 for b in links.bullets if b.criteria)} of {len(links.bullets)} eligibility bullets; "
              f"{len(links.dose_limits)} of {len(protocol.dose_limits)} dose limits linked\n")
    for bullet in links.bullets:
        label = ", ".join(bullet.criteria) if bullet.criteria else "none (heading)"
        out.write(f"  {bullet.kind} {bullet.number:>2}: {label:<22} {bullet.text[:60]}\n")
    if links.unlinked_criteria:
        out.write(f"NOT FOUND in the record: criteria {', '.join(links.unlinked_criteria)}\n")
    if links.unlinked_dose_limits:
        out.write(f"NOT FOUND in the record: dose limits {', '.join(links.unlinked_dose_limits)}\n")
    out.write(f"stored as {stored_as}\n")
    return EXIT_INCOMPLETE if links.unlinked_criteria or links.unlinked_dose_limits else EXIT_OK


def _import_related(path: str, documents: list[tuple[str, object]]) -> int | None:
    """Store other trials' records as related records (issue 13 §5); None when stored, else the exit status."""
    from mibg.commands.serve import setup_django

    error = setup_django()
    if error:
        return fail(f"protocol import: {error}")
    from django.db import DatabaseError

    from mibg.web.trials.services import import_related

    try:
        result = import_related([(where, doc) for where, doc in documents if isinstance(doc, dict)], what=path)
    except DatabaseError as db_error:
        first = str(db_error).strip().splitlines()[0] if str(db_error).strip() else type(db_error).__name__
        return fail(f"protocol import: the database is not reachable or not migrated ('mibg serve' migrates it): {first}")
    print(f"{len(documents)} related trial record(s) stored: {len(result.created)} new, {len(result.updated)} replaced "
          "('mibg trials similar NCT01370330' lists the most similar)")
    return None


def _show(protocol: object) -> None:
    from mibg.protocol import ProtocolDefinition

    assert isinstance(protocol, ProtocolDefinition)
    out = sys.stdout
    out.write(f"{protocol.title}\n{protocol.label}  (record last updated {protocol.record_last_updated}, "
              f"effective {protocol.effective_date})\n\n")
    group = None
    for c in protocol.criteria:
        if c.group != group:
            group = c.group
            out.write(f"== {group} ==\n")
        params = _params_text(c.params)
        out.write(f"{c.id:<3} [{c.kind}] {c.title}\n    record: \"{c.wording}\"\n")
        if params:
            out.write(f"    thresholds: {params}\n")
        if c.decisions:
            out.write(f"    decisions: {', '.join(c.decisions)}\n")
    out.write("\n== Dose limits ==\n")
    for d in protocol.dose_limits:
        out.write(f"{d.id:<3} {d.title}{'  (a study-chair decision can clear it)' if d.chair_clearable else ''}\n")
        out.write(f"    record: \"{d.wording}\"\n")
        params = _params_text(d.params)
        if params:
            out.write(f"    thresholds: {params}\n")
    out.write("\n== Preparations ==\n")
    for p in protocol.preparations.values():
        sa = ", ".join(f"{k} {v}" for k, v in p.specific_activity.items())
        out.write(f"{p.key}: {p.name}; specific activity {sa}; infusion {p.infusion_minimum_min}-{p.infusion_maximum_min} min"
                  f"{'; DISCONTINUED' if p.discontinued else ''}\n")
    out.write("\n== Constants ==\n")
    for constant in protocol.constants.values():
        out.write(f"{constant.name} = {constant.value} {constant.unit}  [{constant.source}]\n")
    out.write("\n== Site parameters ==\n")
    for parameter in protocol.site_parameters.values():
        out.write(f"{parameter.name} = {parameter.value} {parameter.unit}  [{parameter.source}]\n")
    out.write("\n== Event reports (issue 13 §3) ==\n")
    for kind in protocol.event_reports.values():
        out.write(f"{kind.key}: {kind.title}  [{kind.reference}]\n")
        for rule in kind.deadlines:
            when = f"{rule.hours} h after discovery" if rule.clock == "hours" else (
                f"end of the calendar day {rule.site_parameter or rule.days} day(s) after discovery")
            out.write(f"    {rule.code}: {rule.receiver}, {rule.action.lower()} by {when}; applies {rule.applies}"
                      f"{'' if rule.verified else '; UNVERIFIED against the CFR text'}\n")
    out.write("\n== Decisions ==\n")
    for decision in protocol.decisions.values():
        out.write(f"{decision.id}: {decision.point}. {decision.decision}\n")


def _params_text(params: object) -> str:
    if not isinstance(params, dict):
        return ""
    parts = []
    from mibg.protocol import Quantity

    for key, value in params.items():
        if isinstance(value, Quantity):
            parts.append(f"{key} = {value}")
        elif isinstance(value, dict) and "value" in value:
            parts.append(f"{key} = {value['value']} {value.get('unit', '')}".rstrip())
        elif isinstance(value, list):
            parts.append(f"{key} = {', '.join(map(str, value))}")
        else:
            parts.append(f"{key} = {value}")
    return "; ".join(parts)

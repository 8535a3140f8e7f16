"""`mibg protocol show|export`: print the versioned definition, or write it as JSON."""

from __future__ import annotations

import argparse
import json
import sys

from mibg.cli import EXIT_OK, fail


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=["show", "export", "import"], help="show: readable; export: JSON; import: a ClinicalTrials.gov v2 JSON record")
    parser.add_argument("file", nargs="?", help="for import: the record file; for export: output file (default: stdout)")


def run(args: argparse.Namespace) -> int:
    from mibg.protocol import load_protocol, protocol_as_dict

    protocol = load_protocol()
    if args.action == "export":
        text = json.dumps(protocol_as_dict(protocol), indent=2, ensure_ascii=False)
        if args.file:
            with open(args.file, "w", encoding="utf-8") as handle:
                handle.write(text + "\n")
        else:
            print(text)
        return EXIT_OK
    if args.action == "import":
        return fail("protocol import: loading a ClinicalTrials.gov record is not available yet")
    _show(protocol)
    return EXIT_OK


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
    for c in protocol.constants.values():
        out.write(f"{c.name} = {c.value} {c.unit}  [{c.source}]\n")
    out.write("\n== Site parameters ==\n")
    for c in protocol.site_parameters.values():
        out.write(f"{c.name} = {c.value} {c.unit}  [{c.source}]\n")
    out.write("\n== Decisions ==\n")
    for d in protocol.decisions.values():
        out.write(f"{d.id}: {d.point}. {d.decision}\n")


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

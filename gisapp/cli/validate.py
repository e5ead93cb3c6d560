"""``gisapp validate``: check the gazetteer and every zone definition against the plans and boundaries."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from gisapp.cli.support import write_output


def cmd_validate(args: argparse.Namespace) -> int:
    """``gisapp validate [--report] [--json] [--verbose] [--gazetteer F] [--zones DIR] [-o FILE]``.

    Exit codes: 0 when every check passes, 1 when a check fails, 2 on unreadable input
    (handled by the CLI's InputError path).
    """
    from gisapp.plans.validate import format_report, validate_all

    if args.report:
        from gisapp.plans.evidence import evidence_dict, evidence_markdown

        if args.json:
            write_output(json.dumps(evidence_dict(), ensure_ascii=False, indent=2, default=str), args.output)
        else:
            write_output(evidence_markdown(), args.output)
        return 0
    report = validate_all(
        zones_dir=Path(args.zones) if args.zones else None,
        gazetteer_file=Path(args.gazetteer) if args.gazetteer else None,
    )
    if args.json:
        write_output(json.dumps(report.to_dict(), ensure_ascii=False, indent=2), args.output)
    else:
        write_output(format_report(report, verbose=args.verbose), args.output)
    return 0 if report.ok else 1


def register(sub: Any) -> None:
    """Add ``validate`` to the ``gisapp`` sub-parsers."""
    s = sub.add_parser(
        "validate",
        help="check gazetteer places, zone definitions, plan quotations, inventories, figures and overlaps",
    )
    s.add_argument("--json", action="store_true", help="the full report as JSON")
    s.add_argument(
        "--report",
        action="store_true",
        help="the evidence report (per plan: elements named and drawn, areas vs stated figures, position basis, "
        "uncertainty; district polygons vs published areas) as Markdown, as in docs/evidence.md",
    )
    s.add_argument("-v", "--verbose", action="store_true", help="also list information (overlaps, unplaced, counts)")
    s.add_argument("--gazetteer", help="a gazetteer CSV instead of data/gazetteer.csv")
    s.add_argument("--zones", help="a directory of definitions instead of zones/")
    s.add_argument("-o", "--output")
    s.set_defaults(func=cmd_validate)

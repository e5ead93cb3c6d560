"""``gisapp schema export [--out DIR]``: write the JSON Schemas of zone and rule files (default ``docs/schemas/``)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def cmd_schema_export(args: argparse.Namespace) -> int:
    """Write ``zones.schema.json`` and ``rules.schema.json`` into ``--out`` (default ``docs/schemas/``); exit 0."""
    from gisapp.analysis.schemaexport import DOCS_DIR, export_schemas

    for path in export_schemas(Path(args.out) if args.out else DOCS_DIR):
        print(path)
    return 0


def register(sub: Any) -> None:
    """Add ``schema export`` to the ``gisapp`` sub-parsers."""
    s = sub.add_parser("schema", help="JSON Schemas of the zone and rule files (for editors)")
    actions = s.add_subparsers(dest="schema_command", required=True)
    e = actions.add_parser("export", help="write zones.schema.json and rules.schema.json")
    e.add_argument("--out", help="directory to write to (default: docs/schemas/)")
    e.set_defaults(func=cmd_schema_export)

"""``gisapp overlap``: parcels against the red line (压占分析)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from gisapp.cli import read_input, write_output


def cmd_overlap(args: argparse.Namespace) -> int:
    """``gisapp overlap PARCELS [--format json|geojson|csv] [-o FILE]``: parcels vs the red line."""
    from gisapp import service
    from gisapp.export import to_csv, to_geojson

    result, info = service.overlap_check(read_input(args.parcels))
    if args.format == "csv":
        write_output(to_csv(result, bom=args.bom), args.output)
    elif args.format == "geojson":
        write_output(to_geojson(result), args.output)
    else:
        write_output(
            json.dumps({**info, "parcels": json.loads(to_geojson(result))}, ensure_ascii=False, indent=2), args.output
        )
    for msg in info["repairs"]:
        print(f"repaired: {msg}", file=sys.stderr)
    return 0


def register(sub: Any) -> None:
    """Add ``overlap`` to the ``gisapp`` sub-parsers."""
    s = sub.add_parser("overlap", help="overlap parcels (GeoJSON file or '-') with the red line")
    s.add_argument("parcels")
    s.add_argument("--format", choices=["json", "geojson", "csv"], default="json")
    s.add_argument("--bom", action="store_true")
    s.add_argument("-o", "--output")
    s.set_defaults(func=cmd_overlap)

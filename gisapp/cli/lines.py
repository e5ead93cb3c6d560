"""``gisapp lines …``: the control lines (控制线) — list them, import an official one.

Examples::

    gisapp lines list
    gisapp lines import --kind farmland 永久基本农田.gdb --layer YJJBNTBHTB
    gisapp lines import --kind 生态保护红线 stbhhx.zip --id-field BSM
    gisapp overlap parcels.zip --target controls --report report.pdf   # all four lines at once

The kinds are those of :data:`gisapp.plans.controllines.CONTROL_LINES` (``industrial``, ``farmland``,
``ecology``, ``udb``; Chinese names accepted). ``gisapp redline import`` keeps importing the
industrial red line as before (with ``--tier-field``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from gisapp.cli.support import settings_of, store_of, write_output


def cmd_lines_list(args: argparse.Namespace) -> int:
    """``gisapp lines list [--json]``: every kind, its layer, rule set and what the store holds."""
    from gisapp.plans.controllines import CONTROL_LINES

    store = store_of(args)
    rows: list[dict[str, Any]] = []
    for kind in CONTROL_LINES.values():
        row = kind.describe()
        try:
            meta = store.meta(kind.layer_id)
            row.update(stored=True, geometry_basis=meta.geometry_basis, features=meta.feature_count)
        except Exception:  # noqa: BLE001 - any failure to read the layer means "not stored" here
            row.update(stored=False, geometry_basis="", features=0)
        rows.append(row)
    if args.json:
        write_output(json.dumps({"lines": rows}, ensure_ascii=False, indent=2), None)
        return 0
    for r in rows:
        state = f"{r['geometry_basis']}, {r['features']} features" if r["stored"] else "not stored"
        print(f"{r['key']:<11} {r['title']:<12} {r['layer']:<22} rules/{r['ruleset']}.yaml  ({state})")
    return 0


def cmd_lines_import(args: argparse.Namespace) -> int:
    """``gisapp lines import --kind KIND FILE``: check an official control line, then store it (one transaction).

    The file is checked fully first (CRS declared, polygons, valid, ids unique, inside 中山市); bad
    input exits 2 with one line on stderr and nothing written.
    """
    from gisapp.plans.build import import_line_to_store, import_redline_to_store
    from gisapp.plans.controllines import CONTROL_LINES

    kind = CONTROL_LINES.get_entry(args.kind)
    path = Path(args.file)
    directory = settings_of(args).layers_dir
    if kind.key == "industrial":
        from gisapp.core.errors import InputError

        if not (path.is_file() or (path.is_dir() and path.name.lower().endswith(".gdb"))):
            raise InputError(f"no such file: {path.name}", code="missing_file")
        import_redline_to_store(path, args.id_field, args.tier_field, directory, log=_log)
    else:
        import_line_to_store(kind.key, path, args.id_field, args.name_field, args.layer, directory, log=_log)
    return 0


def _log(line: str) -> None:
    print(line, file=sys.stderr)


def register(sub: Any) -> None:
    """Add ``lines`` to the ``gisapp`` sub-parsers."""
    from gisapp.plans.controllines import CONTROL_LINES

    lines = sub.add_parser(
        "lines", help="control lines (工业用地保护红线, 永久基本农田, 生态保护红线, 城镇开发边界): list, import"
    ).add_subparsers(dest="lines_cmd", required=True)
    s = lines.add_parser("list", help="the kinds of control line, their layers and rule sets")
    s.add_argument("--json", action="store_true")
    s.add_argument("--store", help="the layer store (default: $GISAPP_LAYERS_DIR or layers/)")
    s.set_defaults(func=cmd_lines_list)
    s = lines.add_parser("import", help="replace a (illustrative) control line with an official file")
    s.add_argument("--kind", required=True, help=f"one of {', '.join(CONTROL_LINES.names())} (or its Chinese name)")
    s.add_argument("file", help="GeoJSON, zipped Shapefile, GeoPackage, File Geodatabase (.gdb or .gdb.zip), KML …")
    s.add_argument("--id-field", help="attribute holding the block id (default block_id/id/BSM, else numbered)")
    s.add_argument("--name-field", help="attribute holding a display name (not for --kind industrial)")
    s.add_argument("--tier-field", help="attribute holding the tier (industrial red line only)")
    s.add_argument("--layer", help="layer / feature class of a multi-layer file (not for --kind industrial)")
    s.add_argument("--store", help="the layer store to write (default: $GISAPP_LAYERS_DIR or layers/)")
    s.set_defaults(func=cmd_lines_import)

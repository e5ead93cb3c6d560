"""``gisapp store status|history|rollback|init``: the versions of the layer store (see docs/store.md);
``gisapp store import FILE --id ID``: a large layer (a 三调 DLTB …) into the store's spatial backend."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from typing import Any

from gisapp.cli.support import settings_of, store_of, write_output


def _store(args: argparse.Namespace):
    from gisapp.store.storetxn import VersionedStore

    return VersionedStore(settings_of(args).layers_dir)


def cmd_store_status(args: argparse.Namespace) -> int:
    """``gisapp store status [--json]``: current version, previous versions kept, consistency.

    Finishes an interrupted switch and removes stale temp files first (unless a writer runs).
    Exit 0 when the files on disk are exactly the current version, 1 otherwise.
    """
    store = _store(args)
    repairs = store.recover()
    manifest = store.manifest()
    problems = store.verify()
    status: dict[str, Any] = {
        "store": store.directory.name,
        "version": manifest.version if manifest else None,
        "time": manifest.time if manifest else None,
        "command": manifest.command if manifest else None,
        "layers": len(manifest.layers) if manifest else 0,
        "previous_versions": store.saved_versions(),
        "repairs": repairs,
        "consistent": not problems,
        "problems": problems,
    }
    if args.json:
        write_output(json.dumps(status, ensure_ascii=False, indent=2), None)
    else:
        lines = [f"repaired: {r}" for r in repairs]
        if manifest:
            lines.append(
                f"version {manifest.version}  {manifest.time}  {manifest.command}  ({len(manifest.layers)} layers)"
            )
        lines.append(f"previous versions kept: {', '.join(map(str, status['previous_versions'])) or 'none'}")
        lines += [f"PROBLEM: {p}" for p in problems]
        lines.append("consistent" if not problems else f"INCONSISTENT: {len(problems)} problem(s)")
        write_output("\n".join(lines), None)
    return 0 if not problems else 1


def cmd_store_history(args: argparse.Namespace) -> int:
    """``gisapp store history [--json]``: every kept version, newest first: time, command, layers changed."""
    history = _store(args).history()
    if args.json:
        write_output(json.dumps([asdict(m) for m in history], ensure_ascii=False, indent=2), None)
        return 0
    lines = []
    for i, m in enumerate(history):
        mark = "*" if i == 0 else " "
        lines.append(f"{mark} {m.version:4d}  {m.time}  {m.command}  changed: {', '.join(m.changed) or '-'}")
    write_output("\n".join(lines) or "unversioned store: no history", None)
    return 0


def cmd_store_rollback(args: argparse.Namespace) -> int:
    """``gisapp store rollback``: restore the previous version in one step (the current one is discarded).

    Exit 2 (nothing written) when no previous version is kept.
    """
    store = _store(args)
    before = store.manifest()
    now = store.rollback()
    print(f"store: rolled back from version {before.version if before else '?'} to version {now.version}")
    from gisapp.cli.audit import record_cli

    record_cli(args, "rollback", {"from_version": before.version if before else None, "to_version": now.version})
    return 0


def cmd_store_init(args: argparse.Namespace) -> int:
    """``gisapp store init``: record the layers of an unversioned store as version 1 (exit 2 if versioned)."""
    m = _store(args).init()
    print(f"store: version {m.version} with {len(m.layers)} layers")
    return 0


def cmd_store_import(args: argparse.Namespace) -> int:
    """``gisapp store import FILE --id ID [--layer DLTB] [--title …]``: stream a large vector file (FileGDB
    folder or zip, GeoPackage, Shapefile, GeoParquet, FlatGeobuf, GeoJSON) into the store's large-layer
    backend (GeoPackage, or PostGIS when ``GISAPP_DATABASE_URL`` is set), reprojected to EPSG:4326.

    Exit 2 with one line on stderr on bad input (the old layer, if any, stays as it was).
    """
    from pathlib import Path

    from gisapp.io.largeimport import import_large
    from gisapp.store.layerstore import LayerMeta, check_layer_id

    layer_id = check_layer_id(args.id)
    source = Path(args.file)
    meta = LayerMeta(
        id=layer_id,
        title=args.title or layer_id,
        title_en=args.title_en or args.title or layer_id,
        kind=args.kind,
        geometry_type=args.geometry_type,
        source=args.source or source.name,
        licence=args.licence,
        datum="EPSG:4326 (WGS 84 lon/lat), transformed from the file's declared CRS by pyproj",
        geometry_basis=args.basis,
        description=f"imported from {source.name}" + (f", layer {args.layer}" if args.layer else ""),
    )
    store = store_of(args)
    stored = import_large(store, source, meta, layer=args.layer)
    print(
        f"store: {stored.id} = {stored.feature_count} features in {stored.backend} "
        f"(tiles from zoom {stored.extra.get('tile_min_zoom', 0)})"
    )
    return 0


def register(sub: Any) -> None:
    """Add ``store status|history|rollback|init`` to the ``gisapp`` sub-parsers."""
    group = sub.add_parser("store", help="versions of the layer store: status, history, rollback").add_subparsers(
        dest="store_cmd", required=True
    )
    store_help = "the layer store (default: $GISAPP_LAYERS_DIR or layers/)"
    for name, func, text in (
        ("status", cmd_store_status, "current version and consistency (exit 1 on a mixed state)"),
        ("history", cmd_store_history, "versions kept: time, command, layers changed"),
        ("rollback", cmd_store_rollback, "restore the previous version"),
        ("init", cmd_store_init, "start versioning an unversioned store"),
    ):
        s = group.add_parser(name, help=text)
        s.add_argument("--store", help=store_help)
        if name in ("status", "history"):
            s.add_argument("--json", action="store_true")
        s.set_defaults(func=func)
    imp = group.add_parser("import", help="import a large layer (FileGDB, GeoPackage, Shapefile, GeoParquet …)")
    imp.add_argument("file", help="a .gdb folder, .gdb.zip, .gpkg, .shp, .parquet, .fgb or .geojson file")
    imp.add_argument("--id", required=True, help="the layer id (lower-case letters, digits, '-')")
    imp.add_argument("--layer", help="the layer / feature class to read (e.g. DLTB) when the file holds several")
    imp.add_argument("--title", default="", help="Chinese title (default: the id)")
    imp.add_argument("--title-en", default="", help="English title")
    imp.add_argument("--kind", default="landuse", help="layer kind (default landuse)")
    imp.add_argument("--geometry-type", default="Polygon", help="Polygon, LineString or Point (default Polygon)")
    imp.add_argument("--source", default="", help="where the data comes from (default: the file name)")
    imp.add_argument("--licence", default="as supplied", help="licence of the data")
    imp.add_argument("--basis", default="official", choices=("official", "schematic", "illustrative"))
    imp.add_argument("--store", help=store_help)
    imp.set_defaults(func=cmd_store_import)

"""``gisapp export``: a layer, a filtered subset or an analysis result as a file other GIS tools read.

Formats are those of :data:`gisapp.io.writers.WRITERS` (the same set as ``gisapp overlap``,
``/api/export`` and ``/api/overlap``), CRSs those of :mod:`gisapp.io.formats`. Text formats (GeoJSON, KML, CSV) go to
stdout without ``-o``; binary ones need ``-o``. Files are written atomically (temporary file,
then rename), so a failed export never leaves a half-written file. A CSV written with ``-o``
gets a sidecar ``<file>.meta.json`` with the layer's metadata (a CSV cannot hold it), and
``<name>.csvt`` (field types) and ``<name>.prj`` (CRS), which GDAL and QGIS read beside ``<name>.csv``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from gisapp.cli.support import read_input, store_of, write_atomic
from gisapp.store.layerstore import LayerMeta


def format_metavar(names: tuple[str, ...]) -> str:
    """``{a,b,c}``: how ``--help`` lists the formats on offer (as argparse shows choices)."""
    return "{" + ",".join(names) + "}"


def cmd_export(args: argparse.Namespace) -> int:
    """``gisapp export LAYER|--overlap PARCELS [--format F] [--crs C] … [-o FILE]``.

    Returns:
        0 on success. Bad input raises :class:`gisapp.core.errors.InputError` (exit 2, one line on stderr).
    """
    from gisapp.analysis import sources
    from gisapp.core.errors import InputError
    from gisapp.io import formats

    fmt = formats.parse_format(args.format)
    out_crs = formats.parse_output_crs(args.crs)
    if bool(args.layer) == bool(args.overlap):
        raise InputError("give a LAYER id or --overlap PARCELS (one of them)", code="missing_source")
    store = store_of(args)
    meta: LayerMeta | dict[str, Any]
    if args.overlap:
        gdf, meta = sources.overlap_source(read_input(args.overlap), store)
    else:
        gdf, meta = sources.layer_source(args.layer, store, metrics=args.metrics)
    where = formats.parse_where(args.where)
    bbox = formats.parse_bbox(args.bbox)
    filters: dict[str, Any] = {}
    if where:
        filters["where"] = [f"{k}={v}" for k, v in where]
    if bbox:
        filters["bbox"] = list(bbox)
        filters["bbox_crs"] = formats.parse_output_crs(args.bbox_crs).key
    gdf = formats.select_features(gdf, where, bbox, args.bbox_crs)
    target = Path(args.output) if args.output else None
    if target is None and fmt.binary:
        raise InputError(f"{fmt.title} is binary: give an output file with -o", code="missing_output")
    result = formats.export_frame(
        gdf,
        meta,
        fmt,
        out_crs,
        encoding=args.encoding,
        bom=args.bom,
        precision=args.precision,
        filters=filters,
    )
    if args.output and Path(args.output).is_dir():
        target = Path(args.output) / result.filename
    if target is None:
        sys.stdout.buffer.write(result.data)
        sys.stdout.flush()
        return 0
    if not target.parent.exists():
        raise InputError(f"no such directory: {target.parent}", code="missing_directory")
    write_atomic(result.data, target)
    if fmt.key == "csv":
        sidecar = target.with_name(target.name + ".meta.json")
        write_atomic(json.dumps(result.metadata, ensure_ascii=False, indent=2).encode("utf-8"), sidecar)
    for suffix, data in result.sidecars.items():  # CSV: .csvt and .prj, which GDAL and QGIS read beside it
        write_atomic(data, target.with_suffix(suffix))
    note = f" — {result.metadata['export']['warning']}" if result.metadata["export"]["warning"] else ""
    print(f"wrote {target} ({len(gdf)} features, {fmt.title}, {formats.describe_crs(out_crs)}){note}", file=sys.stderr)
    return 0


def register(sub: Any) -> None:
    """Add ``export`` to the ``gisapp`` sub-parsers."""
    from gisapp.io.formats import OUTPUT_CRS
    from gisapp.io.writers import ENCODINGS, WRITERS

    s = sub.add_parser(
        "export",
        help="export a layer, a subset or an analysis result (GeoJSON, GeoPackage, Shapefile, KML, CSV, …)",
        description="Export a layer (or --overlap result) in a format and CRS other GIS tools read. "
        "Default: RFC 7946 GeoJSON in WGS 84 to stdout.",
    )
    s.add_argument("layer", nargs="?", help="layer id (see `gisapp layers`)")
    s.add_argument(
        "--format",
        default="geojson",
        metavar=format_metavar(WRITERS.names()),
        help="file format (default geojson; also: json, shapefile, geopackage, flatgeobuf, geoparquet)",
    )
    s.add_argument(
        "--crs",
        default="EPSG:4326",
        help=f"output CRS: {', '.join(c.key for c in OUTPUT_CRS.values())} (default EPSG:4326)",
    )
    s.add_argument("--encoding", default="utf-8", choices=list(ENCODINGS), help="Shapefile/CSV text encoding")
    s.add_argument("--bom", action="store_true", help="CSV: start with a UTF-8 BOM (Excel)")
    s.add_argument("--precision", type=int, help="decimals kept (default 7 for degrees, 2 for metres)")
    s.add_argument(
        "--where",
        action="append",
        metavar="FIELD=VALUE",
        help="keep features whose FIELD equals VALUE (A|B: either); repeatable",
    )
    s.add_argument("--bbox", metavar="MINX,MINY,MAXX,MAXY", help="keep features intersecting this box")
    s.add_argument("--bbox-crs", default="EPSG:4326", help="CRS of --bbox (default EPSG:4326 lon/lat)")
    s.add_argument("--metrics", action="store_true", help="add area metrics (km², 公顷, 亩, geodesic) per feature")
    s.add_argument(
        "--overlap", metavar="PARCELS", help="export the overlap analysis of these parcels (GeoJSON file or '-')"
    )
    s.add_argument("-o", "--output", help="output file, or a directory (file name chosen from layer and CRS)")
    s.set_defaults(func=cmd_export)

"""``gisapp overlap``: parcels in any format against one or more targets (压占分析), with a report.

Examples::

    gisapp overlap parcels.zip --target zs-industrial-redline --target zs-services-structure -o out.csv --bom
    gisapp overlap 界址点.txt --report report.pdf
    gisapp overlap amap.txt --datum gcj02 --format geojson
    gisapp overlap city.parquet -o result.parquet --dask --partitions 8

The output format follows ``--format``, else the extension of ``-o``, else JSON. Files are
written atomically (a temporary file renamed into place), so a failure leaves no half file.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from gisapp.clisupport import read_input, store_of
from gisapp.errors import InputError
from gisapp.limits import CLI_LIMITS

_BY_SUFFIX = {
    ".json": "json",
    ".geojson": "geojson",
    ".csv": "csv",
    ".parquet": "parquet",
    ".geoparquet": "parquet",
    ".html": "html",
    ".htm": "html",
    ".pdf": "pdf",
}


def write_atomic(body: bytes, path: str) -> None:
    """Write ``body`` to ``path`` through a temporary file in the same directory and a rename."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(body)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _format_for(path: str | None, given: str | None) -> str:
    if given:
        return given
    if path:
        suffix = Path(path).suffix.lower()
        if suffix not in _BY_SUFFIX:
            raise InputError(f"cannot tell the output format of {path}: use --format", code="unknown_format")
        return _BY_SUFFIX[suffix]
    return "json"


def cmd_overlap(args: argparse.Namespace) -> int:
    """Run the overlap (see the module docstring); 0 on success, InputError → exit 2."""
    from gisapp import service
    from gisapp.crsinfer import cached_crs
    from gisapp.report import render

    fmt = _format_for(args.output, args.format)
    output_crs = args.output_crs or ("input" if fmt == "parquet" else "EPSG:4326")
    if output_crs != "input":
        cached_crs(output_crs)  # InputError (exit 2) for an unknown CRS
    options: dict[str, Any] = {
        "targets": args.target or None,
        "fmt": args.input_format,
        "layer": args.layer,
        "crs": args.crs,
        "datum": args.datum,
        "infer": not args.no_infer,
        "sliver_m2": args.sliver_m2,
        "id_field": args.id_field,
        "workers": args.workers,
        "output_crs": None if output_crs.upper() == "EPSG:4547" else output_crs,
        "limits": CLI_LIMITS,
        "store": store_of(args),
    }
    data = read_input(args.parcels)
    filename = None if args.parcels == "-" else Path(args.parcels).name
    if args.dask:
        from gisapp.overlap import dask_overlap_check

        result, info = dask_overlap_check(
            data, filename, scheduler=args.scheduler, partitions=args.partitions, **options
        )
    else:
        result, info = service.overlap_check(data, filename, **options)
    print(info["crs"]["statement"] if info.get("crs") else f"CRS: {info['input_crs']}", file=sys.stderr)
    for msg in info["repairs"]:
        print(f"repaired: {msg}", file=sys.stderr)
    for msg in info.get("dropped", []):
        print(f"dropped: {msg}", file=sys.stderr)
    if args.report:
        report_fmt = _format_for(args.report, None)
        if report_fmt not in ("pdf", "html"):
            raise InputError("--report must end in .pdf or .html", code="unknown_format")
        write_atomic(render(result, info, report_fmt, store=options["store"]).body, args.report)
        print(f"wrote {args.report}", file=sys.stderr)
    if args.report and not args.output and not args.format:
        return 0
    out = render(result, info, fmt, bom=args.bom, store=options["store"])
    if args.output:
        write_atomic(out.body, args.output)
        print(f"wrote {args.output}", file=sys.stderr)
    elif fmt in ("parquet", "pdf"):
        sys.stdout.buffer.write(out.body)
    else:
        text = out.body.decode("utf-8")
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return 0


def register(sub: Any) -> None:
    """Add ``overlap`` to the ``gisapp`` sub-parsers."""
    s = sub.add_parser(
        "overlap",
        help="overlap parcels (any file, or '-') with the red line or other targets; report",
        description="压占分析: parcels (GeoJSON, zipped Shapefile, GeoPackage, KML, GeoParquet, DXF, "
        "boundary-point TXT/CSV, pasted coordinates) against polygon layers of the store.",
    )
    s.add_argument("parcels", help="parcel file, or '-' for stdin")
    s.add_argument(
        "--target",
        action="append",
        metavar="LAYER[FIELD=VALUE]",
        help="target layer (repeatable; default zs-industrial-redline), e.g. zs-industrial-redline[tier=一级]",
    )
    s.add_argument("--format", choices=["json", "geojson", "csv", "parquet", "html", "pdf"], help="output format")
    s.add_argument("--bom", action="store_true", help="CSV with a UTF-8 BOM (for Excel)")
    s.add_argument("-o", "--output", help="output file (format from its extension unless --format)")
    s.add_argument("--report", metavar="FILE.pdf|FILE.html", help="also write the report (PDF or HTML)")
    s.add_argument("--crs", help="CRS of the input when it declares none, e.g. EPSG:4526")
    s.add_argument("--datum", choices=["wgs84", "gcj02", "bd09"], default="wgs84", help="lon/lat datum (AMap: gcj02)")
    s.add_argument("--no-infer", action="store_true", help="reject input without a declared CRS instead of inferring")
    s.add_argument("--sliver-m2", type=float, default=None, help="drop parts/parcels under this many m² (default 1)")
    s.add_argument("--id-field", help="attribute holding the parcel id")
    s.add_argument("--layer", help="layer of a GeoPackage/KML, or DXF layer")
    s.add_argument(
        "--input-format",
        choices=["geojson", "shapefile", "gpkg", "kml", "geoparquet", "dxf", "points", "text"],
        help="force the input format (default: detected)",
    )
    s.add_argument(
        "--output-crs",
        default=None,
        help="CRS of CSV/GeoParquet geometry, or 'input' (default: GeoParquet keeps the parcels' own CRS, "
        "everything else EPSG:4326; GeoJSON is always RFC 7946 WGS 84)",
    )
    s.add_argument("--workers", type=int, help="threads for large inputs (default: CPU count)")
    s.add_argument("--dask", action="store_true", help="run partitioned on Dask (dask-geopandas)")
    s.add_argument("--scheduler", help="Dask scheduler address (default: a local cluster of 2 workers)")
    s.add_argument("--partitions", type=int, default=None, help="Dask partitions (default: 2 per worker)")
    s.set_defaults(func=cmd_overlap)

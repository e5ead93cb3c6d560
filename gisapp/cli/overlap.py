"""``gisapp overlap``: parcels in any format against one or more targets (压占分析), with a report.

Examples::

    gisapp overlap parcels.zip --target zs-industrial-redline --target zs-services-structure -o out.csv --bom
    gisapp overlap 界址点.txt --report report.pdf
    gisapp overlap amap.txt --datum gcj02 --format geojson
    gisapp overlap city.parquet -o result.parquet --dask --partitions 8

The output format follows ``--format``, else the extension of ``-o``, else JSON. The formats
are those of :func:`gisapp.report.overlap_report.overlap_formats`: every file format of ``gisapp export``
(:data:`gisapp.io.writers.WRITERS`) plus the renderings ``json``, ``html`` and ``pdf``
(:data:`gisapp.report.overlap_report.REPORTS`). Files are written atomically (a temporary file renamed into
place), so a failure leaves no half file.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from gisapp.cli.export import format_metavar
from gisapp.cli.support import read_input, store_of, write_atomic, write_output
from gisapp.core.errors import InputError
from gisapp.core.limits import CLI_LIMITS

#: File-name endings that are not a writer's own extension.
_OTHER_SUFFIXES = {".geoparquet": "parquet", ".htm": "html"}


def suffix_formats() -> dict[str, str]:
    """``{file-name ending: format}`` for ``-o``/``--report``: every writer's and report's extension."""
    from gisapp.io.writers import WRITERS
    from gisapp.report.overlap_report import REPORTS

    table = {w.extension: w.key for w in WRITERS.values()}
    table.update({r.extension: r.key for r in REPORTS.values()})
    table.update(_OTHER_SUFFIXES)
    return table


def _format_for(path: str | None, given: str | None) -> str:
    if given:
        return given
    if path:
        name = Path(path).name.lower()
        for suffix, key in sorted(suffix_formats().items(), key=lambda kv: -len(kv[0])):
            if name.endswith(suffix):
                return key
        raise InputError(f"cannot tell the output format of {path}: use --format", code="unknown_format")
    return "json"


def cmd_overlap(args: argparse.Namespace) -> int:
    """Run the overlap (see the module docstring); 0 on success, InputError → exit 2."""
    from gisapp.analysis.overlap import OverlapAnalysis
    from gisapp.core.crsinfer import cached_crs
    from gisapp.report.overlap_report import overlap_format, render

    fmt = overlap_format(_format_for(args.output, args.format)).key  # unknown_format before the analysis
    report_fmt = overlap_format(_format_for(args.report, None), documents_only=True).key if args.report else None
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
    filename = (
        None
        if args.parcels == "-"
        else Path(args.parcels).name + (".zip" if args.parcels.rstrip("/").lower().endswith(".gdb") else "")
    )
    wanted_crs = options.pop("output_crs")
    if args.dask:
        from gisapp.analysis.overlap import dask_overlap_check

        result: Any
        result, info = dask_overlap_check(
            data, filename, scheduler=args.scheduler, partitions=args.partitions, output_crs=wanted_crs, **options
        )
    else:
        from gisapp.analysis.overlap import run_overlap

        result, info = run_overlap(data, filename, **options)  # an OverlapAnalysis: its table when needed
    del data  # the input's bytes are not needed any more (a million parcels: tens of MB)
    print(info["crs"]["statement"] if info.get("crs") else f"CRS: {info['input_crs']}", file=sys.stderr)
    for msg in info["repairs"]:
        print(f"repaired: {msg}", file=sys.stderr)
    for msg in info.get("dropped", []):
        print(f"dropped: {msg}", file=sys.stderr)
    store = options["store"]
    table = None  # the result as a table, built once when a report or a rendered format needs it
    if report_fmt:
        table = _table(result, info, wanted_crs)
        write_atomic(render(table, info, report_fmt, store=store, documents_only=True).body, args.report)
        print(f"wrote {args.report}", file=sys.stderr)
    if args.report and not args.output and not args.format:
        return 0
    if fmt == "parquet" and isinstance(result, OverlapAnalysis):
        from gisapp.analysis.overlap.geoparquet import overlap_geoparquet

        # straight to the file, without the table's GeoDataFrame (None: rounding matters; render then)
        parquet = overlap_geoparquet(result, info, store, wanted_crs, workers=args.workers, consume=True)
        if parquet is not None:
            if args.output:
                write_atomic(parquet.write, args.output)
                print(f"wrote {args.output}", file=sys.stderr)
            else:
                sys.stdout.buffer.write(parquet.to_bytes())
            return 0
    if table is None:
        table = _table(result, info, wanted_crs)
    out = render(table, info, fmt, bom=args.bom, store=store)
    if args.output:
        write_atomic(out.body, args.output)
        for suffix, sidecar in out.sidecars.items():  # CSV: .csvt and .prj, which GDAL and QGIS read beside it
            write_atomic(sidecar, Path(args.output).with_suffix(suffix))
        print(f"wrote {args.output}", file=sys.stderr)
    elif not out.text:
        sys.stdout.buffer.write(out.body)
    else:
        write_output(out.body.decode("utf-8"), None)
    return 0


def _table(result: Any, info: dict[str, Any], output_crs: str | None) -> Any:
    """The long table of a result: an OverlapAnalysis' :meth:`frame` in the output CRS; a table as it is."""
    from gisapp.analysis.overlap import OverlapAnalysis, output_crs_of

    return result.frame(crs=output_crs_of(output_crs, info)) if isinstance(result, OverlapAnalysis) else result


def register(sub: Any) -> None:
    """Add ``overlap`` to the ``gisapp`` sub-parsers."""
    from gisapp.io.readers.readers import READERS
    from gisapp.report.overlap_report import overlap_formats

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
        help="target layer (repeatable; default zs-industrial-redline), e.g. zs-industrial-redline[tier=一级]; "
        "'controls' = every control line (红线 + 三区三线, with each line's verdict), '三区三线' = the three national lines",
    )
    s.add_argument(
        "--format",
        metavar=format_metavar(overlap_formats()),
        help="output format (default: from the extension of -o, else json)",
    )
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
        choices=READERS.names(),
        help="force the input format (default: detected)",
    )
    s.add_argument(
        "--output-crs",
        default=None,
        help="CRS of the output geometry, or 'input' (default: GeoParquet keeps the parcels' own CRS, "
        "everything else EPSG:4326; GeoJSON and KML are always WGS 84 lon/lat)",
    )
    s.add_argument("--workers", type=int, help="threads for large inputs (default: CPU count)")
    s.add_argument("--dask", action="store_true", help="run partitioned on Dask (dask-geopandas)")
    s.add_argument("--scheduler", help="Dask scheduler address (default: a local cluster of 2 workers)")
    s.add_argument("--partitions", type=int, default=None, help="Dask partitions (default: 2 per worker)")
    s.set_defaults(func=cmd_overlap)

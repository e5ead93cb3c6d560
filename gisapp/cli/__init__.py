"""The ``gisapp`` command line: a thin layer over :mod:`gisapp.analysis.service` and the core.

Exit codes: 0 success; 2 bad input (one line on stderr, no traceback); 1 unexpected error.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from gisapp.cli.support import EXIT_INPUT, read_input, settings_of, store_of, write_output
from gisapp.core.errors import InputError

__all__ = ["EXIT_INPUT", "main", "read_input", "write_output"]


def _store_arg(args: argparse.Namespace) -> Path:
    """The store folder of this invocation (``--store DIR``, else ``GISAPP_LAYERS_DIR``, else ``<repo>/layers``)."""
    return settings_of(args).layers_dir


def cmd_build(args: argparse.Namespace) -> int:
    """``gisapp build [--keep-towns] [--replace-official] [--store DIR]``: rebuild every layer in one transaction.

    Refuses (exit 2, nothing written) to replace an official town layer unless ``--keep-towns``
    or ``--replace-official`` is given; keeps an official red line unless ``--replace-official``.
    """
    from gisapp.plans.build import build_store

    build_store(_store_arg(args), keep_towns=args.keep_towns, replace_official=args.replace_official)
    return 0


def cmd_layers(args: argparse.Namespace) -> int:
    """``gisapp layers``: list the layers with basis and feature count."""
    metas = store_of(args).list()
    if args.json:
        write_output(json.dumps([m.to_dict() for m in metas], ensure_ascii=False, indent=2), None)
        return 0
    for m in metas:
        # a layer is labelled by its weakest feature; structure layers also count their features per basis
        bases = next((n.split("feature bases: ", 1)[1] for n in m.notes or [] if "feature bases: " in n), "")
        print(f"{m.id:28} {m.geometry_basis:12} {m.feature_count:5}  {m.title}" + (f"  [{bases}]" if bases else ""))
    return 0


def _table(rows: list[dict[str, Any]], cols: list[str]) -> str:
    lines = ["\t".join(cols)]
    lines += ["\t".join(str(r.get(c, "")) for c in cols) for r in rows]
    return "\n".join(lines)


def cmd_metrics(args: argparse.Namespace) -> int:
    """``gisapp metrics LAYER [--format table|json|csv]``: area per feature."""
    import pandas as pd

    from gisapp.analysis import service
    from gisapp.io.export import to_csv
    from gisapp.store.layerstore import check_layer_id

    result = service.layer_metrics(store_of(args), check_layer_id(args.layer))
    if args.format == "json":
        write_output(json.dumps(result, ensure_ascii=False, indent=2), args.output)
    elif args.format == "csv":
        write_output(to_csv(pd.DataFrame(result["features"]), bom=args.bom), args.output)
    else:
        if result["illustrative"]:
            print("示意数据 ILLUSTRATIVE layer: figures are not official")
        cols = ["id", "name", "area_km2", "area_ha", "area_mu", "geodesic_area_m2", "planar_vs_geodesic_pct"]
        write_output(_table(result["features"], cols), args.output)
    return 0


def cmd_redline_report(args: argparse.Namespace) -> int:
    """``gisapp redline report [--structure ID] [--format table|json]``: total vs 250 km², per town/zone.

    Short for ``gisapp accounting report`` on the default rule set.
    """
    from gisapp.analysis import service
    from gisapp.cli.accounting import report_text

    r = service.redline_accounting(store_of(args), args.structure or None)
    if args.format == "json":
        write_output(json.dumps(r, ensure_ascii=False, indent=2), args.output)
    else:
        write_output(report_text(r), args.output)
    return 0


def cmd_redline_import(args: argparse.Namespace) -> int:
    """``gisapp redline import FILE [--id-field F] [--tier-field F] [--store DIR]``: store an official red line.

    The file is checked fully first (polygons, valid, ids unique, inside 中山市); bad input
    exits 2 with nothing written.
    """
    from gisapp.plans.build import import_redline_to_store

    p = Path(args.file)
    if not (p.is_file() or (p.is_dir() and p.name.lower().endswith(".gdb"))):  # a File Geodatabase is a folder
        raise InputError(f"no such file: {p.name}", code="missing_file")
    manifest = import_redline_to_store(p, args.id_field, args.tier_field, _store_arg(args))
    from gisapp.cli.audit import record_cli

    record_cli(args, "publish", {"version": manifest.version if manifest else None}, layer="redline", file=p.name)
    return 0


def cmd_towns_replace(args: argparse.Namespace) -> int:
    """``gisapp towns replace FILE [--name-field F] [--store DIR]``: use an official 镇街 layer; rebuild dependents.

    The file is checked fully first (all 23 镇街 once each, valid polygons inside 中山市); the
    towns and every structure rebuilt from them are then switched in one transaction.
    """
    from gisapp.plans.build import replace_towns_in_store

    p = Path(args.file)
    if not p.is_file():
        raise InputError(f"no such file: {p.name}", code="missing_file")
    manifest = replace_towns_in_store(p, args.name_field, _store_arg(args))
    from gisapp.cli.audit import record_cli

    record_cli(args, "publish", {"version": manifest.version if manifest else None}, layer="towns", file=p.name)
    return 0


def cmd_towns_check(args: argparse.Namespace) -> int:
    """``gisapp towns check``: gaps, overlaps, seats, cited points and area fit of the stored town layer.

    Exit 1 when any point of ``data/zhongshan_town_evidence.csv`` lies outside its own town
    (each is printed with the unit it falls in).

    Exit 1 also when the store is not one consistent version (e.g. structures built from
    another town layer than the stored one; see ``gisapp store status``).
    """
    from gisapp.plans.towns import LAYER_ID, check_tessellation
    from gisapp.store.storetxn import VersionedStore

    layers = store_of(args)
    store = VersionedStore(layers.directory)
    store.recover()
    problems = store.verify()
    for p in problems:
        print(f"store: {p}")
    towns = layers.read(LAYER_ID)
    city = layers.read("base-city")
    check = check_tessellation(towns, city[city["name"] == "中山市"])
    worst = max(check.area_deviation.items(), key=lambda kv: abs(kv[1]))
    print(f"gap {check.gap_km2:.6f} km², overlap {check.overlap_km2:.6f} km²")
    print(f"seats outside their cell: {', '.join(check.seats_outside) or 'none'}")
    print(f"largest area deviation from target: {worst[0]} {worst[1] * 100:+.3f} %")
    for line in check.evidence_outside:
        print(f"cited point outside its town: {line}")
    ok = check.gap_km2 <= 0.01 and check.overlap_km2 <= 0.01 and not check.seats_outside and abs(worst[1]) <= 0.03
    ok = ok and not check.evidence_outside
    return 0 if ok and not problems else 1


def cmd_serve(args: argparse.Namespace) -> int:
    """``gisapp serve [--host H] [--port P] [--tiles …] [--workers N] [--threads N] [--base-url U] [--dev] [--allow-anonymous]``.

    On an address other than loopback it refuses to start (exit 2) without accounts
    (``gisapp users add``) unless ``--allow-anonymous`` is given, which is logged.

    Starts the map server under gunicorn: ``--workers`` processes (default two per CPU core), each
    with ``--threads`` threads (default 4, ``gthread`` workers). At most ``threads - 1`` analyses
    (POST requests) run at once per process, so a thread is always free for ``/api/health`` and the
    map (see :mod:`gisapp.web.admission`). Every link is built from ``--base-url`` (default
    ``$GISAPP_BASE_URL``, else ``http://HOST:PORT``), never from a client's ``Host`` header.
    ``--dev`` uses Werkzeug's single-process server instead.

    Raises:
        InputError: ``invalid_setting`` for a malformed base URL or fewer than 2 threads.
    """
    from gisapp.web import create_app

    if args.threads < 2:
        raise InputError(
            "--threads must be at least 2 (one thread stays free for health checks)", code="invalid_setting"
        )
    from gisapp.web.accounts import check_serving

    warning = check_serving(args.host, settings_of(args), args.allow_anonymous)  # InputError: no accounts
    if warning:
        print(warning, file=sys.stderr, flush=True)
    host_for_links = "127.0.0.1" if args.host in ("0.0.0.0", "::", "") else args.host
    configured = settings_of(args).base_url
    base_url = args.base_url or configured or f"http://{host_for_links}:{args.port}"
    app = create_app(
        {"GISAPP_TILES": args.tiles, "GISAPP_BASE_URL": base_url, "GISAPP_MAX_ANALYSES": max(1, args.threads - 1)}
    )
    print(
        f"gisapp map server: {base_url}/   (API: {base_url}/api/layers; listening on {args.host}:{args.port})",
        flush=True,
    )
    if args.host in ("0.0.0.0", "::") and not (args.base_url or configured):
        print(
            "note: links are written for 127.0.0.1; set --base-url http://<this machine>:PORT for other machines",
            file=sys.stderr,
            flush=True,
        )
    if args.dev:
        from werkzeug.serving import run_simple

        run_simple(args.host, args.port, app, threaded=True, use_reloader=False)
        return 0
    from gunicorn.app.base import BaseApplication

    class _Server(BaseApplication):
        def load_config(self) -> None:
            """gunicorn settings: bind address, worker processes and threads, access log, timeouts."""
            self.cfg.set("bind", f"{args.host}:{args.port}")
            self.cfg.set("workers", args.workers)
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("threads", args.threads)
            self.cfg.set("accesslog", "-" if args.access_log else None)
            self.cfg.set("timeout", 120)
            self.cfg.set("graceful_timeout", 10)
            self.cfg.set("limit_request_line", 8190)
            self.cfg.set("limit_request_fields", 100)

        def load(self):
            """Return the WSGI app gunicorn serves (created once, before the workers fork)."""
            return app

    _Server().run()
    return 0


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``gisapp`` command."""
    p = argparse.ArgumentParser(
        prog="gisapp", description="Planning-zone GIS: layers, metrics, overlap, export, map server"
    )
    sub = p.add_subparsers(dest="command", required=True)

    store_help = "the layer store to write (default: $GISAPP_LAYERS_DIR or layers/)"
    s = sub.add_parser("build", help="rebuild the bundled layers into layers/ (one transaction)")
    s.add_argument("--keep-towns", action="store_true", help="keep the stored town layer (e.g. an official one)")
    s.add_argument(
        "--replace-official",
        action="store_true",
        help="allow replacing an official town layer or red line with the schematic/illustrative one",
    )
    s.add_argument("--store", help=store_help)
    s.set_defaults(func=cmd_build)

    s = sub.add_parser("layers", help="list layers")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_layers)

    s = sub.add_parser("metrics", help="area per feature (km², 公顷, 亩)")
    s.add_argument("layer")
    s.add_argument("--format", choices=["table", "json", "csv"], default="table")
    s.add_argument("--bom", action="store_true", help="CSV with a UTF-8 BOM (for Excel)")
    s.add_argument("-o", "--output")
    s.set_defaults(func=cmd_metrics)

    rl = sub.add_parser("redline", help="industrial land protection red line").add_subparsers(
        dest="redline_cmd", required=True
    )
    s = rl.add_parser("report", help="total vs the 250 km² floor, per town and zone")
    s.add_argument(
        "--structure", default="zs-services-structure", help="structure layer for the per-zone table ('' for none)"
    )
    s.add_argument("--format", choices=["table", "json"], default="table")
    s.add_argument("-o", "--output")
    s.set_defaults(func=cmd_redline_report)
    s = rl.add_parser("import", help="replace the illustrative red line with an official file")
    s.add_argument("file")
    s.add_argument("--id-field")
    s.add_argument("--tier-field")
    s.add_argument("--store", help=store_help)
    s.set_defaults(func=cmd_redline_import)

    tw = sub.add_parser("towns", help="Zhongshan 镇街 layer").add_subparsers(dest="towns_cmd", required=True)
    s = tw.add_parser("replace", help="replace the schematic towns with an official layer")
    s.add_argument("file")
    s.add_argument("--name-field", default="name")
    s.add_argument("--store", help=store_help)
    s.set_defaults(func=cmd_towns_replace)
    s = tw.add_parser("check", help="check the tessellation (gaps, overlaps, seats, areas)")
    s.set_defaults(func=cmd_towns_check)

    s = sub.add_parser("serve", help="start the map server")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=5000)
    s.add_argument(
        "--tiles",
        choices=["none", "osm", "tianditu", "amap"],
        default="none",
        help="default base map (none: offline; tianditu needs GISAPP_TIANDITU_KEY; amap shifts layers to GCJ-02)",
    )
    s.add_argument(
        "--workers", type=int, default=2 * (os.cpu_count() or 1), help="gunicorn worker processes (default 2 per core)"
    )
    s.add_argument(
        "--threads", type=int, default=4, help="threads per worker (default 4; analyses at once per worker: threads-1)"
    )
    s.add_argument(
        "--base-url", help="the URL clients use, for every link (default $GISAPP_BASE_URL or http://HOST:PORT)"
    )
    s.add_argument("--access-log", action="store_true", help="log every request to stdout")
    s.add_argument("--dev", action="store_true", help="Werkzeug development server (one process) instead of gunicorn")
    s.add_argument(
        "--allow-anonymous",
        action="store_true",
        help="serve on a non-loopback address without accounts (logged; default: refuse, see gisapp users add)",
    )
    s.set_defaults(func=cmd_serve)

    from gisapp.core.extensions import extension_modules

    for module in extension_modules("", "gisapp.cli"):  # one module per command group (support: shared helpers)
        if hasattr(module, "register"):
            module.register(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the exit code (0 ok, 2 bad input, 1 unexpected error)."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except InputError as exc:
        print(f"gisapp: error: {exc.message}", file=sys.stderr)
        return EXIT_INPUT
    except BrokenPipeError:
        return 0
    except Exception as exc:  # last resort: one line, no traceback
        print(f"gisapp: unexpected error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

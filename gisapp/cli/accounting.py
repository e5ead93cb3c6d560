"""``gisapp accounting …``: control-line accounting on the command line (thin over
:mod:`gisapp.analysis.accounting.service` and :mod:`gisapp.analysis.zonalstats`).

Commands: ``report``, ``rules``, ``dictionaries``, ``adjust``, ``compare``, ``zonal``. Every
command exits 0 on success and 2 on bad input (one line on stderr, via :func:`gisapp.cli.main`).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import yaml

from gisapp.analysis.accounting.tabular import TABLES, csv_text, report_rows, with_warning
from gisapp.cli.support import read_input, store_of, write_output
from gisapp.core.errors import InputError


def _fmt(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.4f}".rstrip("0").rstrip(".") if abs(v) < 1e12 else str(v)
    return str(v)


def text_table(rows: list[dict[str, Any]], cols: list[str]) -> str:
    """Rows as a tab-separated table with a header line (empty cells for missing keys)."""
    lines = ["\t".join(cols)]
    lines += ["\t".join(_fmt(r.get(c)) for c in cols) for r in rows]
    return "\n".join(lines)


def _progress(args: argparse.Namespace) -> dict[str, Any]:
    data: dict[str, Any] = {}
    if getattr(args, "progress", None):
        try:
            loaded = yaml.safe_load(read_input(args.progress).decode("utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read the progress file: {exc}", code="invalid_progress") from exc
        if not isinstance(loaded, dict):
            raise InputError("the progress file must hold a mapping {metric: value}", code="invalid_progress")
        data.update(loaded)
    for item in getattr(args, "set", None) or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InputError(f"--set needs KEY=VALUE, not {item!r}", code="invalid_progress")
        data[key.strip()] = value.strip()
    return data


def report_text(r: dict[str, Any]) -> str:
    """The red-line report as text: totals, tiers, per-unit table, zones, rule verdicts with citations."""
    out = []
    if r["illustrative"]:
        out.append(f"!! {r['warning']}")
    rs = r["ruleset"]
    out.append(
        f"{rs['title']} / {rs['title_en']} — layer {r['layer']} ({r['geometry_basis']}), {r['block_count']} blocks"
    )
    m = r["area_methods"]
    out.append(f"area methods: {m['planar']}; {m['ellipsoidal']}. Verdicts use the {r['verdict_area']} area.")
    t = r["total"]
    out.append(
        f"total (planar):      {t['planar_km2']:.4f} km² = {t['planar_ha']:.2f} 公顷 = {t['planar_mu']:.1f} 亩\n"
        f"total (ellipsoidal): {t['ellipsoidal_km2']:.4f} km² = {t['ellipsoidal_ha']:.2f} 公顷 = {t['ellipsoidal_mu']:.1f} 亩"
        f"  (planar − ellipsoidal: {t['planar_vs_ellipsoidal_pct']:+.4f} %)"
    )
    if r["floor"]:
        f, h = r["floor"], r["headroom"]
        out.append(f"floor: {f['comparison']} {f['value']:g} {f['unit']} — “{f['quote']}” ({f['citation_label']})")
        out.append(
            f"headroom: {h['sign']} ({h['sign_zh']}) {abs(h['ellipsoidal_km2']):.4f} km² ellipsoidal, "
            f"{abs(h['planar_km2']):.4f} km² planar"
        )
    s = r["status"]
    out.append(f"status: {s['label_zh']} / {s['label_en']} (margin {s['margin_pct']:g} %)")
    out.append("\nby tier:")
    out.append(
        text_table(
            r["tiers"], ["tier", "block_count", "planar_km2", "ellipsoidal_km2", "planar_ha", "share_of_line_pct"]
        )
    )
    if r["tier_note"]:
        out.append(f"  note: {r['tier_note']}")
    out.append(f"\nby {r['unit_label']} ({r['unit_label_en']}):")
    out.append(
        text_table(
            r["by_unit"],
            [
                "unit",
                "planar_ha",
                "ellipsoidal_ha",
                "planar_mu",
                "share_of_unit_pct",
                "share_of_line_pct",
                "tiers_text",
            ],
        )
    )
    su = r["by_unit_sum"]
    out.append(
        f"sum of rows: {su['planar_ha']:.4f} 公顷 planar (total {t['planar_ha']:.4f}, diff {su['diff_planar_ha']:+.4f}); "
        f"{su['ellipsoidal_ha']:.4f} 公顷 ellipsoidal (diff {su['diff_ellipsoidal_ha']:+.4f})"
    )
    if r["by_zone"]:
        out.append(f"\nby zone of {r['structure']}:")
        out.append(
            text_table(
                r["by_zone"],
                ["zone", "role", "planar_km2", "ellipsoidal_km2", "share_of_zone_pct", "share_of_line_pct"],
            )
        )
    out.append("\nrules:")
    for x in r["rules"]:
        c = x["citation"]
        value = "—" if x.get("value") is None else f"{x['value']:g}"
        checked = {True: "quote checked against the plan", False: "QUOTE NOT FOUND on that line", None: ""}[
            x["quote_checked"]
        ]
        out.append(
            f"  [{x['verdict']} {x['verdict_zh']}] {x['title']}: {value} {x['comparison']} {x['threshold']:g} {x['unit']}"
            f"\n      source: {x['citation_label']} “{c['quote']}” [{c['status']}] {checked}".rstrip()
        )
    if r.get("landuse"):
        lu = r["landuse"]
        ind = lu["industrial"]
        pred = lu["predicate"]
        which = "、".join([*pred["codes"], *pred["names"]]) or "none"
        out.append(
            f"\nland use ({lu['dictionary']['id']}, field {lu['class_field']}; industrial = {which}, from {pred['origin']}):"
        )
        out.append(
            text_table(
                lu["by_class"],
                [
                    "code",
                    "name",
                    "status",
                    "industrial",
                    "inside_ellipsoidal_ha",
                    "outside_ellipsoidal_ha",
                    "inside_planar_ha",
                ],
            )
        )
        out.append(
            f"industrial land inside the line: {ind['inside_ha']:.4f} 公顷 of {ind['total_ha']:.4f} 公顷 "
            f"({ind['coverage_pct']:.2f} %); {ind['share_of_line_pct']:.2f} % of the line"
        )
    out.append(f"\nplanar vs ellipsoidal area of every {r['unit_label']}:")
    out.append(text_table(r["unit_areas"], ["unit", "planar_km2", "ellipsoidal_km2", "planar_vs_ellipsoidal_pct"]))
    for n in r["notes"]:
        out.append(f"note: {n}")
    return "\n".join(out)


def cmd_report(args: argparse.Namespace) -> int:
    """``gisapp accounting report``: the control-line report of a rule set."""
    from gisapp.analysis.accounting import service

    r = service.report(
        args.rules,
        store=store_of(args),
        structure_id=args.structure,
        margin_pct=args.margin,
        progress=_progress(args),
        line=Path(args.line) if args.line else None,
        landuse_data=Path(args.landuse) if args.landuse else None,
        landuse_layer=args.landuse_layer,
        class_field=args.class_field,
        dictionary_id=args.dictionary,
        industrial_codes=args.industrial_codes.split(",") if args.industrial_codes else None,
    )
    if args.format == "json":
        write_output(json.dumps(r, ensure_ascii=False, indent=2), args.output)
    elif args.format == "csv":
        write_output(csv_text(report_rows(r, args.table), args.bom), args.output)
    else:
        write_output(report_text(r), args.output)
    return 0


def cmd_rules(args: argparse.Namespace) -> int:
    """``gisapp accounting rules``: the rule sets and their cited rules."""
    from gisapp.analysis.accounting import service

    sets = service.ruleset_index()
    if args.json:
        write_output(json.dumps(sets, ensure_ascii=False, indent=2), None)
        return 0
    for s in sets:
        print(f"{s['id']}: {s['title']} (layer {s['line_layer']}, units {s['units_layer']})")
        for r in s["rules"]:
            c = r["citation"]
            where = f"{c['file']} line {c['line']}" if c["file"] else c["document"]
            print(
                f"  {r['id']:36} {r['kind']:15} {r['comparison']} {r['threshold']:g} {r['unit']:4} [{c['status']}] {where}"
            )
    return 0


def cmd_dictionaries(args: argparse.Namespace) -> int:
    """``gisapp accounting dictionaries``: the land-use dictionaries and how far they are verified."""
    from gisapp.analysis.accounting import service

    ds = service.dictionary_index()
    if args.json:
        write_output(json.dumps(ds, ensure_ascii=False, indent=2), None)
        return 0
    for d in ds:
        counts = ", ".join(f"{k} {v}" for k, v in sorted(d["status_counts"].items()))
        print(f"{d['id']}: {d['title']} ({d['standard']}), {d['class_count']} classes: {counts}")
    return 0


def cmd_adjust(args: argparse.Namespace) -> int:
    """``gisapp accounting adjust PROPOSAL``: what a 占补平衡 proposal would do (nothing is stored)."""
    from gisapp.analysis.accounting import service

    r = service.adjust(
        args.rules,
        read_input(args.proposal),
        store=store_of(args),
        margin_pct=args.margin,
        progress=_progress(args),
        line=Path(args.line) if args.line else None,
    )
    if args.format == "json":
        write_output(json.dumps(r, ensure_ascii=False, indent=2), args.output)
        return 0
    if args.format == "csv":
        write_output(csv_text(with_warning(r, r["changes"]["by_unit"]), args.bom), args.output)
        return 0
    out = [f"!! {r['warning']}"] if r["illustrative"] else []
    b, a, d = r["before"]["total"], r["after"]["total"], r["delta"]
    out += r["messages"]
    out.append(
        f"total before: {b['ellipsoidal_km2']:.4f} km² ellipsoidal / {b['planar_km2']:.4f} km² planar\n"
        f"total after:  {a['ellipsoidal_km2']:.4f} km² ellipsoidal / {a['planar_km2']:.4f} km² planar\n"
        f"change: {d['ellipsoidal_ha']:+.4f} 公顷 ellipsoidal ({d['ellipsoidal_mu']:+.2f} 亩), {d['planar_ha']:+.4f} 公顷 planar"
    )
    out.append(f"status after: {r['after']['status']['label_zh']} / {r['after']['status']['label_en']}")
    out.append("\nper unit (公顷):")
    out.append(
        text_table(
            r["changes"]["by_unit"],
            ["unit", "added_planar_ha", "removed_planar_ha", "net_planar_ha", "net_ellipsoidal_ha"],
        )
    )
    out.append("\nper tier (公顷):")
    out.append(
        text_table(
            r["changes"]["by_tier"],
            ["tier", "added_planar_ha", "removed_planar_ha", "net_planar_ha", "net_ellipsoidal_ha"],
        )
    )
    out.append("\nrules:")
    for x in r["rule_changes"]:
        flag = " (changed)" if x["changed"] else ""
        out.append(f"  {x['id']}: {x['before']} → {x['after']}{flag}")
    out.append("the stored layer is unchanged")
    write_output("\n".join(out), args.output)
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    """``gisapp accounting compare NEW [--base OLD]``: added, removed, net by unit and tier."""
    from gisapp.analysis.accounting import service

    r = service.compare(args.rules, Path(args.new), base=Path(args.base) if args.base else None, store=store_of(args))
    if args.format == "json":
        write_output(json.dumps(r, ensure_ascii=False, indent=2), args.output)
        return 0
    if args.format == "csv":
        write_output(csv_text(with_warning(r, r["by_unit"]), args.bom), args.output)
        return 0
    out = [f"!! {r['warning']}"] if r["illustrative"] else []
    out.append(f"{r['old']} → {r['new']}")
    out.append(
        f"added {r['added']['planar_ha']:.4f} 公顷, removed {r['removed']['planar_ha']:.4f} 公顷, "
        f"net {r['net_planar_ha']:+.4f} 公顷 (planar); net {r['net_ellipsoidal_ha']:+.4f} 公顷 (ellipsoidal)"
    )
    out.append(f"\nby {r['unit_label']}:")
    out.append(
        text_table(
            r["by_unit"], ["unit", "added_planar_ha", "removed_planar_ha", "net_planar_ha", "net_ellipsoidal_ha"]
        )
    )
    out.append("\nby tier:")
    out.append(
        text_table(
            r["by_tier"], ["tier", "added_planar_ha", "removed_planar_ha", "net_planar_ha", "net_ellipsoidal_ha"]
        )
    )
    write_output("\n".join(out), args.output)
    return 0


def cmd_zonal(args: argparse.Namespace) -> int:
    """``gisapp accounting zonal RASTER --zones LAYER|FILE``: raster statistics per zone."""
    from gisapp.analysis.accounting.service import read_vector
    from gisapp.analysis.zonalstats import flatten, zonal_stats
    from gisapp.store.layerstore import LAYER_ID_RE

    zones = (
        store_of(args).read(args.zones)
        if LAYER_ID_RE.match(args.zones)
        else read_vector(Path(args.zones), "zone layer")
    )
    stats = zonal_stats(
        Path(args.raster), zones, mode=args.mode, label_field=args.label_field, band=args.band, nodata=args.nodata
    )
    r = stats.model_copy(update={"zones_source": args.zones}).to_json_dict()
    if args.format == "json":
        write_output(json.dumps(r, ensure_ascii=False, indent=2), args.output)
        return 0
    rows = flatten(r)
    if args.format == "csv":
        write_output(csv_text(rows, args.bom), args.output)
        return 0
    cols = (
        ["zone", "value", "label", "planar_ha", "ellipsoidal_ha", "share_pct"]
        if args.mode == "categorical"
        else ["zone", "pixel_count", "weighted_count", "mean", "min", "max", "nodata_or_outside_planar_m2"]
    )
    info = r["raster"]
    head = f"raster {info['path']} ({info['crs']}, {info['width']}×{info['height']}, nodata {info['nodata']}), band {r['band']}, {r['mode']}"
    write_output("\n".join([head, *r["methods"].values(), text_table(rows, cols)]), args.output)
    return 0


def _common(s: argparse.ArgumentParser, formats: tuple[str, ...] = ("table", "json", "csv")) -> None:
    s.add_argument("--rules", default="zhongshan-industrial-redline", help="rule set id (a file in rules/)")
    s.add_argument("--format", choices=formats, default="table")
    s.add_argument("--bom", action="store_true", help="CSV with a UTF-8 BOM (for Excel)")
    s.add_argument("-o", "--output")


def register(sub: Any) -> None:
    """Add ``accounting`` and its sub-commands to the ``gisapp`` sub-parsers."""
    acc = sub.add_parser("accounting", help="control-line accounting: rules, tables, adjustments, land use, rasters")
    cmds = acc.add_subparsers(dest="accounting_cmd", required=True)

    s = cmds.add_parser("report", help="totals, tiers, per-unit table, zones, rule verdicts with citations")
    _common(s)
    s.add_argument("--structure", help="structure layer for the per-zone table ('' for none; default: the rule set's)")
    s.add_argument("--margin", type=float, help="colour-status margin in %% above the floor (default: the rule set's)")
    s.add_argument("--progress", help="YAML/JSON file of reported figures {metric: value}")
    s.add_argument("--set", action="append", metavar="KEY=VALUE", help="one reported figure (repeatable)")
    s.add_argument("--line", help="use this control-line file instead of the stored layer")
    s.add_argument("--landuse", help="land-use layer (GeoJSON, GeoPackage, Shapefile) for class tables and shares")
    s.add_argument("--landuse-layer", help="a stored land-use layer (e.g. a large 三调 DLTB) instead of --landuse")
    s.add_argument("--class-field", help="the land-use layer's class column")
    s.add_argument("--dictionary", help="land-use dictionary id (default: the rule set's)")
    s.add_argument("--industrial-codes", help="comma-separated code prefixes that count as industrial land")
    s.add_argument("--table", choices=TABLES, default="units", help="which table --format csv writes")
    s.set_defaults(func=cmd_report)

    s = cmds.add_parser("rules", help="list the rule sets and their cited rules")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_rules)

    s = cmds.add_parser("dictionaries", help="list the land-use dictionaries")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_dictionaries)

    s = cmds.add_parser("adjust", help="what a 占补平衡 proposal (JSON file or '-') would do; stores nothing")
    s.add_argument("proposal")
    _common(s)
    s.add_argument("--margin", type=float)
    s.add_argument("--progress")
    s.add_argument("--set", action="append", metavar="KEY=VALUE")
    s.add_argument("--line", help="use this control-line file instead of the stored layer")
    s.set_defaults(func=cmd_adjust)

    s = cmds.add_parser("compare", help="compare a version of the line with the stored one (or --base)")
    s.add_argument("new")
    s.add_argument("--base", help="the old version (default: the stored layer)")
    _common(s)
    s.set_defaults(func=cmd_compare)

    s = cmds.add_parser("zonal", help="raster statistics per zone (categorical areas or continuous stats)")
    s.add_argument("raster")
    s.add_argument("--zones", default="zs-towns", help="a layer id or a polygon file")
    s.add_argument("--mode", choices=["categorical", "continuous"], default="categorical")
    s.add_argument("--band", type=int, default=1)
    s.add_argument("--nodata", type=float, help="nodata value (overrides the raster's)")
    s.add_argument("--label-field", default="name")
    s.add_argument("--format", choices=("table", "json", "csv"), default="table")
    s.add_argument("--bom", action="store_true")
    s.add_argument("-o", "--output")
    s.set_defaults(func=cmd_zonal)

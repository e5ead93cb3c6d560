"""Control-line accounting over HTTP: the metrics page ``GET /accounting`` and JSON/CSV endpoints
under ``/api/accounting`` (thin over :mod:`gisapp.analysis.accounting.service` and :mod:`gisapp.analysis.zonalstats`).

Endpoints:

* ``GET /accounting[?rules=&structure=&margin=]``: the page: headline (total vs floor, shortfall),
  a server-drawn SVG map of the line over its units coloured by status, rounded tables (km² 2
  decimals, 公顷 1, 亩 0; exact values in ``data-value``), bar chart per unit, rule results with
  citations, progress form, adjustment tool, and a link back to the map;
* ``GET|POST /api/accounting/report[?rules=&structure=&margin=&format=csv&table=&bom=1]``: the
  report; a POST body ``{"progress": {…}, "landuse": GeoJSON, "class_field": …, "dictionary": …,
  "industrial_codes": […], "line": GeoJSON}`` adds reported figures, a land-use layer or a line;
  or ``multipart/form-data`` with file fields ``landuse`` and/or ``line`` (any input format: zipped
  Shapefile, GeoPackage, a zipped 三调 File Geodatabase whose DLTB layer is read …) and the other
  members as form fields (``progress`` as JSON text, ``industrial_codes`` comma-separated);
* ``POST /api/accounting/adjust[?rules=&margin=&format=csv&bom=1]``: body ``{"remove_ids",
  "remove", "add"}``; nothing is stored;
* ``POST /api/accounting/compare[?rules=&format=csv&bom=1]``: body = GeoJSON of the new version;
* ``POST /api/accounting/zonal?zones=LAYER&mode=categorical|continuous[&band=&nodata=&format=csv]``:
  multipart field ``file`` = the raster;
* ``GET /api/accounting/rulesets``, ``GET /api/accounting/dictionaries``.

Errors are JSON 4xx (``{"error", "message"}``) through the app's InputError handler.
"""

from __future__ import annotations

import json
import math
import tempfile
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, jsonify, render_template, request

from gisapp.analysis.accounting import rules as rules_mod
from gisapp.analysis.accounting import service
from gisapp.analysis.accounting.tabular import TABLES, csv_text, report_rows, with_warning
from gisapp.core.errors import InputError, LayerNotFound
from gisapp.core.jsontext import parse_json
from gisapp.store.layerstore import check_layer_id
from gisapp.web.accounting_map import build_map
from gisapp.web.admission import request_limits
from gisapp.web.api import csv_response, want_bom
from gisapp.web.context import current_store

blueprint = Blueprint("accounting", __name__)

#: The page loads nothing but these, all from this server.
CSP = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; object-src 'none'"


def _ruleset_arg() -> str:
    return request.args.get("rules", rules_mod.DEFAULT_RULESET)


def _margin_arg() -> float | None:
    """The ``margin`` parameter (percent, 0–100), or None.

    Raises:
        InputError: ``invalid_margin`` for text, NaN, infinity or a value outside 0–100.
    """
    value = request.args.get("margin")
    if value in (None, ""):
        return None
    try:
        margin = float(value)
    except ValueError:
        margin = math.nan
    if not 0 <= margin <= 100:  # also false for NaN
        raise InputError(f"margin must be a percentage from 0 to 100, not {value[:40]!r}", code="invalid_margin")
    return margin


def _structure_arg() -> str | None:
    if "structure" not in request.args:
        return None
    value = request.args["structure"]
    return check_layer_id(value) if value else ""


def _json_body() -> dict[str, Any]:
    data = request.get_data(cache=True)
    if not data:
        return {}
    body = parse_json(data)
    if not isinstance(body, dict):
        raise InputError("the request body must be a JSON object", code="invalid_json")
    return body


def _geojson(value: Any) -> str | None:
    return None if value in (None, "", {}) else json.dumps(value)


@blueprint.get("/accounting")
def page() -> Response:
    """The metrics page of a rule set's control line (server-rendered; JS for the forms)."""
    ruleset = rules_mod.load_ruleset(_ruleset_arg())
    try:
        r = service.report(ruleset.id, structure_id=_structure_arg(), margin_pct=_margin_arg(), store=current_store())
    except LayerNotFound as exc:
        if exc.message != f"unknown layer '{ruleset.line_layer}'":
            raise
        html = render_template(
            "accounting/missing.html", ruleset=ruleset, message=exc.message, default_title="中山市工业用地保护红线"
        )
        resp = Response(html, status=404, mimetype="text/html")
        resp.headers["Content-Security-Policy"] = CSP
        return resp
    shown = [u for u in r["by_unit"] if u["planar_ha"] >= DISPLAY_MIN_HA]
    folded = [u for u in r["by_unit"] if u["planar_ha"] < DISPLAY_MIN_HA]
    html = render_template(
        "accounting/page.html",
        r=r,
        ruleset=ruleset,
        rulesets=service.ruleset_index(),
        headline=_headline(r),
        units_shown=shown,
        units_folded=folded,
        folded_m2=sum(u["planar_m2"] for u in folded),
        display_min_ha=DISPLAY_MIN_HA,
        line_map=build_map(
            current_store(), ruleset.line_layer, ruleset.units_layer, ruleset.unit_name_field, r["by_unit"]
        ),
        map_href=_map_href(ruleset.line_layer),
        max_unit_ha=max([u["planar_ha"] for u in shown] or [1.0]) or 1.0,
    )
    resp = Response(html, mimetype="text/html")
    resp.headers["Content-Security-Policy"] = CSP
    return resp


#: Per-unit rows under this area (公顷) would read 0.0 at one decimal: they are folded into a note.
DISPLAY_MIN_HA = 0.05


def _headline(r: dict[str, Any]) -> dict[str, Any]:
    """The page's headline figures, on the area the verdicts use (``r["verdict_area"]``).

    Returns ``{"area", "total_km2", "floor_km2", "pct_of_floor", "gap_km2", "short"}``: the total,
    the floor (or None), the total as % of the floor, how far from it (km², ≥ 0) and whether short.
    """
    area = r["verdict_area"]
    total = float(r["total"][f"{area}_km2"])
    floor = float(r["floor"]["value_km2"]) if r.get("floor") else None
    return {
        "area": area,
        "total_km2": total,
        "floor_km2": floor,
        "pct_of_floor": 100.0 * total / floor if floor else None,
        "gap_km2": abs(total - floor) if floor else None,
        "short": floor is not None and total < floor,
    }


def _map_href(line_layer: str) -> str:
    """The map view of the plan the line comes from (``/#plan=<plan id>``), else the map."""
    try:
        plan = current_store().meta(line_layer).plan.removesuffix(".txt")
    except InputError:
        plan = ""
    return f"/#plan={plan}" if plan else "/"


def _multipart_body() -> tuple[dict[str, Any], dict[str, service.Upload]]:
    """The form fields of a multipart report request (``progress`` parsed as JSON, ``industrial_codes``
    split on commas) and its uploaded files ``landuse`` / ``line`` as :class:`service.Upload`."""
    body: dict[str, Any] = {k: v for k, v in request.form.items() if v != ""}
    if "progress" in body:
        body["progress"] = parse_json(body["progress"].encode("utf-8"))
    if "industrial_codes" in body:
        body["industrial_codes"] = [c.strip() for c in body["industrial_codes"].split(",") if c.strip()]
    unknown = sorted(set(request.files) - {"landuse", "line"})
    if unknown:
        raise InputError(
            f"unknown file field(s) {', '.join(unknown)[:80]}: send 'landuse' or 'line'", code="invalid_parameter"
        )
    uploads = {name: service.Upload(f.read(), f.filename or "", request_limits()) for name, f in request.files.items()}
    return body, uploads


@blueprint.route("/api/accounting/report", methods=["GET", "POST"])
def report():
    """The report as JSON, or one table as CSV (``?format=csv&table=units|tiers|zones|rules|…``)."""
    uploads: dict[str, service.Upload] = {}
    if request.method == "POST" and (request.files or request.form):
        body, uploads = _multipart_body()
    else:
        body = _json_body() if request.method == "POST" else {}
    progress = body.get("progress") or {}
    if not isinstance(progress, dict):
        raise InputError("'progress' must be an object {metric: value}", code="invalid_progress")
    codes = body.get("industrial_codes")
    r = service.report(
        _ruleset_arg(),
        store=current_store(),
        structure_id=_structure_arg(),
        margin_pct=_margin_arg(),
        progress=progress,
        line=uploads.get("line") or _geojson(body.get("line")),
        landuse_data=uploads.get("landuse") or _geojson(body.get("landuse")),
        class_field=body.get("class_field"),
        dictionary_id=body.get("dictionary"),
        industrial_codes=[str(c) for c in codes] if isinstance(codes, list) else None,
    )
    if request.args.get("format") == "csv":
        table = request.args.get("table", "units")
        if table not in TABLES:
            raise InputError(f"table must be one of {', '.join(TABLES)}", code="invalid_table")
        return csv_response(csv_text(report_rows(r, table), want_bom()), f"accounting-{table}.csv")
    return jsonify(r)


def _required_body(what: str) -> bytes:
    """The request body, or InputError ``empty_input`` (400) saying what to send."""
    data = request.get_data(cache=True)
    if not data:
        raise InputError(f"empty request body: send {what}", code="empty_input")
    return data


def _json_or_csv(r: dict[str, Any], rows: list[dict[str, Any]], filename: str) -> Response:
    """``r`` as JSON, or ``rows`` (with the illustrative warning) as CSV when ``?format=csv``."""
    if request.args.get("format") == "csv":
        return csv_response(csv_text(with_warning(r, rows), want_bom()), filename)
    return jsonify(r)


@blueprint.post("/api/accounting/adjust")
def adjust() -> Response:
    """What a 占补平衡 proposal would do; the stored layer is not changed."""
    data = _required_body("a proposal {remove_ids, remove, add}")
    r = service.adjust(_ruleset_arg(), data, margin_pct=_margin_arg(), store=current_store())
    return _json_or_csv(r, r["changes"]["by_unit"], "adjustment.csv")


@blueprint.post("/api/accounting/compare")
def compare() -> Response:
    """Compare a new version of the line (GeoJSON body) with the stored one."""
    data = _required_body("the new version as GeoJSON")
    r = service.compare(_ruleset_arg(), data, store=current_store())
    return _json_or_csv(r, r["by_unit"], "compare.csv")


@blueprint.post("/api/accounting/zonal")
def zonal():
    """Raster statistics per zone of a stored layer; the raster is the multipart field ``file``."""
    from gisapp.analysis.zonalstats import flatten, zonal_stats

    upload = request.files.get("file")
    if upload is None:
        raise InputError("send the raster as a multipart field named 'file'", code="missing_file")
    zones = current_store().read(request.args.get("zones", "zs-towns"))
    try:
        band = int(request.args.get("band", 1))
        nodata = float(request.args["nodata"]) if request.args.get("nodata") else None
    except ValueError as exc:
        raise InputError("band must be an integer and nodata a number", code="invalid_parameter") from exc
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "raster.tif"
        upload.save(path)
        r = zonal_stats(
            path,
            zones,
            mode=request.args.get("mode", "categorical"),
            label_field=request.args.get("label_field", "name"),
            band=band,
            nodata=nodata,
            raster_name=upload.filename or "upload",
        ).to_json_dict()
    if request.args.get("format") == "csv":
        return csv_response(csv_text(flatten(r), want_bom()), "zonal.csv")
    return jsonify(r)


@blueprint.get("/api/accounting/rulesets")
def rulesets():
    """Every rule set with its cited rules."""
    return jsonify({"rulesets": service.ruleset_index()})


@blueprint.get("/api/accounting/dictionaries")
def dictionaries():
    """Every land-use dictionary: identity, sources, class counts by verification status."""
    return jsonify({"dictionaries": service.dictionary_index()})

"""``/api/export``: layers, filtered subsets and analysis results as files (see :mod:`gisapp.io.formats`).

The formats are those of :data:`gisapp.io.writers.WRITERS`, the same set every output path offers.

* ``GET /api/export/formats`` — the formats and CRSs on offer (and the overlap-only reports);
* ``GET /api/export/<layer_id>?format=&crs=&encoding=&bom=&precision=&where=FIELD=VALUE&bbox=&bbox-crs=&metrics=1``;
* ``POST /api/export/overlap?format=…`` — body: GeoJSON parcels; the overlap result as a file.

The file comes as an attachment named ``<layer>[_<crs>][_gbk]<ext>``; a ``Link: <…>; rel="describedby"``
header points to the layer's metadata. A CSV, which cannot hold its CRS, field types or metadata,
comes zipped (``<layer>_<crs>.csv.zip``) with its ``.csvt``, ``.prj`` and ``.meta.json``.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
from flask import Blueprint, Response, jsonify, request

from gisapp.analysis import sources
from gisapp.core.errors import InputError
from gisapp.io import formats
from gisapp.io.writers import ENCODINGS, WRITERS
from gisapp.report.overlap_report import REPORTS
from gisapp.store.layerstore import LayerMeta
from gisapp.web.admission import request_limits
from gisapp.web.context import current_store

URL_PREFIX = "/api/export"
blueprint = Blueprint("export", __name__)


def _truthy(name: str) -> bool:
    return request.args.get(name, "0").lower() in ("1", "true", "yes")


def _precision() -> int | None:
    value = request.args.get("precision")
    if value in (None, ""):
        return None
    try:
        return int(value)
    except ValueError as exc:
        raise InputError(f"precision must be an integer, not {value!r}", code="invalid_precision") from exc


def _send(gdf: gpd.GeoDataFrame, meta: LayerMeta | dict[str, Any], describedby: str | None) -> Response:
    where = formats.parse_where(request.args.getlist("where"))
    bbox = formats.parse_bbox(request.args.get("bbox"))
    bbox_crs = request.args.get("bbox-crs")
    filters: dict[str, Any] = {}
    if where:
        filters["where"] = [f"{k}={v}" for k, v in where]
    if bbox:
        filters.update(bbox=list(bbox), bbox_crs=formats.parse_output_crs(bbox_crs).key)
    gdf = formats.select_features(gdf, where, bbox, bbox_crs)
    result = formats.export_frame(
        gdf,
        meta,
        request.args.get("format"),
        request.args.get("crs"),
        encoding=request.args.get("encoding", "utf-8"),
        bom=_truthy("bom"),
        precision=_precision(),
        filters=filters,
    ).zipped()  # a CSV comes with its .csvt (field types), .prj (CRS) and metadata, zipped
    headers = {"Content-Disposition": f'attachment; filename="{result.filename}"'}
    if describedby:
        headers["Link"] = f'<{describedby}>; rel="describedby"; type="application/json"'
    if result.metadata["export"]["warning"]:
        headers["X-Gisapp-Datum"] = result.metadata["export"]["crs"]
    return Response(result.data, content_type=result.media_type, headers=headers)


@blueprint.get("/formats")
def export_formats():
    """The formats and CRSs on offer (keys, names, file endings, media types).

    ``formats``: :data:`gisapp.io.writers.WRITERS` (every output path); ``overlap_reports``: the
    renderings ``/api/overlap`` offers besides them (:data:`gisapp.report.overlap_report.REPORTS`).
    """
    return jsonify(
        {
            "formats": [w.describe() for w in WRITERS.values()],
            "overlap_reports": [r.describe() for r in REPORTS.values()],
            "crs": [vars(c) for c in formats.OUTPUT_CRS.values()],
            "encodings": list(ENCODINGS),
        }
    )


@blueprint.post("/overlap")
def export_overlap() -> Response:
    """The overlap analysis (压占分析) of the posted GeoJSON parcels, as a file."""
    data = request.get_data(cache=False)
    if not data:
        raise InputError("empty request body: send GeoJSON parcels", code="empty_input")
    gdf, meta = sources.overlap_source(data, current_store(), limits=request_limits())
    return _send(gdf, meta, None)


@blueprint.get("/<layer_id>")
def export_layer(layer_id: str) -> Response:
    """A stored layer (``?metrics=1``: with area metrics per feature) as a file."""
    gdf, meta = sources.layer_source(layer_id, current_store(), metrics=_truthy("metrics"))
    return _send(gdf, meta, f"/api/layers/{layer_id}")

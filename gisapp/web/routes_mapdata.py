"""The JSON API of the map page (``/api/map``): features by bounding box, details, search.

| method and path | returns |
|---|---|
| ``GET /api/map/layers`` | the layer tree and every drawn layer's display entry |
| ``GET /api/map/layers/<id>/features?bbox=W,S,E,N&zoom=Z`` | GeoJSON of the features meeting the box, simplified for zoom Z |
| ``GET /api/map/layers/<id>/features/<fid>`` | details of one feature (escaped HTML, box, name) |
| ``GET /api/map/layers/<id>/features/<fid>.geojson`` | the feature at full precision, RFC 7946 |
| ``GET /api/map/search?q=…&limit=N`` | towns, districts, places, zones by Chinese name or pinyin |
| ``GET /api/map/places/<name>`` | details of a gazetteer place |

Errors are JSON (``{"error", "message"}``): 400 ``invalid_bbox``/``invalid_layer_id``, 404
``layer_not_found``/``feature_not_found``/``place_not_found``.
"""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import quote

from flask import Blueprint, Response, jsonify, request

from gisapp.core.errors import InputError
from gisapp.plans.search import SearchIndex, feature_entries, load_places, place_entries
from gisapp.web.context import current_store
from gisapp.web.map_details import feature_details, place_details
from gisapp.web.map_layers import StoreView, parse_bbox, store_view
from gisapp.web.map_legend import layer_entry, layer_tree
from gisapp.web.map_page import API

URL_PREFIX = "/api/map"
blueprint = Blueprint("mapdata", __name__)

GEOJSON_MIME = "application/geo+json"
MAX_SEARCH = 50


def _view() -> StoreView:
    return store_view(current_store())


def search_index(view: StoreView) -> tuple[SearchIndex, dict[str, Any]]:
    """The search index of a store view (built once per store state) and the gazetteer places it holds.

    Args:
        view: the store view.

    Returns:
        ``(index, places by name)``.
    """

    def build() -> tuple[SearchIndex, dict[str, Any]]:
        entries = []
        for layer in view.layers():
            rows = ((layer.ids[i], layer.props[i], layer.feature_bounds(i)) for i in range(len(layer.ids)))
            entries += feature_entries(layer.meta.id, layer.meta.kind, rows)
        places = load_places()
        entries += place_entries(places)
        return SearchIndex(entries), places

    return view.store.derived_store("search-index", build)


def _zoom() -> int:
    """The ``zoom`` parameter: a finite number from 0 to 24 (default 12), as an int.

    Raises:
        InputError: ``invalid_zoom`` (HTTP 400).
    """
    try:
        value = float(request.args.get("zoom", "12"))
    except ValueError:
        value = math.nan
    if not 0 <= value <= 24:  # also false for NaN
        raise InputError("zoom must be a number from 0 to 24", code="invalid_zoom")
    return int(value)


@blueprint.get("/layers")
def layers():
    """The layer tree (grouped by plan and structure) and every drawn layer's display entry."""
    view = _view()
    return jsonify({"tree": layer_tree(view), "layers": [layer_entry(layer) for layer in view.layers()]})


@blueprint.get("/layers/<layer_id>/features")
def features(layer_id: str) -> Response:
    """Features of a layer meeting ``bbox`` (all without it), simplified for ``zoom`` (default 12)."""
    layer = _view().layer(layer_id)
    text, count = layer.features_json(parse_bbox(request.args.get("bbox")), _zoom())
    resp = Response(text, mimetype=GEOJSON_MIME)
    resp.headers["X-Feature-Count"] = str(count)
    resp.headers["Cache-Control"] = "no-cache"
    return resp


def _links(layer_id: str, feature_id: str, polygons: bool) -> dict[str, str]:
    links = {
        "feature_geojson": API["feature_geojson"].replace("{layer}", layer_id).replace("{id}", feature_id),
        "layer_geojson": API["layer_geojson"].replace("{layer}", layer_id),
    }
    if polygons:
        links["layer_metrics_csv"] = f"/api/metrics/{layer_id}?format=csv&bom=1"
    # Other formats and CRSs through /api/export (gisapp/web/routes_export.py).
    quoted = quote(f"id={feature_id}", safe="=")
    links["feature_gpkg"] = f"/api/export/{layer_id}?format=gpkg&where={quoted}"
    links["layer_gpkg"] = f"/api/export/{layer_id}?format=gpkg"
    links["layer_shp_gbk"] = f"/api/export/{layer_id}?format=shp&encoding=gbk&crs=EPSG:4547"
    links["layer_kml"] = f"/api/export/{layer_id}?format=kml"
    links["layer_gcj02"] = f"/api/export/{layer_id}?format=geojson&crs=gcj02"
    return links


@blueprint.get("/layers/<layer_id>/features/<feature_id>")
def details(layer_id: str, feature_id: str):
    """Details of one feature: ``{layer, id, name, name_en, kind, basis, bbox, html}`` (escaped HTML)."""
    if feature_id.endswith(".geojson"):
        return feature_geojson(layer_id, feature_id.removesuffix(".geojson"))
    view = _view()
    layer = view.layer(layer_id)
    row = layer.row(feature_id)
    polygons = all(g.geom_type.endswith("Polygon") for g in layer.geoms)
    return jsonify(feature_details(view, layer_id, layer.ids[row], _links(layer_id, feature_id, polygons)))


def feature_geojson(layer_id: str, feature_id: str) -> Response:
    """One feature at full precision as an RFC 7946 FeatureCollection (download)."""
    from gisapp.io.export import to_geojson

    view = _view()
    layer = view.layer(layer_id)
    row = layer.row(feature_id)
    gdf = view.store.read(layer_id)
    gdf = gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty].reset_index(drop=True)
    text = to_geojson(gdf.iloc[[row]])
    headers = {"Content-Disposition": f'attachment; filename="{layer_id}-{feature_id}.geojson"'}
    return Response(text, mimetype=GEOJSON_MIME, headers=headers)


@blueprint.get("/search")
def search():
    """``{"query", "results": [{name, name_en, kind, kind_zh, kind_en, layer, id, bbox, context}]}``."""
    q = request.args.get("q", "")[:100]
    try:
        limit = max(1, min(MAX_SEARCH, int(request.args.get("limit", "10"))))
    except ValueError:
        raise InputError("limit must be an integer", code="invalid_limit") from None
    index, _ = search_index(_view())
    return jsonify({"query": q, "results": [e.to_dict() for e in index.search(q, limit)]})


@blueprint.get("/places/<name>")
def place(name: str):
    """Details of a gazetteer place (same shape as a feature's details; ``layer`` is ``""``)."""
    view = _view()
    _, places = search_index(view)
    if name not in places:
        raise InputError(f"no place named {name!r} in the gazetteer", code="place_not_found", status=404)
    return jsonify(place_details(places[name], view))

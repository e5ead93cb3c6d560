"""JSON API (``/api``): layers, GeoJSON export, metrics, red-line accounting, parcel overlap."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request, url_for

from gisapp.analysis import service
from gisapp.io.export import to_csv
from gisapp.store.layerstore import check_layer_id
from gisapp.web.context import current_store

api = Blueprint("api", __name__)

GEOJSON_MIME = "application/geo+json"
CSV_MIME = "text/csv; charset=utf-8"


def csv_response(text: str, filename: str) -> Response:
    """A CSV download response (``text/csv; charset=utf-8``, attachment ``filename``)."""
    return Response(text, mimetype=CSV_MIME, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def want_bom() -> bool:
    """True when the request asks for a UTF-8 BOM (``?bom=1``), for Excel."""
    return request.args.get("bom", "0") in ("1", "true", "yes")


@api.get("/health")
def health():
    """Liveness probe: ``{"status": "ok", "layers": n}``."""
    return jsonify({"status": "ok", "layers": len(current_store().list())})


@api.get("/layers")
def layers():
    """Every layer's metadata with links to its GeoJSON and metrics."""
    out = []
    for meta in current_store().list():
        d = meta.to_dict()
        d["links"] = {
            "geojson": url_for("api.layer_geojson_route", layer_id=meta.id),
            "metadata": url_for("api.layer_meta", layer_id=meta.id),
            "metrics": url_for("api.metrics", layer_id=meta.id),
        }
        out.append(d)
    return jsonify({"layers": out})


@api.get("/layers/<layer_id>")
def layer_meta(layer_id: str):
    """One layer's metadata (404 JSON for an unknown id)."""
    return jsonify(current_store().meta(layer_id).to_dict())


@api.get("/layers/<layer_id>.geojson")
def layer_geojson_route(layer_id: str) -> Response:
    """The layer as RFC 7946 GeoJSON (``application/geo+json``)."""
    text = current_store().geojson_text(layer_id)
    headers = {"Content-Disposition": f'inline; filename="{layer_id}.geojson"'}
    return Response(text, mimetype=GEOJSON_MIME, headers=headers)


@api.get("/metrics/<layer_id>")
def metrics(layer_id: str):
    """Area per feature (km², 公顷, 亩; planar EPSG:4547 and geodesic). ``?format=csv`` for CSV."""
    result = service.layer_metrics(current_store(), layer_id)
    if request.args.get("format") == "csv":
        import pandas as pd

        return csv_response(to_csv(pd.DataFrame(result["features"]), bom=want_bom()), f"{layer_id}-metrics.csv")
    return jsonify(result)


@api.get("/redline/report")
def redline_report():
    """The red line against its floor (不少于 250 km²), per town and per zone of ``?structure=``."""
    structure = request.args.get("structure", service.DEFAULT_STRUCTURE)
    return jsonify(service.redline_accounting(current_store(), check_layer_id(structure) if structure else None))

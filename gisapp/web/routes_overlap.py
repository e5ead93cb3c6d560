"""``POST /api/overlap``: parcels against the red line (压占分析)."""

from __future__ import annotations

import json

from flask import Blueprint, Response, jsonify, request

from gisapp import service
from gisapp.errors import InputError
from gisapp.export import to_csv, to_geojson
from gisapp.web.api import GEOJSON_MIME, csv_response, want_bom

URL_PREFIX = "/api"
blueprint = Blueprint("overlap", __name__)


@blueprint.post("/overlap")
def overlap():  # type: ignore[no-untyped-def]
    """Overlap parcels (GeoJSON body, or a multipart field ``file``) with the red line.

    ``?format=geojson`` returns the per-parcel FeatureCollection; ``?format=csv`` a CSV table;
    default JSON ``{summary, input_crs, repairs, …, parcels: FeatureCollection}``.
    """
    if request.files:
        upload = request.files.get("file")
        if upload is None:
            raise InputError("multipart upload needs a field named 'file'", code="missing_file")
        data = upload.read()
    else:
        data = request.get_data(cache=False)
    if not data:
        raise InputError("empty request body: send GeoJSON parcels", code="empty_input")
    result, info = service.overlap_check(data)
    fmt = request.args.get("format", "json")
    if fmt == "csv":
        return csv_response(to_csv(result, bom=want_bom()), "overlap.csv")
    fc = json.loads(to_geojson(result))
    if fmt == "geojson":
        return Response(json.dumps(fc, ensure_ascii=False), mimetype=GEOJSON_MIME)
    return jsonify({**info, "parcels": fc})

"""OGC API – Features under ``/ogc``: thin Flask routes over pygeoapi's API functions.

Landing page ``/ogc/``, ``/ogc/openapi``, ``/ogc/conformance``, ``/ogc/collections``,
``/ogc/collections/{id}``, ``/ogc/collections/{id}/queryables``, ``/ogc/collections/{id}/schema``,
``/ogc/collections/{id}/items`` (``bbox``, ``bbox-crs``, ``crs``, ``limit``, ``offset``, property
filters) and ``/ogc/collections/{id}/items/{featureId}``; ``?f=json|html`` or the ``Accept``
header choose the encoding. The standard is implemented by pygeoapi (see :mod:`gisapp.ogcapi`).
Items are also offered in every format of the Writer registry (``?f=gpkg``, ``shp``, ``kml``, ``csv``,
``fgb``, ``parquet``, ``geojson``): the same page of features, written by :mod:`gisapp.io.writers`.

What pygeoapi answers is adjusted for clients: items and items/{id} in JSON are served as
``application/geo+json`` (OGC 17-069r4 Requirement /req/geojson/content; pygeoapi says
``application/json``); the landing page lists no links to ``/processes``, ``/jobs`` or
``/TileMatrixSets`` (this service has none; they answered 404); and the OpenAPI document is
self-contained (:mod:`gisapp.ogcapi.oas`: the OGC schemas it referred to on the web are bundled).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import geopandas as gpd
import pygeoapi.api as core_api
import pygeoapi.api.itemtypes as itemtypes_api
from flask import Blueprint, Request, Response, request
from pygeoapi.api import APIRequest

from gisapp.core.bbox import parse_bbox
from gisapp.core.errors import InputError
from gisapp.io.formats import export_frame, parse_output_crs
from gisapp.io.writers import WRITERS, Writer
from gisapp.ogcapi.config import conformance as conformance_classes
from gisapp.ogcapi.config import get_api
from gisapp.web.context import current_store

URL_PREFIX = "/ogc"
blueprint = Blueprint("ogc", __name__)


def _check_bbox(value: str | None) -> None:
    """Reject a ``bbox`` that is not 4 or 6 finite numbers with miny ≤ maxy (pygeoapi passes NaN on);
    x may wrap the antimeridian (OGC 17-069r4).

    Raises:
        InputError: ``invalid_bbox`` (HTTP 400).
    """
    parse_bbox(value, allow_3d=True, wrap_x=True)


def _check_sortby(value: str | None) -> None:
    """Reject a ``sortby`` with an empty entry (``sortby=``, ``a,,b``): pygeoapi 0.21 indexes each entry's
    first character and answered 500 (found by schemathesis). Unknown names stay pygeoapi's 400.

    Raises:
        InputError: ``invalid_sortby`` (HTTP 400).
    """
    if value is not None and any(not part.strip() for part in value.split(",")):
        raise InputError(
            f"sortby must list property names, each optionally prefixed with + or -, not {value[:80]!r}",
            code="invalid_sortby",
        )


#: Landing-page links to endpoints this service does not offer (pygeoapi lists them for every server).
ABSENT_ENDPOINTS = ("/processes", "/jobs", "/TileMatrixSets")
GEOJSON = "application/geo+json"


def _run(
    function: Callable[..., tuple[dict[str, str], int, Any]],
    *args: str,
    geojson: bool = False,
    landing: bool = False,
) -> Response:
    """Call a pygeoapi API function for the current request and wrap its answer as a Flask response.

    Args:
        function: the pygeoapi API function; args: its path arguments.
        geojson: the JSON answer is GeoJSON (items, an item): served as ``application/geo+json``.
        landing: the answer is the landing page: links to :data:`ABSENT_ENDPOINTS` are removed.

    Raises:
        InputError: ``invalid_bbox``, ``invalid_sortby`` (checked before pygeoapi sees them).
    """
    _check_bbox(request.args.get("bbox"))
    _check_sortby(request.args.get("sortby"))
    api = get_api(current_store(), request.host_url.rstrip("/") + request.script_root + URL_PREFIX)
    api_request = APIRequest.from_flask(request, api.locales)
    if not api_request.is_valid():
        headers, status, content = api.get_format_exception(api_request)
    else:
        headers, status, content = function(api, api_request, *args)
    is_json = headers.get("Content-Type", "").startswith("application/json")
    if status >= 400 and is_json:
        content = _with_error_members(content)
    elif status == 200 and is_json and geojson:
        headers = {**headers, "Content-Type": GEOJSON}
    elif status == 200 and is_json and landing:
        content = _without_absent_links(content)
    response = Response(content, status=status)
    for key, value in headers.items():
        response.headers[key] = value
    return response


def _without_absent_links(content: Any) -> str:
    """The landing page JSON without links to :data:`ABSENT_ENDPOINTS` (``…/processes``, ``…/jobs``,
    ``…/TileMatrixSets?f=json``)."""
    doc = json.loads(content)
    doc["links"] = [
        link for link in doc.get("links", []) if not str(link.get("href", "")).split("?")[0].endswith(ABSENT_ENDPOINTS)
    ]
    return json.dumps(doc, ensure_ascii=False)


def _with_error_members(content: Any) -> str:
    """An OGC exception (``{"code", "description"}``) with this app's ``error``/``message`` members added.

    OGC clients read ``code`` and ``description``; every other client of this app reads ``error`` and
    ``message`` (README: errors). Content that is not a JSON object is returned unchanged.
    """
    try:
        doc = json.loads(content)
    except (TypeError, ValueError):
        return str(content)
    if isinstance(doc, dict) and "code" in doc:
        doc.setdefault("error", str(doc["code"]))
        doc.setdefault("message", str(doc.get("description", doc["code"])))
    return json.dumps(doc, ensure_ascii=False)


@blueprint.get("/")
def landing_page() -> Response:
    """Landing page (links to the API definition, conformance and collections)."""
    return _run(core_api.landing_page, landing=True)


@blueprint.get("/openapi")
def openapi() -> Response:
    """The OpenAPI 3.0 document (``?f=json``, self-contained: no ``$ref`` to the web; HTML is a plain offline page)."""
    return _run(core_api.openapi_)  # bundled when the API is built (gisapp.ogcapi.config)


@blueprint.get("/conformance")
def conformance() -> Response:
    """Conformance classes (Core, GeoJSON, HTML, OpenAPI 3.0, CRS …)."""
    return _run(conformance_classes)


@blueprint.get("/collections")
def collections() -> Response:
    """Every layer as a collection."""
    return _run(core_api.describe_collections)


@blueprint.get("/collections/<collection_id>")
def collection(collection_id: str) -> Response:
    """One collection: extent, CRSs (``crs``, ``storageCrs``) and links."""
    return _run(core_api.describe_collections, collection_id)


@blueprint.get("/collections/<collection_id>/queryables")
def queryables(collection_id: str) -> Response:
    """Queryable properties (names and JSON Schema types)."""
    return _run(itemtypes_api.get_collection_queryables, collection_id)


@blueprint.get("/collections/<collection_id>/schema")
def schema(collection_id: str) -> Response:
    """The collection's feature schema."""
    return _run(core_api.get_collection_schema, collection_id)


#: ``f`` values pygeoapi encodes itself; every other name of the Writer registry is written by our writers.
NATIVE_FORMATS = ("json", "html", "jsonld")


@blueprint.get("/collections/<collection_id>/items")
def items(collection_id: str) -> Response:
    """Features, paged (``limit`` default 10, max 1000), filtered by ``bbox``/properties, in ``crs``.

    ``f=json|html`` are pygeoapi's encodings; ``f=`` any name of :data:`gisapp.io.writers.WRITERS`
    (``geojson``, ``gpkg``, ``shp``, ``kml``, ``csv``, ``fgb``, ``parquet``, and their aliases) gives the
    same page of features as a file, so OGC offers the same formats as ``/api/export`` and ``/api/overlap``.
    """
    fmt = (request.args.get("f") or "").strip().lower()
    if not fmt or fmt in NATIVE_FORMATS:
        return _run(itemtypes_api.get_collection_items, collection_id, geojson=True)
    return _items_as_file(collection_id, WRITERS.get_entry(fmt))


def _items_as_file(collection_id: str, writer: Writer) -> Response:
    """The page of features pygeoapi selects for this request (as GeoJSON in CRS84), written by ``writer``
    in the requested ``crs`` (default CRS84 = EPSG:4326 lon/lat); metadata from the layer store.

    Raises:
        InputError: ``invalid_bbox``, ``unknown_crs`` (400); LayerNotFound (404).
    """
    out_crs = parse_output_crs(request.args.get("crs"))  # 400 before the page is read
    args = [(k, v) for k, v in request.args.items(multi=True) if k not in ("f", "crs")] + [("f", "json")]
    environ = {**request.environ, "QUERY_STRING": urlencode(args)}
    as_json = Request(environ)
    _check_bbox(as_json.args.get("bbox"))
    _check_sortby(as_json.args.get("sortby"))
    api = get_api(current_store(), request.host_url.rstrip("/") + request.script_root + URL_PREFIX)
    headers, status, content = itemtypes_api.get_collection_items(
        api, APIRequest.from_flask(as_json, api.locales), collection_id
    )
    if status >= 400:
        response = Response(_with_error_members(content), status=status, mimetype="application/json")
        return response
    doc = json.loads(content)
    features = [
        {**f, "properties": {"id": f.get("id"), **(f.get("properties") or {})}} for f in doc.get("features", [])
    ]
    gdf = gpd.GeoDataFrame.from_features(features, crs="EPSG:4326")
    # a mixed layer's collection (``<layer>-points``) names its layer in the provider block
    layer_id = api.config["resources"][collection_id]["providers"][0]["data"]
    meta = current_store().meta(layer_id)
    query = {"ogc_query": request.query_string.decode()[:500]}
    result = export_frame(gdf, meta, writer, out_crs, name=collection_id, filters=query).zipped()
    return Response(
        result.data,
        content_type=result.media_type,
        headers={"Content-Disposition": f'attachment; filename="{result.filename}"'},
    )


@blueprint.get("/collections/<collection_id>/items/<item_id>")
def item(collection_id: str, item_id: str) -> Response:
    """One feature by id (404 when absent)."""
    return _run(itemtypes_api.get_collection_item, collection_id, item_id, geojson=True)

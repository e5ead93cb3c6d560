"""pygeoapi configuration for the layer store, and the pygeoapi :class:`~pygeoapi.api.API` per base URL.

Every layer of the store becomes one collection (id = layer id), except a layer that mixes geometry
families (points and polygons, say): it becomes one collection per family, ``<layer>-polygons``,
``<layer>-lines``, ``<layer>-points`` (:func:`collection_parts`). QGIS (3.22's OAPIF provider) gives
a layer one geometry type, taken from the first features, and draws no feature of another family, so a
mixed collection lost features there (``gz-services-structure`` showed its 8 polygons, not its 93 points).
Collections offer the CRSs of OGC API – Features Part 2 listed in :data:`CRS_URIS`; the storage CRS is
CRS84. Paging: 10 features per page by default, at most :data:`MAX_ITEMS`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import geopandas as gpd
import shapely
from pygeoapi.api import API
from pygeoapi.openapi import get_oas

from gisapp.core import paths
from gisapp.ogcapi.oas import bundled_openapi
from gisapp.store.layerstore import LayerMeta, LayerStore

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
#: CRSs offered by every collection (Part 2): CRS84 first (the default), then EPSG codes.
CRS_URIS = [CRS84] + [f"http://www.opengis.net/def/crs/EPSG/0/{c}" for c in (4326, 4490, 4547, 4526)]
DEFAULT_ITEMS = 10
MAX_ITEMS = 1000
PROVIDER = "gisapp.ogcapi.provider.LayerStoreProvider"
MAX_CACHED_APIS = 8

#: Geometry families of a mixed layer's collections: ``(family, collection suffix, 中文, GeoJSON types)``.
FAMILIES = (
    ("polygon", "polygons", "面", ("Polygon", "MultiPolygon")),
    ("line", "lines", "线", ("LineString", "MultiLineString", "LinearRing")),
    ("point", "points", "点", ("Point", "MultiPoint")),
)


def geometry_families(gdf: gpd.GeoDataFrame) -> list[str]:
    """The geometry families present in ``gdf`` (``polygon``, ``line``, ``point``, in that order).

    Missing and empty geometries belong to no family; geometry collections to none either (a mixed
    layer's collections leave them out: the store holds none).
    """
    types = set(gdf.geom_type.dropna().unique()) if len(gdf) else set()
    return [family for family, _, _, kinds in FAMILIES if types & set(kinds)]


def family_mask(gdf: gpd.GeoDataFrame, family: str) -> Any:
    """Boolean array: the features of ``gdf`` whose geometry is of ``family`` (``polygon``/``line``/``point``).

    Raises:
        KeyError: for another family name.
    """
    kinds = {f: k for f, _, _, k in FAMILIES}[family]
    return gdf.geom_type.isin(kinds).to_numpy()


def collection_parts(gdf: gpd.GeoDataFrame, layer_id: str) -> list[tuple[str, str | None]]:
    """The collections a layer is served as: ``[(collection id, family or None)]``.

    One collection named after the layer when it has at most one geometry family; otherwise one per
    family present, ``<layer>-polygons``, ``<layer>-lines``, ``<layer>-points`` (see the module docstring).
    """
    families = geometry_families(gdf)
    if len(families) <= 1:
        return [(layer_id, None)]
    suffix = {f: s for f, s, _, _ in FAMILIES}
    return [(f"{layer_id}-{suffix[f]}", f) for f in families]


def collection_ids(layer_id: str) -> list[str]:
    """Every OGC collection id a layer may be served as: its own id and ``<layer>-polygons|-lines|-points``."""
    return [layer_id] + [f"{layer_id}-{suffix}" for _, suffix, _, _ in FAMILIES]


def layer_of_collection(collection_id: str, exists: Callable[[str], bool]) -> str:
    """The layer id behind an OGC collection id: itself when such a layer exists, else the layer a
    ``-polygons``/``-lines``/``-points`` collection is a part of (:func:`collection_parts`); the id
    unchanged when neither exists.

    Args:
        collection_id: as in ``/ogc/collections/<collection_id>``.
        exists: layer id → the store holds it (:meth:`gisapp.store.layerstore.LayerStore.exists`).
    """
    if exists(collection_id):
        return collection_id
    for _, suffix, _, _ in FAMILIES:
        base = collection_id.removesuffix(f"-{suffix}")
        if base != collection_id and exists(base):
            return base
    return collection_id


def _collection(meta: LayerMeta, bbox: list[float], store: LayerStore, family: str | None = None) -> dict[str, Any]:
    """The pygeoapi resource block of one layer, or of one geometry ``family`` of a mixed layer
    (title Chinese first, provenance in the description)."""
    description = (
        f"{meta.title_en}. {meta.description} geometry_basis: {meta.geometry_basis}. "
        f"Source: {meta.source}. Licence: {meta.licence}. Datum: {meta.datum}."
    )
    title = meta.title
    if family is not None:
        label = {f: (s, zh) for f, s, zh, _ in FAMILIES}[family]
        title = f"{meta.title}（{label[1]}）"
        description = (
            f"The {label[0]} of layer {meta.id} (it mixes geometry types; each type is its own collection). "
            + description
        )
    return {
        "type": "collection",
        "title": title,
        "description": description,
        "keywords": [meta.kind, meta.geometry_basis],
        "links": [
            {
                "type": "application/json",
                "rel": "describedby",
                "title": "layer metadata (source, licence, datum, geometry basis)",
                "href": f"/api/layers/{meta.id}",
            }
        ],
        "extents": {"spatial": {"bbox": bbox, "crs": CRS84}},
        "providers": [
            {
                "type": "feature",
                "name": PROVIDER,
                "data": meta.id,
                "store": store,  # the app's LayerStore (pygeoapi passes the block to the provider as is)
                "geometry_family": family,  # None: every feature of the layer
                "id_field": "id",
                "title_field": "name",
                "crs": list(CRS_URIS),
                "storage_crs": CRS84,
            }
        ],
    }


def build_config(store: LayerStore, base_url: str) -> dict[str, Any]:
    """The pygeoapi configuration for a layer store.

    Args:
        store: the layer store; each collection's provider reads through it.
        base_url: absolute URL of the API's landing page without a trailing slash
            (e.g. ``http://127.0.0.1:5000/ogc``); pygeoapi writes every link from it.

    Returns:
        a pygeoapi configuration dict (the same structure as ``pygeoapi-config.yml``).
    """
    resources = {}
    for meta in store.list():
        if store.is_large(meta.id):  # one collection, its extent from the backend: never read whole
            bounds = store.bounds(meta.id)
            bbox = [round(float(v), 6) for v in bounds] if any(bounds) else [-180.0, -90.0, 180.0, 90.0]
            resources[meta.id] = _collection(meta, bbox, store, None)
            continue
        gdf = store.frame(meta.id)
        for collection_id, family in collection_parts(gdf, meta.id):
            part = gdf if family is None else gdf[family_mask(gdf, family)]
            resources[collection_id] = _collection(meta, _bbox(part), store, family)
    return {
        "server": {
            "bind": {"host": "127.0.0.1", "port": 5000},
            "url": base_url,
            "mimetype": "application/json; charset=UTF-8",
            "encoding": "utf-8",
            # "zh", not "zh-CN": pygeoapi 0.21 rebuilds a matched locale as language + territory, and babel
            # knows no "zh_CN" (only zh_Hans_CN), so "zh-CN" made every request with Accept-Language zh-HK,
            # zh-TW, zh, ja, * … fail (UnknownLocaleError). Any Chinese variant now gets the Chinese pages.
            "languages": ["zh", "en-US"],
            "limits": {"default_items": DEFAULT_ITEMS, "max_items": MAX_ITEMS, "on_exceed": "throttle"},
            "pretty_print": False,
            "admin": False,
            "map": {"url": "", "attribution": ""},
            "templates": {"path": str(paths.templates_dir() / "ogc")},
        },
        "logging": {"level": "ERROR"},
        "metadata": {
            "identification": {
                "title": "gisapp 规划图层 OGC API – Features",
                "description": "珠三角五年规划空间格局图层（示意/官方以 geometry_basis 为准）. Planning-zone layers of "
                "Pearl River Delta five-year plans; each collection states its source, licence and geometry basis.",
                "keywords": ["planning", "spatial structure", "Zhongshan", "OGC API - Features"],
                "keywords_type": "theme",
                "terms_of_service": "",
                "url": base_url,
            },
            "license": {"name": "per collection (see its description)", "url": base_url},
            "provider": {"name": "gisapp", "url": base_url},
            "contact": {"name": "gisapp", "position": "", "email": "", "url": base_url, "role": "pointOfContact"},
        },
        "resources": resources,
    }


def _bbox(gdf: gpd.GeoDataFrame) -> list[float]:
    """The CRS84 bounds of ``gdf`` to 6 decimals (the whole world when it has no geometry)."""
    bounds = shapely.total_bounds(gdf.geometry.to_numpy()) if len(gdf) else [float("nan")] * 4
    if any(v != v for v in bounds):
        return [-180.0, -90.0, 180.0, 90.0]
    return [round(float(v), 6) for v in bounds]


def _quiet_api(config: dict[str, Any]) -> API:
    """Build the pygeoapi API without letting it configure the root logger.

    pygeoapi's ``setup_logger`` calls :func:`logging.basicConfig`, which would give the whole
    process pygeoapi's log format; a temporary :class:`logging.NullHandler` on the root logger
    makes that call a no-op (basicConfig does nothing when the root has a handler).
    """
    logging.getLogger("pygeoapi").setLevel(logging.ERROR)  # e.g. "offset missing" is logged as a warning
    root = logging.getLogger()
    guard = logging.NullHandler()
    root.addHandler(guard)
    try:
        # the OpenAPI document made self-contained once, when the API is built (not per request)
        return API(config, bundled_openapi(get_oas(config, fail_on_invalid_collection=False)))
    finally:
        root.removeHandler(guard)


def get_api(store: LayerStore, base_url: str) -> API:
    """The pygeoapi API for ``base_url`` over ``store`` (cached by the store until a layer changes).

    At most :data:`MAX_CACHED_APIS` base URLs are kept (one per base URL clients used).

    Args:
        store: the layer store.
        base_url: see :func:`build_config`.

    Returns:
        a :class:`pygeoapi.api.API` with its OpenAPI 3.0 document (``pygeoapi.openapi.get_oas``).
    """
    url = base_url.rstrip("/")
    return store.derived_store("ogc-api", lambda: _quiet_api(build_config(store, url)), url, bound=MAX_CACHED_APIS)


#: Conformance classes this service meets (pygeoapi's own list also claims Part 4 create/replace/delete
#: and Part 5 schemas for every feature provider; our collections are read-only).
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/landing-page",
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/json",
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-common-2/1.0/conf/collections",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
]


def conformance(api: API, request: Any) -> tuple[dict[str, str], int, str]:
    """``/conformance`` as pygeoapi answers it, but listing only :data:`CONFORMANCE`.

    (pygeoapi 0.21's own function also extends its module-level list on every call.)

    Args:
        api: the pygeoapi API; request: a :class:`pygeoapi.api.APIRequest`.

    Returns:
        ``(headers, status, content)`` like every pygeoapi API function (JSON or HTML).
    """
    from pygeoapi.api import F_HTML
    from pygeoapi.util import render_j2_template, to_json

    body = {"conformsTo": list(CONFORMANCE)}
    headers = request.get_response_headers(**api.api_headers)
    if request.format == F_HTML:
        content = render_j2_template(
            api.tpl_config, api.config["server"]["templates"], "conformance.html", body, request.locale
        )
        return headers, 200, content
    return headers, 200, to_json(body, api.pretty_print)

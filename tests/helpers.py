"""Helpers for tests: squares in EPSG:4547, GeoJSON documents, RFC 7946 checks."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from typing import Any

import geopandas as gpd
import shapely

from gisapp.core import paths
from gisapp.core.crs import PROJECTED, WGS84
from gisapp.store.layerstore import LayerMeta, LayerStore

#: A point in 中山港街道's schematic cell (near its seat), EPSG:4326.
ZHONGSHANGANG = (113.487, 22.5646)


def square_4547(lon: float, lat: float, side_m: float, dx: float = 0.0, dy: float = 0.0) -> shapely.Polygon:
    """A square of ``side_m`` metres in EPSG:4547 whose lower-left corner is (lon, lat) shifted by dx, dy metres."""
    p = gpd.GeoSeries([shapely.Point(lon, lat)], crs=WGS84).to_crs(PROJECTED).iloc[0]
    x, y = p.x + dx, p.y + dy
    return shapely.box(x, y, x + side_m, y + side_m)


def feature_collection(
    geoms: list[shapely.Geometry], crs: str | None = None, props: list[dict] | None = None
) -> dict[str, Any]:
    """A GeoJSON FeatureCollection; with ``crs`` a legacy crs member naming it."""
    feats = [
        {
            "type": "Feature",
            "properties": (props or [{}] * len(geoms))[i],
            "geometry": json.loads(shapely.to_geojson(g)),
        }
        for i, g in enumerate(geoms)
    ]
    doc: dict[str, Any] = {"type": "FeatureCollection", "features": feats}
    if crs:
        doc["crs"] = {"type": "name", "properties": {"name": crs}}
    return doc


def assert_rfc7946(doc: dict[str, Any], max_decimals: int = 7) -> None:
    """Assert the RFC 7946 rules we promise: no crs member, lon/lat ranges, exterior CCW / holes CW, precision."""
    assert doc["type"] == "FeatureCollection"
    assert "crs" not in doc
    for feat in doc["features"]:
        geom = shapely.geometry.shape(feat["geometry"])
        minx, miny, maxx, maxy = geom.bounds
        assert 73 < minx and maxx < 136 and 3 < miny and maxy < 54, "lon/lat order and China range"
        polys = getattr(geom, "geoms", [geom]) if geom.geom_type in ("Polygon", "MultiPolygon") else []
        for poly in polys:
            assert poly.exterior.is_ccw, "exterior ring must be counter-clockwise"
            assert all(not r.is_ccw for r in poly.interiors), "holes must be clockwise"
        for x, y in shapely.get_coordinates(geom)[:50]:
            for v in (x, y):
                assert len(repr(float(v)).split(".")[-1]) <= max_decimals


@contextlib.contextmanager
def live_server_for(app) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """Serve ``app`` on 127.0.0.1 (random port, threaded Werkzeug) while the block runs; yield its base URL."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


#: The bundled store (``<repo>/layers``, or ``$GISAPP_LAYERS_DIR``), shared by the tests that only read it.
BUNDLED = LayerStore(paths.layers_dir())


def make_meta(layer_id: str, title: str, **fields: Any) -> LayerMeta:
    """Metadata of a test layer: ``source``/``licence`` ``test``, WGS 84, polygons, illustrative unless given."""
    base: dict[str, Any] = {
        "title_en": layer_id,
        "kind": "upload",
        "geometry_type": "Polygon",
        "source": "test",
        "licence": "test",
        "datum": "WGS 84",
        "geometry_basis": "illustrative",
        "description": "test layer",
    }
    return LayerMeta(id=layer_id, title=title, **{**base, **fields})

"""Reading parcels submitted by users (GeoJSON), with CRS handling and geometry QA.

Rules:

* a GeoJSON without a ``crs`` member is RFC 7946: WGS 84 lon/lat;
* a legacy ``crs`` member (``{"type": "name", "properties": {"name": "EPSG:4547"}}`` or an
  OGC URN) is honoured through pyproj; an unknown one is rejected;
* parcels must be (Multi)Polygons; an invalid ring (e.g. a self-intersecting bow-tie) is
  repaired with :func:`shapely.make_valid` and the repair is reported per parcel;
* after transformation the parcels must lie in the Pearl River Delta work area
  (:data:`gisapp.crs.PRD_BOUNDS`), which catches swapped axes and undeclared projected data.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import shapely
from shapely.geometry import shape

from gisapp.crs import PRD_BOUNDS, WGS84, parse_crs
from gisapp.errors import InputError

MAX_FEATURES = 100_000


@dataclass
class ParcelInput:
    """Parcels ready for analysis.

    Attributes:
        parcels: GeoDataFrame in EPSG:4326 with ``parcel_id`` and the input properties.
        crs: the CRS the input declared (or ``EPSG:4326 (RFC 7946 default)``).
        repairs: one message per repaired parcel.
    """

    parcels: gpd.GeoDataFrame
    crs: str
    repairs: list[str] = field(default_factory=list)


def _crs_of(doc: dict[str, Any]) -> tuple[Any, str]:
    member = doc.get("crs")
    if member is None:
        return WGS84, "EPSG:4326 (RFC 7946 default)"
    try:
        name = member["properties"]["name"]
    except (KeyError, TypeError) as exc:
        raise InputError(
            'the \'crs\' member must be {"type": "name", "properties": {"name": …}}', code="unknown_crs"
        ) from exc
    crs = parse_crs(name)
    return crs, crs.to_string()


def parse_geojson_parcels(data: bytes | str) -> ParcelInput:
    """Parse a GeoJSON FeatureCollection / Feature / geometry of parcels.

    Args:
        data: the GeoJSON text (UTF-8 bytes or str).

    Returns:
        a :class:`ParcelInput` in EPSG:4326.

    Raises:
        InputError: ``invalid_geojson`` (not JSON, not GeoJSON, bad coordinates),
            ``unknown_crs``, ``not_polygons``, ``empty_input``, ``too_many_features``,
            ``outside_work_area`` (data outside the Pearl River Delta after transformation).
    """
    try:
        doc = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"not valid JSON: {exc}", code="invalid_geojson") from exc
    if not isinstance(doc, dict) or "type" not in doc:
        raise InputError("not a GeoJSON object (no 'type')", code="invalid_geojson")
    kind = doc["type"]
    if kind == "FeatureCollection":
        feats = doc.get("features")
        if not isinstance(feats, list):
            raise InputError("FeatureCollection without a 'features' list", code="invalid_geojson")
    elif kind == "Feature":
        feats = [doc]
    elif kind in ("Polygon", "MultiPolygon"):
        feats = [{"type": "Feature", "properties": {}, "geometry": doc}]
    else:
        raise InputError(f"GeoJSON type '{kind}' is not a parcel; send Polygons", code="invalid_geojson")
    if not feats:
        raise InputError("no parcels in the input", code="empty_input")
    if len(feats) > MAX_FEATURES:
        raise InputError(f"too many parcels ({len(feats)} > {MAX_FEATURES})", code="too_many_features", status=413)
    crs, crs_label = _crs_of(doc)
    geoms, props, repairs = [], [], []
    for i, feat in enumerate(feats):
        if not isinstance(feat, dict) or feat.get("type") != "Feature":
            raise InputError(f"feature {i} is not a GeoJSON Feature", code="invalid_geojson")
        p = feat.get("properties") or {}
        if not isinstance(p, dict):
            raise InputError(f"feature {i}: 'properties' must be an object", code="invalid_geojson")
        pid = str(feat.get("id", p.get("parcel_id", p.get("id", i + 1))))
        try:
            geom = shape(feat["geometry"])
        except (KeyError, TypeError, ValueError, AttributeError, IndexError, shapely.errors.GEOSException) as exc:
            raise InputError(f"parcel {pid}: invalid geometry ({exc})", code="invalid_geojson") from exc
        if geom.geom_type not in ("Polygon", "MultiPolygon"):
            raise InputError(f"parcel {pid}: {geom.geom_type} is not a polygon", code="not_polygons", status=422)
        if geom.is_empty:
            raise InputError(f"parcel {pid}: empty geometry", code="invalid_geojson")
        if not geom.is_valid:
            reason = shapely.is_valid_reason(geom)
            fixed = shapely.make_valid(geom)
            polys = [g for g in getattr(fixed, "geoms", [fixed]) if g.geom_type in ("Polygon", "MultiPolygon")]
            if not polys:
                raise InputError(
                    f"parcel {pid}: invalid geometry ({reason}) cannot be repaired into a polygon",
                    code="invalid_geometry",
                    status=422,
                )
            geom = shapely.union_all(polys)
            repairs.append(f"parcel {pid}: {reason}; repaired with make_valid into a {geom.geom_type}")
        geoms.append(geom)
        props.append({"parcel_id": pid, **{k: v for k, v in p.items() if k != "parcel_id"}})
    gdf = gpd.GeoDataFrame(props, geometry=geoms, crs=crs)
    if not gdf.crs.equals(WGS84):
        gdf = gdf.to_crs(WGS84)
    minx, miny, maxx, maxy = gdf.total_bounds
    bx0, by0, bx1, by1 = PRD_BOUNDS
    if not (bx0 <= minx and maxx <= bx1 and by0 <= miny and maxy <= by1):
        raise InputError(
            f"parcels lie outside the Pearl River Delta work area (lon {minx:.4f}–{maxx:.4f}, lat {miny:.4f}–{maxy:.4f} "
            f"in {crs_label}); check the CRS and the axis order",
            code="outside_work_area",
            status=422,
        )
    return ParcelInput(gdf, crs_label, repairs)

"""GeoJSON reader: FeatureCollection, Feature or bare (Multi)Polygon geometry.

CRS: a GeoJSON without a ``crs`` member is RFC 7946, i.e. WGS 84 lon/lat — recorded as a
*default* (``crs_is_default``), so that coordinates which are plainly not degrees can still be
recognised (:mod:`gisapp.core.crsinfer`), and the result says so. A legacy ``crs`` member
(``{"type": "name", "properties": {"name": "EPSG:4547"}}`` or an OGC URN) is a declaration.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from gisapp.core.crsinfer import WGS84_CRS, cached_crs
from gisapp.core.errors import InputError
from gisapp.core.limits import Limits, resolve, snippet
from gisapp.io.readers import RawInput

_GEOMETRY_TYPES = ("Polygon", "MultiPolygon", "GeometryCollection", "LineString", "MultiLineString")


def _crs_member(doc: dict[str, Any]) -> tuple[Any, str, bool]:
    member = doc.get("crs")
    if member is None:
        return WGS84_CRS, "RFC 7946 default (no crs member)", True
    try:
        name = member["properties"]["name"]
    except (KeyError, TypeError) as exc:
        raise InputError(
            'the \'crs\' member must be {"type": "name", "properties": {"name": …}}', code="unknown_crs"
        ) from exc
    return cached_crs(str(name)), "GeoJSON crs member", False


def _depth(value: Any, limit: int) -> bool:
    """True when ``value`` (a decoded JSON value) nests deeper than ``limit`` (iterative, no recursion)."""
    stack = [(value, 0)]
    while stack:
        v, d = stack.pop()
        if isinstance(v, dict):
            v = list(v.values())
        if isinstance(v, list):
            if d >= limit:
                return True
            stack.extend((x, d + 1) for x in v if isinstance(x, dict | list))
    return False


def read_geojson(data: bytes | str, limits: Limits | None = None) -> RawInput:
    """Read GeoJSON parcels.

    Args:
        data: UTF-8 GeoJSON text (a BOM is tolerated).
        limits: the request's bounds (``max_json_depth`` of property values, ``max_features``,
            ``snippet_chars``).

    Returns:
        a :class:`~gisapp.io.readers.RawInput` (``format = "geojson"``); ``ids`` from each feature's
        ``id``, else its ``parcel_id``/``id`` property.

    Raises:
        InputError: ``invalid_geojson`` (not JSON, not GeoJSON, bad coordinates), ``unknown_crs``,
            ``empty_input``, ``too_deep`` (JSON nested deeper than Python can decode, or property
            values deeper than ``limits.max_json_depth``), ``too_many_features`` (413).
    """
    lim = resolve(limits)
    if isinstance(data, bytes | bytearray):
        data = bytes(data).removeprefix(b"\xef\xbb\xbf")
    try:
        doc = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"not valid JSON: {str(exc)[:200]}", code="invalid_geojson") from exc
    except RecursionError as exc:
        raise InputError("the JSON is nested too deeply", code="too_deep") from exc
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
        raise InputError(
            f"GeoJSON type {snippet(str(kind), lim)} is not a parcel; send Polygons", code="invalid_geojson"
        )
    if not feats:
        raise InputError("no parcels in the input", code="empty_input")
    if lim.max_features is not None and len(feats) > lim.max_features:
        raise InputError(f"too many features ({len(feats)} > {lim.max_features})", code="too_many_features", status=413)
    crs, source, is_default = _crs_member(doc)
    geoms: list[BaseGeometry] = []
    props: list[dict[str, Any]] = []
    ids: list[str | None] = []
    for i, feat in enumerate(feats):
        if not isinstance(feat, dict) or feat.get("type") != "Feature":
            raise InputError(f"feature {i} is not a GeoJSON Feature", code="invalid_geojson")
        p = feat.get("properties") or {}
        if not isinstance(p, dict):
            raise InputError(f"feature {i}: 'properties' must be an object", code="invalid_geojson")
        if _depth(p, lim.max_json_depth):
            raise InputError(
                f"feature {i}: property values nest deeper than {lim.max_json_depth} levels", code="too_deep"
            )
        fid = feat.get("id")
        if isinstance(fid, dict | list):
            raise InputError(f"feature {i}: 'id' must be a string or a number", code="invalid_geojson")
        label = snippet(str(fid if fid is not None else p.get("parcel_id", p.get("id", i + 1))), lim)
        try:
            geom = shape(feat["geometry"])
        except (KeyError, TypeError, ValueError, AttributeError, IndexError, shapely.errors.GEOSException) as exc:
            raise InputError(
                f"parcel {label}: invalid geometry ({snippet(str(exc), lim)})", code="invalid_geojson"
            ) from exc
        except RecursionError as exc:
            raise InputError(f"parcel {label}: geometry nested too deeply", code="too_deep") from exc
        geoms.append(geom)
        props.append(p)
        ids.append(str(fid) if fid is not None else None)
    arr = np.empty(len(geoms), dtype=object)
    arr[:] = geoms
    return RawInput(
        geometries=arr,
        properties=pd.DataFrame(props) if any(props) else pd.DataFrame(index=range(len(props))),
        crs=crs,
        crs_source=source,
        crs_is_default=is_default,
        format="geojson",
        ids=ids if any(x is not None for x in ids) else None,
    )

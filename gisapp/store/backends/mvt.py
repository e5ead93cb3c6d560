"""Mapbox Vector Tiles from EPSG:4326 features: XYZ tile arithmetic and the encoding both backends share.

Tiles follow the XYZ scheme over Web Mercator (EPSG:3857, the spherical Mercator of OSM and Leaflet,
sphere radius 6 378 137 m); MVT 2.1 (https://github.com/mapbox/vector-tile-spec/tree/master/2.1),
extent 4096, encoded by the PyPI library ``mapbox-vector-tile``. Geometries are clipped to the tile plus a
:data:`BUFFER`-unit margin, simplified to half a tile unit (one unit = 1/4096 of the tile) and rounded to
the unit grid; polygons and lines that collapse to nothing at a zoom level are left out of that tile.
"""

from __future__ import annotations

import math
from typing import Any

import geopandas as gpd
import mapbox_vector_tile
import numpy as np
import pandas as pd
import shapely

from gisapp.store.backends.base import BBox

#: Radius of the Web Mercator sphere, m (EPSG:3857).
EARTH_RADIUS_M = 6_378_137.0
#: Half the width of the Web Mercator square, m.
ORIGIN_SHIFT = math.pi * EARTH_RADIUS_M
#: Tile extent in MVT units (the MVT 2.1 default).
EXTENT = 4096
#: Margin around the tile that features are clipped to, in tile units (avoids seams at tile edges).
BUFFER = 64
#: Deepest zoom level served (OSM's convention for vector tiles goes far beyond 22 only for indoor maps).
MAX_ZOOM = 24


def check_tile(z: int, x: int, y: int) -> None:
    """Check an XYZ tile address.

    Raises:
        ValueError: ``z`` outside 0…:data:`MAX_ZOOM` or ``x``/``y`` outside 0…2^z − 1.
    """
    if not 0 <= z <= MAX_ZOOM:
        raise ValueError(f"zoom {z} outside 0…{MAX_ZOOM}")
    n = 1 << z
    if not (0 <= x < n and 0 <= y < n):
        raise ValueError(f"tile {z}/{x}/{y} outside the grid (x and y in 0…{n - 1} at zoom {z})")


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    """The ``(x, y)`` of the XYZ tile at zoom ``z`` holding the point ``lon, lat`` (EPSG:4326 degrees)."""
    n = 1 << z
    lat_r = math.radians(max(min(lat, 85.05112878), -85.05112878))
    x = int((lon + 180.0) / 360.0 * n)
    y = int((1.0 - math.asinh(math.tan(lat_r)) / math.pi) / 2.0 * n)
    return min(max(x, 0), n - 1), min(max(y, 0), n - 1)


def tile_bounds_3857(z: int, x: int, y: int) -> BBox:
    """Bounds ``(minx, miny, maxx, maxy)`` of XYZ tile ``z/x/y`` in Web Mercator metres (EPSG:3857)."""
    size = 2 * ORIGIN_SHIFT / (1 << z)
    minx = -ORIGIN_SHIFT + x * size
    maxy = ORIGIN_SHIFT - y * size
    return (minx, maxy - size, minx + size, maxy)


def _lonlat(mx: float, my: float) -> tuple[float, float]:
    lon = math.degrees(mx / EARTH_RADIUS_M)
    lat = math.degrees(math.atan(math.sinh(my / EARTH_RADIUS_M)))
    return lon, lat


def tile_bbox_4326(z: int, x: int, y: int, buffer: float = BUFFER) -> BBox:
    """The lon/lat bbox (EPSG:4326 degrees) of tile ``z/x/y`` widened by ``buffer`` tile units on each side
    (the features a tile needs)."""
    minx, miny, maxx, maxy = tile_bounds_3857(z, x, y)
    pad = (maxx - minx) * buffer / EXTENT
    lon0, lat0 = _lonlat(max(minx - pad, -ORIGIN_SHIFT), max(miny - pad, -ORIGIN_SHIFT))
    lon1, lat1 = _lonlat(min(maxx + pad, ORIGIN_SHIFT), min(maxy + pad, ORIGIN_SHIFT))
    return (lon0, lat0, lon1, lat1)


def min_zoom_for(count: int, bounds: BBox, per_tile: int) -> int:
    """The lowest zoom at which ``count`` features spread evenly over ``bounds`` (EPSG:4326) put at most
    ``per_tile`` features in a tile (0 for an empty layer; at most :data:`MAX_ZOOM`)."""
    if count <= per_tile:
        return 0
    lon0, lat0, lon1, lat1 = bounds
    lat0, lat1 = max(lat0, -85.0), min(lat1, 85.0)
    x0 = EARTH_RADIUS_M * math.radians(lon0)
    x1 = EARTH_RADIUS_M * math.radians(lon1)
    y0 = EARTH_RADIUS_M * math.log(math.tan(math.pi / 4 + math.radians(lat0) / 2))
    y1 = EARTH_RADIUS_M * math.log(math.tan(math.pi / 4 + math.radians(lat1) / 2))
    area = max((x1 - x0) * (y1 - y0), 1.0)
    for z in range(MAX_ZOOM + 1):
        tile_area = (2 * ORIGIN_SHIFT / (1 << z)) ** 2
        if count * min(tile_area / area, 1.0) <= per_tile:
            return z
    return MAX_ZOOM


def _to_tile_units(geoms: np.ndarray, z: int, x: int, y: int) -> np.ndarray:
    minx, miny, maxx, _ = tile_bounds_3857(z, x, y)
    scale = EXTENT / (maxx - minx)

    def project(xy: np.ndarray) -> np.ndarray:
        lat = np.clip(xy[:, 1], -85.05112878, 85.05112878)
        mx = EARTH_RADIUS_M * np.radians(xy[:, 0])
        my = EARTH_RADIUS_M * np.log(np.tan(np.pi / 4 + np.radians(lat) / 2))
        return np.column_stack(((mx - minx) * scale, (my - miny) * scale))

    return shapely.transform(geoms, project)


def _value(v: Any) -> Any:
    if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
        return None
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, bool | int | float | str):
        return v
    return str(v)


def encode_tile(gdf: gpd.GeoDataFrame, layer_name: str, z: int, x: int, y: int) -> bytes:
    """Encode the features of ``gdf`` (EPSG:4326, index = fid) that fall in tile ``z/x/y`` as an MVT.

    Args:
        gdf: features around the tile (e.g. those in :func:`tile_bbox_4326`); every non-geometry column
            becomes a feature property (None/NaN values are left out); the index becomes the feature id.
        layer_name: the MVT layer's name.
        z, x, y: the XYZ tile.

    Returns:
        the tile's bytes (MVT 2.1, extent 4096, y down as the spec says), or ``b""`` when no feature
        is left after clipping and snapping.
    """
    if gdf.empty:
        return b""
    geoms = _to_tile_units(gdf.geometry.to_numpy(), z, x, y)
    geoms = shapely.clip_by_rect(geoms, -BUFFER, -BUFFER, EXTENT + BUFFER, EXTENT + BUFFER)
    geoms = shapely.simplify(geoms, 0.5, preserve_topology=True)
    geoms = shapely.transform(geoms, np.round)  # the integer grid of the tile
    # y is up here and the encoder flips it: clockwise exteriors become the spec's (positive area, y down)
    geoms = shapely.orient_polygons(geoms, exterior_cw=True)
    dims = shapely.get_dimensions(geoms)
    collapsed = ((dims == 2) & (shapely.area(geoms) <= 0)) | ((dims == 1) & (shapely.length(geoms) <= 0))
    keep = ~(shapely.is_empty(geoms) | shapely.is_missing(geoms) | collapsed)
    if not keep.any():
        return b""
    kept = np.flatnonzero(keep)
    props = gdf.drop(columns=gdf.geometry.name).iloc[kept]
    columns = {str(c): [_value(v) for v in props[c].to_numpy(dtype=object)] for c in props.columns}
    fids = gdf.index.to_numpy()[kept].tolist()
    features = [
        {
            "geometry": geoms[k],
            "properties": {n: vals[j] for n, vals in columns.items() if vals[j] is not None},
            "id": int(fids[j]),
        }
        for j, k in enumerate(kept)
    ]
    return bytes(
        mapbox_vector_tile.encode(
            [{"name": layer_name, "features": features}],
            default_options={"extents": EXTENT, "y_coord_down": False, "check_winding_order": False},
        )
    )

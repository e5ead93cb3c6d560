"""GCJ-02 and BD-09: the obfuscated datums of Chinese web maps (AMap/高德, Tencent; Baidu).

They are not CRSs pyproj knows; the conversion is the published GCJ-02 algorithm as
implemented by ``prcoords`` (PyPI, public domain). WGS 84 → GCJ-02 is exact (the forward
formula); GCJ-02 → WGS 84 uses prcoords' iterative inverse (``*_bored``), accurate to about
1e-6° (~0.1 m). Outside mainland China the offset is zero (prcoords' sanity check).

All functions take and return lon/lat in degrees (x = lon, y = lat), unlike prcoords' (lat, lon).
"""

from __future__ import annotations

from collections.abc import Callable

import geopandas as gpd
import numpy as np
import prcoords
import shapely

from gisapp.core.errors import InputError

DATUMS = ("wgs84", "gcj02", "bd09")

_PAIRS: dict[tuple[str, str], Callable[[tuple[float, float]], prcoords.Coords]] = {
    ("wgs84", "gcj02"): prcoords.wgs_gcj,
    ("gcj02", "wgs84"): prcoords.gcj_wgs_bored,
    ("wgs84", "bd09"): prcoords.wgs_bd,
    ("bd09", "wgs84"): prcoords.bd_wgs_bored,
    ("gcj02", "bd09"): prcoords.gcj_bd,
    ("bd09", "gcj02"): prcoords.bd_gcj_bored,
}


def convert_lonlat(lon: np.ndarray, lat: np.ndarray, src: str, dst: str) -> tuple[np.ndarray, np.ndarray]:
    """Convert arrays of lon/lat between ``wgs84``, ``gcj02`` and ``bd09``.

    Args:
        lon, lat: degrees (same shape).
        src, dst: one of :data:`DATUMS`.

    Returns:
        ``(lon, lat)`` arrays in the target datum.

    Raises:
        InputError: ``unknown_datum`` for any other name.
    """
    src, dst = src.lower(), dst.lower()
    for d in (src, dst):
        if d not in DATUMS:
            raise InputError(f"unknown datum '{d}': use one of {', '.join(DATUMS)}", code="unknown_datum")
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    if src == dst:
        return lon.copy(), lat.copy()
    fn = _PAIRS[(src, dst)]
    out = [fn((la, lo)) for lo, la in zip(lon.ravel(), lat.ravel())]
    return (
        np.array([c.lon for c in out]).reshape(lon.shape),
        np.array([c.lat for c in out]).reshape(lat.shape),
    )


def convert_geometries(geoms: np.ndarray | gpd.GeoSeries, src: str, dst: str) -> np.ndarray:
    """Convert shapely geometries (lon/lat) between datums; returns an array of geometries."""
    arr = np.asarray(geoms, dtype=object)

    def _xy(coords: np.ndarray) -> np.ndarray:
        x, y = convert_lonlat(coords[:, 0], coords[:, 1], src, dst)
        return np.c_[x, y]

    return shapely.transform(arr, _xy)


def convert_frame(gdf: gpd.GeoDataFrame, src: str, dst: str) -> gpd.GeoDataFrame:
    """Return a copy of a lon/lat GeoDataFrame with its geometries converted between datums.

    The CRS stays EPSG:4326: GCJ-02 and BD-09 have no EPSG code, so callers must label the
    result (file name, metadata) as GCJ-02/BD-09.
    """
    out = gdf.copy()
    out[gdf.geometry.name] = convert_geometries(gdf.geometry.to_numpy(), src, dst)
    return out

"""Coordinate reference systems and area computation.

Rules (../shared/DESIGN.md, "Coordinates and areas"):

* layers are stored and exchanged in WGS 84 lon/lat (EPSG:4326); CGCS2000 (EPSG:4490) data
  is read as equivalent;
* areas and distances are never computed in degrees: planar figures use CGCS2000 /
  3-degree Gauss-Kruger CM 114E (EPSG:4547, metres), which covers 112.5°E–115.5°E and so
  all three cities; geodesic (ellipsoidal) figures use :class:`pyproj.Geod` on GRS80, the
  ellipsoid of CGCS2000 (their flattenings differ by ~1e-11, far below any planning need).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
from pyproj import CRS, Geod
from pyproj.exceptions import CRSError

from gisapp.core.errors import InputError

WGS84 = "EPSG:4326"
CGCS2000 = "EPSG:4490"
PROJECTED = "EPSG:4547"
GEOD = Geod(ellps="GRS80")

#: Longitude/latitude box of the Pearl River Delta work area (generous, WGS 84).
PRD_BOUNDS: tuple[float, float, float, float] = (111.3, 21.4, 115.6, 24.5)


def parse_crs(value: object) -> CRS:
    """Parse a user-supplied CRS (``"EPSG:4547"``, ``4547``, WKT, PROJ string, a GeoJSON ``crs`` name).

    Args:
        value: anything :meth:`pyproj.CRS.from_user_input` accepts.

    Returns:
        the :class:`pyproj.CRS`.

    Raises:
        InputError: code ``unknown_crs`` (HTTP 400) when pyproj cannot parse it.
    """
    try:
        return CRS.from_user_input(value)
    except (CRSError, TypeError, ValueError) as exc:
        raise InputError(f"unknown CRS {value!r}: {exc}", code="unknown_crs") from exc


def is_geographic_wgs84_like(crs: CRS) -> bool:
    """Return True for WGS 84 or CGCS2000 geographic CRSs (treated as the same datum here)."""
    return (
        crs.is_geographic
        and crs.equals(CRS(WGS84), ignore_axis_order=True)
        or (crs.is_geographic and crs.equals(CRS(CGCS2000), ignore_axis_order=True))
    )


def to_wgs84(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return ``gdf`` in EPSG:4326 lon/lat.

    CGCS2000 geographic (EPSG:4490) is relabelled, not transformed (the datums agree far
    below planning precision); every other CRS is transformed with pyproj.

    Raises:
        InputError: code ``missing_crs`` when ``gdf`` has no CRS.
    """
    if gdf.crs is None:
        raise InputError("the data has no CRS; declare one", code="missing_crs")
    if is_geographic_wgs84_like(CRS(gdf.crs)):
        return gdf.set_crs(WGS84, allow_override=True)
    return gdf.to_crs(WGS84)


def planar_area_m2(geoms: gpd.GeoSeries) -> np.ndarray:
    """Planar area in m² of each geometry, computed in EPSG:4547.

    Args:
        geoms: polygons in any CRS that has one (usually EPSG:4326).

    Returns:
        float array of areas in m² (0 for points and lines).
    """
    return geoms.to_crs(PROJECTED).area.to_numpy()


def geodesic_area_m2(geoms: gpd.GeoSeries) -> np.ndarray:
    """Ellipsoidal (geodesic) area in m² of each geometry on GRS80 (CGCS2000's ellipsoid).

    Args:
        geoms: polygons in any CRS that has one; they are taken to lon/lat first.

    Returns:
        float array of unsigned areas in m², from :meth:`pyproj.Geod.geometry_area_perimeter`.
    """
    lonlat = geoms.to_crs(WGS84) if CRS(geoms.crs) != CRS(WGS84) else geoms
    return np.array(
        [abs(GEOD.geometry_area_perimeter(g)[0]) if g is not None and not g.is_empty else 0.0 for g in lonlat]
    )

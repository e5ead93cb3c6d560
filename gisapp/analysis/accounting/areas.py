"""Areas, twice: planar in EPSG:4547 and ellipsoidal on GRS80, with the method named.

Every area the accounting reports is computed both ways:

* **planar**: the area of the geometry projected to CGCS2000 / 3-degree Gauss-Kruger CM 114E
  (EPSG:4547, metres), as GIS software computes it;
* **ellipsoidal**: the geodesic area on the GRS80 ellipsoid (the ellipsoid of CGCS2000), computed
  with :meth:`pyproj.Geod.geometry_area_perimeter` on the geometry's lon/lat vertices. Official
  land-survey practice in China reports parcel areas on the ellipsoid (图斑椭球面积): see
  :data:`OFFICIAL_PRACTICE_SOURCE`. Rules are therefore judged on the ellipsoidal figure unless a
  rule set says ``verdict_area: planar``.

In the Pearl River Delta the two differ by well under 0.1 % (the Gauss-Kruger scale factor within
1.5° of 114°E is below 1.0004). Units: m², km², 公顷 (ha) and 亩 (mu, exactly 10000/15 m²).
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
from shapely.geometry.base import BaseGeometry

from gisapp.core.crs import PROJECTED, geodesic_area_m2
from gisapp.core.units import area_fields

METHOD_PLANAR = "planar: CGCS2000 / 3-degree Gauss-Kruger CM 114E (EPSG:4547)"
METHOD_ELLIPSOIDAL = "ellipsoidal: geodesic area on GRS80 (CGCS2000 ellipsoid), pyproj.Geod"
METHODS: dict[str, str] = {"planar": METHOD_PLANAR, "ellipsoidal": METHOD_ELLIPSOIDAL}

#: Source for "official land surveys use ellipsoidal areas". The notice was issued for the second
#: national land survey (二调); that later surveys keep the rule was not verified here.
OFFICIAL_PRACTICE_SOURCE: dict[str, str] = {
    "document": "关于统一图幅理论面积与图斑椭球面积计算要求的通知（国土调查办发〔2008〕32号）",
    "issuer": "国务院第二次全国土地调查领导小组办公室",
    "date": "2008-03-27",
    "quote": "对图幅理论面积与图斑椭球面积计算公式进行了细化，明确了面积计算方法",
    "retrieved_from": "http://lsbar.com/law/13874 (a copy of the notice; the issuer's original was not reached)",
    "status": "secondary",
}


def ellipsoidal_m2(geoms_4547: np.ndarray | list[BaseGeometry]) -> np.ndarray:
    """Ellipsoidal (GRS80 geodesic) area in m² of geometries given in EPSG:4547.

    Args:
        geoms_4547: polygons (or empty/None) in EPSG:4547 metres.

    Returns:
        float array of unsigned areas in m² (0 for empty geometries, points and lines).
    """
    arr = np.asarray(geoms_4547, dtype=object)
    if arr.size == 0:
        return np.zeros(0)
    return geodesic_area_m2(gpd.GeoSeries(list(arr), crs=PROJECTED))


def twin_fields(planar: float, ellipsoidal: float, digits: int = 4) -> dict[str, float]:
    """One area in every unit, both methods, as flat fields (CSV-friendly).

    Args:
        planar: planar area in m² (EPSG:4547).
        ellipsoidal: ellipsoidal area in m² (GRS80).
        digits: decimals for 公顷 and 亩 (km² keeps ``digits + 2``, m² keeps 2).

    Returns:
        ``planar_m2, planar_km2, planar_ha, planar_mu, ellipsoidal_m2, ellipsoidal_km2,
        ellipsoidal_ha, ellipsoidal_mu, planar_vs_ellipsoidal_pct``.
    """
    return {
        **area_fields(planar, "planar", digits),
        **area_fields(ellipsoidal, "ellipsoidal", digits),
        "planar_vs_ellipsoidal_pct": round((planar / ellipsoidal - 1) * 100, 5) if ellipsoidal else 0.0,
    }


def methods_block() -> dict[str, Any]:
    """The ``area_methods`` block every report carries: the two methods and the unit definitions."""
    return {
        "planar": METHOD_PLANAR,
        "ellipsoidal": METHOD_ELLIPSOIDAL,
        "units": "m², km², 公顷 (ha = 10 000 m²), 亩 (mu = 10000/15 m² exactly)",
        "official_practice": "土地调查图斑面积按椭球面积计算 / official land surveys report ellipsoidal parcel areas",
        "official_practice_source": OFFICIAL_PRACTICE_SOURCE["document"],
    }

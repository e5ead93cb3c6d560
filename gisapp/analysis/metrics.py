"""Area metrics per feature of any polygon layer (the red-line accounting is :mod:`gisapp.analysis.accounting`).

All planar areas are computed in EPSG:4547 (CGCS2000 / 3-degree GK CM 114E); every area is
also computed geodesically on GRS80 with :class:`pyproj.Geod` and the two are reported side
by side (they agree to well under 0.1 % in the Pearl River Delta). Units: m², km², 公顷 (ha),
亩 (mu = 10000/15 m²).
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

from gisapp.core.crs import PROJECTED, geodesic_area_m2
from gisapp.core.errors import InputError
from gisapp.core.frames import POLYGONAL
from gisapp.core.units import area_fields

#: Overlaps smaller than this (m²) are rounding slivers along shared boundaries (the layers
#: store 7 decimals, ~1 cm) and are left out of the per-town table; they stay in the total.
MIN_REPORTED_M2 = 1.0


def area_table(gdf: gpd.GeoDataFrame, label_field: str = "name") -> pd.DataFrame:
    """Area of every polygon feature, planar (EPSG:4547) and geodesic (GRS80).

    Args:
        gdf: polygon features in any CRS that has one (Points/lines are rejected).
        label_field: column used as the feature's name (``id`` is used too when present).

    Returns:
        DataFrame with ``id, name, area_m2, area_km2, area_ha, area_mu, geodesic_area_m2,
        planar_vs_geodesic_pct`` — one row per feature, plus nothing else.

    Raises:
        InputError: ``not_polygons`` when a feature is not a (Multi)Polygon.
    """
    bad = ~gdf.geom_type.isin(POLYGONAL)
    if bad.any():
        raise InputError("area metrics need polygon features", code="not_polygons")
    planar = gdf.geometry.to_crs(PROJECTED).area.to_numpy()
    geodesic = geodesic_area_m2(gdf.geometry)
    rows = []
    for i in range(len(gdf)):
        rows.append(
            {
                "id": str(gdf["id"].iloc[i]) if "id" in gdf else str(i),
                "name": str(gdf[label_field].iloc[i]) if label_field in gdf else "",
                **area_fields(float(planar[i])),
                "geodesic_area_m2": round(float(geodesic[i]), 2),
                "planar_vs_geodesic_pct": round(float((planar[i] / geodesic[i] - 1) * 100), 5) if geodesic[i] else 0.0,
            }
        )
    return pd.DataFrame(rows)

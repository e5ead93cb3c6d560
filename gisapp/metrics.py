"""Land-use metrics: areas per feature, and the red line against its target per town and zone.

All planar areas are computed in EPSG:4547 (CGCS2000 / 3-degree GK CM 114E); every area is
also computed geodesically on GRS80 with :class:`pyproj.Geod` and the two are reported side
by side (they agree to well under 0.1 % in the Pearl River Delta). Units: m², km², 公顷 (ha),
亩 (mu = 10000/15 m²).
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gisapp.crs import PROJECTED, geodesic_area_m2
from gisapp.errors import InputError
from gisapp.layerstore import LayerMeta
from gisapp.redline import REDLINE_TARGET, Target
from gisapp.units import area_fields

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
    bad = ~gdf.geom_type.isin(["Polygon", "MultiPolygon"])
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


def _overlay_area(control: shapely.Geometry, units: gpd.GeoDataFrame) -> np.ndarray:
    geoms = units.to_crs(PROJECTED).geometry.to_numpy()
    return shapely.area(shapely.intersection(geoms, control))


def redline_report(
    redline: gpd.GeoDataFrame,
    redline_meta: LayerMeta,
    towns: gpd.GeoDataFrame,
    structure: gpd.GeoDataFrame | None = None,
    target: Target = REDLINE_TARGET,
) -> dict[str, Any]:
    """Account for a red-line layer against its floor, per town and per structure zone.

    Args:
        redline: the red-line blocks (polygons, any CRS).
        redline_meta: its metadata (the basis decides the ``illustrative`` flag).
        towns: the 镇街 layer (``name``, polygons).
        structure: a structure layer (``name``, ``role``) for the per-zone breakdown; points ignored.
        target: the floor and its citation (default: 不少于 250 km², line 156).

    Returns:
        a JSON-ready dict: ``layer, geometry_basis, illustrative, warning, target{…quote},
        total{area_*}, total_geodesic_m2, difference_km2 (+ surplus / − shortfall),
        meets_target, by_town[{town, area_*, share_of_town_pct, share_of_line_pct}],
        by_zone[{zone, role, area_*, share_of_zone_pct}], unassigned_km2``.
    """
    control = shapely.union_all(redline.to_crs(PROJECTED).geometry.to_numpy())
    total = control.area
    geodesic_total = float(geodesic_area_m2(gpd.GeoSeries([control], crs=PROJECTED))[0])
    town_area = towns.to_crs(PROJECTED).area.to_numpy()
    in_town = _overlay_area(control, towns)
    by_town = [
        {
            "town": name,
            **area_fields(float(a)),
            "share_of_town_pct": round(float(a / ta * 100), 3) if ta else 0.0,
            "share_of_line_pct": round(float(a / total * 100), 3) if total else 0.0,
        }
        for name, a, ta in zip(towns["name"], in_town, town_area)
        if a >= MIN_REPORTED_M2
    ]
    by_zone: list[dict[str, Any]] = []
    if structure is not None:
        polys = structure[structure.geom_type.isin(["Polygon", "MultiPolygon"])]
        zone_area = polys.to_crs(PROJECTED).area.to_numpy()
        for (name, role), a, za in zip(zip(polys["name"], polys["role"]), _overlay_area(control, polys), zone_area):
            by_zone.append(
                {
                    "zone": name,
                    "role": role,
                    **area_fields(float(a)),
                    "share_of_zone_pct": round(float(a / za * 100), 3) if za else 0.0,
                }
            )
    diff_km2 = total / 1e6 - target.value_km2
    illustrative = redline_meta.geometry_basis != "official"
    return {
        "layer": redline_meta.id,
        "geometry_basis": redline_meta.geometry_basis,
        "illustrative": illustrative,
        "warning": "示意数据，非官方红线 ILLUSTRATIVE data, not the official red line" if illustrative else "",
        "target": {
            "value_km2": target.value_km2,
            "comparison": target.comparison,
            "plan": target.plan,
            "section": target.section,
            "line": target.line,
            "sentence": target.sentence,
        },
        "block_count": int(len(redline)),
        "total": area_fields(total),
        "total_geodesic_m2": round(geodesic_total, 2),
        "difference_km2": round(diff_km2, 6),
        "meets_target": bool(diff_km2 >= 0),
        "by_town": by_town,
        "by_zone": by_zone,
        "unassigned_km2": round((total - float(in_town.sum())) / 1e6, 6),
    }

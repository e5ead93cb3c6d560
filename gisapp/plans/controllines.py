"""Control lines (控制线) as data: the industrial red line and the three lines of 三区三线.

One registry, :data:`CONTROL_LINES`, describes every kind of control line the app knows — its key,
Chinese and English names, the store layer holding it, the rule set (``rules/<id>.yaml``) whose
``overlap`` rules give a parcel's verdict, and the way the map draws it. Code elsewhere reads the
registry (import, build, overlap target sets, verdicts, map styles); adding a kind is one entry
here plus one rules file.

The kinds:

* ``industrial`` — 工业用地保护红线 (Zhongshan's industrial land protection red line,
  :mod:`gisapp.plans.redline`);
* ``farmland`` — 永久基本农田保护红线 (permanent basic farmland);
* ``ecology`` — 生态保护红线 (ecological protection red line);
* ``udb`` — 城镇开发边界 (urban development boundary).

The three national lines are defined by 中共中央办公厅 国务院办公厅《关于在国土空间规划中统筹划定落实三条
控制线的指导意见》(2019-11); the clauses quoted, and how far each quotation could be verified, are in
the rules files (``rules/zhongshan-line-*.yaml``) and ``docs/controllines.md``.

**The bundled layers of the three national lines are ILLUSTRATIVE, not official.** The official
lines of Zhongshan are not public. They are constructed from the schematic 镇街 layer (EPSG:4326,
built in EPSG:4547), so that the map, the overlap check and the reports can be tried:

* 城镇开发边界 (``zs-urban-boundary``): a disc of :data:`UDB_RADIUS_M` around the seat of every 镇街,
  clipped to its cell (the built-up centres; it contains the illustrative industrial red line,
  whose blocks are 2 km discs around the same seats);
* 生态保护红线 (``zs-ecology-redline``): the cell of 五桂山街道 (the upland in the middle of the city that
  gives the subdistrict its name), outside the boundary (with a :data:`GAP_M` gap), inset by
  :data:`INSET_M`;
* 永久基本农田 (``zs-farmland``): the cells of 民众街道 and 神湾镇 outside the boundary and the ecology
  line (same gap and inset): 民众 because the torch-zone plan names its agriculture
  (``zhongshan-torch-zone-2021-2025.txt`` line 591: "加快民众街道“一中心、两平台、三基地”农业提质增效"),
  神湾 for its farm produce named by the services plan (``zhongshan-services-2021-2025.txt`` line 161,
  "神湾菠萝"). Neither plan draws farmland; the choice of towns is ours.

The three never overlap one another (as the guiding opinion requires: "不交叉不重叠不冲突"); a test checks it.
Replace any of them with the official layer: ``gisapp lines import --kind KIND FILE``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from gisapp.core.crs import PROJECTED, WGS84, planar_area_m2
from gisapp.core.errors import InputError
from gisapp.core.registry import Registry
from gisapp.store.layerstore import LayerMeta, supplied_provenance

#: Radius of the illustrative 城镇开发边界 disc around each 镇街 seat (m).
UDB_RADIUS_M = 2500.0
#: Gap kept between the illustrative boundary and the illustrative farmland/ecology lines (m).
GAP_M = 200.0
#: Inward buffer of the illustrative farmland/ecology polygons from their town cells' edges (m).
INSET_M = 300.0
#: Towns whose cells stand in for permanent basic farmland: (town, plan file, line, quoted words).
FARMLAND_TOWNS: tuple[tuple[str, str, int, str], ...] = (
    ("民众街道", "zhongshan-torch-zone-2021-2025.txt", 591, "加快民众街道“一中心、两平台、三基地”农业提质增效"),
    ("神湾镇", "zhongshan-services-2021-2025.txt", 161, "神湾菠萝"),
)
ECOLOGY_TOWN = "五桂山街道"


@dataclass(frozen=True)
class LineStyle:
    """How the map and the report draw a kind of control line.

    Attributes:
        colour: outline colour (``#rrggbb``).
        fill: fill colour (``#rrggbb``); fill_opacity: 0…1 for official geometry.
        dash: SVG dash array of the outline of official geometry (None = solid).
        hatch: draw the fill hatched even when official (farmland's conventional hatch).
        fill_polygon: False draws the outline only (a boundary, e.g. 城镇开发边界).
    """

    colour: str
    fill: str
    fill_opacity: float
    dash: str | None = None
    hatch: bool = False
    fill_polygon: bool = True


@dataclass(frozen=True)
class ControlLineKind:
    """One kind of control line (an entry of :data:`CONTROL_LINES`).

    Attributes:
        key: the name users type (``farmland``).
        title, title_en: full names (Chinese first).
        short: a short Chinese name for tables (``永久基本农田``).
        layer_id: the store layer holding the line.
        ruleset: the rule set (``rules/<id>.yaml``) with the line's ``overlap`` rules.
        national: one of the three lines of 三区三线.
        style: how it is drawn.
        id_prefix: prefix of generated block ids (``FL`` → ``FL0001``).
        build: ``build(towns) -> (gdf, meta)``: the ILLUSTRATIVE layer from the 镇街 layer (EPSG:4326).
    """

    key: str
    title: str
    title_en: str
    short: str
    layer_id: str
    ruleset: str
    national: bool
    style: LineStyle
    id_prefix: str
    build: Callable[[gpd.GeoDataFrame], tuple[gpd.GeoDataFrame, LayerMeta]]

    def describe(self) -> dict[str, Any]:
        """The kind as JSON: key, names, layer, rule set, national, style."""
        s = self.style
        return {
            "key": self.key,
            "title": self.title,
            "title_en": self.title_en,
            "short": self.short,
            "layer": self.layer_id,
            "ruleset": self.ruleset,
            "national": self.national,
            "style": {"colour": s.colour, "fill": s.fill, "fill_opacity": s.fill_opacity, "dash": s.dash},
        }


# --------------------------------------------------------------------------- illustrative construction


def _cells(towns: gpd.GeoDataFrame) -> dict[str, BaseGeometry]:
    """The 镇街 cells in EPSG:4547, by name."""
    proj = towns.to_crs(PROJECTED)
    return {str(n): g for n, g in zip(proj["name"], proj.geometry)}


def _seats(towns: gpd.GeoDataFrame) -> dict[str, BaseGeometry]:
    """The 镇街 seats (``seat_lon``, ``seat_lat``, EPSG:4326) as points in EPSG:4547, by name."""
    pts = gpd.GeoSeries(shapely.points(towns["seat_lon"], towns["seat_lat"]), crs=WGS84).to_crs(PROJECTED)
    return {str(n): p for n, p in zip(towns["name"], pts)}


def udb_blocks(towns: gpd.GeoDataFrame) -> list[tuple[str, BaseGeometry]]:
    """The illustrative 城镇开发边界: per 镇街 (layer order), the disc of :data:`UDB_RADIUS_M` around
    its seat clipped to its cell; ``(town, polygon in EPSG:4547)``."""
    cells, seats = _cells(towns), _seats(towns)
    return [
        (n, shapely.intersection(seats[n].buffer(UDB_RADIUS_M, quad_segs=32), cells[n]))
        for n in towns["name"].astype(str)
    ]


def _udb_union(towns: gpd.GeoDataFrame) -> BaseGeometry:
    return shapely.union_all([g for _, g in udb_blocks(towns)])


def _ecology_geom(towns: gpd.GeoDataFrame, udb: BaseGeometry) -> BaseGeometry:
    cell = _cells(towns)[ECOLOGY_TOWN]
    return shapely.make_valid(cell.buffer(-INSET_M).difference(udb.buffer(GAP_M)))


def _layer(
    kind: ControlLineKind,
    rows: list[dict[str, Any]],
    geoms: list[BaseGeometry],
    crs: str,
    **meta: Any,
) -> tuple[gpd.GeoDataFrame, LayerMeta]:
    """The frame (EPSG:4326, with ``area_km2`` planar EPSG:4547) and metadata of one kind's layer."""
    gdf = gpd.GeoDataFrame(rows, geometry=geoms, crs=crs).to_crs(WGS84)
    gdf["area_km2"] = np.round(planar_area_m2(gdf.geometry) / 1e6, 4)
    layer_meta = LayerMeta(
        id=kind.layer_id,
        kind="control_line",
        geometry_type="Polygon",
        extra={"control_line": kind.key, "ruleset": kind.ruleset},
        **meta,
    )
    return gdf, layer_meta


def _row(block: str, name: str, town: str, method: str, plan: str = "", line: int = 0) -> dict[str, Any]:
    return {
        "id": block,
        "block_id": block,
        "name": name,
        "town": town,
        "geometry_basis": "illustrative",
        "geometry_method": method,
        "uncertainty_m": 5000,
        "plan": plan,
        "plan_line": line,
    }


_NOT_OFFICIAL = "ILLUSTRATIVE ONLY, not the official line (the official line of Zhongshan is not public)."


def illustrative_udb(towns: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, LayerMeta]:
    """The ILLUSTRATIVE 城镇开发边界 (see the module docstring): one Polygon per 镇街, EPSG:4326.

    Args:
        towns: the 镇街 layer (EPSG:4326) with ``name``, ``seat_lon``, ``seat_lat``.
    """
    kind = CONTROL_LINES["udb"]
    rows, geoms = [], []
    for n, (town, geom) in enumerate(udb_blocks(towns), start=1):
        block = f"{kind.id_prefix}{n:04d}"
        method = f"illustrative: disc of {UDB_RADIUS_M:.0f} m around the seat of {town}, clipped to its cell"
        rows.append(_row(block, f"{town}城镇开发边界（示意）", town, method))
        geoms.append(geom)
    return _layer(
        kind,
        rows,
        geoms,
        PROJECTED,
        title="城镇开发边界（示意，非官方）",
        title_en="Urban development boundary (ILLUSTRATIVE, not official)",
        source="constructed by gisapp.plans.controllines.illustrative_udb from the town layer",
        licence="construction ours",
        datum="WGS 84 (EPSG:4326); built in EPSG:4547",
        geometry_basis="illustrative",
        description=(
            f"{_NOT_OFFICIAL} A disc of {UDB_RADIUS_M:.0f} m around the seat of every 镇街, clipped to its "
            "(schematic) cell. Replace with the official layer: gisapp lines import --kind udb FILE."
        ),
        notes=["Every verdict computed on this layer is illustrative."],
    )


def illustrative_ecology(towns: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, LayerMeta]:
    """The ILLUSTRATIVE 生态保护红线 (see the module docstring): one Polygon, 五桂山街道, EPSG:4326."""
    kind = CONTROL_LINES["ecology"]
    geom = _ecology_geom(towns, _udb_union(towns))
    method = (
        f"illustrative: the cell of {ECOLOGY_TOWN} inset by {INSET_M:.0f} m, outside the illustrative "
        f"urban development boundary (+{GAP_M:.0f} m)"
    )
    rows = [_row(f"{kind.id_prefix}0001", "五桂山生态保护红线（示意）", ECOLOGY_TOWN, method)]
    return _layer(
        kind,
        rows,
        [geom],
        PROJECTED,
        title="生态保护红线（示意，非官方）",
        title_en="Ecological protection red line (ILLUSTRATIVE, not official)",
        source="constructed by gisapp.plans.controllines.illustrative_ecology from the town layer",
        licence="construction ours",
        datum="WGS 84 (EPSG:4326); built in EPSG:4547",
        geometry_basis="illustrative",
        description=(
            f"{_NOT_OFFICIAL} The schematic cell of {ECOLOGY_TOWN} (the 五桂山 upland), inset by {INSET_M:.0f} m, "
            "outside the illustrative urban development boundary. No plan of ../shared/plans draws it. "
            "Replace with the official layer: gisapp lines import --kind ecology FILE."
        ),
        notes=["Every verdict computed on this layer is illustrative."],
    )


def illustrative_farmland(towns: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, LayerMeta]:
    """The ILLUSTRATIVE 永久基本农田 (see the module docstring): one Polygon per town of
    :data:`FARMLAND_TOWNS`, EPSG:4326."""
    kind = CONTROL_LINES["farmland"]
    cells = _cells(towns)
    udb = _udb_union(towns)
    keep_out = shapely.union(udb.buffer(GAP_M), _ecology_geom(towns, udb).buffer(GAP_M))
    rows, geoms = [], []
    for n, (town, plan, line, _quote) in enumerate(FARMLAND_TOWNS, start=1):
        geom = shapely.make_valid(cells[town].buffer(-INSET_M).difference(keep_out))
        method = (
            f"illustrative: the cell of {town} inset by {INSET_M:.0f} m, outside the illustrative urban "
            f"development boundary and ecology line (+{GAP_M:.0f} m)"
        )
        rows.append(_row(f"{kind.id_prefix}{n:04d}", f"{town}永久基本农田（示意）", town, method, plan, line))
        geoms.append(geom)
    return _layer(
        kind,
        rows,
        geoms,
        PROJECTED,
        title="永久基本农田保护红线（示意，非官方）",
        title_en="Permanent basic farmland (ILLUSTRATIVE, not official)",
        source="constructed by gisapp.plans.controllines.illustrative_farmland from the town layer",
        licence="construction ours",
        datum="WGS 84 (EPSG:4326); built in EPSG:4547",
        geometry_basis="illustrative",
        description=(
            f"{_NOT_OFFICIAL} The schematic cells of "
            + "、".join(t for t, *_ in FARMLAND_TOWNS)
            + f" inset by {INSET_M:.0f} m, outside the illustrative urban development boundary and ecology "
            "line. The towns are chosen for agriculture their plans name (zhongshan-torch-zone-2021-2025.txt "
            "line 591; zhongshan-services-2021-2025.txt line 161); no plan draws farmland. Replace with the "
            "official layer: gisapp lines import --kind farmland FILE."
        ),
        notes=["Every verdict computed on this layer is illustrative."],
    )


def _illustrative_industrial(towns: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, LayerMeta]:
    from gisapp.plans.redline import illustrative_redline

    return illustrative_redline(towns)


#: Every kind of control line, in the order reports list them.
CONTROL_LINES: Registry[ControlLineKind] = Registry(
    "control line",
    (
        ControlLineKind(
            "industrial",
            "工业用地保护红线",
            "Industrial land protection red line",
            "工业用地保护红线",
            "zs-industrial-redline",
            "zhongshan-industrial-redline",
            False,
            LineStyle("#d7191c", "#d7191c", 0.3),
            "B",
            _illustrative_industrial,
        ),
        ControlLineKind(
            "farmland",
            "永久基本农田保护红线",
            "Permanent basic farmland",
            "永久基本农田",
            "zs-farmland",
            "zhongshan-line-farmland",
            True,
            LineStyle("#b8860b", "#f2c200", 0.35, hatch=True),
            "FL",
            illustrative_farmland,
        ),
        ControlLineKind(
            "ecology",
            "生态保护红线",
            "Ecological protection red line",
            "生态保护红线",
            "zs-ecology-redline",
            "zhongshan-line-ecology",
            True,
            LineStyle("#1a7f37", "#2ca25f", 0.35),
            "EC",
            illustrative_ecology,
        ),
        ControlLineKind(
            "udb",
            "城镇开发边界",
            "Urban development boundary",
            "城镇开发边界",
            "zs-urban-boundary",
            "zhongshan-line-udb",
            True,
            LineStyle("#7b3294", "#7b3294", 0.0, dash="10 4 2 4", fill_polygon=False),
            "UDB",
            illustrative_udb,
        ),
    ),
    aliases={
        "redline": "industrial",
        "工业用地保护红线": "industrial",
        "永久基本农田": "farmland",
        "永久基本农田保护红线": "farmland",
        "基本农田": "farmland",
        "生态保护红线": "ecology",
        "ecological": "ecology",
        "城镇开发边界": "udb",
        "urban-boundary": "udb",
    },
    code="unknown_control_line",
)

#: Named sets of control lines a target list may hold (``--target controls``): name → kind keys.
LINE_SETS: dict[str, tuple[str, ...]] = {
    "controls": tuple(CONTROL_LINES),
    "三区三线": tuple(k for k, v in CONTROL_LINES.items() if v.national),
}


def kind_of_layer(layer_id: str, meta: LayerMeta | None = None) -> ControlLineKind | None:
    """The kind of control line a store layer holds (by layer id, else ``meta.extra["control_line"]``), or None."""
    for kind in CONTROL_LINES.values():
        if kind.layer_id == layer_id:
            return kind
    key = (meta.extra or {}).get("control_line") if meta is not None else None
    return CONTROL_LINES.get(str(key)) if key else None


# --------------------------------------------------------------------------- official import


def read_line_file(path: Path, layer: str | None = None) -> gpd.GeoDataFrame:
    """Read an official control-line file with the upload readers (:mod:`gisapp.io.readers`).

    Any format they take: GeoJSON, zipped Shapefile, GeoPackage, File Geodatabase (a ``.gdb`` folder
    or a zipped one), KML, GeoParquet, DXF.

    Args:
        path: the file or ``.gdb`` folder; layer: the layer / feature class of a multi-layer file.

    Returns:
        the features in the file's declared CRS.

    Raises:
        InputError: ``missing_file``; ``missing_crs`` when the file declares no CRS (or only GeoJSON's
            default); the readers' errors (``unreadable_file``, ``ambiguous_layer`` …).
    """
    from gisapp.core.limits import CLI_LIMITS
    from gisapp.io.readers import read_input
    from gisapp.io.readers.safety import zip_gdb_folder

    if path.is_dir() and path.name.lower().endswith(".gdb"):
        data, name = zip_gdb_folder(path), path.name + ".zip"
    elif path.is_file():
        data, name = path.read_bytes(), path.name
    else:
        raise InputError(f"no such file: {path.name}", code="missing_file")
    raw, _ = read_input(data, name, layer=layer, limits=CLI_LIMITS)
    if raw.crs is None:
        raise InputError(f"{path.name} declares no CRS: an official line must declare it", code="missing_crs")
    return gpd.GeoDataFrame(raw.properties, geometry=list(raw.geometries), crs=raw.crs)


def import_line(
    key: str,
    path: Path,
    id_field: str | None = None,
    name_field: str | None = None,
    layer: str | None = None,
    outline: BaseGeometry | None = None,
) -> tuple[gpd.GeoDataFrame, LayerMeta]:
    """Read and fully check an official control line of kind ``key``; nothing is written here.

    The industrial red line keeps its own import (:func:`gisapp.plans.redline.import_redline`,
    ``gisapp redline import``); the other kinds are read by :func:`read_line_file`.

    Args:
        key: a kind of :data:`CONTROL_LINES` (aliases such as ``永久基本农田`` accepted).
        path: the file (it must declare its CRS).
        id_field: attribute holding the block id (default ``block_id``/``id``/``BSM`` if present, else
            ``<prefix>0001`` …); name_field: attribute holding a display name (default: the id).
        layer: layer / feature class of a multi-layer file.
        outline: 中山市 in EPSG:4547 (default: the store's ``base-city``).

    Returns:
        ``(gdf, meta)``: polygons in EPSG:4326 with ``id, block_id, name, town, geometry_basis
        ('official'), geometry_method, uncertainty_m, plan, plan_line, area_km2``.

    Raises:
        InputError: ``unknown_control_line``; the reader's errors; ``empty_layer``, ``missing_field``,
            ``missing_geometry``, ``not_polygons``, ``invalid_geometry``, ``missing_id``,
            ``duplicate_ids``, ``outside_city`` (checks of :mod:`gisapp.store.layercheck`).
    """
    from gisapp.store import layercheck

    kind = CONTROL_LINES.get_entry(key)
    if kind.key == "industrial":
        from gisapp.plans.redline import import_redline

        return import_redline(path, id_field, None, outline)
    from gisapp.plans.redline import checked_line_frame

    raw = checked_line_frame(read_line_file(path, layer), path, id_field, name_field)
    id_field = id_field or next((c for c in ("block_id", "id", "BSM") if c in raw.columns), None)
    n = len(raw)
    ids = (
        raw[id_field].astype(str).str.strip().to_list()
        if id_field
        else [f"{kind.id_prefix}{i:04d}" for i in range(1, n + 1)]
    )
    layercheck.check_unique(ids, f"block id ('{id_field}')" if id_field else "block id", path.name)
    layercheck.check_polygons(raw, ids, path.name)
    outline = outline if outline is not None else layercheck.city_outline()
    layercheck.check_inside(raw, ids, outline, "中山市", path.name)
    names = raw[name_field].astype(str).to_list() if name_field else ids
    rows = [
        {
            "id": i,
            "block_id": i,
            "name": nm,
            "town": "",
            "geometry_basis": "official",
            "geometry_method": "official boundary",
            "uncertainty_m": 0,
            "plan": "",
            "plan_line": 0,
        }
        for i, nm in zip(ids, names)
    ]
    return _layer(
        kind,
        rows,
        list(raw.geometry.to_numpy()),
        WGS84,
        title=kind.title,
        title_en=kind.title_en,
        **supplied_provenance(path.name),
        description=f"Official {kind.title_en.lower()} read from {path.name}.",
    )

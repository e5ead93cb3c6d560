"""The accounting tables of a control line: totals by tier against the floor, headroom, colour
status, a per-unit (镇街 / 区) table that partitions the line, and a per-zone table.

All geometry work is in EPSG:4547; every area is reported planar (EPSG:4547) and ellipsoidal
(GRS80), see :mod:`gisapp.analysis.accounting.areas`. The per-unit table is an exact partition of the line:
each unit gets the part of the line inside it that no earlier unit took, and whatever lies in no
unit is a last row (``unit = "（未落入任何…）"``), so the rows add up to the total (to rounding and
boundary slivers under 1 m² each: well within 0.01 公顷). Zones of a structure layer may overlap each other and are not a partition.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, cast

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from gisapp.analysis.accounting.areas import ellipsoidal_m2, methods_block, twin_fields
from gisapp.analysis.accounting.results import (
    AreaMethods,
    FloorInfo,
    Headroom,
    LineAccounting,
    RulesetRef,
    RuleVerdict,
    Status,
    TierRow,
    TwinAreas,
    UnitAreaRow,
    UnitRow,
    UnitSum,
    UnitTierArea,
    Verdicts,
    ZoneRow,
)
from gisapp.analysis.accounting.rules import RuleSet, evaluate_rules
from gisapp.core.crs import PROJECTED
from gisapp.core.errors import InputError
from gisapp.core.frames import POLYGONAL, polygon_rows
from gisapp.core.units import from_m2, to_m2

UNTIERED = "未分级"

#: Pieces of the line smaller than this (m²) in a unit are boundary slivers (the layers store 7
#: decimals, ~1 cm): left out of the per-unit rows and reported as ``by_unit_sum.slivers_m2``.
MIN_ROW_M2 = 1.0
ILLUSTRATIVE_WARNING = "示意数据，非官方红线 ILLUSTRATIVE data, not the official red line"

StatusKey = Literal["below_floor", "near_floor", "comfortable", "no_floor"]

#: Colour status of a total against its floor: key -> (colour, Chinese, English).
STATUS: dict[StatusKey, tuple[str, str, str]] = {
    "below_floor": ("#c62828", "低于底线", "below the floor"),
    "near_floor": ("#ef6c00", "接近底线", "within the margin above the floor"),
    "comfortable": ("#2e7d32", "充裕", "comfortably above the floor"),
    "no_floor": ("#757575", "无底线规则", "no floor rule"),
}


def prepare_line(line: gpd.GeoDataFrame, ruleset: RuleSet) -> gpd.GeoDataFrame:
    """The control line in EPSG:4547 with ``block_id`` and ``tier`` columns, polygons only.

    Args:
        line: the control-line blocks in any CRS.
        ruleset: names the id and tier fields; a missing tier field or a blank tier becomes
            :data:`UNTIERED`; a missing id field becomes ``B0001…``.

    Returns:
        GeoDataFrame (EPSG:4547) ``block_id, tier, geometry`` (invalid rings repaired).

    Raises:
        InputError: ``missing_crs`` when ``line`` has no CRS; ``no_polygons`` when it holds none.
    """
    line = polygon_rows(line, "control line", empty="the control line holds no polygon blocks", code="no_polygons")
    ids = (
        line[ruleset.id_field].astype(str).to_list()
        if ruleset.id_field in line
        else [f"B{i:04d}" for i in range(1, len(line) + 1)]
    )
    tiers = (
        [
            str(t).strip() if t is not None and str(t).strip() not in ("", "nan", "None") else UNTIERED
            for t in line[ruleset.tier_field]
        ]
        if ruleset.tier_field in line
        else [UNTIERED] * len(line)
    )
    geoms = shapely.make_valid(line.to_crs(PROJECTED).geometry.to_numpy())
    return gpd.GeoDataFrame({"block_id": ids, "tier": tiers}, geometry=geoms, crs=PROJECTED)


def prepare_units(units: gpd.GeoDataFrame, ruleset: RuleSet) -> gpd.GeoDataFrame:
    """The accounting units (镇街 / 区) in EPSG:4547: ``name, geometry``, filtered by the rule set.

    Raises:
        InputError: ``missing_field`` when the name field or a filter field is absent;
            ``no_units`` when the filter leaves nothing.
    """
    for f in [ruleset.unit_name_field, *ruleset.unit_filter]:
        if f not in units:
            raise InputError(f"the unit layer {ruleset.units_layer} has no field '{f}'", code="missing_field")
    keep = np.ones(len(units), dtype=bool)
    for f, v in ruleset.unit_filter.items():
        keep &= (units[f].astype(str) == str(v)).to_numpy()
    units = units[keep & units.geom_type.isin(POLYGONAL).to_numpy()]
    if units.empty:
        raise InputError(f"no units left in {ruleset.units_layer} after the filter", code="no_units", status=422)
    out = units.to_crs(PROJECTED)
    return gpd.GeoDataFrame(
        {"name": out[ruleset.unit_name_field].astype(str).to_numpy()}, geometry=out.geometry.to_numpy(), crs=PROJECTED
    )


def partition(
    control: BaseGeometry, names: list[str], unit_geoms: np.ndarray
) -> tuple[list[tuple[str, BaseGeometry]], BaseGeometry]:
    """Split ``control`` among units so that no area is counted twice.

    Args:
        control: the line (union of blocks), EPSG:4547.
        names: unit names, in table order.
        unit_geoms: unit polygons (EPSG:4547), same order.

    Returns:
        ``([(name, piece)…], remaining)``: each piece is the part of ``control`` in that unit and in
        no earlier unit; ``remaining`` is the part in no unit. Pieces + remaining = ``control``.
    """
    remaining = control
    pieces: list[tuple[str, BaseGeometry]] = []
    tree = shapely.STRtree(unit_geoms)
    hits = set(tree.query(control, predicate="intersects").tolist())
    for i, (name, geom) in enumerate(zip(names, unit_geoms)):
        if i not in hits or remaining.is_empty:
            pieces.append((name, shapely.Polygon()))
            continue
        piece = shapely.intersection(remaining, geom)
        pieces.append((name, piece))
        remaining = shapely.difference(remaining, geom)
    return pieces, remaining


def status_of(value_km2: float, floor_km2: float | None, margin_pct: float) -> Status:
    """Colour status of a total against its floor.

    Args:
        value_km2: the total, km².
        floor_km2: the floor, km² (None: no floor rule).
        margin_pct: a total in ``[floor, floor × (1 + margin/100))`` is "near the floor".

    Returns:
        the :class:`~gisapp.analysis.accounting.results.Status` (below_floor, near_floor, comfortable or
        no_floor, with its colour and labels).
    """
    key: StatusKey
    if floor_km2 is None:
        key = "no_floor"
    elif value_km2 < floor_km2:
        key = "below_floor"
    elif value_km2 < floor_km2 * (1 + margin_pct / 100):
        key = "near_floor"
    else:
        key = "comfortable"
    colour, zh, en = STATUS[key]
    return Status(status=key, colour=colour, label_zh=zh, label_en=en, margin_pct=margin_pct)


def _tier_unions(line: gpd.GeoDataFrame) -> dict[str, BaseGeometry]:
    order = list(dict.fromkeys(line["tier"]))
    return {t: shapely.union_all(line.loc[line["tier"] == t].geometry.to_numpy()) for t in order}


def line_areas(line: gpd.GeoDataFrame) -> dict[str, tuple[float, float]]:
    """``{"": (planar, ellipsoidal)}`` for the whole line plus one entry per tier, m² (see :func:`evaluate_rules`)."""
    control = shapely.union_all(line.geometry.to_numpy())
    tiers = _tier_unions(line)
    keys = ["", *tiers]
    geoms = [control, *tiers.values()]
    ell = ellipsoidal_m2(geoms)
    return {k: (float(g.area), float(e)) for k, g, e in zip(keys, geoms, ell)}


def _pct(part: float, whole: float, digits: int = 3) -> float:
    """``part / whole × 100`` rounded, 0.0 for an empty ``whole``."""
    return round(part / whole * 100, digits) if whole else 0.0


def floor_and_headroom(
    ruleset: RuleSet, total_p: float, total_e: float, verdict_total: float
) -> tuple[FloorInfo | None, Headroom | None]:
    """The floor rule of ``ruleset`` and the headroom above it (None, None without a floor rule).

    Args:
        ruleset: the rule set.
        total_p, total_e: the line's planar (EPSG:4547) and ellipsoidal (GRS80) area, m².
        verdict_total: the one of the two the verdicts use, m² (decides surplus / shortfall).
    """
    floor = ruleset.floor_rule()
    if floor is None:
        return None, None
    floor_m2 = to_m2(floor.threshold, floor.unit)
    info = FloorInfo(
        rule=floor.id,
        value=floor.threshold,
        unit=floor.unit,
        value_km2=floor_m2 / 1e6,
        comparison=floor.comparison,
        title=floor.title,
        quote=floor.citation.quote,
        citation_label=floor.citation.label(),
    )
    surplus = verdict_total >= floor_m2
    headroom = Headroom(
        **{
            f"{m}_{u}": round(from_m2(total - floor_m2, u), 6 if u == "km2" else 4)
            for m, total in (("planar", total_p), ("ellipsoidal", total_e))
            for u in ("km2", "ha", "mu")
        },
        sign="surplus" if surplus else "shortfall",
        sign_zh="富余" if surplus else "缺口",
    )
    return info, headroom


def tier_rows(
    line: gpd.GeoDataFrame, tiers: Mapping[str, BaseGeometry], areas: Mapping[str, tuple[float, float]]
) -> list[TierRow]:
    """One row per tier (in the order tiers first appear): block count, areas, share of the planar total."""
    total_p = areas[""][0]
    return [
        TierRow(
            tier=t,
            block_count=int((line["tier"] == t).sum()),
            **twin_fields(*areas[t]),
            share_of_line_pct=_pct(areas[t][0], total_p),
        )
        for t in tiers
    ]


def _tiers_in(piece: BaseGeometry, tiers: Mapping[str, BaseGeometry]) -> list[UnitTierArea]:
    out = []
    for t, tg in tiers.items():
        tp = float(shapely.intersection(piece, tg).area)
        if tp > 0:
            out.append(UnitTierArea(tier=t, planar_ha=round(tp / 1e4, 4)))
    return out


def unit_rows(
    control: BaseGeometry,
    units: gpd.GeoDataFrame,
    tiers: Mapping[str, BaseGeometry],
    total_p: float,
    unit_label: str,
) -> tuple[list[UnitRow], float]:
    """The per-unit table: a partition of ``control`` (see :func:`partition`), slivers left out.

    Args:
        control: the line (union of blocks), EPSG:4547.
        units: prepared units (EPSG:4547, ``name``).
        tiers: tier → union of its blocks (EPSG:4547), for the tiers of each row.
        total_p: the line's planar area, m² (for ``share_of_line_pct``).
        unit_label: what a unit is called (镇街), for the row of the part in no unit.

    Returns:
        ``(rows, slivers_m2)``: pieces under :data:`MIN_ROW_M2` are not rows; their planar m² are summed.
    """
    pieces, remaining = partition(control, units["name"].to_list(), units.geometry.to_numpy())
    unit_area = shapely.area(units.geometry.to_numpy())
    piece_e = ellipsoidal_m2([g for _, g in pieces] + [remaining])
    rows: list[UnitRow] = []
    slivers = 0.0
    for i, (name, piece) in enumerate(pieces):
        p = float(piece.area)
        if p < MIN_ROW_M2:
            slivers += p
            continue
        tier_areas = _tiers_in(piece, tiers)
        rows.append(
            UnitRow(
                unit=name,
                **twin_fields(p, float(piece_e[i])),
                unit_area_km2=round(float(unit_area[i]) / 1e6, 4),
                share_of_unit_pct=_pct(p, unit_area[i]),
                share_of_line_pct=_pct(p, total_p),
                tiers=tier_areas,
                tiers_text="；".join(f"{t.tier} {t.planar_ha:.2f} 公顷" for t in tier_areas),
            )
        )
    if remaining.area < MIN_ROW_M2:
        slivers += float(remaining.area)
    else:
        rows.append(
            UnitRow(
                unit=f"（未落入任何{unit_label}）",
                **twin_fields(float(remaining.area), float(piece_e[-1])),
                unit_area_km2=None,
                share_of_unit_pct=None,
                share_of_line_pct=_pct(remaining.area, total_p),
                tiers=[],
                tiers_text="",
            )
        )
    return rows, slivers


def unit_sum(rows: list[UnitRow], total: TwinAreas, slivers_m2: float) -> UnitSum:
    """The per-unit rows added up (公顷) and their difference from the total."""
    sum_p = sum(r.planar_ha for r in rows)
    sum_e = sum(r.ellipsoidal_ha for r in rows)
    return UnitSum(
        planar_ha=round(sum_p, 4),
        ellipsoidal_ha=round(sum_e, 4),
        diff_planar_ha=round(sum_p - total.planar_ha, 4),
        diff_ellipsoidal_ha=round(sum_e - total.ellipsoidal_ha, 4),
        slivers_m2=round(slivers_m2, 4),
    )


def zone_rows(structure: gpd.GeoDataFrame | None, control: BaseGeometry, total_p: float) -> list[ZoneRow]:
    """The line inside every polygon zone of ``structure`` (any CRS; ``name``, ``role``); [] without one."""
    if structure is None:
        return []
    polys = polygon_rows(structure).to_crs(PROJECTED)
    zone_geoms = polys.geometry.to_numpy()
    inter = shapely.intersection(zone_geoms, control) if len(zone_geoms) else np.array([])
    inter_e = ellipsoidal_m2(inter)
    rows = []
    for j in range(len(polys)):
        p = float(shapely.area(inter[j]))
        rows.append(
            ZoneRow(
                zone=str(polys["name"].iloc[j]) if "name" in polys else str(j),
                role=str(polys["role"].iloc[j]) if "role" in polys else "",
                **twin_fields(p, float(inter_e[j])),
                share_of_zone_pct=_pct(p, float(shapely.area(zone_geoms[j]))),
                share_of_line_pct=_pct(p, total_p),
            )
        )
    return rows


def verdict_counts(rules: list[RuleVerdict]) -> Verdicts:
    """How many rules passed, failed, were not reported or not evaluated."""
    n = {k: sum(1 for r in rules if r["verdict"] == k) for k in ("pass", "fail", "not_reported", "not_evaluated")}
    return Verdicts.model_validate(n)


def _notes(ruleset: RuleSet, tier_overlap_m2: float) -> list[str]:
    notes = list(ruleset.notes)
    if tier_overlap_m2 > 1.0:
        notes.append(
            f"blocks of different tiers overlap by {tier_overlap_m2:.1f} m²; tier areas add up to more than the total"
        )
    if ruleset.tier_note:
        notes.append(ruleset.tier_note)
    return notes


def line_accounting(
    line: gpd.GeoDataFrame,
    units: gpd.GeoDataFrame,
    ruleset: RuleSet,
    *,
    geometry_basis: str = "official",
    layer_id: str = "",
    structure: gpd.GeoDataFrame | None = None,
    structure_id: str = "",
    margin_pct: float | None = None,
    progress: Mapping[str, Any] | None = None,
    landuse_shares: Mapping[str, list[dict[str, Any]]] | None = None,
) -> LineAccounting:
    """Account for a control line: totals, tiers, floor and headroom, per unit, per zone, rule verdicts.

    Args:
        line: output of :func:`prepare_line` (EPSG:4547, ``block_id``, ``tier``).
        units: output of :func:`prepare_units` (EPSG:4547, ``name``).
        ruleset: the rule set (floor, margin, labels, rules).
        geometry_basis: the line layer's basis; anything but ``official`` makes the report say ILLUSTRATIVE.
        layer_id: the line layer's id (or the file name it came from).
        structure: a structure layer (any CRS, ``name``, ``role``) for the per-zone table; points ignored.
        structure_id: its id, for the report.
        margin_pct: overrides the rule set's colour-status margin.
        progress: user-reported figures for progress/share rules (see :func:`evaluate_rules`).
        landuse_shares: land-use share rows for ``landuse_share`` rules.

    Returns:
        the :class:`~gisapp.analysis.accounting.results.LineAccounting` (its fields name the keys of the JSON).

    Raises:
        InputError: ``invalid_margin`` for a negative margin.
    """
    margin = ruleset.margin_pct if margin_pct is None else float(margin_pct)
    if margin < 0:
        raise InputError("the status margin must not be negative", code="invalid_margin")
    control = shapely.union_all(line.geometry.to_numpy())
    areas = line_areas(line)
    total_p, total_e = areas[""]
    total = TwinAreas(**twin_fields(total_p, total_e))
    verdict_total = total_e if ruleset.verdict_area == "ellipsoidal" else total_p
    illustrative = geometry_basis != "official"
    floor, headroom = floor_and_headroom(ruleset, total_p, total_e, verdict_total)
    tiers = _tier_unions(line)
    by_unit, slivers = unit_rows(control, units, tiers, total_p, ruleset.unit_label)
    rules = evaluate_rules(ruleset, areas, progress, landuse_shares)
    return LineAccounting(
        ruleset=RulesetRef(id=ruleset.id, city=ruleset.city, title=ruleset.title, title_en=ruleset.title_en),
        layer=layer_id or ruleset.line_layer,
        geometry_basis=geometry_basis,
        illustrative=illustrative,
        warning=ILLUSTRATIVE_WARNING if illustrative else "",
        area_methods=AreaMethods(**methods_block()),
        verdict_area=cast(Literal["planar", "ellipsoidal"], ruleset.verdict_area),
        block_count=int(len(line)),
        total=total,
        floor=floor,
        headroom=headroom,
        status=status_of(verdict_total / 1e6, floor.value_km2 if floor else None, margin),
        tiers=tier_rows(line, tiers, areas),
        tier_note=ruleset.tier_note,
        unit_label=ruleset.unit_label,
        unit_label_en=ruleset.unit_label_en,
        by_unit=by_unit,
        by_unit_sum=unit_sum(by_unit, total, slivers),
        structure=structure_id,
        by_zone=zone_rows(structure, control, total_p),
        rules=rules,
        verdicts=verdict_counts(rules),
        notes=_notes(ruleset, sum(areas[t][0] for t in tiers) - total_p),
    )


def unit_areas(units: gpd.GeoDataFrame) -> list[UnitAreaRow]:
    """Planar and ellipsoidal area of every unit (e.g. each 镇街), to show both side by side.

    Args:
        units: output of :func:`prepare_units` (EPSG:4547).

    Returns:
        one :class:`~gisapp.analysis.accounting.results.UnitAreaRow` per unit.
    """
    geoms = units.geometry.to_numpy()
    ell = ellipsoidal_m2(geoms)
    return [UnitAreaRow(unit=n, **twin_fields(float(g.area), float(e))) for n, g, e in zip(units["name"], geoms, ell)]

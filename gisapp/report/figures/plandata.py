"""What a plan's figure shows: its layers, drawn features, stand-ins, extent, notes and citation.

A plan is identified by its *plan id*, the layers' ``meta.plan`` without ``.txt`` (the contract
of issue 12). Its layers are the ``kind == "structure"`` layers with that plan, plus the
industrial red line for ``zhongshan-industrial-restructuring``. Everything here is read through
:mod:`gisapp.store.layerstore`; geometry is returned in EPSG:4547 (CGCS2000 / 3-degree GK CM 114E,
metres), the projected CRS of every area and distance in the app.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import geopandas as gpd

from gisapp.core.errors import InputError
from gisapp.plans.structures import STAND_IN_M, related_layers
from gisapp.report.map_styles import base_display
from gisapp.store.layerstore import LayerMeta, LayerStore

PROJECTED = "EPSG:4547"
#: Extra layers of a plan besides its structure layers.
#: Geometry bases from most to least certain; a layer is labelled by its weakest feature.
BASIS_ORDER = ("official", "schematic", "illustrative")


@dataclass
class PlanLayer:
    """One layer of a plan: metadata, features in EPSG:4547 (stand-ins removed), weakest basis."""

    meta: LayerMeta
    gdf: gpd.GeoDataFrame
    weakest_basis: str


@dataclass
class StandIn:
    """A feature drawn only as a point for a whole unit (uncertainty ≥ STAND_IN_M): listed, not drawn.

    Attributes:
        name, name_en: the element's names; unit, unit_en: the unit it stands for (towns,
        districts or the city); uncertainty_m: its positional uncertainty (m).
    """

    name: str
    name_en: str
    unit: str
    unit_en: str
    uncertainty_m: float


@dataclass
class PlanData:
    """Everything a figure of one plan needs (see :func:`load_plan`)."""

    plan_id: str
    plan_file: str
    plan_title: str
    structure: str
    structure_en: str
    layers: list[PlanLayer]
    stand_ins: list[StandIn] = field(default_factory=list)
    plan_lines: tuple[int, int] | None = None
    store: LayerStore | None = None  # where the base layers under the figure come from
    city: str = ""  # the city of the plan's zone files (meta.extra["city"])

    def extent(self) -> tuple[float, float, float, float]:
        """The fitted extent (minx, miny, maxx, maxy) in EPSG:4547 of every drawn feature."""
        frames = [pl.gdf for pl in self.layers if len(pl.gdf)]
        if not frames:
            raise InputError(f"plan {self.plan_id!r} has no feature that can be drawn", code="empty_plan")
        b = [f.total_bounds for f in frames]
        return (min(x[0] for x in b), min(x[1] for x in b), max(x[2] for x in b), max(x[3] for x in b))


def plan_ids(store: LayerStore) -> list[str]:
    """Every plan id of the store's structure layers, sorted."""
    return sorted({m.plan.removesuffix(".txt") for m in store.list() if m.kind == "structure" and m.plan})


def weakest(bases: list[str]) -> str:
    """The least certain of ``bases`` (unknown values count as ``illustrative``); ``official`` if empty."""
    ranks = [BASIS_ORDER.index(b) if b in BASIS_ORDER else 2 for b in bases]
    return BASIS_ORDER[max(ranks, default=0)]


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value).strip()


def _unit_of(row: dict, city: tuple[str, str]) -> tuple[str, str]:
    for key in ("member_towns", "member_districts"):
        text = _text(row.get(key))
        if text:
            return text, text
    return city


def plan_city(metas: list[LayerMeta], store: LayerStore) -> tuple[str, str]:
    """The plan's city (Chinese, English) from its zone files (``meta.extra["city"]``), the English name
    from ``base-prd-city`` (or ``base-city``); ``("全市", "the city")`` when unknown."""
    city = next((str(m.extra["city"]) for m in metas if (m.extra or {}).get("city")), "")
    if not city:
        return "全市", "the city"
    for layer in ("base-prd-city", "base-city"):
        if store.exists(layer):
            frame = store.frame(layer)
            if "name_en" in frame:
                hit = frame.loc[frame["name"] == city, "name_en"]
                if len(hit):
                    return city, str(hit.iloc[0])
    return city, city


def is_stand_in(geom_type: str, uncertainty_m: object) -> bool:
    """Whether a feature is a stand-in: a Point with ``uncertainty_m >= STAND_IN_M`` (5000 m)."""
    try:
        unc = float(uncertainty_m)  # type: ignore[arg-type]  # any property value: float() raising is the check
    except (TypeError, ValueError):
        return False
    return geom_type == "Point" and unc >= STAND_IN_M


def load_plan(plan_id: str, store: LayerStore) -> PlanData:
    """Read a plan's layers from the store.

    Args:
        plan_id: e.g. ``zhongshan-services-2021-2025`` (``meta.plan`` without ``.txt``).
        store: the layer store.

    Returns:
        :class:`PlanData` with geometries in EPSG:4547; stand-ins are moved out of the layers
        into ``stand_ins``.

    Raises:
        InputError: ``unknown_plan`` (HTTP 404) when no structure layer has that plan.
    """
    metas = [m for m in store.list() if m.kind == "structure" and m.plan.removesuffix(".txt") == plan_id]
    if not metas:
        known = ", ".join(plan_ids(store))
        raise InputError(f"unknown plan {plan_id[:80]!r}; plans: {known}", code="unknown_plan", status=404)
    metas.sort(key=lambda m: m.id)
    city = plan_city(metas, store)
    extra_ids = set(related_layers(metas))
    metas += [m for m in store.list() if m.id in extra_ids]
    layers: list[PlanLayer] = []
    stand_ins: list[StandIn] = []
    lines: list[int] = []
    plan_title = ""
    for meta in metas:
        gdf = store.read(meta.id)
        if "geometry_basis" not in gdf:
            gdf["geometry_basis"] = meta.geometry_basis
        gdf = gdf[~gdf.geometry.is_empty & gdf.geometry.notna()]
        keep = []
        for _, row in gdf.iterrows():
            r = row.to_dict()
            if is_stand_in(row.geometry.geom_type, r.get("uncertainty_m")):
                unit, unit_en = _unit_of(r, city)
                name = _text(r.get("name"))
                stand_ins.append(
                    StandIn(name, _text(r.get("name_en")) or name, unit, unit_en, float(r["uncertainty_m"]))
                )
                keep.append(False)
            else:
                keep.append(True)
            if meta.kind == "structure":
                plan_title = plan_title or _text(r.get("plan_title"))
                if _text(r.get("plan_line")).isdigit():
                    lines.append(int(r["plan_line"]))
        bases = [_text(b) for b in gdf["geometry_basis"]] + [meta.geometry_basis]
        layers.append(PlanLayer(meta, gdf[keep].to_crs(PROJECTED), weakest(bases)))
    structure_metas = [m for m in metas if m.kind == "structure"]
    first = next((m for m in structure_metas if m.id.endswith("-structure")), structure_metas[0])
    return PlanData(
        plan_id=plan_id,
        plan_file=first.plan,
        plan_title=plan_title or first.title.split("：")[0],
        structure=first.structure,
        structure_en=first.title_en.split(" (")[0] if first.title_en else first.structure,
        layers=layers,
        stand_ins=stand_ins,
        plan_lines=(min(lines), max(lines)) if lines else None,
        store=store,
        city=city[0] if city[0] != "全市" else "",
    )


def base_layers(store: LayerStore) -> list[tuple[LayerMeta, str]]:
    """The base layers to draw under a figure, bottom first, with a drawing class.

    Classes: ``water`` (a base layer whose features carry ``class``: sea/river/lake, helper C's
    water layers), ``province``/``city``/``district`` (boundaries, matched by id), ``towns``
    (the town layer). Layers that do not exist are simply absent; so are the base layers the map
    does not draw either (``extra.display`` ``hidden``: the three-city boundaries the structures are
    built on, drawn again by the delta-wide layers) and label-only layers (names of waters).
    """
    out: list[tuple[LayerMeta, str]] = []
    metas = {m.id: m for m in store.list() if m.kind != "base" or base_display(m) not in ("hidden", "label")}
    for m in sorted(metas.values(), key=lambda m: m.id):
        if m.kind == "base" and ("water" in m.id or "sea" in m.id or "river" in m.id):
            out.append((m, "water"))
    for m in sorted(metas.values(), key=lambda m: m.id):
        if m.kind != "base" or (m, "water") in out:
            continue
        level = (
            "district" if "district" in m.id else "city" if "city" in m.id else "province" if "province" in m.id else ""
        )
        if level:
            out.append((m, level))
    if "zs-towns" in metas:
        out.append((metas["zs-towns"], "towns"))
    return out

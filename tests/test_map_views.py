"""Plan views (专题图) of the map in Debian's chromium (issue 12 §1, §3, §5).

One plan at a time: the first view shows 中山服务业 双核支撑、多区联动 alone; each of the five plans
opens from ``#plan=`` and from the switcher with only its layers (and its city's towns), fitted to its
city, titled and cited; the details panel never covers the selected feature; compare mode gives the
layers back when it closes; hovering a 未定位要素 entry outlines its unit; every header link works.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest
import shapely
from shapely.geometry import shape

from gisapp.core import paths
from gisapp.web.map_layers import store_view
from gisapp.web.map_legend import plan_views
from tests import test_browser as tb
from tests.helpers import BUNDLED
from tests.test_browser import FIND_CLICK_POINT_JS, Watched, _candidates, _css_ident, _visible_ids

pytestmark = pytest.mark.browser

browser = tb.browser  # the fixtures of tests/test_browser.py (one chromium per module, a watched page per test)
watched = tb.watched

DEFAULT = "zhongshan-services-2021-2025"
PLANS = {p["id"]: p for p in plan_views(store_view(BUNDLED))}
BASES = {m.id for m in store_view(BUNDLED).metas if m.kind == "base"}

# [left, top, right, bottom] of the details panel and the page position of a feature's bbox centre
PANEL_AND_CENTRE_JS = """
() => {
    const app = window.gisapp, map = app.map, d = app.details.data;
    const r = document.getElementById('gisapp-details').getBoundingClientRect();
    const box = map.getContainer().getBoundingClientRect();
    const b = d.bbox, c = app.datum.toDisplay([(b[1] + b[3]) / 2, (b[0] + b[2]) / 2]);
    const p = map.latLngToContainerPoint(c);
    return {panel: [r.left, r.top, r.right, r.bottom], centre: [box.left + p.x, box.top + p.y],
            map: [box.left, box.top, box.right, box.bottom]};
}
"""


def _expected(plan_id: str) -> set[str]:
    plan = PLANS[plan_id]
    return BASES | set(plan["layers"]) | set(plan["reference"])


def _features(layer_id: str) -> list[dict]:
    return json.loads((paths.layers_dir() / f"{layer_id}.geojson").read_text("utf-8"))["features"]


def _in_view(page, plan_id: str) -> None:  # type: ignore[no-untyped-def]
    """Assert: the map shows the plan's city (its box centre in view, the box mostly on screen)."""
    w, s, e, n = PLANS[plan_id]["bounds"]
    view = page.evaluate(
        "() => { const b = window.gisapp.map.getBounds(); return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]; }"
    )
    city = shapely.box(w, s, e, n)
    shown = shapely.box(*view)
    assert shown.contains(city.centroid)
    assert city.intersection(shown).area / city.area > 0.9
    # … and not the whole delta: the city fills a good part of the map
    assert city.area / shown.area > 0.2


def test_default_view_is_one_plan_and_requests_only_its_layers(live_server: str, watched: Watched) -> None:
    page = watched.page
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url) if "/features?" in r.url else None)
    watched.open(live_server + "/")
    assert _visible_ids(page) == _expected(DEFAULT)
    asked = {urlsplit(u).path.split("/")[4] for u in requested}
    assert asked == _expected(DEFAULT)  # the other 4 plans' layers are not even loaded
    assert page.locator("#gisapp-view-structure").inner_text() == "“双核支撑、多区联动”空间结构"
    citation = page.locator("#gisapp-view-citation").inner_text()
    assert "zhongshan-services-2021-2025.txt" in citation and "第255" in citation
    assert page.locator("#gisapp-plans button.active").get_attribute("data-plan") == DEFAULT
    assert f"plan={DEFAULT}" in page.evaluate("() => location.hash")
    _in_view(page, DEFAULT)
    watched.clean()


@pytest.mark.parametrize("plan_id", sorted(PLANS))
def test_each_plan_view_from_the_url_and_the_switcher(live_server: str, watched: Watched, plan_id: str) -> None:
    page = watched.page
    plan = PLANS[plan_id]
    watched.open(live_server + f"/#plan={plan_id}")
    assert _visible_ids(page) == _expected(plan_id)
    _in_view(page, plan_id)
    assert plan["structure_zh"] in page.locator("#gisapp-view-structure").inner_text()
    assert plan["zh"] == page.locator("#gisapp-view-plan .l-zh").inner_text()
    assert plan["file"] in page.locator("#gisapp-view-citation").inner_text()
    assert page.locator("#gisapp-standins li.gisapp-standin").count() == len(plan["standins"])
    # the legend names only what is drawn: no other plan's element
    legend = page.locator("#gisapp-plan-key").inner_text()
    for other in PLANS.values():
        if other["id"] == plan_id:
            continue
        for layer in other["layers"]:
            if layer in plan["layers"]:
                continue
            for f in _features(layer):
                name = f["properties"].get("name")
                if (
                    f["geometry"]["type"] != "Point"
                    and name
                    and name not in {g["properties"].get("name") for lyr in plan["layers"] for g in _features(lyr)}
                ):
                    assert name not in legend.splitlines(), (plan_id, name)
    # another plan is one click away, and back
    other = next(p for p in PLANS if p != plan_id)
    page.locator(f'#gisapp-plans button[data-plan="{other}"]').click()
    watched.idle()
    assert _visible_ids(page) == _expected(other)
    _in_view(page, other)
    page.wait_for_function(f"() => location.hash.startsWith('#plan={other}&')", polling=100)
    page.evaluate(f"() => window.gisapp.views.show('{plan_id}')")
    assert _visible_ids(page) == _expected(plan_id)
    watched.clean()


def test_old_links_with_layers_keep_working(live_server: str, watched: Watched) -> None:
    page = watched.page
    watched.open(live_server + "/#z=10&c=23.10,113.30&l=gz-services-structure,zs-towns~60")
    assert _visible_ids(page) == {"gz-services-structure", "zs-towns"}
    assert page.evaluate("() => window.gisapp.map.getZoom()") == 10
    assert page.evaluate("() => window.gisapp.layers.opacity('zs-towns')") == pytest.approx(0.6)
    assert page.evaluate("() => window.gisapp.views.current.id") == "guangzhou-services-2021-2025"
    watched.clean()


def test_details_never_cover_the_selected_feature(live_server: str, watched: Watched) -> None:
    page = watched.page
    watched.open(live_server + "/")
    # the feature of the plan whose centre lies furthest right on the screen
    layer = "zs-services-structure"
    feats = sorted(_features(layer), key=lambda f: -shape(f["geometry"]).centroid.x)
    target = feats[0]
    geom = shape(target["geometry"])
    cls = "gisapp-fid-" + _css_ident(target["properties"]["id"])
    # put it near the right edge of the map first
    page.evaluate(
        "([lat, lon]) => { const m = window.gisapp.map, s = m.getSize();"
        " const p = m.latLngToContainerPoint([lat, lon]); m.panBy([p.x - (s.x - 60), 0], {animate: false}); }",
        [geom.centroid.y, geom.centroid.x],
    )
    watched.idle()
    point = page.evaluate(FIND_CLICK_POINT_JS, [cls, _candidates(geom)])
    assert point is not None
    page.mouse.click(point[0], point[1])
    page.locator("#gisapp-details .gisapp-details").wait_for(state="visible")
    watched.idle()
    got = page.evaluate(PANEL_AND_CENTRE_JS)
    left, top, right, bottom = got["panel"]
    x, y = got["centre"]
    assert not (left <= x <= right and top <= y <= bottom), got
    assert got["map"][0] <= x < left and got["map"][1] <= y <= got["map"][3]  # on the map, left of the panel
    # zoom-to (search) fits the feature in the part of the map the panel leaves free
    page.locator("#gisapp-search-input").fill("翠亨新区")
    page.locator("#gisapp-search-results li.gisapp-search-hit").first.wait_for(state="visible")
    page.locator("#gisapp-search-input").press("Enter")
    page.wait_for_function("() => document.querySelector('.gisapp-details-name')?.textContent === '翠亨新区'")
    watched.idle()
    got = page.evaluate(PANEL_AND_CENTRE_JS)
    x, y = got["centre"]
    assert got["map"][0] <= x < got["panel"][0], got
    watched.clean()


def test_compare_open_close_keeps_the_layer_state(live_server: str, watched: Watched) -> None:
    page = watched.page
    watched.open(live_server + "/")
    # another plan's layer: its tree group is folded, one click opens it
    page.locator('#gisapp-tree details[data-group="plan:zhongshan-industrial-restructuring.txt"] > summary').click()
    page.locator('#gisapp-tree input[type=checkbox][data-layer="zs-industrial-redline"]').check()
    page.locator("#gisapp-show-opacity").check()
    page.locator('input.gisapp-opacity[data-layer="zs-services-detail"]').fill("45")
    watched.idle()
    state = "() => window.gisapp.layers.ids().map((id) => [id, window.gisapp.layers.isVisible(id), window.gisapp.layers.opacity(id)])"
    before = page.evaluate(state)
    page.locator('#gisapp-tools button[data-tool="compare"]').click()
    page.locator("#gisapp-map-right").wait_for(state="visible")
    page.select_option("#gisapp-compare-left", "plan:guangzhou-services-2021-2025")
    page.select_option("#gisapp-compare-right", "plan:shenzhen-services-2021-2025")
    watched.idle()
    assert "gz-services-structure" in _visible_ids(page)
    # the drop-downs show their whole label
    for sel in ("#gisapp-compare-left", "#gisapp-compare-right"):
        fits = page.locator(sel).evaluate(
            "(s) => { const c = document.createElement('canvas').getContext('2d');"
            " c.font = getComputedStyle(s).font; return c.measureText(s.options[s.selectedIndex].text).width + 24 <= s.clientWidth; }"
        )
        assert fits, sel
    page.locator("#gisapp-compare-close").click()
    watched.idle()
    assert page.evaluate(state) == before
    watched.clean()


def test_hovering_a_standin_outlines_its_unit(live_server: str, watched: Watched) -> None:
    page = watched.page
    watched.open(live_server + "/")
    plan = PLANS[DEFAULT]
    # one stand-in of each kind of unit the plan has
    for standin in {s["unit"]["kind"]: s for s in plan["standins"]}.values():
        entry = page.locator(f'#gisapp-standins li[data-id="{standin["id"]}"]')
        entry.scroll_into_view_if_needed()
        entry.hover()
        page.wait_for_function(
            f"() => window.gisapp.views.unitGroup.standin === '{standin['id']}'", polling=50, timeout=5_000
        )
        paths_ = page.locator("path.gisapp-unit-highlight")
        assert paths_.count() == len(standin["unit"]["ids"])
        # the outline is where the unit is: its box on screen holds the projected centre of the unit
        unit_layer = standin["unit"]["layer"]
        geoms = [shape(f["geometry"]) for f in _features(unit_layer) if f["properties"]["id"] in standin["unit"]["ids"]]
        c = shapely.union_all(geoms).envelope.centroid
        box = page.evaluate(
            "() => { let r = null; for (const p of document.querySelectorAll('path.gisapp-unit-highlight')) {"
            " const b = p.getBoundingClientRect(); r = r ? [Math.min(r[0], b.left), Math.min(r[1], b.top),"
            " Math.max(r[2], b.right), Math.max(r[3], b.bottom)] : [b.left, b.top, b.right, b.bottom]; } return r; }"
        )
        pt = page.evaluate(
            "([lat, lon]) => { const m = window.gisapp.map, b = m.getContainer().getBoundingClientRect();"
            " const p = m.latLngToContainerPoint([lat, lon]); return [b.left + p.x, b.top + p.y]; }",
            [c.y, c.x],
        )
        assert box[0] - 1 <= pt[0] <= box[2] + 1 and box[1] - 1 <= pt[1] <= box[3] + 1
        page.mouse.move(5, 790)
        page.wait_for_function("() => document.querySelectorAll('path.gisapp-unit-highlight').length === 0")
    # clicking an entry opens its details
    first = plan["standins"][0]
    page.locator(f'#gisapp-standins li[data-id="{first["id"]}"]').click()
    page.wait_for_function(
        f"() => document.querySelector('#gisapp-details .gisapp-details')?.dataset.featureId === '{first['id']}'"
    )
    watched.clean()


def test_every_header_link_works_and_figure_opens_the_view(live_server: str, watched: Watched) -> None:
    page = watched.page
    watched.open(live_server + "/#plan=shenzhen-services-2021-2025")
    hrefs = page.eval_on_selector_all("#gisapp-topbar a[href]", "els => els.map((a) => a.href)")
    assert any(h.endswith("/accounting") for h in hrefs)
    for href in hrefs:
        status = page.evaluate("async (u) => (await fetch(u)).status", href)
        assert status == 200, href
    # 出图 opens the figure endpoint for this plan and the box on screen
    opened: list[str] = []
    page.context.on("page", lambda p: opened.append(p.url))
    page.evaluate("() => { window.open = (u) => { window.__opened = u; return null; }; }")
    page.locator("#gisapp-figure").click()
    url = page.evaluate("() => window.__opened")
    parts = urlsplit(url)
    q = parse_qs(parts.query)
    assert parts.path == "/api/figure" and q["plan"] == ["shenzhen-services-2021-2025"] and q["format"] == ["pdf"]
    w, s, e, n = map(float, q["bbox"][0].split(","))
    view = page.evaluate(
        "() => { const b = window.gisapp.map.getBounds(); return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]; }"
    )
    assert [w, s, e, n] == pytest.approx(view, abs=1e-4)
    watched.clean()

"""Accounts in a real browser (Chromium): log in; a 浏览 user cannot run an overlap nor see the restricted
red line (the map tool and the API both answer 403); a 分析 user runs one and it is in the trail; a 管理
user uploads a new red line, reads the diff, publishes it, and rolls it back — the figures page and the map
show each version's red line."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import pytest

from gisapp.accounts.accountsdb import AccountsDB
from gisapp.core import paths
from gisapp.web import create_app
from tests.browser import CHROMIUM, LAUNCH_ARGS
from tests.helpers import ZHONGSHANGANG, live_server_for, square_4547

pytestmark = pytest.mark.browser
sync_api = pytest.importorskip("playwright.sync_api")

REDLINE = "zs-industrial-redline"
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


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[tuple[str, AccountsDB, Path]]:
    """A copy of the bundled store, one account per role, the red line restricted to 分析, a live server."""
    if not Path(CHROMIUM).exists():
        pytest.skip("no /usr/bin/chromium")
    root = tmp_path_factory.mktemp("site")
    store = Path(shutil.copytree(paths.layers_dir(), root / "layers"))
    db = AccountsDB(f"sqlite:///{root / 'layers.accounts.sqlite'}")
    for name, role in (("viewer", "浏览"), ("analyst", "分析"), ("boss", "管理")):
        db.add_user(name, f"{name}-password", role)
    db.set_layer_rule(REDLINE, "分析")
    src = root / "official-redline.gpkg"
    gpd.GeoDataFrame(
        {"BH": ["A1", "A2"], "JB": ["一级", "二级"]},
        geometry=[square_4547(*ZHONGSHANGANG, 1000), square_4547(113.25, 22.67, 1000)],
        crs="EPSG:4547",
    ).to_file(src, driver="GPKG")
    app = create_app({"TESTING": True, "GISAPP_LAYERS_DIR": str(store)})
    with live_server_for(app) as url:
        yield url, db, src


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            yield b
        finally:
            b.close()


def login(browser, url: str, name: str):  # type: ignore[no-untyped-def]
    """A fresh page logged in as ``name`` (through the login form), with console errors collected."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    page.goto(url + "/")
    assert page.url.startswith(url + "/login?next=")
    page.fill("#login-name", name)
    page.fill("#login-password", f"{name}-password")
    page.click("#login-submit")
    page.wait_for_selector("body[data-ready=true]", state="attached", timeout=15_000)
    return page


def draw_overlap(page) -> None:  # type: ignore[no-untyped-def]
    lat, lon, d = 22.5646, 113.487, 0.006
    corners = [[lat - d, lon - d], [lat - d, lon + d], [lat + d, lon + d], [lat + d, lon - d]]
    points = page.evaluate(TO_PAGE_JS, corners)
    page.locator('#gisapp-tools button[data-tool="overlap"]').click()
    for x, y in [*points, points[0]]:
        page.mouse.click(x, y)


def api_status(page, path: str, method: str = "GET") -> int:  # type: ignore[no-untyped-def]
    return page.evaluate(
        "async ([p, m]) => (await fetch(p, {method: m, headers: {'Content-Type': 'application/json'},"
        " body: m === 'POST' ? '{}' : undefined})).status",
        [path, method],
    )


def test_viewer_cannot_overlap_nor_see_the_restricted_line(site, browser):
    url, db, _src = site
    page = login(browser, url, "viewer")
    assert page.locator("#gisapp-user-badge").inner_text().startswith("viewer（浏览）")
    assert page.locator(f'#gisapp-tree input[data-layer="{REDLINE}"]').count() == 0
    assert page.locator('#gisapp-tree input[data-layer="zs-towns"]').count() >= 1
    page.goto(url + "/#z=13&c=22.5646,113.487&l=zs-towns")
    page.wait_for_selector("body[data-ready=true]", state="attached", timeout=15_000)
    draw_overlap(page)
    error = page.locator(".gisapp-error")
    error.wait_for(state="visible", timeout=10_000)
    assert "压占分析失败" in error.inner_text() and "需要「分析」权限" in error.inner_text()
    assert api_status(page, "/api/overlap", "POST") == 403
    assert api_status(page, f"/api/layers/{REDLINE}") == 403
    assert api_status(page, f"/ogc/collections/{REDLINE}/items?f=json") == 403
    assert db.audit_records(user="viewer", kind="overlap") == []
    assert [r.kind for r in db.audit_records(user="viewer")] == ["login"]
    page.context.close()


def test_analyst_runs_an_overlap_and_it_is_in_the_trail(site, browser):
    url, db, _src = site
    page = login(browser, url, "analyst")
    page.goto(url + f"/#z=13&c=22.5646,113.487&l={REDLINE},zs-towns")
    page.wait_for_selector("body[data-ready=true]", state="attached", timeout=15_000)
    draw_overlap(page)
    result = page.locator(".gisapp-overlap-result")
    result.wait_for(state="visible", timeout=10_000)
    assert float(result.get_attribute("data-overlap-m2")) > 1e5
    (record,) = db.audit_records(user="analyst", kind="overlap")
    assert record.address == "127.0.0.1" and len(record.input_sha256) == 64
    assert record.to_dict()["result"]["status"] == 200 and REDLINE in record.to_dict()["layers"]["layers"]
    assert page.errors == []
    page.context.close()


def _accounting_total(page, url: str) -> float:  # type: ignore[no-untyped-def]
    page.goto(url + "/accounting")
    return float(page.locator("#headline-total").get_attribute("data-value"))


def _map_count(page, url: str) -> int:  # type: ignore[no-untyped-def]
    """The red line's feature count in the map's layer list (what the map page draws from)."""
    layers = page.evaluate("async () => (await (await fetch('/api/map/layers')).json()).layers")
    return next(x["count"] for x in layers if x["id"] == REDLINE)


def test_manager_publishes_a_red_line_and_rolls_it_back(site, browser):
    url, db, src = site
    page = login(browser, url, "boss")
    page.on("dialog", lambda d: d.accept())
    page.click("#gisapp-admin-link")  # the badge of a 管理 user links to the 管理 page
    page.wait_for_selector("#history tbody tr")
    before_total = _accounting_total(page, url)
    assert _map_count(page, url) == 8
    page.goto(url + "/admin")
    page.wait_for_selector("#history tbody tr")
    page.select_option("#import-kind", "redline")
    page.set_input_files("#import-file", str(src))
    page.fill("#import-id-field", "BH")
    page.fill("#import-tier-field", "JB")
    page.click("#import-submit")
    page.wait_for_selector("#preview:not([hidden])")
    assert "校验通过，2 个要素" in page.locator("#preview-summary").inner_text()
    total_cells = page.locator("#preview-total tbody td").all_inner_texts()
    assert total_cells[2] == "2.0000" and total_cells[3].startswith("-")
    assert "新增 added 2（A1、A2）" in page.locator("#preview-ids").inner_text()
    assert "一级" in page.locator("#preview-by-tier").inner_text()
    assert "中山港街道" in page.locator("#preview-by-town").inner_text()
    page.click("#publish")
    page.wait_for_selector("#publish-result:has-text('已发布为版本 2')")
    page.wait_for_selector('#history tr.current[data-version="2"]')
    assert page.locator('#history tr[data-version="2"] .redline-km2').inner_text() == "2.0000"
    assert _map_count(page, url) == 2
    assert _accounting_total(page, url) == pytest.approx(2.0, abs=0.01)
    page.goto(url + "/admin")
    page.wait_for_selector('#history tr.current[data-version="2"]')
    page.click("#rollback")
    page.wait_for_selector("#rollback-result:has-text('回退到版本 1')")
    page.wait_for_selector('#history tr.current[data-version="1"]')
    assert _map_count(page, url) == 8
    assert _accounting_total(page, url) == pytest.approx(before_total, abs=1e-9)
    page.goto(url + "/admin")
    page.wait_for_selector("#audit-records tbody tr")
    assert page.locator("#audit-verified").inner_text() == "✔ 链完整 chain intact"
    kinds = page.locator("#audit-records tbody tr").evaluate_all("rows => rows.map(r => r.dataset.kind)")
    assert kinds[:3] == ["rollback", "publish", "import"]
    assert db.verify_audit() is None
    assert page.errors == []
    page.context.close()

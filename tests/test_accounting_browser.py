"""The metrics page in a real browser: it shows the same numbers as the report, loads nothing from
outside 127.0.0.1, and its adjustment tool and progress form work."""

from __future__ import annotations

from pathlib import Path

import pytest

from gisapp.accounting import service
from tests.browser import CHROMIUM
from tests.browser import LAUNCH_ARGS as ARGS

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def page(live_server):
    if not Path(CHROMIUM).exists():
        pytest.skip("no /usr/bin/chromium")
    sync_api = pytest.importorskip("playwright.sync_api")
    outside: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        pg = browser.new_page()

        def guard(route):  # type: ignore[no-untyped-def]
            url = route.request.url
            if url.startswith(live_server) or url.startswith("data:"):
                route.continue_()
            else:
                outside.append(url)
                route.abort()

        pg.route("**/*", guard)
        errors: list[str] = []
        pg.on("pageerror", lambda e: errors.append(str(e)))
        pg.goto(f"{live_server}/accounting")
        yield pg, outside, errors
        browser.close()


def num(pg, selector: str) -> float:
    return float(pg.locator(selector).inner_text().strip())


def test_page_shows_the_report_numbers(page):
    pg, outside, errors = page
    r = service.report()
    assert "ILLUSTRATIVE" in pg.locator("#illustrative-banner").inner_text()
    assert num(pg, "#total-planar-km2") == pytest.approx(r["total"]["planar_km2"], abs=1e-6)
    assert num(pg, "#total-ellipsoidal-km2") == pytest.approx(r["total"]["ellipsoidal_km2"], abs=1e-6)
    assert num(pg, "#total-planar-ha") == pytest.approx(r["total"]["planar_ha"], abs=1e-4)
    assert num(pg, "#total-ellipsoidal-mu") == pytest.approx(r["total"]["ellipsoidal_mu"], abs=1e-4)
    assert num(pg, "#headroom-ellipsoidal-km2") == pytest.approx(r["headroom"]["ellipsoidal_km2"], abs=1e-6)
    assert pg.locator("#status").get_attribute("data-status") == r["status"]["status"] == "below_floor"
    rows = pg.locator("#units-table tbody tr")
    assert rows.count() == len(r["by_unit"])
    for u in r["by_unit"]:
        tr = pg.locator(f'#units-table tr[data-unit="{u["unit"]}"]')
        assert float(tr.locator('[data-col="planar_ha"]').inner_text()) == pytest.approx(u["planar_ha"], abs=1e-4)
        assert float(tr.locator('[data-col="ellipsoidal_ha"]').inner_text()) == pytest.approx(
            u["ellipsoidal_ha"], abs=1e-4
        )
        bar = pg.locator(f'#unit-chart g.bar[data-unit="{u["unit"]}"]')
        assert bar.locator("rect").count() == 1
    for x in r["rules"]:
        tr = pg.locator(f'#rules-body tr[data-rule="{x["id"]}"]')
        assert tr.get_attribute("data-verdict") == x["verdict"]
        assert x["citation"]["quote"] in tr.inner_text()
    for u in r["unit_areas"]:
        tr = pg.locator(f'#unit-areas-table tr[data-unit="{u["unit"]}"]')
        assert float(tr.locator('[data-col="planar_km2"]').inner_text()) == pytest.approx(u["planar_km2"], abs=1e-6)
        assert float(tr.locator('[data-col="ellipsoidal_km2"]').inner_text()) == pytest.approx(
            u["ellipsoidal_km2"], abs=1e-6
        )
        assert abs(float(tr.locator('[data-col="pct"]').inner_text())) < 0.1
    assert outside == [] and errors == []


def test_adjustment_tool_and_progress_form(page):
    pg, outside, errors = page
    r = service.report()
    first = r["blocks"][0]["block_id"]
    town = {u["unit"]: u for u in r["by_unit"]}["中山港街道"]
    pg.check(f'input[name="remove_ids"][value="{first}"]')
    pg.click("#adjust-form button")
    pg.wait_for_selector("#adjust-result:not([hidden])")
    after = num(pg, "#adj-after-planar-km2")
    assert after == pytest.approx(r["total"]["planar_km2"] - town["planar_km2"], abs=2e-6)
    net = float(pg.locator('#adj-units tr[data-unit="中山港街道"] [data-col="net_planar_ha"]').inner_text())
    assert net == pytest.approx(-town["planar_ha"], abs=1e-3)
    pg.fill('input[name="cleared_low_efficiency_parks"]', "50000")
    pg.click("#progress-form button")
    pg.wait_for_selector('#rules-body tr[data-rule="low-efficiency-parks-cleared"][data-verdict="pass"]')
    pg.fill('input[name="cleared_low_efficiency_parks"]', "49999")
    pg.click("#progress-form button")
    pg.wait_for_selector('#rules-body tr[data-rule="low-efficiency-parks-cleared"][data-verdict="fail"]')
    pg.fill('textarea[name="add"]', "{not json")
    pg.click("#adjust-form button")
    assert "not valid JSON" in pg.locator("#adjust-error").inner_text()
    assert outside == [] and errors == []

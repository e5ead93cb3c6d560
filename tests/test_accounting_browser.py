"""The metrics page in a real browser: it opens with its headline (total vs floor, shortfall) above
the fold, shows a map of the line by town, rounds its tables (km² 2 decimals, 公顷 1, 亩 0) while
keeping exact values in ``data-value``, folds sliver rows into a note, links back to the map, loads
nothing from outside 127.0.0.1, logs no console error, and its adjustment tool and progress form work."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gisapp.analysis.accounting import service
from tests.browser import CHROMIUM
from tests.browser import LAUNCH_ARGS as ARGS
from tests.helpers import BUNDLED

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def page(live_server):
    if not Path(CHROMIUM).exists():
        pytest.skip("no /usr/bin/chromium")
    sync_api = pytest.importorskip("playwright.sync_api")
    outside: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        pg = browser.new_page(viewport={"width": 1280, "height": 800})

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
        pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        pg.goto(f"{live_server}/accounting")
        yield pg, outside, errors
        browser.close()


def num(pg, selector: str) -> float:
    return float(pg.locator(selector).inner_text().strip().replace(",", ""))


def exact(pg, selector: str) -> float:
    return float(pg.locator(selector).get_attribute("data-value"))


def decimals(text: str) -> int:
    text = text.strip().replace(",", "")
    return len(text.split(".")[1]) if "." in text else 0


def test_headline_above_the_fold(page):
    pg, outside, errors = page
    r = service.report(store=BUNDLED)
    total = r["total"]["ellipsoidal_km2"]  # the verdicts' area
    assert pg.locator("#headline-total").inner_text() == f"{total:,.2f}"
    assert pg.locator("#headline-floor").inner_text() == "250"
    gap = pg.locator("#headline-gap")
    assert f"{250 - total:,.2f} km²" in gap.inner_text() and "short of the floor" in gap.inner_text()
    assert exact(pg, "#headline-gap") == pytest.approx(250 - total, abs=1e-9)
    assert pg.locator("#status").get_attribute("data-status") == r["status"]["status"] == "below_floor"
    pct_text = pg.locator("#floor-bar").get_attribute("aria-label")
    assert f"{100 * total / 250:.1f} %" in pct_text
    for sel in ("#headline-total", "#headline-gap", "#status", "#line-map-svg", "#back-to-map"):
        box = pg.locator(sel).bounding_box()
        assert box is not None and box["y"] + min(box["height"], 40) <= 800, sel  # visible at 1280×800
    assert pg.locator("#back-to-map").get_attribute("href") == "/#plan=zhongshan-industrial-restructuring"
    assert outside == [] and errors == []


def test_map_of_the_line_by_town(page):
    pg, _, _ = page
    r = service.report(store=BUNDLED)
    units = pg.locator("#line-map path.unit")
    assert units.count() == 23  # every 镇街
    with_line = {u["unit"] for u in r["by_unit"] if u["planar_ha"] >= 0.05}
    for name in with_line:
        assert pg.locator(f'#line-map path.unit[data-unit="{name}"]').get_attribute("fill") != "#f2f2f2", name
    plain = pg.locator('#line-map path.unit[data-unit="石岐街道"]')
    assert plain.get_attribute("fill") == "#f2f2f2"
    assert pg.locator("#map-line").get_attribute("fill") == "url(#line-hatch)"  # illustrative: hatched
    assert pg.locator("#map-legend li").count() == 5
    assert "示意" in pg.locator("#map-legend").inner_text()


def test_tables_rounded_with_exact_values(page):
    pg, outside, errors = page
    r = service.report(store=BUNDLED)
    assert "ILLUSTRATIVE" in pg.locator("#illustrative-banner").inner_text()
    for sel, key, places in (
        ("#total-planar-km2", "planar_km2", 2),
        ("#total-ellipsoidal-km2", "ellipsoidal_km2", 2),
        ("#total-planar-ha", "planar_ha", 1),
        ("#total-ellipsoidal-mu", "ellipsoidal_mu", 0),
    ):
        assert decimals(pg.locator(sel).inner_text()) == places, sel
        assert num(pg, sel) == pytest.approx(round(r["total"][key], places)), sel
        assert exact(pg, sel) == pytest.approx(r["total"][key], abs=1e-9), sel
    assert exact(pg, "#headroom-ellipsoidal-km2") == pytest.approx(r["headroom"]["ellipsoidal_km2"], abs=1e-9)
    shown = [u for u in r["by_unit"] if u["planar_ha"] >= 0.05]
    folded = [u for u in r["by_unit"] if u["planar_ha"] < 0.05]
    assert pg.locator("#units-table tbody tr").count() == len(shown) >= 8
    for u in shown:
        tr = pg.locator(f'#units-table tr[data-unit="{u["unit"]}"]')
        cell = tr.locator('[data-col="planar_ha"]')
        assert decimals(cell.inner_text()) == 1 and num(
            pg, f'#units-table tr[data-unit="{u["unit"]}"] [data-col="planar_ha"]'
        ) == pytest.approx(round(u["planar_ha"], 1))
        assert float(cell.get_attribute("data-value")) == pytest.approx(u["planar_ha"], abs=1e-9)
        assert decimals(tr.locator('[data-col="planar_mu"]').inner_text()) == 0
        assert pg.locator(f'#unit-chart g.bar[data-unit="{u["unit"]}"] rect').count() == 1
    # the sliver rows are not in the table but in one note
    html = pg.content()
    rows_text = pg.locator("#units-table tbody").inner_text()  # (the tfoot states the rows-vs-total rounding)
    assert "0.0003" not in rows_text and "0.0002" not in rows_text
    assert folded and all(pg.locator(f'#units-table tr[data-unit="{u["unit"]}"]').count() == 0 for u in folded)
    note = pg.locator("#units-folded").inner_text()
    assert f"另有 {len(folded)} 行" in note and all(u["unit"] in note for u in folded)
    # no number anywhere in the tables with more than 2 decimals, except the planar/ellipsoidal % columns
    for table in ("#totals", "#units-table tbody", "#tiers-table", "#unit-areas-table"):
        for text in pg.locator(f"{table} td:not([data-col='pct'])").all_inner_texts():
            for n in re.findall(r"\d[\d,]*\.\d+", text):
                assert decimals(n) <= 2, (table, text)
    for u in r["unit_areas"]:
        tr = pg.locator(f'#unit-areas-table tr[data-unit="{u["unit"]}"]')
        assert float(tr.locator('[data-col="planar_km2"]').get_attribute("data-value")) == pytest.approx(
            u["planar_km2"]
        )
        assert abs(float(tr.locator('[data-col="pct"]').inner_text())) < 0.1
    for x in r["rules"]:
        tr = pg.locator(f'#rules-body tr[data-rule="{x["id"]}"]')
        assert tr.get_attribute("data-verdict") == x["verdict"]
        assert x["citation"]["quote"] in tr.inner_text()
    assert "script" not in html.split("<main>")[1].split("</main>")[0]
    assert outside == [] and errors == []


def test_adjustment_tool_and_progress_form(page):
    pg, outside, errors = page
    r = service.report(store=BUNDLED)
    first = r["blocks"][0]["block_id"]
    town = {u["unit"]: u for u in r["by_unit"]}["中山港街道"]
    pg.check(f'input[name="remove_ids"][value="{first}"]')
    pg.click("#adjust-form button")
    pg.wait_for_selector("#adjust-result:not([hidden])")
    after = exact(pg, "#adj-after-planar-km2")
    # three values each rounded to 6 decimals of km² (1 m²): the difference agrees to a few m²
    assert after == pytest.approx(r["total"]["planar_km2"] - town["planar_km2"], abs=5e-6)
    assert pg.locator("#adj-after-planar-km2").inner_text() == f"{after:,.2f}"
    net = pg.locator('#adj-units tr[data-unit="中山港街道"] [data-col="net_planar_ha"]')
    assert float(net.get_attribute("data-value")) == pytest.approx(-town["planar_ha"], abs=1e-3)
    assert decimals(net.inner_text()) == 1
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

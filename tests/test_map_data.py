"""The map's JSON API (``/api/map``): features by bounding box and zoom, details, feature export, search."""

from __future__ import annotations

import json
import re

import geopandas as gpd
import pytest
import shapely
from shapely.geometry import shape

from gisapp.core import paths
from gisapp.core.crs import PROJECTED, WGS84
from gisapp.core.errors import InputError
from gisapp.web.map_layers import decimals_for, parse_bbox, tolerance_deg
from tests.helpers import assert_rfc7946

STRUCTURE_LAYER = "zs-services-structure"
TOWNS = "zs-towns"
REDLINE = "zs-industrial-redline"
NW_ZONE = "西北部生产性服务业标杆区"
XIAOLAN_BBOX = (113.2, 22.62, 113.28, 22.7)


def _stored(layer_id: str) -> list[dict]:
    return json.loads((paths.layers_dir() / f"{layer_id}.geojson").read_text("utf-8"))["features"]


def _by_name(layer_id: str, name: str) -> dict:
    return next(f for f in _stored(layer_id) if f["properties"]["name"] == name)


def _coords(fc: dict) -> list[float]:
    return [float(v) for v in re.findall(r"-?\d+\.\d+", json.dumps([f["geometry"] for f in fc["features"]]))]


def _features(client, layer_id: str, **params) -> dict:  # type: ignore[no-untyped-def]
    resp = client.get(f"/api/map/layers/{layer_id}/features", query_string=params)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.mimetype == "application/geo+json"
    data = resp.get_json()
    assert int(resp.headers["X-Feature-Count"]) == len(data["features"])
    return data


# --------------------------------------------------------------------------- features by bbox and zoom


def test_features_meeting_the_box_only(client) -> None:  # type: ignore[no-untyped-def]
    everything = _features(client, TOWNS, zoom=12)
    assert len(everything["features"]) == len(_stored(TOWNS)) == 23
    bbox = ",".join(map(str, XIAOLAN_BBOX))
    some = _features(client, TOWNS, bbox=bbox, zoom=12)["features"]
    box = shapely.box(*XIAOLAN_BBOX)
    expected = {f["properties"]["id"] for f in _stored(TOWNS) if shape(f["geometry"]).envelope.intersects(box)}
    assert {f["id"] for f in some} == expected
    assert _by_name(TOWNS, "小榄镇")["properties"]["id"] in expected and 1 < len(expected) < 23
    # only display data travels: id, basis, style, tooltip, label (no plan text, no areas)
    props = some[0]["properties"]
    assert set(props) == {"id", "geometry_basis", "style", "tooltip", "label"}
    assert set(props["label"]) == {"zh", "en", "priority", "size", "at", "angle", "extent", "weight"}
    assert props["label"]["priority"] == 4  # towns after every structure role
    assert "gisapp-layer-zs-towns" in props["style"]["className"]
    far = _features(client, TOWNS, bbox="100,30,101,31", zoom=12)
    assert far["features"] == []


def test_stand_in_points_are_flagged_not_drawn_and_say_how_far_they_may_be_off(client) -> None:  # type: ignore[no-untyped-def]
    """A point standing for a whole city (±53 km) is flagged ``standin`` (the map does not draw it; hollow if
    drawn anyway), has no label and says so; a 街道 point (±2 km) is a labelled symbol."""
    layer = "sz-services-structure"
    shown = {f["id"]: f["properties"] for f in _features(client, layer, zoom=10)["features"]}
    # issue 13: no whole-city stand-in is drawn any more; 南山科技金融城 stands for 南山区 (±21 km)
    city_wide = _by_name(layer, "南山科技金融城")["properties"]
    street = _by_name(layer, "中芬设计园")["properties"]
    assert city_wide["uncertainty_m"] == 21000 and street["uncertainty_m"] == 2000
    standin = shown[city_wide["id"]]
    assert "gisapp-standin" in standin["style"]["className"] and standin["style"]["fillOpacity"] == 0.0
    assert "位置仅到所在镇街/区/市，±21 km" in standin["tooltip"]
    assert standin["standin"] is True and "label" not in standin
    assert "gisapp-standin" not in shown[street["id"]]["style"]["className"]
    assert "standin" not in shown[street["id"]] and shown[street["id"]]["label"]["zh"] == "中芬设计园"
    assert shown[street["id"]]["style"]["shape"] in {"square", "diamond"}  # a platform (园: diamond)
    assert "±" not in shown[street["id"]]["tooltip"]


def test_structures_carry_their_role_and_are_drawn_largest_first(client) -> None:  # type: ignore[no-untyped-def]
    features = _features(client, STRUCTURE_LAYER, zoom=11)["features"]
    stored = {f["properties"]["id"]: f for f in _stored(STRUCTURE_LAYER)}
    assert {f["properties"]["role"] for f in features} == {"core", "zone"}
    for f in features:
        assert f["properties"]["role"] == stored[f["id"]]["properties"]["role"]
    areas = [shape(stored[f["id"]]["geometry"]).area for f in features]
    assert areas == sorted(areas, reverse=True)


def test_geometry_is_simplified_per_zoom_within_half_a_pixel(client) -> None:  # type: ignore[no-untyped-def]
    coarse = _features(client, TOWNS, zoom=8)
    fine = _features(client, TOWNS, zoom=16)
    assert len(_coords(coarse)) < 0.8 * len(_coords(fine))
    stored = {f["properties"]["id"]: shape(f["geometry"]) for f in _stored(TOWNS)}
    for zoom, fc in ((8, coarse), (16, fine)):
        for f in fc["features"]:
            shown = shape(f["geometry"])
            assert shown.hausdorff_distance(stored[f["id"]]) <= tolerance_deg(zoom) * 1.5 + 10 ** -decimals_for(zoom)
        assert max(len(str(c).split(".")[1]) for c in _coords(fc)) <= decimals_for(zoom)


def test_base_boundaries_are_lines_clipped_to_the_box(client) -> None:  # type: ignore[no-untyped-def]
    x, y = shape(_stored("base-province")[0]["geometry"]).geoms[0].exterior.coords[0]  # a point of the coast
    bbox = (x - 0.1, y - 0.08, x + 0.1, y + 0.08)
    fc = _features(client, "base-province", bbox=",".join(map(str, bbox)), zoom=12)
    assert len(fc["features"]) == 1
    geom = shape(fc["features"][0]["geometry"])
    assert geom.geom_type in ("LineString", "MultiLineString")
    assert shapely.box(*bbox).buffer(1e-6).contains(geom)
    whole = len(re.findall(r"\d+\.\d+", (paths.layers_dir() / "base-province.geojson").read_text("utf-8")))
    assert len(_coords(fc)) < whole / 20  # a clipped, simplified boundary is a small answer
    assert "tooltip" not in fc["features"][0]["properties"]  # not clickable


@pytest.mark.parametrize(
    ("url", "status", "code"),
    [
        ("/api/map/layers/zs-towns/features?bbox=1,2,3", 400, "invalid_bbox"),
        ("/api/map/layers/zs-towns/features?bbox=a,b,c,d", 400, "invalid_bbox"),
        ("/api/map/layers/zs-towns/features?bbox=114,23,113,22", 400, "invalid_bbox"),
        ("/api/map/layers/zs-towns/features?zoom=abc", 400, "invalid_zoom"),
        ("/api/map/layers/no-such-layer/features", 404, "layer_not_found"),
        ("/api/map/layers/Bad_Id/features", 400, "invalid_layer_id"),
        ("/api/map/layers/zs-towns/features/no-such-feature", 404, "feature_not_found"),
        ("/api/map/layers/zs-towns/features/no-such-feature.geojson", 404, "feature_not_found"),
        ("/api/map/places/没有这个地方", 404, "place_not_found"),
        ("/api/map/search?q=x&limit=many", 400, "invalid_limit"),
    ],
)
def test_errors_are_json(client, url: str, status: int, code: str) -> None:  # type: ignore[no-untyped-def]
    resp = client.get(url)
    assert resp.status_code == status
    assert resp.get_json()["error"] == code


def test_parse_bbox_and_zoom_helpers() -> None:
    assert parse_bbox(None) is None and parse_bbox(" ") is None
    assert parse_bbox("113,22,114,23") == (113.0, 22.0, 114.0, 23.0)
    for bad in ("113,22,114", "113,22,114,nan", "200,0,201,1", "113,23,114,22"):
        with pytest.raises(InputError):
            parse_bbox(bad)
    assert tolerance_deg(10) == pytest.approx(0.5 * 360 / 256 / 1024)
    assert tolerance_deg(17) == 0.0
    assert decimals_for(8) == 4 and decimals_for(12) == 5 and decimals_for(18) == 7


# --------------------------------------------------------------------------- details and export


def test_details_of_a_zone(client) -> None:  # type: ignore[no-untyped-def]
    stored = _by_name(STRUCTURE_LAYER, NW_ZONE)
    fid = stored["properties"]["id"]
    data = client.get(f"/api/map/layers/{STRUCTURE_LAYER}/features/{fid}").get_json()
    assert data["name"] == NW_ZONE and data["layer"] == STRUCTURE_LAYER and data["basis"] == "schematic"
    assert data["bbox"] == pytest.approx(list(shape(stored["geometry"]).bounds), abs=1e-6)
    html = data["html"]
    assert f'<blockquote class="gisapp-sentence" lang="zh-CN">{stored["properties"]["sentence"]}</blockquote>' in html
    assert "四（二）2、西北部生产性服务业标杆区" in html and "zhongshan-services-2021-2025.txt" in html
    assert html.count('class="gisapp-goto"') == 8  # the eight member towns, each a link
    # areas in km², 公顷 and 亩, planar EPSG:4547
    planar = gpd.GeoSeries([shape(stored["geometry"])], crs=WGS84).to_crs(PROJECTED).area.iloc[0]
    assert f'<span class="gisapp-area-km2">{planar / 1e6:,.2f} km²</span>' in html
    assert f'<span class="gisapp-area-ha">{planar / 1e4:,.1f} 公顷</span>' in html
    assert f'<span class="gisapp-area-mu">{planar * 15 / 1e4:,.0f} 亩</span>' in html
    # related metrics: the red line inside the zone, computed independently here
    red = gpd.GeoSeries([shape(f["geometry"]) for f in _stored(REDLINE)], crs=WGS84).to_crs(PROJECTED)
    zone = gpd.GeoSeries([shape(stored["geometry"])], crs=WGS84).to_crs(PROJECTED).iloc[0]
    inside = shapely.union_all(red.intersection(zone).values).area
    section = html[html.index(f'data-layer="{REDLINE}"') :]
    assert f"{inside / 1e6:,.2f} km²" in section[:2000]
    assert "（示意，非官方）" in section[:600]
    # export links
    assert f'href="/api/map/layers/{STRUCTURE_LAYER}/features/{fid}.geojson"' in html
    assert f'href="/api/layers/{STRUCTURE_LAYER}.geojson"' in html
    assert f'href="/api/metrics/{STRUCTURE_LAYER}?format=csv&amp;bom=1"' in html


def test_every_structure_feature_has_its_plan_in_the_details(client) -> None:  # type: ignore[no-untyped-def]
    from markupsafe import escape

    for stored in _stored(STRUCTURE_LAYER):
        p = stored["properties"]
        data = client.get(f"/api/map/layers/{STRUCTURE_LAYER}/features/{p['id']}").get_json()
        html = data["html"]
        for key in ("name", "name_en", "role_zh", "role", "sentence", "plan", "section", "plan_title"):
            assert str(escape(p[key])) in html, (p["id"], key)
        for town in p["member_towns"].split("、"):
            assert f'data-query="{town}">{town}</button>' in html
        assert f'data-basis="{p["geometry_basis"]}"' in html and f'data-feature-id="{p["id"]}"' in html
        assert f"{p['area_km2']:,.2f} km²" in html
        if p["geometry_basis"] == "illustrative":
            assert "示意图形，非官方" in html
        if p.get("basis_note"):
            assert str(escape(p["basis_note"])) in html


def test_every_feature_of_every_layer_has_details(client) -> None:  # type: ignore[no-untyped-def]
    """Mixed layers (points, lines, polygons) too: no 500, the plan sentence and the uncertainty of points."""
    from markupsafe import escape

    for meta_path in sorted(paths.layers_dir().glob("*.meta.json")):
        layer_id = meta_path.name.removesuffix(".meta.json")
        if layer_id.startswith("base-"):
            continue
        for stored in _stored(layer_id):
            p = stored["properties"]
            resp = client.get(f"/api/map/layers/{layer_id}/features/{p['id']}")
            assert resp.status_code == 200, (layer_id, p["id"])
            data = resp.get_json()
            if p.get("sentence"):
                assert str(escape(p["sentence"])) in data["html"], (layer_id, p["id"])
            if stored["geometry"]["type"] == "Point":
                assert data["uncertainty_m"] == p.get("uncertainty_m"), (layer_id, p["id"])
                assert f"±{p['uncertainty_m']:,.0f} m" in data["html"]
            else:
                assert data["uncertainty_m"] is None


def test_details_of_a_town_name_the_zones_it_belongs_to(client) -> None:  # type: ignore[no-untyped-def]
    town = _by_name(TOWNS, "小榄镇")
    html = client.get(f"/api/map/layers/{TOWNS}/features/{town['properties']['id']}").get_json()["html"]
    assert "示意范围（按规则构造，非官方边界）" in html  # schematic, and it says so
    related = html[html.index('class="gisapp-related"') :]
    zone_id = _by_name(STRUCTURE_LAYER, NW_ZONE)["properties"]["id"]
    assert f'data-layer="{STRUCTURE_LAYER}" data-id="{zone_id}">{NW_ZONE}</button>' in related
    from gisapp.analysis.metrics import area_table

    drawn = area_table(gpd.GeoDataFrame([town["properties"]], geometry=[shape(town["geometry"])], crs="EPSG:4326"))
    assert f"{drawn.iloc[0]['area_km2']:,.2f} km²" in html  # drawn area of the schematic cell (planar EPSG:4547)
    assert f"{town['properties']['official_area_km2']:,.2f} km²" in html


def test_details_of_an_illustrative_block(client) -> None:  # type: ignore[no-untyped-def]
    block = _stored(REDLINE)[0]
    data = client.get(f"/api/map/layers/{REDLINE}/features/{block['properties']['id']}").get_json()
    assert data["basis"] == "illustrative"
    assert "示意图形，非官方：仅供说明，不可作为依据" in data["html"]
    assert block["properties"]["block_id"] in data["html"] and block["properties"]["town"] in data["html"]


def test_feature_export_is_the_stored_feature(client) -> None:  # type: ignore[no-untyped-def]
    stored = _by_name(STRUCTURE_LAYER, NW_ZONE)
    fid = stored["properties"]["id"]
    resp = client.get(f"/api/map/layers/{STRUCTURE_LAYER}/features/{fid}.geojson")
    assert resp.status_code == 200 and resp.mimetype == "application/geo+json"
    assert "attachment" in resp.headers["Content-Disposition"]
    doc = resp.get_json()
    assert_rfc7946(doc)
    assert len(doc["features"]) == 1
    assert doc["features"][0]["properties"]["sentence"] == stored["properties"]["sentence"]
    assert shape(doc["features"][0]["geometry"]).equals_exact(shape(stored["geometry"]), 1e-7)


def test_layers_endpoint(client) -> None:  # type: ignore[no-untyped-def]
    data = client.get("/api/map/layers").get_json()
    ids = [e["id"] for e in data["layers"]]
    assert STRUCTURE_LAYER in ids and TOWNS in ids and "base-province" in ids
    assert sorted(i for g in data["tree"] for c in g["children"] for i in c["layers"]) == sorted(ids)


# --------------------------------------------------------------------------- search over HTTP


def test_search_endpoint(client) -> None:  # type: ignore[no-untyped-def]
    data = client.get("/api/map/search", query_string={"q": "小榄"}).get_json()
    first = data["results"][0]
    town = _by_name(TOWNS, "小榄镇")
    assert (first["name"], first["kind"], first["layer"], first["id"]) == (
        "小榄镇",
        "town",
        TOWNS,
        town["properties"]["id"],
    )
    assert first["kind_zh"] == "镇街" and first["name_en"] == "Xiaolan Town"
    assert first["bbox"] == pytest.approx(list(shape(town["geometry"]).bounds), abs=1e-6)
    assert client.get("/api/map/search?q=XiaoLan").get_json()["results"][0]["name"] == "小榄镇"
    assert client.get("/api/map/search?q=天河").get_json()["results"][0]["kind"] == "district"
    zone = client.get("/api/map/search?q=西北部生产").get_json()["results"][0]
    assert (zone["name"], zone["layer"]) == (NW_ZONE, STRUCTURE_LAYER)
    assert len(client.get("/api/map/search?q=镇&limit=3").get_json()["results"]) == 3
    assert client.get("/api/map/search?q=").get_json()["results"] == []


def test_places_from_the_gazetteer(client) -> None:  # type: ignore[no-untyped-def]
    from gisapp.plans.search import load_places

    places = load_places()
    if not places:
        pytest.skip("no data/gazetteer.csv in this checkout")
    name, place = next(iter(places.items()))
    hits = client.get("/api/map/search", query_string={"q": name, "limit": 50}).get_json()["results"]
    assert any(h["kind"] == "place" and h["id"] == name for h in hits)
    data = client.get(f"/api/map/places/{name}").get_json()
    assert data["kind"] == "place" and data["point"] == [place.lon, place.lat]
    assert f"±{place.uncertainty_m:,.0f} m" in data["html"]


def test_details_panel_links_download_other_formats(client, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import re

    import pyogrio

    stored = _by_name(STRUCTURE_LAYER, NW_ZONE)
    html = client.get(f"/api/map/layers/{STRUCTURE_LAYER}/features/{stored['properties']['id']}").get_json()["html"]
    hrefs = dict(re.findall(r'class="gisapp-export-([a-z0-9-]+)" href="([^"]+)"', html.replace("&amp;", "&")))
    assert {"feature-gpkg", "layer-gpkg", "layer-shp", "layer-kml", "layer-gcj02"} <= set(hrefs)
    resp = client.get(hrefs["feature-gpkg"])
    assert resp.status_code == 200
    path = tmp_path / "feature.gpkg"
    path.write_bytes(resp.data)
    gdf = pyogrio.read_dataframe(path)
    assert list(gdf["name"]) == [NW_ZONE] and gdf["sentence"].iloc[0] == stored["properties"]["sentence"]
    shp = client.get(hrefs["layer-shp"])
    assert shp.status_code == 200 and shp.data[:2] == b"PK"
    gcj = client.get(hrefs["layer-gcj02"])
    assert gcj.status_code == 200 and "gcj02" in gcj.headers["Content-Disposition"].lower()

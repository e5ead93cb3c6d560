"""广州市服务业发展"十四五"规划 §五 "一核两带三区多点" and 专栏3/6/7: counts, the 81 km² core, provenance."""

import pytest

from gisapp.core import paths
from gisapp.core.crs import PROJECTED
from gisapp.plans.structures import load_definition
from gisapp.plans.validate import list_items_in_text
from gisapp.store.layerstore import read_layer, read_meta

ZONE = paths.zones_dir() / "guangzhou-services-2021-2025.yaml"


@pytest.fixture(scope="module")
def definition():
    return load_definition(ZONE)


@pytest.fixture(scope="module")
def layer():
    return read_layer("gz-services-structure").set_index("name")


def test_counts_per_list(definition):
    counts = {e["list"]: len(e["items"]) for e in definition["inventory"]}
    col12 = {k.split()[1]: v for k, v in counts.items() if k.startswith("专栏12")}
    assert col12 == {
        "越秀区": 4, "海珠区": 3, "荔湾区": 3, "天河区": 4, "白云区": 4, "黄埔区": 3,
        "花都区": 3, "番禺区": 3, "南沙区": 6, "从化区": 2, "增城区": 2,
    }  # fmt: skip
    assert sum(col12.values()) == 37
    assert counts["专栏3 特大型物流枢纽(5个)"] == 5 and counts["专栏3 大型物流枢纽(10个)"] == 10
    assert counts["专栏3 节点型物流枢纽"] == 3
    assert sum(v for k, v in counts.items() if k.startswith("专栏6")) == 24
    assert counts["专栏7 会展场馆"] == 3
    assert counts["一核 三片区"] == 3 and counts["三区"] == 3
    assert counts["沿江文旅商务产业集聚带 节点"] == 8 and counts["东南部科创服务业集聚带 节点"] == 8


def test_column_12_lists_equal_the_plan_text(definition):
    plan = paths.plans_dir() / definition["plan"]
    if not plan.exists():
        pytest.skip("plan text not available")
    lines = plan.read_text("utf-8").splitlines()
    for entry in definition["inventory"]:
        if entry.get("split"):
            parsed = list_items_in_text(lines, *entry["lines"], drop=entry.get("drop"))
            assert parsed == [i.replace(" ", "") for i in entry["items"]], entry["list"]


def test_one_core_is_81_km2_within_10_percent(layer, definition):
    fig = next(f for f in definition["figures"] if f["id"] == "one-core-area")
    assert fig["stated_area_km2"] == 81
    cores = layer[layer["group"] == "一核"].to_crs(PROJECTED)
    assert set(cores.index) == {"琶洲核心区（含广州大学城）", "广州国际金融城片区", "鱼珠片区"}
    assert cores.loc["琶洲核心区（含广州大学城）", "area_km2"] == pytest.approx(48, rel=0.002)
    assert cores.loc["广州国际金融城片区", "area_km2"] == pytest.approx(8, rel=0.002)
    assert cores.loc["鱼珠片区", "area_km2"] == pytest.approx(25, rel=0.002)
    total = cores.geometry.union_all().area / 1e6
    assert abs(total - 81) / 81 < 0.10
    assert (cores["geometry_basis"] == "illustrative").all()
    districts = read_layer("base-district").set_index("name").to_crs(PROJECTED)
    pazhou = cores.loc["琶洲核心区（含广州大学城）", "geometry"]
    within = districts.loc[["海珠区", "番禺区"]].geometry.union_all()
    assert pazhou.difference(within).area < 1.0


def test_belts_and_zones(layer):
    belts = layer[layer["role"] == "belt"]
    assert set(belts.index) == {"沿江文旅商务产业集聚带", "东南部科创服务业集聚带"}
    assert (belts["width_m"] == 4000).all() and (belts["geometry_basis"] == "illustrative").all()
    assert layer.loc["南沙粤港澳全面合作示范区", "member_districts"] == "南沙区"
    assert layer.loc["南沙粤港澳全面合作示范区", "geometry_basis"] == "schematic"
    # issue 13: the 南站商务区 is an area of its published 36.16 km² around the station
    assert layer.loc["广州南站商务区", "geometry"].geom_type == "Polygon"


def test_drawn_and_unplaced_and_provenance(layer):
    meta = read_meta("gz-services-structure")
    # issue 13: 17 三区 sub-projects added; the 10 elements located only to the whole city are unplaced
    assert meta.extra["elements"] == 111 and len(layer) == 101 and len(meta.extra["unplaced"]) == 10
    for col in ("plan", "section", "sentence", "geometry_basis", "geometry_method", "uncertainty_m", "role"):
        assert layer[col].notna().all() and (layer[col].astype(str) != "").all(), col
    assert set(layer["plan"]) == {"guangzhou-services-2021-2025.txt"}
    assert (layer["uncertainty_m"] > 0).all()


def test_hubs_and_platforms_located_by_sources():
    """专栏3/专栏6 elements the plan does not locate: placed as far as a cited source allows, no further."""
    layer = read_layer("gz-services-structure").set_index("name").to_crs(PROJECTED)
    districts = read_layer("base-district").set_index("name").to_crs(PROJECTED)
    city = read_layer("base-city").set_index("name").to_crs(PROJECTED).loc["广州市", "geometry"]
    expected = {
        "广州东部公铁联运枢纽": "增城区",
        "鱼窝头节点型物流枢纽": "南沙区",
        "粤港澳大湾区国家技术创新中心": "黄埔区",
        "智能化动态宽域高超声速风洞": "南沙区",
        "极端海洋动态过程多尺度自主观测科考设施": "南沙区",
        "广东省粤港澳大湾区集成电路与系统应用研究院": "黄埔区",
        "广东腐蚀科学与技术创新研究院": "黄埔区",
    }
    for name, district in expected.items():
        f = layer.loc[name]
        assert districts.loc[district, "geometry"].contains(f.geometry), name
        assert "http" in f["basis_note"], name  # the source is cited
    hub = layer.loc["广清空港现代物流产业新城"]
    assert not city.contains(hub.geometry) and hub["places"] == "源潭"  # in 清远市, outside the city
    city_wide = layer[layer["uncertainty_m"] >= 80_000]
    assert len(city_wide) == 0  # issue 13: no whole-city stand-in points


def test_nodes_at_cited_stations_and_belts_through_them():
    """Nodes named after a station, street or square sit at its Wikipedia coordinate; the belts pass them in order."""
    layer = read_layer("gz-services-structure").set_index("name")
    at = {
        "天河中央商务区": "天河南站",
        "北京路国家级文化产业示范园区": "北京路",
        "海珠广场文化金融商务区": "海珠广场",
        "天河路商圈": "天河体育中心",
        "广州北站商务区": "广州北站",
        "中新广州知识城": "九龙",
        "南沙庆盛片区": "东涌",
    }
    for name, place in at.items():
        assert layer.loc[name, "places"] == place, name
        assert layer.loc[name, "uncertainty_m"] <= 8000, name
    assert (
        layer.loc["沿江文旅商务产业集聚带", "places"] == "荔湾区、海珠广场、琶洲、鱼珠、黄埔"
    )  # along the 珠江 (issue 13)
    assert layer.loc["东南部科创服务业集聚带", "places"] == "九龙、黄埔区、天河区、琶洲、广州国际生物岛、东涌、南沙区"
    belts = layer.to_crs(PROJECTED)
    for belt, nodes in (("沿江文旅商务产业集聚带", ["海珠广场文化金融商务区", "黄埔临港经济区"]),
                        ("东南部科创服务业集聚带", ["中新广州知识城", "南沙庆盛片区"])):  # fmt: skip
        for node in nodes:
            assert belts.loc[belt, "geometry"].contains(belts.loc[node, "geometry"]), (belt, node)

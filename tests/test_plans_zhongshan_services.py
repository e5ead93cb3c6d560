"""中山市服务业发展"十四五"规划 §四: every element the issue lists, with its place and provenance."""

import pytest
import shapely

from gisapp.core import paths
from gisapp.core.crs import PROJECTED
from gisapp.plans.gazetteer import load_gazetteer
from gisapp.plans.structures import load_definition
from gisapp.plans.validate import sentence_at_line
from gisapp.store.layerstore import read_layer, read_meta

DETAIL = paths.zones_dir() / "zhongshan-services-2021-2025-detail.yaml"


@pytest.fixture(scope="module")
def detail():
    return read_layer("zs-services-detail").set_index("name")


def test_inventory_counts_per_list():
    inv = {e["list"]: len(e["items"]) for e in load_definition(DETAIL)["inventory"]}
    assert inv == {
        "翠亨新区 片区": 3,
        "翠亨新区 多节点支撑体系": 9,
        "岐江新城 TOD 商务圈与发展带": 3,
        "四大片区": 4,
        "西北部 核心园区": 2,
        "西北部 产业带与基地": 4,
        "南部 站城": 2,
        "中部 核心": 1,
        "翠亨新区 项目": 3,
        "翠亨新区 起步区 平台": 5,
        "翠亨新区 生产性服务业 载体": 5,
        "翠亨新区 南部片区 载体与项目": 7,
        "岐江新城 板块": 3,
        "南部 三城": 3,
        "中部 重大科技基础设施": 2,
    }


def test_drawn_and_unplaced(detail):
    meta = read_meta("zs-services-detail")
    assert len(detail) == 47 and meta.extra["elements"] == 47 and meta.extra["unplaced"] == []  # 23 added (issue 13)
    nw = "小榄镇、东凤镇、古镇镇、黄圃镇、三角镇、南头镇、横栏镇、阜沙镇"
    for park in ("中山北部产业园", "西部产业园"):  # only "somewhere in the 西北部 zone", as the plan says
        assert detail.loc[park, "member_towns"] == nw and detail.loc[park, "uncertainty_m"] >= 15_000
    roles = detail["role"].value_counts().to_dict()
    assert roles == {"node": 18, "zone": 10, "belt": 4, "platform": 15}  # issue 13: 23 elements added
    assert (detail.loc[detail["group"] == "翠亨新区 多节点支撑体系"].shape[0]) == 9


def test_belts_run_through_the_seats_of_their_towns_in_order(detail):
    places = load_gazetteer()
    belt = detail.to_crs(PROJECTED).loc["南头-小榄-东凤-阜沙-黄圃智能家用电器产业带"]
    assert belt["places"] == "南头、小榄、东凤、阜沙、黄圃" and belt["width_m"] == 3000
    assert belt["geometry_basis"] == "schematic"
    import geopandas as gpd

    seats = gpd.GeoSeries([places[n].point for n in belt["places"].split("、")], crs=4326).to_crs(PROJECTED)
    assert all(belt.geometry.buffer(1).contains(s) for s in seats)
    # a 3 km belt: its area is about 3 km times the length of the line through the seats
    length = shapely.LineString(list(seats)).length
    assert belt.geometry.area == pytest.approx(3000 * length, rel=0.25)


def test_points_carry_the_uncertainty_of_their_place(detail):
    places = load_gazetteer()
    for name, row in detail.iterrows():
        if row.geometry.geom_type != "Point" or not row["places"]:
            continue  # the stand-ins for the 西北部 zone have no place (test_drawn_and_unplaced)
        place = places[row["places"]]
        assert row["uncertainty_m"] >= place.uncertainty_m, name
        assert (row.geometry.x, row.geometry.y) == pytest.approx((place.lon, place.lat), abs=1e-6), name
    assert detail.loc["中山北站TOD商务圈", "uncertainty_m"] == 1000
    assert detail.loc["南部片区", "uncertainty_m"] == 5000


def test_equipment_base_is_the_union_of_its_four_towns(detail):
    towns = read_layer("zs-towns").set_index("name").to_crs(PROJECTED)
    base = detail.to_crs(PROJECTED).loc["小榄-横栏-三角-民众先进装备制造业基地"]
    expected = towns.loc[["小榄镇", "横栏镇", "三角镇", "民众街道"]].area.sum() / 1e6
    assert base["area_km2"] == pytest.approx(expected, abs=0.01)


def test_sentences_are_verbatim_at_their_line():
    plan = paths.plans_dir() / "zhongshan-services-2021-2025.txt"
    if not plan.exists():
        pytest.skip("plan text not available")
    lines = plan.read_text("utf-8").splitlines()
    for el in load_definition(DETAIL)["elements"]:
        assert sentence_at_line(lines, el["plan_line"], el["sentence"], span=0), el["id"]

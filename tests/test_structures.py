import re
import shutil

import pytest
import shapely

from gisapp.core import paths
from gisapp.core.crs import PROJECTED
from gisapp.plans.structures import METHOD_LABELS, DefinitionError, compile_structure, load_definition
from gisapp.store.layerstore import read_layer, read_meta

ZONE_FILE = paths.zones_dir() / "zhongshan-services-2021-2025.yaml"
PROPERTIES = {
    "id",
    "name",
    "name_en",
    "role",
    "role_zh",
    "plan",
    "plan_title",
    "structure",
    "section",
    "plan_line",
    "sentence",
    "member_towns",
    "geometry_basis",
    "geometry_method",
    "basis_note",
    "uncertainty_m",
    "stated_area_km2",
    "area_km2",
}


@pytest.fixture(scope="module")
def structure():
    return read_layer("zs-services-structure").set_index("name")


@pytest.fixture(scope="module")
def towns():
    return read_layer("zs-towns")


def test_two_cores_and_four_zones(structure):
    roles = structure["role"].to_dict()
    assert roles == {
        "翠亨新区": "core",
        "岐江新城": "core",
        "东部两业融合创新示范区": "zone",
        "西北部生产性服务业标杆区": "zone",
        "南部产城融合优先发展区": "zone",
        "中部科技创新深度合作区": "zone",
    }


def test_zone_members_are_exactly_the_plans_town_lists(structure):
    members = {n: set(m.split("、")) for n, m in structure["member_towns"].items()}
    assert members["西北部生产性服务业标杆区"] == {
        "小榄镇",
        "东凤镇",
        "古镇镇",
        "黄圃镇",
        "三角镇",
        "南头镇",
        "横栏镇",
        "阜沙镇",
    }
    assert members["南部产城融合优先发展区"] == {"坦洲镇", "三乡镇", "神湾镇"}
    assert members["中部科技创新深度合作区"] == {"南区街道", "大涌镇", "板芙镇"}
    # 火炬开发区全域 = 中山港街道 + 民众街道 (Torch plan line 130 / 专栏3)
    assert members["东部两业融合创新示范区"] == {"中山港街道", "民众街道"}


def test_every_feature_carries_provenance(structure):
    assert PROPERTIES <= set(structure.reset_index().columns)
    assert set(structure["plan"]) == {"zhongshan-services-2021-2025.txt"}
    assert structure.loc["岐江新城", "geometry_basis"] == "illustrative"
    assert structure.loc["西北部生产性服务业标杆区", "geometry_basis"] == "schematic"
    assert (structure["uncertainty_m"] > 0).all()
    assert read_meta("zs-services-structure").structure == "双核支撑、多区联动"


def test_zone_area_is_the_area_of_its_member_towns(structure, towns):
    t = towns.set_index("name").to_crs(PROJECTED)
    for name, row in structure.iterrows():
        if row["geometry_basis"] != "schematic":
            continue
        expected = t.loc[row["member_towns"].split("、")].area.sum() / 1e6
        assert row["area_km2"] == pytest.approx(expected, abs=0.01), name


def test_illustrative_core_keeps_to_its_stated_area(structure):
    assert structure.loc["岐江新城", "stated_area_km2"] == 33
    assert 20 <= structure.loc["岐江新城", "area_km2"] <= 33.01


def test_sentences_are_quoted_verbatim_from_the_plan_at_their_line():
    plan = paths.plans_dir() / "zhongshan-services-2021-2025.txt"
    if not plan.exists():
        pytest.skip(f"plan texts not found at {plan.parent}")
    lines = plan.read_text("utf-8").splitlines()
    for el in load_definition(ZONE_FILE)["elements"]:
        squash = re.sub(r"\s+", "", lines[el["plan_line"] - 1])
        assert re.sub(r"\s+", "", el["sentence"]) in squash, el["id"]


def test_a_new_definition_file_is_a_new_layer(tmp_path, towns):
    text = ZONE_FILE.read_text("utf-8").replace("id: zs-services-structure", "id: test-structure", 1)
    path = tmp_path / "test.yaml"
    path.write_text(text, "utf-8")
    gdf, meta = compile_structure(path, towns)
    assert meta.id == "test-structure" and len(gdf) == 6
    assert gdf["id"].str.startswith("test-structure-").all()


def test_bad_definitions_name_the_file_and_element(tmp_path, towns):
    path = tmp_path / "bad.yaml"
    shutil.copy(ZONE_FILE, path)
    path.write_text(path.read_text("utf-8").replace("[坦洲镇, 三乡镇, 神湾镇]", "[坦洲镇, 东升镇]"), "utf-8")
    with pytest.raises(DefinitionError) as e:
        compile_structure(path, towns)
    assert (
        "bad.yaml" in e.value.message and "south-city-industry-zone" in e.value.message and "东升镇" in e.value.message
    )
    path.write_text("id: x\nplan: p\n", "utf-8")
    with pytest.raises(DefinitionError, match="missing key 'structure'"):
        load_definition(path)


def test_cores_lie_within_the_city(structure):
    city = read_layer("base-city").set_index("name").to_crs(PROJECTED).loc["中山市", "geometry"]
    for name, geom in structure.to_crs(PROJECTED).geometry.items():
        assert shapely.difference(geom, city).area < 1e4, name


STAND_IN = METHOD_LABELS["point_in_units"]
STRUCTURE_LAYERS = (
    "gz-services-structure",
    "sz-services-structure",
    "zs-services-detail",
    "zs-torch-structure",
    "zs-industrial-structure",
)


def test_stand_in_points_lie_in_their_units_and_their_uncertainty_covers_them():
    """point_in_units: inside its towns/districts/city, and no vertex of them farther than uncertainty_m."""
    cities = read_layer("base-city").set_index("name").to_crs(PROJECTED)
    towns = read_layer("zs-towns").set_index("name").to_crs(PROJECTED)
    districts = read_layer("base-district").set_index("name").to_crs(PROJECTED)
    seen = 0
    for layer_id in STRUCTURE_LAYERS:
        layer = read_layer(layer_id).to_crs(PROJECTED)
        for _, f in layer[layer["geometry_method"] == STAND_IN].iterrows():
            if f["member_towns"]:
                region = shapely.union_all(towns.loc[f["member_towns"].split("、"), "geometry"].to_numpy())
            elif f["member_districts"]:
                region = shapely.union_all(districts.loc[f["member_districts"].split("、"), "geometry"].to_numpy())
            else:
                region = cities.loc[{"gz": "广州市", "sz": "深圳市"}.get(layer_id[:2], "中山市"), "geometry"]
            assert region.contains(f.geometry), f["name"]
            reach = shapely.distance(f.geometry, shapely.points(shapely.get_coordinates(region.boundary))).max()
            assert reach <= f["uncertainty_m"] < reach + 1000.5, f["name"]
            assert f["geometry_basis"] == "illustrative" and f["basis_note"], f["name"]
            seen += 1
    # issue 13: no whole-city stand-in is left (they are unplaced); 南朗/南沙/花都/… stand-ins were added
    assert seen == 40


def test_point_in_units_of_named_towns(tmp_path, towns):
    path = tmp_path / "standin.yaml"
    path.write_text(
        "id: t\nplan: p.txt\nstructure: s\nsection: s\ncity: 中山市\nelements:\n"
        "- id: a\n  name: A\n  role: node\n  section: s\n  sentence: A\n"
        "  geometry: {method: point_in_units, towns: [小榄镇, 东凤镇]}\n",
        "utf-8",
    )
    gdf, _ = compile_structure(path, towns)
    f = gdf.to_crs(PROJECTED).iloc[0]
    region = towns.set_index("name").to_crs(PROJECTED).loc[["小榄镇", "东凤镇"]].geometry.union_all()
    assert f.geometry.geom_type == "Point" and region.contains(f.geometry)
    assert f["member_towns"] == "小榄镇、东凤镇" and f["uncertainty_m"] % 1000 == 0
    assert f["geometry_basis"] == "illustrative" and f["area_km2"] == 0

import geopandas as gpd
import pytest

from gisapp.crs import PROJECTED
from gisapp.errors import InputError
from gisapp.layerstore import read_layer, read_meta
from gisapp.towns import check_tessellation, load_town_facts, replace_towns

SUBDISTRICTS = {"石岐街道", "东区街道", "西区街道", "南区街道", "五桂山街道", "中山港街道", "民众街道", "南朗街道"}
TOWNS = {
    "小榄镇",
    "黄圃镇",
    "南头镇",
    "东凤镇",
    "阜沙镇",
    "三角镇",
    "港口镇",
    "沙溪镇",
    "大涌镇",
    "古镇镇",
    "横栏镇",
    "坦洲镇",
    "三乡镇",
    "板芙镇",
    "神湾镇",
}


@pytest.fixture(scope="module")
def towns():
    return read_layer("zs-towns")


@pytest.fixture(scope="module")
def outline():
    city = read_layer("base-city")
    return city[city["name"] == "中山市"]


def test_23_units_after_dongsheng_merged_into_xiaolan(towns):
    assert len(towns) == 23
    assert set(towns.loc[towns.kind == "subdistrict", "name"]) == SUBDISTRICTS
    assert set(towns.loc[towns.kind == "town", "name"]) == TOWNS
    assert "东升镇" not in set(towns["name"])


def test_cells_tile_the_outline_without_gap_or_overlap(towns, outline):
    check = check_tessellation(towns, outline)
    assert check.gap_km2 <= 0.01
    assert abs(check.overlap_km2) <= 0.01


def test_every_seat_lies_in_its_own_cell(towns, outline):
    assert check_tessellation(towns, outline).seats_outside == []


def test_every_cell_is_within_3_percent_of_its_scaled_official_area(towns):
    meta = read_meta("zs-towns")
    scale = meta.extra["area_scale_factor"]
    assert scale == pytest.approx(meta.extra["outline_area_km2"] / meta.extra["published_area_sum_km2"], rel=1e-5)
    area = towns.to_crs(PROJECTED).area / 1e6
    for name, a, official in zip(towns["name"], area, towns["official_area_km2"]):
        assert abs(a / (official * scale) - 1) <= 0.03, name
    assert any("scaled" in n for n in meta.notes), "the scaling must be stated in the metadata"


def test_cells_are_marked_schematic_and_carry_their_sources(towns):
    assert set(towns["geometry_basis"]) == {"schematic"}
    assert read_meta("zs-towns").geometry_basis == "schematic"
    facts = {f.name: f for f in load_town_facts()}
    assert facts["小榄镇"].area_km2 == 147.29
    assert facts["南头镇"].area_status == "upper_bound"
    assert all(s for s in towns["area_source"])


def test_replace_with_an_official_layer_in_another_crs(tmp_path, towns):
    official = towns[["short_name", "geometry"]].rename(columns={"short_name": "XZQMC"}).to_crs(PROJECTED)
    path = tmp_path / "towns.gpkg"
    official.to_file(path, driver="GPKG")
    gdf, meta = replace_towns(path, "XZQMC")
    assert len(gdf) == 23 and meta.geometry_basis == "official"
    assert set(gdf["geometry_basis"]) == {"official"}
    assert set(gdf["name"]) == SUBDISTRICTS | TOWNS
    assert gdf.crs.to_epsg() == 4326


def test_replace_rejects_unknown_names_and_missing_fields(tmp_path, towns):
    bad = gpd.GeoDataFrame({"name": ["东升镇"]}, geometry=[towns.geometry.iloc[0]], crs=4326)
    path = tmp_path / "bad.geojson"
    bad.to_file(path, driver="GeoJSON")
    with pytest.raises(InputError) as e:
        replace_towns(path)
    assert e.value.code == "unknown_towns" and "东升镇" in e.value.message
    with pytest.raises(InputError) as e:
        replace_towns(path, "NAME99")
    assert e.value.code == "missing_field"

import geopandas as gpd
import pytest

from gisapp import service
from gisapp.crs import PROJECTED, WGS84
from gisapp.errors import InputError
from gisapp.layerstore import LayerMeta, read_layer
from gisapp.metrics import area_table, redline_report
from tests.helpers import ZHONGSHANGANG, square_4547


def _meta(basis: str) -> LayerMeta:
    return LayerMeta(
        id="rl",
        title="",
        title_en="",
        kind="control_line",
        geometry_type="Polygon",
        source="",
        licence="",
        datum="",
        geometry_basis=basis,
        description="",
    )


def test_area_table_hand_computed_square():
    gdf = gpd.GeoDataFrame({"id": ["a"], "name": ["方块"]}, geometry=[square_4547(113.4, 22.5, 2000)], crs=PROJECTED)
    row = area_table(gdf.to_crs(WGS84)).iloc[0]
    assert row["area_m2"] == pytest.approx(4_000_000, abs=1)
    assert row["area_ha"] == pytest.approx(400, abs=1e-3)
    assert row["area_mu"] == pytest.approx(6000, abs=1e-2)
    assert abs(row["planar_vs_geodesic_pct"]) < 0.1


def test_area_table_rejects_points():
    gdf = gpd.GeoDataFrame(geometry=gpd.points_from_xy([113.4], [22.5]), crs=WGS84)
    with pytest.raises(InputError):
        area_table(gdf)


def test_every_town_planar_and_geodesic_agree_to_0_1_percent():
    table = area_table(read_layer("zs-towns"))
    assert len(table) == 23
    assert (table["planar_vs_geodesic_pct"].abs() < 0.1).all()


def test_redline_shortfall_and_per_town_breakdown():
    towns = read_layer("zs-towns")
    block = square_4547(*ZHONGSHANGANG, 2000, dx=-1000, dy=-1000)
    rl = gpd.GeoDataFrame({"block_id": ["B1"]}, geometry=[block], crs=PROJECTED)
    r = redline_report(rl, _meta("official"), towns)
    assert r["total"]["area_km2"] == pytest.approx(4.0, abs=1e-4)
    assert r["difference_km2"] == pytest.approx(-246.0, abs=1e-4)
    assert r["meets_target"] is False and r["illustrative"] is False
    assert sum(t["area_km2"] for t in r["by_town"]) == pytest.approx(4.0, abs=1e-4)
    assert r["target"]["line"] == 156 and "不少于250平方公里" in r["target"]["sentence"]


def test_redline_surplus_when_large_enough():
    towns = read_layer("zs-towns")
    big = square_4547(113.30, 22.45, 17000)  # 289 km², inside the city (clipped by nothing)
    rl = gpd.GeoDataFrame({"block_id": ["B"]}, geometry=[big], crs=PROJECTED)
    r = redline_report(rl, _meta("official"), towns)
    assert r["difference_km2"] == pytest.approx(289 - 250, abs=1e-3)
    assert r["meets_target"] is True


def test_bundled_redline_is_illustrative_and_short_of_the_target():
    r = service.redline_accounting()
    assert r["illustrative"] is True and "ILLUSTRATIVE" in r["warning"]
    assert r["meets_target"] is False
    assert r["difference_km2"] == pytest.approx(r["total"]["area_km2"] - 250, abs=1e-6)
    zones = {z["zone"]: z for z in r["by_zone"]}
    assert set(zones) == {
        "翠亨新区",
        "岐江新城",
        "东部两业融合创新示范区",
        "西北部生产性服务业标杆区",
        "南部产城融合优先发展区",
        "中部科技创新深度合作区",
    }
    town_sum = sum(t["area_m2"] for t in r["by_town"])
    assert town_sum == pytest.approx(r["total"]["area_m2"], rel=1e-6)


def test_metrics_of_the_illustrative_layer_are_flagged():
    assert service.layer_metrics("zs-industrial-redline")["illustrative"] is True
    assert service.layer_metrics("zs-towns")["illustrative"] is False

import json

import geopandas as gpd
import pytest

from gisapp.analysis import service
from gisapp.analysis.accounting import service as accounting
from gisapp.analysis.metrics import area_table
from gisapp.core.crs import PROJECTED, WGS84
from gisapp.core.errors import InputError
from gisapp.store.layerstore import read_layer
from tests.helpers import BUNDLED, ZHONGSHANGANG, feature_collection, square_4547


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


def _line(geom) -> str:
    """A one-block red line as GeoJSON in EPSG:4547 (legacy crs member)."""
    return json.dumps(feature_collection([geom], crs="EPSG:4547", props=[{"block_id": "B1"}]))


def test_redline_shortfall_and_per_town_breakdown():
    block = square_4547(*ZHONGSHANGANG, 2000, dx=-1000, dy=-1000)  # 4 km² around 中山港's seat
    r = accounting.report(line=_line(block), store=BUNDLED)
    assert r["total"]["planar_km2"] == pytest.approx(4.0, abs=1e-4)
    assert r["headroom"]["planar_km2"] == pytest.approx(-246.0, abs=1e-4) and r["headroom"]["sign"] == "shortfall"
    assert r["status"]["status"] == "below_floor"
    assert sum(u["planar_km2"] for u in r["by_unit"]) == pytest.approx(4.0, abs=1e-4)
    assert r["floor"]["value_km2"] == 250 and "不少于250平方公里" in r["floor"]["quote"]


def test_redline_surplus_when_large_enough():
    big = square_4547(113.30, 22.45, 17000)  # 289 km², inside the city outline
    r = accounting.report(line=_line(big), store=BUNDLED)
    assert r["headroom"]["planar_km2"] == pytest.approx(289 - 250, abs=1e-3)
    assert r["headroom"]["sign"] != "shortfall" and r["status"]["status"] != "below_floor"


def test_bundled_redline_is_illustrative_and_short_of_the_target():
    r = service.redline_accounting(BUNDLED)
    assert r["illustrative"] is True and "ILLUSTRATIVE" in r["warning"]
    assert r["headroom"]["sign"] == "shortfall"
    assert r["headroom"]["planar_km2"] == pytest.approx(r["total"]["planar_km2"] - 250, abs=1e-5)
    assert r["headroom"]["ellipsoidal_km2"] == pytest.approx(r["total"]["ellipsoidal_km2"] - 250, abs=1e-5)
    zones = {z["zone"] for z in r["by_zone"]}
    assert zones == {
        "翠亨新区",
        "岐江新城",
        "东部两业融合创新示范区",
        "西北部生产性服务业标杆区",
        "南部产城融合优先发展区",
        "中部科技创新深度合作区",
    }
    unit_sum = sum(u["planar_m2"] for u in r["by_unit"])
    assert unit_sum == pytest.approx(r["total"]["planar_m2"], abs=100)  # rows sum to the total within 0.01 公顷


def test_metrics_of_the_illustrative_layer_are_flagged():
    assert service.layer_metrics(BUNDLED, "zs-industrial-redline")["illustrative"] is True
    assert service.layer_metrics(BUNDLED, "zs-towns")["illustrative"] is False

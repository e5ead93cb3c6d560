import geopandas as gpd
import pytest

from gisapp.core.crs import PROJECTED, WGS84, geodesic_area_m2, parse_crs, planar_area_m2
from gisapp.core.errors import InputError
from gisapp.core.units import M2_PER_MU, area_fields, m2_to_mu
from tests.helpers import square_4547


def test_mu_is_exactly_10000_over_15_m2():
    assert M2_PER_MU == pytest.approx(666.6666666666666, abs=1e-12)
    assert m2_to_mu(1_000_000) == pytest.approx(1500.0, abs=1e-9)


def test_area_fields_of_one_km2():
    f = area_fields(1_000_000.0)
    assert f == {"area_m2": 1_000_000.0, "area_km2": 1.0, "area_ha": 100.0, "area_mu": 1500.0}


def test_planar_area_of_a_1km_square_and_geodesic_agreement():
    sq = gpd.GeoSeries([square_4547(113.4, 22.5, 1000.0)], crs=PROJECTED).to_crs(WGS84)
    planar = planar_area_m2(sq)[0]
    geodesic = geodesic_area_m2(sq)[0]
    assert planar == pytest.approx(1_000_000.0, abs=0.5)
    assert abs(planar / geodesic - 1) < 0.001


def test_parse_crs_rejects_nonsense():
    with pytest.raises(InputError) as e:
        parse_crs("EPSG:999999")
    assert e.value.code == "unknown_crs"
    assert parse_crs("urn:ogc:def:crs:EPSG::4547").to_epsg() == 4547

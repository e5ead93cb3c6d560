import json

import geopandas as gpd
import pytest
import shapely

from gisapp.crs import PROJECTED, WGS84
from gisapp.errors import InputError
from gisapp.layerstore import read_layer
from gisapp.overlap import overlap_parcels
from gisapp.parcels import parse_geojson_parcels
from tests.helpers import ZHONGSHANGANG, feature_collection, square_4547


@pytest.fixture(scope="module")
def towns():
    return read_layer("zs-towns")


def _block():
    return gpd.GeoDataFrame({"block_id": ["B1"]}, geometry=[square_4547(*ZHONGSHANGANG, 1000)], crs=PROJECTED)


def test_hand_computed_overlaps_in_epsg_4547(towns):
    inside = square_4547(*ZHONGSHANGANG, 100, dx=100, dy=100)  # 1 ha, fully inside
    half = square_4547(*ZHONGSHANGANG, 200, dx=900, dy=100)  # 4 ha, half inside
    outside = square_4547(*ZHONGSHANGANG, 100, dx=2000)
    doc = feature_collection(
        [inside, half, outside],
        crs="EPSG:4547",
        props=[{"parcel_id": "in"}, {"parcel_id": "half"}, {"parcel_id": "out"}],
    )
    parsed = parse_geojson_parcels(json.dumps(doc))
    assert parsed.crs == "EPSG:4547"
    result, summary = overlap_parcels(parsed.parcels, _block(), towns)
    r = result.set_index("parcel_id")
    assert r.loc["in", "overlap_m2"] == pytest.approx(10_000, abs=0.05)
    assert r.loc["in", "overlap_pct"] == pytest.approx(100, abs=1e-3)
    assert r.loc["in", "overlap_mu"] == pytest.approx(15.0, abs=1e-3)
    assert r.loc["half", "overlap_m2"] == pytest.approx(20_000, abs=0.05)
    assert r.loc["half", "overlap_pct"] == pytest.approx(50, abs=1e-3)
    assert r.loc["out", "overlap_m2"] == 0 and r.loc["out", "blocks"] == ""
    assert r.loc["in", "blocks"] == "B1" and r.loc["in", "towns"] == "中山港街道"
    assert summary["parcel_count"] == 3 and summary["overlapping_count"] == 2
    assert summary["overlap_m2"] == pytest.approx(30_000, abs=0.1)
    assert summary["blocks_touched"] == ["B1"]


def test_same_parcel_in_4326_gives_the_same_overlap(towns):
    parcel = square_4547(*ZHONGSHANGANG, 200, dx=900, dy=100)
    in_4326 = gpd.GeoSeries([parcel], crs=PROJECTED).to_crs(WGS84).iloc[0]
    parsed = parse_geojson_parcels(json.dumps(feature_collection([in_4326])))
    assert parsed.crs.startswith("EPSG:4326")
    result, _ = overlap_parcels(parsed.parcels, _block(), towns)
    assert result["overlap_m2"].iloc[0] == pytest.approx(20_000, abs=0.5)


def test_bow_tie_is_repaired_and_reported():
    bow = {
        "type": "Polygon",
        "coordinates": [[[113.40, 22.50], [113.41, 22.51], [113.41, 22.50], [113.40, 22.51], [113.40, 22.50]]],
    }
    parsed = parse_geojson_parcels(json.dumps(bow))
    assert len(parsed.repairs) == 1 and "Self-intersection" in parsed.repairs[0]
    geom = parsed.parcels.geometry.iloc[0]
    assert geom.is_valid and geom.geom_type == "MultiPolygon" and len(geom.geoms) == 2


@pytest.mark.parametrize(
    "doc, code",
    [
        ("{not json", "invalid_geojson"),
        ('{"type": "FeatureCollection"}', "invalid_geojson"),
        ('{"type": "FeatureCollection", "features": []}', "empty_input"),
        ('{"type": "Point", "coordinates": [113.4, 22.5]}', "invalid_geojson"),
        (
            '{"type": "Feature", "properties": {}, "geometry": {"type": "LineString", "coordinates": [[113.4, 22.5], [113.5, 22.5]]}}',
            "not_polygons",
        ),
        (
            '{"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": [[[1, 2]]]}}',
            "invalid_geojson",
        ),
        (
            '{"type": "Polygon", "coordinates": [[[22.5, 113.4], [22.6, 113.4], [22.6, 113.5], [22.5, 113.4]]]}',
            "outside_work_area",
        ),
    ],
)
def test_bad_input_gets_a_specific_error(doc, code):
    with pytest.raises(InputError) as e:
        parse_geojson_parcels(doc)
    assert e.value.code == code
    assert e.value.status in (400, 413, 422)


def test_unknown_crs_member_is_rejected():
    doc = feature_collection([shapely.box(0, 0, 1, 1)], crs="EPSG:999999")
    with pytest.raises(InputError) as e:
        parse_geojson_parcels(json.dumps(doc))
    assert e.value.code == "unknown_crs"


def test_undeclared_projected_coordinates_are_rejected_not_guessed():
    doc = feature_collection([square_4547(*ZHONGSHANGANG, 100)])  # metres, but no crs member
    with pytest.raises(InputError) as e:
        parse_geojson_parcels(json.dumps(doc))
    assert e.value.code in ("outside_work_area", "invalid_geojson")

import json
import shutil

import geopandas as gpd
import pytest
import shapely

from gisapp.analysis.overlap import analyse, control_from_frame, run_overlap
from gisapp.analysis.parcels import parse_geojson_parcels
from gisapp.core import paths
from gisapp.core.crs import PROJECTED, WGS84
from gisapp.core.errors import InputError
from gisapp.store.layerstore import LayerMeta, LayerStore, read_layer, write_layer
from tests.helpers import ZHONGSHANGANG, feature_collection, square_4547


@pytest.fixture(scope="module")
def towns():
    return read_layer("zs-towns")


def _block():
    return gpd.GeoDataFrame({"block_id": ["B1"]}, geometry=[square_4547(*ZHONGSHANGANG, 1000)], crs=PROJECTED)


@pytest.fixture(scope="module")
def block_store(tmp_path_factory):
    """A store holding the towns and the 1000 m block ``B1`` as layer ``test-b1`` (stored with 7 decimals, ~1 cm)."""
    d = tmp_path_factory.mktemp("layers")
    for name in ("zs-towns.geojson", "zs-towns.meta.json"):
        shutil.copy(paths.layers_dir() / name, d / name)
    meta = LayerMeta(
        id="test-b1",
        title="测试区块",
        title_en="test block",
        kind="control_line",
        geometry_type="Polygon",
        source="tests/test_overlap.py",
        licence="test",
        datum="WGS 84",
        geometry_basis="official",
        description="test layer",
    )
    write_layer(_block(), meta, d)
    return LayerStore(d)


def _three_parcels() -> dict:
    inside = square_4547(*ZHONGSHANGANG, 100, dx=100, dy=100)  # 1 ha, fully inside
    half = square_4547(*ZHONGSHANGANG, 200, dx=900, dy=100)  # 4 ha, half inside
    outside = square_4547(*ZHONGSHANGANG, 100, dx=2000)
    return feature_collection(
        [inside, half, outside],
        crs="EPSG:4547",
        props=[{"parcel_id": "in"}, {"parcel_id": "half"}, {"parcel_id": "out"}],
    )


def test_hand_computed_overlaps_in_epsg_4547(towns):
    parsed = parse_geojson_parcels(json.dumps(_three_parcels()))
    assert parsed.crs == "EPSG:4547"
    analysis = analyse(parsed.parcels, [control_from_frame(_block(), "block")], control_from_frame(towns, "towns"))
    r = analysis.frame(crs=None).set_index("parcel_id")
    summary = analysis.summary(analysis.targets[0])
    assert r.loc["in", "overlap_m2"] == pytest.approx(10_000, abs=0.05)
    assert r.loc["in", "overlap_pct"] == pytest.approx(100, abs=1e-3)
    assert r.loc["in", "overlap_mu"] == pytest.approx(15.0, abs=1e-3)
    assert r.loc["half", "overlap_m2"] == pytest.approx(20_000, abs=0.05)
    assert r.loc["half", "overlap_pct"] == pytest.approx(50, abs=1e-3)
    assert r.loc["out", "overlap_m2"] == 0 and r.loc["out", "features"] == ""
    assert r.loc["in", "features"] == "B1" and r.loc["in", "towns"] == "中山港街道"
    assert summary["parcel_count"] == 3 and summary["overlapping_count"] == 2
    assert summary["overlap_m2"] == pytest.approx(30_000, abs=0.1)
    assert summary["features_touched"] == ["B1"]


def test_use_case_on_a_store_gives_the_hand_computed_overlaps(block_store):
    analysis, info = run_overlap(json.dumps(_three_parcels()), "p.geojson", ["test-b1"], store=block_store)
    rows = {r["parcel_id"]: r for r in analysis.records()}
    assert rows["in"]["overlap_m2"] == pytest.approx(10_000, abs=2)  # the stored block is rounded to ~1 cm
    assert rows["half"]["overlap_m2"] == pytest.approx(20_000, abs=2)
    assert rows["out"]["overlap_m2"] == 0 and rows["out"]["features"] == "" and rows["out"]["overlaps"] is False
    assert rows["in"]["features"] == "B1" and rows["in"]["towns"] == "中山港街道"
    assert info["summary"]["features_touched"] == ["B1"] and info["summary"]["overlapping_count"] == 2
    assert info["towns_layer"]["layer"] == "zs-towns" and info["control_layer"] == "test-b1"


def test_legacy_blocks_alias_is_gone(block_store):
    """``blocks``/``blocks_touched`` (first-release names of ``features``/``features_touched``) are not output."""
    analysis, info = run_overlap(json.dumps(_three_parcels()), "p.geojson", ["test-b1"], store=block_store)
    assert list(analysis.records()[0]) == [
        "parcel_id",
        "target",
        "parcel_area_m2",
        "overlap_m2",
        "overlap_ha",
        "overlap_mu",
        "overlap_km2",
        "overlap_pct",
        "features",
        "feature_names",
        "towns",
        "overlaps",
    ]
    assert list(analysis.frame().columns) == [*analysis.records()[0], "geometry"]
    assert "blocks_touched" not in info["summary"] and "features_touched" in info["summary"]


def test_same_parcel_in_4326_gives_the_same_overlap(block_store):
    parcel = square_4547(*ZHONGSHANGANG, 200, dx=900, dy=100)
    in_4326 = gpd.GeoSeries([parcel], crs=PROJECTED).to_crs(WGS84).iloc[0]
    doc_4326 = json.dumps(feature_collection([in_4326]))
    assert parse_geojson_parcels(doc_4326).crs.startswith("EPSG:4326")
    a, info = run_overlap(doc_4326, "p.geojson", ["test-b1"], store=block_store)
    b, _ = run_overlap(json.dumps(feature_collection([parcel], crs="EPSG:4547")), None, ["test-b1"], store=block_store)
    assert info["input_crs"].startswith("EPSG:4326")
    assert a.targets[0].overlap_m2[0] == pytest.approx(20_000, abs=2)
    assert a.targets[0].overlap_m2[0] == pytest.approx(b.targets[0].overlap_m2[0], abs=0.5)


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
            '{"type": "Polygon", "coordinates": [[[2.5, 13.4], [2.6, 13.4], [2.6, 13.5], [2.5, 13.4]]]}',
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


def test_undeclared_projected_coordinates_are_inferred_and_said_so():
    doc = feature_collection([square_4547(*ZHONGSHANGANG, 100)])  # metres, but no crs member
    parsed = parse_geojson_parcels(json.dumps(doc))
    assert parsed.crs == "EPSG:4547 (inferred)" and parsed.decision.how == "inferred"
    assert "推断" in parsed.decision.statement and "no crs member" in parsed.decision.source
    assert parsed.projected.area.iloc[0] == pytest.approx(10_000, abs=1e-6)


def test_swapped_lat_lon_in_geojson_is_inferred_and_said_so():
    doc = '{"type": "Polygon", "coordinates": [[[22.5, 113.4], [22.6, 113.4], [22.6, 113.5], [22.5, 113.4]]]}'
    parsed = parse_geojson_parcels(doc)
    assert parsed.crs == "EPSG:4326 (inferred, X/Y swapped)" and parsed.decision.swapped
    minx, miny, maxx, maxy = parsed.parcels.total_bounds
    assert (minx, miny, maxx, maxy) == pytest.approx((113.4, 22.5, 113.5, 22.6), abs=1e-7)


def test_threaded_chunks_equal_the_inline_run(monkeypatch):
    import numpy as np

    from gisapp.analysis import overlap as ov
    from gisapp.core import chunks

    xs, ys = np.meshgrid(np.arange(30) * 70.0, np.arange(30) * 70.0)
    x0, y0 = square_4547(*ZHONGSHANGANG, 1).bounds[:2]
    grid = shapely.box(xs.ravel() + x0 - 500, ys.ravel() + y0 - 500, xs.ravel() + x0 - 430, ys.ravel() + y0 - 430)
    control = ov.control_from_frame(_block(), "block")
    inline = ov.measure_target(grid, control, workers=1)
    monkeypatch.setattr(chunks, "CHUNK", 50)
    threaded = ov.measure_target(grid, control, workers=2)
    assert np.array_equal(inline.overlap_m2, threaded.overlap_m2)
    assert list(inline.feature_ids) == list(threaded.feature_ids)
    assert inline.overlap_m2.sum() == pytest.approx(1_000_000, abs=0.5)  # the grid covers the block


def test_overlapping_features_of_one_target_are_not_counted_twice(towns):
    outer = square_4547(*ZHONGSHANGANG, 1000)
    core = square_4547(*ZHONGSHANGANG, 200, dx=100, dy=100)  # a core inside its zone
    target = gpd.GeoDataFrame({"id": ["zone", "core"], "name": ["区", "核"]}, geometry=[outer, core], crs=PROJECTED)
    parcel = gpd.GeoDataFrame({"parcel_id": ["P"]}, geometry=[square_4547(*ZHONGSHANGANG, 300)], crs=PROJECTED)
    analysis = analyse(parcel, [control_from_frame(target, "t")], control_from_frame(towns, "towns", id_field="name"))
    t = analysis.targets[0]
    assert t.overlap_m2[0] == pytest.approx(90_000, abs=0.01)  # not 90 000 + 40 000
    assert t.feature_ids[0] == "core,zone" and t.feature_names[0] == "区、核"
    assert {f["id"]: f["area_m2"] for f in t.by_feature} == pytest.approx({"zone": 90_000, "core": 40_000}, abs=0.01)
    assert analysis.towns[0] == "中山港街道"
    rec = analysis.records()[0]
    frame = analysis.frame().drop(columns="geometry").iloc[0].to_dict()
    assert rec == {k: (v.item() if hasattr(v, "item") else v) for k, v in frame.items()}


def test_load_control_is_cached_until_the_file_changes(tmp_path, monkeypatch):
    import shutil

    from gisapp.analysis import overlap as ov
    from gisapp.core import paths
    from gisapp.store.layerstore import LayerStore

    dst = tmp_path / "layers"
    shutil.copytree(paths.layers_dir(), dst)
    store = LayerStore(dst)
    first = ov.load_control("zs-industrial-redline", store)
    assert ov.load_control("zs-industrial-redline", store) is first
    path = dst / "zs-industrial-redline.geojson"
    path.write_text(path.read_text("utf-8") + "\n", "utf-8")
    second = ov.load_control("zs-industrial-redline", store)
    assert second is not first and len(second.ids) == len(first.ids)


def test_complex_features_are_tiled_with_the_same_figures(monkeypatch, towns):
    import numpy as np

    from gisapp.analysis import overlap as ov
    from gisapp.analysis.overlap import targets

    xs, ys = np.meshgrid(np.arange(20) * 150.0, np.arange(20) * 150.0)
    x0, y0 = square_4547(*ZHONGSHANGANG, 1).bounds[:2]
    grid = shapely.box(xs.ravel() + x0 - 1500, ys.ravel() + y0 - 1500, xs.ravel() + x0 - 1400, ys.ravel() + y0 - 1400)
    whole = ov.measure_target(grid, ov.control_from_frame(towns, "towns", id_field="name"))
    monkeypatch.setattr(targets, "TILE_VERTICES", 10)
    monkeypatch.setattr(targets, "TILE_M", 500.0)
    tiled_control = ov.control_from_frame(towns, "towns", id_field="name")
    assert len(tiled_control.pieces[0]) > 3 * len(tiled_control.geometries)
    tiled = ov.measure_target(grid, tiled_control)
    assert np.allclose(whole.overlap_m2, tiled.overlap_m2, atol=1e-6)
    assert list(whole.feature_ids) == list(tiled.feature_ids)

"""GeoParquet straight from the analysis (issue 15, end-to-end speed) gives the file the usual path gives.

``gisapp overlap … -o out.parquet`` writes through :func:`gisapp.analysis.overlap.geoparquet.overlap_geoparquet`
(no GeoDataFrame); the reference is :func:`gisapp.report.overlap_report.render` of
:meth:`OverlapAnalysis.frame` (``export_frame`` → ``GeoParquetWriter``). Both must give the same
columns, values, geometry (to the last bit but the one ``numpy.round(x, 15)`` moves), orientation and
metadata. The pyarrow reader and writer (:mod:`gisapp.io.geoparquet`) must read and write what
geopandas does.
"""

from __future__ import annotations

import io
import json
import shutil

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import shapely

from gisapp.analysis.overlap import output_crs_of, run_overlap
from gisapp.analysis.overlap.geoparquet import overlap_geoparquet
from gisapp.cli import main
from gisapp.core import paths
from gisapp.io.geoparquet import export_geometries, read_geoparquet_table, rounding_is_noop
from gisapp.io.readers.parquet import read_geoparquet
from gisapp.io.writers import WRITERS, WriteOptions
from gisapp.report.overlap_report import render
from gisapp.store.layerstore import LayerStore, write_layer
from tests.fixtures.overlap import builders as b
from tests.helpers import make_meta


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    dst = tmp_path_factory.mktemp("gp") / "layers"
    shutil.copytree(paths.layers_dir(), dst)
    meta = make_meta("test-redline", "测试红线", kind="control_line", source="tests", geometry_basis="official")
    two = gpd.GeoDataFrame(
        {"block_id": ["T1", "T2"], "name": ["一号", "二号"]},
        geometry=[b.square(0, 0, 1000), b.square(1000, -100, 1200)],
        crs="EPSG:4547",
    )
    write_layer(two, meta, dst)
    return LayerStore(dst)


def _parcels() -> bytes:
    """A, B, C of the builders, plus a clockwise parcel D, E with a repeated vertex, F with a hole; an ``id`` column."""
    gdf = b.parcels_4547()
    x, y = b.ORIGIN
    extra = [
        shapely.box(x + 100, y + 100, x + 200, y + 150).reverse(),  # clockwise exterior
        shapely.Polygon(
            [(x + 300, y + 300), (x + 400, y + 300), (x + 400, y + 300), (x + 400, y + 400), (x + 300, y + 400)]
        ),
        shapely.Polygon(
            [(x + 900, y + 500), (x + 1100, y + 500), (x + 1100, y + 700), (x + 900, y + 700)],
            [
                [(x + 950, y + 550), (x + 950, y + 650), (x + 1050, y + 650), (x + 1050, y + 550)]
            ],  # hole counter-clockwise
        ),
    ]
    more = gpd.GeoDataFrame({"parcel_id": ["D", "E", "F"], "名称": ["丁", "戊", "己"]}, geometry=extra, crs="EPSG:4547")
    all_ = pd.concat([gdf, more], ignore_index=True)
    all_["id"] = [f"id-{i}" for i in range(len(all_))]
    buf = io.BytesIO()
    gpd.GeoDataFrame(all_, crs="EPSG:4547").to_parquet(buf)
    return buf.getvalue()


def _meta_without_time(table) -> dict:  # type: ignore[no-untyped-def]
    meta = {k: v for k, v in table.schema.metadata.items()}
    record = json.loads(meta.pop(b"gisapp"))
    record["export"].pop("exported_at")
    geo = json.loads(meta.pop(b"geo"))
    bbox = geo["columns"]["geometry"].pop("bbox")
    return {"record": record, "geo": geo, "bbox": np.round(bbox, 6).tolist(), **meta}


@pytest.mark.parametrize("output_crs", ["input", None, "EPSG:4326", "EPSG:4526"])
def test_fast_geoparquet_is_the_rendered_file(store, output_crs):
    analysis, info = run_overlap(_parcels(), "p.parquet", ["zs-industrial-redline", "test-redline"], store=store)
    slow = pq.read_table(
        io.BytesIO(render(analysis.frame(crs=output_crs_of(output_crs, info)), info, "parquet", store=store).body)
    )
    fast_file = overlap_geoparquet(analysis, info, store, output_crs, consume=True)
    assert fast_file is not None and len(analysis.geometries) == 0  # consumed: the geometries were released
    fast = pq.read_table(io.BytesIO(fast_file.to_bytes()))
    assert fast.schema.equals(slow.schema, check_metadata=False) and fast.num_rows == slow.num_rows == 12
    assert fast.schema.field("geometry").metadata == slow.schema.field("geometry").metadata
    columns = [c for c in fast.column_names if c != "geometry"]
    assert fast.select(columns).equals(slow.select(columns))
    assert _meta_without_time(fast) == _meta_without_time(slow)
    g_fast = shapely.from_wkb(fast.column("geometry").to_numpy(zero_copy_only=False))
    g_slow = shapely.from_wkb(slow.column("geometry").to_numpy(zero_copy_only=False))
    # same vertices in the same order, to the last bit numpy.round(x, 15) moves (the reference's rounding)
    assert (shapely.get_num_coordinates(g_fast) == shapely.get_num_coordinates(g_slow)).all()
    np.testing.assert_allclose(shapely.get_coordinates(g_fast), shapely.get_coordinates(g_slow), rtol=4e-16, atol=0)
    assert (shapely.get_num_coordinates(g_fast) == [5, 5, 5, 5, 5, 10] * 2).all()  # E's repeated vertex removed
    rings = shapely.get_rings(g_fast)
    assert shapely.is_ccw(rings).tolist() == [True] * 5 + [True, False] + [True] * 5 + [True, False]
    table = gpd.read_parquet(io.BytesIO(fast_file.to_bytes()))
    b_rows = table[table["parcel_id"] == "B"]
    assert b_rows["target"].tolist() == ["zs-industrial-redline", "test-redline"]
    assert b_rows["overlap_m2"].tolist()[1] == pytest.approx(40_000, abs=1)  # B lies in T1 ∪ T2


def test_fast_geoparquet_declines_what_it_does_not_write(store):
    analysis, info = run_overlap(_parcels(), "p.parquet", ["test-redline"], store=store)
    assert overlap_geoparquet(analysis, info, store, "EPSG:4490") is None  # relabelled CGCS2000: the usual path
    x = np.array([shapely.box(0.1, 0.1, 0.2, 0.2)])
    assert not rounding_is_noop(x, 15) and rounding_is_noop(x, 2) is False  # near 0: rounding matters
    assert rounding_is_noop(np.array([shapely.box(440_000, 2_490_000, 440_001.123, 2_490_001)]), 15)
    assert rounding_is_noop(np.array([shapely.box(113.1, 22.1, 113.2, 22.2)]), 15)
    assert not rounding_is_noop(np.array([shapely.box(113.1, 22.1, 113.2, 22.2)]), 7)
    assert not rounding_is_noop(np.array([shapely.box(-1, 22.1, 1, 22.2)]), 15)  # x spans 0


def test_export_geometries_equal_orienting_and_cleaning_everything():
    geoms = np.array(
        [
            shapely.box(0, 0, 1, 1),
            shapely.box(0, 0, 1, 1).reverse(),
            shapely.Polygon([(0, 0), (1, 0), (1, 0), (1, 1), (0, 1)]),
            shapely.Polygon([(0, 0), (0, 1), (1, 1), (1, 1), (1, 0)]),
            shapely.Polygon([(0, 0), (10, 0), (10, 10), (0, 10)], [[(1, 1), (2, 1), (2, 2), (1, 2)]]),
            shapely.MultiPolygon([shapely.box(0, 0, 1, 1).reverse(), shapely.box(2, 2, 3, 3)]),
            shapely.Polygon([(0, 0), (1e-12, 0), (1e-12, 1e-12), (0, 0)]),
            shapely.Point(1, 1),
            shapely.Polygon(),
        ],
        dtype=object,
    )
    out, broke = export_geometries(geoms)
    expected = shapely.orient_polygons(shapely.remove_repeated_points(geoms))
    assert shapely.to_wkb(out).tolist() == shapely.to_wkb(expected).tolist()
    assert not broke.any()


def test_writer_writes_what_geopandas_writes_and_reader_reads_it_back():
    gdf = gpd.GeoDataFrame(
        {"a": [1, 2, 3], "s": ["x", None, "中"]},
        geometry=[shapely.box(0, 0, 1, 1), None, shapely.Point(1, 2, 3)],
        crs="EPSG:4326",
    )[["a", "geometry", "s"]]
    gdf.attrs = {"snap_rounded": []}
    ours = pq.read_table(io.BytesIO(WRITERS["parquet"].to_bytes(gdf, WriteOptions("x", {"k": "值"}))))
    ref_buf = io.BytesIO()
    gdf.to_parquet(ref_buf, index=False)
    ref = pq.read_table(io.BytesIO(ref_buf.getvalue()))
    assert ours.equals(ref) and ours.schema.field("geometry").metadata == ref.schema.field("geometry").metadata
    meta = dict(ours.schema.metadata)
    assert json.loads(meta.pop(b"gisapp")) == {"k": "值"} and meta == ref.schema.metadata
    table = read_geoparquet_table(io.BytesIO(ref_buf.getvalue()))
    back = gpd.read_parquet(io.BytesIO(ref_buf.getvalue()))
    assert table is not None and table.crs == back.crs
    pd.testing.assert_frame_equal(table.attributes, pd.DataFrame(back.drop(columns="geometry")))
    assert shapely.to_wkb(table.geometries).tolist() == shapely.to_wkb(back.geometry.to_numpy()).tolist()


def test_reader_falls_back_to_geopandas_for_geoarrow_encoding():
    gdf = gpd.GeoDataFrame({"n": [1, 2]}, geometry=[shapely.box(0, 0, 1, 1), shapely.box(1, 1, 2, 2)], crs="EPSG:4547")
    buf = io.BytesIO()
    gdf.to_parquet(buf, geometry_encoding="geoarrow")
    assert read_geoparquet_table(io.BytesIO(buf.getvalue())) is None
    raw = read_geoparquet(buf.getvalue())
    assert raw.crs.to_epsg() == 4547 and raw.properties["n"].tolist() == [1, 2]
    assert shapely.equals(raw.geometries, gdf.geometry.to_numpy()).all()


def test_cli_parquet_to_stdout_and_file_are_the_same_table(store, tmp_path, capsysbinary, monkeypatch):
    monkeypatch.setenv("GISAPP_LAYERS_DIR", str(store.directory))
    src = tmp_path / "p.parquet"
    src.write_bytes(_parcels())
    out = tmp_path / "o.parquet"
    assert main(["overlap", str(src), "--target", "test-redline", "-o", str(out)]) == 0
    assert main(["overlap", str(src), "--target", "test-redline", "--format", "parquet"]) == 0
    piped = capsysbinary.readouterr().out
    a, c = gpd.read_parquet(out), gpd.read_parquet(io.BytesIO(piped))
    pd.testing.assert_frame_equal(a, c)
    assert a.crs.to_epsg() == 4547 and a["towns"].tolist() == ["中山港街道"] * 6


def test_sliver_parts_of_several_multipolygons_are_dropped_in_parcel_order():
    from gisapp.analysis.parcels import load_parcels

    sq = b.square
    parts = {
        "M1": [sq(0, 0, 100), sq(200, 0, 0.5), sq(300, 0, 0.4)],  # two sliver parts
        "M2": [sq(0, 200, 100), sq(200, 200, 50)],  # none
        "M3": [sq(0, 400, 0.3), sq(200, 400, 100)],  # one, first
        "M4": [sq(0, 600, 0.2), sq(200, 600, 0.1)],  # only slivers: the whole parcel goes
    }
    gdf = gpd.GeoDataFrame(
        {"parcel_id": list(parts)}, geometry=[shapely.MultiPolygon(p) for p in parts.values()], crs="EPSG:4547"
    )
    buf = io.BytesIO()
    gdf.to_parquet(buf)
    parsed = load_parcels(buf.getvalue(), fmt="geoparquet")
    assert parsed.ids.tolist() == ["M1", "M2", "M3"]
    assert shapely.get_type_id(parsed.geometries).tolist() == [3, 6, 3]  # one part left: a Polygon
    assert shapely.area(parsed.geometries).round(3).tolist() == [10_000.0, 12_500.0, 10_000.0]
    assert parsed.dropped == [
        "parcel M4: 0.050 m² is a sliver (< 1 m²); dropped",
        "parcel M1: a part of 0.250 m² is a sliver (< 1 m²); part dropped",
        "parcel M1: a part of 0.160 m² is a sliver (< 1 m²); part dropped",
        "parcel M3: a part of 0.090 m² is a sliver (< 1 m²); part dropped",
    ]

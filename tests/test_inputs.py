"""Every input kind and CRS rule, with hand-computed overlaps (tests/fixtures/overlap/builders.py).

Parcels A (10 000 m² inside), B (half of 40 000 m² inside) and C (outside) against the 1000 m
block T1; where B carries a 20 m × 20 m hole inside T1, its overlap is 20 000 − 400 = 19 600 m².
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import shapely

from gisapp.analysis.overlap import analyse
from gisapp.analysis.parcels import load_parcels
from gisapp.core.errors import InputError
from gisapp.io.readers import read_input
from gisapp.io.readers.shapefile import dbf_encoding
from gisapp.io.readers.sniff import detect_format
from tests.fixtures.overlap import builders as b

HOLE = {"A": 10_000.0, "B": 19_600.0, "C": 0.0}


def _overlaps(parsed) -> dict[str, float]:
    analysis = analyse(parsed.projected, [b.target_control()])
    return dict(zip(parsed.projected["parcel_id"], analysis.targets[0].overlap_m2))


def _assert_overlaps(parsed, expected=b.EXPECTED_M2, tol=0.01):
    got = _overlaps(parsed)
    assert sorted(got) == sorted(expected)
    for pid, m2 in expected.items():
        assert got[pid] == pytest.approx(m2, abs=tol), pid


@pytest.mark.parametrize("crs", [None, "EPSG:4326", "EPSG:4490", "EPSG:4547", "EPSG:4526"])
def test_same_parcels_in_four_crss_give_the_same_overlap_to_a_hundredth(crs):
    parsed = load_parcels(b.geojson_bytes(crs))
    _assert_overlaps(parsed, tol=0.01)
    assert parsed.decision.how == ("default" if crs is None else "declared")
    assert parsed.crs == (crs or "EPSG:4326 (RFC 7946 default)")


def test_gbk_shapefile_without_cpg_decodes_chinese(tmp_path):
    data = b.zipped_shapefile(tmp_path, encoding="GBK", cpg=False)
    parsed = load_parcels(data, filename="宗地.zip")
    assert parsed.source.format == "shapefile"
    assert list(parsed.projected["名称"]) == ["工业地块一", "商业地块二", "住宅地块三"]
    assert any("GBK" in n and "no .cpg" in n for n in parsed.notes)
    assert parsed.crs == "EPSG:4547" and parsed.decision.source == ".prj"
    _assert_overlaps(parsed)


@pytest.mark.parametrize("encoding, cpg", [("UTF-8", False), ("UTF-8", True), ("GBK", True)])
def test_shapefile_encodings_with_and_without_cpg(tmp_path, encoding, cpg):
    parsed = load_parcels(b.zipped_shapefile(tmp_path, encoding=encoding, cpg=cpg))
    assert list(parsed.projected["名称"]) == ["工业地块一", "商业地块二", "住宅地块三"]
    assert any(("from the .cpg" in n) == cpg for n in parsed.notes if ".dbf encoding" in n)


def test_dbf_encoding_tries_utf8_strictly_first():
    header = bytearray(32)
    header[8:10] = (32).to_bytes(2, "little")
    assert dbf_encoding(bytes(header) + "工业".encode())[0] == "utf-8"
    assert dbf_encoding(bytes(header) + "工业".encode("gbk"))[0] == "gbk"


def test_shapefile_without_prj_is_inferred_and_said_so(tmp_path):
    parsed = load_parcels(b.zipped_shapefile(tmp_path, prj=False))
    assert parsed.crs == "EPSG:4547 (inferred)" and "推断" in parsed.decision.statement
    assert any("no .prj" in n for n in parsed.notes)
    _assert_overlaps(parsed)


def test_shapefile_without_prj_and_unknown_numbers_is_a_clear_error(tmp_path):
    shifted = b.parcels_4547()
    shifted = shifted.set_geometry(shifted.translate(-540_000.0, -2_490_000.0))  # a local 0–20 km grid
    import io
    import zipfile

    import pyogrio

    out = tmp_path / "local"
    out.mkdir()
    pyogrio.write_dataframe(shifted, out / "p.shp")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for f in out.iterdir():
            if f.suffix != ".prj":
                zf.write(f, f.name)
    with pytest.raises(InputError) as e:
        load_parcels(buf.getvalue())
    assert e.value.code == "missing_crs" and "declares no CRS" in e.value.message
    with pytest.raises(InputError) as e:
        load_parcels(b.zipped_shapefile(tmp_path, prj=False), infer=False)
    assert e.value.code == "missing_crs"


def test_geopackage_kml_and_geoparquet(tmp_path):
    gpkg = load_parcels(b.vector_file(tmp_path, "GPKG", ".gpkg", "EPSG:4490"))
    assert gpkg.source.format == "gpkg" and gpkg.crs == "EPSG:4490"
    _assert_overlaps(gpkg)
    kml = load_parcels(b.vector_file(tmp_path, "KML", ".kml", "EPSG:4326"))
    assert kml.source.format == "kml" and kml.decision.source == "KML (WGS 84 by definition)"
    _assert_overlaps(kml)
    parquet = load_parcels(b.geoparquet_bytes("EPSG:4526"))
    assert parquet.source.format == "geoparquet" and parquet.crs == "EPSG:4526"
    _assert_overlaps(parquet)


def test_dxf_polylines_and_hatch_with_hole_gbk_labels(tmp_path):
    parsed = load_parcels(b.dxf_bytes(tmp_path), filename="设计院.dxf")
    assert parsed.source.format == "dxf"
    assert list(parsed.projected["parcel_id"]) == ["地块一", "地块二", "地块三"]
    assert list(parsed.projected["dxf_entity"]) == ["LWPOLYLINE", "HATCH", "POLYLINE"]
    assert set(parsed.projected["dxf_layer"]) == {"宗地"}
    assert parsed.crs == "EPSG:4526 (inferred)"
    got = _overlaps(parsed)
    assert got == pytest.approx({"地块一": 10_000.0, "地块二": 19_600.0, "地块三": 0.0}, abs=0.01)


def test_dxf_with_wrong_code_page_is_decoded_and_reported(tmp_path):
    data = b.dxf_bytes(tmp_path).replace(b"ANSI_936", b"ANSI_1252")
    parsed = load_parcels(data)
    assert parsed.projected["parcel_id"].iloc[0] == "地块一"
    assert any("decoded as GBK" in n for n in parsed.notes)


def test_exchange_txt_in_4526_declares_its_crs_and_rings(tmp_path):
    parsed = load_parcels(b.exchange_txt_4526())
    assert parsed.source.format == "points"
    assert parsed.decision.crs == "EPSG:4526" and parsed.decision.how == "declared" and parsed.decision.swapped
    assert list(parsed.projected["地块名称"]) == ["工业地块一", "商业地块二", "住宅地块三"]
    assert len(parsed.projected.geometry.iloc[1].interiors) == 1
    _assert_overlaps(parsed, HOLE)


def test_headerless_point_list_in_4526_is_inferred_with_swap():
    parsed = load_parcels(b.point_list_csv_4526(), filename="界址点.csv")
    assert parsed.crs == "EPSG:4526 (inferred, X/Y swapped)"
    areas = sorted(shapely.area(parsed.projected.geometry.to_numpy()))
    assert areas == pytest.approx([10_000.0, 10_000.0, 40_000.0], abs=1e-6)
    got = sorted(_overlaps(parsed).values())
    assert got == pytest.approx([0.0, 10_000.0, 20_000.0], abs=0.01)


def test_point_list_with_header_ring_and_parcel_columns():
    x0, y0 = b.ORIGIN
    rows = ["宗地号,点号,圈号,X,Y"]
    for ring, (dx, dy, side) in ((1, (0, 0, 100)), (2, (40, 40, 20))):
        poly = b.square(dx, dy, side)
        for k, (x, y) in enumerate(list(poly.exterior.coords)[:-1], start=1):
            rows.append(f"Z1,J{k},{ring},{x:.3f},{y:.3f}")
    parsed = load_parcels("\n".join(rows), crs="EPSG:4547")
    assert list(parsed.projected["parcel_id"]) == ["Z1"] and parsed.decision.how == "given"
    assert parsed.projected.area.iloc[0] == pytest.approx(10_000 - 400, abs=1e-6)


def test_pasted_pairs_and_wkt():
    x0, y0 = b.ORIGIN
    pasted = f"{x0 + 100} {y0 + 100}, {x0 + 200} {y0 + 100}, {x0 + 200} {y0 + 200}, {x0 + 100} {y0 + 200}"
    parsed = load_parcels(pasted)
    assert parsed.source.format == "points" and parsed.crs == "EPSG:4547 (inferred)"
    assert _overlaps(parsed) == pytest.approx({"1": 10_000.0}, abs=0.01)
    wkt = shapely.to_wkt(b.square(900, 100, 200))
    parsed = load_parcels(wkt, crs="EPSG:4547")
    assert parsed.source.format == "text" and list(_overlaps(parsed).values()) == pytest.approx([20_000.0], abs=0.01)


def test_gcj02_pasted_coordinates_match_the_published_reference_to_half_a_metre():
    # Reference pair (Shenzhen) from googollee/eviltransform python/test.py (commit 3416646):
    # WGS 84 (22.543847, 113.912316) <-> GCJ-02 (22.540796131694766, 113.9171764808363).
    wgs = (113.912316, 22.543847)
    gcj = (113.9171764808363, 22.540796131694766)
    fwd = b.wgs_to_gcj(np.array([wgs[0]]), np.array([wgs[1]]))
    from pyproj import Geod

    geod = Geod(ellps="GRS80")
    assert geod.inv(fwd[0][0], fwd[1][0], *gcj)[2] < 0.5  # the forward formula reproduces the reference
    # a 100 m square whose SW corner is the reference point, pasted in GCJ-02 as AMap shows it
    from pyproj import Transformer

    to_m = Transformer.from_crs("EPSG:4326", "EPSG:4547", always_xy=True)
    to_ll = Transformer.from_crs("EPSG:4547", "EPSG:4326", always_xy=True)
    x, y = to_m.transform(*wgs)
    corners = [(x, y), (x + 100, y), (x + 100, y + 100), (x, y + 100)]
    lon, lat = zip(*[to_ll.transform(cx, cy) for cx, cy in corners])
    glon, glat = b.wgs_to_gcj(np.array(lon), np.array(lat))
    glon[0], glat[0] = gcj  # the published GCJ-02 value itself
    text = "\n".join(f"{a:.10f},{c:.10f}" for a, c in zip(glon, glat))
    parsed = load_parcels(text, datum="gcj02")
    assert parsed.decision.datum == "gcj02" and "GCJ-02" in parsed.decision.statement
    sw = parsed.parcels.geometry.iloc[0].exterior.coords
    dist = min(geod.inv(px, py, *wgs)[2] for px, py in sw)
    assert dist < 0.5
    assert parsed.projected.area.iloc[0] == pytest.approx(10_000, abs=1.0)
    raw = load_parcels(text)  # the same text read as WGS 84 lands ~500 m away: the datum matters
    assert raw.projected.geometry.iloc[0].distance(parsed.projected.geometry.iloc[0]) > 300


def test_bow_tie_is_repaired_and_its_overlap_hand_computed():
    x0, y0 = b.ORIGIN
    # bow-tie over [100,300]²: two triangles of 10 000 m² each, both inside T1
    ring = [
        (x0 + 100, y0 + 100),
        (x0 + 300, y0 + 300),
        (x0 + 300, y0 + 100),
        (x0 + 100, y0 + 300),
        (x0 + 100, y0 + 100),
    ]
    doc = {"type": "Polygon", "coordinates": [ring], "crs": {"type": "name", "properties": {"name": "EPSG:4547"}}}
    parsed = load_parcels(json.dumps(doc))
    assert len(parsed.repairs) == 1 and "Self-intersection" in parsed.repairs[0] and "make_valid" in parsed.repairs[0]
    assert parsed.projected.geometry.iloc[0].geom_type == "MultiPolygon"
    assert list(_overlaps(parsed).values()) == pytest.approx([20_000.0], abs=0.01)


def test_slivers_are_dropped_and_listed():
    big, tiny, speck = b.square(100, 100, 100), b.square(500, 500, 0.5), b.square(600, 600, 0.3)
    doc = {
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": "EPSG:4547"}},
        "features": [
            {
                "type": "Feature",
                "id": "P1",
                "properties": {},
                "geometry": json.loads(shapely.to_geojson(shapely.MultiPolygon([big, tiny]))),
            },
            {"type": "Feature", "id": "P2", "properties": {}, "geometry": json.loads(shapely.to_geojson(speck))},
        ],
    }
    parsed = load_parcels(json.dumps(doc))
    assert list(parsed.projected["parcel_id"]) == ["P1"]
    assert parsed.projected.area.iloc[0] == pytest.approx(10_000.0)
    assert parsed.dropped == [
        "parcel P2: 0.090 m² is a sliver (< 1 m²); dropped",
        "parcel P1: a part of 0.250 m² is a sliver (< 1 m²); part dropped",
    ]
    kept = load_parcels(json.dumps(doc), sliver_m2=0)
    assert len(kept.projected) == 2 and kept.dropped == []


@pytest.mark.parametrize(
    "data, filename, code",
    [
        (b"0\nSECTION\n2\nENTITIES\n0\nENDSEC\n0\nEOF\n", None, "no_polygons"),
        (b"PK\x03\x04garbage", None, "invalid_zip"),
        (b"abc,def\n1,2\n", None, "invalid_points"),
        (b"113.4,22.5\n113.5,22.5\n", None, "invalid_points"),
        (b"\x00\x01", "x.shp", "unsupported_format"),
        (b"garbage", "x.dwg", "unsupported_format"),
        (b"PAR1garbage", None, "unreadable_file"),
        (b"SQLite format 3\x00garbage", None, "unreadable_file"),
    ],
)
def test_bad_files_get_specific_errors(data, filename, code):
    with pytest.raises(InputError) as e:
        load_parcels(data, filename=filename)
    assert e.value.code == code and 400 <= e.value.status < 500


def test_crs_conflict_datum_misuse_and_outside():
    with pytest.raises(InputError) as e:
        load_parcels(b.geojson_bytes("EPSG:4547"), crs="EPSG:4526")
    assert e.value.code == "crs_conflict"
    with pytest.raises(InputError) as e:
        load_parcels(b.geojson_bytes("EPSG:4547"), datum="gcj02")
    assert e.value.code == "datum_needs_lonlat"
    with pytest.raises(InputError) as e:
        load_parcels(b.geojson_bytes(None), datum="mars")
    assert e.value.code == "unknown_datum"
    with pytest.raises(InputError) as e:
        load_parcels("116.39,39.90 116.40,39.90 116.40,39.91")  # Beijing
    assert e.value.code == "outside_work_area" and e.value.status == 422


def test_detect_format_and_sha256():
    assert detect_format(b'{"type":"Polygon"}') == "geojson"
    assert detect_format(b.exchange_txt_4526()) == "points"
    raw, source = read_input(b.geojson_bytes(None), filename="a.geojson")
    assert source.sha256 == __import__("hashlib").sha256(b.geojson_bytes(None)).hexdigest()
    assert source.filename == "a.geojson" and source.bytes == len(b.geojson_bytes(None)) and len(raw.geometries) == 3

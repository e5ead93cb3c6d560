"""Esri File Geodatabase in and out, and the 三调 data model (issue 15 §1).

Every geodatabase here is written by GDAL (OpenFileGDB) from synthetic frames built in code:
a 三调-style database with DLTB (地类图斑) and XZQ (行政区) feature classes, field names as in
TD/T 1057-2020《国土调查数据库标准》. Nothing is downloaded.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely

from gisapp.analysis.accounting import landuse
from gisapp.analysis.accounting.areas import ellipsoidal_m2
from gisapp.analysis.accounting.service import report
from gisapp.cli import main
from gisapp.core.crs import PROJECTED
from gisapp.core.errors import InputError
from gisapp.io import formats
from gisapp.io.readers import read_input
from gisapp.io.readers.sniff import detect_format
from gisapp.plans.towns import replace_towns
from gisapp.store.layerstore import LayerStore, read_layer, read_meta
from tests.helpers import ZHONGSHANGANG, feature_collection, square_4547

#: 三调-style 地类图斑: (BSM, DLBM, DLMC, offset of TBMJ from the computed ellipsoidal area in m²).
DLTB_ROWS = [
    ("4420000000000001", "0101", "水田", 0.0),
    ("4420000000000002", "0601", "工业用地", 12.5),
    ("4420000000000003", "0601", "工业用地", -4.0),
    ("4420000000000004", "1001", "铁路用地", 0.0),
    ("4420000000000005", "0702", "农村宅基地", 30.0),
]


def gdb_zip(layers: dict[str, gpd.GeoDataFrame], folder: str = "survey.gdb", prefix: str = "") -> bytes:
    """A zipped File Geodatabase written by GDAL with one feature class per entry of ``layers``."""
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp) / folder
        for name, gdf in layers.items():
            pyogrio.write_dataframe(gdf, d, driver="OpenFileGDB", layer=name, append=d.exists())
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for p in sorted(d.iterdir()):
                zf.write(p, f"{prefix}{folder}/{p.name}")
        return buf.getvalue()


def dltb_frame() -> gpd.GeoDataFrame:
    """Five 100 m × 100 m 图斑 near 中山港 in EPSG:4547, TBMJ = computed GRS80 area + a known offset."""
    geoms = [square_4547(*ZHONGSHANGANG, 100, dx=120 * i) for i in range(len(DLTB_ROWS))]
    computed = ellipsoidal_m2(np.array(geoms, dtype=object))
    return gpd.GeoDataFrame(
        {
            "BSM": [r[0] for r in DLTB_ROWS],
            "DLBM": [r[1] for r in DLTB_ROWS],
            "DLMC": [r[2] for r in DLTB_ROWS],
            "TBMJ": [round(float(a), 2) + r[3] for a, r in zip(computed, DLTB_ROWS)],
            "KCMJ": [0.0, 0.0, 0.0, 0.0, 150.0],
            "QSDWMC": ["中山港街道"] * 5,
            "ZLDWMC": ["中山港街道"] * 5,
        },
        geometry=geoms,
        crs=PROJECTED,
    )


def xzq_frame() -> gpd.GeoDataFrame:
    """The 23 镇街 as a 三调 XZQ layer: XZQDM (12-digit code), XZQMC; EPSG:4547, no ``name`` field."""
    towns = read_layer("zs-towns").to_crs(PROJECTED)
    return gpd.GeoDataFrame(
        {"XZQDM": towns["adcode"].astype(str).to_list(), "XZQMC": towns["name"].to_list()},
        geometry=towns.geometry.to_list(),
        crs=PROJECTED,
    )


@pytest.fixture(scope="module")
def survey() -> bytes:
    return gdb_zip({"DLTB": dltb_frame(), "XZQ": xzq_frame()})


# --------------------------------------------------------------------------- reading


def test_zipped_gdb_is_detected_and_needs_a_layer_when_several(survey):
    assert detect_format(survey, "survey.gdb.zip") == "filegdb"
    assert detect_format(survey, "whatever.zip") == "filegdb"
    with pytest.raises(InputError) as err:
        read_input(survey, "survey.gdb.zip")
    assert err.value.code == "ambiguous_layer"
    assert str(err.value) == "survey.gdb.zip has several polygon layers (DLTB, XZQ): choose one with layer="
    with pytest.raises(InputError) as err:
        read_input(survey, "survey.gdb.zip", layer="LCXZ")
    assert err.value.code == "layer_not_found" and "(layers: DLTB, XZQ)" in str(err.value)


def test_dltb_layer_reads_with_its_fields_and_crs(survey):
    raw, source = read_input(survey, "survey.gdb.zip", layer="DLTB")
    assert raw.format == "filegdb" and source.format == "filegdb"
    assert raw.crs.to_epsg() == 4547 and raw.crs_source == "FileGDB spatial reference"
    assert source.notes == ["layers read: DLTB"]
    assert raw.properties["BSM"].to_list() == [r[0] for r in DLTB_ROWS]
    assert raw.properties["DLMC"].to_list() == ["水田", "工业用地", "工业用地", "铁路用地", "农村宅基地"]
    assert len(raw.geometries) == 5 and all(g.area == pytest.approx(10_000, abs=0.01) for g in raw.geometries)


def test_gdb_without_folder_in_a_subfolder_and_with_a_table():
    # the folder's files zipped without the folder itself
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp) / "x.gdb"
        pyogrio.write_dataframe(dltb_frame(), d, driver="OpenFileGDB", layer="DLTB")
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            for p in sorted(d.iterdir()):
                zf.write(p, p.name)
            zf.writestr("readme.txt", "三调 extract")
        flat = buf.getvalue()
    assert detect_format(flat, "x.zip") == "filegdb"
    assert len(read_input(flat, "x.zip")[0].geometries) == 5
    nested = gdb_zip({"DLTB": dltb_frame()}, prefix="汇交成果/")
    assert len(read_input(nested, "x.zip")[0].geometries) == 5
    table = gpd.GeoDataFrame({"XZQDM": ["442000001000"]})
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp) / "t.gdb"
        pyogrio.write_dataframe(dltb_frame(), d, driver="OpenFileGDB", layer="DLTB")
        pyogrio.write_dataframe(table, d, driver="OpenFileGDB", layer="QSDW", append=True)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            for p in sorted(d.iterdir()):
                zf.write(p, f"t.gdb/{p.name}")
    raw, _ = read_input(buf.getvalue(), "t.gdb.zip")  # the attribute table is not a polygon layer
    assert len(raw.geometries) == 5


def test_overlap_api_and_cli_read_a_gdb(client, survey, tmp_path, capsys):
    r = client.post(
        "/api/overlap?layer=DLTB&target=zs-towns",
        data={"file": (io.BytesIO(survey), "survey.gdb.zip")},
        content_type="multipart/form-data",
    )
    assert r.status_code == 200, r.json
    assert r.json["input"]["format"] == "filegdb" and r.json["summary"]["parcel_count"] == 5
    path = tmp_path / "dltb.gdb.zip"
    path.write_bytes(gdb_zip({"DLTB": dltb_frame()}))
    assert main(["overlap", str(path), "--target", "zs-towns", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["summary"]["parcel_count"] == 5 and doc["input"]["format"] == "filegdb"
    path.write_bytes(survey)
    assert main(["overlap", str(path)]) == 2
    assert "choose one with layer=" in capsys.readouterr().err
    # an unzipped .gdb folder is read the same way (zipped in memory, then the upload's checks)
    folder = tmp_path / "unzipped" / "dltb.gdb"
    folder.parent.mkdir()
    with zipfile.ZipFile(io.BytesIO(gdb_zip({"DLTB": dltb_frame()}))) as zf:
        zf.extractall(folder.parent)
    found = [p for p in folder.parent.rglob("*.gdb") if p.is_dir()]
    assert len(found) == 1
    assert main(["overlap", str(found[0]), "--target", "zs-towns", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["summary"]["parcel_count"] == 5 and doc["input"]["format"] == "filegdb"


# --------------------------------------------------------------------------- writing


def test_export_zs_towns_as_gdb_round_trips(tmp_path):
    src, meta = read_layer("zs-towns"), read_meta("zs-towns")
    result = formats.export_frame(src, meta, "gdb", "EPSG:4547")
    assert result.filename == "zs-towns_epsg4547.gdb.zip"
    with zipfile.ZipFile(io.BytesIO(result.data)) as zf:
        names = zf.namelist()
    assert all(n.startswith("zs-towns_epsg4547.gdb/") for n in names) and "zs-towns_epsg4547.gdb/gdb" in names
    path = tmp_path / result.filename
    path.write_bytes(result.data)
    target = f"/vsizip/{path}/zs-towns_epsg4547.gdb"
    assert [str(n) for n, _ in pyogrio.list_layers(target)] == ["zs_towns_epsg4547"]
    assert result.metadata["export"]["layers"] == ["zs_towns_epsg4547"]
    got = pyogrio.read_dataframe(target)
    assert got.crs.to_epsg() == 4547 and len(got) == 23
    ref = src.to_crs(PROJECTED)
    assert got["name"].to_list() == ref["name"].to_list()
    assert "石岐街道" in got["name"].to_list() and "小榄镇" in got["name"].to_list()
    assert got["adcode"].astype(str).to_list() == ref["adcode"].astype(str).to_list()
    for a, b in zip(got.geometry, ref.geometry):
        assert shapely.hausdorff_distance(a, b) < 0.01
    assert pyogrio.read_info(target)["layer_metadata"]["ALIAS_NAME"] == meta.title
    # the upload reader reads our own export back
    raw, _ = read_input(result.data, result.filename)
    assert sorted(raw.properties["name"]) == sorted(ref["name"])


@pytest.mark.skipif(shutil.which("ogrinfo") is None, reason="ogrinfo not installed (Debian package gdal-bin)")
def test_ogrinfo_reads_the_gdb_export(tmp_path):
    result = formats.export_frame(read_layer("zs-towns"), read_meta("zs-towns"), "gdb", "EPSG:4326")
    path = tmp_path / result.filename
    path.write_bytes(result.data)
    out = subprocess.run(
        ["ogrinfo", "-ro", "-al", f"/vsizip/{path}/zs-towns.gdb", "-where", "name = '石岐街道'"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert "using driver `OpenFileGDB' successful" in out or "OpenFileGDB" in out or "Layer name: zs_towns" in out
    assert "Feature Count: 1" in out and "name (String) = 石岐街道" in out


def test_mixed_geometries_become_one_feature_class_per_family(tmp_path):
    src, meta = read_layer("zs-services-detail"), read_meta("zs-services-detail")
    result = formats.export_frame(src, meta, "gdb", "EPSG:4326")
    path = tmp_path / result.filename
    path.write_bytes(result.data)
    target = f"/vsizip/{path}/zs-services-detail.gdb"
    layers = {str(n): str(t) for n, t in pyogrio.list_layers(target)}
    assert layers == {"zs_services_detail": "MultiPolygon", "zs_services_detail_point": "Point"}
    polys = src.geom_type.str.contains("Polygon").sum()
    assert len(pyogrio.read_dataframe(target, layer="zs_services_detail")) == polys
    assert len(pyogrio.read_dataframe(target, layer="zs_services_detail_point")) == len(src) - polys
    assert result.metadata["export"]["field_names"] == {"group": "group_"} or "group" not in src.columns


def test_gdb_on_every_output_path(client):
    r = client.get("/api/export/zs-towns?format=gdb&crs=EPSG:4547&where=kind=town")
    assert r.status_code == 200 and r.mimetype == "application/zip"
    assert 'filename="zs-towns_epsg4547.gdb.zip"' in r.headers["Content-Disposition"]
    assert len(read_input(r.data, "x.gdb.zip")[0].geometries) == 15
    body = feature_collection([square_4547(*ZHONGSHANGANG, 100)], crs="EPSG:4547", props=[{"parcel_id": "P1"}])
    r = client.post("/api/overlap?format=gdb", data=json.dumps(body))
    assert r.status_code == 200 and r.headers["Content-Disposition"] == 'attachment; filename="overlap.gdb.zip"'
    raw, _ = read_input(r.data, "overlap.gdb.zip")
    assert raw.properties["parcel_id"].to_list() == ["P1"]
    r = client.get("/ogc/collections/zs-towns/items?f=gdb&limit=2")
    assert r.status_code == 200 and r.mimetype == "application/zip"
    assert len(read_input(r.data, "items.gdb.zip")[0].geometries) == 2


# --------------------------------------------------------------------------- 三调 data model


def test_towns_replace_takes_a_sandiao_xzq_layer_without_field_names(tmp_path, survey):
    path = tmp_path / "zhongshan-sandiao.gdb.zip"
    path.write_bytes(survey)  # DLTB and XZQ: the XZQ feature class is chosen
    gdf, meta = replace_towns(path)
    assert len(gdf) == 23 and gdf["geometry_basis"].unique().tolist() == ["official"]
    assert "石岐街道" in gdf["name"].to_list()
    assert meta.description == "Official 镇街 layer read from zhongshan-sandiao.gdb.zip (field 'XZQMC')."
    # the 12-digit XZQDM identifies a unit even when XZQMC writes it otherwise
    xzq = xzq_frame()
    xzq.loc[xzq["XZQMC"] == "石岐街道", "XZQMC"] = "石岐街道办事处"
    folder = tmp_path / "zs.gdb"
    pyogrio.write_dataframe(xzq, folder, driver="OpenFileGDB", layer="XZQ")
    gdf, _ = replace_towns(folder)  # an unzipped .gdb folder
    assert sorted(gdf["name"]) == sorted(read_layer("zs-towns")["name"])
    xzq = xzq.drop(columns=["XZQDM"])
    plain = tmp_path / "xzq.gpkg"
    xzq.to_file(plain, driver="GPKG")
    with pytest.raises(InputError) as err:
        replace_towns(plain)
    assert err.value.code == "unknown_towns" and "石岐街道办事处" in str(err.value)


def test_dltb_accounting_defaults_to_dlbm_and_reports_tbmj(tmp_path):
    frame = dltb_frame()
    assert landuse.dltb_fields(frame.columns) == landuse.DltbFields("DLBM", "TBMJ", "KCMJ", "BSM")
    assert landuse.resolve_class_field(frame.columns, None, None) == ("DLBM", "gbt21010-2017")
    assert landuse.resolve_class_field(frame.columns, "DLMC", None) == ("DLMC", None)
    path = tmp_path / "dltb.gdb.zip"
    path.write_bytes(gdb_zip({"DLTB": frame, "XZQ": xzq_frame()}))
    line = feature_collection([square_4547(*ZHONGSHANGANG, 1000, dx=-50, dy=-50)], crs="EPSG:4547")
    line["features"][0]["properties"] = {"block_id": "B1", "tier": "一级"}
    r = report(
        "zhongshan-industrial-redline",
        store=LayerStore(Path("layers")),
        line=json.dumps(line),
        landuse_data=path,
        structure_id="",
    )
    lu = r["landuse"]
    assert lu["class_field"] == "DLBM" and lu["dictionary"]["id"] == "gbt21010-2017"
    assert lu["feature_count"] == 5
    assert lu["industrial"]["inside_ha"] == pytest.approx(2.0, abs=0.001)  # the two 0601, not 1001 铁路用地
    off = lu["official_area"]
    assert off["area_field"] == "TBMJ" and off["deduction_field"] == "KCMJ" and off["missing_count"] == 0
    assert off["standard"].startswith("TD/T 1057-2020")
    assert off["difference_m2"] == pytest.approx(12.5 - 4.0 + 30.0, abs=0.03)
    assert off["deduction_m2"] == 150.0
    by_code = {row["code"]: row for row in off["by_class"]}
    assert list(by_code) == ["0101", "0601", "0702", "1001"]
    assert by_code["0601"]["feature_count"] == 2 and by_code["0601"]["difference_m2"] == pytest.approx(8.5, abs=0.02)
    assert by_code["0101"]["difference_m2"] == pytest.approx(0, abs=0.01)
    assert by_code["0702"]["name"] == "农村宅基地"
    assert by_code["0702"]["difference_pct"] == pytest.approx(30 / by_code["0702"]["ellipsoidal_m2"] * 100, abs=1e-3)
    assert [row["bsm"] for row in off["largest_differences"]][:2] == ["4420000000000005", "4420000000000002"]
    # 100 m × 100 m in EPSG:4547 near CM 114E: the GRS80 area is within 0.1 % of the planar one
    assert by_code["0101"]["ellipsoidal_m2"] == pytest.approx(10_000, rel=1e-3)


def test_non_dltb_layers_keep_their_keys_and_still_need_a_class_field(client):
    lu = feature_collection([square_4547(*ZHONGSHANGANG, 1000, dy=500)], crs="EPSG:4547", props=[{"DLBM": "100102"}])
    r = client.post("/api/accounting/report", json={"landuse": lu, "class_field": "DLBM"})
    assert r.status_code == 200 and "official_area" not in r.json["landuse"]
    r = client.post("/api/accounting/report", json={"landuse": lu})
    assert r.status_code == 400 and r.json["error"] == "missing_field"
    lu["features"][0]["properties"]["TBMJ"] = 1_000_000.0
    r = client.post("/api/accounting/report?structure=", json={"landuse": lu})
    assert r.status_code == 200, r.json
    assert r.json["landuse"]["class_field"] == "DLBM" and r.json["landuse"]["dictionary"]["id"] == "gbt21010-2017"
    assert r.json["landuse"]["official_area"]["official_m2"] == 1_000_000.0


def test_accounting_report_over_http_takes_a_zipped_sandiao_gdb(client):
    """A multipart upload of a 三调 FileGDB (DLTB + XZQ): its DLTB layer is read, TBMJ reported."""
    line = feature_collection([square_4547(*ZHONGSHANGANG, 1000, dx=-50, dy=-50)], crs="EPSG:4547")
    line["features"][0]["properties"] = {"block_id": "B1", "tier": "一级"}
    data = {
        "landuse": (io.BytesIO(gdb_zip({"DLTB": dltb_frame(), "XZQ": xzq_frame()})), "survey.gdb.zip"),
        "line": (io.BytesIO(json.dumps(line).encode()), "line.geojson"),
        "progress": "{}",
    }
    r = client.post("/api/accounting/report?structure=", data=data, content_type="multipart/form-data")
    assert r.status_code == 200, r.json
    lu = r.json["landuse"]
    assert lu["class_field"] == "DLBM" and lu["feature_count"] == 5
    assert lu["industrial"]["inside_ha"] == pytest.approx(2.0, abs=0.001)
    assert lu["official_area"]["difference_m2"] == pytest.approx(12.5 - 4.0 + 30.0, abs=0.03)
    assert r.json["source_line"] == "supplied file" and r.json["layer"] == "line.geojson"
    # the same upload with industrial codes as a form field: 1001 (铁路用地 in GB/T 21010) counts now
    data["landuse"] = (io.BytesIO(gdb_zip({"DLTB": dltb_frame(), "XZQ": xzq_frame()})), "survey.gdb.zip")
    data["line"] = (io.BytesIO(json.dumps(line).encode()), "line.geojson")
    data["industrial_codes"] = "0601,1001"
    r = client.post("/api/accounting/report?structure=", data=data, content_type="multipart/form-data")
    assert r.status_code == 200 and r.json["landuse"]["industrial"]["inside_ha"] > 2.0


def test_accounting_report_upload_errors_are_json(client):
    r = client.post(
        "/api/accounting/report",
        data={"landuse": (io.BytesIO(b"PK\x03\x04not a zip"), "x.gdb.zip")},
        content_type="multipart/form-data",
    )
    assert r.status_code in (400, 415, 422) and r.is_json and r.json["error"] in ("invalid_zip", "unreadable_file")
    r = client.post(
        "/api/accounting/report",
        data={"parcels": (io.BytesIO(b"{}"), "x.geojson")},
        content_type="multipart/form-data",
    )
    assert r.status_code == 400 and r.json["error"] == "invalid_parameter"
    r = client.post("/api/accounting/report", data={"progress": "{not json"}, content_type="multipart/form-data")
    assert r.status_code == 400 and r.is_json

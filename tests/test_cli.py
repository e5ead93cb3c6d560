import json
import shutil

import pytest

from gisapp.cli import main
from gisapp.core import paths
from gisapp.store.layerstore import read_layer, read_meta
from tests.helpers import ZHONGSHANGANG, feature_collection, square_4547


@pytest.fixture()
def store(tmp_path, monkeypatch):
    """A copy of the bundled layer store the test may change."""
    dst = tmp_path / "layers"
    shutil.copytree(paths.layers_dir(), dst)
    monkeypatch.setenv("GISAPP_LAYERS_DIR", str(dst))
    return dst


def test_layers_and_export(capsys):
    assert main(["layers"]) == 0
    assert "zs-towns" in capsys.readouterr().out
    assert main(["export", "zs-services-structure"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert len(doc["features"]) == 6 and "crs" not in doc


def test_metrics_table_and_csv(capsys, tmp_path):
    assert main(["metrics", "zs-industrial-redline"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("示意数据 ILLUSTRATIVE") and "ZS-IL-01" in out
    target = tmp_path / "m.csv"
    assert main(["metrics", "zs-towns", "--format", "csv", "--bom", "-o", str(target)]) == 0
    assert target.read_text("utf-8").startswith("\ufeffid,")


def test_redline_report_prints_target_and_shortfall(capsys):
    assert main(["redline", "report"]) == 0
    out = capsys.readouterr().out
    assert "划定不少于250平方公里的工业用地保护红线" in out and "shortfall" in out and "ILLUSTRATIVE" in out
    assert "西北部生产性服务业标杆区" in out


def test_overlap_cli(capsys, tmp_path):
    path = tmp_path / "p.geojson"
    path.write_text(json.dumps(feature_collection([square_4547(*ZHONGSHANGANG, 100, dx=-50, dy=-50)], crs="EPSG:4547")))
    assert main(["overlap", str(path), "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("parcel_id,") and ",10000.0," in lines[1]


def test_bad_input_exits_2_with_one_line(capsys, tmp_path):
    bad = tmp_path / "bad.geojson"
    bad.write_text("{")
    assert main(["overlap", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("gisapp: error: not valid JSON") and err.count("\n") == 1
    assert main(["overlap", str(tmp_path / "missing.geojson")]) == 2
    assert main(["metrics", "nope"]) == 2


def test_towns_check_passes_on_bundled_data(capsys):
    assert main(["towns", "check"]) == 0
    assert "seats outside their cell: none" in capsys.readouterr().out


def test_towns_replace_rebuilds_structures(store, tmp_path, capsys):
    official = read_layer("zs-towns")[["name", "geometry"]].to_crs("EPSG:4547")
    src = tmp_path / "official.gpkg"
    official.to_file(src, driver="GPKG")
    assert main(["towns", "replace", str(src)]) == 0
    assert read_meta("zs-towns").geometry_basis == "official"
    structure = read_layer("zs-services-structure").set_index("name")
    assert structure.loc["西北部生产性服务业标杆区", "geometry_basis"] == "official"
    assert "zs-services-structure" in capsys.readouterr().out


def test_redline_import_replaces_the_illustrative_layer(store, tmp_path, capsys):
    import geopandas as gpd

    blocks = gpd.GeoDataFrame(
        {"BH": ["A1", "A2"], "JB": ["一级", "二级"]},
        geometry=[square_4547(*ZHONGSHANGANG, 1000), square_4547(113.25, 22.67, 1000)],
        crs="EPSG:4547",
    )
    src = tmp_path / "redline.gpkg"
    blocks.to_file(src, driver="GPKG")
    assert main(["redline", "import", str(src), "--id-field", "BH", "--tier-field", "JB"]) == 0
    assert read_meta("zs-industrial-redline").geometry_basis == "official"
    capsys.readouterr()
    assert main(["redline", "report", "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["illustrative"] is False and report["total"]["planar_km2"] == pytest.approx(2.0, abs=1e-4)
    assert {t["tier"] for t in report["tiers"]} >= {"一级", "二级"}
    assert main(["redline", "import", str(src), "--id-field", "NOPE"]) == 2


def test_overlap_geoparquet_keeps_the_input_crs_unless_asked(tmp_path, capsys):
    import geopandas as gpd

    src = tmp_path / "p.geojson"
    src.write_text(json.dumps(feature_collection([square_4547(*ZHONGSHANGANG, 100, dx=-50, dy=-50)], crs="EPSG:4547")))
    out = tmp_path / "o.parquet"
    assert main(["overlap", str(src), "-o", str(out)]) == 0
    same = gpd.read_parquet(out)
    assert same.crs.to_epsg() == 4547 and same["overlap_m2"].iloc[0] == pytest.approx(10_000, abs=0.1)
    assert same.geometry.iloc[0].area == pytest.approx(10_000, abs=0.01)
    assert main(["overlap", str(src), "-o", str(out), "--output-crs", "EPSG:4326"]) == 0
    assert gpd.read_parquet(out).crs.to_epsg() == 4326
    assert main(["overlap", str(src), "-o", str(out), "--output-crs", "EPSG:999999"]) == 2


def test_overlap_csv_file_gets_its_field_types_and_crs_beside_it(tmp_path, capsys):
    """``gisapp overlap -o out.csv`` writes ``out.csvt`` and ``out.prj`` as ``gisapp export`` does, so GDAL and
    QGIS open the CSV with its types and CRS (before: a bare CSV)."""
    import pyogrio

    src = tmp_path / "p.geojson"
    src.write_text(json.dumps(feature_collection([square_4547(*ZHONGSHANGANG, 100, dx=-50, dy=-50)], crs="EPSG:4547")))
    out = tmp_path / "o.csv"
    assert main(["overlap", str(src), "-o", str(out), "--output-crs", "EPSG:4547"]) == 0
    assert out.with_suffix(".prj").read_text().startswith('PROJCS["CGCS2000 / 3-degree Gauss-Kruger CM 114E"')
    types = out.with_suffix(".csvt").read_text().strip().split(",")
    header = out.read_text("utf-8").splitlines()[0].split(",")
    assert len(types) == len(header) and types[-1] == '"WKT"' and types[header.index("overlap_m2")] == '"Real"'
    info = pyogrio.read_info(out)
    assert info["crs"] == "EPSG:4547" and info["features"] == 1

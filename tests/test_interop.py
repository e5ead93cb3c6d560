"""Client defects of issue 15 (QGIS 3.22, GDAL 3.6, schemathesis): each test failed before its fix.

The real clients run in tests/test_qgis.py (headless QGIS) and tests/test_schemathesis.py; these are
the fast checks through the app and the writers.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import struct
import subprocess
import zipfile
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
import shapely
from pyproj import CRS

from gisapp.cli import main
from gisapp.io import formats
from gisapp.io.writers import WRITERS
from gisapp.store import layercheck
from tests.helpers import BUNDLED

FAMILIES = {
    "Polygon": "polygon",
    "MultiPolygon": "polygon",
    "LineString": "line",
    "MultiLineString": "line",
    "Point": "point",
    "MultiPoint": "point",
}


def _read_export(result: formats.ExportResult, fmt: str, tmp_path: Path) -> gpd.GeoDataFrame:
    """Read an export back as GDAL does (GeoParquet with pyarrow); a CSV with its .csvt/.prj beside it."""
    path = tmp_path / result.filename
    path.write_bytes(result.data)
    for name, suffix in result.sidecar_names().items():
        (tmp_path / name).write_bytes(result.sidecars[suffix])
    if fmt == "parquet":
        return gpd.read_parquet(path)
    if fmt == "shp":
        return pyogrio.read_dataframe(f"/vsizip/{path}")
    if fmt == "gdb":
        return pyogrio.read_dataframe(f"/vsizip/{path}/{path.name.removesuffix('.gdb.zip')}.gdb")
    return pyogrio.read_dataframe(path)


def test_every_ogc_collection_has_one_geometry_type_and_mixed_layers_are_complete(client):
    """QGIS 3.22 gives an OAPIF layer one geometry type: gz-services-structure showed 8 polygons, not its 93 points."""
    collections = client.get("/ogc/collections?f=json").json["collections"]
    served: dict[str, int] = {}
    for c in collections:
        page = client.get(f"/ogc/collections/{c['id']}/items?f=json&limit=1000").json
        kinds = {FAMILIES[f["geometry"]["type"]] for f in page["features"]}
        assert len(kinds) == 1, (c["id"], kinds)
        layer = re.sub(r"-(polygons|lines|points)$", "", c["id"])
        served[layer] = served.get(layer, 0) + page["numberMatched"]
    assert served == {m.id: len(BUNDLED.frame(m.id)) for m in BUNDLED.list()}
    ids = {c["id"] for c in collections}
    assert {"gz-services-structure-polygons", "gz-services-structure-points"} <= ids
    assert {"zs-services-detail-polygons", "zs-services-detail-points"} <= ids
    points = client.get("/ogc/collections/gz-services-structure-points/items?limit=1000").json
    assert points["numberMatched"] == 93
    one = points["features"][0]["id"]
    assert client.get(f"/ogc/collections/gz-services-structure-points/items/{one}").status_code == 200
    assert client.get(f"/ogc/collections/gz-services-structure-polygons/items/{one}").status_code == 404
    r = client.get("/ogc/collections/gz-services-structure-points/items?f=gpkg&limit=1000")
    assert r.status_code == 200 and 'filename="gz-services-structure-points.gpkg"' in r.headers["Content-Disposition"]
    assert len(pyogrio.read_dataframe(io.BytesIO(r.data))) == 93


@pytest.mark.parametrize("crs", list(formats.OUTPUT_CRS))
def test_every_export_is_valid_in_every_format_and_crs(crs, tmp_path):
    """Plain rounding made polygons self-intersect (南头镇 and others at 2–3 decimals); snap rounding keeps them valid."""
    out_crs = formats.OUTPUT_CRS[crs]
    src, meta = BUNDLED.frame("zs-towns"), BUNDLED.meta("zs-towns")
    coarse = 3 if out_crs.geographic else 0  # where plain rounding broke polygons (and 0 decimals crashed GEOS)
    for precision in (None, coarse):
        for writer in WRITERS.values():
            if writer.lonlat_only and not out_crs.geographic:
                continue
            result = formats.export_frame(src, meta, writer, crs, precision=precision)
            got = _read_export(result, writer.key, tmp_path)
            invalid = [shapely.is_valid_reason(g) for g in got.geometry if not shapely.is_valid(g)]
            assert invalid == [], (writer.key, precision)
            assert len(got) == 23
            assert result.metadata["export"].get("repaired_geometries") is None  # KML had to repair before


def test_too_few_decimals_is_a_4xx_not_a_server_error(client):
    for url in ("/api/export/zs-towns?precision=0", "/api/export/zs-towns?precision=1&crs=bd09"):
        r = client.get(url)
        assert r.status_code == 400 and r.json["error"] == "invalid_precision", url
        assert "too few" in r.json["message"]
    assert client.get("/api/export/zs-towns?precision=0&crs=EPSG:4547").status_code == 200  # 1 m in metres


def test_items_are_served_as_geojson(client):
    for path in ("/ogc/collections/zs-towns/items", "/ogc/collections/zs-towns/items/zs-town-1795060"):
        for query in ("", "?f=json"):
            r = client.get(path + query)
            assert r.status_code == 200 and r.headers["Content-Type"] == "application/geo+json", path + query
    assert client.get("/ogc/collections/zs-towns/items?f=html").mimetype == "text/html"
    assert client.get("/ogc/collections/zs-towns").headers["Content-Type"] == "application/json"


def test_every_landing_page_link_answers(client):
    for fmt in ("json", "html"):
        r = client.get(f"/ogc/?f={fmt}")
        text = r.get_data(as_text=True)
        links = [link["href"] for link in r.json["links"]] if fmt == "json" else re.findall(r'href="([^"]+)"', text)
        local = {h.replace("http://localhost", "") for h in links if h.startswith("http://localhost/ogc")}
        assert local and not any(re.search(r"/(processes|jobs|TileMatrixSets)\b", h) for h in local)
        for href in local:
            assert client.get(href.replace("&amp;", "&"), follow_redirects=True).status_code == 200, href


def test_openapi_is_self_contained(client):
    doc = client.get("/ogc/openapi?f=json").json
    refs: list[str] = []

    def walk(node):  # type: ignore[no-untyped-def]
        if isinstance(node, dict):
            refs.extend([node["$ref"]] if isinstance(node.get("$ref"), str) else [])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(doc)
    assert len(refs) > 100 and [r for r in refs if not r.startswith("#/")] == []
    for ref in set(refs):  # every local reference resolves
        node = doc
        for part in ref[2:].split("/"):
            node = node[part]
    assert not any(p.startswith(("/jobs", "/processes")) for p in doc["paths"])
    features = doc["components"]["responses"]["Features"]["content"]
    assert "application/geo+json" in features


def test_geopackage_is_version_1_2(tmp_path):
    """GDAL writes GeoPackage 1.4 by default; GDAL 3.6 (Debian 12, QGIS 3.22) warns on every open of one."""
    result = formats.export_frame(BUNDLED.frame("zs-towns"), BUNDLED.meta("zs-towns"), "gpkg", "EPSG:4547")
    assert result.data[68:72] == b"GPKG" and struct.unpack(">i", result.data[60:64])[0] == 10200
    if shutil.which("ogrinfo"):  # Debian's GDAL 3.6 opens it without a warning
        path = tmp_path / result.filename
        path.write_bytes(result.data)
        run = subprocess.run(["ogrinfo", "-ro", "-so", "-al", str(path)], capture_output=True, text=True, timeout=60)
        assert run.returncode == 0 and "Warning" not in run.stderr and "Feature Count: 23" in run.stdout


def test_gbk_and_utf8_downloads_have_different_names(client):
    names = {}
    for enc in ("utf-8", "gbk"):
        for fmt in ("shp", "csv"):
            r = client.get(f"/api/export/zs-towns?format={fmt}&encoding={enc}")
            assert r.status_code == 200
            names[fmt, enc] = re.search(r'filename="([^"]+)"', r.headers["Content-Disposition"]).group(1)
    assert names == {
        ("shp", "utf-8"): "zs-towns.shp.zip",
        ("shp", "gbk"): "zs-towns_gbk.shp.zip",
        ("csv", "utf-8"): "zs-towns_epsg4326.csv.zip",
        ("csv", "gbk"): "zs-towns_epsg4326_gbk.csv.zip",
    }


def test_csv_carries_its_crs_and_field_types(client, tmp_path):
    """A CSV download is a zip with .csvt (field types) and .prj (CRS), which GDAL (and QGIS) read."""
    r = client.get("/api/export/zs-towns?format=csv&crs=EPSG:4547")
    assert r.status_code == 200 and r.mimetype == "application/zip"
    with zipfile.ZipFile(io.BytesIO(r.data)) as zf:
        assert sorted(zf.namelist()) == [
            "zs-towns_epsg4547.csv",
            "zs-towns_epsg4547.csvt",
            "zs-towns_epsg4547.meta.json",
            "zs-towns_epsg4547.prj",
        ]
        zf.extractall(tmp_path)
        assert json.loads(zf.read("zs-towns_epsg4547.meta.json"))["export"]["crs"] == "EPSG:4547"
    info = pyogrio.read_info(tmp_path / "zs-towns_epsg4547.csv")
    assert CRS(info["crs"]).to_epsg() == 4547 and info["features"] == 23
    types = dict(zip(info["fields"], info["dtypes"]))
    assert types["official_area_km2"] == "float64" and types["name"] == "object"
    got = pyogrio.read_dataframe(tmp_path / "zs-towns_epsg4547.csv")
    assert len(got) == 23 and got.geometry.geom_type.eq("Polygon").all()


def test_redline_import_reads_geoparquet(tmp_path, capsys):
    """``gisapp redline import x.parquet`` failed: "libduckdb.so: cannot open shared object file" (GDAL's plugin)."""
    src = BUNDLED.frame("zs-industrial-redline")
    path = tmp_path / "redline.parquet"
    src.to_parquet(path)
    got = layercheck.read_file(path)
    assert len(got) == len(src) and CRS(got.crs).equals(CRS(src.crs))
    store = tmp_path / "store"
    shutil.copytree(BUNDLED.directory, store)
    assert main(["redline", "import", str(path), "--store", str(store)]) == 0
    assert "official blocks imported from redline.parquet" in capsys.readouterr().out
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"PAR1 not really")
    with pytest.raises(Exception) as err:
        layercheck.read_file(bad)
    assert getattr(err.value, "code", "") == "unreadable_file"

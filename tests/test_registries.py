"""The Reader and Writer registries, and one format set on every output path (issue 14).

Every output path — ``gisapp export``, ``gisapp overlap``, ``/api/export`` and ``/api/overlap`` —
must offer exactly the formats of :data:`gisapp.io.writers.WRITERS` (the overlap paths add the
renderings of :data:`gisapp.report.overlap_report.REPORTS`), answer an unknown name with the same 400 body,
and actually produce every format it offers.
"""

from __future__ import annotations

import argparse
import io
import json
import zipfile
from pathlib import Path

import pyogrio
import pytest

from gisapp.cli import build_parser, main
from gisapp.core.errors import InputError
from gisapp.core.registry import Registry, UnknownName
from gisapp.io.readers import read_input
from gisapp.io.readers.readers import READERS, name_hints
from gisapp.io.writers import WRITERS, WriteOptions
from gisapp.report.overlap_report import REPORTS, overlap_formats
from tests.helpers import ZHONGSHANGANG, feature_collection, square_4547

WRITER_NAMES = ("geojson", "gpkg", "shp", "kml", "csv", "fgb", "parquet", "gdb")
REPORT_NAMES = ("json", "html", "pdf")
#: key → (extension, media type): the file names and Content-Types clients rely on.
WRITER_FILES = {
    "geojson": (".geojson", "application/geo+json"),
    "gpkg": (".gpkg", "application/geopackage+sqlite3"),
    "shp": (".shp.zip", "application/zip"),
    "kml": (".kml", "application/vnd.google-earth.kml+xml"),
    "csv": (".csv", "text/csv"),
    "fgb": (".fgb", "application/flatgeobuf"),
    "parquet": (".parquet", "application/vnd.apache.parquet"),
    "gdb": (".gdb.zip", "application/zip"),
}
READER_NAMES = ("geojson", "shapefile", "gpkg", "filegdb", "kml", "geoparquet", "dxf", "points", "text")
UNKNOWN_WRITER = {
    "error": "unknown_format",
    "message": "unknown format 'exe': use one of geojson, gpkg, shp, kml, csv, fgb, parquet, gdb",
    "choices": list(WRITER_NAMES),
}
UNKNOWN_OVERLAP = {
    "error": "unknown_format",
    "message": "unknown format 'exe': use one of geojson, gpkg, shp, kml, csv, fgb, parquet, gdb, json, html, pdf",
    "choices": [*WRITER_NAMES, *REPORT_NAMES],
}


def _parcels() -> bytes:
    """Two parcels in EPSG:4547 near 中山港: P1 inside the red line (10 000 m²), P2 outside."""
    doc = feature_collection(
        [square_4547(*ZHONGSHANGANG, 100, dx=-50, dy=-50), square_4547(*ZHONGSHANGANG, 100, dx=5000, dy=5000)],
        crs="EPSG:4547",
        props=[{"parcel_id": "P1"}, {"parcel_id": "P2"}],
    )
    return json.dumps(doc).encode()


def _format_option(command: str) -> argparse.Action:
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return next(a for a in sub.choices[command]._actions if "--format" in a.option_strings)


# --------------------------------------------------------------------------- the registries


def test_writer_registry_holds_every_format_with_its_extension_and_media_type():
    assert WRITERS.names() == WRITER_NAMES
    assert {k: (w.extension, w.media_type) for k, w in WRITERS.items()} == WRITER_FILES
    assert [k for k, w in WRITERS.items() if w.multi_layer] == ["gpkg", "gdb"]
    assert [k for k, w in WRITERS.items() if not w.binary] == ["geojson", "kml", "csv"]
    assert [k for k, w in WRITERS.items() if w.lonlat_only] == ["kml"]
    assert WRITERS["csv"].content_type("gbk") == "text/csv; charset=gbk"
    assert WRITERS["kml"].content_type("gbk") == "application/vnd.google-earth.kml+xml; charset=utf-8"
    assert WRITERS["gpkg"].content_type("gbk") == "application/geopackage+sqlite3"
    for alias, key in (
        ("JSON", "geojson"),
        (" shapefile ", "shp"),
        ("GeoPackage", "gpkg"),
        ("geoparquet", "parquet"),
        ("FileGDB", "gdb"),
    ):
        assert WRITERS.get_entry(alias).key == key
    assert REPORTS.names() == REPORT_NAMES and overlap_formats(documents_only=True) == ("html", "pdf")


def test_reader_registry_holds_every_input_format():
    assert READERS.names() == READER_NAMES
    assert [k for k, r in READERS.items() if r.isolate] == ["shapefile", "gpkg", "filegdb", "kml", "geoparquet", "dxf"]
    assert READERS.get_entry("GDB").key == "filegdb"
    assert name_hints() == {
        ".geojson": "geojson",
        ".json": "geojson",
        ".gpkg": "gpkg",
        ".kml": "kml",
        ".kmz": "kml",
        ".parquet": "geoparquet",
        ".geoparquet": "geoparquet",
        ".dxf": "dxf",
        ".csv": "points",
        ".txt": "points",
    }
    raw, source = read_input(_parcels(), "p.json", fmt="GeoJSON")
    assert raw.format == source.format == "geojson" and len(raw.geometries) == 2
    with pytest.raises(UnknownName) as err:
        read_input(_parcels(), fmt="dwg")
    assert err.value.code == "unknown_format" and err.value.choices == list(READER_NAMES)


def test_registry_refuses_duplicates_and_dangling_aliases():
    with pytest.raises(ValueError, match="duplicate format 'gpkg'"):
        Registry("format", [WRITERS["gpkg"], WRITERS["gpkg"]])
    with pytest.raises(ValueError, match="aliases to unknown formats"):
        Registry("format", [WRITERS["gpkg"]], aliases={"x": "nope"})
    err = WRITERS.unknown("exe")
    assert isinstance(err, InputError) and err.status == 400 and err.to_dict() == UNKNOWN_WRITER


def test_a_writer_writes_to_a_path_and_to_a_buffer(tmp_path):
    from gisapp.store.layerstore import read_layer

    towns = read_layer("zs-towns")
    options = WriteOptions("towns", {"title": "镇街"})
    WRITERS["gpkg"].write(towns, tmp_path / "t.gpkg", options)
    buf = io.BytesIO()
    WRITERS["gpkg"].write(towns, buf, options)
    assert buf.getvalue()[:16] == b"SQLite format 3\x00"
    assert [name for name, _ in pyogrio.list_layers(tmp_path / "t.gpkg")] == ["towns"]
    assert len(pyogrio.read_dataframe(tmp_path / "t.gpkg", layer="towns")) == len(towns)


# --------------------------------------------------------------------------- every path, the same set


@pytest.mark.parametrize(
    "path, offered",
    [
        ("cli export --format", WRITER_NAMES),
        ("cli overlap --format", (*WRITER_NAMES, *REPORT_NAMES)),
        ("GET /api/export/formats", WRITER_NAMES),
        ("GET /api/export/<layer>", WRITER_NAMES),
        ("POST /api/export/overlap", WRITER_NAMES),
        ("POST /api/overlap", (*WRITER_NAMES, *REPORT_NAMES)),
        ("POST /api/overlap/report", ("html", "pdf")),
    ],
)
def test_every_output_path_offers_the_registry_set(client, path, offered):
    """Each path's list of formats is the registry's, in registry order (writers, then reports)."""
    writers = set(WRITERS.names())
    assert writers <= set(offered) or path.endswith("/report")
    if path.startswith("cli"):
        metavar = _format_option(path.split()[1]).metavar
        got = tuple(metavar.strip("{}").split(","))
    elif path == "GET /api/export/formats":
        body = client.get("/api/export/formats").json
        got = tuple(f["key"] for f in body["formats"])
        assert tuple(r["key"] for r in body["overlap_reports"]) == REPORT_NAMES
        assert {f["key"]: (f["extension"], f["media_type"]) for f in body["formats"]} == WRITER_FILES
    else:
        method, url = path.split()
        url = url.replace("<layer>", "zs-towns") + "?format=exe"
        r = client.open(url, method=method, data=_parcels() if method == "POST" else None)
        assert r.status_code == 400, r.data
        got = tuple(r.json["choices"])
        assert r.json["message"] == f"unknown format 'exe': use one of {', '.join(offered)}"
    assert got == offered


def test_an_unknown_format_is_the_same_answer_everywhere(client, capsys, tmp_path):
    assert client.get("/api/export/zs-towns?format=exe").json == UNKNOWN_WRITER
    assert client.post("/api/export/overlap?format=exe", data=_parcels()).json == UNKNOWN_WRITER
    assert client.post("/api/overlap?format=exe", data=_parcels()).json == UNKNOWN_OVERLAP
    src = tmp_path / "p.geojson"
    src.write_bytes(_parcels())
    for argv, body in (
        (["export", "zs-towns", "--format", "exe"], UNKNOWN_WRITER),
        (["overlap", str(src), "--format", "exe"], UNKNOWN_OVERLAP),
    ):
        assert main(argv) == 2
        assert capsys.readouterr().err == f"gisapp: error: {body['message']}\n"


@pytest.mark.parametrize("key", WRITER_NAMES)
def test_every_path_writes_every_registered_format(client, tmp_path, key):
    """A format on offer works on each path: the layer export, both overlap exports, the CLI."""
    extension, media = WRITER_FILES[key]
    # a CSV names its CRS (it cannot hold it), and a CSV download comes zipped with its .csvt and .prj
    crs, download, zipped = ("_epsg4326", ".zip", "application/zip") if key == "csv" else ("", "", media)
    r = client.get(f"/api/export/zs-towns?format={key}")
    assert r.status_code == 200 and r.mimetype == zipped
    assert f'filename="zs-towns{crs}{extension}{download}"' in r.headers["Content-Disposition"]
    for url, suffix, mimetype in (
        (f"/api/export/overlap?format={key}", download, zipped),
        (f"/api/overlap?format={key}", "", media),
    ):
        r = client.post(url, data=_parcels())
        assert r.status_code == 200, (url, r.data[:300])
        assert r.mimetype == mimetype, url
        assert f'filename="overlap{crs}{extension}{suffix}"' in r.headers["Content-Disposition"], url
    src = tmp_path / "p.geojson"
    src.write_bytes(_parcels())
    out = tmp_path / f"result{extension}"
    assert main(["overlap", str(src), "-o", str(out)]) == 0  # format from the extension
    assert out.stat().st_size > 0
    layer_out = tmp_path / f"towns{extension}"
    assert main(["export", "zs-towns", "--format", key, "-o", str(layer_out)]) == 0 and layer_out.exists()


def test_overlap_gpkg_from_the_api_opens_with_pyogrio(client, tmp_path):
    r = client.post(
        "/api/overlap?format=gpkg&target=zs-industrial-redline&target=zs-services-structure", data=_parcels()
    )
    assert r.status_code == 200 and r.mimetype == "application/geopackage+sqlite3"
    assert r.headers["Content-Disposition"] == 'attachment; filename="overlap.gpkg"'
    path = tmp_path / "overlap.gpkg"
    path.write_bytes(r.data)
    layers = pyogrio.list_layers(path)
    assert [name for name, _ in layers] == ["overlap"]
    got = pyogrio.read_dataframe(path)
    assert len(got) == 4  # 2 parcels × 2 targets
    assert got.crs.to_epsg() == 4326
    assert sorted(zip(got["target"], got["parcel_id"])) == [
        ("zs-industrial-redline", "P1"),
        ("zs-industrial-redline", "P2"),
        ("zs-services-structure", "P1"),
        ("zs-services-structure", "P2"),
    ]
    p1 = got[(got["target"] == "zs-industrial-redline") & (got["parcel_id"] == "P1")].iloc[0]
    assert p1["overlap_m2"] == pytest.approx(10_000, abs=0.1)
    meta = pyogrio.read_info(path)["layer_metadata"]
    record = json.loads(meta["gisapp_metadata"])
    assert record["id"] == "overlap" and record["export"]["format"] == "GeoPackage"
    assert record["summary"]["parcel_count"] == 2


def test_overlap_shapefile_zip_holds_the_sidecars(client):
    r = client.post("/api/overlap?format=shp", data=_parcels())
    with zipfile.ZipFile(io.BytesIO(r.data)) as zf:
        names = sorted(zf.namelist())
    assert names == [f"overlap{ext}" for ext in (".cpg", ".dbf", ".fields.csv", ".meta.json", ".prj", ".shp", ".shx")]


def test_cli_overlap_report_must_be_a_document(tmp_path, capsys):
    src = tmp_path / "p.geojson"
    src.write_bytes(_parcels())
    assert main(["overlap", str(src), "--report", str(tmp_path / "r.csv")]) == 2
    assert capsys.readouterr().err == "gisapp: error: unknown format 'csv': use one of html, pdf\n"
    assert not any(Path(tmp_path).glob("r.*"))

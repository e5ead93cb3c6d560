"""Bad inputs for the readers (issue 11 §1, §2, §5, §6 and our own): every payload built by code.

``build_cases(port)`` returns the cases; payloads that try to reach the network name
``http://127.0.0.1:{port}/`` (``tests/test_input_safety.py`` listens there and asserts that
nothing arrives), and those that try to read a local file name ``/etc/passwd`` or ``canary``.
``CASES`` is built with port 9 (discard) for the shared corpus runner.
"""

from __future__ import annotations

import io
import json
import sqlite3
import struct
import tempfile
import zipfile
from pathlib import Path

from tests.badinput import CliCase, HttpCase

OVERLAP = "/api/overlap"
ZONAL = "/api/accounting/zonal?zones=zs-towns"
RING = [[113.38, 22.52], [113.39, 22.52], [113.39, 22.53], [113.38, 22.53], [113.38, 22.52]]
KML_NS = 'xmlns="http://www.opengis.net/kml/2.2"'


def _zip(members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as zf:
        for name, data in members.items():
            zf.writestr(zipfile.ZipInfo(name), data, compress_type=method)
    return buf.getvalue()


def _zip_stream(name: str, size: int, chunk: bytes = b"\0") -> bytes:
    """A zip whose one member expands to ``size`` bytes of ``chunk`` (written streaming: a bomb)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        with zf.open(name, "w", force_zip64=True) as out:
            block = chunk * (1 << 20)
            for _ in range(size // len(block)):
                out.write(block)
    return buf.getvalue()


def _shapefile(prj: str | None = "GEOGCS", cpg: str | None = None) -> dict[str, bytes]:
    """The members of a valid one-parcel Shapefile in Zhongshan (EPSG:4326), written by GDAL."""
    import geopandas as gpd
    import shapely

    with tempfile.TemporaryDirectory() as tmp:
        gdf = gpd.GeoDataFrame({"parcel_id": ["A1"], "name": ["地块"]}, geometry=[shapely.Polygon(RING)], crs=4326)
        gdf.to_file(Path(tmp) / "p.shp", encoding="utf-8")
        out = {p.name: p.read_bytes() for p in Path(tmp).iterdir()}
    if prj is None:
        out.pop("p.prj", None)
    elif prj != "GEOGCS":
        out["p.prj"] = prj.encode()
    out.pop("p.cpg", None)
    if cpg is not None:
        out["p.cpg"] = cpg.encode()
    return out


def _gpkg(sql: list[str] | None = None) -> bytes:
    """A valid one-parcel GeoPackage, then ``sql`` run on it (views, triggers …)."""
    import geopandas as gpd
    import shapely

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "p.gpkg"
        gpd.GeoDataFrame({"parcel_id": ["A1"]}, geometry=[shapely.Polygon(RING)], crs=4326).to_file(path)
        con = sqlite3.connect(path)
        for stmt in sql or []:
            con.execute(stmt)
        con.commit()
        con.close()
        return path.read_bytes()


def _sqlite(sql: list[str]) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x.sqlite"
        con = sqlite3.connect(path)
        for stmt in sql:
            con.execute(stmt)
        con.commit()
        con.close()
        return path.read_bytes()


def _kml(
    body: str = "", prolog: str = "", coords: str = "113.38,22.52 113.39,22.52 113.39,22.53 113.38,22.52"
) -> bytes:
    placemark = (
        "<Placemark><name>A1</name><TimeStamp><when>2024-05-01</when></TimeStamp><Polygon><outerBoundaryIs>"
        f"<LinearRing><coordinates>{coords}</coordinates></LinearRing></outerBoundaryIs></Polygon></Placemark>"
    )
    return f'<?xml version="1.0"?>{prolog}<kml {KML_NS}><Document>{body}{placemark}</Document></kml>'.encode()


def _ogr_vrt(source: str, marker: str = "<!-- <kml -->") -> bytes:
    """An OGR VRT that reads ``source`` (a file, ``CSV:path`` or ``/vsicurl/`` URL), one polygon per row.

    The polygon (in Zhongshan) comes from a string literal of the VRT's SQL, so every row of the
    source would come back as a parcel with its attributes: the exfiltration of issue 11 §1.
    """
    layer = Path(source.split(":", 1)[-1] if source.startswith("CSV:") else source).stem or "x"
    wkt = "POLYGON((113.38 22.52,113.39 22.52,113.39 22.53,113.38 22.53,113.38 22.52))"
    return (
        f"{marker}<OGRVRTDataSource><OGRVRTLayer name='x'><SrcDataSource>{source}</SrcDataSource>"
        f"<SrcSQL>SELECT *, '{wkt}' AS wkt FROM \"{layer}\"</SrcSQL>"
        "<GeometryType>wkbPolygon</GeometryType><LayerSRS>EPSG:4326</LayerSRS>"
        '<GeometryField encoding="WKT" field="wkt"/></OGRVRTLayer></OGRVRTDataSource>'
    ).encode()


def _raster_vrt(source: str) -> bytes:
    return (
        '<VRTDataset rasterXSize="64" rasterYSize="64"><SRS>EPSG:4326</SRS>'
        "<GeoTransform>113.3,0.001,0,22.6,0,-0.001</GeoTransform>"
        '<VRTRasterBand dataType="Byte" band="1"><SimpleSource>'
        f'<SourceFilename relativeToVRT="0">{source}</SourceFilename><SourceBand>1</SourceBand>'
        "</SimpleSource></VRTRasterBand></VRTDataset>"
    ).encode()


def _feature(geometry: object, **props: object) -> bytes:
    return json.dumps({"type": "Feature", "properties": props, "geometry": geometry}).encode()


def _dbf_broken(dbf: bytes, how: str) -> bytes:
    b = bytearray(dbf)
    if how == "count":
        b[4:8] = struct.pack("<I", 7)
    elif how == "truncated":
        b = b[: len(b) // 2]
    elif how == "header":
        b[8:10] = struct.pack("<H", 9999)
    elif how == "garbage":
        b = bytearray(b"\xff" * len(b))
    return bytes(b)


def _shp_zip(**changes: bytes | None) -> bytes:
    members = _shapefile()
    for name, data in changes.items():
        key = name.replace("_", ".")
        if data is None:
            members.pop(key, None)
        else:
            members[key] = data
    return _zip(members)


def _tiff_header_only() -> bytes:
    return b"II*\x00" + struct.pack("<I", 8) + struct.pack("<H", 0) + b"\0" * 8


def _tiff_huge() -> bytes:
    """A classic TIFF declaring 100 000 x 100 000 pixels and no data."""
    entries = [(256, 4, 1, 100_000), (257, 4, 1, 100_000), (258, 3, 1, 8), (259, 3, 1, 1), (262, 3, 1, 1)]
    entries += [(273, 4, 1, 0), (277, 3, 1, 1), (278, 4, 1, 100_000), (279, 4, 1, 10_000_000_000 % 2**32)]
    ifd = struct.pack("<H", len(entries)) + b"".join(
        struct.pack("<HHI", tag, typ, count) + struct.pack("<I" if typ == 4 else "<HH", *((v,) if typ == 4 else (v, 0)))
        for tag, typ, count, v in entries
    )
    return b"II*\x00" + struct.pack("<I", 8) + ifd + b"\0\0\0\0"


def _rings_text(n: int, lon0: float = 10.0, lat0: float = 10.0) -> bytes:
    lines = []
    for i in range(n):
        x, y = lon0 + (i % 100) * 0.01, lat0 + (i // 100) * 0.01
        lines.append(f"{x:.4f},{y:.4f} {x + 0.005:.4f},{y:.4f} {x + 0.005:.4f},{y + 0.005:.4f} {x:.4f},{y:.4f}")
    return "\n".join(lines).encode()


def _star(n: int, lon: float = 10.0, lat: float = 10.0) -> bytes:
    import math

    pts = [
        [lon + 0.01 * math.cos(i * 2.02 * math.pi * 7 / n), lat + 0.01 * math.sin(i * 2.02 * math.pi * 7 / n)]
        for i in range(n)
    ]
    pts.append(pts[0])
    return json.dumps({"type": "Polygon", "coordinates": [pts]}).encode()


def _gdb_members(layers: tuple[str, ...] = ("p",)) -> dict[str, bytes]:
    """The files of a valid File Geodatabase (one parcel per feature class, EPSG:4326), written by GDAL."""
    import geopandas as gpd
    import pyogrio
    import shapely

    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp) / "p.gdb"
        for i, name in enumerate(layers):
            gdf = gpd.GeoDataFrame({"parcel_id": [f"A{i}"]}, geometry=[shapely.Polygon(RING)], crs=4326)
            pyogrio.write_dataframe(gdf, d, driver="OpenFileGDB", layer=name, append=i > 0)
        return {p.name: p.read_bytes() for p in sorted(d.iterdir())}


def _gdb_zip(members: dict[str, bytes] | None = None, folder: str = "p.gdb", **changes: bytes | None) -> bytes:
    """A zipped ``.gdb`` folder: a valid geodatabase's files with ``changes`` (name → bytes, None removes)."""
    files = dict(_gdb_members() if members is None else members)
    for name, data in changes.items():
        if data is None:
            files.pop(name, None)
        else:
            files[name] = data
    return _zip({f"{folder}/{n}" if folder else n: b for n, b in files.items()})


def _gdb_feature_table() -> str:
    """The name of the feature class's table file in :func:`_gdb_members` (the one with a spatial index)."""
    return next(n.replace(".spx", ".gdbtable") for n in _gdb_members() if n.endswith(".spx"))


def _post(name: str, body: bytes, path: str = OVERLAP, item: str = "own", **kw: object) -> HttpCase:
    return HttpCase(name=name, method="POST", path=path, body=body, item=item, **kw)  # type: ignore[arg-type]


def _upload(name: str, filename: str, data: bytes, path: str = OVERLAP, item: str = "own", **kw: object) -> HttpCase:
    return HttpCase(name=name, method="POST", path=path, files={"file": (filename, data)}, item=item, **kw)  # type: ignore[arg-type]


def build_cases(port: int = 9, canary: str = "/etc/passwd") -> list[HttpCase | CliCase]:
    """Every case of this module; network payloads aim at ``127.0.0.1:port``, file payloads at ``canary``."""
    url = f"http://127.0.0.1:{port}/x"
    passwd_csv = f"CSV:{canary}"
    cases: list[HttpCase | CliCase] = []
    add = cases.append

    # 1. local file read and SSRF through GDAL
    for fmt in ("csv", "json", "geojson"):
        add(_post(f"vrt-sniffed-as-kml-{fmt}", _ogr_vrt(passwd_csv), f"{OVERLAP}?format={fmt}", item="1"))
    add(_upload("vrt-uploaded-as-kml", "parcels.kml", _ogr_vrt(canary), item="1"))
    add(_upload("vrt-uploaded-as-vrt", "parcels.vrt", _ogr_vrt(canary, marker=""), item="1"))
    add(_upload("vrt-vsicurl-as-kml", "parcels.kml", _ogr_vrt(f"/vsicurl/{url}"), item="1"))
    add(_post("vrt-vsicurl-body", _ogr_vrt(f"/vsicurl/{url}"), f"{OVERLAP}?format=csv", item="1"))
    add(_upload("kmz-holding-a-vrt", "p.kmz", _zip({"doc.kml": _ogr_vrt(canary)}), item="1"))
    add(_upload("zip-vrt-as-gpkg", "p.zip", _zip({"p.gpkg": _ogr_vrt(canary)}), item="1"))
    add(_upload("zip-vrt-as-shp", "p.zip", _shp_zip(p_shp=_ogr_vrt(canary)), item="1"))
    add(
        _upload(
            "kml-xxe-file",
            "p.kml",
            _kml(prolog=f'<!DOCTYPE kml [<!ENTITY e SYSTEM "file://{canary}">]>', body="<name>&e;</name>"),
            item="1",
        )
    )
    add(
        _upload(
            "kml-xxe-http",
            "p.kml",
            _kml(prolog=f'<!DOCTYPE kml [<!ENTITY e SYSTEM "{url}">]>', body="<name>&e;</name>"),
            item="1",
        )
    )
    add(_upload("kml-dtd-only", "p.kml", _kml(prolog='<!DOCTYPE kml SYSTEM "' + url + '">'), item="1"))
    add(
        _upload(
            "kml-networklink",
            "p.kml",
            _kml(
                body=f"<NetworkLink><Link><href>{url}</href></Link></NetworkLink>",
                coords="10,10 10.1,10 10.1,10.1 10,10",
            ),
            item="1",
        )
    )
    add(
        _upload(
            "kml-remote-style",
            "p.kml",
            _kml(body=f"<styleUrl>{url}#s</styleUrl>", coords="10,10 10.1,10 10.1,10.1 10,10"),
            item="1",
        )
    )
    add(
        _upload(
            "kml-root-is-vrt",
            "p.kml",
            b'<?xml version="1.0"?><OGRVRTDataSource><!-- <kml --></OGRVRTDataSource>',
            item="1",
        )
    )
    add(_upload("gpkg-header-then-vrt", "p.gpkg", b"SQLite format 3\x00" + _ogr_vrt(canary), item="1"))
    for name, src in (("passwd", canary), ("vsicurl", f"/vsicurl/{url}"), ("vsizip", f"/vsizip/{canary}.zip/x.tif")):
        add(_upload(f"zonal-raster-vrt-{name}", "r.tif", _raster_vrt(src), ZONAL, item="1"))
    add(_upload("zonal-raster-vrt-csv", "r.tif", _raster_vrt(canary), f"{ZONAL}&format=csv", item="1"))
    add(
        _upload(
            "crs-member-vsicurl",
            "p.geojson",
            json.dumps(
                {
                    "type": "FeatureCollection",
                    "crs": {"type": "name", "properties": {"name": f"/vsicurl/{url}"}},
                    "features": [json.loads(_feature({"type": "Polygon", "coordinates": [RING]}))],
                }
            ).encode(),
            item="1",
        )
    )
    add(_post("crs-param-url", _feature({"type": "Polygon", "coordinates": [RING]}), f"{OVERLAP}?crs={url}", item="1"))
    add(
        _post(
            "crs-param-init-file",
            _feature({"type": "Polygon", "coordinates": [RING]}),
            f"{OVERLAP}?crs=%2Binit%3D{canary}%3A1",
            item="1",
        )
    )

    # 2. denial of service from small inputs
    add(_upload("zip-bomb-dbf", "p.zip", _zip_stream("p.dbf", 64 << 20), item="2"))
    add(_upload("zip-bomb-shapefile", "p.zip", _zip_bomb_shapefile(), item="2"))
    add(_upload("kmz-bomb", "p.kmz", _zip_stream("doc.kml", 64 << 20, b" "), item="2"))
    add(_upload("zipped-gpkg-bomb", "p.zip", _zip_stream("p.gpkg", 64 << 20), item="2"))
    add(_upload("zip-many-members", "p.zip", _zip({f"f{i}.txt": b"" for i in range(3000)}), item="2"))
    add(_post("pasted-10000-rings", _rings_text(10_000), item="2"))
    add(
        _upload(
            "gpkg-recursive-view",
            "p.gpkg",
            _gpkg(["CREATE VIEW v AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT x FROM c"]),
            item="2",
        )
    )
    add(_upload("gpkg-view-as-layer", "p.gpkg", _gpkg(["CREATE VIEW parcels_v AS SELECT * FROM p"]), item="2"))
    add(_post("self-intersection-10000", _star(10_000), item="2"))
    add(_post("json-nested-50k", b"[" * 50_000 + b"]" * 50_000, item="5"))
    add(_post("json-object-nested-50k", b'{"a":' * 50_000 + b"1" + b"}" * 50_000, item="5"))
    add(
        _post(
            "geojson-properties-nested",
            _feature({"type": "Polygon", "coordinates": [RING]}, deep=json.loads("[" * 500 + "]" * 500)),
            item="2",
        )
    )
    add(
        _post(
            "geojson-coordinates-nested",
            b'{"type":"Polygon","coordinates":' + b"[" * 5000 + b"]" * 5000 + b"}",
            item="5",
        )
    )

    # 5. crashes that must be 4xx
    add(_post("body-12345", b"12345", item="5"))
    add(_post("pasted-1-1-1", b"1,1,1", item="5"))
    add(HttpCase(name="form-text-1-1-1", method="POST", path=OVERLAP, files={}, form={"text": "1,1,1"}, item="5"))
    add(_post("empty-polygon", b'{"type":"Polygon","coordinates":[]}', item="5"))
    add(_post("empty-ring", b'{"type":"Polygon","coordinates":[[]]}', item="5"))
    add(_post("empty-multipolygon", b'{"type":"MultiPolygon","coordinates":[]}', item="5"))
    add(_post("empty-geometrycollection", _feature({"type": "GeometryCollection", "geometries": []}), item="5"))
    add(_post("empty-multipolygon-part", b'{"type":"MultiPolygon","coordinates":[[]]}', item="5"))
    moon = 'GEOGCS["Moon 2000",DATUM["D_Moon_2000",SPHEROID["Moon_2000_IAU_IAG",1737400.0,0.0]],PRIMEM["Greenwich",0],UNIT["Degree",0.0174532925199433]]'
    add(_upload("prj-moon-ellipsoid", "p.zip", _zip(_shapefile(prj=moon)), item="5"))
    mars = moon.replace("1737400.0", "3396190.0").replace("Moon", "Mars")
    add(_upload("prj-mars-ellipsoid", "p.zip", _zip(_shapefile(prj=mars)), item="5"))
    add(
        _post(
            "crs-param-moon",
            _feature({"type": "Polygon", "coordinates": [RING]}),
            f"{OVERLAP}?crs=IAU_2015:30100",
            item="5",
        )
    )
    add(
        _post(
            "crs-member-moon",
            json.dumps(
                {
                    "type": "FeatureCollection",
                    "crs": {"type": "name", "properties": {"name": "IAU_2015:30100"}},
                    "features": [json.loads(_feature({"type": "Polygon", "coordinates": [RING]}))],
                }
            ).encode(),
            item="5",
        )
    )
    add(
        _post(
            "crs-param-geocentric",
            _feature({"type": "Polygon", "coordinates": [RING]}),
            f"{OVERLAP}?crs=EPSG:4978",
            item="5",
        )
    )

    # 6. accepted when it should not be
    dbf = _shapefile()["p.dbf"]
    for how in ("count", "truncated", "header", "garbage"):
        add(_upload(f"dbf-corrupt-{how}", "p.zip", _shp_zip(p_dbf=_dbf_broken(dbf, how)), item="6"))
    add(_upload("prj-garbage", "p.zip", _zip(_shapefile(prj="this is not a projection")), item="6"))
    add(_upload("prj-binary", "p.zip", _zip(_shapefile(prj="\x00\xff\xfe")), item="6"))
    add(_upload("cpg-klingon", "p.zip", _zip(_shapefile(cpg="KLINGON-42")), item="6"))
    add(_upload("cpg-very-long", "p.zip", _zip(_shapefile(cpg="X" * 5000)), item="6"))
    ok = _feature({"type": "Polygon", "coordinates": [RING]})
    for value in ("nan", "-1", "inf", "-inf", "abc", "1e400"):
        add(_post(f"sliver-{value}", ok, f"{OVERLAP}?sliver_m2={value}", item="6"))
    add(_post("invalid-line-1mb", b"1,2\n" + b"x" * 1_000_000 + b"\n", item="6"))
    add(_post("invalid-header-1mb", b"a," * 300_000 + b"b\n1,2\n", item="6"))
    add(_post("geojson-type-1mb", json.dumps({"type": "x" * 1_000_000}).encode(), item="6"))
    add(_post("wkt-garbage-long", b"POLYGON((" + b"1 2, " * 100_000 + b"garbage", item="6"))
    add(
        _upload("gdal-message-temp-path", "parcels.gpkg", b"SQLite format 3\x00" + b"\x10\x00" + b"\0" * 2000, item="6")
    )
    add(_upload("gpkg-truncated", "parcels.gpkg", _gpkg()[:3000], item="6"))

    # our own
    shp = _shapefile()
    add(_upload("zip-truncated", "p.zip", _zip(shp)[:-30], item="own"))
    add(_upload("zip-half", "p.zip", _zip(shp)[: len(_zip(shp)) // 2], item="own"))
    add(
        _upload(
            "zip-traversal", "p.zip", _zip({"../../p.shp": shp["p.shp"], "p.shx": shp["p.shx"], "p.dbf": shp["p.dbf"]})
        )
    )
    add(
        _upload(
            "zip-absolute-name",
            "p.zip",
            _zip({"/etc/p.shp": shp["p.shp"], "p.shx": shp["p.shx"], "p.dbf": shp["p.dbf"]}),
        )
    )
    add(
        _upload(
            "zip-backslash-traversal",
            "p.zip",
            _zip({"..\\..\\p.shp": shp["p.shp"], "p.shx": shp["p.shx"], "p.dbf": shp["p.dbf"]}),
        )
    )
    add(_upload("zip-nested-zip", "p.zip", _zip({"inner.zip": _zip(shp)})))
    add(_upload("zip-zero-byte-members", "p.zip", _zip({"p.shp": b"", "p.shx": b"", "p.dbf": b""})))
    add(_upload("zip-empty", "p.zip", _zip({})))
    add(_upload("zip-two-shp", "p.zip", _zip({**shp, "q.shp": shp["p.shp"]})))
    add(_upload("zip-missing-dbf", "p.zip", _shp_zip(p_dbf=None)))
    add(_upload("zip-missing-shx", "p.zip", _shp_zip(p_shx=None)))
    add(_upload("shp-bad-magic", "p.zip", _shp_zip(p_shp=b"\x00" * 200)))
    add(
        _upload(
            "zip-duplicate-names",
            "p.zip",
            _zip({"a/p.shp": shp["p.shp"], "b/p.shp": shp["p.shp"], "p.shx": shp["p.shx"], "p.dbf": shp["p.dbf"]}),
        )
    )
    bad_crc = bytearray(_zip(shp, zipfile.ZIP_STORED))
    bad_crc[bad_crc.index(shp["p.shp"][:8]) + 50] ^= 0xFF
    add(_upload("zip-bad-crc", "p.zip", bytes(bad_crc)))
    add(_upload("zip-unsupported-method", "p.zip", _zip_method_99(shp)))
    add(_upload("zip-only-readme", "p.zip", _zip({"readme.txt": b"hello"})))
    add(_upload("kmz-without-kml", "p.kmz", _zip({"a.txt": b"x"})))
    add(_upload("gpkg-not-sqlite", "p.gpkg", b"this is not a geopackage"))
    add(
        _upload(
            "sqlite-with-trigger",
            "p.gpkg",
            _gpkg(["CREATE TABLE t(a)", "CREATE TRIGGER evil AFTER INSERT ON t BEGIN DELETE FROM t; END"]),
        )
    )
    add(_upload("sqlite-with-fts", "p.gpkg", _gpkg(["CREATE VIRTUAL TABLE f USING fts5(a)"])))
    add(_upload("sqlite-generated-column", "p.gpkg", _gpkg(["CREATE TABLE g(a, b AS (zeroblob(1000000000)))"])))
    add(_upload("sqlite-plain-no-gpkg", "p.gpkg", _sqlite(["CREATE TABLE t(a)"])))
    add(_upload("gpkg-layer-missing", "p.gpkg", _gpkg(), f"{OVERLAP}?layer={'L' * 5000}"))
    add(_upload("parquet-garbage", "p.parquet", b"PAR1" + b"\x00\x01garbage" * 100 + b"PAR1"))
    add(_upload("parquet-header-only", "p.parquet", b"PAR1"))
    add(_upload("dxf-garbage", "p.dxf", b"0\nSECTION\n2\nENTITIES\n0\nLWPOLYLINE\n10\nnot-a-number\n"))
    add(_upload("dxf-binary-garbage", "p.dxf", b"AutoCAD Binary DXF\r\n\x1a\x00" + b"\xff" * 500))
    add(_upload("dxf-empty-drawing", "p.dxf", b"0\nSECTION\n2\nENTITIES\n0\nENDSEC\n0\nEOF\n"))
    add(
        _post(
            "huge-coordinates",
            _feature(
                {"type": "Polygon", "coordinates": [[[1e300, 1e300], [2e300, 1e300], [2e300, 2e300], [1e300, 1e300]]]}
            ),
        )
    )
    add(
        _post(
            "nan-coordinates", b'{"type":"Polygon","coordinates":[[[NaN,22.5],[113.4,22.5],[113.4,22.6],[NaN,22.5]]]}'
        )
    )
    add(
        _post(
            "inf-coordinates",
            b'{"type":"Polygon","coordinates":[[[Infinity,22.5],[113.4,22.5],[113.4,22.6],[Infinity,22.5]]]}',
        )
    )
    add(_post("pasted-nan", b"nan,nan nan,1 1,1 nan,nan"))
    add(_post("pasted-inf", b"inf,1\n2,inf\n3,3\ninf,1\n"))
    add(_post("non-utf8-text", b"\xff\xfe\xfa\x80\x81 1,2"))
    add(_post("bom-only", b"\xef\xbb\xbf"))
    add(_post("whitespace-only", b" \n\t\r\n "))
    add(_post("nul-bytes", b"\x00" * 1000))
    add(_post("geojson-truncated", ok[:-10]))
    add(_post("geojson-features-not-list", b'{"type":"FeatureCollection","features":{"a":1}}'))
    add(
        _post(
            "geojson-feature-id-object", _feature({"type": "Polygon", "coordinates": [RING]})[:-1] + b',"id":{"a":[1]}}'
        )
    )
    add(_post("geojson-only-lines", _feature({"type": "LineString", "coordinates": RING})))
    add(_post("geojson-null-geometry", _feature(None)))
    add(
        _post(
            "geojson-ring-two-points",
            _feature({"type": "Polygon", "coordinates": [[[113.38, 22.52], [113.39, 22.52]]]}),
        )
    )
    add(
        _post(
            "geojson-coords-strings",
            _feature({"type": "Polygon", "coordinates": [[["a", "b"], ["c", "d"], ["e", "f"], ["a", "b"]]]}),
        )
    )
    add(_post("pasted-two-points", b"113.38,22.52\n113.39,22.52\n"))
    add(_post("pasted-header-no-xy", b"foo,bar\n1,2\n"))
    add(_post("exchange-bad-line", "[地块坐标]\n4,0.1,A1,名称,面,,工业,,@\nJ1,1,abc,def\n".encode()))
    add(_post("wkt-nested-deep", b"GEOMETRYCOLLECTION(" * 20_000 + b")" * 20_000))
    add(_post("unknown-input-format", ok, f"{OVERLAP}?input_format=dwg"))
    add(_upload("dwg-file", "p.dwg", b"AC1032" + b"\0" * 100))
    add(_upload("lone-shp", "p.shp", shp["p.shp"]))
    add(_upload("kml-wrong-root", "p.kml", b'<?xml version="1.0"?><html><kml/></html>'))
    add(_upload("kml-not-xml", "p.kml", b"<kml <<<< not xml"))
    add(
        _upload(
            "kml-no-polygons",
            "p.kml",
            f'<?xml version="1.0"?><kml {KML_NS}><Document><Placemark><Point><coordinates>113.38,22.52</coordinates></Point></Placemark></Document></kml>'.encode(),
        )
    )
    add(
        _upload(
            "kml-billion-laughs",
            "p.kml",
            _kml(
                prolog='<!DOCTYPE kml [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>',
                body="<name>&c;</name>",
            ),
        )
    )
    add(_upload("zonal-not-a-tiff", "r.tif", b"not a raster", ZONAL))
    add(_upload("zonal-png", "r.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 100, ZONAL))
    add(_upload("zonal-tiff-header-only", "r.tif", _tiff_header_only(), ZONAL))
    add(_upload("zonal-tiff-huge-declared", "r.tif", _tiff_huge(), ZONAL))
    add(_upload("zonal-empty-file", "r.tif", b"", ZONAL))
    add(HttpCase(name="zonal-no-file", method="POST", path=ZONAL, files={}, form={"x": "1"}))

    # Esri File Geodatabase (zipped .gdb folder; issue 15 §1)
    table = _gdb_feature_table()
    good = _gdb_members()
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for n, b in good.items():
            if n != table:
                zf.writestr(f"p.gdb/{n}", b)
        with zf.open(f"p.gdb/{table}", "w", force_zip64=True) as out:
            out.write(good[table])
            for _ in range(64):
                out.write(b"\0" * (1 << 20))
    add(_upload("gdb-zip-bomb", "p.gdb.zip", bomb.getvalue(), item="2"))
    add(_upload("gdb-garbage-tables", "p.gdb.zip", _gdb_zip({n: b"\xff" * len(b) for n, b in good.items()})))
    add(
        _upload("gdb-truncated-table", "p.gdb.zip", _gdb_zip(**{table: good[table][: len(good[table]) // 3]}), item="6")
    )
    add(_upload("gdb-catalog-missing", "p.gdb.zip", _gdb_zip(**{"a00000001.gdbtable": None})))
    add(_upload("gdb-vrt-as-table", "p.gdb.zip", _gdb_zip(**{table: _ogr_vrt(canary)}), item="1"))
    add(
        _upload(
            "gdb-holding-a-vrt-and-shapefile",
            "p.gdb.zip",
            _zip({"p.gdb/x.vrt": _ogr_vrt(canary), **{f"p.gdb/{n}": b for n, b in _shapefile().items()}}),
            item="1",
        )
    )
    add(_upload("gdb-two-folders", "p.zip", _zip({"a.gdb/gdb": good["gdb"], "b.gdb/gdb": good["gdb"]})))
    add(_upload("gdb-unsafe-member", "p.gdb.zip", _zip({"../p.gdb/gdb": good["gdb"]}), item="2"))
    add(_upload("gdb-empty-folder", "p.gdb.zip", _zip({"p.gdb/": b""})))
    add(_upload("gdb-encrypted", "p.gdb.zip", _zip_method_99({f"p.gdb/{n}": b for n, b in good.items()})))
    add(_upload("gdb-not-a-zip", "p.gdb.zip", b"this is not a geodatabase", f"{OVERLAP}?input_format=filegdb"))
    add(_upload("gdb-several-layers", "p.gdb.zip", _gdb_zip(_gdb_members(("a", "b")))))
    add(_upload("gdb-layer-missing", "p.gdb.zip", _gdb_zip(), f"{OVERLAP}?layer={'L' * 5000}"))
    add(
        CliCase(
            name="cli-gdb-zip-bomb", args=("overlap", "{tmp}/p.gdb.zip"), files={"p.gdb.zip": bomb.getvalue()}, item="2"
        )
    )
    add(
        CliCase(
            name="cli-gdb-garbage",
            args=("overlap", "{tmp}/p.gdb.zip"),
            files={"p.gdb.zip": _gdb_zip({n: b"\xff" * len(b) for n, b in good.items()})},
        )
    )
    add(
        CliCase(
            name="cli-towns-replace-gdb-garbage",
            args=("towns", "replace", "{tmp}/t.gdb.zip"),
            files={"t.gdb.zip": _gdb_zip({n: b"\xff" * len(b) for n, b in good.items()})},
        )
    )

    # the command line
    add(
        CliCase(
            name="cli-vrt-as-kml",
            args=("overlap", "{tmp}/p.kml", "--format", "csv"),
            files={"p.kml": _ogr_vrt(canary)},
            item="1",
        )
    )
    add(
        CliCase(
            name="cli-vrt-file", args=("overlap", "{tmp}/p.vrt"), files={"p.vrt": _ogr_vrt(canary, marker="")}, item="1"
        )
    )
    add(CliCase(name="cli-zip-bomb", args=("overlap", "{tmp}/p.zip"), files={"p.zip": _zip_bomb_shapefile()}, item="2"))
    add(
        CliCase(
            name="cli-gpkg-recursive-view",
            args=("overlap", "{tmp}/p.gpkg"),
            files={
                "p.gpkg": _gpkg(
                    ["CREATE VIEW v AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT x FROM c"]
                )
            },
            item="2",
        )
    )
    add(CliCase(name="cli-12345", args=("overlap", "{tmp}/p.txt"), files={"p.txt": b"12345"}, item="5"))
    add(
        CliCase(
            name="cli-empty-polygon",
            args=("overlap", "{tmp}/p.geojson"),
            files={"p.geojson": b'{"type":"Polygon","coordinates":[]}'},
            item="5",
        )
    )
    add(
        CliCase(
            name="cli-prj-moon", args=("overlap", "{tmp}/p.zip"), files={"p.zip": _zip(_shapefile(prj=moon))}, item="5"
        )
    )
    add(
        CliCase(
            name="cli-dbf-corrupt",
            args=("overlap", "{tmp}/p.zip"),
            files={"p.zip": _shp_zip(p_dbf=_dbf_broken(dbf, "count"))},
            item="6",
        )
    )
    add(
        CliCase(
            name="cli-cpg-klingon",
            args=("overlap", "{tmp}/p.zip"),
            files={"p.zip": _zip(_shapefile(cpg="KLINGON-42"))},
            item="6",
        )
    )
    add(
        CliCase(
            name="cli-sliver-nan",
            args=("overlap", "{tmp}/p.geojson", "--sliver-m2", "nan"),
            files={"p.geojson": ok},
            item="6",
        )
    )
    add(
        CliCase(
            name="cli-gdal-temp-path",
            args=("overlap", "{tmp}/p.gpkg"),
            files={"p.gpkg": b"SQLite format 3\x00" + b"\0" * 2000},
            item="6",
        )
    )
    add(
        CliCase(
            name="cli-zonal-vrt",
            args=("accounting", "zonal", "{tmp}/r.tif", "--zones", "zs-towns"),
            files={"r.tif": _raster_vrt(canary)},
            item="1",
        )
    )
    return cases


def _zip_bomb_shapefile() -> bytes:
    """A zipped Shapefile whose .dbf expands to 64 MiB of blanks (ratio ≈ 1000)."""
    shp = _shapefile()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("p.shp", shp["p.shp"])
        zf.writestr("p.shx", shp["p.shx"])
        with zf.open("p.dbf", "w", force_zip64=True) as out:
            out.write(shp["p.dbf"])
            block = b" " * (1 << 20)
            for _ in range(64):
                out.write(block)
    return buf.getvalue()


def _zip_method_99(members: dict[str, bytes]) -> bytes:
    """A zip whose members claim compression method 99 (AES), which cannot be extracted."""
    data = bytearray(_zip(members, zipfile.ZIP_STORED))
    i = 0
    while (i := data.find(b"PK\x03\x04", i)) >= 0:
        data[i + 8 : i + 10] = struct.pack("<H", 99)
        i += 4
    i = 0
    while (i := data.find(b"PK\x01\x02", i)) >= 0:
        data[i + 10 : i + 12] = struct.pack("<H", 99)
        i += 4
    return bytes(data)


CASES: list[HttpCase | CliCase] = build_cases()

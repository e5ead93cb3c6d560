"""Bad requests to the HTTP layer (issue 11 items 3–5 and our own): parameters, bodies, paths, headers.

Every case is built here from a few templates; see :mod:`tests.badinput` for what is checked.
"""

from __future__ import annotations

import json

from tests.badinput import HttpCase

LAYER = "zs-towns"
SQUARE = {
    "type": "Polygon",
    "coordinates": [[[113.38, 22.51], [113.39, 22.51], [113.39, 22.52], [113.38, 22.52], [113.38, 22.51]]],
}
PARCELS = json.dumps(
    {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, "geometry": SQUARE}]}
)
JSON = {"Content-Type": "application/json"}


def _deep(depth: int, opener: str = "[", closer: str = "]") -> bytes:
    return (opener * depth + closer * depth).encode()


def _deep_object(depth: int) -> bytes:
    return ('{"a":' * depth + "1" + "}" * depth).encode()


def _json_endpoints() -> list[HttpCase]:
    """A 50 000-deep array and object, and a 100-deep one, on every endpoint that takes JSON (item 5)."""
    endpoints = [
        "/api/overlap",
        "/api/overlap?format=csv",
        "/api/overlap/report?format=html",
        "/api/accounting/report",
        "/api/accounting/adjust",
        "/api/accounting/compare",
        "/api/export/overlap",
    ]
    cases = []
    for path in endpoints:
        slug = path.strip("/").replace("/", "-").replace("?format=", "-")
        cases.append(HttpCase(f"deep-array-{slug}", "POST", path, _deep(50_000), JSON, item="5"))
        cases.append(HttpCase(f"deep-object-{slug}", "POST", path, _deep_object(50_000), JSON, item="5"))
        cases.append(HttpCase(f"deep-100-{slug}", "POST", path, _deep(100), JSON, item="5"))
    return cases


def _chunked() -> list[HttpCase]:
    """Over the upload limit with ``Transfer-Encoding: chunked`` is 413, never a truncated 200 (item 3)."""
    big = (PARCELS[:-2] + "," + " " * (21 * 1024 * 1024) + "]}").encode()
    return [
        HttpCase(f"chunked-over-limit-{slug}", "POST", path, big, JSON, statuses=(413,), chunked=True, item="3")
        for slug, path in (
            ("overlap", "/api/overlap?format=csv"),
            ("report", "/api/overlap/report?format=html"),
            ("adjust", "/api/accounting/adjust"),
            ("export", "/api/export/overlap"),
        )
    ] + [
        HttpCase("declared-over-limit", "POST", "/api/overlap", big, JSON, statuses=(413,), item="3"),
    ]


def _map_params() -> list[HttpCase]:
    """Map data: zoom and bbox that are not numbers, not finite or out of range (item 5)."""
    base = f"/api/map/layers/{LAYER}/features"
    cases = [
        HttpCase(f"map-zoom-{name}", "GET", f"{base}?bbox=113,22,114,23&zoom={value}", statuses=(400,), item="5")
        for name, value in (("inf", "inf"), ("nan", "nan"), ("neg", "-3"), ("huge", "1e308"), ("text", "abc"))
    ]
    cases += [
        HttpCase(f"map-bbox-{name}", "GET", f"{base}?bbox={value}", statuses=(400,), item="5")
        for name, value in (
            ("nan", "nan,22,114,23"),
            ("three", "113,22,114"),
            ("inverted", "114,23,113,22"),
            ("out-of-range", "113,22,114,95"),
            ("text", "a,b,c,d"),
        )
    ]
    cases.append(HttpCase("map-layer-traversal", "GET", "/api/map/layers/..%2F..%2Fetc/features", statuses=(400, 404)))
    cases.append(HttpCase("map-feature-unknown", "GET", f"/api/map/layers/{LAYER}/features/999999", statuses=(404,)))
    return cases


def _ogc() -> list[HttpCase]:
    """OGC API – Features: NaN bbox (item 5), paging and CRS parameters, unknown ids."""
    items = f"/ogc/collections/{LAYER}/items"
    cases = [
        HttpCase(f"ogc-bbox-{name}", "GET", f"{items}?bbox={value}", statuses=(400,), item="5")
        for name, value in (
            ("nan", "nan,1,2,3"),
            ("inf", "113,22,inf,23"),
            ("three", "1,2,3"),
            ("text", "x,y,z,w"),
            ("lat-inverted", "113,23,114,22"),
        )
    ]
    cases += [
        HttpCase(f"ogc-{name}", "GET", f"{items}?{query}", statuses=(400,))
        for name, query in (
            ("limit-negative", "limit=-1"),
            ("limit-text", "limit=abc"),
            ("offset-negative", "offset=-5"),
            ("crs-unknown", "crs=http://www.opengis.net/def/crs/EPSG/0/99999"),
            ("bbox-crs-unknown", "bbox=1,2,3,4&bbox-crs=EPSG:bogus"),
            ("format-unknown", "f=exe"),
        )
    ]
    cases += [
        HttpCase("ogc-collection-unknown", "GET", "/ogc/collections/no-such-layer", statuses=(404,)),
        HttpCase("ogc-items-unknown", "GET", "/ogc/collections/no-such-layer/items", statuses=(404,)),
        HttpCase("ogc-item-unknown", "GET", f"{items}/999999", statuses=(404,)),
        HttpCase("ogc-item-script", "GET", f"{items}/%3C%2Fscript%3E%3Cimg%20src%3Dx%3E", statuses=(404,), item="4"),
    ]
    return cases


def _export() -> list[HttpCase]:
    """Layer export: unknown format, CRS, encoding, precision, filters, layer ids."""
    path = f"/api/export/{LAYER}"
    cases = [
        HttpCase(f"export-{name}", "GET", f"{path}?{query}", statuses=(400, 404, 422))
        for name, query in (
            ("format-unknown", "format=exe"),
            ("crs-unknown", "crs=EPSG:99999"),
            ("crs-text", "crs=%3Cscript%3E"),
            ("encoding-unknown", "format=shp&encoding=klingon-42"),
            ("precision-negative", "precision=-1"),
            ("precision-huge", "precision=999"),
            ("precision-text", "precision=abc"),
            ("bbox-nan", "bbox=nan,1,2,3"),
            ("bbox-inverted", "bbox=2,2,1,1"),
            ("where-malformed", "where=name"),
            ("where-unknown-field", "where=nosuchfield%3Dx"),
            ("bbox-crs-unknown", "bbox=1,2,3,4&bbox-crs=EPSG:bogus"),
        )
    ]
    cases += [
        HttpCase("export-layer-unknown", "GET", "/api/export/no-such-layer", statuses=(404,)),
        HttpCase("export-layer-bad-id", "GET", "/api/export/UPPER_case", statuses=(400, 404)),
        HttpCase("export-overlap-empty", "POST", "/api/export/overlap", b"", JSON),
        HttpCase("export-overlap-not-json", "POST", "/api/export/overlap", b"{not json", JSON),
    ]
    return cases


def _overlap_params() -> list[HttpCase]:
    """Overlap parameters: targets, CRS, datum, format, method, multipart shape."""
    body = PARCELS.encode()
    cases = [
        HttpCase(f"overlap-{name}", "POST", f"/api/overlap?{query}", body, JSON, statuses=(400, 404, 422))
        for name, query in (
            ("target-traversal", "target=../../etc/passwd"),
            ("target-unknown", "target=no-such-layer"),
            ("target-bad-filter", "target=zs-towns[name"),
            ("crs-unknown", "crs=EPSG:99999"),
            ("crs-garbage", "crs=%3Cscript%3E"),
            ("datum-unknown", "datum=mars"),
            ("format-unknown", "format=exe"),
            ("report-format-unknown", "format=docx"),
            ("input-format-unknown", "input_format=dwg"),
        )
    ]
    cases += [
        HttpCase("overlap-empty-body", "POST", "/api/overlap", b"", JSON),
        HttpCase("overlap-whitespace-body", "POST", "/api/overlap", b" \n\t ", JSON),
        HttpCase("overlap-get", "GET", "/api/overlap", statuses=(405,)),
        HttpCase("overlap-multipart-no-file", "POST", "/api/overlap", files={"other": ("a.txt", b"x")}),
        HttpCase("overlap-multipart-empty-file", "POST", "/api/overlap", files={"file": ("a.geojson", b"")}),
        HttpCase("report-empty-body", "POST", "/api/overlap/report?format=pdf", b"", JSON),
    ]
    return cases


def _accounting() -> list[HttpCase]:
    """Accounting: rule sets, margins, structures, proposals, zonal statistics parameters."""
    cases = [
        HttpCase(f"accounting-{name}", "GET", f"/api/accounting/report?{query}", statuses=(400, 404))
        for name, query in (
            ("rules-traversal", "rules=../../etc/passwd"),
            ("rules-unknown", "rules=no-such-rules"),
            ("margin-text", "margin=abc"),
            ("margin-nan", "margin=nan"),
            ("margin-negative", "margin=-5"),
            ("structure-bad-id", "structure=..%2F..%2Fx"),
            ("structure-unknown", "structure=no-such-layer"),
        )
    ]
    cases += [
        HttpCase("adjust-not-object", "POST", "/api/accounting/adjust", b"[1,2,3]", JSON),
        HttpCase("adjust-unknown-keys", "POST", "/api/accounting/adjust", b'{"delete_everything": true}', JSON),
        HttpCase("adjust-bad-ids", "POST", "/api/accounting/adjust", b'{"remove_ids": [{"a": 1}]}', JSON),
        HttpCase("adjust-not-utf8", "POST", "/api/accounting/adjust", b'{"remove_ids": ["\xff\xfe"]}', JSON),
        HttpCase("compare-not-geojson", "POST", "/api/accounting/compare", b'{"type": "Point"}', JSON),
        HttpCase("compare-empty", "POST", "/api/accounting/compare", b"", JSON),
        HttpCase("zonal-no-raster", "POST", "/api/accounting/zonal", b"", {"Content-Type": "image/tiff"}),
        HttpCase(
            "zonal-band-text", "POST", "/api/accounting/zonal?band=abc", b"II*\x00", {"Content-Type": "image/tiff"}
        ),
        HttpCase(
            "zonal-nodata-text", "POST", "/api/accounting/zonal?nodata=x", b"II*\x00", {"Content-Type": "image/tiff"}
        ),
        HttpCase(
            "zonal-mode-unknown", "POST", "/api/accounting/zonal?mode=magic", b"II*\x00", {"Content-Type": "image/tiff"}
        ),
        HttpCase("zonal-zones-traversal", "POST", "/api/accounting/zonal?zones=../../etc", b"II*\x00", {}),
    ]
    return cases


def _paths() -> list[HttpCase]:
    """Paths that try to leave the store or the static folder; unknown routes; metrics of unknown layers."""
    return [
        HttpCase("static-traversal", "GET", "/static/..%2F..%2F..%2Fetc%2Fpasswd", statuses=(400, 404)),
        HttpCase("static-traversal-dots", "GET", "/static/../../etc/passwd", statuses=(400, 404)),
        HttpCase("layer-geojson-traversal", "GET", "/api/layers/..%2F..%2Fetc%2Fpasswd.geojson", statuses=(400, 404)),
        HttpCase("layer-meta-bad-id", "GET", "/api/layers/%3Cscript%3E", statuses=(400, 404)),
        HttpCase("metrics-unknown", "GET", "/api/metrics/no-such-layer", statuses=(404,)),
        HttpCase("redline-structure-unknown", "GET", "/api/redline/report?structure=no-such-layer", statuses=(404,)),
        HttpCase("unknown-route", "GET", "/api/no/such/route", statuses=(404,)),
        HttpCase("health-post", "POST", "/api/health", b"x", statuses=(405,)),
        HttpCase("search-limit-text", "GET", "/api/map/search?q=%E4%B8%AD&limit=abc", statuses=(400,)),
        HttpCase("place-unknown", "GET", "/api/map/places/%E4%B8%8D%E5%AD%98%E5%9C%A8", statuses=(404,)),
    ]


CASES: list[HttpCase] = [
    *_json_endpoints(),
    *_chunked(),
    *_map_params(),
    *_ogc(),
    *_export(),
    *_overlap_params(),
    *_accounting(),
    *_paths(),
]

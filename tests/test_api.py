import io
import json

import pytest

from gisapp.analysis import service
from gisapp.store.layerstore import list_layers
from gisapp.web import create_app
from tests.helpers import BUNDLED, ZHONGSHANGANG, assert_rfc7946, feature_collection, square_4547

CORE_LAYERS = {
    "base-province",
    "base-city",
    "base-district",
    "zs-towns",
    "zs-services-structure",
    "zs-industrial-redline",
}
LAYERS = {m.id for m in list_layers()}


def _parcels(crs="EPSG:4547"):
    return feature_collection(
        [square_4547(*ZHONGSHANGANG, 100, dx=-50, dy=-50), square_4547(*ZHONGSHANGANG, 100, dx=5000, dy=5000)],
        crs=crs,
        props=[{"parcel_id": "P1", "note": "<script>alert(1)</script>"}, {"parcel_id": "P2", "note": "宗地"}],
    )


def test_health(client):
    r = client.get("/api/health")
    assert r.status_code == 200 and r.json == {"status": "ok", "layers": len(LAYERS)}


def test_layers_list_with_metadata_and_links(client):
    r = client.get("/api/layers")
    assert r.status_code == 200
    layers = {lay["id"]: lay for lay in r.json["layers"]}
    assert set(layers) == LAYERS and CORE_LAYERS <= LAYERS
    for lay in layers.values():
        for key in ("title", "title_en", "source", "licence", "datum", "geometry_basis", "feature_count"):
            assert lay[key] != "" or key == "licence", key
        assert lay["links"]["geojson"] == f"/api/layers/{lay['id']}.geojson"
    assert layers["zs-industrial-redline"]["geometry_basis"] == "illustrative"


def test_layer_metadata_and_404(client):
    assert client.get("/api/layers/zs-towns").json["feature_count"] == 23
    r = client.get("/api/layers/no-such-layer")
    assert r.status_code == 404 and r.json["error"] == "layer_not_found"
    r = client.get("/api/layers/..%2Fetc.geojson")
    assert r.status_code in (400, 404) and r.is_json


@pytest.mark.parametrize("layer_id", sorted(LAYERS))
def test_geojson_export_is_rfc7946(client, layer_id):
    r = client.get(f"/api/layers/{layer_id}.geojson")
    assert r.status_code == 200 and r.mimetype == "application/geo+json"
    assert_rfc7946(json.loads(r.data))


def test_metrics_json_and_csv_with_bom(client):
    r = client.get("/api/metrics/zs-towns")
    assert r.status_code == 200
    rows = {row["name"]: row for row in r.json["features"]}
    assert len(rows) == 23
    assert rows["小榄镇"]["area_mu"] == pytest.approx(rows["小榄镇"]["area_km2"] * 1500, rel=1e-6)
    r = client.get("/api/metrics/zs-towns?format=csv&bom=1")
    text = r.data.decode("utf-8")
    assert text.startswith("\ufeff") and "石岐街道" in text and len(text.strip().splitlines()) == 24


def test_redline_report_endpoint_matches_the_core(client):
    r = client.get("/api/redline/report")
    assert r.status_code == 200
    core = service.redline_accounting(BUNDLED)
    assert r.json["total"] == core["total"] and r.json["headroom"] == core["headroom"]
    assert r.json["illustrative"] is True and r.json["floor"]["value_km2"] == 250
    assert r.json["headroom"]["sign"] == "shortfall"
    assert client.get("/api/redline/report?structure=nope").status_code == 404


def test_overlap_json(client):
    r = client.post("/api/overlap", data=json.dumps(_parcels()), content_type="application/geo+json")
    assert r.status_code == 200
    body = r.json
    assert body["input_crs"] == "EPSG:4547" and body["illustrative"] is True
    feats = {f["properties"]["parcel_id"]: f["properties"] for f in body["parcels"]["features"]}
    assert feats["P1"]["overlap_m2"] == pytest.approx(10_000, abs=0.1)
    assert feats["P1"]["overlap_mu"] == pytest.approx(15, abs=1e-3)
    assert feats["P1"]["overlap_pct"] == pytest.approx(100, abs=1e-3)
    assert feats["P1"]["features"] == "ZS-IL-01" and feats["P1"]["towns"] == "中山港街道"
    assert feats["P1"]["note"] == "<script>alert(1)</script>"  # kept as data, JSON-escaped by the encoder
    assert body["summary"]["parcel_count"] == 2 and body["summary"]["overlapping_count"] == 1
    assert_rfc7946(body["parcels"])


def test_overlap_geojson_csv_and_multipart(client):
    data = json.dumps(_parcels())
    r = client.post("/api/overlap?format=geojson", data=data)
    assert r.status_code == 200 and r.mimetype == "application/geo+json" and len(r.json["features"]) == 2
    r = client.post("/api/overlap?format=csv&bom=1", data=data)
    lines = r.data.decode("utf-8").splitlines()
    assert lines[0].startswith("\ufeffparcel_id,") and "overlap_mu" in lines[0] and len(lines) == 3
    r = client.post(
        "/api/overlap",
        data={"file": (io.BytesIO(data.encode()), "parcels.geojson")},
        content_type="multipart/form-data",
    )
    assert r.status_code == 200 and r.json["summary"]["parcel_count"] == 2


@pytest.mark.parametrize(
    "body, status, code",
    [
        (b"{oops", 400, "invalid_geojson"),
        (b"", 400, "empty_input"),
        (b'{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}', 422, "outside_work_area"),
        (
            json.dumps(feature_collection([square_4547(113.4, 22.5, 10)], crs="EPSG:123456")).encode(),
            400,
            "unknown_crs",
        ),
        ("\xff\xfe".encode("latin-1"), 400, "invalid_geojson"),
    ],
)
def test_overlap_bad_input_is_a_4xx_json(client, body, status, code):
    r = client.post("/api/overlap", data=body)
    assert r.status_code == status and r.json["error"] == code and r.json["message"]


def test_self_intersecting_parcel_is_repaired_not_a_500(client):
    bow = {
        "type": "Polygon",
        "coordinates": [[[113.40, 22.50], [113.41, 22.51], [113.41, 22.50], [113.40, 22.51], [113.40, 22.50]]],
    }
    r = client.post("/api/overlap", data=json.dumps(bow))
    assert r.status_code == 200 and "Self-intersection" in r.json["repairs"][0]


def test_upload_over_the_limit_is_413_json():
    small = create_app({"TESTING": True, "MAX_CONTENT_LENGTH": 1024})
    r = small.test_client().post("/api/overlap", data=b" " * 4096)
    assert r.status_code == 413 and r.json["error"] == "too_large"


def test_unknown_api_route_is_json_404(client):
    r = client.get("/api/nothing-here")
    assert r.status_code == 404 and r.is_json
    assert client.get("/api/layers").status_code == 200

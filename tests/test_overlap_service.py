"""Targets from the store, several at once; HTTP and CLI over any input; outputs.

A copy of the bundled store gets two extra layers: ``test-block`` (the 1000 m block T1 of
tests/fixtures/overlap/builders.py) and ``test-redline`` (T1 as tier 一级 plus a second block
T2 of tier 二级, 1200 m square east of it, holding C). Layers are stored with 7 decimals (~1 cm), so hand-computed
overlaps hold to 1 m² here (exact to 0.01 m² in tests/test_inputs.py, in memory).
"""

from __future__ import annotations

import io
import json
import shutil

import geopandas as gpd
import pandas as pd
import pytest

from gisapp.analysis import service
from gisapp.cli import main
from gisapp.core import paths
from gisapp.core.errors import InputError
from gisapp.report.overlap_report import feature_collection
from gisapp.store.layerstore import LayerMeta, LayerStore, write_layer
from gisapp.web import create_app
from tests.fixtures.overlap import builders as b
from tests.helpers import BUNDLED, assert_rfc7946, make_meta


def _meta(layer_id: str, title: str) -> LayerMeta:
    return make_meta(
        layer_id, title, kind="control_line", source="tests/fixtures/overlap/builders.py", geometry_basis="official"
    )


@pytest.fixture()
def store(tmp_path, monkeypatch):
    dst = tmp_path / "layers"
    shutil.copytree(paths.layers_dir(), dst)
    monkeypatch.setenv("GISAPP_LAYERS_DIR", str(dst))
    write_layer(b.target_block(), _meta("test-block", "测试区块"), dst)
    two = gpd.GeoDataFrame(
        {"block_id": ["T1", "T2"], "name": ["一号", "二号"], "tier": ["一级", "二级"]},
        geometry=[b.square(0, 0, 1000), b.square(1000, -100, 1200)],
        crs="EPSG:4547",
    )
    write_layer(two, _meta("test-redline", "测试红线"), dst)
    return dst


@pytest.fixture()
def client(store):  # type: ignore[no-untyped-def]
    """A test client of an app on the test store (the session app is on the bundled store)."""
    return create_app({"TESTING": True, "GISAPP_LAYERS_DIR": str(store)}).test_client()


def test_several_targets_with_a_tier_filter(store):
    result, info = service.overlap_check(
        b.geojson_bytes("EPSG:4526"),
        "p.geojson",
        ["test-block", "test-redline[tier=二级]", "test-redline"],
        store=LayerStore(store),
    )
    assert len(result) == 9 and list(info["summaries"]) == ["test-block", "test-redline[tier=二级]", "test-redline"]
    r = result.set_index(["target", "parcel_id"])
    assert r.loc[("test-block", "B"), "overlap_m2"] == pytest.approx(20_000, abs=1)
    assert r.loc[("test-redline[tier=二级]", "B"), "overlap_m2"] == pytest.approx(20_000, abs=1)
    assert r.loc[("test-redline[tier=二级]", "B"), "features"] == "T2"
    assert r.loc[("test-redline", "B"), "overlap_m2"] == pytest.approx(40_000, abs=1)
    assert r.loc[("test-redline", "B"), "features"] == "T1,T2"
    assert r.loc[("test-redline", "B"), "feature_names"] == "一号、二号"
    assert r.loc[("test-redline", "C"), "overlap_m2"] == pytest.approx(10_000, abs=1)  # C lies in T2
    assert r.loc[("test-block", "A"), "overlap_mu"] == pytest.approx(15.0, abs=2e-3)
    assert r.loc[("test-block", "A"), "overlap_ha"] == pytest.approx(1.0, abs=1e-4)
    assert r.loc[("test-block", "B"), "overlap_pct"] == pytest.approx(50.0, abs=0.01)
    assert set(r["towns"]) == {"中山港街道"}
    s = info["summaries"]["test-redline"]
    assert s["overlapping_count"] == 3 and s["overlap_m2"] == pytest.approx(60_000, abs=2)
    by = {f["id"]: f for f in s["by_feature"]}
    assert by["T1"]["parcels"] == 2 and by["T1"]["area_m2"] == pytest.approx(30_000, abs=1)
    assert by["T2"]["parcels"] == 2 and by["T2"]["area_m2"] == pytest.approx(30_000, abs=1)
    assert info["targets"][1]["filter"] == {"field": "tier", "value": "二级"}
    assert info["crs"]["crs"] == "EPSG:4526" and info["input"]["format"] == "geojson"
    assert len(info["input"]["sha256"]) == 64


def test_bad_targets(store):
    for spec, code in (
        ("no-such-layer", "layer_not_found"),
        ("Bad Spec!", "invalid_target"),
        ("test-redline[nope=1]", "missing_field"),
        ("test-redline[tier=三级]", "empty_target"),
    ):
        with pytest.raises(InputError) as e:
            service.overlap_check(b.geojson_bytes(None), targets=[spec], store=LayerStore(store))
        assert e.value.code == code


def test_red_line_rule_is_quoted_for_the_red_line_target():
    _, info = service.overlap_check(b.geojson_bytes(None), store=BUNDLED)
    rule = info["rules"][0]
    assert rule["plan"] == "zhongshan-industrial-restructuring.txt" and rule["line"] == 156
    assert rule["sentence"] == "划定不少于250平方公里的工业用地保护红线"
    assert info["control_layer"] == "zs-industrial-redline" and info["illustrative"] is True


def test_http_multipart_shapefile_and_repeated_targets(store, client, tmp_path):
    data = b.zipped_shapefile(tmp_path, encoding="GBK", cpg=False)
    r = client.post(
        "/api/overlap?target=test-block&target=test-redline",
        data={"file": (io.BytesIO(data), "宗地.zip")},
        content_type="multipart/form-data",
    )
    assert r.status_code == 200, r.json
    body = r.json
    assert body["input"]["filename"] == "宗地.zip" and body["input"]["format"] == "shapefile"
    assert any("GBK" in n for n in body["input"]["notes"])
    feats = {
        (f["properties"]["target"], f["properties"]["parcel_id"]): f["properties"] for f in body["parcels"]["features"]
    }
    assert feats[("test-block", "B")]["overlap_m2"] == pytest.approx(20_000, abs=1)
    assert feats[("test-block", "A")]["名称"] == "工业地块一"
    assert_rfc7946(body["parcels"])


def test_http_pasted_text_gcj02_and_formats(store, client):
    x0, y0 = b.ORIGIN
    lon, lat = zip(*[b.to_4326(x0 + dx, y0 + dy) for dx, dy in ((100, 100), (200, 100), (200, 200), (100, 200))])
    glon, glat = b.wgs_to_gcj(pd.Series(lon).to_numpy(), pd.Series(lat).to_numpy())
    text = "\n".join(f"{a:.9f},{c:.9f}" for a, c in zip(glon, glat))
    r = client.post(
        "/api/overlap?target=test-block&datum=gcj02", data={"text": text}, content_type="multipart/form-data"
    )
    assert r.status_code == 200 and r.json["crs"]["datum"] == "gcj02"
    assert r.json["summary"]["overlap_m2"] == pytest.approx(10_000, abs=2)
    r = client.post("/api/overlap?target=test-block&format=parquet", data=b.geojson_bytes(None))
    assert r.status_code == 200 and r.mimetype == "application/vnd.apache.parquet"
    table = gpd.read_parquet(io.BytesIO(r.data))
    assert table.crs.to_epsg() == 4326 and list(table["parcel_id"]) == ["A", "B", "C"]
    r = client.post("/api/overlap?target=test-block&format=csv&bom=1", data=b.geojson_bytes(None))
    lines = r.data.decode("utf-8").splitlines()
    assert lines[0].startswith("\ufeffparcel_id,名称,target,") and len(lines) == 4


@pytest.mark.parametrize(
    "query, body, status, code",
    [
        ("?target=nope", None, 404, "layer_not_found"),
        ("?target=Bad!", None, 400, "invalid_target"),
        ("?format=xml", None, 400, "unknown_format"),
        ("?datum=mars", None, 400, "unknown_datum"),
        ("?sliver_m2=abc", None, 400, "invalid_parameter"),
        ("?crs=EPSG:4526", None, 400, "crs_conflict"),
        ("", b"abc,def\n1,2\n", 400, "invalid_points"),
        ("", b"116.39,39.90 116.40,39.90 116.40,39.91", 422, "outside_work_area"),
    ],
)
def test_http_errors_are_specific_4xx_json(client, query, body, status, code):
    r = client.post(f"/api/overlap{query}", data=body or b.geojson_bytes("EPSG:4547"))
    assert r.status_code == status and r.json["error"] == code and r.json["message"]


def test_http_report_pdf_and_html(client):
    r = client.post("/api/overlap/report?format=pdf", data=b.geojson_bytes(None))
    assert r.status_code == 200 and r.mimetype == "application/pdf" and r.data.startswith(b"%PDF")
    r = client.post("/api/overlap/report?format=html", data=b.geojson_bytes(None))
    assert r.status_code == 200 and r.mimetype == "text/html"
    assert "划定不少于250平方公里的工业用地保护红线" in r.data.decode()
    assert client.post("/api/overlap/report?format=csv", data=b.geojson_bytes(None)).status_code == 400


def test_cli_any_file_several_targets_report_and_parquet(store, tmp_path, capsys):
    src = tmp_path / "界址点.txt"
    src.write_bytes(b.exchange_txt_4526())
    out = tmp_path / "out.parquet"
    pdf = tmp_path / "report.pdf"
    code = main(
        [
            "overlap",
            str(src),
            "--target",
            "test-block",
            "--target",
            "test-redline",
            "-o",
            str(out),
            "--report",
            str(pdf),
        ]
    )
    assert code == 0
    err = capsys.readouterr().err
    assert "EPSG:4526" in err and f"wrote {pdf}" in err
    table = gpd.read_parquet(out)
    assert len(table) == 6 and set(table["target"]) == {"test-block", "test-redline"}
    b_row = table[(table["target"] == "test-block") & (table["parcel_id"] == "B")].iloc[0]
    assert b_row["overlap_m2"] == pytest.approx(19_600, abs=1)
    assert pdf.read_bytes().startswith(b"%PDF")
    assert main(["overlap", str(src), "--format", "csv", "--bom", "--target", "test-block"]) == 0
    assert capsys.readouterr().out.startswith("\ufeffparcel_id,")


def test_cli_bad_input_exits_2_with_one_line_and_writes_nothing(tmp_path, capsys):
    bad = tmp_path / "bad.txt"
    bad.write_text("116.39,39.90 116.40,39.90 116.40,39.91")
    out = tmp_path / "out.geojson"
    assert main(["overlap", str(bad), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("gisapp: error: parcels lie outside") and err.count("\n") == 1
    assert not out.exists() and list(tmp_path.iterdir()) == [bad]
    assert main(["overlap", str(bad), "--target", "nope"]) == 2
    assert main(["overlap", str(bad), "--report", str(tmp_path / "x.doc")]) == 2


def test_feature_collection_is_rfc7946_with_nan_as_null():
    result, _ = service.overlap_check(b.geojson_bytes("EPSG:4547"), store=BUNDLED)
    result["empty"] = float("nan")
    fc = feature_collection(result)
    assert_rfc7946(fc)
    assert fc["features"][0]["properties"]["empty"] is None
    json.dumps(fc, allow_nan=False)

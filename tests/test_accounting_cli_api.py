"""``gisapp accounting …`` and ``/api/accounting`` on the bundled (ILLUSTRATIVE) data."""

from __future__ import annotations

import json

import geopandas as gpd
import pytest

from gisapp.analysis.accounting import service
from gisapp.cli import main
from gisapp.core.crs import PROJECTED
from tests.helpers import BUNDLED, ZHONGSHANGANG, feature_collection, square_4547


@pytest.fixture(scope="module")
def bundled() -> dict:
    return service.report(store=BUNDLED)


def test_cli_report_prints_totals_tiers_towns_and_cited_verdicts(capsys, bundled):
    assert main(["accounting", "report"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("!! 示意数据") and "ILLUSTRATIVE" in out
    assert (
        f"{bundled['total']['planar_km2']:.4f} km²" in out and f"{bundled['total']['ellipsoidal_km2']:.4f} km²" in out
    )
    assert "by tier:" in out and "未分级" in out
    assert "中山港街道" in out and "by zone of zs-services-structure" in out
    assert "[fail 未达标] 划定不少于250平方公里的工业用地保护红线" in out
    assert "zhongshan-industrial-restructuring.txt 第 156 行" in out and "第 152 行" in out
    assert "shortfall" in out and "低于底线" in out
    assert "planar vs ellipsoidal area of every 镇街" in out and "石岐街道" in out


def test_cli_report_with_progress_json_and_csv(capsys, tmp_path):
    prog = tmp_path / "progress.yaml"
    prog.write_text("cleared_low_efficiency_parks: 52000\nconversion_quota_industrial: 30\n", "utf-8")
    args = ["accounting", "report", "--progress", str(prog), "--set", "conversion_quota_total=100", "--format", "json"]
    assert main(args) == 0
    r = json.loads(capsys.readouterr().out)
    v = {x["id"]: x for x in r["rules"]}
    assert v["low-efficiency-parks-cleared"]["verdict"] == "pass"
    assert (
        v["conversion-quota-industry-40pct"]["verdict"] == "fail"
        and v["conversion-quota-industry-40pct"]["value"] == 30
    )
    assert v["industrial-land-freed"]["verdict"] == "not_reported"
    out = tmp_path / "towns.csv"
    assert main(["accounting", "report", "--format", "csv", "--bom", "--table", "units", "-o", str(out)]) == 0
    text = out.read_text("utf-8")
    assert text.startswith("\ufeffunit,planar_m2") and ",warning" in text.splitlines()[0]
    assert "ILLUSTRATIVE" in text.splitlines()[1]


def test_cli_bad_input_exits_2_with_one_line(capsys, tmp_path):
    assert main(["accounting", "report", "--rules", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("gisapp: error: unknown rule set 'nope'") and err.count("\n") == 1
    assert main(["accounting", "report", "--set", "novalue"]) == 2
    assert main(["accounting", "report", "--set", "cleared_low_efficiency_parks=lots"]) == 2
    bad = tmp_path / "p.json"
    bad.write_text('{"remove_ids": ["NOPE"]}', "utf-8")
    assert main(["accounting", "adjust", str(bad)]) == 2
    assert "no such block id: NOPE" in capsys.readouterr().err
    assert main(["accounting", "report", "--table", "landuse-classes", "--format", "csv"]) == 2


def test_cli_adjust_compare_and_lists(capsys, tmp_path, bundled):
    first = bundled["blocks"][0]["block_id"]
    prop = tmp_path / "p.json"
    add = feature_collection([square_4547(*ZHONGSHANGANG, 1000, dx=-6000, dy=-6000)], crs="EPSG:4547")
    prop.write_text(json.dumps({"remove_ids": [first], "add": add}), "utf-8")
    assert main(["accounting", "adjust", str(prop)]) == 0
    out = capsys.readouterr().out
    assert f"removed block {first}" in out and "added block ADD-01: 1000000.00 m²" in out
    assert "the stored layer is unchanged" in out
    # compare: the stored line minus its first block
    stored = gpd.read_file("layers/zs-industrial-redline.geojson")
    newer = tmp_path / "v2.geojson"
    stored[stored["block_id"] != first].to_file(newer, driver="GeoJSON")
    assert main(["accounting", "compare", str(newer), "--format", "json"]) == 0
    r = json.loads(capsys.readouterr().out)
    town = {u["unit"]: u for u in bundled["by_unit"]}["中山港街道"]
    assert r["net_planar_ha"] == pytest.approx(-town["planar_ha"], abs=0.01)
    assert r["blocks"]["only_old"] == [first]
    assert main(["accounting", "rules"]) == 0
    assert "redline-floor-250km2" in capsys.readouterr().out
    assert main(["accounting", "dictionaries"]) == 0
    assert "gbt21010-2017" in capsys.readouterr().out


def test_api_report_json_and_csv(client, bundled):
    r = client.get("/api/accounting/report")
    assert r.status_code == 200
    assert r.json["total"] == bundled["total"] and r.json["illustrative"] is True
    r = client.post(
        "/api/accounting/report", json={"progress": {"freed_industrial_land": {"value": 20, "unit": "km2"}}}
    )
    v = {x["id"]: x for x in r.json["rules"]}
    assert v["industrial-land-freed"]["verdict"] == "pass" and v["industrial-land-freed"]["value"] == pytest.approx(
        30000
    )
    r = client.get("/api/accounting/report?format=csv&table=rules&bom=1")
    text = r.data.decode("utf-8")
    assert r.mimetype == "text/csv" and text.startswith("\ufeffid,verdict")
    assert "划定不少于250平方公里的工业用地保护红线" in text
    r = client.get("/api/accounting/report?margin=abc")
    assert r.status_code == 400 and r.json["error"] == "invalid_margin"
    r = client.get("/api/accounting/report?format=csv&table=nope")
    assert r.status_code == 400 and r.json["error"] == "invalid_table"
    r = client.get("/api/accounting/report?rules=guangzhou-industrial-blocks")
    assert r.status_code == 404 and r.json["error"] == "layer_not_found"


def test_api_report_with_landuse_and_supplied_line(client):
    blocks = [square_4547(*ZHONGSHANGANG, 1000), square_4547(*ZHONGSHANGANG, 1000, dx=3000)]
    line = feature_collection(
        blocks, crs="EPSG:4547", props=[{"block_id": "G1", "tier": "一级"}, {"block_id": "G2", "tier": "二级"}]
    )
    lu = feature_collection(
        [square_4547(*ZHONGSHANGANG, 1000, dy=500), square_4547(*ZHONGSHANGANG, 1000, dx=3000)],
        crs="EPSG:4547",
        props=[{"DLBM": "100102"}, {"DLBM": "0901"}],
    )
    body = {"line": line, "landuse": lu, "class_field": "DLBM"}
    r = client.post("/api/accounting/report?rules=zhongshan-industrial-redline&structure=", json=body)
    assert r.status_code == 200, r.json
    j = r.json
    assert j["illustrative"] is False and j["source_line"] == "supplied file"
    assert j["total"]["planar_ha"] == pytest.approx(200, abs=0.01)
    assert {t["tier"] for t in j["tiers"]} == {"一级", "二级"}
    ind = j["landuse"]["industrial"]
    assert ind["inside_ha"] == pytest.approx(50, abs=0.05) and ind["total_ha"] == pytest.approx(100, abs=0.05)
    r = client.post("/api/accounting/report", json={"landuse": lu})
    assert r.status_code == 400 and r.json["error"] == "missing_field"


def test_api_adjust_compare_and_errors(client, bundled):
    first = bundled["blocks"][0]["block_id"]
    r = client.post("/api/accounting/adjust", json={"remove_ids": [first]})
    assert r.status_code == 200 and r.json["stored_layer_unchanged"] is True
    assert r.json["after"]["block_count"] == bundled["block_count"] - 1
    r = client.post("/api/accounting/adjust?format=csv&bom=1", json={"remove_ids": [first]})
    assert r.data.decode("utf-8").startswith("\ufeffunit,added_planar_ha")
    r = client.post("/api/accounting/adjust", json={"remove_ids": ["NOPE"]})
    assert r.status_code == 422 and r.json["error"] == "unknown_block"
    r = client.post("/api/accounting/adjust", data=b"{")
    assert r.status_code == 400 and r.json["error"] == "invalid_proposal"
    r = client.post("/api/accounting/adjust", data=b"")
    assert r.status_code == 400 and r.json["error"] == "empty_input"
    new = feature_collection([square_4547(*ZHONGSHANGANG, 1000, dx=-6000, dy=-6000)], crs="EPSG:4547")
    r = client.post("/api/accounting/compare", json=new)
    assert r.status_code == 200
    assert r.json["added"]["planar_ha"] == pytest.approx(100, abs=0.01)
    assert r.json["net_planar_ha"] == pytest.approx(100 - bundled["total"]["planar_ha"], abs=0.02)
    assert client.get("/api/accounting/rulesets").json["rulesets"][1]["id"] == "zhongshan-industrial-redline"
    assert len(client.get("/api/accounting/dictionaries").json["dictionaries"]) == 2


def test_page_renders_the_report_and_explains_a_missing_layer(client, bundled):
    r = client.get("/accounting")
    assert r.status_code == 200 and "script-src 'self'" in r.headers["Content-Security-Policy"]
    html = r.data.decode("utf-8")
    assert "ILLUSTRATIVE" in html and 'id="illustrative-banner"' in html
    assert f"{bundled['total']['planar_ha']:.4f}" in html and "第 156 行" in html
    assert "http://" not in html.split("<main>")[0] and "https://" not in html
    r = client.get("/accounting?rules=guangzhou-industrial-blocks")
    assert r.status_code == 404 and "gz-industrial-blocks" in r.data.decode("utf-8")
    assert client.get("/accounting?margin=x").status_code == 400


def test_projected_fixture_helper_is_in_the_prd():
    # guards the fixtures above: the squares land inside 中山港街道's schematic cell
    p = gpd.GeoSeries([square_4547(*ZHONGSHANGANG, 1000)], crs=PROJECTED).to_crs("EPSG:4326").iloc[0]
    assert 113.4 < p.centroid.x < 113.6 and 22.5 < p.centroid.y < 22.7

"""Control-line accounting: rule sets, tables, adjustments and land use on hand-computed fixtures.

Fixture geometry (EPSG:4547, near 中山港街道's seat, lower-left corner ORIGIN):

* units A = [0, 10 km] × [0, 10 km] and B = [10 km, 20 km] × [0, 10 km];
* block ``B1`` (tier 一级) = [2, 4 km] × [2, 3 km]: 2 km², all in A;
* block ``B2`` (tier 二级) = [9, 11 km] × [5, 7 km]: 4 km², 2 km² in A and 2 km² in B.

So the line is 6 km² = 600 公顷 = 9000 亩; A holds 4 km², B 2 km²; 一级 2 km², 二级 4 km².
"""

from __future__ import annotations

import shutil
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
import yaml

from gisapp.analysis.accounting import adjustments, landuse, rules, service, tables
from gisapp.core import paths
from gisapp.core.crs import PROJECTED
from gisapp.core.errors import InputError
from gisapp.store.layerstore import read_layer
from tests.helpers import BUNDLED, ZHONGSHANGANG, square_4547

ORIGIN = square_4547(*ZHONGSHANGANG, 1).bounds[:2]
KM = 1000.0


def box(x0: float, y0: float, x1: float, y1: float) -> shapely.Polygon:
    """A box in km relative to O, in EPSG:4547 metres."""
    return shapely.box(ORIGIN[0] + x0 * KM, ORIGIN[1] + y0 * KM, ORIGIN[0] + x1 * KM, ORIGIN[1] + y1 * KM)


RULESET_YAML = {
    "id": "test-line",
    "city": "测试市",
    "title": "测试红线",
    "control_line": {"layer": "test-line", "id_field": "block_id", "tier_field": "tier", "tiers": ["一级", "二级"]},
    "units": {"layer": "test-units", "name_field": "name", "label": "镇街", "label_en": "town"},
    "verdict_area": "planar",
    "status": {"margin_pct": 25},
    "landuse": {
        "dictionary": "yongdi-yonghai-2023",
        "industrial": {"by_dictionary": {"yongdi-yonghai-2023": {"codes": ["1001"]}}},
    },
    "rules": [
        {
            "id": "floor",
            "kind": "floor",
            "title": "不少于5平方公里",
            "threshold": 5,
            "unit": "km2",
            "source": {"document": "测试文件", "quote": "不少于5平方公里", "status": "unverified"},
        },
        {
            "id": "tier1-floor",
            "kind": "floor",
            "tier": "一级",
            "title": "一级不少于300公顷",
            "threshold": 300,
            "unit": "ha",
            "source": {"document": "测试文件", "quote": "一级不少于300公顷"},
        },
        {
            "id": "cleared",
            "kind": "progress",
            "metric": "cleared",
            "title": "拆除整理不少于5万亩",
            "threshold": 50000,
            "unit": "mu",
            "source": {"document": "测试文件", "quote": "5万亩"},
        },
        {
            "id": "quota",
            "kind": "reported_share",
            "numerator": "ind",
            "denominator": "all",
            "title": "不低于40%",
            "threshold": 40,
            "unit": "pct",
            "source": {"document": "测试文件", "quote": "40%"},
        },
        {
            "id": "coverage",
            "kind": "landuse_share",
            "measure": "industrial_coverage_per_unit",
            "title": "80%",
            "threshold": 80,
            "unit": "pct",
            "source": {"document": "测试文件", "quote": "80%"},
        },
        {
            "id": "purity",
            "kind": "landuse_share",
            "measure": "industrial_share_per_block",
            "title": "65%",
            "threshold": 40,
            "unit": "pct",
            "source": {"document": "测试文件", "quote": "65%"},
        },
    ],
}


def write_ruleset(directory: Path, data: dict) -> rules.RuleSet:
    path = directory / f"{data['id']}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    return rules.load_ruleset_file(path)


@pytest.fixture()
def ruleset(tmp_path) -> rules.RuleSet:
    return write_ruleset(tmp_path, RULESET_YAML)


@pytest.fixture()
def units() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"name": ["A", "B"]}, geometry=[box(0, 0, 10, 10), box(10, 0, 20, 10)], crs=PROJECTED)


@pytest.fixture()
def line(ruleset) -> gpd.GeoDataFrame:
    raw = gpd.GeoDataFrame(
        {"block_id": ["B1", "B2"], "tier": ["一级", "二级"]},
        geometry=[box(2, 2, 4, 3), box(9, 5, 11, 7)],
        crs=PROJECTED,
    ).to_crs("EPSG:4326")
    return tables.prepare_line(raw, ruleset)


def by(rows, key):
    return {r[key]: r for r in rows}


# ----------------------------------------------------------------------------- tables


def test_totals_tiers_units_and_floor_by_hand(ruleset, line, units):
    r = tables.line_accounting(line, tables.prepare_units(units, ruleset), ruleset).to_json_dict()
    assert r["total"]["planar_km2"] == pytest.approx(6.0, abs=1e-5)
    assert r["total"]["planar_ha"] == pytest.approx(600.0, abs=0.01)
    assert r["total"]["planar_mu"] == pytest.approx(9000.0, abs=0.1)
    assert abs(r["total"]["planar_vs_ellipsoidal_pct"]) < 0.1
    tiers = by(r["tiers"], "tier")
    assert tiers["一级"]["planar_ha"] == pytest.approx(200, abs=0.01)
    assert tiers["二级"]["planar_ha"] == pytest.approx(400, abs=0.01)
    u = by(r["by_unit"], "unit")
    assert set(u) == {"A", "B"}
    assert u["A"]["planar_ha"] == pytest.approx(400, abs=0.01) and u["B"]["planar_ha"] == pytest.approx(200, abs=0.01)
    assert u["A"]["share_of_unit_pct"] == pytest.approx(4.0, abs=1e-3)
    assert u["A"]["share_of_line_pct"] == pytest.approx(66.667, abs=1e-3)
    assert {t["tier"]: t["planar_ha"] for t in u["A"]["tiers"]} == pytest.approx({"一级": 200, "二级": 200}, abs=0.01)
    assert abs(r["by_unit_sum"]["diff_planar_ha"]) < 0.01
    # floor 5 km²: 6 ≥ 5 passes; headroom +1 km²; within 25 % above the floor → near_floor (amber)
    assert r["floor"]["value_km2"] == 5
    assert r["headroom"]["planar_km2"] == pytest.approx(1.0, abs=1e-5) and r["headroom"]["sign"] == "surplus"
    assert r["status"]["status"] == "near_floor"
    verdicts = by(r["rules"], "id")
    assert verdicts["floor"]["verdict"] == "pass" and verdicts["floor"]["value"] == pytest.approx(6.0, abs=1e-5)
    assert verdicts["tier1-floor"]["verdict"] == "fail" and verdicts["tier1-floor"]["value"] == pytest.approx(
        200, abs=0.01
    )
    assert verdicts["cleared"]["verdict"] == "not_reported" and verdicts["coverage"]["verdict"] == "not_evaluated"
    assert r["illustrative"] is False and r["warning"] == ""


def test_margin_and_floor_change_the_colour_status(ruleset, line, units):
    u = tables.prepare_units(units, ruleset)
    assert tables.line_accounting(line, u, ruleset, margin_pct=10).status.status == "comfortable"
    data = {**RULESET_YAML, "rules": [{**RULESET_YAML["rules"][0], "threshold": 7}]}
    rs7 = write_ruleset(Path(ruleset.path).parent, {**data, "id": "test-line-7"})
    r = tables.line_accounting(line, u, rs7, geometry_basis="illustrative").to_json_dict()
    assert r["status"]["status"] == "below_floor" and r["status"]["colour"] == "#c62828"
    assert r["rules"][0]["verdict"] == "fail" and r["headroom"]["planar_km2"] == pytest.approx(-1.0, abs=1e-5)
    assert r["illustrative"] is True and "ILLUSTRATIVE" in r["warning"]


def test_partition_counts_overlapping_units_once():
    control = box(0, 0, 4, 1)
    pieces, rest = tables.partition(control, ["X", "Y"], [box(0, 0, 3, 1), box(2, 0, 5, 1)])
    assert [round(p.area / 1e6, 6) for _, p in pieces] == [3.0, 1.0]
    assert rest.area == pytest.approx(0, abs=1e-6)


def test_progress_and_reported_shares(ruleset):
    areas = {"": (6e6, 6e6)}
    r = by(rules.evaluate_rules(ruleset, areas, {"cleared": 12000, "ind": 300, "all": 1000}), "id")
    assert r["cleared"]["verdict"] == "fail" and r["cleared"]["progress_pct"] == pytest.approx(24.0)
    assert r["cleared"]["verdict_zh"] == "未完成"
    assert r["quota"]["verdict"] == "fail" and r["quota"]["value"] == pytest.approx(30.0)
    # 40 km² reported in km² is 60 000 亩 ≥ 50 000 亩
    r = by(
        rules.evaluate_rules(ruleset, areas, {"cleared": {"value": 40, "unit": "km2"}, "ind": 450, "all": 1000}), "id"
    )
    assert r["cleared"]["verdict"] == "pass" and r["cleared"]["value"] == pytest.approx(60000.0)
    assert r["quota"]["verdict"] == "pass"
    with pytest.raises(InputError) as exc:
        rules.evaluate_rules(ruleset, areas, {"cleared": -1})
    assert exc.value.code == "invalid_progress"
    with pytest.raises(InputError):
        rules.evaluate_rules(ruleset, areas, {"cleared": "lots"})


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"kind": "ceiling"}, "unknown kind"),
        ({"unit": "acre"}, "unit must be"),
        ({"threshold": "250"}, "must be a number"),
        ({"source": None}, "needs a 'source'"),
        ({"comparison": "=="}, "comparison"),
    ],
)
def test_malformed_rule_sets_are_rejected(tmp_path, patch, message):
    data = {**RULESET_YAML, "rules": [{**RULESET_YAML["rules"][0], **patch}]}
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    with pytest.raises(rules.RuleSetError) as exc:
        rules.load_ruleset_file(path)
    assert exc.value.status == 422 and message in exc.value.message and "bad.yaml" in exc.value.message


def test_every_zhongshan_quote_is_on_its_plan_line():
    if not (paths.plans_dir() / "zhongshan-industrial-restructuring.txt").is_file():
        pytest.skip("plan texts not available")
    rs = rules.load_ruleset("zhongshan-industrial-redline")
    assert {r.citation.line for r in rs.rules} == {152, 156}
    assert rs.floor_rule().threshold == 250 and rs.floor_rule().unit == "km2"
    for r in rs.rules:
        assert r.citation.status == "verified"
        assert rules.check_quote(r.citation) is True, r.id
    bad = rules.Citation(
        document="x", quote="不少于300平方公里", file="zhongshan-industrial-restructuring.txt", line=156
    )
    assert rules.check_quote(bad) is False


def test_guangzhou_rules_are_cited_as_secondary_sources():
    rs = rules.load_ruleset("guangzhou-industrial-blocks")
    thresholds = {r.measure: r.threshold for r in rs.rules}
    assert thresholds == {"industrial_coverage_per_unit": 80, "industrial_share_per_block": 65}
    for r in rs.rules:
        assert r.citation.status == "secondary" and r.citation.url.startswith("http")
        assert "不少于80%" in r.citation.quote and "不低于65%" in r.citation.quote


def test_changing_the_threshold_in_the_data_file_changes_the_verdict(tmp_path, monkeypatch):
    """The bundled (illustrative) line is about 99 km²: below 250, above 90."""
    target = tmp_path / "rules"
    shutil.copytree(rules.rules_dir(), target)
    monkeypatch.setenv("GISAPP_RULES_DIR", str(target))
    before = service.report(structure_id="", store=BUNDLED)
    assert before["rules"][0]["verdict"] == "fail" and before["status"]["status"] == "below_floor"
    path = target / "zhongshan-industrial-redline.yaml"
    text = path.read_text("utf-8")
    assert "threshold: 250\n" in text
    path.write_text(text.replace("threshold: 250\n", "threshold: 90\n"), "utf-8")
    after = service.report(structure_id="", store=BUNDLED)
    assert after["rules"][0]["verdict"] == "pass" and after["rules"][0]["threshold"] == 90
    assert after["headroom"]["ellipsoidal_km2"] == pytest.approx(after["total"]["ellipsoidal_km2"] - 90, abs=1e-5)
    assert after["status"]["status"] == "comfortable"  # 99 > 90 × 1.05


def test_bundled_report_rows_sum_and_both_areas_of_every_town():
    r = service.report(store=BUNDLED)
    assert r["illustrative"] is True and "ILLUSTRATIVE" in r["warning"]
    total_ha = r["total"]["planar_ha"]
    assert abs(sum(u["planar_ha"] for u in r["by_unit"]) - total_ha) < 0.01
    assert abs(sum(u["ellipsoidal_ha"] for u in r["by_unit"]) - r["total"]["ellipsoidal_ha"]) < 0.01
    assert len(r["unit_areas"]) == 23
    for u in r["unit_areas"]:
        assert u["planar_km2"] > 0 and u["ellipsoidal_km2"] > 0
        assert abs(u["planar_vs_ellipsoidal_pct"]) < 0.1
    line = read_layer("zs-industrial-redline").to_crs("EPSG:4547")
    assert r["total"]["planar_km2"] == pytest.approx(line.union_all().area / 1e6, abs=0.01)
    assert 90 < r["total"]["planar_km2"] < 110  # about 99 km²: deliberately short of the 250 km² floor
    structure = read_layer("zs-services-structure")
    polygons = structure[structure.geom_type.isin(["Polygon", "MultiPolygon"])]
    assert [z["zone"] for z in r["by_zone"]] == list(polygons["name"])


# ----------------------------------------------------------------------------- adjustments


def test_adjustment_by_id_polygon_and_addition(ruleset, line, units):
    u = tables.prepare_units(units, ruleset)
    add = gpd.GeoDataFrame({"tier": ["一级"]}, geometry=[box(15, 1, 16, 2)], crs=PROJECTED).to_crs("EPSG:4326")
    cut = gpd.GeoDataFrame(geometry=[box(9, 5, 9.5, 7)], crs=PROJECTED).to_crs("EPSG:4326")  # 1 km² of B2, in A
    p = adjustments.Proposal(remove_ids=["B1"], remove=cut, add=add)
    r = adjustments.adjustment_report(line, p, u, ruleset).to_json_dict()
    # 6 − 2 (B1) − 1 (cut) + 1 (added) = 4 km²
    assert r["after"]["total"]["planar_km2"] == pytest.approx(4.0, abs=1e-5)
    assert r["delta"]["planar_ha"] == pytest.approx(-200.0, abs=0.01)
    d = by(r["changes"]["by_unit"], "unit")
    assert d["A"]["removed_planar_ha"] == pytest.approx(300, abs=0.01) and d["A"]["net_planar_ha"] == pytest.approx(
        -300, abs=0.01
    )
    assert d["B"]["added_planar_ha"] == pytest.approx(100, abs=0.01) and d["B"]["net_planar_ha"] == pytest.approx(
        100, abs=0.01
    )
    t = by(r["changes"]["by_tier"], "tier")
    assert t["一级"]["net_planar_ha"] == pytest.approx(-100, abs=0.01)  # −200 (B1) + 100 (added)
    assert t["二级"]["net_planar_ha"] == pytest.approx(-100, abs=0.01)
    rc = by(r["rule_changes"], "id")
    assert rc["floor"]["before"] == "pass" and rc["floor"]["after"] == "fail" and rc["floor"]["changed"]
    assert r["stored_layer_unchanged"] is True
    assert set(line["block_id"]) == {"B1", "B2"} and line.geometry.area.sum() == pytest.approx(6e6, abs=1)


def test_adjustment_errors(ruleset, line, units):
    with pytest.raises(InputError) as exc:
        adjustments.apply_proposal(line, adjustments.Proposal(remove_ids=["NOPE"]))
    assert exc.value.code == "unknown_block" and exc.value.status == 422
    with pytest.raises(InputError) as exc:
        adjustments.apply_proposal(line, adjustments.Proposal(remove_ids=["B1", "B2"]))
    assert exc.value.code == "empty_line"
    for bad, code in [(b"{", "invalid_proposal"), (b"{}", "empty_proposal"), (b'{"drop": 1}', "invalid_proposal")]:
        with pytest.raises(InputError) as exc:
            adjustments.parse_proposal(bad)
        assert exc.value.code == code


def test_compare_two_versions(ruleset, line, units):
    new = tables.prepare_line(
        gpd.GeoDataFrame(
            {"block_id": ["B2", "B3"], "tier": ["二级", "一级"]},
            geometry=[box(9, 5, 11, 7), box(15, 1, 16, 2)],
            crs=PROJECTED,
        ),
        ruleset,
    )
    r = adjustments.compare_versions(line, new, tables.prepare_units(units, ruleset)).to_json_dict()
    assert r["added"]["planar_ha"] == pytest.approx(100, abs=0.01)
    assert r["removed"]["planar_ha"] == pytest.approx(200, abs=0.01)
    assert r["net_planar_ha"] == pytest.approx(-100, abs=0.01)
    d = by(r["by_unit"], "unit")
    assert d["A"]["net_planar_ha"] == pytest.approx(-200, abs=0.01) and d["B"]["net_planar_ha"] == pytest.approx(
        100, abs=0.01
    )
    assert by(r["by_tier"], "tier")["一级"]["net_planar_ha"] == pytest.approx(-100, abs=0.01)
    assert "二级" not in by(r["by_tier"], "tier")
    assert r["blocks"] == {"only_old": ["B1"], "only_new": ["B3"], "common": 1}


def test_service_adjust_leaves_the_stored_layer_unchanged():
    path = paths.layers_dir() / "zs-industrial-redline.geojson"
    before = path.read_bytes()
    base = service.report(structure_id="", store=BUNDLED)
    block = base["blocks"][0]["block_id"]
    r = service.adjust("zhongshan-industrial-redline", {"remove_ids": [block]}, store=BUNDLED)
    assert path.read_bytes() == before
    assert r["illustrative"] is True and "ILLUSTRATIVE" in r["warning"]
    removed = by(base["by_unit"], "unit")["中山港街道"]["planar_ha"]
    assert r["delta"]["planar_ha"] == pytest.approx(-removed, abs=0.01)


# ----------------------------------------------------------------------------- land use


def landuse_fixture() -> gpd.GeoDataFrame:
    """L1 1001 inside B1 (A, 1 km²); L2 100101 in A outside the line (1 km²); L3 07 in B2's B half (0.5 km²)."""
    return gpd.GeoDataFrame(
        {"DLBM": ["1001", 100101, "07"]},
        geometry=[box(2, 2, 3, 3), box(5, 5, 6, 6), box(10, 5, 11, 5.5)],
        crs=PROJECTED,
    ).to_crs("EPSG:4326")


def test_landuse_classes_inside_outside_and_shares(ruleset, line, units):
    d = landuse.load_dictionary("yongdi-yonghai-2023")
    pred = landuse.predicate_for(ruleset, d)
    assert pred.codes == ("1001",) and pred.origin == "rule set test-line"
    u = tables.prepare_units(units, ruleset)
    r = landuse.landuse_accounting(landuse_fixture(), "DLBM", d, pred, line, u, method="planar").to_json_dict()
    c = by(r["by_class"], "code")
    assert c["1001"]["inside_planar_ha"] == pytest.approx(100, abs=0.01) and c["1001"]["outside_planar_ha"] == 0
    assert c["100101"]["name"] == "一类工业用地" and c["100101"]["outside_planar_ha"] == pytest.approx(100, abs=0.01)
    assert c["07"]["industrial"] is False and c["07"]["inside_planar_ha"] == pytest.approx(50, abs=0.01)
    assert c["1001"]["status"] == "unverified"
    ind = r["industrial"]
    assert ind["inside_ha"] == pytest.approx(100, abs=0.01) and ind["total_ha"] == pytest.approx(200, abs=0.01)
    assert ind["coverage_pct"] == pytest.approx(50, abs=1e-3)
    assert ind["share_of_line_pct"] == pytest.approx(100 / 6, abs=1e-3)
    cover = by(r["shares"]["industrial_coverage_per_unit"], "scope")
    assert cover["A"]["share_pct"] == pytest.approx(50, abs=1e-3) and cover["B"]["denominator_m2"] == 0
    purity = by(r["shares"]["industrial_share_per_block"], "scope")
    assert purity["B1"]["share_pct"] == pytest.approx(50, abs=1e-3) and purity["B2"]["share_pct"] == 0
    per_unit = {(x["unit"], x["code"]): x for x in r["by_unit"]}
    assert per_unit[("B", "07")]["inside_planar_ha"] == pytest.approx(50, abs=0.01)
    # the ratio rules: coverage 50 % < 80 % in A (B has no industrial land: not judged); purity B1 50 % ≥ 40 %, B2 0 %
    v = by(rules.evaluate_rules(ruleset, {"": (6e6, 6e6)}, landuse_shares=r["shares"]), "id")
    assert v["coverage"]["verdict"] == "fail" and v["coverage"]["failing"] == ["A"] and v["coverage"]["value"] == 50
    assert v["purity"]["verdict"] == "fail" and v["purity"]["failing"] == ["B2"]


def test_industrial_predicate_is_configurable(ruleset, line, units):
    d = landuse.load_dictionary("yongdi-yonghai-2023")
    u = tables.prepare_units(units, ruleset)
    pred = landuse.predicate_for(ruleset, d, codes=["07"])
    r = landuse.landuse_accounting(landuse_fixture(), "DLBM", d, pred, line, u, method="planar").to_json_dict()
    assert r["industrial"]["total_ha"] == pytest.approx(50, abs=0.01) and r["predicate"]["origin"] == "user"
    with pytest.raises(InputError) as exc:
        landuse.landuse_accounting(landuse_fixture(), "NOPE", d, pred, line, u)
    assert exc.value.code == "missing_field" and "DLBM" in exc.value.message


def test_dictionaries_name_their_codes_and_their_doubts():
    gbt = landuse.load_dictionary("gbt21010-2017")
    yy = landuse.load_dictionary("yongdi-yonghai-2023")
    assert landuse.lookup(gbt, 601) == ("0601", "工业用地", "secondary")
    assert landuse.lookup(gbt, "1001")[1] == "铁路用地"
    assert landuse.lookup(yy, "1001")[1] == "工业用地"
    assert landuse.lookup(yy, "100103")[1] == "三类工业用地"
    assert landuse.lookup(yy, "工业用地")[0] == "1001"
    assert landuse.lookup(yy, "9999") == ("9999", "未收录", "not_in_dictionary")
    assert {c.status for c in yy.classes.values()} == {"unverified"}
    with pytest.raises(InputError) as exc:
        landuse.load_dictionary("nope")
    assert exc.value.status == 404

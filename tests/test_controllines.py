"""All four control lines (issue 15 §2): registry, cited rules, illustrative layers, import, one overlap
check with every line's verdict and citations (JSON, CLI, HTTP, HTML and PDF reports), map styles."""

from __future__ import annotations

import io
import json
import shutil
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely
from lxml import html as lxml_html
from pypdf import PdfReader

from gisapp.analysis.accounting import rules
from gisapp.analysis.accounting.ruleschema import RuleSetError, parse_ruleset
from gisapp.analysis.overlap import expand_targets
from gisapp.analysis.overlap.verdicts import judge
from gisapp.cli import main
from gisapp.core import paths
from gisapp.core.crs import PROJECTED
from gisapp.plans.controllines import CONTROL_LINES, kind_of_layer
from gisapp.report import map_styles as st
from gisapp.store.layerstore import read_meta
from tests.helpers import BUNDLED

NATIONAL = ("zs-farmland", "zs-ecology-redline", "zs-urban-boundary")
ALL_LINES = ("zs-industrial-redline", *NATIONAL)


def _inside(layer: str, i: int = 0, side: float = 200.0) -> shapely.Polygon:
    """A square of ``side`` m (EPSG:4547) around a point inside feature ``i`` of ``layer``."""
    g = BUNDLED.frame(layer).to_crs(PROJECTED).geometry.iloc[i]
    p = g.representative_point()
    return shapely.box(p.x - side / 2, p.y - side / 2, p.x + side / 2, p.y + side / 2)


@pytest.fixture(scope="module")
def parcels_file(tmp_path_factory) -> Path:
    """Four parcels: in the farmland, in the ecology line, in 石岐's boundary disc, on a red-line block."""
    geoms = [
        _inside("zs-farmland"),
        _inside("zs-ecology-redline"),
        _inside("zs-urban-boundary", 0),
        _inside("zs-industrial-redline", 0),
    ]
    gdf = gpd.GeoDataFrame({"pid": ["A", "B", "C", "D"]}, geometry=geoms, crs=PROJECTED).to_crs(4326)
    path = tmp_path_factory.mktemp("lines") / "宗地.geojson"
    path.write_text(gdf.to_json(), "utf-8")
    return path


EXPECTED = {  # parcel → {line kind: verdict}
    "A": {"farmland": "reject", "udb": "explain"},
    "B": {"ecology": "reject", "udb": "explain"},
    "C": {"udb": "comply"},
    "D": {"industrial": "explain", "udb": "comply"},
}


def _verdicts(info: dict) -> dict[str, dict[str, str]]:
    return {p["parcel_id"]: {e["kind"]: e["outcome"] for e in p["lines"]} for p in info["control_lines"]["parcels"]}


# --------------------------------------------------------------------------- registry, rules, layers


def test_registry_names_four_lines_with_layers_rules_and_styles():
    assert list(CONTROL_LINES) == ["industrial", "farmland", "ecology", "udb"]
    assert [k.layer_id for k in CONTROL_LINES.values()] == list(ALL_LINES)
    assert CONTROL_LINES.get_entry("永久基本农田").key == "farmland"
    assert CONTROL_LINES.get_entry("城镇开发边界").key == "udb"
    assert len({k.style.colour for k in CONTROL_LINES.values()}) == 4
    assert expand_targets(["controls"]) == list(ALL_LINES)
    assert expand_targets(["三区三线", "zs-farmland"]) == list(NATIONAL)
    assert expand_targets(["zs-towns", "controls"]) == ["zs-towns", *ALL_LINES]
    for kind in CONTROL_LINES.values():
        assert kind_of_layer(kind.layer_id) is kind


def test_every_line_has_cited_overlap_rules():
    outcomes = {}
    for kind in CONTROL_LINES.values():
        rs = rules.load_ruleset(kind.ruleset)
        assert rs.line_layer == kind.layer_id
        over = [r for r in rs.rules if r.kind == "overlap"]
        assert over, kind.key
        for r in over:
            assert (
                r.citation.document
                and r.citation.quote
                and r.citation.status in ("verified", "secondary", "unverified")
            )
            if r.citation.file:  # a plan file: the quote is on its line
                assert rules.check_quote(r.citation) in (True, None), r.id
        outcomes[kind.key] = {r.id: r.outcome for r in over}
    assert outcomes["farmland"] == {"farmland-occupation": "reject"}
    assert outcomes["ecology"] == {"ecology-development-prohibited": "reject"}
    assert outcomes["udb"] == {"udb-inside": "comply", "udb-outside": "explain", "udb-national-definition": "explain"}
    eco = rules.load_ruleset("zhongshan-line-ecology").rules[0].citation
    assert "关于在国土空间规划中统筹划定落实三条控制线的指导意见" in eco.document
    assert "自然保护地核心保护区原则上禁止人为活动" in eco.quote and eco.status == "secondary"
    farm = rules.load_ruleset("zhongshan-line-farmland").rules[0].citation
    assert "任何单位和个人不得擅自占用或者改变其用途" in farm.quote and farm.section == "第三十五条"


def test_overlap_rule_schema_errors_name_the_rule():
    base = rules.load_ruleset_file(paths.REPO_ROOT / "rules" / "zhongshan-line-udb.yaml")
    import yaml

    data = yaml.safe_load((paths.REPO_ROOT / "rules" / "zhongshan-line-udb.yaml").read_text("utf-8"))
    assert base.id == "zhongshan-line-udb"
    bad = {**data, "rules": [{**data["rules"][0], "unit": "pct"}]}
    with pytest.raises(RuleSetError, match="rule 'udb-inside': the unit of measure 'outside_m2' is 'm2'"):
        parse_ruleset(Path("x.yaml"), bad)
    bad = {**data, "rules": [{**data["rules"][0], "outcome": "maybe"}]}
    with pytest.raises(RuleSetError, match="outcome must be one of reject, review, explain, comply"):
        parse_ruleset(Path("x.yaml"), bad)


def test_judge_takes_the_most_severe_rule():
    udb = tuple(rules.load_ruleset("zhongshan-line-udb").rules)
    area = np.array([100.0, 100.0, 100.0, 100.0])
    overlap = np.array([100.0, 99.5, 50.0, 0.0])  # inside; 0.5 m² out (a sliver); half out; all out
    severity, fired = judge(udb, area, overlap)
    assert severity.tolist() == [1, 1, 2, 2]
    assert fired.tolist() == [[True, True, False, False], [False, False, True, True], [False, False, True, True]]


def test_bundled_lines_are_illustrative_labelled_and_do_not_overlap():
    geoms = {}
    for layer in ALL_LINES:
        meta = read_meta(layer)
        assert meta.kind == "control_line" and meta.geometry_basis == "illustrative"
        assert "示意，非官方" in meta.title and "ILLUSTRATIVE" in meta.title_en
        gdf = BUNDLED.frame(layer)
        assert set(gdf["geometry_basis"]) == {"illustrative"} and gdf.is_valid.all()
        geoms[layer] = gdf.to_crs(PROJECTED).geometry.to_numpy()
    assert [read_meta(x).extra["control_line"] for x in NATIONAL] == ["farmland", "ecology", "udb"]
    assert "ILLUSTRATIVE ONLY" in read_meta("zs-farmland").description
    for a in range(3):
        for b in range(a + 1, 3):
            shared = shapely.intersection(shapely.union_all(geoms[NATIONAL[a]]), shapely.union_all(geoms[NATIONAL[b]]))
            assert shared.area < 1.0, (NATIONAL[a], NATIONAL[b])
    assert len(geoms["zs-urban-boundary"]) == 23 and len(geoms["zs-farmland"]) == 2
    towns = BUNDLED.frame("zs-towns").to_crs(PROJECTED).set_index("name").geometry
    assert towns["五桂山街道"].contains(geoms["zs-ecology-redline"][0])
    assert set(BUNDLED.frame("zs-farmland")["town"]) == {"民众街道", "神湾镇"}


# --------------------------------------------------------------------------- one check, every line


def test_cli_overlap_controls_gives_every_lines_verdict(parcels_file, capsys):
    assert main(["overlap", str(parcels_file), "--target", "controls", "--id-field", "pid"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert [t["target"] for t in info["targets"]] == list(ALL_LINES)
    lines = info["control_lines"]["lines"]
    assert [x["kind"] for x in lines] == ["industrial", "farmland", "ecology", "udb"]
    assert [x["worst"] for x in lines] == ["explain", "reject", "reject", "explain"]
    assert lines[3]["counts"] == {"none": 0, "comply": 2, "explain": 2, "review": 0, "reject": 0}
    assert _verdicts(info) == EXPECTED
    a = info["control_lines"]["parcels"][0]
    assert a["worst_zh"] == "不予通过" and a["lines"][0]["overlap_m2"] == pytest.approx(40000.0, abs=0.01)
    assert a["lines"][0]["rules"] == ["farmland-occupation"]
    cited = {r["target"] for r in info["rules"]}
    assert cited == set(ALL_LINES)


def test_cli_report_of_the_three_lines(parcels_file, tmp_path, capsys):
    out = tmp_path / "report.html"
    assert main(["overlap", str(parcels_file), "--target", "三区三线", "--id-field", "pid", "--report", str(out)]) == 0
    doc = lxml_html.fromstring(out.read_bytes())
    rows = doc.xpath('//tr[@class="control-line"]')
    assert [(x.get("data-kind"), x.get("data-verdict")) for x in rows] == [
        ("farmland", "reject"),
        ("ecology", "reject"),
        ("udb", "explain"),
    ]
    assert f"wrote {out}" in capsys.readouterr().err


def test_cli_default_targets_are_unchanged(parcels_file, capsys):
    assert main(["overlap", str(parcels_file), "--id-field", "pid"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert [t["target"] for t in info["targets"]] == ["zs-industrial-redline"]
    assert [x["kind"] for x in info["control_lines"]["lines"]] == ["industrial"]
    assert _verdicts(info) == {"A": {}, "B": {}, "C": {}, "D": {"industrial": "explain"}}


def test_api_overlap_three_lines_set(client, parcels_file):
    body = parcels_file.read_bytes()
    r = client.post("/api/overlap?target=三区三线&id_field=pid", data=body)
    assert r.status_code == 200
    info = r.get_json()
    assert [x["kind"] for x in info["control_lines"]["lines"]] == ["farmland", "ecology", "udb"]
    assert _verdicts(info) == {p: {k: v for k, v in d.items() if k != "industrial"} for p, d in EXPECTED.items()}
    r = client.post("/api/overlap?target=nope-set", data=body)
    assert r.status_code == 404 and r.get_json()["error"] == "layer_not_found"


def test_html_report_lists_all_four_lines_with_verdicts_and_citations(client, parcels_file):
    r = client.post("/api/overlap/report?format=html&target=controls&id_field=pid", data=parcels_file.read_bytes())
    assert r.status_code == 200
    doc = lxml_html.fromstring(r.data)
    rows = doc.xpath('//section[@id="control-lines"]//tr[@class="control-line"]')
    assert [(x.get("data-kind"), x.get("data-verdict")) for x in rows] == [
        ("industrial", "explain"),
        ("farmland", "reject"),
        ("ecology", "reject"),
        ("udb", "explain"),
    ]
    titles = [x.xpath("./td[1]")[0].text_content() for x in rows]
    for kind, title in zip(CONTROL_LINES.values(), titles):
        assert title.startswith(kind.title)
    per = {
        (x.get("data-parcel"), x.get("data-kind")): x.get("data-verdict")
        for x in doc.xpath('//tr[@class="line-verdict"]')
    }
    assert per == {(p, k): v for p, d in EXPECTED.items() for k, v in d.items()}
    quotes = {x.get("data-rule"): x.text_content() for x in doc.xpath('//blockquote[@class="line-rule"]')}
    assert "自然保护地核心保护区原则上禁止人为活动" in quotes["ecology-development-prohibited"]
    assert "关于在国土空间规划中统筹划定落实三条控制线的指导意见" in quotes["ecology-development-prohibited"]
    assert "第三十五条" in quotes["farmland-occupation"] and "secondary" in quotes["farmland-occupation"]
    assert "zhongshan-industrial-restructuring.txt 第 156 行" in quotes["redline-industrial-use"]
    assert "城镇开发边界外不得进行城镇集中建设" in quotes["udb-outside"]
    assert "unverified" in quotes["udb-national-definition"]
    assert "示意控制线的结论仅作演示" in doc.xpath('//section[@id="control-lines"]')[0].text_content()


def test_pdf_report_lists_all_four_lines_with_verdicts_and_citations(client, parcels_file):
    r = client.post("/api/overlap/report?format=pdf&target=controls&id_field=pid", data=parcels_file.read_bytes())
    assert r.status_code == 200 and r.data.startswith(b"%PDF")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(r.data)).pages)
    flat = "".join(text.split())
    section = flat[flat.index("控制线核查") :]
    for kind in CONTROL_LINES.values():
        assert kind.title in section and kind.ruleset in section
    for words in (
        "不予通过",
        "需说明",
        "符合",
        "第三十五条",
        "自然保护地核心保护区原则上禁止人为活动",
        "城镇开发边界外不得进行城镇集中建设",
        "全力保障制造业发展空间",
    ):
        assert words in section, words
    table = section[section.index("逐宗地结论") : section.index("6适用规划条文")]
    assert table.count("不予通过") == 2 and table.count("符合") == 2


# --------------------------------------------------------------------------- import


@pytest.fixture()
def store(tmp_path, monkeypatch) -> Path:
    """A copy of the bundled layer store the test may change."""
    dst = tmp_path / "layers"
    shutil.copytree(paths.layers_dir(), dst)
    monkeypatch.setenv("GISAPP_LAYERS_DIR", str(dst))
    return dst


def _official(n: int = 2) -> gpd.GeoDataFrame:
    """Official-looking farmland 图斑 in 民众 (EPSG:4547), 三调-style BSM ids."""
    base = _inside("zs-farmland", 0, 600.0)
    geoms = [shapely.affinity.translate(base, xoff=700.0 * i) for i in range(n)]
    return gpd.GeoDataFrame(
        {"BSM": [f"44200000{i:04d}" for i in range(n)], "MC": ["基本农田"] * n}, geometry=geoms, crs=PROJECTED
    )


def test_lines_import_filegdb_folder_and_zip(store, tmp_path, capsys):
    gdb = tmp_path / "yjjbnt.gdb"
    pyogrio.write_dataframe(_official(), gdb, driver="OpenFileGDB", layer="YJJBNTBHTB")
    assert main(["lines", "import", "--kind", "永久基本农田", str(gdb), "--id-field", "BSM", "--name-field", "MC"]) == 0
    meta = read_meta("zs-farmland", store)
    assert meta.geometry_basis == "official" and meta.title == "永久基本农田保护红线"
    gdf = gpd.read_file(store / "zs-farmland.geojson")
    assert list(gdf["id"]) == ["442000000000", "442000000001"] and set(gdf["name"]) == {"基本农田"}
    assert gdf["area_km2"].sum() == pytest.approx(0.72, abs=1e-3)
    zipped = tmp_path / "stbhhx.gdb.zip"
    with zipfile.ZipFile(zipped, "w") as zf:
        for p in sorted(gdb.iterdir()):
            zf.write(p, f"stbhhx.gdb/{p.name}")
    assert main(["lines", "import", "--kind", "ecology", str(zipped)]) == 0
    assert list(gpd.read_file(store / "zs-ecology-redline.geojson")["id"]) == ["442000000000", "442000000001"]
    assert "official blocks imported" in capsys.readouterr().err
    assert main(["redline", "import", str(gdb), "--id-field", "BSM"]) == 0  # the red line takes a .gdb too
    assert read_meta("zs-industrial-redline", store).geometry_basis == "official"
    capsys.readouterr()
    assert main(["lines", "list", "--json"]) == 0
    listed = {x["key"]: x for x in json.loads(capsys.readouterr().out)["lines"]}
    assert listed["farmland"]["geometry_basis"] == "official" and listed["udb"]["geometry_basis"] == "illustrative"
    assert listed["industrial"]["geometry_basis"] == "official" and listed["industrial"]["features"] == 2


def test_build_keeps_official_lines_and_rebuilds_the_others(store, tmp_path, monkeypatch):
    from gisapp.plans import build
    from gisapp.store.layerstore import read_layer

    gdb = tmp_path / "yjjbnt.gdb"
    pyogrio.write_dataframe(_official(), gdb, driver="OpenFileGDB", layer="YJJBNTBHTB")
    assert main(["lines", "import", "--kind", "farmland", str(gdb)]) == 0
    monkeypatch.setattr(build, "definition_files", lambda: [])  # the structures are not what is tested
    out = tmp_path / "out"
    out.mkdir()
    logged: list[str] = []
    written = build.build_dependents(read_layer("zs-towns", store), out, logged.append, source=store)
    assert written == ["zs-industrial-redline", "zs-ecology-redline", "zs-urban-boundary"]
    assert "zs-farmland: official layer kept" in logged
    for layer in written:
        assert (out / f"{layer}.geojson").read_bytes() == (paths.layers_dir() / f"{layer}.geojson").read_bytes()


def test_lines_import_bad_input_exits_2_and_writes_nothing(store, tmp_path, capsys):
    before = (store / "zs-urban-boundary.geojson").read_bytes()
    far = _official(1)
    far["geometry"] = [shapely.affinity.translate(far.geometry.iloc[0], xoff=200_000)]
    src = tmp_path / "far.gpkg"
    far.to_file(src, driver="GPKG")
    assert main(["lines", "import", "--kind", "udb", str(src)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("gisapp: error:") and "中山市" in err and err.count("\n") == 1
    assert main(["lines", "import", "--kind", "udb", str(tmp_path / "missing.gpkg")]) == 2
    assert main(["lines", "import", "--kind", "nope", str(src)]) == 2
    assert "unknown control line 'nope'" in capsys.readouterr().err
    assert (store / "zs-urban-boundary.geojson").read_bytes() == before


# --------------------------------------------------------------------------- map


def test_map_styles_and_legend_distinguish_the_lines(client):
    styles = {k: st.feature_style("control_line", "official", k, "x") for k in CONTROL_LINES}
    assert styles["industrial"]["color"] == "#d7191c"
    assert (
        styles["farmland"]["fillColor"] == "#f2c200"
        and "gisapp-hatch-control-farmland" in styles["farmland"]["className"]
    )
    assert styles["ecology"]["color"] == "#1a7f37"
    assert styles["udb"]["color"] == "#7b3294" and styles["udb"]["dashArray"] == "10 4 2 4"
    assert styles["udb"]["fillOpacity"] == 0.0
    entries = {e["id"]: e for e in client.get("/api/map/layers").get_json()["layers"]}
    swatches = {x: entries[x]["swatch"]["color"] for x in ALL_LINES}
    assert swatches == {
        "zs-industrial-redline": "#d7191c",
        "zs-farmland": "#b8860b",
        "zs-ecology-redline": "#1a7f37",
        "zs-urban-boundary": "#7b3294",
    }
    assert entries["zs-farmland"]["hatch"] == "gisapp-hatch-control-farmland"
    assert all("示意，非官方" in entries[x]["title"] for x in ALL_LINES)
